/**
 * `patchbay flow test FILE`, in-process, on real corpus flows: JSON shape, exit codes, static
 * results for connector actions, child flows found next to the file.
 */
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIO } from '../src/io.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const unpacked = join(CORPUS_DIR, 'solutions/unpacked') + '/';
const flowFile = (solution: string, prefix: string): string => {
  const dir = join(unpacked, solution, 'Workflows');
  return join(
    dir,
    readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.json'))!,
  );
};

async function run(...argv: string[]) {
  const io = memoryIO();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

interface Summary {
  status: string;
  response?: { statusCode: number; body: unknown };
  outputs?: unknown;
  actions: Record<string, { status: string; error?: { code: string; message: string } }>;
}

describe('patchbay flow test', () => {
  it('a flow that answers: exit 0 and {status, response, actions}', async () => {
    const r = await run(
      'flow',
      'test',
      flowFile('utility-flow-to-extract-number-by-length', 'Utilitytoextractnumberbylength'),
      '--body',
      '{"text":"id 4711 and 12","number":4}',
      '--json',
    );
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.status).toBe('Succeeded');
    expect(s.response).toEqual({ statusCode: 200, headers: {}, body: { output: '4711' } });
    expect(s.actions.Filter_array).toEqual({ status: 'Succeeded' });
    expect(s.outputs).toEqual({});
  });
  it('a run that ends Failed: exit 5, failed actions with their errors', async () => {
    const r = await run(
      'flow',
      'test',
      flowFile('always-reply-to-request', 'PatternAlwaysreplytoHTTPrequest'),
      '--json',
    );
    expect(r.code).toBe(5);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.status).toBe('Failed');
    expect(s.response!.statusCode).toBe(500);
    expect(s.actions.Actual_Work!.status).toBe('Failed');
    expect(s.actions.Actual_Work!.error!.code).toBe('InvalidTemplate');
    expect(s.actions.Response_OK!.status).toBe('Skipped');
  });
  it('text output lists every action and the failed ones', async () => {
    const r = await run('flow', 'test', flowFile('always-reply-to-request', 'PatternAlwaysreplytoHTTPrequest'));
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/: Failed/);
    expect(r.stdout).toMatch(/response: 500/);
    expect(r.stdout).toMatch(/Response_OK\s+Skipped/);
    expect(r.stdout).toMatch(/failed actions:\n {2}Scope: ActionFailed/);
  });
  it('connector actions fail without static results and run with them', async () => {
    const file = flowFile('sharepoint-list-update-created-by', 'UpdateCreatedBy');
    const body =
      '{"text":"Tasks","number":3,"text_1":"user@contoso.com","text_2":"https://contoso.sharepoint.com/sites/a"}';
    const without = await run('flow', 'test', file, '--body', body, '--json');
    expect(without.code).toBe(5);
    const err = (JSON.parse(without.stdout) as Summary).actions.Send_an_HTTP_request_to_SharePoint!.error!;
    expect(err.code).toBe('CONNECTOR_NOT_AVAILABLE');
    expect(err.message).toContain('shared_sharepointonline-1');
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-flow-test-'));
    const mocks = join(dir, 'static.json');
    writeFileSync(
      mocks,
      JSON.stringify({
        Send_an_HTTP_request_to_SharePoint: { status: 'Succeeded', outputs: { statusCode: 200, body: { d: {} } } },
      }),
    );
    const withMocks = await run('flow', 'test', file, '--body', body, '--static-results', mocks, '--json');
    expect(withMocks.code).toBe(0);
    expect((JSON.parse(withMocks.stdout) as Summary).response).toMatchObject({
      statusCode: 200,
      body: { status: 'Complete' },
    });
  });
  it('child flows are found next to the file by workflow id; environment variables come from --env-var', async () => {
    const file = flowFile('utility-flow-get-sharepoint-info-from-environment-variables', 'GetDataSourceListInfo-test');
    const r = await run(
      'flow',
      'test',
      file,
      '--env-var',
      'kk_v_SiteUrl=https://contoso.sharepoint.com/sites/x',
      '--json',
    );
    // the child's SharePoint calls have no connector runtime: the child answers with its errors
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.actions['Run_a_Child_Flow:_get_library_information_']!.status).toBe('Succeeded');
    expect(r.code).toBe(0);
  });
  it('bad input: a missing file and a malformed static results file', async () => {
    expect((await run('flow', 'test', '/nonexistent/flow.json')).code).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-flow-test-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ A: { outputs: {} } }));
    const r = await run(
      'flow',
      'test',
      flowFile('alt-text-generator', 'GenerateImageAltText'),
      '--static-results',
      bad,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('INVALID_STATIC_RESULTS');
  });
});

describe('patchbay flow test: Recurrence and query', () => {
  it('--scheduled-time sets the run time of a Recurrence flow (Is it Patch Tuesday?)', async () => {
    const file = flowFile('patch-tuesday', 'IsitPatchTuesday');
    const yes = await run('flow', 'test', file, '--scheduled-time', '2023-11-14T14:00:00Z', '--json');
    expect((JSON.parse(yes.stdout) as Summary).actions.Compose!.status).toBe('Succeeded');
    const no = await run('flow', 'test', file, '--scheduled-time', '2023-11-21T14:00:00Z', '--json');
    expect((JSON.parse(no.stdout) as Summary).actions.Compose!.status).toBe('Skipped');
    expect((await run('flow', 'test', file, '--scheduled-time', 'tomorrow')).code).toBe(1);
  });
  it('--query and --header reach triggerOutputs()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-flow-test-'));
    const file = join(dir, 'echo.json');
    writeFileSync(
      file,
      JSON.stringify({
        definition: {
          triggers: { manual: { type: 'Request', kind: 'Http', inputs: { method: 'GET' } } },
          actions: {
            R: {
              type: 'Response',
              inputs: {
                statusCode: 200,
                body: { q: "@triggerOutputs()['queries']['id']", h: "@triggerOutputs()['headers']['x-user']" },
              },
            },
          },
        },
      }),
    );
    const r = await run('flow', 'test', file, '--query', 'id=42', '--header', 'x-user: ann', '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Summary).response!.body).toEqual({ q: '42', h: 'ann' });
  });
});
