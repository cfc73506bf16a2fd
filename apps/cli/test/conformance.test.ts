/**
 * `patchbay conformance expressions`, run in-process on the real conformance file of
 * ../shared/conformance and on small case files written to a temporary folder.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIO } from '../src/io.js';
import { CONFORMANCE_FILE } from '../../../test-support/shared.js';

const CORPUS = CONFORMANCE_FILE;

async function run(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-conformance-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('patchbay conformance expressions', () => {
  it('passes every non-disputed case of the shared conformance file', async () => {
    const r = await run('conformance', 'expressions', CORPUS);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(lines[lines.length - 1]).toMatch(/^\d+ passed, 0 failed, 1 skipped$/);
    expect(r.code).toBe(0);
  });

  it('prints one JSON object per case with --json', async () => {
    const r = await run('conformance', 'expressions', CORPUS, '--json');
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; status: string; actual: unknown; error: unknown });
    expect(rows.length).toBeGreaterThan(200);
    expect(rows.every((row) => 'id' in row && 'status' in row && 'actual' in row && 'error' in row)).toBe(true);
    expect(rows.filter((row) => row.status === 'failed')).toEqual([]);
    expect(rows.find((row) => row.id === 'xpath-9')?.status).toBe('skipped');
    // ticks beyond 2^53 are printed exactly
    expect(r.stdout).toContain('"actual":636567172560000000');
  });

  it('reports failing cases one per line and exits 5', async () => {
    const file = tempFile(
      'cases.jsonl',
      [
        '{"id":"ok","expr":"@add(1, 2)","expect":3,"expectError":false,"source":"t","note":""}',
        '',
        '{"id":"wrong","expr":"@concat(\'a\', \'b\')","expect":"abc","expectError":false,"source":"t","note":""}',
        '{"id":"should-fail","expr":"@div(1, 0)","expect":null,"expectError":true,"source":"t","note":""}',
        '{"id":"disp","expr":"@equals(true, 1)","expect":true,"expectError":false,"source":"t","note":"","disputed":true,"docSays":true}',
      ].join('\n'),
    );
    const r = await run('conformance', 'expressions', file);
    expect(r.code).toBe(5);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^FAIL wrong: .*expected "abc", got "ab"/);
    expect(lines[1]).toBe('2 passed, 1 failed, 1 skipped');
  });

  it('names the file and line of a line that is not JSON, exit 2', async () => {
    const file = tempFile('bad.jsonl', '{"id":"a","expr":"@add(1,1)","expect":2,"expectError":false}\n{"id": oops}\n');
    const r = await run('conformance', 'expressions', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONFORMANCE_CASE_INVALID');
    expect(r.stderr).toContain(`${file}:2`);
  });

  it('refuses a missing file with exit 2', async () => {
    const r = await run('conformance', 'expressions', join(tmpdir(), 'patchbay-no-such-file.jsonl'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('FILE_NOT_READABLE');
  });
});
