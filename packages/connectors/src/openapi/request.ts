/**
 * OpenAPI 2.0 operation → HTTP request, from the `inputs.parameters` a Power Automate flow writes
 * for an `OpenApiConnection` action, or from the `method`/`path`/`queries`/`headers`/`body` of an
 * `ApiConnection` action.
 *
 * Parameter rules (Power Automate's designer and runtime, as far as they are documented):
 * - path, query and header parameters are keyed by their `name`;
 * - the body parameter (name N) is the value of key `N`, merged with keys `N/a/b` that set nested
 *   properties (`item/requestv2/email` → `{requestv2: {email}}`);
 * - a missing parameter takes its `default` when it is required or `x-ms-visibility: internal`
 *   (internal parameters are never shown to makers, so flows do not carry them); the same rule
 *   applies to the properties of an object body schema, recursively;
 * - a required parameter or body property still missing fails with OPERATION_PARAMETER_MISSING;
 * - path values are URL-encoded once, or twice with `x-ms-url-encoding: double`;
 * - query arrays follow `collectionFormat` (csv default, ssv, tsv, pipes, multi);
 * - body values follow the schema's scalar types where a flow gives text (`"5"` → 5 for integer);
 * - bodies are JSON unless the operation consumes form data or the value is text or a `$content`
 *   envelope.
 */
import { randomUUID } from 'node:crypto';
import { invalid } from '@patchbay/core';
import type { ConnectorApi, ConnectorOperation, JsonSchema, OpenApiParameter } from './document.js';

/** A request under construction: policies and authentication change it before it is sent. */
export interface PreparedRequest {
  method: string;
  /** `scheme://host[:port]` plus the base path, without a trailing slash. */
  baseUrl: string;
  /** Path relative to the base, starting with `/`, already URL-encoded. */
  path: string;
  /** Query parameters in order (unencoded). */
  query: Array<[string, string]>;
  /** Header names as given; compare case-insensitively. */
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Raw (unencoded) path parameter values, for `{name}` in route policies. */
  pathParameters: Record<string, string>;
  /** The operation, when known (always for OpenApiConnection). */
  operation?: ConnectorOperation;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Case-insensitive header lookup. */
export function headerKey(headers: Record<string, string>, name: string): string | undefined {
  const n = name.toLowerCase();
  return Object.keys(headers).find((k) => k.toLowerCase() === n);
}

/** Sets a header, replacing any header of the same name (any case). */
export function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const k = headerKey(headers, name);
  if (k !== undefined) delete headers[k];
  headers[name] = value;
}

function missing(operation: ConnectorOperation, name: string, action?: string): never {
  throw invalid(
    'OPERATION_PARAMETER_MISSING',
    `operation ${operation.operationId} requires the parameter '${name}'${action ? ` (action '${action}')` : ''}`,
    { operation: operation.operationId, parameter: name, ...(action ? { action } : {}) },
  );
}

function typeOf(schema: JsonSchema | undefined): string | undefined {
  const t = schema?.type;
  return Array.isArray(t) ? (t.find((x) => x !== 'null') as string | undefined) : t;
}

/** Coerces text to the schema's scalar type where that is lossless; other values unchanged. */
function coerce(value: unknown, schema: JsonSchema | undefined): unknown {
  const t = typeOf(schema);
  if (typeof value !== 'string') return value;
  if ((t === 'integer' || t === 'number') && value.trim() !== '' && Number.isFinite(Number(value))) {
    const n = Number(value);
    return t === 'integer' && !Number.isInteger(n) ? value : n;
  }
  if (t === 'boolean' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  if ((t === 'object' || t === 'array') && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** Fills defaults and coerces scalars in a body value by its schema; reports missing required properties. */
function shapeBody(
  value: unknown,
  schema: JsonSchema | undefined,
  path: string,
  onMissing: (p: string) => void,
): unknown {
  if (!schema) return value;
  const t = typeOf(schema);
  if ((t === 'object' || (t === undefined && schema.properties)) && (value === undefined || isObject(value))) {
    const props = schema.properties ?? {};
    const required = new Set(schema.required ?? []);
    if (value === undefined) {
      const anyDefault = Object.entries(props).some(
        ([k, p]) => p.default !== undefined && (required.has(k) || p['x-ms-visibility'] === 'internal'),
      );
      if (!anyDefault) return undefined;
    }
    const out: Record<string, unknown> = { ...((value as Record<string, unknown> | undefined) ?? {}) };
    for (const [k, p] of Object.entries(props)) {
      let v = out[k];
      if (v === undefined && p.default !== undefined && (required.has(k) || p['x-ms-visibility'] === 'internal'))
        v = structuredClone(p.default);
      if (v !== undefined) out[k] = shapeBody(v, p, `${path}/${k}`, onMissing);
      if (out[k] === undefined) {
        delete out[k];
        if (required.has(k)) onMissing(`${path}/${k}`);
      }
    }
    return out;
  }
  if (t === 'array' && Array.isArray(value))
    return value.map((x, i) => shapeBody(x, schema.items, `${path}/${i}`, onMissing));
  return coerce(value, schema);
}

/** Sets `target[a][b]…` for the segments, creating objects on the way. */
function setDeep(target: Record<string, unknown>, segments: string[], value: unknown): void {
  let cur = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    if (!isObject(cur[s])) cur[s] = {};
    cur = cur[s] as Record<string, unknown>;
  }
  cur[segments[segments.length - 1]!] = value;
}

function lookup(parameters: Record<string, unknown>, name: string): unknown {
  if (name in parameters) return parameters[name];
  const k = Object.keys(parameters).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : parameters[k];
}

function collection(values: unknown[], format: string | undefined): string {
  const sep = format === 'ssv' ? ' ' : format === 'tsv' ? '\t' : format === 'pipes' ? '|' : ',';
  return values.map(scalarText).join(sep);
}

function encodePath(value: string, p: OpenApiParameter): string {
  const once = encodeURIComponent(value);
  return String(p['x-ms-url-encoding'] ?? '').toLowerCase() === 'double' ? encodeURIComponent(once) : once;
}

/** The JSON content type an operation consumes (`application/json` when it names none). */
function jsonType(operation: ConnectorOperation): string {
  return operation.consumes.find((c) => c.toLowerCase().includes('json')) ?? 'application/json';
}

/** Encodes a body value for the wire and sets `Content-Type` when missing. */
export function encodeBody(
  value: unknown,
  headers: Record<string, string>,
  consumes: string[],
): string | Uint8Array | undefined {
  if (value === undefined || value === null) return undefined;
  const has = headerKey(headers, 'content-type') !== undefined;
  if (isObject(value) && typeof value['$content'] === 'string') {
    if (!has && typeof value['$content-type'] === 'string') headers['Content-Type'] = value['$content-type'];
    return Buffer.from(value['$content'], 'base64');
  }
  if (typeof value === 'string') {
    if (!has) {
      const textType = consumes.find((c) => !c.toLowerCase().includes('json'));
      headers['Content-Type'] = textType ?? 'text/plain; charset=utf-8';
    }
    return value;
  }
  if (consumes.some((c) => c.toLowerCase().startsWith('application/x-www-form-urlencoded')) && isObject(value)) {
    if (!has) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    return new URLSearchParams(Object.entries(value).map(([k, v]): [string, string] => [k, scalarText(v)])).toString();
  }
  if (!has) headers['Content-Type'] = consumes.find((c) => c.toLowerCase().includes('json')) ?? 'application/json';
  return JSON.stringify(value);
}

function multipart(fields: Array<[string, unknown]>, headers: Record<string, string>): Uint8Array {
  const boundary = `----patchbay${randomUUID().replace(/-/g, '')}`;
  const parts: Buffer[] = [];
  for (const [name, v] of fields) {
    parts.push(Buffer.from(`--${boundary}\r\n`));
    if (isObject(v) && typeof v['$content'] === 'string') {
      const file = typeof v['$filename'] === 'string' ? v['$filename'] : name;
      parts.push(
        Buffer.from(
          `Content-Disposition: form-data; name="${name}"; filename="${file}"\r\nContent-Type: ${String(v['$content-type'] ?? 'application/octet-stream')}\r\n\r\n`,
        ),
      );
      parts.push(Buffer.from(v['$content'], 'base64'));
    } else {
      parts.push(Buffer.from(`Content-Disposition: form-data; name="${name}"\r\n\r\n${scalarText(v)}`));
    }
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  setHeader(headers, 'Content-Type', `multipart/form-data; boundary=${boundary}`);
  return Buffer.concat(parts);
}

/** The base URL of a connector (`scheme://host` + base path), before policies. */
export function baseUrlOf(api: ConnectorApi): string {
  return api.host ? `${api.scheme}://${api.host}${api.basePath}` : '';
}

/**
 * Builds the request of an OpenApiConnection action: `parameters` are the action's evaluated
 * `inputs.parameters`. See the module comment for the rules.
 * @throws OPERATION_PARAMETER_MISSING (invalid) naming the operation and the parameter.
 */
export function buildOperationRequest(o: {
  api: ConnectorApi;
  operation: ConnectorOperation;
  parameters: Record<string, unknown>;
  action?: string;
}): PreparedRequest {
  const { operation, parameters } = o;
  const headers: Record<string, string> = {};
  const query: Array<[string, string]> = [];
  const pathParameters: Record<string, string> = {};
  let path = operation.path;
  let body: string | Uint8Array | undefined;
  const form: Array<[string, unknown]> = [];
  for (const p of operation.parameters) {
    const internal = p['x-ms-visibility'] === 'internal';
    if (p.in === 'body') {
      const bodyValue: unknown = lookup(parameters, p.name);
      let merged: unknown = bodyValue;
      const prefix = `${p.name}/`.toLowerCase();
      for (const [k, v] of Object.entries(parameters)) {
        if (!k.toLowerCase().startsWith(prefix) || v === undefined) continue;
        if (!isObject(merged)) merged = {};
        setDeep(merged as Record<string, unknown>, k.slice(prefix.length).split('/'), v);
      }
      const missingProps: string[] = [];
      let shaped = shapeBody(merged, p.schema, p.name, (m) => missingProps.push(m));
      if (shaped === undefined && p.required) {
        if (typeOf(p.schema) === 'object' || p.schema?.properties)
          shaped = shapeBody({}, p.schema, p.name, (m) => missingProps.push(m));
        else missing(operation, p.name, o.action);
      }
      if (missingProps.length > 0) missing(operation, missingProps[0]!, o.action);
      body = encodeBody(shaped, headers, operation.consumes.length > 0 ? operation.consumes : [jsonType(operation)]);
      continue;
    }
    let v = lookup(parameters, p.name);
    if (v === undefined && p.default !== undefined && (p.required || internal || p.in === 'path')) v = p.default;
    if (v === undefined || v === null) {
      if (p.required || p.in === 'path') missing(operation, p.name, o.action);
      continue;
    }
    v = coerce(v, { type: p.type ?? 'string' });
    switch (p.in) {
      case 'path': {
        const raw = Array.isArray(v) ? collection(v, p.collectionFormat) : scalarText(v);
        pathParameters[p.name] = raw;
        path = path.split(`{${p.name}}`).join(encodePath(raw, p));
        break;
      }
      case 'query':
        if (Array.isArray(v) && p.collectionFormat === 'multi') for (const x of v) query.push([p.name, scalarText(x)]);
        else query.push([p.name, Array.isArray(v) ? collection(v, p.collectionFormat) : scalarText(v)]);
        break;
      case 'header':
        headers[p.name] = Array.isArray(v) ? collection(v, p.collectionFormat) : scalarText(v);
        break;
      case 'formData':
        form.push([p.name, v]);
        break;
    }
  }
  if (form.length > 0) {
    if (operation.consumes.some((c) => c.toLowerCase().startsWith('multipart/'))) body = multipart(form, headers);
    else {
      setHeader(headers, 'Content-Type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(form.map(([k, v]): [string, string] => [k, scalarText(v)])).toString();
    }
  }
  if (operation.produces.length > 0 && headerKey(headers, 'accept') === undefined)
    headers['Accept'] = operation.produces.join(', ');
  return {
    method: operation.method,
    baseUrl: baseUrlOf(o.api),
    path,
    query,
    headers,
    ...(body !== undefined ? { body } : {}),
    pathParameters,
    operation,
  };
}

/**
 * Builds the request of an ApiConnection action from its evaluated inputs (`method`, `path`
 * relative to the connector's base path, `queries`, `headers`, `body`). The matching operation,
 * when the document has one, is attached for policies and response parsing.
 * @throws OPERATION_PATH_INVALID (invalid) when `path` is missing or not relative.
 */
export function buildApiConnectionRequest(o: {
  api: ConnectorApi;
  inputs: Record<string, unknown>;
  action?: string;
}): PreparedRequest {
  const method = String(o.inputs['method'] ?? 'GET').toUpperCase();
  const rawPath = o.inputs['path'];
  if (typeof rawPath !== 'string' || !rawPath.startsWith('/')) {
    throw invalid(
      'OPERATION_PATH_INVALID',
      `ApiConnection action${o.action ? ` '${o.action}'` : ''} needs a path starting with '/'`,
      {
        ...(o.action ? { action: o.action } : {}),
        path: typeof rawPath === 'string' ? rawPath : null,
      },
    );
  }
  const [pathOnly, inlineQuery] = rawPath.split('?', 2) as [string, string | undefined];
  const query: Array<[string, string]> = inlineQuery ? [...new URLSearchParams(inlineQuery).entries()] : [];
  if (isObject(o.inputs['queries']))
    for (const [k, v] of Object.entries(o.inputs['queries'])) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const x of v) query.push([k, scalarText(x)]);
      else query.push([k, scalarText(v)]);
    }
  const headers: Record<string, string> = {};
  if (isObject(o.inputs['headers']))
    for (const [k, v] of Object.entries(o.inputs['headers'])) headers[k] = scalarText(v);
  const m = o.api.match(method, pathOnly);
  const consumes = m?.operation.consumes ?? [];
  const body = encodeBody(o.inputs['body'], headers, consumes);
  const path = pathOnly
    .split('/')
    .map((seg) => {
      try {
        return encodeURIComponent(decodeURIComponent(seg));
      } catch {
        return encodeURIComponent(seg);
      }
    })
    .join('/');
  return {
    method,
    baseUrl: baseUrlOf(o.api),
    path,
    query,
    headers,
    ...(body !== undefined ? { body } : {}),
    pathParameters: m?.pathParameters ?? {},
    ...(m ? { operation: m.operation } : {}),
  };
}

/** The absolute URL of a prepared request. @throws CONNECTOR_HOST_MISSING when no host is known. */
export function requestUrl(req: PreparedRequest, connector?: string): string {
  if (!req.baseUrl) {
    throw invalid(
      'CONNECTOR_HOST_MISSING',
      `connector ${connector ?? '(unnamed)'} has no host: its OpenAPI definition names none and no dynamic host policy sets one`,
      { ...(connector ? { connector } : {}) },
    );
  }
  const qs = req.query.length > 0 ? `?${new URLSearchParams(req.query).toString()}` : '';
  return `${req.baseUrl}${req.path}${qs}`;
}
