/**
 * The run history view of a run state: what storage keeps and what the CLI, API and UI show.
 * Secure inputs/outputs (`runtimeConfiguration.secureData`, and inputs that read secure data) are
 * replaced by `REDACTED` and flagged, so secrets never reach the history (design §2 invariant 5).
 */
import type { ActionRecord, ActionStatus, RunError, RunResponse, RunState, RunStatus, TriggerRecord } from './types.js';

/** What replaces a secure value in the history. */
export const REDACTED = '[redacted: secure data]';

/** One action record as the history keeps it (redacted, without engine-internal fields). */
export interface HistoryActionRecord {
  name: string;
  type: string;
  status: ActionStatus;
  code?: string;
  startTime?: string;
  endTime?: string;
  /** Milliseconds between start and end, when both are known. */
  durationMs?: number;
  inputs?: unknown;
  outputs?: unknown;
  error?: RunError;
  repetition?: ActionRecord['repetition'];
  attempts?: ActionRecord['attempts'];
  iterations?: ActionRecord['iterations'];
  /** Which parts were redacted. */
  secure?: ActionRecord['secure'];
  trackedProperties?: Record<string, unknown>;
  /** Enclosing container action. */
  parent?: string;
}

/** A run as the history keeps it. Serialisable; times ISO 8601. */
export interface RunRecord {
  runId: string;
  workflowId: string;
  status: RunStatus;
  startTime: string;
  endTime?: string;
  durationMs?: number;
  trigger: TriggerRecord;
  /** Every action execution, in start order (loop iterations give one record per iteration). */
  actions: HistoryActionRecord[];
  response?: Omit<RunResponse, 'action'> & { action: string; secure?: boolean };
  error?: RunError;
  outputs?: Record<string, unknown>;
  /** Action (or `cancel`) that ended the run early. */
  terminatedBy?: string;
}

function duration(start?: string, end?: string): number | undefined {
  if (!start || !end) return undefined;
  if (start === end) return 0;
  return Date.parse(end) - Date.parse(start);
}

/** The history record of one action execution (redacted). */
export function historyAction(rec: ActionRecord): HistoryActionRecord {
  const out: HistoryActionRecord = { name: rec.name, type: rec.type, status: rec.status };
  if (rec.code !== undefined) out.code = rec.code;
  if (rec.startTime !== undefined) out.startTime = rec.startTime;
  if (rec.endTime !== undefined) out.endTime = rec.endTime;
  const d = duration(rec.startTime, rec.endTime);
  if (d !== undefined) out.durationMs = d;
  const secureIn = rec.secure?.inputs === true;
  const secureOut = rec.secure?.outputs === true;
  if (rec.inputs !== undefined) out.inputs = secureIn ? REDACTED : rec.inputs;
  if (rec.outputs !== undefined) out.outputs = secureOut ? REDACTED : rec.outputs;
  if (rec.error) out.error = secureIn || secureOut ? { code: rec.error.code, message: REDACTED } : rec.error;
  if (rec.repetition) out.repetition = rec.repetition;
  if (rec.attempts)
    out.attempts =
      secureIn || secureOut
        ? rec.attempts.map((a) => (a.error ? { ...a, error: { code: a.error.code, message: REDACTED } } : a))
        : rec.attempts;
  if (rec.iterations) out.iterations = rec.iterations;
  if (rec.secure) out.secure = rec.secure;
  if (rec.trackedProperties)
    out.trackedProperties = secureIn || secureOut ? { redacted: REDACTED } : rec.trackedProperties;
  if (rec.parent !== undefined) out.parent = rec.parent;
  return out;
}

/** The redacted history view of a run state. */
export function runRecord(state: RunState): RunRecord {
  const trigger: TriggerRecord = state.trigger.secure
    ? {
        ...state.trigger,
        ...(state.trigger.secure.inputs && state.trigger.inputs !== undefined ? { inputs: REDACTED } : {}),
        ...(state.trigger.secure.outputs ? { outputs: { body: REDACTED } } : {}),
      }
    : state.trigger;
  const out: RunRecord = {
    runId: state.runId,
    workflowId: state.workflow.id,
    status: state.status,
    startTime: state.startTime,
    trigger,
    actions: state.records.map(historyAction),
  };
  if (state.endTime) {
    out.endTime = state.endTime;
    out.durationMs = duration(state.startTime, state.endTime);
  }
  if (state.response) {
    const idx = state.latest[state.response.action];
    const secure = idx !== undefined && state.records[idx]?.secure?.inputs === true;
    out.response = secure ? { ...state.response, headers: {}, body: REDACTED, secure: true } : state.response;
  }
  if (state.error) out.error = state.error;
  if (state.outputs) out.outputs = state.outputs;
  if (state.terminatedBy) out.terminatedBy = state.terminatedBy;
  return out;
}

/** Compact outcome of a run: the `--json` shape of `patchbay flow test` and `flow run`. */
export interface RunSummary {
  runId: string;
  status: RunStatus;
  error?: RunError;
  response?: { statusCode: number; headers: Record<string, string>; body: unknown };
  /** Definition outputs (`{}` when the definition has none). */
  outputs: Record<string, unknown>;
  /** Action name → status and error of its latest execution (redacted). */
  actions: Record<string, { status: ActionStatus; error?: RunError; repetitions?: number }>;
}

/** Summarises a run (redacted): status, response, outputs, and each action's latest status and error. Pass `record` when you already have it. */
export function summarizeRun(state: RunState, record?: RunRecord): RunSummary {
  return summarizeRecord(record ?? runRecord(state));
}

/** Summarises a stored history record (see {@link summarizeRun}). */
export function summarizeRecord(rec: RunRecord): RunSummary {
  const actions: RunSummary['actions'] = {};
  const counts: Record<string, number> = {};
  for (const a of rec.actions) counts[a.name] = (counts[a.name] ?? 0) + 1;
  for (const a of rec.actions) {
    const entry: RunSummary['actions'][string] = { status: a.status };
    if (a.error) entry.error = a.error;
    if ((counts[a.name] ?? 0) > 1) entry.repetitions = counts[a.name];
    actions[a.name] = entry;
  }
  const out: RunSummary = { runId: rec.runId, status: rec.status, outputs: rec.outputs ?? {}, actions };
  if (rec.error) out.error = rec.error;
  if (rec.response)
    out.response = { statusCode: rec.response.statusCode, headers: rec.response.headers, body: rec.response.body };
  return out;
}
