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
    const file = tempFile(
      'bad.jsonl',
      '{"id":"a","expr":"@add(1,1)","expect":2,"expectError":false,"source":"t","note":""}\n{"id": oops}\n',
    );
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

  describe('case-file validation (QA findings 4 and 10)', () => {
    const ok = '{"id":"ok","expr":"@add(1, 2)","expect":3,"expectError":false,"source":"t","note":""}';
    async function invalidFile(lines: string[]): Promise<string> {
      const file = tempFile('cases.jsonl', lines.join('\n'));
      const r = await run('conformance', 'expressions', file);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('CONFORMANCE_CASE_INVALID');
      return r.stderr.replaceAll(file, 'FILE');
    }

    it('an invalid expectPattern is a case-file error naming the line (exit 2, no stack trace)', async () => {
      const err = await invalidFile([
        ok,
        '{"id":"p","expr":"@guid()","expect":null,"expectError":false,"source":"t","note":"","nondeterministic":true,"expectPattern":"(("}',
      ]);
      expect(err).toContain("FILE:2: case 'p': field 'expectPattern' is not a valid regular expression");
      expect(err).not.toMatch(/\n\s+at /);
    });

    it.each([
      ['{"id":"x","expr":"@add(1, 2)","expectError":false,"source":"t","note":""}', "field 'expect' is required"],
      ['{"id":"x","expr":"@add(1, 2)","expect":3,"source":"t","note":""}', "field 'expectError' is required"],
      ['{"id":"x","expr":"@add(1, 2)","expect":3,"expectError":false,"note":""}', "field 'source' is required"],
      [
        '{"id":"x","expr":"@add(1, 2)","expect":3,"expectError":false,"source":"t","note":"","compare":"bogus"}',
        "field 'compare' must be one of json-unordered",
      ],
      [
        '{"id":"x","expr":"@add(1, 2)","expect":3,"expectError":"yes","source":"t","note":""}',
        'field \'expectError\' must be true or false, not a string ("yes")',
      ],
      [
        '{"id":"x","expr":"@add(1, 2)","expect":3,"expectError":false,"source":"t","note":"","disputed":"no","docSays":1}',
        "field 'disputed' must be true or false",
      ],
      [
        '{"id":"x","expr":"@add(1, 2)","expect":3,"expectError":false,"source":"t","note":"","context":5}',
        "field 'context' must be an object, not a number",
      ],
      [
        '{"id":"x","expr":"@add(1, 2)","expect":3,"expectError":false,"source":"t","note":"","context":{"variable":{}}}',
        "field 'context.variable' is not a context field",
      ],
      [
        '{"id":"x","expr":"@add(1, 2)","expect":3,"expectError":false,"source":"t","note":"","expectErorr":true}',
        "field 'expectErorr' is not a field of the case format",
      ],
      [
        '{"id":"x","expr":"@utcNow()","expect":null,"expectError":false,"source":"t","note":"","expectPattern":"^2"}',
        'field \'expectPattern\' needs "nondeterministic": true',
      ],
      [
        '{"id":"x","expr":"@utcNow()","expect":null,"expectError":false,"source":"t","note":"","nondeterministic":true,"assumeNow":"yesterday"}',
        "field 'assumeNow' is not a timestamp",
      ],
    ])('refuses %s', async (line, message) => {
      const err = await invalidFile([ok, '', line]);
      expect(err).toContain(`FILE:3: case 'x': ${message}`);
    });

    it('refuses duplicate ids, naming both lines', async () => {
      const err = await invalidFile([ok, ok]);
      expect(err).toContain("FILE:2: case 'ok': field 'id' repeats the id of line 1");
    });

    it('refuses an empty file (no case is not a pass)', async () => {
      expect(await invalidFile([])).toContain('FILE: the file holds no case');
      expect(await invalidFile(['', '  ', ''])).toContain('FILE: the file holds no case');
    });
  });

  it('fails a wrong 64-bit integer read from the file text (QA finding 2)', async () => {
    const file = tempFile(
      'ticks.jsonl',
      '{"id":"max","expr":"@ticks(\'9999-12-31T23:59:59.9999999Z\')","expect":3155378975999997999,"expectError":false,"source":"t","note":"","bigint":true}\n',
    );
    const r = await run('conformance', 'expressions', file);
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(
      'FAIL max: "@ticks(\'9999-12-31T23:59:59.9999999Z\')" expected 3155378975999997999, got 3155378975999999999',
    );
  });

  it('names the position of a runtime error in a FAIL line (QA finding 13)', async () => {
    const file = tempFile(
      'err.jsonl',
      '{"id":"e","expr":"@concat(\'a\', formatDateTime(\'x\'))","expect":"a","expectError":false,"source":"t","note":""}\n',
    );
    const r = await run('conformance', 'expressions', file);
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('got error EXPRESSION_FUNCTION_ERROR at position 13: ');
  });
});
