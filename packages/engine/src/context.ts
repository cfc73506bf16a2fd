/**
 * The engine's `ExpressionContext`: answers `trigger()`, `actions()`, `variables()`, `item()` …
 * straight from the run state without copying. One instance per step; the engine moves it to the
 * frame and action being evaluated. Reading a record with secure outputs (or a secure parameter)
 * sets `tainted`, so the inputs that read it are redacted from the history too.
 */
import type { ExpressionContext } from '@patchbay/expression';
import { OPERAND_PREFIX, type Plan } from './plan.js';
import { guidFrom, nextRandom } from './random.js';
import type { ActionRecord, RunState } from './types.js';

/** Expression context bound to a run state and a position (frame, current action). */
export class EvalContext implements ExpressionContext {
  /** Frame the expression is evaluated in. */
  frame = 0;
  /** Record of the action being evaluated (`action()`). */
  record: ActionRecord | undefined;
  /** Select/Query/Table element: `item()` inside their per-item expressions. */
  hasItem = false;
  itemValue: unknown;
  /** Operand values of a designer condition object being evaluated. */
  operands: unknown[] | undefined;
  /** Set when the evaluation read secure data. */
  tainted = false;
  nowMs: number;
  private workflowValue: unknown;

  constructor(
    readonly plan: Plan,
    readonly state: RunState,
    nowMs: number,
  ) {
    this.nowMs = nowMs;
  }

  /** Moves the context to an action in a frame and clears the taint flag. */
  at(frame: number, record: ActionRecord | undefined): this {
    this.frame = frame;
    this.record = record;
    this.tainted = false;
    this.hasItem = false;
    this.operands = undefined;
    return this;
  }

  trigger(): unknown {
    if (this.state.trigger.secure?.outputs) this.tainted = true;
    return this.state.trigger;
  }

  /** Record index of the execution of `name` visible from the current frame, or undefined. */
  lookup(name: string): number | undefined {
    const frames = this.state.frames;
    let f: number | null = this.frame;
    while (f !== null) {
      const fr: RunState['frames'][number] | undefined = frames[f];
      if (!fr) break;
      const idx = fr.children[name];
      if (idx !== undefined) return idx;
      f = fr.parent;
    }
    return this.state.latest[name];
  }

  action(name: string): unknown {
    const idx = this.lookup(name);
    if (idx === undefined) return undefined;
    const rec = this.state.records[idx]!;
    if (rec.secure?.outputs) this.tainted = true;
    return rec;
  }

  currentAction(): unknown {
    return this.record;
  }

  variable(name: string): unknown {
    if (this.operands !== undefined && name.startsWith(OPERAND_PREFIX))
      return this.operands[Number(name.slice(OPERAND_PREFIX.length))];
    return this.state.variables[name]?.value;
  }

  parameter(name: string): unknown {
    if (this.state.secureParameters.length > 0 && this.state.secureParameters.includes(name)) this.tainted = true;
    return this.state.parameters[name];
  }

  item(): unknown {
    if (this.hasItem) return this.itemValue;
    const frames = this.state.frames;
    let f: number | null = this.frame;
    while (f !== null) {
      const fr: RunState['frames'][number] | undefined = frames[f];
      if (!fr) break;
      if (fr.loopKind === 'foreach') return fr.item;
      f = fr.parent;
    }
    return undefined;
  }

  items(loopName: string): unknown {
    const frames = this.state.frames;
    let f: number | null = this.frame;
    while (f !== null) {
      const fr: RunState['frames'][number] | undefined = frames[f];
      if (!fr) break;
      if (fr.loopKind === 'foreach' && fr.loopName === loopName) return fr.item;
      f = fr.parent;
    }
    return undefined;
  }

  iterationIndex(loopName: string): number | undefined {
    const frames = this.state.frames;
    let f: number | null = this.frame;
    while (f !== null) {
      const fr: RunState['frames'][number] | undefined = frames[f];
      if (!fr) break;
      if (fr.loopName === loopName) return fr.index;
      f = fr.parent;
    }
    return undefined;
  }

  result(scopeName: string): unknown[] | undefined {
    const idx = this.lookup(scopeName);
    if (idx === undefined) return undefined;
    const container = this.state.containers[idx];
    const action = this.plan.actions.get(scopeName);
    if (!container || !action) return undefined;
    const state = this.state;
    const pick = (frameId: number): ActionRecord[] => {
      const fr = state.frames[frameId];
      if (!fr) return [];
      const block = this.plan.blocks.get(fr.block);
      const out: ActionRecord[] = [];
      for (const n of block?.actions ?? []) {
        const r = fr.children[n];
        if (r !== undefined) {
          const rec = state.records[r]!;
          if (rec.secure?.outputs) this.tainted = true;
          out.push(rec);
        }
      }
      return out;
    };
    if (action.kind === 'foreach' || action.kind === 'until') {
      const block = this.plan.blocks.get(action.blocks!.actions!)!;
      const perIteration = container.frames.map(pick);
      return block.actions
        .map((n) => {
          const recs = perIteration.flatMap((list) => list.filter((r) => r.name === n));
          if (recs.length === 0) return undefined;
          const failed = recs.some((r) => r.status === 'Failed' || r.status === 'TimedOut');
          const last = recs[recs.length - 1]!;
          return {
            name: n,
            outputs: recs,
            startTime: recs[0]!.startTime,
            endTime: last.endTime,
            status: failed ? 'Failed' : last.status,
            code: failed ? 'ActionFailed' : last.code,
          };
        })
        .filter((x) => x !== undefined);
    }
    // Scope / If / Switch: the executed branch first, then the records of the branches not taken.
    return container.frames.flatMap(pick);
  }

  workflow(): unknown {
    if (this.workflowValue === undefined) {
      const w = this.state.workflow;
      const id = `/workflows/${w.id}`;
      this.workflowValue = {
        id,
        name: w.id,
        type: 'Microsoft.Logic/workflows',
        location: 'patchbay',
        run: { id: `${id}/runs/${this.state.runId}`, name: this.state.runId, type: 'Microsoft.Logic/workflows/runs' },
        tags: { flowDisplayName: w.displayName ?? w.id, environmentName: w.environmentName ?? '' },
      };
    }
    return this.workflowValue;
  }

  callbackUrl(): string | undefined {
    return this.state.callbackUrl;
  }

  now(): number {
    return this.nowMs;
  }

  random(): number {
    const [value, next] = nextRandom(this.state.rng);
    this.state.rng = next;
    return value;
  }

  newGuid(): string {
    return guidFrom(() => this.random());
  }
}
