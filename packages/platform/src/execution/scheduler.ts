/**
 * The Recurrence scheduler: fires the Recurrence triggers of flows that are On, once per
 * occurrence cluster-wide, however many server processes run it.
 *
 * - Every server process ticks (`schedulerTickMs`) over the On flows with a Recurrence trigger
 *   (reloaded every `schedulerRefreshMs`). Each flow has a `schedules` row holding the last
 *   occurrence fired. Firing occurrence T is a compare-and-set of that row from the previous
 *   occurrence to T, in the same transaction as the run it enqueues: two processes cannot both
 *   fire T (one CAS fails), and T is never fired without its run or the reverse. The run id is
 *   derived from (environment, flow, T), so even a second row could not make a second run.
 * - A new schedule (a flow seen On for the first time, or whose recurrence changed) starts now:
 *   earlier occurrences are not fired. Turning a flow Off deletes its schedule.
 * - Missed occurrences (no scheduler was running, e.g. the whole cluster was down): when the
 *   oldest due occurrence is late by more than `missedGraceMs` (default 60 s), every due
 *   occurrence collapses into one firing of the most recent one (with its own `scheduledTime`);
 *   the others are skipped and logged. Occurrences late by less than that (a slow tick, a quick
 *   restart) all fire, each once. This follows Logic Apps, which runs a missed recurrence once
 *   rather than every missed one.
 */
import { createHash, randomInt } from 'node:crypto';
import type { Flow, ScheduleRecord } from '@patchbay/core';
import { definitionOf } from '@patchbay/engine';
import { isPatchbayError } from '@patchbay/core';
import { parseRecurrence, Recurrence, type RecurrenceSpec } from './recurrence.js';
import type { ExecutionHost } from './host.js';

interface Entry {
  flow: Flow;
  key: string;
  spec: RecurrenceSpec;
  hash: string;
}

/** A deterministic run id (UUID layout) for one occurrence of one flow. */
export function occurrenceRunId(environmentId: string, flowId: string, occurrenceIso: string): string {
  const h = createHash('sha256').update(`${environmentId}:${flowId}:${occurrenceIso}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The Recurrence trigger of a flow definition, if it has one. */
export function recurrenceTrigger(
  flowDefinition: unknown,
): { name: string; trigger: Record<string, unknown> } | undefined {
  const def = definitionOf(flowDefinition) as { triggers?: Record<string, unknown> };
  for (const [name, t] of Object.entries(def.triggers ?? {})) {
    if (t && typeof t === 'object' && String((t as { type?: unknown }).type).toLowerCase() === 'recurrence')
      return { name, trigger: t as Record<string, unknown> };
  }
  return undefined;
}

/** Fires Recurrence triggers (see the module comment). */
export class Scheduler {
  private entries: Entry[] = [];
  private loadedAt = -Infinity;
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking: Promise<void> | undefined;
  private readonly invalidLogged = new Set<string>();

  constructor(private readonly svc: ExecutionHost) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.svc.config.schedulerTickMs);
    this.timer.unref?.();
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One tick (also callable from tests): reload flows when due, fire due occurrences. */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      try {
        const now = this.svc.now();
        if (now - this.loadedAt >= this.svc.config.schedulerRefreshMs) await this.reload(now);
        for (const e of this.entries) {
          try {
            await this.fire(e, this.svc.now());
          } catch (err) {
            this.svc.logger.error(
              { flowId: e.flow.id, environmentId: e.flow.environmentId, err: (err as Error).message },
              'schedule tick failed',
            );
          }
        }
      } catch (err) {
        this.svc.logger.error({ err: (err as Error).message }, 'scheduler tick failed');
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  private async reload(now: number): Promise<void> {
    const repos = this.svc.platform.ctx.store.repos;
    const entries: Entry[] = [];
    const keys = new Set<string>();
    for (const env of await repos.environments.list()) {
      for (const flow of await repos.flows.list(env.id)) {
        if (flow.state !== 'On') continue;
        const rt = recurrenceTrigger(flow.definition);
        if (!rt) continue;
        const key = `${flow.environmentId}:${flow.id}`;
        try {
          const spec = parseRecurrence(rt.trigger);
          const hash = createHash('sha256')
            .update(JSON.stringify([rt.name, rt.trigger.recurrence ?? null]))
            .digest('hex')
            .slice(0, 32);
          entries.push({ flow, key, spec, hash });
          keys.add(key);
        } catch (e) {
          if (!this.invalidLogged.has(key)) {
            this.invalidLogged.add(key);
            this.svc.logger.warn(
              {
                flowId: flow.id,
                environmentId: flow.environmentId,
                code: isPatchbayError(e) ? e.code : 'RECURRENCE_INVALID',
                err: (e as Error).message,
              },
              'flow has an invalid recurrence; it is not scheduled',
            );
          }
        }
      }
    }
    // Schedules of flows that are no longer On (or lost their Recurrence trigger) start afresh when they come back.
    for (const s of await repos.schedules.list()) if (!keys.has(s.key)) await repos.schedules.delete(s.key);
    this.entries = entries;
    this.loadedAt = now;
  }

  private async fire(e: Entry, now: number): Promise<void> {
    const repos = this.svc.platform.ctx.store.repos;
    const nowIso = new Date(now).toISOString();
    let row: ScheduleRecord | undefined = await repos.schedules.ensure({
      key: e.key,
      environmentId: e.flow.environmentId,
      flowId: e.flow.id,
      specHash: e.hash,
      anchor: nowIso,
      lastOccurrence: nowIso,
      updatedOn: nowIso,
    });
    if (row.specHash !== e.hash) {
      await repos.schedules.reset({
        ...row,
        specHash: e.hash,
        anchor: nowIso,
        lastOccurrence: nowIso,
        updatedOn: nowIso,
      });
      this.svc.logger.info(
        { flowId: e.flow.id, environmentId: e.flow.environmentId },
        'recurrence changed; schedule restarts now',
      );
      return;
    }
    const rec = new Recurrence(e.spec, Date.parse(row.anchor));
    for (let guard = 0; row && guard < 1000; guard++) {
      const last = Date.parse(row.lastOccurrence);
      const next = rec.next(last);
      if (next === undefined || next > now) return;
      let target = next;
      // Downtime: every due occurrence collapses into the most recent one.
      if (now - next > this.svc.config.missedGraceMs) target = rec.latest(now) ?? next;
      const targetIso = new Date(target).toISOString();
      const from = row.lastOccurrence;
      const fired = await this.svc.platform.ctx.store.transaction(async (tx) => {
        if (!(await tx.schedules.advance(e.key, from, targetIso, nowIso))) return false;
        await this.svc.insertQueuedRun(tx, {
          runId: occurrenceRunId(e.flow.environmentId, e.flow.id, targetIso),
          flow: e.flow,
          request: {
            trigger: { scheduledTime: targetIso },
            startedBy: 'recurrence',
            actorId: e.flow.ownerId,
            flowName: e.flow.name,
            seed: randomInt(0, 2 ** 32),
            depth: 0,
            enqueuedAt: nowIso,
          },
        });
        return true;
      });
      if (fired) {
        this.svc.queue.nudge();
        this.svc.metrics.schedulesFired.inc();
        const skipped = target !== next ? 'missed occurrences collapsed into one' : undefined;
        this.svc.logger.info(
          {
            flowId: e.flow.id,
            environmentId: e.flow.environmentId,
            occurrence: targetIso,
            ...(skipped ? { firstMissed: new Date(next).toISOString(), note: skipped } : {}),
          },
          'recurrence fired',
        );
      }
      row = await repos.schedules.get(e.key);
    }
  }
}
