/**
 * Test helpers: drive the real engine with hand-made events (no runner, no I/O).
 */
import {
  compileDefinition,
  startRun,
  step,
  type EngineCommand,
  type ExecuteActionCommand,
  type RunEvent,
  type RunStartedEvent,
  type RunState,
  type StaticResult,
  type TriggerInput,
  type ActionResult,
  type StartTimerCommand,
} from '@patchbay/engine';

export const T0 = '2024-02-13T10:00:00.000Z';

/** A minimal definition around some actions (manual Request trigger). */
export function def(actions: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    $schema:
      'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#',
    contentVersion: '1.0.0.0',
    triggers: { manual: { type: 'Request', kind: 'Http', inputs: {} } },
    actions,
    ...extra,
  };
}

/** A test run: the state, every command issued so far, and the event log. */
export class TestRun {
  state: RunState;
  commands: EngineCommand[] = [];
  events: RunEvent[] = [];
  now: number;
  readonly plan;

  constructor(
    definition: unknown,
    options: {
      trigger?: TriggerInput;
      staticResults?: Record<string, StaticResult>;
      parameters?: Record<string, unknown>;
      environmentVariables?: Record<string, unknown>;
      at?: string;
      seed?: number;
    } = {},
  ) {
    this.plan = compileDefinition(definition);
    const at = options.at ?? T0;
    this.now = Date.parse(at);
    const ev: RunStartedEvent = {
      type: 'runStarted',
      at,
      runId: 'run-1',
      seed: options.seed ?? 42,
      trigger: options.trigger ?? {},
      workflow: { id: 'flow-1', displayName: 'Test flow' },
      ...(options.staticResults ? { staticResults: options.staticResults } : {}),
      ...(options.parameters ? { parameters: options.parameters } : {}),
      ...(options.environmentVariables ? { environmentVariables: options.environmentVariables } : {}),
    };
    this.events.push(ev);
    const r = startRun(this.plan, ev);
    this.state = r.state;
    this.commands.push(...r.commands);
  }

  private apply(ev: RunEvent): EngineCommand[] {
    this.events.push(ev);
    const r = step(this.plan, this.state, ev);
    this.state = r.state;
    this.commands.push(...r.commands);
    return r.commands;
  }

  /** Moves time forward by ms. */
  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  at(): string {
    return new Date(this.now).toISOString();
  }

  complete(callId: string, result: ActionResult): EngineCommand[] {
    return this.apply({ type: 'actionCompleted', at: this.at(), callId, result });
  }

  fire(timerId: string): EngineCommand[] {
    const t = this.commands.find((c): c is StartTimerCommand => c.type === 'startTimer' && c.timerId === timerId);
    if (t) this.now = Math.max(this.now, Date.parse(t.dueAt));
    return this.apply({ type: 'timerElapsed', at: this.at(), timerId });
  }

  cancel(): EngineCommand[] {
    return this.apply({ type: 'cancelRequested', at: this.at() });
  }

  /** executeAction commands not answered yet, in issue order. */
  pendingCalls(): ExecuteActionCommand[] {
    const last = new Map<string, ExecuteActionCommand>();
    for (const c of this.commands) if (c.type === 'executeAction') last.set(c.callId, c);
    return [...last.values()].filter((c) => {
      const call = this.state.calls[c.callId];
      return call !== undefined && !call.retryTimer;
    });
  }

  /** Timers started and not fired or cancelled. */
  pendingTimers(): StartTimerCommand[] {
    return this.commands.filter(
      (c): c is StartTimerCommand => c.type === 'startTimer' && this.state.timers[c.timerId] !== undefined,
    );
  }

  /** Latest record of an action. */
  action(name: string) {
    const idx = this.state.latest[name];
    return idx === undefined ? undefined : this.state.records[idx];
  }

  status(name: string): string | undefined {
    return this.action(name)?.status;
  }

  /** Action name → status of the latest record. */
  statuses(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, idx] of Object.entries(this.state.latest)) out[name] = this.state.records[idx]!.status;
    return out;
  }
}

/** A static result that fails. */
export const FAIL: StaticResult = {
  status: 'Failed',
  outputs: { statusCode: 'InternalServerError' },
  error: { code: 'Boom', message: 'mock failure' },
};
export const TIMEDOUT: StaticResult = { status: 'TimedOut' };
