/**
 * Several `patchbay` processes writing one SQLite data dir at once queue up (BEGIN IMMEDIATE +
 * busy timeout) instead of failing with "database is locked". Uses the built binary.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const bin = join(__dirname, '../bin/patchbay.js');
const run = promisify(execFile);

describe('concurrent writers on one SQLite data dir', () => {
  it('all succeed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-concurrent-'));
    await run(process.execPath, [bin, '--data-dir', dir, 'env', 'list']);
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5, 6].map((i) => run(process.execPath, [bin, '--data-dir', dir, 'env', 'create', `e${i}`])),
    );
    const failures = results
      .filter((r) => r.status === 'rejected')
      .map((r) => String((r as PromiseRejectedResult).reason));
    expect(failures).toEqual([]);
    const { stdout } = await run(process.execPath, [bin, '--data-dir', dir, 'env', 'list', '--json']);
    expect((JSON.parse(stdout) as Array<{ name: string }>).map((e) => e.name)).toEqual([
      'e1',
      'e2',
      'e3',
      'e4',
      'e5',
      'e6',
    ]);
  }, 120_000);
});
