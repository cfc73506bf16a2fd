/**
 * The connector-free flows of ../shared/corpus run as they are, and end as their samples say
 * (pnp/powerplatform-samples READMEs): run status, response, and which actions succeeded,
 * failed or were skipped. Time comes from a virtual clock so date-based flows are deterministic.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFlow, virtualClock, type ChildFlow, type RunFlowResult } from '@patchbay/platform';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const unpacked = join(CORPUS_DIR, 'solutions/unpacked') + '/';

function load(solution: string, prefix: string): { flow: unknown; id: string } {
  const dir = `${unpacked}${solution}/Workflows/`;
  const file = readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.json'));
  if (!file) throw new Error(`no flow ${prefix} in ${solution}`);
  return {
    flow: JSON.parse(readFileSync(dir + file, 'utf8').replace(/^\uFEFF/, '')),
    id: file.slice(prefix.length + 1, -5).toLowerCase(),
  };
}

function statuses(r: RunFlowResult): Record<string, string> {
  return Object.fromEntries(Object.entries(r.summary.actions).map(([k, v]) => [k, v.status]));
}

async function run(
  solution: string,
  prefix: string,
  options: { body?: unknown; at?: string; staticResults?: Parameters<typeof runFlow>[0]['staticResults'] } = {},
) {
  const { flow } = load(solution, prefix);
  return runFlow({
    flow,
    trigger: options.body !== undefined ? { body: options.body } : {},
    clock: virtualClock(Date.parse(options.at ?? '2024-02-20T09:30:00Z')),
    ...(options.staticResults ? { staticResults: options.staticResults } : {}),
  });
}

describe('patch-tuesday: Is it Patch Tuesday? (Recurrence)', () => {
  it.each([
    ['2023-11-14T14:00:00Z', 'second Tuesday of November 2023', 'Compose', "It's Patch Tuesday!"],
    ['2024-02-13T14:00:00Z', 'second Tuesday of February 2024', 'Compose', "It's Patch Tuesday!"],
    ['2023-11-07T14:00:00Z', 'first Tuesday', 'Compose_2', "It's not Patch Tuesday!"],
    ['2023-11-21T14:00:00Z', 'third Tuesday', 'Compose_2', "It's not Patch Tuesday!"],
  ])('at %s (%s) %s says %j', async (at, _label, composer, text) => {
    const r = await run('patch-tuesday', 'IsitPatchTuesday', { at });
    expect(r.status).toBe('Succeeded');
    const other = composer === 'Compose' ? 'Compose_2' : 'Compose';
    expect(statuses(r)).toEqual({ Condition: 'Succeeded', [composer]: 'Succeeded', [other]: 'Skipped' });
    expect(r.record.actions.find((a) => a.name === composer)!.outputs).toBe(text);
    expect(r.record.trigger.scheduledTime).toBe(new Date(at).toISOString());
  });
});

describe('patch-tuesday: Patch Tuesday this month (Button)', () => {
  it.each([
    ['2023-11-20T08:00:00Z', '2023-11-14'],
    ['2024-02-01T08:00:00Z', '2024-02-13'],
    ['2024-05-31T23:00:00Z', '2024-05-14'],
  ])('at %s the composed date is %s', async (at, day) => {
    const r = await run('patch-tuesday', 'PatchTuesdayThisMonth', { at, body: {} });
    expect(r.status).toBe('Succeeded');
    expect(Object.values(statuses(r)).every((s) => s === 'Succeeded')).toBe(true);
    expect(String(r.record.actions.find((a) => a.name === 'Compose_-_Patch_Tuesday')!.outputs)).toMatch(
      new RegExp(`^${day}T00:00:00`),
    );
    expect(r.response).toBeUndefined();
  });
});

describe('patch-tuesday: Patch Tuesday of an arbitrary date (PowerApp, responds)', () => {
  it.each([
    ['2024-02-20', '2024-02-13'],
    ['2023-11-02', '2023-11-14'],
    ['2024-05-31', '2024-05-14'],
  ])('for %s it answers %s', async (date, day) => {
    const r = await run('patch-tuesday', 'PatchTuesdayArbitraryDateFlow', { body: { text: date } });
    expect(r.status).toBe('Succeeded');
    expect(r.response!.statusCode).toBe(200);
    expect((r.response!.body as { patchtuesday: string }).patchtuesday).toMatch(new RegExp(`^${day}T00:00:00`));
    expect(statuses(r)).toEqual({
      Parse_JSON: 'Succeeded',
      'Compose_-_Start_of_Month': 'Succeeded',
      'Initialize_variable_-_DayOfWeek1stDay': 'Succeeded',
      'Initialize_variable_-_DaysToAddArray': 'Succeeded',
      'Initialize_variable_-_DaysToAdd': 'Succeeded',
      'Compose_-_Patch_Tuesday': 'Succeeded',
      Respond_to_a_PowerApp_or_flow: 'Succeeded',
    });
  });
  it('a body that does not match the Parse JSON schema fails the run and skips the rest', async () => {
    const r = await run('patch-tuesday', 'PatchTuesdayArbitraryDateFlow', { body: { text: 20240220 } });
    expect(r.status).toBe('Failed');
    expect(r.summary.actions.Parse_JSON!.error!.code).toBe('ValidationFailed');
    expect(r.summary.actions['Compose_-_Start_of_Month']!.status).toBe('Skipped');
    expect(r.response).toBeUndefined();
  });
});

describe('always-reply-to-request: the caller always gets an answer', () => {
  it('the failing work answers 500 with the scope error and the run ends Failed by Terminate', async () => {
    const r = await run('always-reply-to-request', 'PatternAlwaysreplytoHTTPrequest');
    expect(r.status).toBe('Failed');
    expect(r.error).toEqual({ code: '500', message: 'An error has occured' });
    expect(statuses(r)).toEqual({
      Scope: 'Failed',
      Actual_Work: 'Failed',
      Response_OK: 'Skipped',
      Response_Error: 'Succeeded',
      Terminate_with_Failed: 'Succeeded',
    });
    expect(r.response!.statusCode).toBe(500);
    const body = r.response!.body as { code: string; message: string };
    expect(body.code).toBe('InvalidTemplate');
    expect(body.message).toMatch(/div/i);
    expect(r.summary.actions.Actual_Work!.error!.code).toBe('InvalidTemplate');
  });
});

describe('utility-flow-to-extract-number-by-length', () => {
  it.each([
    ['Order 12345 shipped on 20240213 to desk 42', 5, '12345'],
    ['Order 12345 shipped on 20240213 to desk 42', 8, '20240213'],
    ['Order 12345 shipped on 20240213 to desk 42', 2, '42'],
    ['no digits here', 3, ''],
  ])('%j with length %i answers %j', async (text, number, output) => {
    const r = await run('utility-flow-to-extract-number-by-length', 'Utilitytoextractnumberbylength', {
      body: { text, number },
    });
    expect(r.status).toBe('Succeeded');
    expect(r.response).toMatchObject({ statusCode: 200, body: { output } });
    expect(Object.values(statuses(r)).every((s) => s === 'Succeeded')).toBe(true);
  });
});

describe('reusable-childflow-array-operations', () => {
  const a1 = JSON.stringify([
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ]);
  const a2 = JSON.stringify([
    { id: 2, name: 'b' },
    { id: 3, name: 'c' },
  ]);
  it.each([
    [
      'Union (All)',
      'id',
      [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
        { id: 3, name: 'c' },
      ],
      'Set_variable',
    ],
    ['Intersection (Common)', 'id', [{ id: 2, name: 'b' }], 'Set_variable_2'],
    ['Difference (Array1 - Array2)', 'id', [{ id: 1, name: 'a' }], 'Set_variable_3'],
    ['Union (All)', 'missing_key', [], 'Set_variable_4'],
  ])('%s on key %s', async (operation, key, expected, setter) => {
    const r = await run('reusable-childflow-array-operations', 'ArrayOperations', {
      body: { text: a1, text_1: a2, text_2: key, text_3: operation },
    });
    expect(r.status).toBe('Succeeded');
    expect(r.response!.statusCode).toBe(200);
    expect(JSON.parse((r.response!.body as { output: string }).output)).toEqual(expected);
    expect(r.summary.actions[setter]!.status).toBe('Succeeded');
  });
});

describe('alt-text-generator (Copilot skill trigger)', () => {
  it('answers 200 with an empty object', async () => {
    const r = await run('alt-text-generator', 'GenerateImageAltText', {
      body: { text: 'https://example.com/cat.png' },
    });
    expect(r.status).toBe('Succeeded');
    expect(r.response).toMatchObject({ statusCode: 200, body: {} });
  });
});

describe('utility-flow-get-sharepoint-info-from-environment-variables (child flow, env vars, static results)', () => {
  const child = load('utility-flow-get-sharepoint-info-from-environment-variables', 'GetDataSourceListInfo');
  const parent = load('utility-flow-get-sharepoint-info-from-environment-variables', 'GetDataSourceListInfo-test');
  const sharepoint = {
    'Send_an_HTTP_request_to_SharePoint:_get_Site_with_MS_Graph': {
      status: 'Succeeded' as const,
      outputs: {
        statusCode: 200,
        body: {
          id: 'contoso.sharepoint.com,11111111-aaaa-4aaa-8aaa-111111111111,22222222-bbbb-4bbb-8bbb-222222222222',
          title: 'Subsite',
        },
      },
    },
    'Send_an_HTTP_request_to_SharePoint:_get_list_URL': {
      status: 'Succeeded' as const,
      outputs: {
        statusCode: 200,
        body: {
          Id: 'lib-1',
          Title: 'Documents',
          BaseTemplate: 101,
          ParentWebUrl: '/sites/subsite',
          RootFolder: { Name: 'Shared Documents', ServerRelativeUrl: '/sites/subsite/Shared Documents' },
        },
      },
    },
    'Send_an_HTTP_request_to_SharePoint:_get_Drive_Id': {
      status: 'Succeeded' as const,
      outputs: {
        statusCode: 200,
        body: {
          value: [
            {
              id: 'b!drive-1',
              name: 'Documents',
              webUrl: 'https://contoso.sharepoint.com/sites/subsite/Shared%20Documents',
            },
          ],
        },
      },
    },
  };
  it('the parent passes environment variable values to the child, which answers the site and list information', async () => {
    const flows: Record<string, ChildFlow> = {
      '031abda2-427b-ef11-ac20-002248617a98': {
        flow: child.flow,
        workflow: { id: '031abda2-427b-ef11-ac20-002248617a98' },
      },
    };
    const r = await runFlow({
      flow: parent.flow,
      environmentVariables: {
        kk_v_SiteUrl: 'https://contoso.sharepoint.com/sites/subsite',
        kk_v_Library: 'lib-1',
        kk_v_List: 'list-2',
      },
      staticResults: sharepoint,
      resolveChildFlow: (id) => flows[id],
      clock: virtualClock(),
    });
    expect(r.status).toBe('Succeeded');
    expect(r.children).toHaveLength(2);
    expect(r.children.every((c) => c.status === 'Succeeded')).toBe(true);
    const info = r.record.actions.find((a) => a.name === 'Compose:_get_library_information')!.outputs as Record<
      string,
      string
    >;
    expect(info).toMatchObject({
      host_name: 'contoso.sharepoint.com',
      site_url: 'https://contoso.sharepoint.com/sites/subsite',
      site_title: 'Subsite',
      list_id: 'lib-1',
      list_name: 'Shared Documents',
      list_title: 'Documents',
      list_absolute_url: 'https://contoso.sharepoint.com/sites/subsite/Shared Documents',
      list_drive_id: 'b!drive-1',
      error_message: '',
    });
    expect(info.success!.toLowerCase()).toBe('true');
    const second = r.record.actions.find((a) => a.name === 'Run_a_Child_Flow:_get_list_information')!;
    expect((second.inputs as { body: { text_1: string } }).body.text_1).toBe('list-2');
  });
  it('without environment variable values the parameter defaults apply', async () => {
    const seen: unknown[] = [];
    const r = await runFlow({
      flow: parent.flow,
      staticResults: sharepoint,
      resolveChildFlow: (id) => {
        seen.push(id);
        return { flow: child.flow };
      },
      clock: virtualClock(),
    });
    expect(r.status).toBe('Succeeded');
    expect(seen).toEqual(['031abda2-427b-ef11-ac20-002248617a98', '031abda2-427b-ef11-ac20-002248617a98']);
    const call = r.record.actions.find((a) => a.name === 'Run_a_Child_Flow:_get_library_information_')!;
    expect((call.inputs as { body: { text: string } }).body.text).toBe('https://contoso.sharepoint.com/sites/subsite');
  });
});
