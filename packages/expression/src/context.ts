/**
 * `contextFromData`: an {@link ExpressionContext} over plain data, in the shape of the `context`
 * object of the conformance format (../shared/conformance/README.md). Used by the conformance
 * runner, tests and anyone evaluating expressions outside a run. Time is fixed (`assumeNow` or
 * `now`), randomness is a seeded PRNG: the package never reads the clock or Math.random.
 */
import type { ExpressionContext } from './contract.js';
import { ExpressionError, ExpressionErrorCode } from './errors.js';
import { parseTimestamp, ticksOf, EPOCH_OFFSET_MS } from './functions/datetime.js';

/** Plain runtime data (all optional). Maps are name → value. */
export interface ContextData {
  parameters?: Record<string, unknown>;
  variables?: Record<string, unknown>;
  /** Action name → record `{name, inputs, outputs, status, code, error, startTime, endTime, …}`. */
  actions?: Record<string, unknown>;
  /** The trigger record `{name, inputs, outputs: {headers, body}, …}`. */
  trigger?: unknown;
  /** `item()`: the current item of the innermost loop. */
  item?: unknown;
  /** Loop name → current item, for `items('loop')`. */
  items?: Record<string, unknown>;
  /** Until loop name → zero-based index, for `iterationIndexes('loop')`. */
  iterationIndexes?: Record<string, number>;
  /** Scope name → array of action records, for `result('scope')`. */
  results?: Record<string, unknown[]>;
  workflow?: unknown;
  /** `action()`: the record of the current action. */
  action?: unknown;
  callbackUrl?: string;
}

/** Options of {@link contextFromData}. */
export interface ContextOptions {
  /** The fixed clock: an ISO 8601 timestamp (e.g. `2018-03-01T00:00:00.0000000Z`, kept exact to 100 ns through `nowTicks()`) or epoch milliseconds. Wins over `now`. */
  assumeNow?: string | number;
  /** Fallback clock in epoch milliseconds (e.g. the caller's `Date.now()`), used when `assumeNow` is absent. */
  now?: number;
  /** Seed of the PRNG behind `rand()` and `guid()` (default 1). Same seed → same sequence. */
  seed?: number;
}

function own(map: Record<string, unknown> | undefined, key: string): unknown {
  if (!map || typeof map !== 'object' || !Object.hasOwn(map, key)) return undefined;
  const v = map[key];
  return v === undefined ? null : v;
}

/** mulberry32: a small, fast, seeded PRNG with a full 2^32 period. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * .NET ticks (100 ns since 0001-01-01) of an `assumeNow` value: ISO 8601 text is exact to the
 * seventh fractional digit; epoch milliseconds are rounded to 100 ns. Throws for text that is not
 * a timestamp.
 */
export function clockTicks(assumeNow: string | number): bigint {
  if (typeof assumeNow === 'number') return msToTicks(assumeNow);
  const v = parseTimestamp(assumeNow);
  if (!v) {
    throw new ExpressionError(ExpressionErrorCode.Function, `assumeNow '${assumeNow}' is not a valid timestamp`, {
      assumeNow,
    });
  }
  return ticksOf(v);
}

/** Epoch milliseconds of an `assumeNow` value (fractions below 1 ms as a fraction: not exact to 100 ns; see {@link clockTicks}). */
export function clockValue(assumeNow: string | number): number {
  if (typeof assumeNow === 'number') return assumeNow;
  return ticksToMs(clockTicks(assumeNow));
}

function msToTicks(ms: number): bigint {
  const whole = Math.floor(ms);
  return (BigInt(whole) + BigInt(EPOCH_OFFSET_MS)) * 10_000n + BigInt(Math.round((ms - whole) * 10_000));
}

function ticksToMs(ticks: bigint): number {
  const ms = ticks / 10_000n;
  return Number(ms) - EPOCH_OFFSET_MS + Number(ticks - ms * 10_000n) / 10_000;
}

/** Builds an {@link ExpressionContext} from plain data. */
export function contextFromData(data: ContextData = {}, options: ContextOptions = {}): ExpressionContext {
  const fixedTicks =
    options.assumeNow !== undefined
      ? clockTicks(options.assumeNow)
      : options.now !== undefined
        ? msToTicks(options.now)
        : undefined;
  const fixed = fixedTicks === undefined ? undefined : ticksToMs(fixedTicks);
  const noClock = (): never => {
    throw new ExpressionError(
      ExpressionErrorCode.ReferenceNotFound,
      'No clock was supplied: pass assumeNow or now to contextFromData',
      {},
    );
  };
  const random = prng(options.seed ?? 1);
  const d = data ?? {};
  return {
    trigger: () => (d.trigger === undefined ? undefined : d.trigger),
    action: (name) => own(d.actions, name),
    currentAction: () => d.action,
    variable: (name) => own(d.variables, name),
    parameter: (name) => own(d.parameters, name),
    item: () => (Object.hasOwn(d, 'item') ? (d.item === undefined ? null : d.item) : undefined),
    items: (name) => own(d.items, name),
    iterationIndex: (name) => {
      const v = own(d.iterationIndexes as Record<string, unknown> | undefined, name);
      return typeof v === 'number' ? v : undefined;
    },
    result: (name) => {
      const v = own(d.results as Record<string, unknown> | undefined, name);
      return Array.isArray(v) ? v : undefined;
    },
    workflow: () => d.workflow,
    callbackUrl: () => d.callbackUrl,
    now: () => (fixed === undefined ? noClock() : fixed),
    nowTicks: () => (fixedTicks === undefined ? noClock() : fixedTicks),
    random,
    newGuid: () => {
      let hex = '';
      for (let i = 0; i < 4; i++)
        hex += Math.floor(random() * 4294967296)
          .toString(16)
          .padStart(8, '0');
      const variant = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
    },
  };
}

/** Milliseconds between 0001-01-01 and the Unix epoch (for callers converting .NET ticks). */
export const DOTNET_EPOCH_OFFSET_MS = EPOCH_OFFSET_MS;
