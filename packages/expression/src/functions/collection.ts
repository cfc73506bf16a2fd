/**
 * Collection functions (wdl-spec §6 "Collection") and the logical comparison functions.
 * Arrays compare items with `equals()` semantics; nothing mutates its inputs.
 */
import type { CallSite, FunctionDef } from './common.js';
import { argArray, argBool, argInt, argString, fail, optString, typeError } from './common.js';
import { compareNumeric, isNumeric, isObject, setKey, toText, valuesEqual, type JsonObject } from '../values.js';
import { checkLength } from './string.js';

function indexOfValue(list: unknown[], v: unknown): number {
  for (let i = 0; i < list.length; i++) if (valuesEqual(list[i], v)) return i;
  return -1;
}

function dedupe(items: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const x of items) if (indexOfValue(out, x) < 0) out.push(x);
  return out;
}

function collectionArgs(site: CallSite, args: unknown[]): { arrays?: unknown[][]; objects?: JsonObject[] } {
  if (Array.isArray(args[0])) {
    return {
      arrays: args.map((a, i) =>
        Array.isArray(a) ? a : typeError(site, i, 'an array (all parameters must be arrays or all objects)', a),
      ),
    };
  }
  if (isObject(args[0])) {
    return {
      objects: args.map((a, i) =>
        isObject(a) ? a : typeError(site, i, 'an object (all parameters must be arrays or all objects)', a),
      ),
    };
  }
  return typeError(site, 0, 'an array or an object', args[0]);
}

/** Ordering of primitive values for `sort` and the comparison functions. */
function compareValues(site: CallSite, a: unknown, b: unknown, ai = 0, bi = 1): number {
  if (a === null || a === undefined) a = '';
  if (b === null || b === undefined) b = '';
  if (isNumeric(a) && isNumeric(b)) return compareNumeric(a, b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (!(isNumeric(a) || typeof a === 'string' || typeof a === 'boolean'))
    typeError(site, ai, 'an integer, a float, a decimal, a string or a boolean', a);
  return typeError(
    site,
    bi,
    `a value of the same type as the ${ai === 0 ? 'first' : 'other'} parameter (${typeof a === 'string' ? 'a string' : isNumeric(a) ? 'a number' : 'a boolean'})`,
    b,
  );
}

function comparison(name: string, test: (c: number) => boolean): FunctionDef {
  return {
    name,
    group: 'logical',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => test(compareValues(site, args[0], args[1])),
  };
}

export const collectionFunctions: FunctionDef[] = [
  {
    name: 'contains',
    group: 'collection',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const c = args[0];
      const v = args[1];
      if (typeof c === 'string') return c.includes(typeof v === 'string' ? v : toText(v));
      if (Array.isArray(c)) return indexOfValue(c, v) >= 0;
      if (isObject(c)) return Object.hasOwn(c, typeof v === 'string' ? v : toText(v));
      return typeError(site, 0, 'a string, an array or an object', c);
    },
  },
  {
    name: 'empty',
    group: 'collection',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const c = args[0];
      if (c === null || c === undefined) return true;
      if (typeof c === 'string' || Array.isArray(c)) return c.length === 0;
      if (isObject(c)) return Object.keys(c).length === 0;
      return typeError(site, 0, 'a string, an array or an object', c);
    },
  },
  {
    name: 'first',
    group: 'collection',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const c = args[0];
      if (typeof c === 'string') return c.length ? c[0] : null;
      if (Array.isArray(c)) return c.length ? (c[0] ?? null) : null;
      return typeError(site, 0, 'an array or a string', c);
    },
  },
  {
    name: 'last',
    group: 'collection',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => {
      const c = args[0];
      if (typeof c === 'string') return c.length ? c[c.length - 1] : null;
      if (Array.isArray(c)) return c.length ? (c[c.length - 1] ?? null) : null;
      return typeError(site, 0, 'an array or a string', c);
    },
  },
  {
    name: 'take',
    group: 'collection',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const c = args[0];
      const n = argInt(site, args, 1);
      if (n < 0) fail(site, `the count ${n} must not be negative`);
      if (typeof c === 'string' || Array.isArray(c)) return c.slice(0, n);
      return typeError(site, 0, 'an array or a string', c);
    },
  },
  {
    name: 'skip',
    group: 'collection',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const c = args[0];
      const n = argInt(site, args, 1);
      if (n < 0) fail(site, `the count ${n} must not be negative`);
      if (typeof c === 'string' || Array.isArray(c)) return c.slice(n);
      return typeError(site, 0, 'an array or a string', c);
    },
  },
  {
    name: 'join',
    group: 'collection',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const arr = argArray(site, args, 0);
      const delim = args[1] === null ? '' : argString(site, args, 1);
      let out = '';
      for (let i = 0; i < arr.length; i++) {
        if (i) out += delim;
        const v = arr[i];
        out += typeof v === 'string' ? v : toText(v);
        checkLength(site, out.length);
      }
      return out;
    },
  },
  {
    name: 'reverse',
    group: 'collection',
    min: 1,
    max: 1,
    pure: true,
    impl: (args, site) => argArray(site, args, 0).slice().reverse(),
  },
  {
    name: 'sort',
    group: 'collection',
    min: 1,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const arr = argArray(site, args, 0).slice();
      const key = optString(site, args, 1);
      if (key === undefined) return arr.sort((a, b) => compareValues(site, a, b, 0, 0));
      const keyOf = (item: unknown): unknown => {
        if (!isObject(item)) return typeError(site, 0, 'an array of objects when a sort key is given', item);
        if (!Object.hasOwn(item, key)) fail(site, `an item has no property '${key}' to sort by`);
        return item[key];
      };
      return arr.sort((a, b) => compareValues(site, keyOf(a), keyOf(b), 0, 0));
    },
  },
  {
    name: 'union',
    group: 'collection',
    min: 1,
    max: Infinity,
    pure: true,
    impl: (args, site) => {
      const { arrays, objects } = collectionArgs(site, args);
      if (arrays) return dedupe(arrays.flat());
      const out: JsonObject = {};
      for (const o of objects ?? []) for (const k of Object.keys(o)) setKey(out, k, o[k]);
      return out;
    },
  },
  {
    name: 'intersection',
    group: 'collection',
    min: 1,
    max: Infinity,
    pure: true,
    impl: (args, site) => {
      const { arrays, objects } = collectionArgs(site, args);
      if (arrays) {
        const [head, ...rest] = arrays as [unknown[], ...unknown[][]];
        return dedupe(head.filter((x) => rest.every((r) => indexOfValue(r, x) >= 0)));
      }
      const [head, ...rest] = objects as [JsonObject, ...JsonObject[]];
      const out: JsonObject = {};
      for (const k of Object.keys(head)) {
        if (!rest.every((o) => Object.hasOwn(o, k))) continue;
        const lastObj = rest.length ? (rest[rest.length - 1] as JsonObject) : head;
        setKey(out, k, lastObj[k]);
      }
      return out;
    },
  },
  {
    name: 'chunk',
    group: 'collection',
    min: 2,
    max: 2,
    pure: true,
    impl: (args, site) => {
      const c = args[0];
      const n = argInt(site, args, 1);
      if (n <= 0) fail(site, `the chunk length ${n} must be greater than zero`);
      if (typeof c !== 'string' && !Array.isArray(c)) return typeError(site, 0, 'an array or a string', c);
      const out: unknown[] = [];
      for (let i = 0; i < c.length; i += n) out.push(c.slice(i, i + n));
      return out;
    },
  },
  // logical comparison
  {
    name: 'and',
    group: 'logical',
    min: 1,
    max: Infinity,
    pure: true,
    impl: (args, site) => {
      let r = true;
      for (let i = 0; i < args.length; i++) if (!argBool(site, args, i)) r = false;
      return r;
    },
  },
  {
    name: 'or',
    group: 'logical',
    min: 1,
    max: Infinity,
    pure: true,
    impl: (args, site) => {
      let r = false;
      for (let i = 0; i < args.length; i++) if (argBool(site, args, i)) r = true;
      return r;
    },
  },
  { name: 'not', group: 'logical', min: 1, max: 1, pure: true, impl: (args, site) => !argBool(site, args, 0) },
  {
    name: 'if',
    group: 'logical',
    min: 3,
    max: 3,
    pure: true,
    impl: (args, site) => (argBool(site, args, 0) ? args[1] : args[2]),
  },
  { name: 'equals', group: 'logical', min: 2, max: 2, pure: true, impl: (args) => valuesEqual(args[0], args[1]) },
  comparison('greater', (c) => c > 0),
  comparison('greaterOrEquals', (c) => c >= 0),
  comparison('less', (c) => c < 0),
  comparison('lessOrEquals', (c) => c <= 0),
];
