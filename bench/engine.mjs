// `npm run bench:engine`: runs per second of the flow engine, in-process, on one core.
// Flows: a 5-action flow (trigger → InitializeVariable → Compose → If(SetVariable) → Response)
// and a 100-iteration Foreach. Measured three ways: the bare engine (compile once, startRun per
// run, no runner), the in-process runner (`runFlow`) with the history kept in memory, and with
// the history written to a SQLite file through packages/storage (the `runs` repository RunService
// uses: one row per run with its redacted, capped history record). Writes its section of BENCHMARKS.md.
import { compileDefinition, startRun, runRecord } from '@patchbay/engine';
import { runFlow, virtualClock, capHistory, DEFAULT_HISTORY_VALUE_CAP } from '@patchbay/platform';
import { openStore } from '@patchbay/storage';
import { createHttpClient } from '@patchbay/connectors';
import { median, machineLine, writeBenchSection } from './report.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const trigger = { manual: { type: 'Request', kind: 'Http', inputs: { schema: {} } } };

const fiveActions = {
  properties: {
    definition: {
      triggers: trigger,
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
};

const foreach100 = {
  properties: {
    definition: {
      triggers: trigger,
      actions: {
        Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'sum', type: 'integer', value: 0 }] } },
        Loop: {
          type: 'Foreach',
          foreach: '@range(0, 100)',
          runAfter: { Init: ['Succeeded'] },
          actions: {
            Double: { type: 'Compose', inputs: '@mul(item(), 2)' },
            Add: {
              type: 'IncrementVariable',
              inputs: { name: 'sum', value: "@outputs('Double')" },
              runAfter: { Double: ['Succeeded'] },
            },
          },
        },
        Reply: {
          type: 'Response',
          inputs: { statusCode: 200, body: "@variables('sum')" },
          runAfter: { Loop: ['Succeeded'] },
        },
      },
    },
  },
};

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);

/** Runs `fn` (sync or async, one run per call) as often as fits in ROUND_MS, ROUNDS times; returns runs/s per round. */
async function measure(fn) {
  for (let i = 0; i < 200; i++) await fn(i); // warm-up
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) {
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ROUND_MS) {
      for (let k = 0; k < 20; k++) await fn(n++);
      now = performance.now();
    }
    rates.push((n * 1000) / (now - start));
  }
  return rates;
}

function check(cond, message) {
  if (!cond) throw new Error(`benchmark sanity check failed: ${message}`);
}

const at = '2024-02-13T10:00:00.000Z';
const results = [];

async function bareEngine(label, flow, body, expectBody) {
  const plan = compileDefinition(flow);
  const probe = startRun(plan, { type: 'runStarted', at, runId: 'r', seed: 1, trigger: { body } });
  check(
    probe.state.status === 'Succeeded' && JSON.stringify(probe.state.response.body) === JSON.stringify(expectBody),
    `${label}: ${JSON.stringify(probe.state.response)}`,
  );
  const rates = await measure((i) => {
    const { state } = startRun(plan, { type: 'runStarted', at, runId: `r${i}`, seed: i, trigger: { body } });
    if (state.status !== 'Succeeded') throw new Error('run failed');
  });
  results.push({ label, mode: 'engine only (startRun, no runner)', rates });
}

function memorySink() {
  const history = new Map();
  return {
    size: () => history.size,
    finished(record) {
      history.set(record.runId, record);
      if (history.size > 10_000) history.delete(history.keys().next().value);
    },
  };
}

/**
 * History persisted through packages/storage: the same `runs` repository and the same history
 * cap as RunService (one row per run holding the redacted record), on a SQLite file in WAL mode.
 */
async function sqliteSink() {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-engine-'));
  const store = await openStore({ sqliteFile: join(dir, 'patchbay.db') });
  let n = 0;
  return {
    size: () => n,
    async finished(record) {
      const capped = capHistory(record, DEFAULT_HISTORY_VALUE_CAP);
      await store.repos.runs.insert({
        id: record.runId,
        environmentId: 'bench',
        flowId: record.workflowId,
        flowName: 'bench',
        status: record.status,
        startedBy: 'bench',
        startTime: record.startTime,
        ...(record.endTime ? { endTime: record.endTime, durationMs: record.durationMs } : {}),
        ...(capped.response
          ? { response: { statusCode: capped.response.statusCode, body: capped.response.body } }
          : {}),
        record: capped,
      });
      n += 1;
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function runner(label, flow, body, expectBody, persisted) {
  const http = createHttpClient();
  const sink = persisted ? await sqliteSink() : memorySink();
  const clock = virtualClock(Date.parse(at));
  let seq = 0;
  const once = (i) =>
    runFlow({ flow, trigger: { body }, httpClient: http, clock, history: sink, runId: `run-${seq++}`, seed: i });
  const probe = await once(0);
  check(
    probe.status === 'Succeeded' && JSON.stringify(probe.response.body) === JSON.stringify(expectBody),
    `${label}: ${JSON.stringify(probe.response)}`,
  );
  const rates = await measure(async (i) => {
    const r = await once(i);
    if (r.status !== 'Succeeded') throw new Error('run failed');
  });
  await http.close();
  check(sink.size() > 0 && runRecord(probe.state).actions.length > 0, 'history kept');
  await sink.close?.();
  results.push({
    label,
    mode: persisted ? 'runner (runFlow), history persisted to SQLite' : 'runner (runFlow), history in memory',
    rates,
  });
}

await bareEngine('5-action flow', fiveActions, { name: 'World' }, { greeting: 'Hello World' });
await runner('5-action flow', fiveActions, { name: 'World' }, { greeting: 'Hello World' }, false);
await runner('5-action flow', fiveActions, { name: 'World' }, { greeting: 'Hello World' }, true);
await bareEngine('100-iteration Foreach', foreach100, {}, 9900);
await runner('100-iteration Foreach', foreach100, {}, 9900, false);
await runner('100-iteration Foreach', foreach100, {}, 9900, true);

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const rows = results.map(
  (r) =>
    `| ${r.label} | ${r.mode} | ${fmt(median(r.rates))} | ${fmt(Math.min(...r.rates))}–${fmt(Math.max(...r.rates))} |`,
);
const five = results.find((r) => r.label === '5-action flow' && r.mode.endsWith('in memory'));
const target = 10_000;
for (const r of results)
  console.log(`${r.label.padEnd(24)} ${r.mode.padEnd(40)} ${fmt(median(r.rates)).padStart(10)} runs/s`);

writeBenchSection(
  'engine',
  `## Flow engine (\`npm run bench:engine\`)

${machineLine()}

Method: one Node.js process (one core), built packages. Each measurement runs the flow as often as
fits in ${ROUND_MS} ms, ${ROUNDS} rounds after 200 warm-up runs; the table gives the median and the
range of the rounds in runs per second. *Engine only* compiles the definition once and calls
\`startRun\` per run (every action is built in, so a run completes in one step). *Runner* is the
in-process \`runFlow\` with a shared outbound HTTP client, a virtual clock and a history sink that
keeps the last 10,000 run records in memory (redacted \`RunRecord\` per run); *persisted to SQLite*
is the same runner with a sink that writes each finished run through \`packages/storage\` — the
\`runs\` repository RunService uses (one row per run holding the redacted history record, values
capped like RunService does; Kysely over better-sqlite3, WAL, \`synchronous=NORMAL\`, one
statement per run, awaited before the next run starts). Flows: the 5-action
flow is trigger → InitializeVariable → Compose → If (SetVariable / SetVariable) → Response; the
Foreach flow runs Compose + IncrementVariable 100 times (sequentially, the Power Automate default)
then Response. Each measured flow is checked to answer the expected body first.

| flow | mode | runs/s (median) | range |
|---|---|---:|---:|
${rows.join('\n')}

Target: at least ${fmt(target)} runs/s of the 5-action flow in memory on one core — ${five && median(five.rates) >= target ? `met (${fmt(median(five.rates))} runs/s through the runner)` : `NOT met (${five ? fmt(median(five.rates)) : '?'} runs/s through the runner)`}.`,
);
console.log('wrote the engine section of BENCHMARKS.md');
