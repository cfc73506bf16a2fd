/**
 * Operations endpoints and queued execution in the API server (issue 9 item 5):
 * - `GET /healthz` — liveness (200 while the process serves);
 * - `GET /readyz` — readiness: 200 when the database answers (and, with queued execution, this
 *   process is a registered execution node), else 503;
 * - `GET /metrics` — Prometheus text format: the execution metrics (runs started, succeeded,
 *   failed, queue depth, action latency, …) and the process metrics of prom-client.
 * None needs a token and none returns a secret. With an {@link ExecutionService} the server also
 * queues the runs of callback URLs (flows that do I/O) and manual runs, and cancels queued runs.
 */
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ExecutionService, Platform, QueuedTriggerRun, TriggerAnswer } from '@patchbay/platform';

/** How long a callback request waits for the flow's Response before it gets 202 with the run id (ms). */
export const QUEUED_RESPONSE_TIMEOUT_MS = 120_000;

/** Answers a callback request through the durable queue: 202 at once without a Response action, else the Response (or 202 after the timeout). */
export async function queuedTriggerAnswer(
  execution: ExecutionService,
  r: QueuedTriggerRun,
  timeoutMs = QUEUED_RESPONSE_TIMEOUT_MS,
): Promise<TriggerAnswer> {
  const run = await execution.enqueue({
    environment: r.environment,
    flow: r.flowId,
    actor: r.actor,
    trigger: r.trigger,
    startedBy: 'http',
    callbackUrl: r.callbackUrl,
  });
  const idHeader = { 'x-ms-workflow-run-id': run.id };
  if (!r.hasResponse)
    return { statusCode: 202, headers: idHeader, body: { runId: run.id, status: 'Running' }, runId: run.id };
  const answer = await execution.waitForResponse(run.id, { timeoutMs });
  if (answer.response)
    return {
      statusCode: answer.response.statusCode,
      headers: { ...answer.response.headers, ...idHeader },
      body: answer.response.body,
      runId: run.id,
    };
  return { statusCode: 202, headers: idHeader, body: { runId: run.id, status: answer.status }, runId: run.id };
}

/** Registers /healthz, /readyz and /metrics; with `execution`, routes callback runs through the queue. */
export function registerOperations(
  app: FastifyInstance,
  platform: Platform,
  execution: ExecutionService | undefined,
): void {
  const processMetrics = new Registry();
  collectDefaultMetrics({ register: processMetrics, prefix: 'patchbay_process_' });
  if (execution) platform.triggers.queue = (r) => queuedTriggerAnswer(execution, r);
  const hidden = { config: { auth: false }, schema: { hide: true } } as const;
  app.get('/healthz', hidden, async () => ({
    status: 'ok',
    store: platform.store.kind,
    ...(execution ? { node: execution.nodeId, queue: execution.queue.kind } : {}),
  }));
  app.get('/readyz', hidden, async (_req, reply) => {
    let r: { ready: boolean; checks: Record<string, string> };
    if (execution) r = await execution.readiness();
    else {
      try {
        await platform.store.repos.environments.list();
        r = { ready: true, checks: { database: 'ok' } };
      } catch (e) {
        r = { ready: false, checks: { database: `error: ${(e as Error).message}` } };
      }
    }
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', ...r });
  });
  app.get('/metrics', hidden, async (_req, reply) => {
    const text = (execution ? await execution.metrics.text() : '') + (await processMetrics.metrics());
    return reply.type(processMetrics.contentType).send(text);
  });
}
