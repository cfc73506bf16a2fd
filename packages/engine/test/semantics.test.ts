/**
 * Table-driven tests of the engine's semantic rules (wdl-spec §3–§4), driving the real engine
 * with events. Failures are produced with static results so each rule is tested in isolation.
 */
import { describe, expect, it } from 'vitest';
import { compileDefinition, REDACTED, runRecord, summarizeRun, type ExecuteActionCommand } from '@patchbay/engine';
import { FAIL, T0, TIMEDOUT, TestRun, def } from './helpers.js';

const compose = (inputs: unknown, runAfter: Record<string, string[]> = {}, extra: Record<string, unknown> = {}) => ({
  type: 'Compose',
  inputs,
  runAfter,
  ...extra,
});
const mocked = (runAfter: Record<string, string[]> = {}) => ({ type: 'Compose', inputs: 'x', runAfter });

describe('runAfter and skip propagation', () => {
  // A fails, G times out, S succeeds; every other action lists its runAfter condition.
  const actions = {
    A: mocked(),
    G: mocked(),
    S: mocked(),
    B: compose('b', { A: ['Succeeded'] }),
    C: compose('c', { A: ['Failed'] }),
    D: compose('d', { A: ['Succeeded', 'Failed'] }),
    E: compose('e', { B: ['Skipped'] }),
    F: compose('f', { B: ['Succeeded'] }),
    F2: compose('f2', { F: ['Succeeded'] }),
    F3: compose('f3', { F2: ['Skipped'] }),
    H: compose('h', { G: ['TimedOut'] }),
    I: compose('i', { G: ['Failed'] }),
    X: compose('x', { A: ['Failed'], G: ['TimedOut'] }),
    Y: compose('y', { A: ['Failed'], G: ['Succeeded'] }),
    Z: compose('z', { S: ['Succeeded'], A: ['Failed', 'Skipped'] }),
    L: compose('l', { A: ['failed'] }),
  };
  const run = new TestRun(def(actions), { staticResults: { A: FAIL, G: TIMEDOUT } });
  it.each([
    ['A', 'Failed', 'the mocked failure'],
    ['G', 'TimedOut', 'the mocked timeout'],
    ['S', 'Succeeded', 'a plain action'],
    ['B', 'Skipped', 'runAfter Succeeded of a failed action'],
    ['C', 'Succeeded', 'runAfter Failed of a failed action'],
    ['D', 'Succeeded', 'runAfter Succeeded|Failed (OR within one list)'],
    ['E', 'Succeeded', 'runAfter Skipped of a skipped action'],
    ['F', 'Skipped', 'skip propagates to successors'],
    ['F2', 'Skipped', 'skip propagates down the chain'],
    ['F3', 'Succeeded', 'a successor that accepts Skipped stops the propagation'],
    ['H', 'Succeeded', 'runAfter TimedOut'],
    ['I', 'Skipped', 'TimedOut is not Failed'],
    ['X', 'Succeeded', 'AND across predecessors, both satisfied'],
    ['Y', 'Skipped', 'AND across predecessors, one not satisfied'],
    ['Z', 'Succeeded', 'mixed predecessors'],
    ['L', 'Succeeded', 'status names compare case-insensitively'],
  ])('%s ends %s (%s)', (name, status) => {
    expect(run.status(name)).toBe(status);
  });
  it('a skipped action says which runAfter condition was not met', () => {
    expect(run.action('B')!.code).toBe('ActionConditionFailed');
    expect(run.action('B')!.error!.message).toContain("'A'");
  });
  it('runs end as soon as every action is terminal, without commands to wait for', () => {
    expect(run.commands.at(-1)).toMatchObject({ type: 'finish' });
  });
});

describe('run status (wdl-spec §4: a branch ending in Skipped takes its predecessor status)', () => {
  it.each([
    ['one failing action', { A: mocked() }, 'Failed'],
    [
      'failure handled by a runAfter Failed successor',
      { A: mocked(), B: compose('b', { A: ['Failed'] }) },
      'Succeeded',
    ],
    ['failure followed only by a skipped successor', { A: mocked(), B: compose('b', { A: ['Succeeded'] }) }, 'Failed'],
    [
      'try/catch: one branch skipped after the failure, handler succeeded',
      { A: mocked(), OK: compose('ok', { A: ['Succeeded'] }), ERR: compose('err', { A: ['Failed'] }) },
      'Failed',
    ],
    ['parallel branches, one failing', { A: mocked(), B: compose('b') }, 'Failed'],
    [
      'skip chain rooted in success',
      { S: compose('s'), B: compose('b', { S: ['Failed'] }), C: compose('c', { B: ['Skipped'] }) },
      'Succeeded',
    ],
    [
      'skipped terminal whose predecessor succeeded',
      { S: compose('s'), B: compose('b', { S: ['Failed'] }) },
      'Succeeded',
    ],
    ['empty definition', {}, 'Succeeded'],
  ])('%s → run %s', (_label, actions, status) => {
    const run = new TestRun(def(actions), { staticResults: { A: FAIL } });
    expect(run.state.status).toBe(status);
    if (status === 'Failed')
      expect(run.state.error).toEqual({
        code: 'ActionFailed',
        message: 'An action failed. No dependent actions succeeded.',
      });
  });
});

describe('Scope status and result()', () => {
  it.each([
    ['a failing child', { A: mocked() }, 'Failed'],
    ['a failing child handled inside the scope', { A: mocked(), H: compose('h', { A: ['Failed'] }) }, 'Succeeded'],
    ['only succeeding children', { S: compose('s'), T: compose('t', { S: ['Succeeded'] }) }, 'Succeeded'],
    ['a timed-out child', { G: mocked() }, 'Failed'],
    ['no children', {}, 'Succeeded'],
  ])('scope with %s', (_label, children, status) => {
    const run = new TestRun(
      def({
        Scope: { type: 'Scope', actions: children, runAfter: {} },
        After: compose("@result('Scope')", { Scope: ['Succeeded', 'Failed'] }),
      }),
      { staticResults: { A: FAIL, G: TIMEDOUT } },
    );
    expect(run.status('Scope')).toBe(status);
    const result = run.action('After')!.outputs as Array<{ name: string; status: string }>;
    expect(result.map((r) => r.name).sort()).toEqual(Object.keys(children).sort());
  });
  it('result() of a failed scope carries the failed child error (try/catch pattern)', () => {
    const run = new TestRun(
      def({
        Try: { type: 'Scope', actions: { A: mocked() }, runAfter: {} },
        Catch: compose("@first(result('Try'))?['error']", { Try: ['Failed'] }),
      }),
      { staticResults: { A: FAIL } },
    );
    expect(run.action('Catch')!.outputs).toEqual({ code: 'Boom', message: 'mock failure' });
    expect(run.state.status).toBe('Succeeded');
  });
  it('actions inside a scope are referenceable from outside by name', () => {
    const run = new TestRun(
      def({
        S: { type: 'Scope', actions: { In: compose(41) } },
        Out: compose("@add(outputs('In'), 1)", { S: ['Succeeded'] }),
      }),
    );
    expect(run.action('Out')!.outputs).toBe(42);
  });
});

describe('If and Switch', () => {
  it.each([
    ['expression string true', '@equals(1, 1)', 'Then'],
    ['expression string false', '@equals(1, 2)', 'Else'],
    ['condition object and/equals', { and: [{ equals: ["@triggerBody()?['n']", 5] }] }, 'Then'],
    [
      'condition object or/not/greater',
      { or: [{ not: { equals: [1, 1] } }, { greater: ["@triggerBody()?['n']", 10] }] },
      'Else',
    ],
    [
      'condition object contains/startsWith',
      { and: [{ contains: ['hello world', 'world'] }, { startsWith: ['Hello', 'he'] }] },
      'Then',
    ],
  ])('%s → %s runs, the other branch is Skipped', (_label, expression, taken) => {
    const run = new TestRun(
      def({
        If: { type: 'If', expression, actions: { Then: compose('t') }, else: { actions: { Else: compose('e') } } },
      }),
      { trigger: { body: { n: 5 } } },
    );
    const other = taken === 'Then' ? 'Else' : 'Then';
    expect(run.status(taken)).toBe('Succeeded');
    expect(run.status(other)).toBe('Skipped');
    expect(run.action(other)!.code).toBe('ActionBranchingConditionNotSatisfied');
    expect(run.status('If')).toBe('Succeeded');
  });
  it('a non-boolean condition fails the If', () => {
    const run = new TestRun(def({ If: { type: 'If', expression: "@'yes'", actions: { Then: compose('t') } } }));
    expect(run.status('If')).toBe('Failed');
    expect(run.action('If')!.error!.code).toBe('InvalidTemplate');
  });
  it.each([
    ['B', 'CaseB'],
    [2, 'Case2'],
    ['2', 'Default'],
    ['z', 'Default'],
  ])('switch on %j runs %s', (value, expected) => {
    const run = new TestRun(
      def({
        Switch: {
          type: 'Switch',
          expression: "@triggerBody()['v']",
          cases: {
            A: { case: 'A', actions: { CaseA: compose(1) } },
            B: { case: 'B', actions: { CaseB: compose(1) } },
            Two: { case: 2, actions: { Case2: compose(1) } },
          },
          default: { actions: { Default: compose(1) } },
        },
      }),
      { trigger: { body: { v: value } } },
    );
    for (const name of ['CaseA', 'CaseB', 'Case2', 'Default'])
      expect(run.status(name)).toBe(name === expected ? 'Succeeded' : 'Skipped');
  });
});

describe('Terminate', () => {
  it.each([
    ['Failed', { code: 'E42', message: 'stopped' }, 'Failed', { code: 'E42', message: 'stopped' }],
    ['Cancelled', undefined, 'Cancelled', undefined],
    ['Succeeded', undefined, 'Succeeded', undefined],
  ])('runStatus %s ends the run %s, pending actions do not run', (runStatus, runError, status, error) => {
    const run = new TestRun(
      def({
        A: mocked(),
        Stop: {
          type: 'Terminate',
          inputs: { runStatus, ...(runError ? { runError } : {}) },
          runAfter: { A: ['Failed'] },
        },
        Never: compose('n', { Stop: ['Succeeded', 'Failed', 'Skipped'] }),
      }),
      { staticResults: { A: FAIL } },
    );
    expect(run.state.status).toBe(status);
    expect(run.state.error).toEqual(error);
    expect(run.action('Never')).toBeUndefined();
    expect(run.state.terminatedBy).toBe('Stop');
    expect(run.commands.at(-1)).toMatchObject({ type: 'finish', status });
  });
  it('cancels in-flight actions and their timers', () => {
    const run = new TestRun(
      def({
        Call: { type: 'Http', inputs: { method: 'GET', uri: 'https://example.com/slow' }, limit: { timeout: 'PT1M' } },
        Stop: { type: 'Terminate', inputs: { runStatus: 'Failed', runError: { code: 'Stop' } } },
      }),
    );
    expect(run.state.status).toBe('Failed');
    const call = run.commands.find((c): c is ExecuteActionCommand => c.type === 'executeAction')!;
    expect(run.commands).toContainEqual({ type: 'cancelAction', callId: call.callId });
    expect(run.commands.some((c) => c.type === 'cancelTimer')).toBe(true);
    expect(run.status('Call')).toBe('Cancelled');
    // A late reply changes nothing.
    run.complete(call.callId, { kind: 'http', statusCode: 200, body: 'late' });
    expect(run.status('Call')).toBe('Cancelled');
  });
  it('Terminate inside a Foreach ends the run at the first iteration', () => {
    const run = new TestRun(
      def({
        Loop: {
          type: 'Foreach',
          foreach: '@createArray(1,2,3)',
          actions: { Stop: { type: 'Terminate', inputs: { runStatus: 'Cancelled' } } },
        },
      }),
    );
    expect(run.state.status).toBe('Cancelled');
    expect(run.state.records.filter((r) => r.name === 'Stop')).toHaveLength(1);
    expect(run.status('Loop')).toBe('Cancelled');
  });
});

describe('variables', () => {
  it.each([
    ['Integer', 5, 'IncrementVariable', { name: 'v', value: 2 }, 7],
    ['Integer', 5, 'IncrementVariable', { name: 'v' }, 6],
    ['Float', 1.5, 'DecrementVariable', { name: 'v', value: 0.5 }, 1],
    ['String', 'ab', 'AppendToStringVariable', { name: 'v', value: 'cd' }, 'abcd'],
    ['Array', [1], 'AppendToArrayVariable', { name: 'v', value: { x: 2 } }, [1, { x: 2 }]],
    ['Object', {}, 'SetVariable', { name: 'v', value: { a: 1 } }, { a: 1 }],
    ['Boolean', false, 'SetVariable', { name: 'v', value: true }, true],
  ])('%s %j, %s %j → %j', (type, value, actionType, inputs, expected) => {
    const run = new TestRun(
      def({
        Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'v', type, value }] } },
        Op: { type: actionType, inputs, runAfter: { Init: ['Succeeded'] } },
      }),
    );
    expect(run.status('Op')).toBe('Succeeded');
    expect(run.state.variables.v!.value).toEqual(expected);
  });
  it.each([
    ['SetVariable of the wrong type', 'Integer', 1, 'SetVariable', { name: 'v', value: 'x' }, 'InvalidVariableValue'],
    ['Increment of a String', 'String', 'a', 'IncrementVariable', { name: 'v', value: 1 }, 'InvalidVariableType'],
    ['Append to an Integer', 'Integer', 1, 'AppendToArrayVariable', { name: 'v', value: 1 }, 'InvalidVariableType'],
    ['Set of an undeclared variable', 'Integer', 1, 'SetVariable', { name: 'other', value: 1 }, 'InvalidTemplate'],
  ])('%s fails', (_label, type, value, actionType, inputs, code) => {
    const run = new TestRun(
      def({
        Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'v', type, value }] } },
        Op: { type: actionType, inputs, runAfter: { Init: ['Succeeded'] } },
      }),
    );
    expect(run.status('Op')).toBe('Failed');
    expect(run.action('Op')!.error!.code).toBe(code);
  });
  it('InitializeVariable without a value gets the type default', () => {
    const run = new TestRun(
      def({ Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'a', type: 'array' }] } } }),
    );
    expect(run.state.variables.a).toEqual({ type: 'Array', value: [] });
  });
  it('InitializeVariable inside a container is refused when compiling', () => {
    expect(() =>
      compileDefinition(
        def({
          S: {
            type: 'Scope',
            actions: { Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'a', type: 'string' }] } } },
          },
        }),
      ),
    ).toThrow(/top level/);
  });
});

describe('Foreach concurrency and variables', () => {
  const loopDef = (runtimeConfiguration?: unknown, extra: Record<string, unknown> = {}) =>
    def({
      Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'log', type: 'array' }] } },
      Count: {
        type: 'InitializeVariable',
        inputs: { variables: [{ name: 'n', type: 'integer', value: 0 }] },
        runAfter: { Init: ['Succeeded'] },
      },
      Loop: {
        type: 'Foreach',
        foreach: '@range(0, 8)',
        runAfter: { Count: ['Succeeded'] },
        ...(runtimeConfiguration ? { runtimeConfiguration } : {}),
        ...extra,
        actions: {
          Call: { type: 'Http', inputs: { method: 'GET', uri: "@{concat('https://example.com/', item())}" } },
          Inc: { type: 'IncrementVariable', inputs: { name: 'n' }, runAfter: { Call: ['Succeeded'] } },
          Append: {
            type: 'AppendToArrayVariable',
            inputs: { name: 'log', value: "@body('Call')" },
            runAfter: { Inc: ['Succeeded'] },
          },
        },
      },
    });
  /** Answers calls newest-first until none is left; returns the most calls in flight at once. */
  const drain = (run: TestRun): number => {
    let most = 0;
    for (;;) {
      const pending = run.pendingCalls();
      if (pending.length === 0) return most;
      most = Math.max(most, pending.length);
      const c = pending[pending.length - 1]!;
      run.complete(c.callId, { kind: 'http', statusCode: 200, body: c.inputs.uri });
    }
  };
  it.each([
    ['no runtimeConfiguration (Power Automate default: sequential)', undefined, {}, 1],
    ['repetitions 3', { concurrency: { repetitions: 3 } }, {}, 3],
    ['repetitions 50', { concurrency: { repetitions: 50 } }, {}, 8],
    ['operationOptions Sequential wins', { concurrency: { repetitions: 5 } }, { operationOptions: 'Sequential' }, 1],
  ])('%s: calls in flight at most as configured', (_label, rc, extra, expected) => {
    const run = new TestRun(loopDef(rc, extra));
    expect(drain(run)).toBe(expected);
    expect(run.state.status).toBe('Succeeded');
    // Increment and Append are atomic steps: no update is lost, whatever the concurrency.
    expect(run.state.variables.n!.value).toBe(8);
    const log = run.state.variables.log!.value as string[];
    expect([...log].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `https://example.com/${i}`).sort());
    expect(run.action('Loop')!.iterations).toHaveLength(8);
    // Each iteration's Append read its own iteration's Call (outputs are per iteration).
    const appends = run.state.records.filter((r) => r.name === 'Append');
    for (const a of appends)
      expect((a.inputs as { value: string }).value).toBe(`https://example.com/${a.repetition![0]!.index}`);
  });
  it('sequential loops append in item order; concurrent ones in completion order', () => {
    const seq = new TestRun(loopDef(undefined));
    drain(seq);
    expect(seq.state.variables.log!.value).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `https://example.com/${i}`));
    const par = new TestRun(loopDef({ concurrency: { repetitions: 8 } }));
    drain(par);
    expect(par.state.variables.log!.value).toEqual([7, 6, 5, 4, 3, 2, 1, 0].map((i) => `https://example.com/${i}`));
  });
  it('a failed iteration fails the loop; the other iterations still run', () => {
    const run = new TestRun(
      def({
        Loop: { type: 'Foreach', foreach: '@createArray(1, 0, 2)', actions: { Div: compose('@div(10, item())') } },
      }),
    );
    expect(run.status('Loop')).toBe('Failed');
    expect(run.action('Loop')!.iterations!.map((i) => i.status)).toEqual(['Succeeded', 'Failed', 'Succeeded']);
    expect(run.state.records.filter((r) => r.name === 'Div').map((r) => r.status)).toEqual([
      'Succeeded',
      'Failed',
      'Succeeded',
    ]);
  });
  it('item(), items() of nested loops and result() of a loop', () => {
    const run = new TestRun(
      def({
        Outer: {
          type: 'Foreach',
          foreach: "@createArray('a', 'b')",
          actions: {
            Inner: {
              type: 'Foreach',
              foreach: '@createArray(1, 2)',
              actions: { Pair: compose("@concat(items('Outer'), item())") },
            },
          },
        },
        Res: compose("@result('Outer')", { Outer: ['Succeeded'] }),
      }),
    );
    expect(run.state.records.filter((r) => r.name === 'Pair').map((r) => r.outputs)).toEqual(['a1', 'a2', 'b1', 'b2']);
    const res = run.action('Res')!.outputs as Array<{ name: string; outputs: unknown[] }>;
    expect(res.map((r) => r.name)).toEqual(['Inner']);
    expect(res[0]!.outputs).toHaveLength(2);
    expect(run.state.records.find((r) => r.name === 'Pair')!.repetition).toEqual([
      { loop: 'Outer', index: 0 },
      { loop: 'Inner', index: 0 },
    ]);
  });
  it('Foreach over a non-array fails; over an empty array succeeds without iterations', () => {
    const bad = new TestRun(def({ Loop: { type: 'Foreach', foreach: "@'text'", actions: {} } }));
    expect(bad.status('Loop')).toBe('Failed');
    const empty = new TestRun(
      def({ Loop: { type: 'Foreach', foreach: '@createArray()', actions: { X: compose(1) } } }),
    );
    expect(empty.status('Loop')).toBe('Succeeded');
    expect(empty.action('X')).toBeUndefined();
  });
});

describe('Until', () => {
  const untilDef = (
    expression: unknown,
    limit: unknown,
    extra: Record<string, unknown> = {},
    body: Record<string, unknown> = {},
  ) =>
    def({
      Init: { type: 'InitializeVariable', inputs: { variables: [{ name: 'i', type: 'integer', value: 0 }] } },
      Loop: {
        type: 'Until',
        expression,
        limit,
        runAfter: { Init: ['Succeeded'] },
        ...extra,
        actions: {
          Inc: { type: 'IncrementVariable', inputs: { name: 'i' } },
          Idx: compose("@iterationIndexes('Loop')", { Inc: ['Succeeded'] }),
          ...body,
        },
      },
    });
  it.each([
    ['condition met at 3 (do/while)', "@equals(variables('i'), 3)", { count: 60, timeout: 'PT1H' }, {}, 3, 'Succeeded'],
    [
      'condition object form',
      { and: [{ greaterOrEquals: ["@variables('i')", 2] }] },
      { count: 60 },
      {},
      2,
      'Succeeded',
    ],
    ['count limit reached', '@equals(1, 2)', { count: 5, timeout: 'PT1H' }, {}, 5, 'Succeeded'],
    [
      'count limit with FailWhenLimitsReached',
      '@equals(1, 2)',
      { count: 4 },
      { operationOptions: 'FailWhenLimitsReached' },
      4,
      'Failed',
    ],
    ['condition already true still runs once', '@true', { count: 10 }, {}, 1, 'Succeeded'],
    ['default count is 60', '@false', undefined, {}, 60, 'Succeeded'],
  ])('%s', (_label, expression, limit, extra, iterations, status) => {
    const run = new TestRun(untilDef(expression, limit, extra));
    expect(run.status('Loop')).toBe(status);
    expect(run.state.variables.i!.value).toBe(iterations);
    expect(run.action('Loop')!.iterations).toHaveLength(iterations);
    expect(run.state.records.filter((r) => r.name === 'Idx').map((r) => r.outputs)).toEqual([
      ...Array(iterations).keys(),
    ]);
    if (status === 'Failed') expect(run.action('Loop')!.error!.code).toBe('UntilLimitsReached');
  });
  it('timeout limit: checked between iterations, with time passing in Delays', () => {
    const run = new TestRun(
      untilDef(
        '@false',
        { count: 100, timeout: 'PT3M' },
        {},
        {
          Pause: { type: 'Wait', inputs: { interval: { count: 1, unit: 'Minute' } }, runAfter: { Idx: ['Succeeded'] } },
        },
      ),
    );
    for (let i = 0; i < 10 && run.state.status === 'Running'; i++) {
      const t = run.pendingTimers();
      expect(t).toHaveLength(1);
      run.fire(t[0]!.timerId);
    }
    expect(run.status('Loop')).toBe('Succeeded');
    expect(run.state.variables.i!.value).toBe(3);
  });
});

describe('action timeouts and Delay', () => {
  it('an Http action past limit.timeout ends TimedOut, is cancelled, and runAfter TimedOut runs', () => {
    const run = new TestRun(
      def({
        Call: { type: 'Http', inputs: { method: 'GET', uri: 'https://example.com' }, limit: { timeout: 'PT10S' } },
        OnTimeout: compose('handled', { Call: ['TimedOut'] }),
        OnFail: compose('no', { Call: ['Failed'] }),
      }),
    );
    const timer = run.pendingTimers()[0]!;
    expect(timer).toMatchObject({ reason: 'timeout', dueAt: '2024-02-13T10:00:10.000Z' });
    const call = run.pendingCalls()[0]!;
    const cmds = run.fire(timer.timerId);
    expect(cmds).toContainEqual({ type: 'cancelAction', callId: call.callId });
    expect(run.action('Call')).toMatchObject({ status: 'TimedOut', code: 'ActionTimedOut' });
    expect(run.status('OnTimeout')).toBe('Succeeded');
    expect(run.status('OnFail')).toBe('Skipped');
    // TimedOut counts as a failure for the run status.
    expect(run.state.status).toBe('Failed');
    run.complete(call.callId, { kind: 'http', statusCode: 200 });
    expect(run.action('Call')!.status).toBe('TimedOut');
  });
  it('an answer before the timeout cancels the timeout timer', () => {
    const run = new TestRun(
      def({
        Call: { type: 'Http', inputs: { method: 'GET', uri: 'https://example.com' }, limit: { timeout: 'PT10S' } },
      }),
    );
    const timer = run.pendingTimers()[0]!;
    const cmds = run.complete(run.pendingCalls()[0]!.callId, { kind: 'http', statusCode: 200, body: { ok: true } });
    expect(cmds).toContainEqual({ type: 'cancelTimer', timerId: timer.timerId });
    expect(run.state.status).toBe('Succeeded');
    expect(run.action('Call')!.outputs).toEqual({ statusCode: 200, headers: {}, body: { ok: true } });
  });
  it.each([
    [{ interval: { count: 90, unit: 'Second' } }, '2024-02-13T10:01:30.000Z'],
    [{ interval: { count: 1, unit: 'Month' } }, '2024-03-13T10:00:00.000Z'],
    [{ until: { timestamp: '2024-02-14T00:00:00Z' } }, '2024-02-14T00:00:00.000Z'],
  ])('Wait %j starts a timer due %s', (inputs, due) => {
    const run = new TestRun(
      def({ Delay: { type: 'Wait', inputs }, After: compose('@utcNow()', { Delay: ['Succeeded'] }) }),
    );
    const t = run.pendingTimers()[0]!;
    expect(t.dueAt).toBe(due);
    run.fire(t.timerId);
    expect(run.state.status).toBe('Succeeded');
    expect(Date.parse(run.action('After')!.outputs as string)).toBe(Date.parse(due));
  });
  it('an invalid ISO 8601 timeout makes the action fail when it runs', () => {
    const run = new TestRun(
      def({
        Call: { type: 'Http', inputs: { method: 'GET', uri: 'https://example.com' }, limit: { timeout: '10 seconds' } },
      }),
    );
    expect(run.action('Call')!.status).toBe('Failed');
  });
});

describe('retry policies in the engine', () => {
  const httpDef = (retryPolicy?: unknown) =>
    def({
      Call: {
        type: 'Http',
        inputs: { method: 'GET', uri: 'https://example.com', ...(retryPolicy ? { retryPolicy } : {}) },
      },
    });
  it.each([
    ['fixed count 2', { type: 'fixed', count: 2, interval: 'PT30S' }, 503, 3, [30_000, 30_000]],
    ['none', { type: 'none' }, 503, 1, []],
    ['400 is never retried', undefined, 400, 1, []],
    ['default: exponential, 4 retries', undefined, 500, 5, 'exponential'],
    ['429 is retried', { type: 'fixed', count: 1, interval: 'PT5S' }, 429, 2, [5_000]],
    ['408 is retried', { type: 'fixed', count: 1, interval: 'PT5S' }, 408, 2, [5_000]],
  ])('%s', (_label, policy, status, attempts, waits) => {
    const run = new TestRun(httpDef(policy));
    for (let i = 0; i < 20 && run.state.status === 'Running'; i++) {
      const call = run.pendingCalls()[0];
      if (call) run.complete(call.callId, { kind: 'http', statusCode: status, body: 'no' });
      else run.fire(run.pendingTimers()[0]!.timerId);
    }
    const rec = run.action('Call')!;
    expect(rec.status).toBe('Failed');
    expect(rec.code).toBe(
      status === 400
        ? 'BadRequest'
        : status === 429
          ? 'TooManyRequests'
          : status === 408
            ? 'RequestTimeout'
            : status === 500
              ? 'InternalServerError'
              : 'ServiceUnavailable',
    );
    expect(rec.attempts?.length ?? 1).toBe(attempts);
    const actualWaits = (rec.attempts ?? []).slice(0, -1).map((a) => a.retryAfterMs);
    if (waits === 'exponential') {
      // retry k waits in [max(2^(k-2)·7s, 5s), min(2^(k-1)·7s, 1h)]
      const bounds = [
        [5_000, 7_000],
        [7_000, 14_000],
        [14_000, 28_000],
        [28_000, 56_000],
      ];
      actualWaits.forEach((w, k) => {
        expect(w).toBeGreaterThanOrEqual(bounds[k]![0]!);
        expect(w).toBeLessThanOrEqual(bounds[k]![1]!);
      });
    } else expect(actualWaits).toEqual(waits);
  });
  it('Retry-After (seconds) replaces the policy interval; success after retries keeps the attempts', () => {
    const run = new TestRun(httpDef({ type: 'fixed', count: 3, interval: 'PT20S' }));
    run.complete(run.pendingCalls()[0]!.callId, { kind: 'http', statusCode: 503, headers: { 'Retry-After': '2' } });
    expect(run.pendingTimers()[0]).toMatchObject({ reason: 'retry', dueAt: '2024-02-13T10:00:02.000Z' });
    run.fire(run.pendingTimers()[0]!.timerId);
    run.complete(run.pendingCalls()[0]!.callId, {
      kind: 'error',
      code: 'HTTP_CONNECTION_FAILED',
      message: 'reset',
      retryable: true,
    });
    run.fire(run.pendingTimers()[0]!.timerId);
    run.complete(run.pendingCalls()[0]!.callId, { kind: 'http', statusCode: 200, body: 'ok' });
    const rec = run.action('Call')!;
    expect(rec.status).toBe('Succeeded');
    expect(rec.attempts!.map((a) => [a.attempt, a.status, a.statusCode ?? a.error?.code, a.retryAfterMs])).toEqual([
      [1, 'Failed', 503, 2000],
      [2, 'Failed', 'HTTP_CONNECTION_FAILED', 20000],
      [3, 'Succeeded', 200, undefined],
    ]);
  });
  it('a non-retryable error (policy denied) fails at once', () => {
    const run = new TestRun(httpDef());
    run.complete(run.pendingCalls()[0]!.callId, { kind: 'error', code: 'HTTP_HOST_DENIED', message: 'denied' });
    expect(run.action('Call')).toMatchObject({ status: 'Failed', code: 'HTTP_HOST_DENIED' });
  });
});

describe('secure inputs and outputs', () => {
  const secure = (props: string[]) => ({ secureData: { properties: props } });
  const run = new TestRun(
    def({
      Secret: {
        type: 'Compose',
        inputs: "@triggerBody()['password']",
        runtimeConfiguration: secure(['inputs', 'outputs']),
      },
      UsesSecret: compose("@concat('pw=', outputs('Secret'))", { Secret: ['Succeeded'] }),
      Plain: compose('visible', { UsesSecret: ['Succeeded'] }),
      OnlyOut: {
        type: 'Compose',
        inputs: 'in-visible',
        runtimeConfiguration: secure(['outputs']),
        runAfter: { Plain: ['Succeeded'] },
      },
      Reply: {
        type: 'Response',
        inputs: { statusCode: 200, body: "@outputs('UsesSecret')" },
        runAfter: { OnlyOut: ['Succeeded'] },
      },
    }),
    { trigger: { body: { password: 'hunter2' } } },
  );
  const record = runRecord(run.state);
  const byName = Object.fromEntries(record.actions.map((a) => [a.name, a]));
  it.each([
    ['Secret', REDACTED, REDACTED, { inputs: true, outputs: true }],
    ['UsesSecret', REDACTED, REDACTED, { inputs: true, outputs: true }],
    ['Plain', 'visible', 'visible', undefined],
    ['OnlyOut', 'in-visible', REDACTED, { outputs: true }],
  ])('%s: inputs %s, outputs %s in the history', (name, inputs, outputs, flags) => {
    expect(byName[name]!.inputs).toEqual(inputs);
    expect(byName[name]!.outputs).toEqual(outputs);
    expect(byName[name]!.secure).toEqual(flags);
  });
  it('the engine state keeps the real values (the run needs them); the response reaches the caller', () => {
    expect(run.action('Secret')!.outputs).toBe('hunter2');
    expect(run.commands.find((c) => c.type === 'respond')).toMatchObject({ body: 'pw=hunter2' });
  });
  it('a response built from secure data is redacted in the history', () => {
    expect(record.response).toMatchObject({ statusCode: 200, body: REDACTED, secure: true });
    // (the trigger body itself is not secure in this flow: only what the actions made of it)
    expect(JSON.stringify([record.actions, record.response])).not.toContain('hunter2');
    expect(JSON.stringify(summarizeRun(run.state))).not.toContain('hunter2');
  });
  it('secure trigger outputs redact the trigger and the inputs that read it', () => {
    const d = def({ Read: compose('@triggerBody()') });
    (d.triggers as Record<string, Record<string, unknown>>).manual!.runtimeConfiguration = secure(['outputs']);
    const r = new TestRun(d, { trigger: { body: { token: 's3cret' } } });
    const rec = runRecord(r.state);
    expect(JSON.stringify(rec)).not.toContain('s3cret');
    expect(rec.actions[0]!.secure).toEqual({ inputs: true, outputs: true });
  });
  it('secure parameters (securestring) redact the inputs that read them', () => {
    const d = def(
      { Read: compose("@parameters('key')") },
      { parameters: { key: { type: 'securestring', defaultValue: 'k-123' } } },
    );
    const rec = runRecord(new TestRun(d).state);
    expect(JSON.stringify(rec.actions)).not.toContain('k-123');
  });
});

describe('static results', () => {
  it.each([
    [
      'definition staticResults enabled by runtimeConfiguration',
      { Mock: { status: 'Succeeded', outputs: { statusCode: 200, body: { id: 7 } } } },
      'Enabled',
      undefined,
      'Succeeded',
      { id: 7 },
    ],
    [
      'disabled static result does not apply',
      { Mock: { status: 'Succeeded', outputs: { body: 1 } } },
      'Disabled',
      undefined,
      'Failed',
      undefined,
    ],
    [
      'run override by action name',
      {},
      undefined,
      { Get: { status: 'Succeeded', outputs: { body: 'by-name' } } },
      'Succeeded',
      'by-name',
    ],
    [
      'run override by static result name',
      { Mock: { status: 'Succeeded', outputs: { body: 1 } } },
      'Enabled',
      { Mock: { status: 'Failed', outputs: { errors: [{ code: 'X', message: 'm' }] } } },
      'Failed',
      undefined,
    ],
  ])('%s', (_label, staticResults, enabled, overrides, status, body) => {
    const action = {
      type: 'OpenApiConnection',
      inputs: {
        host: {
          apiId: '/providers/Microsoft.PowerApps/apis/shared_sharepointonline',
          connectionName: 'shared_sharepointonline',
          operationId: 'GetItems',
        },
        parameters: { dataset: 'x' },
      },
      ...(enabled ? { runtimeConfiguration: { staticResult: { name: 'Mock', staticResultOptions: enabled } } } : {}),
    };
    const run = new TestRun(
      def({ Get: action, Use: compose("@body('Get')", { Get: ['Succeeded'] }) }, { staticResults }),
      overrides ? { staticResults: overrides } : {},
    );
    if (run.state.status === 'Running') {
      // not mocked: the connector call goes out; answer like the runner does without a connector runtime
      const call = run.pendingCalls()[0]!;
      expect(call).toMatchObject({ operation: 'connector', connectionName: 'shared_sharepointonline' });
      run.complete(call.callId, { kind: 'error', code: 'CONNECTOR_NOT_AVAILABLE', message: 'no connector runtime' });
    }
    expect(run.status('Get')).toBe(status);
    if (status === 'Succeeded') expect(run.action('Use')!.outputs).toEqual(body);
  });
  it('a Failed static result takes its error from outputs.errors', () => {
    const run = new TestRun(def({ Get: { type: 'Http', inputs: { method: 'GET', uri: 'https://x' } } }), {
      staticResults: { Get: { status: 'Failed', outputs: { errors: [{ code: 'NotFound', message: 'gone' }] } } },
    });
    expect(run.action('Get')!.error).toEqual({ code: 'NotFound', message: 'gone' });
  });
});

describe('definition checks', () => {
  it.each([
    [
      'duplicate action names across containers',
      { A: compose(1), S: { type: 'Scope', actions: { A: compose(2) } } },
      'DUPLICATE_ACTION_NAME',
    ],
    [
      'runAfter naming an action of another container',
      { A: compose(1), S: { type: 'Scope', actions: { B: compose(2, { A: ['Succeeded'] }) } } },
      'INVALID_RUN_AFTER',
    ],
    ['runAfter cycle', { A: compose(1, { B: ['Succeeded'] }), B: compose(2, { A: ['Succeeded'] }) }, 'RUN_AFTER_CYCLE'],
  ])('%s is refused (%s)', (_label, actions, code) => {
    expect(() => compileDefinition(def(actions))).toThrow(expect.objectContaining({ code }));
  });
  it('an unknown action type fails when it runs, naming the type', () => {
    const run = new TestRun(def({ Js: { type: 'JavaScriptCode', inputs: {} } }));
    expect(run.action('Js')!.error).toMatchObject({ code: 'ActionTypeNotSupported' });
  });
  it('a definition is compiled once per object', () => {
    const d = def({ A: compose(1) });
    expect(compileDefinition(d)).toBe(compileDefinition(d));
  });
});

describe('data operations', () => {
  const people = [
    { name: 'Ann', age: 31, city: 'Oslo' },
    { name: 'Bob, Jr.', age: 17, city: null },
    { name: 'Cy "C"', age: 45, city: 'Rome' },
  ];
  it.each([
    [
      'Select (object map)',
      {
        type: 'Select',
        inputs: {
          from: '@triggerBody()',
          select: { who: "@item()['name']", adult: "@greaterOrEquals(item()['age'], 18)" },
        },
      },
      {
        body: [
          { who: 'Ann', adult: true },
          { who: 'Bob, Jr.', adult: false },
          { who: 'Cy "C"', adult: true },
        ],
      },
    ],
    [
      'Select (text mode)',
      { type: 'Select', inputs: { from: '@triggerBody()', select: "@item()['age']" } },
      { body: [31, 17, 45] },
    ],
    [
      'Query (filter array)',
      { type: 'Query', inputs: { from: '@triggerBody()', where: "@less(item()['age'], 40)" } },
      { body: [people[0], people[1]] },
    ],
    ['Query with no match', { type: 'Query', inputs: { from: '@triggerBody()', where: '@false' } }, { body: [] }],
    [
      'Join',
      { type: 'Join', inputs: { from: "@createArray('a', 1, null, true)", joinWith: ';' } },
      { body: 'a;1;;true' },
    ],
    [
      'Table CSV without columns',
      { type: 'Table', inputs: { from: '@triggerBody()', format: 'CSV' } },
      {
        body: 'name,age,city\r\nAnn,31,Oslo\r\n"Bob, Jr.",17,\r\n"Cy ""C""",45,Rome\r\n',
      },
    ],
    [
      'Table CSV with columns',
      {
        type: 'Table',
        inputs: {
          from: '@triggerBody()',
          format: 'CSV',
          columns: [
            { header: 'Who', value: "@item()['name']" },
            { header: 'Next', value: "@add(item()['age'], 1)" },
          ],
        },
      },
      {
        body: 'Who,Next\r\nAnn,32\r\n"Bob, Jr.",18\r\n"Cy ""C""",46\r\n',
      },
    ],
    [
      'Table HTML',
      { type: 'Table', inputs: { from: '@take(triggerBody(), 1)', format: 'HTML' } },
      {
        body: '<table><thead><tr><th>name</th><th>age</th><th>city</th></tr></thead><tbody><tr><td>Ann</td><td>31</td><td>Oslo</td></tr></tbody></table>',
      },
    ],
    [
      'ParseJson of a JSON string',
      {
        type: 'ParseJson',
        inputs: {
          content: '{"a":[1,2]}',
          schema: { type: 'object', properties: { a: { type: 'array', items: { type: 'integer' } } } },
        },
      },
      { body: { a: [1, 2] } },
    ],
    [
      'Compose keeps JSON types',
      {
        type: 'Compose',
        inputs: { n: '@length(triggerBody())', s: 'text @{length(triggerBody())}', lit: '@@not-an-expression' },
      },
      { n: 3, s: 'text 3', lit: '@not-an-expression' },
    ],
  ])('%s', (_label, action, outputs) => {
    const run = new TestRun(def({ Op: action }), { trigger: { body: people } });
    expect(run.status('Op')).toBe('Succeeded');
    expect(run.action('Op')!.outputs).toEqual(outputs);
  });
  it.each([
    [
      'a property of the wrong type',
      { a: 'x' },
      { type: 'object', properties: { a: { type: 'integer' } } },
      'Invalid type. Expected Integer but got String.',
    ],
    [
      'a missing required property',
      {},
      { type: 'object', required: ['a'] },
      'Required properties are missing from object: a.',
    ],
    [
      'null where a string is expected',
      { a: null },
      { type: 'object', properties: { a: { type: 'string' } } },
      'Invalid type. Expected String but got Null.',
    ],
    ['an enum miss', { a: 'z' }, { type: 'object', properties: { a: { enum: ['x', 'y'] } } }, 'not defined in enum'],
  ])('ParseJson fails on %s', (_label, content, schema, message) => {
    const run = new TestRun(def({ Op: { type: 'ParseJson', inputs: { content: '@triggerBody()', schema } } }), {
      trigger: { body: content },
    });
    const rec = run.action('Op')!;
    expect(rec.status).toBe('Failed');
    expect(rec.error!.code).toBe('ValidationFailed');
    expect(rec.error!.message).toContain(message);
    expect((rec.outputs as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
  });
  it.each([
    ['Select from a non-array', { type: 'Select', inputs: { from: "@'x'", select: '@item()' } }],
    ['Query where not boolean', { type: 'Query', inputs: { from: '@createArray(1)', where: '@item()' } }],
    ['Table of an unknown format', { type: 'Table', inputs: { from: '@createArray()', format: 'XLSX' } }],
  ])('%s fails with InvalidTemplate', (_label, action) => {
    const run = new TestRun(def({ Op: action }));
    expect(run.action('Op')!.error!.code).toBe('InvalidTemplate');
  });
});

describe('Response', () => {
  it.each([
    [
      { statusCode: 201, headers: { 'X-N': 5 }, body: { ok: true } },
      'Succeeded',
      { statusCode: 201, headers: { 'X-N': '5' }, body: { ok: true } },
    ],
    [{ body: 'text' }, 'Succeeded', { statusCode: 200, headers: {}, body: 'text' }],
    [{ statusCode: 302 }, 'Failed', undefined],
    [{ statusCode: 'abc' }, 'Failed', undefined],
  ])('%j → %s', (inputs, status, respond) => {
    const run = new TestRun(def({ Reply: { type: 'Response', inputs } }));
    expect(run.status('Reply')).toBe(status);
    const cmd = run.commands.find((c) => c.type === 'respond');
    if (respond) expect(cmd).toEqual({ type: 'respond', action: 'Reply', ...respond });
    else expect(cmd).toBeUndefined();
  });
  it('a second Response fails: the caller already has an answer', () => {
    const run = new TestRun(
      def({
        One: { type: 'Response', inputs: { statusCode: 200 } },
        Two: { type: 'Response', inputs: { statusCode: 500 }, runAfter: { One: ['Succeeded'] } },
      }),
    );
    expect(run.action('Two')!.error!.code).toBe('ResponseAlreadySent');
    expect(run.commands.filter((c) => c.type === 'respond')).toHaveLength(1);
  });
});

describe('triggers as inputs', () => {
  const probe = def({
    Body: compose('@triggerBody()'),
    Headers: compose("@triggerOutputs()['headers']"),
    Queries: compose("@triggerOutputs()?['queries']"),
    Name: compose("@trigger()['name']"),
    Scheduled: compose("@trigger()?['scheduledTime']"),
    Run: compose("@workflow()['run']['name']"),
  });
  it.each([
    [
      'Request/Http with a body, headers and query',
      { type: 'Request', kind: 'Http' },
      { body: { a: 1 }, headers: { 'x-id': '7' }, queries: { q: 'v' } },
      { Body: { a: 1 }, Headers: { 'x-id': '7' }, Queries: { q: 'v' }, Scheduled: null },
    ],
    ['Request/Http without a body', { type: 'Request', kind: 'Http' }, {}, { Body: null, Headers: {}, Queries: null }],
    ['Button without a body', { type: 'Request', kind: 'Button' }, {}, { Body: {}, Headers: {} }],
    ['PowerAppV2', { type: 'Request', kind: 'PowerAppV2' }, { body: { text: 'hi' } }, { Body: { text: 'hi' } }],
    [
      'Recurrence',
      { type: 'Recurrence', recurrence: { frequency: 'Day', interval: 1 } },
      { scheduledTime: '2024-02-13T09:00:00Z' },
      { Body: null, Scheduled: '2024-02-13T09:00:00Z' },
    ],
    [
      'Recurrence without a scheduled time',
      { type: 'Recurrence', recurrence: { frequency: 'Day', interval: 1 } },
      {},
      { Scheduled: T0 },
    ],
  ])('%s', (_label, trigger, input, expected) => {
    const d = { ...probe, triggers: { manual: trigger } };
    const run = new TestRun(d, { trigger: input });
    expect(run.state.status).toBe('Succeeded');
    for (const [name, value] of Object.entries(expected)) expect(run.action(name)!.outputs).toEqual(value);
    expect(run.action('Name')!.outputs).toBe('manual');
    expect(run.action('Run')!.outputs).toBe('run-1');
  });
  it.each([
    [[{ expression: "@equals(triggerBody()?['kind'], 'order')" }], { kind: 'order' }, 'Succeeded'],
    [[{ expression: "@equals(triggerBody()?['kind'], 'order')" }], { kind: 'refund' }, 'Skipped'],
    [[{ expression: '@true' }, { expression: "@greater(triggerBody()?['n'], 1)" }], { n: 1 }, 'Skipped'],
  ])('trigger conditions %j with body %j → run %s', (conditions, body, status) => {
    const d = def({ A: compose(1) });
    (d.triggers as Record<string, Record<string, unknown>>).manual!.conditions = conditions;
    const run = new TestRun(d, { trigger: { body } });
    expect(run.state.status).toBe(status);
    if (status === 'Skipped') {
      expect(run.state.records).toHaveLength(0);
      expect(run.commands).toEqual([
        { type: 'finish', status: 'Skipped', error: expect.objectContaining({ code: 'TriggerConditionsNotMet' }) },
      ]);
    }
  });
});

describe('environment variables as definition parameters', () => {
  const d = def(
    {
      Url: compose("@parameters('Site URL (pb_SiteUrl)')"),
      Count: compose("@add(parameters('Max (pb_Max)'), 1)"),
      Flag: compose("@parameters('On (pb_On)')"),
      Obj: compose("@parameters('Cfg (pb_Cfg)')?['k']"),
    },
    {
      parameters: {
        $connections: { type: 'Object', defaultValue: {} },
        'Site URL (pb_SiteUrl)': {
          type: 'String',
          defaultValue: 'https://default',
          metadata: { schemaName: 'pb_SiteUrl' },
        },
        'Max (pb_Max)': { type: 'Int', defaultValue: 1, metadata: { schemaName: 'pb_Max' } },
        'On (pb_On)': { type: 'Bool', defaultValue: false, metadata: { schemaName: 'pb_On' } },
        'Cfg (pb_Cfg)': { type: 'Object', defaultValue: { k: 'default' }, metadata: { schemaName: 'pb_Cfg' } },
      },
    },
  );
  it.each([
    [
      'defaults when the environment has no values',
      {},
      {},
      { Url: 'https://default', Count: 2, Flag: false, Obj: 'default' },
    ],
    [
      'environment values (text, coerced to the parameter type)',
      { pb_SiteUrl: 'https://env', pb_Max: '41', pb_On: 'true', pb_Cfg: '{"k":"env"}' },
      {},
      { Url: 'https://env', Count: 42, Flag: true, Obj: 'env' },
    ],
    [
      'an explicit parameter value wins',
      { pb_SiteUrl: 'https://env' },
      { 'Site URL (pb_SiteUrl)': 'https://explicit' },
      { Url: 'https://explicit' },
    ],
  ])('%s', (_label, environmentVariables, parameters, expected) => {
    const run = new TestRun(d, { environmentVariables, parameters });
    for (const [name, value] of Object.entries(expected)) expect(run.action(name)!.outputs).toEqual(value);
  });
});

describe('run state stays JSON', () => {
  it('64-bit integers from ticks() are stored as numbers', () => {
    const run = new TestRun(
      def({
        T: compose({ t: "@ticks('2024-01-01T00:00:00Z')", list: ["@ticks('0001-01-01T00:00:00Z')"] }),
        V: compose("@ticks('2024-01-01T00:00:00Z')"),
      }),
    );
    expect(() => JSON.stringify(run.state)).not.toThrow();
    expect(typeof run.action('V')!.outputs).toBe('number');
    expect(run.action('T')!.outputs).toEqual({ t: 638396640000000000, list: [0] });
  });
});

describe('Http async pattern (202 + Location)', () => {
  it.each([
    ['polls the Location until the answer is not 202', undefined, 3, 'Succeeded', 200],
    ['DisableAsyncPattern takes the 202 as the answer', 'DisableAsyncPattern', 1, 'Succeeded', 202],
  ])('%s', (_label, operationOptions, calls, status, finalCode) => {
    const run = new TestRun(
      def({
        Start: {
          type: 'Http',
          inputs: { method: 'POST', uri: 'https://api.example.com/jobs', body: { x: 1 } },
          ...(operationOptions ? { operationOptions } : {}),
        },
      }),
    );
    const sent: ExecuteActionCommand[] = [];
    const answers = [
      { kind: 'http' as const, statusCode: 202, headers: { Location: '/jobs/7', 'Retry-After': '5' } },
      { kind: 'http' as const, statusCode: 202, headers: { location: 'https://api.example.com/jobs/7' } },
      { kind: 'http' as const, statusCode: 200, body: { done: true } },
    ];
    for (let i = 0; i < 10 && run.state.status === 'Running'; i++) {
      const call = run.pendingCalls()[0];
      if (call) {
        sent.push(call);
        run.complete(call.callId, answers[sent.length - 1]!);
      } else run.fire(run.pendingTimers()[0]!.timerId);
    }
    expect(sent).toHaveLength(calls);
    expect(run.status('Start')).toBe(status);
    expect((run.action('Start')!.outputs as { statusCode: number }).statusCode).toBe(finalCode);
    if (calls === 3) {
      expect(sent.slice(1).map((c) => [c.inputs.method, c.inputs.uri])).toEqual([
        ['GET', 'https://api.example.com/jobs/7'],
        ['GET', 'https://api.example.com/jobs/7'],
      ]);
      // Retry-After: 5 s for the first poll, the 10 s default for the second
      expect(Date.parse(run.action('Start')!.endTime!) - Date.parse(run.action('Start')!.startTime!)).toBe(15_000);
      expect(run.action('Start')!.inputs).toMatchObject({ method: 'POST' });
    }
  });
});
