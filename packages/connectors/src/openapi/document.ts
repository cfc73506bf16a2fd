/**
 * A connector's OpenAPI 2.0 document (`apiDefinition.swagger.json`) made ready for calls:
 * dereferenced with `@apidevtools/swagger-parser` (internal `$ref`s only — external references are
 * never fetched; circular references are left as they are), path-level and operation-level
 * parameters merged, operations indexed by `operationId` (case-insensitive) and by method + path
 * template (for `ApiConnection` actions, which name a method and a path).
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { invalid } from '@patchbay/core';

/** A JSON schema as OpenAPI 2.0 writes it (only the keywords the runtime reads are typed). */
export interface JsonSchema {
  type?: string | string[];
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  default?: unknown;
  enum?: unknown[];
  'x-ms-visibility'?: string;
  [k: string]: unknown;
}

/** One operation parameter (OpenAPI 2.0 Parameter Object plus the Power Platform extensions the runtime honours). */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'body' | 'formData';
  required?: boolean;
  type?: string;
  format?: string;
  default?: unknown;
  schema?: JsonSchema;
  items?: JsonSchema;
  collectionFormat?: string;
  'x-ms-visibility'?: string;
  /** `single` (default) or `double`: how many times a path parameter is URL-encoded. */
  'x-ms-url-encoding'?: string;
  [k: string]: unknown;
}

/** One callable operation. */
export interface ConnectorOperation {
  operationId: string;
  /** Upper-case HTTP method. */
  method: string;
  /** Path template relative to the base path, e.g. `/keys/{key-name}`. */
  path: string;
  parameters: OpenApiParameter[];
  consumes: string[];
  produces: string[];
  responses: Record<string, { schema?: JsonSchema; headers?: Record<string, unknown>; description?: string }>;
  /** `x-ms-trigger` (`single`, `batch`) when the operation is a trigger. */
  trigger?: string;
  summary?: string;
}

/** A security definition (OpenAPI 2.0 `securityDefinitions[name]`). */
export interface SecurityDefinition {
  type: 'apiKey' | 'basic' | 'oauth2' | string;
  in?: 'header' | 'query';
  name?: string;
  flow?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  scopes?: Record<string, string>;
}

/** A connector's API as the runtime uses it. */
export interface ConnectorApi {
  /** `https` unless the document lists only `http`. */
  scheme: 'http' | 'https';
  /** `host` of the document (may be empty when a dynamic host policy supplies it). */
  host: string;
  /** `basePath` without a trailing slash (`''` for `/`). */
  basePath: string;
  operations: ConnectorOperation[];
  securityDefinitions: Record<string, SecurityDefinition>;
  /** `x-ms-capabilities.testConnection.operationId`, when present. */
  testConnectionOperationId?: string;
  /** The operation with this id (case-insensitive). */
  operation(operationId: string): ConnectorOperation | undefined;
  /** The operation whose method and path template match a concrete path (relative to the base path). */
  match(
    method: string,
    path: string,
  ): { operation: ConnectorOperation; pathParameters: Record<string, string> } | undefined;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function templateRegex(path: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const src = path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m) {
        names.push(m[1]!);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { re: new RegExp(`^${src.replace(/\/$/, '')}/?$`, 'i'), names };
}

/** Builds the runtime view of a dereferenced document. Exported for tests; use {@link loadConnectorApi}. */
export function connectorApiOf(doc: Record<string, unknown>): ConnectorApi {
  const schemes = strings(doc['schemes']).map((s) => s.toLowerCase());
  const scheme: 'http' | 'https' =
    schemes.length > 0 && !schemes.includes('https') && schemes.includes('http') ? 'http' : 'https';
  const host = typeof doc['host'] === 'string' ? doc['host'] : '';
  const basePath = (typeof doc['basePath'] === 'string' ? doc['basePath'] : '/').replace(/\/+$/, '');
  const globalConsumes = strings(doc['consumes']);
  const globalProduces = strings(doc['produces']);
  const operations: ConnectorOperation[] = [];
  const paths = isObject(doc['paths']) ? doc['paths'] : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    const shared = Array.isArray(item['parameters']) ? (item['parameters'] as OpenApiParameter[]) : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const own = Array.isArray(op['parameters']) ? (op['parameters'] as OpenApiParameter[]) : [];
      const merged = new Map<string, OpenApiParameter>();
      for (const p of [...shared, ...own])
        if (isObject(p) && typeof p.name === 'string') merged.set(`${p.in}:${p.name}`, p);
      const responses: ConnectorOperation['responses'] = {};
      if (isObject(op['responses']))
        for (const [code, r] of Object.entries(op['responses']))
          if (isObject(r)) responses[code] = r as ConnectorOperation['responses'][string];
      const operationId = typeof op['operationId'] === 'string' ? op['operationId'] : `${method.toUpperCase()} ${path}`;
      operations.push({
        operationId,
        method: method.toUpperCase(),
        path,
        parameters: [...merged.values()],
        consumes: strings(op['consumes']).length > 0 ? strings(op['consumes']) : globalConsumes,
        produces: strings(op['produces']).length > 0 ? strings(op['produces']) : globalProduces,
        responses,
        ...(typeof op['x-ms-trigger'] === 'string' ? { trigger: op['x-ms-trigger'] } : {}),
        ...(typeof op['summary'] === 'string' ? { summary: op['summary'] } : {}),
      });
    }
  }
  const byId = new Map(operations.map((o) => [o.operationId.toLowerCase(), o]));
  const matchers = operations.map((o) => ({ op: o, ...templateRegex(o.path) }));
  const securityDefinitions: Record<string, SecurityDefinition> = {};
  if (isObject(doc['securityDefinitions']))
    for (const [k, v] of Object.entries(doc['securityDefinitions']))
      if (isObject(v)) securityDefinitions[k] = v as unknown as SecurityDefinition;
  const caps = doc['x-ms-capabilities'];
  const test = isObject(caps) && isObject(caps['testConnection']) ? caps['testConnection']['operationId'] : undefined;
  return {
    scheme,
    host,
    basePath,
    operations,
    securityDefinitions,
    ...(typeof test === 'string' ? { testConnectionOperationId: test } : {}),
    operation: (id) => byId.get(id.toLowerCase()),
    match: (method, path) => {
      const clean = path.split('?')[0]!;
      for (const m of matchers) {
        if (m.op.method !== method.toUpperCase()) continue;
        const hit = m.re.exec(clean);
        if (!hit) continue;
        const pathParameters: Record<string, string> = {};
        m.names.forEach((n, i) => (pathParameters[n] = decodeURIComponent(hit[i + 1]!)));
        return { operation: m.op, pathParameters };
      }
      return undefined;
    },
  };
}

const cache = new Map<string, Promise<ConnectorApi>>();
const CACHE_MAX = 256;

/**
 * Dereferences a connector's OpenAPI document and indexes it. Results are cached by `cacheKey`
 * (e.g. environment + connector id + modified time), so a connector is parsed once per version.
 *
 * @throws CONNECTOR_DEFINITION_INVALID (invalid) when the document is not an OpenAPI 2.0 document
 *   or a `$ref` cannot be resolved; `details.connector` names it.
 */
export function loadConnectorApi(
  openApi: Record<string, unknown>,
  o: { cacheKey?: string; connector?: string } = {},
): Promise<ConnectorApi> {
  const key = o.cacheKey;
  const hit = key ? cache.get(key) : undefined;
  if (hit) return hit;
  const p = (async () => {
    if (!isObject(openApi) || Object.keys(openApi).length === 0) return connectorApiOf({});
    try {
      const doc = (await SwaggerParser.dereference(structuredClone(openApi) as never, {
        resolve: { external: false },
        dereference: { circular: 'ignore' },
      })) as unknown as Record<string, unknown>;
      return connectorApiOf(doc);
    } catch (e) {
      throw invalid(
        'CONNECTOR_DEFINITION_INVALID',
        `the OpenAPI definition of connector ${o.connector ?? '(unnamed)'} cannot be read: ${(e as Error).message}`,
        {
          ...(o.connector ? { connector: o.connector } : {}),
        },
      );
    }
  })();
  if (key) {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
