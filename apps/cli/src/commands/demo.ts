/**
 * `patchbay demo [--exit] [--port P]` — the README's first command (issue 8 item 7). On a new data
 * dir and with nothing else running it shows the main job end to end, over the HTTP API:
 *
 * 1. starts the API server (embedded SQLite, or --database-url) and a local stand-in for an
 *    external "Greeting API" on 127.0.0.1 (it answers which API key it was called with);
 * 2. creates environments `dev` and `test`, imports the sample solution `DemoGreetings`
 *    (custom connector + connection reference + flows with a Request trigger) into dev and
 *    exports it again — the artifact that is deployed;
 * 3. creates two connections in test with different API keys, writes a deployment settings file
 *    that binds the reference to the first, plans and imports the export into test;
 * 4. calls the flow over HTTP on its signed callback URL; re-binds the reference to the second
 *    connection (no change to the flow) and calls again: the answers and the audit log show that
 *    the other credentials were used;
 * 5. prints the run ids and where to look; `--exit` stops here, otherwise it serves until Ctrl-C.
 */
import { mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ExitCode, PatchbayError, conflict } from '@patchbay/core';
import { startServer } from '@patchbay/server';
import { readSolution, writeSolutionZip } from '@patchbay/solution';
import type { CliContext } from '../context.js';
import { parsePort, untilStopped } from './serve.js';

/** The sample solution shipped with the repository. */
export const DEMO_SOLUTION = fileURLToPath(new URL('../../../../samples/solutions/DemoGreetings', import.meta.url));

/** Answers of the API, read field by field in this script. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

const KEYS: Record<string, string> = { 'demo-key-alpha-7f3a': 'alpha', 'demo-key-beta-91c2': 'beta' };

/** The stand-in "Greeting API": GET /api/greeting?name=&salutation= and GET /api/status, with X-API-Key. */
async function startGreetingApi(): Promise<{ server: Server; host: string; served: Record<string, number> }> {
  const served: Record<string, number> = {};
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const keyName = KEYS[String(req.headers['x-api-key'] ?? '')];
    if (!keyName) return send(401, { error: 'unknown API key' });
    if (req.method === 'GET' && url.pathname === '/api/greeting') {
      served[keyName] = (served[keyName] ?? 0) + 1;
      const name = url.searchParams.get('name') ?? 'world';
      return send(200, {
        message: `${url.searchParams.get('salutation') ?? 'Hello'}, ${name}!`,
        keyName,
        served: served[keyName],
      });
    }
    if (req.method === 'GET' && url.pathname === '/api/status') return send(200, { status: 'ok', keyName });
    if (req.method === 'POST' && url.pathname === '/api/visits') return send(201, { id: 1 });
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return { server, host: `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, served };
}

/** Registers the `demo` command on the program. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description(
      'show the main job on real input: deploy a solution to test with a settings file, call its flow over HTTP, re-bind its connection reference and call again',
    )
    .option('--exit', 'exit after the steps instead of serving until Ctrl-C')
    .option('--port <port>', 'API port (default: any free port)', '0')
    .action(async (o: { exit?: boolean; port: string }) => {
      const port = parsePort(o.port);
      const explicitDir = ctx.globals.dataDir ?? ctx.io.env['PATCHBAY_DATA_DIR'];
      if (!explicitDir) ctx.globals = { ...ctx.globals, dataDir: mkdtempSync(join(tmpdir(), 'patchbay-demo-')) };
      const dataDir = ctx.dataDir();
      const say = (line = ''): void => ctx.println(line);
      const step = (n: number, text: string): void => say(`\n[${n}] ${text}`);

      const platform = await ctx.platform();
      if ((await platform.environments.list()).some((e) => ['dev', 'test'].includes(e.name.toLowerCase()))) {
        throw conflict(
          'DEMO_DATA_DIR_IN_USE',
          `the store already has an environment dev or test; run the demo on a new data dir (--data-dir DIR) or without --data-dir`,
          { dataDir },
        );
      }
      step(1, 'start the Patchbay API and a stand-in for an external API');
      const server = await startServer({ platform, port, host: '127.0.0.1' });
      ctx.onClose(() => server.close());
      const greeting = await startGreetingApi();
      ctx.onClose(() => new Promise<void>((r) => greeting.server.close(() => r())));
      const { token } = await platform.auth.createToken({ for: 'admin', description: 'patchbay demo' });
      say(`    API:          ${server.url}/api/v1   (store: ${platform.store.kind}, data dir: ${dataDir})`);
      say(`    OpenAPI:      ${server.url}/api/v1/openapi.json (with the token printed at the end)`);
      say(
        `    Greeting API: http://${greeting.host}/api/greeting (answers with the name of the API key it was called with)`,
      );

      const api = async (method: string, path: string, body?: unknown): Promise<Loose> => {
        const res = await fetch(`${server.url}/api/v1${path}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
        const text = await res.text();
        const parsed = text ? (JSON.parse(text) as Loose) : undefined;
        if (res.status >= 400) {
          throw new PatchbayError({
            code: parsed?.code ?? 'DEMO_STEP_FAILED',
            message: `${method} ${path}: ${parsed?.message ?? res.status}`,
            category: 'internal',
            details: parsed?.details ?? {},
          });
        }
        return parsed;
      };

      step(2, 'create environments dev and test (outbound HTTP to 127.0.0.1 allowed for the stand-in)');
      for (const name of ['dev', 'test']) {
        await api('POST', '/environments', { name, policy: { allowLoopback: true } });
        say(`    POST /environments {name: ${name}} -> created`);
      }

      step(3, 'import the sample solution DemoGreetings into dev, then export it: the artifact to deploy');
      const pkg = await readSolution(DEMO_SOLUTION);
      const zip = (await writeSolutionZip(pkg)).toString('base64');
      const devImport = await api('POST', '/environments/dev/solutions/import', { package: zip });
      say(
        `    ${pkg.manifest.uniqueName} ${pkg.manifest.version}: custom connector ${pkg.customConnectors.map((c) => c.name).join(', ')}, reference ${pkg.connectionReferences.map((r) => r.logicalName).join(', ')}, flows ${devImport.flows.map((f: { name: string; state: string }) => `"${f.name}" (${f.state})`).join(', ')}`,
      );
      const exported = await fetch(`${server.url}/api/v1/environments/dev/solutions/DemoGreetings/export`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const artifact = Buffer.from(await exported.arrayBuffer());
      const artifactFile = join(dataDir, 'DemoGreetings_export.zip');
      await writeFile(artifactFile, artifact);
      say(`    GET .../solutions/DemoGreetings/export -> ${artifact.length} bytes, written to ${artifactFile}`);

      step(4, 'in test: install the custom connector and create two connections with different API keys');
      const cc = pkg.customConnectors[0]!;
      await api('PUT', `/environments/test/connectors/${cc.name}`, {
        displayName: cc.displayName ?? cc.name,
        apiDefinition: cc.openApiDefinition,
        apiProperties: {
          properties: {
            connectionParameters: cc.connectionParameters,
            policyTemplateInstances: cc.policyTemplateInstances ?? [],
          },
        },
      });
      const conns: Array<{ id: string; displayName: string }> = [];
      for (const [key, label] of Object.entries(KEYS)) {
        const c = await api('POST', '/environments/test/connections', {
          connector: cc.name,
          displayName: `Greeting API (${label} key)`,
          parameters: { host: greeting.host },
          secretParameters: { api_key: key },
        });
        conns.push(c);
        say(
          `    connection ${c.id}  "${c.displayName}"  secret parameters: ${c.secretParameters.join(', ')} (stored encrypted, never returned)`,
        );
      }
      const [alpha, beta] = [conns[0]!, conns[1]!];

      step(5, 'deploy the export to test with a settings file (plan, then import)');
      const settings = await api('POST', '/solutions/create-settings', { package: artifact.toString('base64') });
      for (const r of settings.ConnectionReferences)
        if (r.LogicalName === 'pbdemo_GreetingApi') r.ConnectionId = alpha.id;
      for (const v of settings.EnvironmentVariables) if (v.SchemaName === 'pbdemo_Salutation') v.Value = 'Good morning';
      const settingsFile = join(dataDir, 'test.settings.json');
      await writeFile(settingsFile, JSON.stringify(settings, null, 2) + '\n');
      say(`    settings file ${settingsFile}: pbdemo_GreetingApi -> ${alpha.id}, pbdemo_Salutation = "Good morning"`);
      const plan = await api('POST', '/environments/test/solutions/plan', {
        package: artifact.toString('base64'),
        settings,
      });
      for (const r of plan.references)
        say(
          `    plan: reference ${r.logicalName} ${r.action}, binding ${r.binding.action} ${r.binding.connectionId ?? ''}`,
        );
      for (const f of plan.flows) say(`    plan: flow "${f.name}" ${f.action} -> ${f.outcome}`);
      if (plan.blockingProblem)
        throw new PatchbayError({
          code: plan.blockingProblem.code,
          message: `plan blocked: ${plan.blockingProblem.message}`,
          category: 'internal',
        });
      const imported = await api('POST', '/environments/test/solutions/import', {
        package: artifact.toString('base64'),
        settings,
      });
      for (const f of imported.flows) say(`    imported: flow "${f.name}" is ${f.state}`);

      step(6, 'call the flow "Greet caller" over HTTP on its signed callback URL');
      const cb = await api('POST', '/environments/test/flows/Greet%20caller/triggers/manual/listCallbackUrl');
      say(`    callback URL: ${cb.value.replace(/sig=[^&]+/, 'sig=…')} (${cb.method})`);
      const flowBefore = await api('GET', '/environments/test/flows/Greet%20caller');
      const callFlow = async (name: string): Promise<{ status: number; body: Loose; runId: string }> => {
        const res = await fetch(cb.value, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name }),
        });
        const body = (await res.json()) as Loose;
        return { status: res.status, body, runId: res.headers.get('x-ms-workflow-run-id') ?? body?.run ?? '' };
      };
      const first = await callFlow('Ada');
      say(`    POST {"name":"Ada"} -> ${first.status} ${JSON.stringify(first.body)}`);
      say(`    run ${first.runId} used connection ${alpha.id} (${alpha.displayName})`);

      step(
        7,
        're-bind the reference pbdemo_GreetingApi to the other connection (no change to the flow) and call again',
      );
      const bind = await api('PUT', '/environments/test/references/pbdemo_GreetingApi/binding', {
        connectionId: beta.id,
      });
      say(
        `    PUT .../references/pbdemo_GreetingApi/binding -> ${bind.connectionId} (was ${bind.previousConnectionId})`,
      );
      const second = await callFlow('Ada');
      say(`    POST {"name":"Ada"} -> ${second.status} ${JSON.stringify(second.body)}`);
      say(`    run ${second.runId} used connection ${beta.id} (${beta.displayName})`);
      const flowAfter = await api('GET', '/environments/test/flows/Greet%20caller');
      const unchanged =
        JSON.stringify(flowAfter.definition) === JSON.stringify(flowBefore.definition) &&
        flowAfter.modifiedOn === flowBefore.modifiedOn;
      say(`    flow definition and modifiedOn unchanged: ${unchanged ? 'yes' : 'NO'} (${flowAfter.modifiedOn})`);

      step(8, 'what the run history and the audit log say');
      const decrypts = await api('GET', '/audit?environment=test&action=secret.decrypt');
      for (const r of [first, second]) {
        const run = await api('GET', `/runs/${r.runId}`);
        const d = decrypts.find((a: { details?: { runId?: string } }) => a.details?.runId === r.runId);
        say(
          `    run ${r.runId}: ${run.status}, ${run.history.actions.map((a: { name: string; status: string }) => `${a.name} ${a.status}`).join(', ')}; secret.decrypt: ${d ? `action ${d.details.actionName}, connection ${d.details.connectionId}` : 'none'}`,
        );
      }
      const ok =
        first.status === 200 &&
        second.status === 200 &&
        first.body?.keyName === 'alpha' &&
        second.body?.keyName === 'beta' &&
        unchanged &&
        decrypts.some(
          (a: { details?: { runId?: string; connectionId?: string } }) =>
            a.details?.runId === first.runId && a.details?.connectionId === alpha.id,
        ) &&
        decrypts.some(
          (a: { details?: { runId?: string; connectionId?: string } }) =>
            a.details?.runId === second.runId && a.details?.connectionId === beta.id,
        );
      say('');
      say(
        ok
          ? `result: the same flow called the Greeting API with the alpha key (run ${first.runId}), then with the beta key (run ${second.runId}), after one re-binding and no change to the flow.`
          : 'result: the demo did NOT show what it should; see the steps above.',
      );
      say('');
      say('where to look:');
      say(`    API            ${server.url}/api/v1   (token: ${token})`);
      say(`    OpenAPI        ${server.url}/api/v1/openapi.json`);
      say(`    runs           curl -H "Authorization: Bearer <token>" ${server.url}/api/v1/environments/test/runs`);
      say(`    audit          curl -H "Authorization: Bearer <token>" "${server.url}/api/v1/audit?environment=test"`);
      say(`    CLI            npx patchbay --data-dir ${dataDir} run list --env test`);
      say('    web portal     not built yet (apps/web)');
      if (!ok) ctx.exitCode = ExitCode.Partial;
      if (o.exit) return;
      say('\nserving until Ctrl-C…');
      await untilStopped();
    });
}
