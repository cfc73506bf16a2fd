/**
 * Public, JSON-serialisable types of the flow engine: run state, action records, events and
 * commands. Everything here survives `JSON.parse(JSON.stringify(x))` unchanged, so a worker can
 * persist the state between steps and storage can keep the event log to replay a run.
 *
 * Source of the shapes: ../shared/reference/wdl-spec.md §2–§4 (Logic Apps workflow definition
 * language as Power Automate exports it); see docs/engine.md for the run model.
 */

/** Status of one action execution. Terminal: Succeeded, Failed, Skipped, TimedOut, Cancelled, Aborted. */
export type ActionStatus =
  'Running' | 'Waiting' | 'Succeeded' | 'Failed' | 'Skipped' | 'TimedOut' | 'Cancelled' | 'Aborted';

/**
 * Status of a run. `Running` until the run ends. `Skipped` is used only when the trigger's
 * conditions were not met: no action ran and storage may choose not to keep the run.
 */
export type RunStatus = 'Running' | 'Succeeded' | 'Failed' | 'Cancelled' | 'Skipped';

/** An error as the run history shows it: a stable code (Logic Apps codes where one exists) and a message. */
export interface RunError {
  code: string;
  message: string;
}

/** Which parts of an action's record are hidden from the history (`runtimeConfiguration.secureData`, or inputs that read secure data). */
export interface SecureFlags {
  inputs?: boolean;
  outputs?: boolean;
}

/** One pass of a retried action (Http, connector, child flow). `attempt` is 1-based. */
export interface ActionAttempt {
  attempt: number;
  startTime: string;
  endTime: string;
  /** Succeeded or Failed for that pass. */
  status: 'Succeeded' | 'Failed';
  /** HTTP status code of the pass, when it got a response. */
  statusCode?: number;
  error?: RunError;
  /** Milliseconds waited before the next pass (absent on the last pass). */
  retryAfterMs?: number;
}

/** One iteration of a Foreach or Until loop, as kept on the loop's record. */
export interface LoopIterationRecord {
  /** Zero-based iteration index (the item's position in the Foreach array). */
  index: number;
  status: ActionStatus;
  startTime: string;
  endTime?: string;
}

/** Position of an action execution inside loops: one entry per enclosing Foreach/Until, outermost first. */
export interface RepetitionIndex {
  loop: string;
  index: number;
}

/**
 * The record of one action execution. This is also what `actions('Name')` returns to expressions
 * (Logic Apps shape `{name, inputs, outputs, startTime, endTime, status, code, error}`), plus
 * history-only fields. Times are ISO 8601 UTC strings.
 */
export interface ActionRecord {
  name: string;
  /** Action type as written in the definition, e.g. `Compose`, `OpenApiConnection`. */
  type: string;
  status: ActionStatus;
  /** Short status code, e.g. `OK`, `BadRequest`, `ActionFailed`, `ActionSkipped`, `ActionTimedOut`. */
  code?: string;
  startTime?: string;
  endTime?: string;
  inputs?: unknown;
  outputs?: unknown;
  error?: RunError;
  /** Loop position; absent outside loops. */
  repetition?: RepetitionIndex[];
  /** Passes of a retried action, oldest first (history only). */
  attempts?: ActionAttempt[];
  /** Iterations of a Foreach/Until action (history only). */
  iterations?: LoopIterationRecord[];
  /** Redaction flags: the history view hides the flagged parts. */
  secure?: SecureFlags;
  /** Evaluated `trackedProperties`, when the action has them. */
  trackedProperties?: Record<string, unknown>;
  /** Id of the frame (container instance) this execution belongs to; 0 is the top level. */
  frame: number;
  /** Name of the enclosing container action, absent at the top level. */
  parent?: string;
}

/** The trigger record: `trigger()` in expressions; `triggerOutputs()` is `outputs`, `triggerBody()` is `outputs.body`. */
export interface TriggerRecord {
  name: string;
  type: string;
  kind?: string;
  inputs?: unknown;
  outputs: {
    headers?: Record<string, string>;
    body?: unknown;
    queries?: Record<string, string>;
    [key: string]: unknown;
  };
  startTime: string;
  endTime: string;
  /** Recurrence runs: the scheduled firing time (ISO 8601). */
  scheduledTime?: string;
  status: 'Succeeded';
  code: 'OK';
  originHistoryName: string;
  clientTrackingId: string;
  secure?: SecureFlags;
}

/**
 * What fired the trigger. Request-type triggers (manual, Button, PowerApp, Request/Http) take a
 * body, headers, query and path parameters; Recurrence runs take `scheduledTime`; any other trigger
 * (connector triggers) passes its whole `outputs` (`{statusCode?, headers, body}`).
 */
export interface TriggerInput {
  body?: unknown;
  headers?: Record<string, string>;
  queries?: Record<string, string>;
  relativePathParameters?: Record<string, string>;
  method?: string;
  /** Recurrence: the scheduled time (ISO 8601); defaults to the start time of the run. */
  scheduledTime?: string;
  /** Replaces the computed outputs entirely (connector and webhook triggers). */
  outputs?: Record<string, unknown>;
}

/** A mocked action result: `definition.staticResults` entries and the `--static-results` file use this shape. */
export interface StaticResult {
  status: 'Succeeded' | 'Failed' | 'Skipped' | 'TimedOut' | 'Cancelled';
  outputs?: unknown;
  code?: string;
  error?: RunError;
}

/** `workflow()` data: which flow and which run. */
export interface WorkflowInfo {
  /** Flow id (Power Automate: the workflow GUID), used as `workflow().name`. */
  id: string;
  /** Display name (`workflow().tags.flowDisplayName`). */
  displayName?: string;
  /** Environment name (`workflow().tags.environmentName`). */
  environmentName?: string;
}

/** The first event of every run: the trigger fired. Everything a replay needs comes in here. */
export interface RunStartedEvent {
  type: 'runStarted';
  /** When the event happened (ISO 8601); also `utcNow()` while the event is processed. */
  at: string;
  runId: string;
  /** Seed of the run's deterministic random source (`rand()`, `guid()`, retry jitter). 32-bit unsigned integer. */
  seed: number;
  trigger: TriggerInput;
  workflow?: WorkflowInfo;
  /** Definition parameter values by parameter name (win over environment variables and defaults). */
  parameters?: Record<string, unknown>;
  /** Environment variable values by schema name; a definition parameter with `metadata.schemaName` reads them. */
  environmentVariables?: Record<string, unknown>;
  /** Mock results by action name or static-result name (see docs/engine.md, static results). */
  staticResults?: Record<string, StaticResult>;
  /** `listCallbackUrl()` of the Request trigger, when there is one. */
  callbackUrl?: string;
}

/**
 * Result of an `executeAction` command, reported by whoever carried it out.
 * - `http`: an HTTP-shaped answer (Http action, connector operation, child flow Response).
 * - `error`: the call did not produce an answer (connection refused, policy denied, timeout …);
 *   `retryable` marks connectivity problems that the retry policy may retry.
 * - `outputs`: a finished result with an explicit status (webhook callbacks, invokers that
 *   decide the status themselves).
 */
export type ActionResult =
  | { kind: 'http'; statusCode: number; headers?: Record<string, string>; body?: unknown }
  | { kind: 'error'; code: string; message: string; retryable?: boolean; outputs?: unknown }
  | { kind: 'outputs'; status: 'Succeeded' | 'Failed'; outputs?: unknown; error?: RunError; code?: string };

/** An action finished (reply to `executeAction`). Late replies (after a timeout or cancel) are ignored. */
export interface ActionCompletedEvent {
  type: 'actionCompleted';
  at: string;
  callId: string;
  result: ActionResult;
}

/** A timer started with `startTimer` elapsed. */
export interface TimerElapsedEvent {
  type: 'timerElapsed';
  at: string;
  timerId: string;
}

/** Somebody cancelled the run: in-flight actions are cancelled, the run ends Cancelled. */
export interface CancelRequestedEvent {
  type: 'cancelRequested';
  at: string;
  reason?: string;
}

/** Every event the engine accepts. A run's event log is the list of these, `runStarted` first. */
export type RunEvent = RunStartedEvent | ActionCompletedEvent | TimerElapsedEvent | CancelRequestedEvent;

/** A run's event log, `runStarted` first: `replay(plan, log)` rebuilds the run state. */
export type RunEventLog = RunEvent[];

/** Which executor carries out an `executeAction` command. */
export type OperationKind = 'http' | 'connector' | 'workflow';

/** Carry out an action that needs I/O; answer with an `actionCompleted` event carrying the same `callId`. */
export interface ExecuteActionCommand {
  type: 'executeAction';
  callId: string;
  operation: OperationKind;
  /** Action name and type as in the definition. */
  action: string;
  actionType: string;
  /** Evaluated inputs (for connector actions without `host`, which is in `host`). */
  inputs: Record<string, unknown>;
  /** Connector actions: the raw `host` object (`apiId`, `connectionName`, `operationId` or `connection`). */
  host?: Record<string, unknown>;
  /** Connector actions: the connection key (`host.connectionName`, or the key inside `$connections`). */
  connectionName?: string;
  /** Child flows: the workflow id to run (`host.workflowReferenceName` or `host.workflow.id`). */
  workflowId?: string;
  /** 1-based pass number (retries re-send the command with the next number). */
  attempt: number;
  repetition?: RepetitionIndex[];
}

/** Abandon an in-flight action (timeout, Terminate, cancel); its late reply will be ignored. */
export interface CancelActionCommand {
  type: 'cancelAction';
  callId: string;
}

/** Why a timer runs. */
export type TimerReason = 'delay' | 'retry' | 'timeout' | 'poll';

/** Call back with `timerElapsed` at `dueAt` (ISO 8601). */
export interface StartTimerCommand {
  type: 'startTimer';
  timerId: string;
  dueAt: string;
  reason: TimerReason;
  action: string;
}

/** A timer is no longer needed. */
export interface CancelTimerCommand {
  type: 'cancelTimer';
  timerId: string;
}

/** The Response action answered the caller of the trigger (or the parent flow). */
export interface RespondCommand {
  type: 'respond';
  action: string;
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The run ended. */
export interface FinishCommand {
  type: 'finish';
  status: Exclude<RunStatus, 'Running'>;
  error?: RunError;
  outputs?: Record<string, unknown>;
}

/** Every command the engine asks its runner to carry out. */
export type EngineCommand =
  ExecuteActionCommand | CancelActionCommand | StartTimerCommand | CancelTimerCommand | RespondCommand | FinishCommand;

/** The HTTP reply produced by a Response action. */
export interface RunResponse {
  action: string;
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Variable types of InitializeVariable (normalised spelling). */
export type VariableType = 'Boolean' | 'Integer' | 'Float' | 'String' | 'Array' | 'Object';

/** A container instance: the top level, a Scope, a branch of If/Switch, or one loop iteration. */
export interface FrameState {
  id: number;
  /** Enclosing frame id; null for the top level (frame 0). */
  parent: number | null;
  /** Record index of the container action; null for the top level. */
  owner: number | null;
  /** Key of the compiled block this frame runs (see `Plan.blocks`). */
  block: string;
  /** Loop iteration index (Foreach/Until frames). */
  index?: number;
  /** Current item (Foreach frames). */
  item?: unknown;
  /** Loop frames: the loop's action name and kind. */
  loopName?: string;
  loopKind?: 'foreach' | 'until';
  /** Loop position of the actions of this frame (outermost first); absent outside loops. */
  repetition?: RepetitionIndex[];
  /** Action name → record index, for the actions of this frame that have a record. */
  children: Record<string, number>;
  /** Number of actions of the block that are not terminal yet. */
  open: number;
  /** Terminal status of the frame once every action is terminal. */
  status?: ActionStatus;
  startTime: string;
  endTime?: string;
}

/** Bookkeeping of a container action (keyed by its record index): its frames, and loop progress. */
export interface ContainerState {
  /** Foreach: the evaluated array. */
  items?: unknown[];
  /** Loops: next iteration index to start. */
  next: number;
  /** Loops: iterations in flight. */
  active: number;
  /** Foreach: parallelism (1 = sequential). */
  concurrency: number;
  /** Frames of the container: the executed branch first (If/Switch, then the skipped branches), or one per iteration (loops). */
  frames: number[];
  /** Loops: an iteration failed. */
  failed?: boolean;
  /** Until: when the loop started (epoch ms), count and timeout limits. */
  startedAt?: number;
  limitCount?: number;
  limitTimeoutMs?: number;
}

/** An in-flight `executeAction`. */
export interface CallState {
  record: number;
  attempt: number;
  /** Timer id of the action timeout, when it has one. */
  timeoutTimer?: string;
  /** Timer id of a pending retry wait. */
  retryTimer?: string;
  /** Http async pattern: the action answered 202 with a Location and is being polled there. */
  polls?: number;
  /** The evaluated command to re-send on retry. */
  command: ExecuteActionCommand;
  /** Retry policy after evaluation. */
  retry: RetryPolicy;
  /** When the current pass started (ISO). */
  attemptStart: string;
}

/** A pending timer. */
export interface TimerState {
  reason: TimerReason;
  record: number;
  /** The call a retry/timeout timer belongs to. */
  callId?: string;
}

/** Retry policy after evaluation (durations in milliseconds). */
export type RetryPolicy =
  | { type: 'none' }
  | { type: 'fixed'; count: number; intervalMs: number }
  | { type: 'exponential'; count: number; intervalMs: number; minimumIntervalMs: number; maximumIntervalMs: number };

/** A variable's declared type and current value. */
export interface VariableState {
  type: VariableType;
  value: unknown;
}

/**
 * The whole state of one run. Serialisable; `step` takes ownership of it (updates it in place
 * and returns it) so a run costs no copying. Persist it between steps, or keep the event log and
 * rebuild it with `replay`.
 */
export interface RunState {
  version: 1;
  runId: string;
  workflow: WorkflowInfo;
  status: RunStatus;
  startTime: string;
  endTime?: string;
  /** Time of the event being processed (ISO). */
  now: string;
  trigger: TriggerRecord;
  /** Resolved definition parameters (explicit value, environment variable, or default). */
  parameters: Record<string, unknown>;
  /** Names of parameters of a secure type (`securestring`, `secureobject`) whose reads make inputs secure. */
  secureParameters: string[];
  variables: Record<string, VariableState>;
  /** Every action execution, in the order they started. */
  records: ActionRecord[];
  /** Latest record index by action name (what `actions('X')` returns from outside the action's container). */
  latest: Record<string, number>;
  frames: FrameState[];
  containers: Record<number, ContainerState>;
  calls: Record<string, CallState>;
  timers: Record<string, TimerState>;
  staticResults: Record<string, StaticResult>;
  callbackUrl?: string;
  response?: RunResponse;
  error?: RunError;
  outputs?: Record<string, unknown>;
  /** Set when a Terminate action or a cancel request ended the run early. */
  terminatedBy?: string;
  /** Counter for call and timer ids. */
  seq: number;
  /** State of the deterministic random source. */
  rng: number;
}

/** What `startRun` and `step` return: the new state and the commands to carry out, in order. */
export interface StepResult {
  state: RunState;
  commands: EngineCommand[];
}
