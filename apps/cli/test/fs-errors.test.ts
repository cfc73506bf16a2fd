/** File-system failures that reach the top get the documented exit codes, never 70. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIO } from '../src/io.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

describe('file-system errors', () => {
  it('maps EISDIR to exit 2 and names the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-fs-'));
    const io = memoryIO();
    const code = await main(
      [
        'solution',
        'create-settings',
        '--solution-zip',
        join(CORPUS_DIR, 'solutions/zip/varify-bot.zip'),
        '--settings-file',
        dir,
      ],
      io,
    );
    expect(code).toBe(2);
    expect(io.stderr).toContain('FILE_EISDIR');
    expect(io.stderr).toContain(dir);
    expect(io.stderr).not.toContain('internal error');
  });
});
