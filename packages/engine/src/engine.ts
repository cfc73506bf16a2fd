/**
 * The interpreter: `startRun(plan, runStarted)` and `step(plan, state, event)` return the new run
 * state and the commands to carry out. Pure and deterministic: time comes from the event (`at`),
 * randomness from the seeded generator in the state, ids from a counter in the state, so folding
 * a stored event log with `replay` rebuilds the same state.
 *
 * Built-in actions (Compose, variables, Select, Query, Join, Table, ParseJson, If, Switch, Foreach,
 * Until, Scope, Terminate, Response) run inside the step; Http, connector and child-flow actions
 * become `executeAction` commands; Delay/Wait, retry waits and action timeouts become timers.
 * Semantics: wdl-spec.md §3–§4; choices where the docs are silent: docs/engine.md.
 */
import { invalid } from '@patchbay/core';
import { EvalContext } from './context.js';
import { addUnits, parseDuration } from './duration.js';
import { CONTAINER_KINDS, type CompiledCondition, type Plan, type PlanAction } from './plan.js';
import { validateSchema } from './schema.js';
import type {
  ActionRecord,
  ActionResult,
  ActionStatus,
  EngineCommand,
  ExecuteActionCommand,
  FrameState,
  RetryPolicy,
  RunError,
  RunEvent,
  RunStartedEvent,
  RunState,
  RunStatus,
  StaticResult,
  StepResult,
  TriggerInput,
  TriggerRecord,
  VariableType,
} from './types.js';

/** Error of a failed container or run (Logic Apps wording). */
export const ACTION_FAILED: RunError = {
  code: 'ActionFailed',
  message: 'An action failed. No dependent actions succeeded.',
};

const TERMINAL = new Set<ActionStatus>(['Succeeded', 'Failed', 'Skipped', 'TimedOut', 'Cancelled', 'Aborted']);

/** True for the statuses an action ends in. */
export function isTerminalStatus(s: ActionStatus): boolean {
  return TERMINAL.has(s);
}

type Task =
  { t: 'start'; frame: number; name: string } | { t: 'terminal'; record: number } | { t: 'frameDone'; frame: number };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseAt(at: string): number {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw invalid('INVALID_EVENT', `event time '${at}' is not an ISO 8601 instant`, { at });
  return ms;
}

const HTTP_REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'NoContent',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  408: 'RequestTimeout',
  409: 'Conflict',
  412: 'PreconditionFailed',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'UnprocessableEntity',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  501: 'NotImplemented',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

/** Logic Apps status code name for an HTTP status (`404` → `NotFound`); unknown codes stay numeric text. */
export function httpCodeName(status: number): string {
  return HTTP_REASONS[status] ?? String(status);
}

/** Default retry policy of Http and connector actions (wdl-spec §4: exponential, 4 retries, PT7S, min PT5S, max PT1H). */
export const DEFAULT_RETRY: RetryPolicy = {
  type: 'exponential',
  count: 4,
  intervalMs: 7000,
  minimumIntervalMs: 5000,
  maximumIntervalMs: 3_600_000,
};

/**
 * Reads `inputs.retryPolicy` (`none`, `fixed`, `exponential`, absent/`default`).
 * Throws `INVALID_RETRY_POLICY` for a malformed policy.
 */
export function parseRetryPolicy(raw: unknown, fallback: RetryPolicy): RetryPolicy {
  if (raw === undefined || raw === null) return fallback;
  if (!isObject(raw)) throw invalid('INVALID_RETRY_POLICY', 'retryPolicy must be an object', {});
  const type = String(raw.type ?? 'default').toLowerCase();
  if (type === 'default') return DEFAULT_RETRY;
  if (type === 'none') return { type: 'none' };
  const count = Number(raw.count ?? 4);
  if (!Number.isInteger(count) || count < 0 || count > 90)
    throw invalid('INVALID_RETRY_POLICY', 'retryPolicy.count must be an integer between 1 and 90', {
      count: raw.count,
    });
  const intervalMs = parseDuration(raw.interval ?? 'PT7S', 'retryPolicy.interval');
  if (type === 'fixed') return { type: 'fixed', count, intervalMs };
  if (type === 'exponential') {
    return {
      type: 'exponential',
      count,
      intervalMs,
      minimumIntervalMs:
        raw.minimumInterval !== undefined ? parseDuration(raw.minimumInterval, 'retryPolicy.minimumInterval') : 5000,
      maximumIntervalMs:
        raw.maximumInterval !== undefined
          ? parseDuration(raw.maximumInterval, 'retryPolicy.maximumInterval')
          : 86_400_000,
    };
  }
  throw invalid(
    'INVALID_RETRY_POLICY',
    `retryPolicy.type '${String(raw.type)}' is not one of default, none, fixed, exponential`,
    { type: raw.type },
  );
}

/** `Retry-After` header (delta seconds or HTTP date) in ms from `nowMs`, or undefined. */
export function retryAfterMs(headers: Record<string, string> | undefined, nowMs: number): number | undefined {
  if (!headers) return undefined;
  let v: string | undefined;
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'retry-after') v = headers[k];
  if (v === undefined) return undefined;
  const trimmed = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function normaliseType(t: unknown): VariableType | undefined {
  switch (String(t).toLowerCase()) {
    case 'boolean':
    case 'bool':
      return 'Boolean';
    case 'integer':
    case 'int':
      return 'Integer';
    case 'float':
      return 'Float';
    case 'string':
      return 'String';
    case 'array':
      return 'Array';
    case 'object':
      return 'Object';
    default:
      return undefined;
  }
}

function defaultFor(type: VariableType): unknown {
  switch (type) {
    case 'Boolean':
      return false;
    case 'Integer':
    case 'Float':
      return 0;
    case 'String':
      return '';
    case 'Array':
      return [];
    case 'Object':
      return {};
  }
}

function valueMatches(type: VariableType, v: unknown): boolean {
  if (v === null) return true;
  switch (type) {
    case 'Boolean':
      return typeof v === 'boolean';
    case 'Integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'Float':
      return typeof v === 'number';
    case 'String':
      return typeof v === 'string';
    case 'Array':
      return Array.isArray(v);
    case 'Object':
      return isObject(v);
  }
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'Null';
  if (Array.isArray(v)) return 'Array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'Integer' : 'Float';
  if (typeof v === 'string') return 'String';
  if (typeof v === 'boolean') return 'Boolean';
  return 'Object';
}

/** Text of a value where a string is expected (Join, Table, AppendToStringVariable): strings as is, null empty, others JSON. */
export function textOf(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function htmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * Values kept in the run state must survive JSON: 64-bit integers that the expression language
 * returns as `bigint` (e.g. `ticks()`) become numbers (exact up to 2^53). Copies only what changes.
 */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const y = typeof x === 'bigint' || (typeof x === 'object' && x !== null) ? jsonSafe(x) : x;
      if (y !== x) (out ??= v.slice())[i] = y;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    const y = typeof x === 'bigint' || (typeof x === 'object' && x !== null) ? jsonSafe(x) : x;
    if (y !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = y;
  }
  return out ?? v;
}

/** Inputs that read secure data are secure, and so are the outputs computed from them. */
function markSecure(rec: ActionRecord): void {
  const s = (rec.secure ??= {});
  s.inputs = true;
  s.outputs = true;
}

class TemplateError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs one step over a state. Mutates `state`; collects commands. */
class Driver {
  readonly commands: EngineCommand[] = [];
  private readonly queue: Task[] = [];
  private head = 0;
  readonly ctx: EvalContext;
  readonly now: string;

  constructor(
    readonly plan: Plan,
    readonly state: RunState,
    at: string,
  ) {
    this.now = at;
    state.now = at;
    this.ctx = new EvalContext(plan, state, parseAt(at));
  }

  // ---------------------------------------------------------------- queue

  run(): void {
    while (this.head < this.queue.length) {
      if (this.state.status !== 'Running') break;
      const task = this.queue[this.head++]!;
      if (task.t === 'start') this.startAction(task.frame, task.name);
      else if (task.t === 'terminal') this.onTerminal(task.record);
      else this.onFrameDone(task.frame);
    }
    this.queue.length = 0;
    this.head = 0;
  }

  private nextId(prefix: string): string {
    this.state.seq++;
    return `${prefix}${this.state.seq}`;
  }

  // ---------------------------------------------------------------- frames

  createFrame(init: Omit<FrameState, 'id' | 'children' | 'open' | 'startTime'>): number {
    const block = this.plan.blocks.get(init.block)!;
    const id = this.state.frames.length;
    const frame: FrameState = { id, children: {}, open: block.actions.length, startTime: this.now, ...init };
    const parent = init.parent !== null ? this.state.frames[init.parent] : undefined;
    if (init.loopName !== undefined)
      frame.repetition = [...(parent?.repetition ?? []), { loop: init.loopName, index: init.index ?? 0 }];
    else if (parent?.repetition) frame.repetition = parent.repetition;
    this.state.frames.push(frame);
    return id;
  }

  /** Starts the roots of a frame (or completes an empty frame). */
  openFrame(frameId: number): void {
    const frame = this.state.frames[frameId]!;
    const block = this.plan.blocks.get(frame.block)!;
    if (block.actions.length === 0) this.queue.push({ t: 'frameDone', frame: frameId });
    else for (const name of block.roots) this.queue.push({ t: 'start', frame: frameId, name });
  }

  /** Records every top-level action of a block as Skipped (a branch that was not taken). */
  skipBlock(parentFrame: number, owner: number, blockKey: string, message: (name: string) => string): number {
    const frameId = this.createFrame({ parent: parentFrame, owner, block: blockKey });
    const frame = this.state.frames[frameId]!;
    const block = this.plan.blocks.get(blockKey)!;
    for (const name of block.actions) {
      const a = this.plan.actions.get(name)!;
      const idx = this.newRecord(a, frameId);
      const rec = this.state.records[idx]!;
      rec.status = 'Skipped';
      rec.code = 'ActionBranchingConditionNotSatisfied';
      rec.error = { code: 'ActionBranchingConditionNotSatisfied', message: message(name) };
      rec.endTime = this.now;
    }
    frame.open = 0;
    frame.status = 'Skipped';
    frame.endTime = this.now;
    return frameId;
  }

  /** Effective status of a frame once all its actions are terminal (wdl-spec §4 branch rule). */
  frameStatus(frame: FrameState): ActionStatus {
    const block = this.plan.blocks.get(frame.block)!;
    if (block.actions.length === 0) return 'Succeeded';
    const memo = new Map<string, 'Succeeded' | 'Failed'>();
    const effective = (name: string): 'Succeeded' | 'Failed' => {
      const hit = memo.get(name);
      if (hit) return hit;
      const idx = frame.children[name];
      let result: 'Succeeded' | 'Failed' = 'Succeeded';
      if (idx !== undefined) {
        const status = this.state.records[idx]!.status;
        if (status === 'Skipped') {
          const a = this.plan.actions.get(name)!;
          result = a.runAfter.some((e) => effective(e.pred) === 'Failed') ? 'Failed' : 'Succeeded';
        } else if (status !== 'Succeeded') result = 'Failed';
      }
      memo.set(name, result);
      return result;
    };
    return block.terminals.some((t) => effective(t) === 'Failed') ? 'Failed' : 'Succeeded';
  }

  // ---------------------------------------------------------------- records

  newRecord(a: PlanAction, frameId: number): number {
    const frame = this.state.frames[frameId]!;
    const rec: ActionRecord = { name: a.name, type: a.type, status: 'Running', startTime: this.now, frame: frameId };
    if (a.parent !== undefined) rec.parent = a.parent;
    if (frame.repetition) rec.repetition = frame.repetition;
    const idx = this.state.records.length;
    this.state.records.push(rec);
    frame.children[a.name] = idx;
    this.state.latest[a.name] = idx;
    return idx;
  }

  finish(idx: number, status: ActionStatus, fields: { outputs?: unknown; error?: RunError; code?: string } = {}): void {
    const rec = this.state.records[idx]!;
    if (TERMINAL.has(rec.status)) return;
    rec.status = status;
    rec.endTime = this.now;
    if (fields.outputs !== undefined) rec.outputs = fields.outputs;
    if (fields.error) rec.error = fields.error;
    rec.code = fields.code ?? (status === 'Succeeded' ? 'OK' : (fields.error?.code ?? status));
    const a = this.plan.actions.get(rec.name);
    if (a?.secureOutputs) (rec.secure ??= {}).outputs = true;
    if (a?.trackedProperties && status !== 'Skipped') {
      try {
        const tp = a.trackedProperties.evaluate(this.ctx.at(rec.frame, rec));
        if (isObject(tp)) rec.trackedProperties = jsonSafe(tp) as Record<string, unknown>;
      } catch {
        // tracked properties never fail an action
      }
    }
    this.queue.push({ t: 'terminal', record: idx });
  }

  succeed(idx: number, outputs?: unknown, code = 'OK'): void {
    this.finish(idx, 'Succeeded', { outputs, code });
  }

  fail(idx: number, error: RunError, outputs?: unknown): void {
    this.finish(idx, 'Failed', { error, outputs, code: error.code });
  }

  /** Evaluates a compiled value for an action; records the taint flag on the record's inputs. */
  evaluate(value: { evaluate(ctx: EvalContext): unknown } | undefined, idx: number, what: string): unknown {
    if (!value) return undefined;
    const rec = this.state.records[idx]!;
    const ctx = this.ctx.at(rec.frame, rec);
    try {
      return jsonSafe(value.evaluate(ctx));
    } catch (e) {
      throw new TemplateError(
        'InvalidTemplate',
        `Unable to process template language expressions in action '${rec.name}' ${what}: '${(e as Error).message}'.`,
      );
    } finally {
      if (ctx.tainted) markSecure(rec);
    }
  }

  evaluateCondition(cond: CompiledCondition, idx: number, frameId: number): boolean {
    const rec = this.state.records[idx]!;
    const ctx = this.ctx.at(frameId, rec);
    let v: unknown;
    try {
      ctx.operands = cond.operands.map((o) => o.evaluate(ctx));
      v = cond.value.evaluate(ctx);
    } catch (e) {
      throw new TemplateError(
        'InvalidTemplate',
        `Unable to process template language expressions for action '${rec.name}': '${(e as Error).message}'.`,
      );
    } finally {
      ctx.operands = undefined;
    }
    if (typeof v !== 'boolean') {
      throw new TemplateError(
        'InvalidTemplate',
        `The expression of action '${rec.name}' must evaluate to a boolean; it evaluated to a value of type '${typeName(v)}'.`,
      );
    }
    return v;
  }

  // ---------------------------------------------------------------- scheduling

  private onTerminal(idx: number): void {
    const rec = this.state.records[idx]!;
    const frame = this.state.frames[rec.frame]!;
    frame.open--;
    const a = this.plan.actions.get(rec.name)!;
    for (const s of a.successors) {
      const succ = this.plan.actions.get(s)!;
      if (frame.children[s] !== undefined) continue;
      let ready = true;
      for (const e of succ.runAfter) {
        const p = frame.children[e.pred];
        if (p === undefined || !TERMINAL.has(this.state.records[p]!.status)) {
          ready = false;
          break;
        }
      }
      if (ready) this.queue.push({ t: 'start', frame: rec.frame, name: s });
    }
    if (frame.open === 0) this.queue.push({ t: 'frameDone', frame: frame.id });
  }

  private startAction(frameId: number, name: string): void {
    const frame = this.state.frames[frameId]!;
    if (frame.children[name] !== undefined) return;
    const a = this.plan.actions.get(name)!;
    // runAfter: every predecessor must have ended in one of its listed statuses.
    for (const e of a.runAfter) {
      const p = this.state.records[frame.children[e.pred]!]!;
      if (!e.statuses.includes(p.status)) {
        const idx = this.newRecord(a, frameId);
        this.finish(idx, 'Skipped', {
          code: 'ActionConditionFailed',
          error: {
            code: 'ActionConditionFailed',
            message: `The execution of template action '${name}' is skipped: the 'runAfter' condition for action '${e.pred}' is not satisfied. Expected status values '${e.statuses.join(', ')}' and actual value '${p.status}'.`,
          },
        });
        return;
      }
    }
    const idx = this.newRecord(a, frameId);
    try {
      this.execute(a, idx);
    } catch (e) {
      if (e instanceof TemplateError) this.fail(idx, { code: e.code, message: e.message });
      else if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
        this.fail(idx, { code: (e as unknown as { code: string }).code, message: e.message });
      } else throw e;
    }
  }

  private staticResultFor(a: PlanAction): StaticResult | undefined {
    const overrides = this.state.staticResults;
    const byName = overrides[a.name];
    if (byName) return byName;
    if (a.staticResultName !== undefined) {
      const r = overrides[a.staticResultName] ?? this.plan.staticResults[a.staticResultName];
      if (isObject(r)) return r as unknown as StaticResult;
    }
    return undefined;
  }

  private execute(a: PlanAction, idx: number): void {
    if (a.compileError) {
      this.fail(idx, a.compileError);
      return;
    }
    const rec = this.state.records[idx]!;
    if (a.secureInputs) (rec.secure ??= {}).inputs = true;
    if (!CONTAINER_KINDS.has(a.kind)) {
      const mock = this.staticResultFor(a);
      if (mock) {
        rec.inputs = this.evaluate(a.inputs, idx, 'inputs');
        const status = (
          ['Succeeded', 'Failed', 'Skipped', 'TimedOut', 'Cancelled'].includes(mock.status) ? mock.status : 'Succeeded'
        ) as ActionStatus;
        let error = mock.error;
        if (!error && status !== 'Succeeded' && status !== 'Skipped') {
          const errs = isObject(mock.outputs) && Array.isArray(mock.outputs.errors) ? mock.outputs.errors : [];
          const first = errs[0];
          error =
            isObject(first) && typeof first.code === 'string'
              ? { code: first.code, message: String(first.message ?? '') }
              : { code: mock.code ?? 'ActionFailed', message: `Static result of action '${a.name}' is ${status}.` };
        }
        this.finish(idx, status, {
          outputs: mock.outputs,
          error,
          code: mock.code ?? (status === 'Succeeded' ? 'OK' : error?.code),
        });
        return;
      }
    }
    switch (a.kind) {
      case 'compose': {
        const v = this.evaluate(a.inputs, idx, 'inputs');
        rec.inputs = v;
        this.succeed(idx, v);
        return;
      }
      case 'initializevariable':
        return this.initializeVariable(a, idx);
      case 'setvariable':
      case 'incrementvariable':
      case 'decrementvariable':
      case 'appendtoarrayvariable':
      case 'appendtostringvariable':
        return this.updateVariable(a, idx);
      case 'if':
        return this.startIf(a, idx);
      case 'switch':
        return this.startSwitch(a, idx);
      case 'scope': {
        const frameId = this.createFrame({ parent: rec.frame, owner: idx, block: a.blocks!.actions! });
        this.state.containers[idx] = { next: 0, active: 0, concurrency: 1, frames: [frameId] };
        this.openFrame(frameId);
        return;
      }
      case 'foreach':
        return this.startForeach(a, idx);
      case 'until':
        return this.startUntil(a, idx);
      case 'terminate':
        return this.terminate(a, idx);
      case 'response':
        return this.respond(a, idx);
      case 'query':
      case 'select':
        return this.queryOrSelect(a, idx);
      case 'join': {
        const inputs = this.evaluate(a.inputs, idx, 'inputs');
        rec.inputs = inputs;
        const from = isObject(inputs) ? inputs.from : undefined;
        if (!Array.isArray(from))
          throw new TemplateError(
            'InvalidTemplate',
            `The 'from' property of action '${a.name}' must be an array; it is of type '${typeName(from)}'.`,
          );
        const sep = isObject(inputs) ? textOf(inputs.joinWith) : '';
        this.succeed(idx, { body: from.map(textOf).join(sep) });
        return;
      }
      case 'table':
        return this.table(a, idx);
      case 'parsejson':
        return this.parseJson(a, idx);
      case 'wait':
        return this.wait(a, idx);
      case 'http':
      case 'workflow':
      case 'connector':
        return this.startCall(a, idx);
      case 'unsupported':
        this.fail(idx, {
          code: 'ActionTypeNotSupported',
          message: `Action '${a.name}' has type '${a.type}', which Patchbay does not run.`,
        });
        return;
    }
  }

  // ---------------------------------------------------------------- variables

  private initializeVariable(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    rec.inputs = inputs;
    const list = isObject(inputs) && Array.isArray(inputs.variables) ? inputs.variables : [];
    if (list.length !== 1 || !isObject(list[0])) {
      throw new TemplateError(
        'InvalidTemplate',
        `InitializeVariable '${a.name}' must declare exactly one variable in inputs.variables.`,
      );
    }
    const v = list[0];
    const name = String(v.name ?? '');
    const type = normaliseType(v.type);
    if (!name || !type)
      throw new TemplateError(
        'InvalidTemplate',
        `InitializeVariable '${a.name}' needs a name and a type (Boolean, Integer, Float, String, Array, Object).`,
      );
    if (this.state.variables[name])
      throw new TemplateError('InvalidVariableDeclaration', `The variable '${name}' is already initialized.`);
    const value = v.value === undefined ? defaultFor(type) : v.value;
    if (!valueMatches(type, value)) {
      throw new TemplateError(
        'InvalidVariableValue',
        `The variable '${name}' of type '${type}' cannot be initialized with a value of type '${typeName(value)}'.`,
      );
    }
    this.state.variables[name] = { type, value };
    this.succeed(idx, undefined);
  }

  private updateVariable(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    rec.inputs = inputs;
    const name = isObject(inputs) ? String(inputs.name ?? '') : '';
    const variable = this.state.variables[name];
    if (!variable)
      throw new TemplateError(
        'InvalidTemplate',
        `The variable '${name}' used by action '${a.name}' is not initialized; variables are declared by InitializeVariable at the top level.`,
      );
    const value = isObject(inputs) ? inputs.value : undefined;
    let next: unknown;
    switch (a.kind) {
      case 'setvariable':
        if (value === undefined) throw new TemplateError('InvalidTemplate', `SetVariable '${a.name}' needs a value.`);
        if (!valueMatches(variable.type, value)) {
          throw new TemplateError(
            'InvalidVariableValue',
            `The variable '${name}' of type '${variable.type}' cannot be set to a value of type '${typeName(value)}'.`,
          );
        }
        next = value;
        break;
      case 'incrementvariable':
      case 'decrementvariable': {
        if (variable.type !== 'Integer' && variable.type !== 'Float') {
          throw new TemplateError(
            'InvalidVariableType',
            `The variable '${name}' of type '${variable.type}' cannot be incremented or decremented; only Integer and Float can.`,
          );
        }
        const by = value === undefined || value === null ? 1 : value;
        if (typeof by !== 'number' || (variable.type === 'Integer' && !Number.isInteger(by))) {
          throw new TemplateError(
            'InvalidVariableValue',
            `The value to add to '${name}' must be ${variable.type === 'Integer' ? 'an integer' : 'a number'}; it is of type '${typeName(by)}'.`,
          );
        }
        const cur = typeof variable.value === 'number' ? variable.value : 0;
        next = a.kind === 'incrementvariable' ? cur + by : cur - by;
        break;
      }
      case 'appendtoarrayvariable':
        if (variable.type !== 'Array')
          throw new TemplateError(
            'InvalidVariableType',
            `AppendToArrayVariable needs an Array variable; '${name}' is of type '${variable.type}'.`,
          );
        next = [...(Array.isArray(variable.value) ? variable.value : []), value];
        break;
      default:
        if (variable.type !== 'String')
          throw new TemplateError(
            'InvalidVariableType',
            `AppendToStringVariable needs a String variable; '${name}' is of type '${variable.type}'.`,
          );
        next = textOf(variable.value) + textOf(value);
    }
    variable.value = next;
    this.succeed(idx, { body: { name, value: next } });
  }

  // ---------------------------------------------------------------- control

  private startIf(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const taken = this.evaluateCondition(a.condition!, idx, rec.frame);
    rec.inputs = { expressionResult: taken };
    const run = taken ? a.blocks!.actions! : a.blocks!.else!;
    const skip = taken ? a.blocks!.else! : a.blocks!.actions!;
    const frameId = this.createFrame({ parent: rec.frame, owner: idx, block: run });
    const skipped = this.skipBlock(
      rec.frame,
      idx,
      skip,
      (n) =>
        `The execution of template action '${n}' is skipped: the branching condition for this action is not satisfied.`,
    );
    this.state.containers[idx] = { next: 0, active: 0, concurrency: 1, frames: [frameId, skipped] };
    this.openFrame(frameId);
  }

  private startSwitch(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const value = this.evaluate(a.condition!.value, idx, 'expression');
    rec.inputs = value;
    const cases = a.blocks!.cases!;
    const hit = cases.find((c) => sameValue(c.value, value));
    const run = hit ? hit.block : a.blocks!.default!;
    const frameId = this.createFrame({ parent: rec.frame, owner: idx, block: run });
    const frames = [frameId];
    for (const key of [...cases.map((c) => c.block), a.blocks!.default!]) {
      if (key === run || this.plan.blocks.get(key)!.actions.length === 0) continue;
      frames.push(
        this.skipBlock(
          rec.frame,
          idx,
          key,
          (n) =>
            `The execution of template action '${n}' is skipped: the switch case for this action was not selected.`,
        ),
      );
    }
    this.state.containers[idx] = { next: 0, active: 0, concurrency: 1, frames };
    this.openFrame(frameId);
  }

  private startForeach(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const items = this.evaluate(a.foreach, idx, 'foreach');
    if (!Array.isArray(items)) {
      throw new TemplateError(
        'InvalidTemplate',
        `The value of 'foreach' of action '${a.name}' must be an array; it is of type '${typeName(items)}'.`,
      );
    }
    if (items.length > 100_000)
      throw new TemplateError('InvalidTemplate', `Foreach '${a.name}' has ${items.length} items; the limit is 100000.`);
    rec.inputs = items;
    rec.iterations = [];
    this.state.containers[idx] = { items, next: 0, active: 0, concurrency: a.concurrency ?? 1, frames: [] };
    if (items.length === 0) {
      this.succeed(idx, undefined);
      return;
    }
    this.startIterations(a, idx);
  }

  private startIterations(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const c = this.state.containers[idx]!;
    const items = c.items ?? [];
    while (c.active < c.concurrency && c.next < items.length) {
      const index = c.next++;
      c.active++;
      const frameId = this.createFrame({
        parent: rec.frame,
        owner: idx,
        block: a.blocks!.actions!,
        index,
        item: items[index],
        loopName: a.name,
        loopKind: 'foreach',
      });
      c.frames[index] = frameId;
      rec.iterations!.push({ index, status: 'Running', startTime: this.now });
      this.openFrame(frameId);
    }
  }

  private startUntil(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    rec.iterations = [];
    rec.inputs = {
      limit: { count: a.limitCount, timeout: a.def.limit && isObject(a.def.limit) ? a.def.limit.timeout : 'PT1H' },
    };
    this.state.containers[idx] = {
      next: 0,
      active: 0,
      concurrency: 1,
      frames: [],
      startedAt: this.ctx.nowMs,
      limitCount: a.limitCount,
      limitTimeoutMs: a.timeoutMs,
    };
    this.startUntilIteration(a, idx);
  }

  private startUntilIteration(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const c = this.state.containers[idx]!;
    const index = c.next++;
    c.active = 1;
    const frameId = this.createFrame({
      parent: rec.frame,
      owner: idx,
      block: a.blocks!.actions!,
      index,
      loopName: a.name,
      loopKind: 'until',
    });
    c.frames[index] = frameId;
    rec.iterations!.push({ index, status: 'Running', startTime: this.now });
    this.openFrame(frameId);
  }

  private onFrameDone(frameId: number): void {
    const frame = this.state.frames[frameId]!;
    if (frame.status !== undefined) return;
    frame.status = this.frameStatus(frame);
    frame.endTime = this.now;
    if (frame.owner === null) {
      this.finishRun(
        frame.status === 'Succeeded' ? 'Succeeded' : 'Failed',
        frame.status === 'Succeeded' ? undefined : ACTION_FAILED,
      );
      return;
    }
    const idx = frame.owner;
    const rec = this.state.records[idx]!;
    if (TERMINAL.has(rec.status)) return;
    const a = this.plan.actions.get(rec.name)!;
    const c = this.state.containers[idx]!;
    if (a.kind === 'foreach' || a.kind === 'until') {
      const it = rec.iterations!.find((i) => i.index === frame.index);
      if (it) {
        it.status = frame.status;
        it.endTime = this.now;
      }
      if (frame.status !== 'Succeeded') c.failed = true;
      c.active--;
      if (a.kind === 'foreach') {
        if (c.next < (c.items?.length ?? 0)) this.startIterations(a, idx);
        else if (c.active === 0) {
          if (c.failed) this.fail(idx, ACTION_FAILED);
          else this.succeed(idx, undefined);
        }
        return;
      }
      // Until: do/while — check the condition after each pass, then the limits.
      let done: boolean;
      try {
        done = this.evaluateCondition(a.condition!, idx, frameId);
      } catch (e) {
        this.fail(idx, { code: (e as TemplateError).code ?? 'InvalidTemplate', message: (e as Error).message });
        return;
      }
      const lastOk = frame.status === 'Succeeded';
      if (done) {
        if (lastOk) this.succeed(idx, undefined);
        else this.fail(idx, ACTION_FAILED);
        return;
      }
      const countReached = c.next >= (c.limitCount ?? 60);
      const timedOut = c.limitTimeoutMs !== undefined && this.ctx.nowMs - (c.startedAt ?? 0) >= c.limitTimeoutMs;
      if (countReached || timedOut) {
        if (a.operationOptions.includes('failwhenlimitsreached')) {
          this.fail(idx, {
            code: 'UntilLimitsReached',
            message: `The 'until' loop '${a.name}' reached its ${countReached ? `count limit of ${c.limitCount}` : 'timeout'} before its condition became true.`,
          });
        } else if (lastOk) this.succeed(idx, undefined);
        else this.fail(idx, ACTION_FAILED);
        return;
      }
      this.startUntilIteration(a, idx);
      return;
    }
    // Scope, If, Switch: the status of the executed block.
    void c;
    if (frame.status === 'Succeeded') this.succeed(idx, undefined);
    else this.fail(idx, ACTION_FAILED);
  }

  // ---------------------------------------------------------------- Terminate, Response, data actions

  private terminate(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    rec.inputs = inputs;
    const raw = isObject(inputs) ? String(inputs.runStatus ?? '') : '';
    const status = ({ succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' } as Record<string, RunStatus>)[
      raw.toLowerCase()
    ];
    if (!status)
      throw new TemplateError(
        'InvalidTemplate',
        `Terminate '${a.name}' needs runStatus Succeeded, Failed or Cancelled; got '${raw}'.`,
      );
    let error: RunError | undefined;
    if (status === 'Failed') {
      const re = isObject(inputs) && isObject(inputs.runError) ? inputs.runError : {};
      error = {
        code: re.code !== undefined && re.code !== null && re.code !== '' ? textOf(re.code) : 'Terminated',
        message: textOf(re.message),
      };
    }
    const r = this.state.records[idx]!;
    r.status = 'Succeeded';
    r.code = 'OK';
    r.endTime = this.now;
    this.terminateRun(status as Exclude<RunStatus, 'Running' | 'Skipped'>, error, a.name);
  }

  /** Ends the run now: cancels in-flight actions and timers, leaves pending actions unrun. */
  terminateRun(status: 'Succeeded' | 'Failed' | 'Cancelled', error: RunError | undefined, by: string): void {
    const st = this.state;
    for (const [callId, call] of Object.entries(st.calls)) {
      this.commands.push({ type: 'cancelAction', callId });
      if (call.timeoutTimer) this.commands.push({ type: 'cancelTimer', timerId: call.timeoutTimer });
      if (call.retryTimer) this.commands.push({ type: 'cancelTimer', timerId: call.retryTimer });
    }
    for (const timerId of Object.keys(st.timers)) {
      if (!this.commands.some((c) => c.type === 'cancelTimer' && c.timerId === timerId))
        this.commands.push({ type: 'cancelTimer', timerId });
    }
    st.calls = {};
    st.timers = {};
    for (const rec of st.records) {
      if (!TERMINAL.has(rec.status)) {
        rec.status = 'Cancelled';
        rec.code = 'Cancelled';
        rec.endTime = this.now;
        rec.error = { code: 'Cancelled', message: `The action was cancelled because the run was ended by '${by}'.` };
        for (const it of rec.iterations ?? []) {
          if (!TERMINAL.has(it.status)) {
            it.status = 'Cancelled';
            it.endTime = this.now;
          }
        }
      }
    }
    st.terminatedBy = by;
    this.finishRun(status, error);
  }

  finishRun(status: Exclude<RunStatus, 'Running'>, error?: RunError): void {
    const st = this.state;
    if (st.status !== 'Running') return;
    st.status = status;
    st.endTime = this.now;
    if (error) st.error = error;
    if (this.plan.outputs.length > 0 && status !== 'Skipped') {
      const outputs: Record<string, unknown> = {};
      for (const o of this.plan.outputs) {
        try {
          outputs[o.name] = jsonSafe(o.value.evaluate(this.ctx.at(0, undefined)));
        } catch (e) {
          outputs[o.name] = null;
          void e;
        }
      }
      st.outputs = outputs;
    }
    this.commands.push({
      type: 'finish',
      status,
      ...(error ? { error } : {}),
      ...(st.outputs ? { outputs: st.outputs } : {}),
    });
  }

  private respond(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    rec.inputs = inputs;
    const i = isObject(inputs) ? inputs : {};
    const statusCode =
      i.statusCode === undefined || i.statusCode === null || i.statusCode === '' ? 200 : Number(i.statusCode);
    if (
      !Number.isInteger(statusCode) ||
      statusCode < 100 ||
      statusCode > 599 ||
      (statusCode >= 300 && statusCode < 400)
    ) {
      throw new TemplateError(
        'InvalidResponseStatusCode',
        `Response '${a.name}' has status code '${textOf(i.statusCode)}'; it must be an integer in 100–599 and not a 3xx redirect.`,
      );
    }
    if (this.state.response) {
      this.fail(idx, {
        code: 'ResponseAlreadySent',
        message: `Response '${a.name}' cannot answer: action '${this.state.response.action}' already answered the request.`,
      });
      return;
    }
    const headers: Record<string, string> = {};
    if (isObject(i.headers)) for (const [k, v] of Object.entries(i.headers)) headers[k] = textOf(v);
    const body = i.body === undefined ? null : i.body;
    this.state.response = { action: a.name, statusCode, headers, body };
    this.commands.push({ type: 'respond', action: a.name, statusCode, headers, body });
    this.succeed(idx, { statusCode, headers, body });
  }

  private queryOrSelect(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    const from = isObject(inputs) ? inputs.from : undefined;
    const raw = isObject(a.def.inputs) ? a.def.inputs : {};
    rec.inputs = a.kind === 'select' ? { from, select: raw.select } : { from, where: raw.where };
    if (!Array.isArray(from))
      throw new TemplateError(
        'InvalidTemplate',
        `The 'from' property of action '${a.name}' must be an array; it is of type '${typeName(from)}'.`,
      );
    const ctx = this.ctx.at(rec.frame, rec);
    const out: unknown[] = [];
    try {
      for (const item of from) {
        ctx.hasItem = true;
        ctx.itemValue = item;
        const v = a.perItem!.evaluate(ctx);
        if (a.kind === 'select') out.push(jsonSafe(v));
        else {
          if (typeof v !== 'boolean')
            throw new Error(
              `the 'where' expression must evaluate to a boolean; it evaluated to a value of type '${typeName(v)}'`,
            );
          if (v) out.push(item);
        }
      }
    } catch (e) {
      throw new TemplateError(
        'InvalidTemplate',
        `Unable to process template language expressions in action '${a.name}' inputs: '${(e as Error).message}'.`,
      );
    } finally {
      ctx.hasItem = false;
      if (ctx.tainted) markSecure(rec);
    }
    this.succeed(idx, { body: out });
  }

  private table(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    rec.inputs =
      isObject(a.def.inputs) && a.def.inputs.columns !== undefined && isObject(inputs)
        ? { ...inputs, columns: a.def.inputs.columns }
        : inputs;
    const i = isObject(inputs) ? inputs : {};
    const format = String(i.format ?? 'CSV').toUpperCase();
    if (format !== 'CSV' && format !== 'HTML')
      throw new TemplateError(
        'InvalidTemplate',
        `Table '${a.name}' format must be CSV or HTML; got '${textOf(i.format)}'.`,
      );
    const from = i.from;
    if (!Array.isArray(from))
      throw new TemplateError(
        'InvalidTemplate',
        `The 'from' property of action '${a.name}' must be an array; it is of type '${typeName(from)}'.`,
      );
    let headers: string[];
    let rows: string[][];
    if (a.tableColumns) {
      headers = a.tableColumns.map((c) => c.header);
      const ctx = this.ctx.at(rec.frame, rec);
      try {
        rows = from.map((item) => {
          ctx.hasItem = true;
          ctx.itemValue = item;
          return a.tableColumns!.map((c) => textOf(c.value.evaluate(ctx)));
        });
      } catch (e) {
        throw new TemplateError(
          'InvalidTemplate',
          `Unable to process template language expressions in action '${a.name}' columns: '${(e as Error).message}'.`,
        );
      } finally {
        ctx.hasItem = false;
        if (ctx.tainted) markSecure(rec);
      }
    } else {
      const keys: string[] = [];
      for (const item of from)
        if (isObject(item)) for (const k of Object.keys(item)) if (!keys.includes(k)) keys.push(k);
      headers = keys;
      rows = from.map((item) => keys.map((k) => textOf(isObject(item) ? item[k] : undefined)));
    }
    let body: string;
    if (format === 'CSV') {
      body = [headers, ...rows].map((r) => r.map(csvField).join(',') + '\r\n').join('');
    } else {
      const head = `<thead><tr>${headers.map((h) => `<th>${htmlEscape(h)}</th>`).join('')}</tr></thead>`;
      const bodyRows = rows.map((r) => `<tr>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`).join('');
      body = `<table>${head}<tbody>${bodyRows}</tbody></table>`;
    }
    this.succeed(idx, { body });
  }

  private parseJson(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    rec.inputs = inputs;
    const i = isObject(inputs) ? inputs : {};
    let content = i.content;
    if (typeof content === 'string') {
      try {
        content = JSON.parse(content);
      } catch (e) {
        this.fail(idx, {
          code: 'InvalidJSON',
          message: `ParseJson '${a.name}': the content is not valid JSON: ${(e as Error).message}`,
        });
        return;
      }
    }
    const errors = validateSchema(content, i.schema);
    if (errors.length > 0) {
      this.fail(
        idx,
        {
          code: 'ValidationFailed',
          message: `The schema validation failed. ${errors.map((e) => (e.path ? `${e.path}: ` : '') + e.message).join(' ')}`,
        },
        { errors },
      );
      return;
    }
    this.succeed(idx, { body: content });
  }

  private wait(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const inputs = this.evaluate(a.inputs, idx, 'inputs');
    rec.inputs = inputs;
    const i = isObject(inputs) ? inputs : {};
    let due: number;
    if (isObject(i.interval)) {
      const count = Number(i.interval.count);
      if (!Number.isFinite(count))
        throw new TemplateError('InvalidTemplate', `Delay '${a.name}' interval.count must be a number.`);
      try {
        due = addUnits(this.ctx.nowMs, count, String(i.interval.unit ?? 'Second'));
      } catch (e) {
        throw new TemplateError('InvalidTemplate', (e as Error).message);
      }
    } else if (isObject(i.until)) {
      due = Date.parse(String(i.until.timestamp));
      if (Number.isNaN(due))
        throw new TemplateError(
          'InvalidTemplate',
          `Delay until '${a.name}' needs an ISO 8601 timestamp; got '${textOf(i.until.timestamp)}'.`,
        );
    } else
      throw new TemplateError(
        'InvalidTemplate',
        `Wait '${a.name}' needs inputs.interval {count, unit} or inputs.until {timestamp}.`,
      );
    if (due <= this.ctx.nowMs) {
      this.succeed(idx, undefined);
      return;
    }
    const timerId = this.nextId('t');
    this.state.timers[timerId] = { reason: 'delay', record: idx };
    this.commands.push({
      type: 'startTimer',
      timerId,
      dueAt: new Date(due).toISOString(),
      reason: 'delay',
      action: a.name,
    });
  }

  // ---------------------------------------------------------------- I/O actions

  private startCall(a: PlanAction, idx: number): void {
    const rec = this.state.records[idx]!;
    const evaluated = this.evaluate(a.inputs, idx, 'inputs');
    const inputs = isObject(evaluated) ? evaluated : {};
    rec.inputs = a.host
      ? { host: a.host, ...inputs }
      : a.kind === 'workflow' && isObject(a.def.inputs)
        ? { host: a.def.inputs.host, ...inputs }
        : inputs;
    let retry: RetryPolicy;
    try {
      retry = parseRetryPolicy(inputs.retryPolicy, a.kind === 'workflow' ? { type: 'none' } : DEFAULT_RETRY);
    } catch (e) {
      throw new TemplateError('InvalidTemplate', `Action '${a.name}': ${(e as Error).message}`);
    }
    const operation = a.kind === 'http' ? 'http' : a.kind === 'workflow' ? 'workflow' : 'connector';
    if (operation === 'http') {
      if (typeof inputs.method !== 'string' || typeof inputs.uri !== 'string' || inputs.uri === '') {
        throw new TemplateError(
          'InvalidTemplate',
          `Http action '${a.name}' needs inputs.method and inputs.uri as strings.`,
        );
      }
    }
    if (operation === 'workflow' && !a.workflowId) {
      throw new TemplateError(
        'InvalidTemplate',
        `Workflow action '${a.name}' needs inputs.host.workflowReferenceName (or host.workflow.id).`,
      );
    }
    const callId = this.nextId('c');
    const command: ExecuteActionCommand = {
      type: 'executeAction',
      callId,
      operation,
      action: a.name,
      actionType: a.type,
      inputs,
      attempt: 1,
    };
    if (a.host) command.host = a.host;
    if (a.connectionName !== undefined) command.connectionName = a.connectionName;
    if (a.workflowId !== undefined) command.workflowId = a.workflowId;
    if (rec.repetition) command.repetition = rec.repetition;
    const call: RunState['calls'][string] = { record: idx, attempt: 1, command, retry, attemptStart: this.now };
    this.state.calls[callId] = call;
    if (a.timeoutMs !== undefined) {
      const timerId = this.nextId('t');
      call.timeoutTimer = timerId;
      this.state.timers[timerId] = { reason: 'timeout', record: idx, callId };
      this.commands.push({
        type: 'startTimer',
        timerId,
        dueAt: new Date(this.ctx.nowMs + a.timeoutMs).toISOString(),
        reason: 'timeout',
        action: a.name,
      });
    }
    this.commands.push(command);
  }

  /**
   * Http async pattern (Logic Apps default): a 202 answer with a `Location` header means "not done
   * yet": poll that URL with GET after `Retry-After` (default 10 s) until the answer is not a 202.
   * Off with `operationOptions: "DisableAsyncPattern"`. Returns true when polling continues.
   */
  private startPolling(callId: string, result: Extract<ActionResult, { kind: 'http' }>): boolean {
    const call = this.state.calls[callId]!;
    if (call.command.operation !== 'http' || result.statusCode !== 202) return false;
    const a = this.plan.actions.get(call.command.action);
    if (!a || a.operationOptions.includes('disableasyncpattern')) return false;
    let location: string | undefined;
    for (const [k, v] of Object.entries(result.headers ?? {})) if (k.toLowerCase() === 'location') location = v;
    if (!location || (call.polls ?? 0) >= 10_000) return false;
    let uri: string;
    try {
      uri = new URL(location, String(call.command.inputs.uri)).href;
    } catch {
      return false;
    }
    call.polls = (call.polls ?? 0) + 1;
    const inputs: Record<string, unknown> = { method: 'GET', uri };
    if (call.command.inputs.authentication !== undefined) inputs.authentication = call.command.inputs.authentication;
    call.command = { ...call.command, inputs };
    const delay = retryAfterMs(result.headers, this.ctx.nowMs) ?? 10_000;
    const timerId = this.nextId('t');
    call.retryTimer = timerId;
    this.state.timers[timerId] = { reason: 'poll', record: call.record, callId };
    this.commands.push({
      type: 'startTimer',
      timerId,
      dueAt: new Date(this.ctx.nowMs + delay).toISOString(),
      reason: 'poll',
      action: call.command.action,
    });
    return true;
  }

  /** Delay before retry number `k` (1-based) under a policy. */
  private retryDelay(policy: RetryPolicy, k: number): number {
    if (policy.type === 'fixed') return policy.intervalMs;
    if (policy.type !== 'exponential') return 0;
    const low = Math.max(k === 1 ? 0 : 2 ** (k - 2) * policy.intervalMs, policy.minimumIntervalMs);
    const high = Math.max(low, Math.min(2 ** (k - 1) * policy.intervalMs, policy.maximumIntervalMs));
    return Math.round(low + this.ctx.random() * (high - low));
  }

  onActionCompleted(callId: string, result: ActionResult): void {
    const call = this.state.calls[callId];
    if (!call || call.retryTimer) return; // late or duplicate reply (after a timeout, Terminate, cancel, or while waiting to retry)
    const idx = call.record;
    const rec = this.state.records[idx]!;
    let ok: boolean;
    let outputs: unknown;
    let error: RunError | undefined;
    let code: string;
    let retryable = false;
    let statusCode: number | undefined;
    let wait: number | undefined;
    if (result.kind === 'http' && this.startPolling(callId, result)) return;
    if (result.kind === 'http') {
      statusCode = result.statusCode;
      outputs = {
        statusCode: result.statusCode,
        headers: result.headers ?? {},
        body: result.body === undefined ? null : result.body,
      };
      ok = result.statusCode >= 200 && result.statusCode < 300;
      code = httpCodeName(result.statusCode);
      if (!ok) {
        retryable = result.statusCode === 408 || result.statusCode === 429 || result.statusCode >= 500;
        error = {
          code,
          message: `The request of action '${rec.name}' failed with HTTP status ${result.statusCode} (${code}).`,
        };
        wait = retryAfterMs(result.headers, this.ctx.nowMs);
      }
    } else if (result.kind === 'error') {
      ok = false;
      outputs = result.outputs;
      code = result.code;
      error = { code: result.code, message: result.message };
      retryable = result.retryable === true;
    } else {
      ok = result.status === 'Succeeded';
      outputs = result.outputs;
      error =
        result.error ??
        (ok ? undefined : { code: result.code ?? 'ActionFailed', message: `Action '${rec.name}' failed.` });
      code = result.code ?? (ok ? 'OK' : error!.code);
    }
    const attempt = {
      attempt: call.attempt,
      startTime: call.attemptStart,
      endTime: this.now,
      status: ok ? ('Succeeded' as const) : ('Failed' as const),
    } as NonNullable<ActionRecord['attempts']>[number];
    if (statusCode !== undefined) attempt.statusCode = statusCode;
    if (error) attempt.error = error;
    const attempts = (rec.attempts ??= []);
    attempts.push(attempt);
    const policy = call.retry;
    const retriesDone = call.attempt - 1;
    if (!ok && retryable && policy.type !== 'none' && retriesDone < policy.count) {
      const delay = wait ?? this.retryDelay(policy, retriesDone + 1);
      attempt.retryAfterMs = delay;
      const timerId = this.nextId('t');
      call.retryTimer = timerId;
      this.state.timers[timerId] = { reason: 'retry', record: idx, callId };
      this.commands.push({
        type: 'startTimer',
        timerId,
        dueAt: new Date(this.ctx.nowMs + delay).toISOString(),
        reason: 'retry',
        action: rec.name,
      });
      return;
    }
    delete this.state.calls[callId];
    if (call.timeoutTimer) {
      delete this.state.timers[call.timeoutTimer];
      this.commands.push({ type: 'cancelTimer', timerId: call.timeoutTimer });
    }
    if (attempts.length === 1) delete rec.attempts;
    this.finish(idx, ok ? 'Succeeded' : 'Failed', { outputs, error, code });
  }

  onTimer(timerId: string): void {
    const timer = this.state.timers[timerId];
    if (!timer) return;
    delete this.state.timers[timerId];
    const rec = this.state.records[timer.record]!;
    if (timer.reason === 'delay') {
      this.succeed(timer.record, undefined);
      return;
    }
    const call = timer.callId !== undefined ? this.state.calls[timer.callId] : undefined;
    if (!call) return;
    if (timer.reason === 'retry' || timer.reason === 'poll') {
      call.retryTimer = undefined;
      if (timer.reason === 'retry') {
        call.attempt++;
        call.attemptStart = this.now;
      }
      call.command = { ...call.command, attempt: call.attempt };
      this.commands.push(call.command);
      return;
    }
    // action timeout
    delete this.state.calls[timer.callId!];
    this.commands.push({ type: 'cancelAction', callId: timer.callId! });
    if (call.retryTimer) {
      delete this.state.timers[call.retryTimer];
      this.commands.push({ type: 'cancelTimer', timerId: call.retryTimer });
    }
    const a = this.plan.actions.get(rec.name)!;
    this.finish(timer.record, 'TimedOut', {
      code: 'ActionTimedOut',
      error: {
        code: 'ActionTimedOut',
        message: `The action '${rec.name}' did not complete within its timeout of ${String((a.def.limit as Record<string, unknown>)?.timeout)}.`,
      },
    });
  }

  enqueueStart(frameId: number): void {
    this.openFrame(frameId);
  }
}

// -------------------------------------------------------------------- public API

function resolveParameters(plan: Plan, event: RunStartedEvent): { values: Record<string, unknown>; secure: string[] } {
  const values: Record<string, unknown> = {};
  const secure: string[] = [];
  for (const p of plan.parameters) {
    let v: unknown;
    if (event.parameters && p.name in event.parameters) v = event.parameters[p.name];
    else if (p.schemaName !== undefined && event.environmentVariables && p.schemaName in event.environmentVariables)
      v = coerceParameter(event.environmentVariables[p.schemaName], p.type);
    else v = p.defaultValue;
    if (v === undefined && (p.name === '$connections' || p.name === '$authentication')) v = {};
    values[p.name] = v;
    if (p.secure) secure.push(p.name);
  }
  for (const [k, v] of Object.entries(event.parameters ?? {})) if (!(k in values)) values[k] = v;
  return { values, secure };
}

/** Environment variable values arrive as text (deployment settings); parameters have types. */
export function coerceParameter(value: unknown, type: string): unknown {
  if (typeof value !== 'string') return value;
  switch (type.toLowerCase()) {
    case 'int':
    case 'float':
    case 'number': {
      const n = Number(value);
      return value.trim() !== '' && Number.isFinite(n) ? n : value;
    }
    case 'bool':
    case 'boolean':
      return value.toLowerCase() === 'true' ? true : value.toLowerCase() === 'false' ? false : value;
    case 'object':
    case 'array':
    case 'secureobject':
      try {
        return JSON.parse(value);
      } catch {
        return value;
      }
    default:
      return value;
  }
}

function triggerRecord(plan: Plan, event: RunStartedEvent): TriggerRecord {
  const t = plan.trigger;
  const input: TriggerInput = event.trigger ?? {};
  const type = t.type.toLowerCase();
  let outputs: TriggerRecord['outputs'];
  if (input.outputs) outputs = { ...input.outputs } as TriggerRecord['outputs'];
  else if (type === 'request') {
    const isHttp = (t.kind ?? 'Http').toLowerCase() === 'http';
    outputs = { headers: input.headers ?? {}, body: input.body !== undefined ? input.body : isHttp ? null : {} };
    if (input.queries) outputs.queries = input.queries;
    if (input.relativePathParameters) outputs.relativePathParameters = input.relativePathParameters;
  } else outputs = { headers: input.headers ?? {}, body: input.body !== undefined ? input.body : null };
  const rec: TriggerRecord = {
    name: t.name,
    type: t.type,
    outputs,
    startTime: event.at,
    endTime: event.at,
    status: 'Succeeded',
    code: 'OK',
    originHistoryName: event.runId,
    clientTrackingId: event.runId,
  };
  if (t.kind !== undefined) rec.kind = t.kind;
  if (type === 'recurrence') rec.scheduledTime = input.scheduledTime ?? event.at;
  else if (input.scheduledTime) rec.scheduledTime = input.scheduledTime;
  if (input.method) rec.inputs = { method: input.method };
  if (t.secureInputs || t.secureOutputs)
    rec.secure = { ...(t.secureInputs ? { inputs: true } : {}), ...(t.secureOutputs ? { outputs: true } : {}) };
  return rec;
}

function initialState(plan: Plan, event: RunStartedEvent): RunState {
  const { values, secure } = resolveParameters(plan, event);
  return {
    version: 1,
    runId: event.runId,
    workflow: event.workflow ?? { id: 'flow' },
    status: 'Running',
    startTime: event.at,
    now: event.at,
    trigger: triggerRecord(plan, event),
    parameters: values,
    secureParameters: secure,
    variables: {},
    records: [],
    latest: {},
    frames: [],
    containers: {},
    calls: {},
    timers: {},
    staticResults: event.staticResults ?? {},
    ...(event.callbackUrl !== undefined ? { callbackUrl: event.callbackUrl } : {}),
    seq: 0,
    rng: event.seed >>> 0,
  };
}

/**
 * Starts a run: builds the trigger record from `event.trigger`, resolves parameters (explicit
 * value › environment variable by `metadata.schemaName` › `defaultValue`), checks the trigger
 * conditions and runs every built-in action that can run before the first I/O.
 * A run whose trigger conditions are not all true ends at once with status `Skipped`.
 */
export function startRun(plan: Plan, event: RunStartedEvent): StepResult {
  const state = initialState(plan, event);
  const d = new Driver(plan, state, event.at);
  const rootFrame = d.createFrame({ parent: null, owner: null, block: '' });
  if (plan.trigger.conditionErrors.length > 0) {
    state.error = plan.trigger.conditionErrors[0];
    d.finishRun('Skipped', state.error);
    return { state, commands: d.commands };
  }
  for (const cond of plan.trigger.conditions) {
    let v: unknown;
    try {
      v = cond.evaluate(d.ctx.at(rootFrame, undefined));
    } catch (e) {
      d.finishRun('Skipped', {
        code: 'InvalidTemplate',
        message: `Unable to process the trigger condition: '${(e as Error).message}'.`,
      });
      return { state, commands: d.commands };
    }
    if (v !== true) {
      d.finishRun('Skipped', {
        code: 'TriggerConditionsNotMet',
        message: 'The trigger conditions were not met; no run was started.',
      });
      return { state, commands: d.commands };
    }
  }
  d.enqueueStart(rootFrame);
  d.run();
  return { state, commands: d.commands };
}

/**
 * Applies one event to a running state: an action completed, a timer elapsed, or a cancel
 * request. Events for a finished run, unknown calls or unknown timers change nothing.
 * Takes ownership of `state` (updates it in place) and returns it with the commands to carry out.
 */
export function step(plan: Plan, state: RunState, event: RunEvent): StepResult {
  if (event.type === 'runStarted')
    throw invalid('INVALID_EVENT', 'runStarted starts a run: use startRun', { runId: event.runId });
  if (state.status !== 'Running') return { state, commands: [] };
  const d = new Driver(plan, state, event.at);
  if (event.type === 'actionCompleted') d.onActionCompleted(event.callId, event.result);
  else if (event.type === 'timerElapsed') d.onTimer(event.timerId);
  else d.terminateRun('Cancelled', undefined, 'cancel');
  d.run();
  return { state, commands: d.commands };
}

/**
 * Rebuilds a run's state from its event log (`runStarted` first). Deterministic: the same
 * plan and events give the same state. Throws `INVALID_EVENT` when the log does not start with `runStarted`.
 */
export function replay(plan: Plan, events: readonly RunEvent[]): RunState {
  const first = events[0];
  if (!first || first.type !== 'runStarted') throw invalid('INVALID_EVENT', 'an event log starts with runStarted', {});
  let { state } = startRun(plan, first);
  for (let i = 1; i < events.length; i++) state = step(plan, state, events[i]!).state;
  return state;
}

/**
 * Debatching (`splitOn`): the trigger inputs of the runs one firing starts. Without `splitOn`
 * that is the input itself; with it, one input per array item, whose body is the item.
 * Throws `SPLIT_ON_NOT_ARRAY` when the expression does not give an array.
 */
export function splitTrigger(plan: Plan, input: TriggerInput, at: string): TriggerInput[] {
  if (!plan.trigger.splitOn) return [input];
  const probe = startProbe(plan, input, at);
  let v: unknown;
  try {
    v = plan.trigger.splitOn.evaluate(probe.ctx.at(0, undefined));
  } catch (e) {
    throw invalid('SPLIT_ON_FAILED', `splitOn of trigger '${plan.trigger.name}' failed: ${(e as Error).message}`, {
      trigger: plan.trigger.name,
    });
  }
  if (!Array.isArray(v))
    throw invalid('SPLIT_ON_NOT_ARRAY', `splitOn of trigger '${plan.trigger.name}' must give an array`, {
      trigger: plan.trigger.name,
    });
  return v.map((item) => {
    const out: TriggerInput = { ...input, body: item };
    if (input.outputs) out.outputs = { ...input.outputs, body: item };
    return out;
  });
}

function startProbe(plan: Plan, input: TriggerInput, at: string): Driver {
  const state = initialState(plan, { type: 'runStarted', at, runId: 'probe', seed: 0, trigger: input });
  const d = new Driver(plan, state, at);
  d.createFrame({ parent: null, owner: null, block: '' });
  return d;
}
