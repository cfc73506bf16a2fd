// The server process of `npm run bench:http` (started by bench/http.mjs, pinned to one core).
// Modes:
//   bare              a Fastify 5 app with one POST route answering a small JSON: the ceiling
//   sqlite | postgres the Patchbay API over a fresh store, with one HTTP-triggered 5-action flow
// Prints one JSON line {url} when listening; on SIGUSR2 {cpuUs}; on SIGTERM prints {maxRssMb, runs, batches, rows,
// largestBatch} (runs = rows in the runs table) and exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { createPlatform, loadKeyring, reevaluateEnvironment } from '@patchbay/platform';
import { openStore } from '@patchbay/storage';
import { startServer } from '@patchbay/server';

const mode = process.argv[2];
let peakRss = process.memoryUsage().rss;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100).unref();

/** trigger → InitializeVariable → Compose → If (SetVariable / SetVariable) → Response: the flow of bench:engine. */
export const fiveActionFlow = {
  properties: {
    connectionReferences: {},
    definition: {
      triggers: { manual: { type: 'Request', kind: 'Http', inputs: { method: 'POST', schema: {} } } },
      actions: {
        Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'greeting', type: 'string', value: '' }] } },
        Name: { type: 'Compose', inputs: "@triggerBody()?['name']", runAfter: { Init: ['Succeeded'] } },
        Known: {
          type: 'If',
          expression: { and: [{ equals: ["@outputs('Name')", 'World'] }] },
          actions: {
            Greet: { type: 'SetVariable', inputs: { name: 'greeting', value: "@{concat('Hello ', outputs('Name'))}" } },
          },
          else: { actions: { Unknown: { type: 'SetVariable', inputs: { name: 'greeting', value: 'Who?' } } } },
          runAfter: { Name: ['Succeeded'] },
        },
        Reply: {
          type: 'Response',
          inputs: { statusCode: 200, body: { greeting: "@variables('greeting')" } },
          runAfter: { Known: ['Succeeded'] },
        },
      },
    },
  },
  schemaVersion: '1.0.0.0',
};

async function bare() {
  const app = Fastify({ logger: false });
  app.post('/hello', async (req) => ({ greeting: `Hello ${req.body?.name ?? ''}` }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}/hello` }));
  return async () => ({});
}

async function patchbay(kind) {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-http-'));
  const store = await openStore(
    kind === 'postgres' ? { databaseUrl: process.env.BENCH_PG_URL } : { sqliteFile: join(dir, 'patchbay.db') },
  );
  const keyring = loadKeyring({ env: { PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64') }, dataDir: dir });
  const platform = await createPlatform({ store, keyring });
  const env = await platform.environments.create({ name: 'bench' });
  const admin = await platform.principals.get('admin');
  const now = new Date().toISOString();
  await platform.store.transaction(async (tx) => {
    await tx.flows.insert({
      id: '5a5a5a5a-0000-4000-8000-000000000005',
      environmentId: env.id,
      name: 'Five actions',
      definition: fiveActionFlow,
      connections: [],
      childFlowIds: [],
      ownerId: admin.id,
      coOwnerIds: [],
      turnedOn: true,
      suspended: false,
      state: 'Off',
      reasons: [],
      modifiedOn: now,
      stateChangedOn: now,
      createdOn: now,
    });
    await reevaluateEnvironment(platform.ctx, tx, env.id);
  });
  const server = await startServer({ platform, port: 0, host: '127.0.0.1' });
  const cb = await platform.triggers.listCallbackUrl({ environment: 'bench', flow: 'Five actions' });
  console.log(JSON.stringify({ url: cb.url }));
  return async () => {
    await server.close();
    const count = await store.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst();
    const stats = platform.triggers.batcher.stats;
    await platform.close();
    rmSync(dir, { recursive: true, force: true });
    return { runs: Number(count?.n ?? 0), batches: stats.batches, rows: stats.rows, largestBatch: stats.largestBatch };
  };
}

const stop = mode === 'bare' ? await bare() : await patchbay(mode);
// SIGUSR2: print the CPU time used so far (µs, user + system), for CPU per request.
process.on('SIGUSR2', () => {
  const c = process.cpuUsage();
  console.log(JSON.stringify({ cpuUs: c.user + c.system }));
});
process.on('SIGTERM', async () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const extra = await stop();
  console.log(JSON.stringify({ maxRssMb: Math.round(peakRss / 1048576), ...extra }));
  process.exit(0);
});
