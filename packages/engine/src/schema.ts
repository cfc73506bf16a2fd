/**
 * A small JSON Schema validator for the ParseJson action (the subset Power Automate's "generate
 * from sample" writes, plus the common keywords): `type` (one or a list; `integer`, `number`,
 * `string`, `boolean`, `object`, `array`, `null`), `properties`, `required`, `additionalProperties`,
 * `items` (schema or tuple), `enum`, `const`, `anyOf`, `oneOf`, `allOf`, `not`, `minLength`,
 * `maxLength`, `pattern`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
 * `minItems`, `maxItems`. Unknown keywords (`format`, `title`, `x-ms-*` …) are ignored.
 * Messages follow Json.NET Schema, which Logic Apps uses ("Invalid type. Expected String but got Null.").
 */

/** One schema violation. `path` is a JSON path like `items[2].name` (empty for the root). */
export interface SchemaError {
  path: string;
  message: string;
  errorType: string;
  value?: unknown;
}

type Schema = Record<string, unknown>;

const TYPE_NAME: Record<string, string> = {
  string: 'String',
  number: 'Number',
  integer: 'Integer',
  boolean: 'Boolean',
  object: 'Object',
  array: 'Array',
  null: 'Null',
};

function typeOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a))
    return a.length === (b as unknown[]).length && a.every((x, i) => deepEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Schema)[k], (b as Schema)[k]));
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Validates `value` against `schema`; returns every violation (empty when valid). Never throws. */
export function validateSchema(value: unknown, schema: unknown, path = ''): SchemaError[] {
  const errors: SchemaError[] = [];
  check(value, schema, path, errors);
  return errors;
}

function check(value: unknown, schema: unknown, path: string, errors: SchemaError[]): void {
  if (schema === true || schema === undefined || schema === null) return;
  if (schema === false) {
    errors.push({ path, message: 'Schema always fails validation.', errorType: 'valid', value });
    return;
  }
  if (typeof schema !== 'object' || Array.isArray(schema)) return;
  const s = schema as Schema;
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]).map((t) => String(t).toLowerCase());
    if (!types.some((t) => matchesType(value, t))) {
      const expected = types.map((t) => TYPE_NAME[t] ?? t).join(', ');
      const got = TYPE_NAME[typeOf(value)] ?? typeOf(value);
      errors.push({ path, message: `Invalid type. Expected ${expected} but got ${got}.`, errorType: 'type', value });
      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) {
    errors.push({ path, message: `Value ${JSON.stringify(value)} is not defined in enum.`, errorType: 'enum', value });
  }
  if ('const' in s && !deepEqual(s.const, value)) {
    errors.push({ path, message: `Value ${JSON.stringify(value)} does not match const.`, errorType: 'const', value });
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (typeof s.minLength === 'number' && len < s.minLength)
      errors.push({
        path,
        message: `String '${value}' is less than minimum length of ${s.minLength}.`,
        errorType: 'minLength',
        value,
      });
    if (typeof s.maxLength === 'number' && len > s.maxLength)
      errors.push({
        path,
        message: `String '${value}' exceeds maximum length of ${s.maxLength}.`,
        errorType: 'maxLength',
        value,
      });
    if (typeof s.pattern === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(value))
        errors.push({
          path,
          message: `String '${value}' does not match regex pattern '${s.pattern}'.`,
          errorType: 'pattern',
          value,
        });
    }
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum)
      errors.push({
        path,
        message: `Integer ${value} is less than minimum value of ${s.minimum}.`,
        errorType: 'minimum',
        value,
      });
    if (typeof s.maximum === 'number' && value > s.maximum)
      errors.push({
        path,
        message: `Integer ${value} exceeds maximum value of ${s.maximum}.`,
        errorType: 'maximum',
        value,
      });
    if (typeof s.exclusiveMinimum === 'number' && value <= s.exclusiveMinimum)
      errors.push({
        path,
        message: `Integer ${value} equals or is less than exclusive minimum value of ${s.exclusiveMinimum}.`,
        errorType: 'minimum',
        value,
      });
    if (typeof s.exclusiveMaximum === 'number' && value >= s.exclusiveMaximum)
      errors.push({
        path,
        message: `Integer ${value} equals or exceeds exclusive maximum value of ${s.exclusiveMaximum}.`,
        errorType: 'maximum',
        value,
      });
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems)
      errors.push({
        path,
        message: `Array item count ${value.length} is less than minimum count of ${s.minItems}.`,
        errorType: 'minItems',
      });
    if (typeof s.maxItems === 'number' && value.length > s.maxItems)
      errors.push({
        path,
        message: `Array item count ${value.length} exceeds maximum count of ${s.maxItems}.`,
        errorType: 'maxItems',
      });
    if (Array.isArray(s.items))
      s.items.forEach((item, i) => i < value.length && check(value[i], item, join(path, i), errors));
    else if (s.items !== undefined) value.forEach((v, i) => check(v, s.items, join(path, i), errors));
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Schema;
    if (Array.isArray(s.required)) {
      const missing = s.required.filter((k) => typeof k === 'string' && !(k in obj));
      if (missing.length > 0)
        errors.push({
          path,
          message: `Required properties are missing from object: ${missing.join(', ')}.`,
          errorType: 'required',
        });
    }
    const props = (s.properties && typeof s.properties === 'object' ? s.properties : {}) as Schema;
    for (const [k, sub] of Object.entries(props)) if (k in obj) check(obj[k], sub, join(path, k), errors);
    if (s.additionalProperties !== undefined && s.additionalProperties !== true) {
      for (const k of Object.keys(obj)) {
        if (k in props) continue;
        if (s.additionalProperties === false)
          errors.push({
            path: join(path, k),
            message: `Property '${k}' has not been defined and the schema does not allow additional properties.`,
            errorType: 'additionalProperties',
          });
        else check(obj[k], s.additionalProperties, join(path, k), errors);
      }
    }
  }
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) check(value, sub, path, errors);
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => validateSchema(value, sub, path).length === 0))
    errors.push({ path, message: "JSON does not match any schemas from 'anyOf'.", errorType: 'anyOf', value });
  if (Array.isArray(s.oneOf)) {
    const n = s.oneOf.filter((sub) => validateSchema(value, sub, path).length === 0).length;
    if (n !== 1)
      errors.push({
        path,
        message:
          n === 0
            ? "JSON is valid against no schemas from 'oneOf'."
            : "JSON is valid against more than one schema from 'oneOf'.",
        errorType: 'oneOf',
        value,
      });
  }
  if (s.not !== undefined && validateSchema(value, s.not, path).length === 0)
    errors.push({ path, message: "JSON is valid against schema from 'not'.", errorType: 'not', value });
}
