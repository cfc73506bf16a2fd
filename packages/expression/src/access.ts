/**
 * Property and index access (`x['p']`, `x.p`, `x[0]`, `x?['p']`, `x?.p`), wdl-spec §5:
 * a missing property or an out-of-range index without `?` is an error; with `?` it gives null,
 * as does `?` on a null target. Property names are case-sensitive (docs/expressions.md,
 * disputed §10.3). A key containing `/` that is not itself a property is followed as a Power
 * Automate alias path (`['body/value']` ≡ `['body']['value']`).
 */
import { ExpressionError, ExpressionErrorCode } from './errors.js';
import { WdlDecimal } from './decimal.js';
import { typeName, type JsonObject } from './values.js';

/** Where an access happens (for error details). */
export interface AccessSite {
  readonly position: number;
  readonly expression: string;
}

function describeKey(key: unknown): string {
  return typeof key === 'string' ? `'${key}'` : String(key);
}

function err(
  code: (typeof ExpressionErrorCode)[keyof typeof ExpressionErrorCode],
  message: string,
  site: AccessSite,
  extra: Record<string, unknown> = {},
): never {
  throw new ExpressionError(code, message, { position: site.position, expression: site.expression, ...extra });
}

/** Reads `target[key]` with WDL semantics. Never returns undefined. */
export function getMember(target: unknown, key: unknown, optional: boolean, site: AccessSite): unknown {
  if (target === null || target === undefined) {
    if (optional) return null;
    return err(
      ExpressionErrorCode.NullReference,
      `The template language expression '${site.expression}' cannot be evaluated because property ${describeKey(key)} cannot be selected on a null value (use '?' to allow null).`,
      site,
      { property: key },
    );
  }
  if (Array.isArray(target)) {
    let index: number | undefined;
    if (typeof key === 'number' && Number.isInteger(key)) index = key;
    else if (typeof key === 'bigint') index = Number(key);
    if (index === undefined) {
      return err(
        ExpressionErrorCode.InvalidAccess,
        `The template language expression '${site.expression}' cannot be evaluated because property ${describeKey(key)} cannot be selected. Array elements can only be selected using an integer index.`,
        site,
        { property: key },
      );
    }
    if (index >= 0 && index < target.length) {
      const v = target[index];
      return v === undefined ? null : v;
    }
    if (optional) return null;
    return err(
      ExpressionErrorCode.IndexOutOfRange,
      `The template language expression '${site.expression}' cannot be evaluated because array index '${index}' is outside bounds (0, ${target.length - 1}) of array.`,
      site,
      { index, length: target.length },
    );
  }
  if (typeof target === 'object' && !(target instanceof WdlDecimal)) {
    const name =
      typeof key === 'string' ? key : typeof key === 'number' || typeof key === 'bigint' ? String(key) : undefined;
    if (name === undefined) {
      return err(
        ExpressionErrorCode.InvalidAccess,
        `The template language expression '${site.expression}' cannot be evaluated because a property name must be a string, not a value of type '${typeName(key)}'.`,
        site,
      );
    }
    if (Object.hasOwn(target, name)) {
      const v = (target as JsonObject)[name];
      return v === undefined ? null : v;
    }
    if (name.includes('/')) return aliasPath(target as JsonObject, name, optional, site);
    if (optional) return null;
    const available = Object.keys(target);
    return err(
      ExpressionErrorCode.PropertyMissing,
      `The template language expression '${site.expression}' cannot be evaluated because property '${name}' doesn't exist, available properties are '${available.slice(0, 20).join(', ')}'.`,
      site,
      { property: name, available: available.slice(0, 50) },
    );
  }
  return err(
    ExpressionErrorCode.InvalidAccess,
    `The template language expression '${site.expression}' cannot be evaluated because property ${describeKey(key)} cannot be selected. Property selection is not supported on values of type '${typeName(target)}'.`,
    site,
    { property: key, actualType: typeName(target) },
  );
}

function aliasPath(target: JsonObject, path: string, optional: boolean, site: AccessSite): unknown {
  let cur: unknown = target;
  for (const segment of path.split('/')) cur = getMember(cur, segment, optional, site);
  return cur;
}
