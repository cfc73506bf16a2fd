/**
 * Policy templates of custom connectors (`apiProperties.json` `policyTemplateInstances`; Power
 * Platform docs "Policy templates" and ../shared/reference/powerplatform-formats.md §6):
 *
 * | templateId | parameters (`x-ms-apimTemplateParameter.*`) | effect |
 * |---|---|---|
 * | `setheader` | `name`, `value`, `existsAction` (override · skip · append), `x-ms-apimTemplate-policySection` (Request · Response) | sets a request (or response) header |
 * | `setqueryparameter` | `name`, `value`, `existsAction` | sets a query parameter |
 * | `dynamichosturl` | `urlTemplate` | replaces scheme, host and base path |
 * | `routerequesttoendpoint` | `newPath` (relative to the base, `{param}` = a path parameter), `httpMethod` (`@Request.OriginalHTTPMethod` or a verb), optional `urlTemplate` | re-routes the request |
 *
 * `x-ms-apimTemplate-operationName` limits an instance to the listed operation ids. Values may use
 * `@connectionParameters('name')` (or `('name', 'default')`), `@headers('name')` and
 * `@queryParameters('name')`. Instances run in the order they are listed, after the operation's
 * parameters and the connection's authentication are applied (so a `setheader` can rewrite an
 * API key header, as `cioplenu` does). Other templates (e.g. `pollingtrigger`) do not change a
 * call and are ignored.
 */
import type { PolicyTemplateInstance } from '@patchbay/core';
import { headerKey, setHeader, type PreparedRequest } from './openapi/request.js';

const P = 'x-ms-apimTemplateParameter.';

/** What policy values may read. */
export interface PolicyValues {
  /** Connection parameters, secret ones included (never logged). */
  connectionParameters: Record<string, unknown>;
  /** The operation being called, for `x-ms-apimTemplate-operationName`. */
  operationId?: string;
}

function param(instance: PolicyTemplateInstance, name: string): unknown {
  const ps = instance.parameters ?? {};
  return ps[`${P}${name}`] ?? ps[name];
}

function applies(instance: PolicyTemplateInstance, operationId: string | undefined): boolean {
  const names = instance.parameters?.['x-ms-apimTemplate-operationName'];
  if (!Array.isArray(names) || names.length === 0) return true;
  return operationId !== undefined && names.some((n) => String(n).toLowerCase() === operationId.toLowerCase());
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function lookupCi(map: Record<string, unknown>, name: string): unknown {
  if (name in map) return map[name];
  const k = Object.keys(map).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : map[k];
}

/**
 * Substitutes `@connectionParameters(…)`, `@headers(…)`, `@queryParameters(…)` in a template
 * value. Exported for tests.
 */
export function substitutePolicyValue(template: string, values: PolicyValues, req?: PreparedRequest): string {
  return template.replace(
    /@(connectionParameters|headers|queryParameters)\(\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)/g,
    (_m, fn: string, name: string, dflt: string | undefined) => {
      let v: unknown;
      if (fn === 'connectionParameters') v = lookupCi(values.connectionParameters, name);
      else if (fn === 'headers' && req) {
        const k = headerKey(req.headers, name);
        v = k === undefined ? undefined : req.headers[k];
      } else if (fn === 'queryParameters' && req)
        v = req.query.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
      const s = text(v);
      return s === '' && dflt !== undefined ? dflt : s;
    },
  );
}

function newBase(urlTemplate: string): string {
  const t = urlTemplate.trim().replace(/\/+$/, '');
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : `https://${t}`;
}

/** Applies the request-side policies to a prepared request, in place. */
export function applyRequestPolicies(
  instances: readonly PolicyTemplateInstance[],
  values: PolicyValues,
  req: PreparedRequest,
): void {
  for (const inst of instances) {
    if (!applies(inst, values.operationId)) continue;
    const id = inst.templateId.toLowerCase();
    const sub = (v: unknown): string => substitutePolicyValue(text(v), values, req);
    if (id === 'setheader') {
      if (
        String(
          param(inst, 'x-ms-apimTemplate-policySection') ??
            inst.parameters?.['x-ms-apimTemplate-policySection'] ??
            'Request',
        ).toLowerCase() === 'response'
      )
        continue;
      const name = sub(param(inst, 'name'));
      if (!name) continue;
      const value = sub(param(inst, 'value'));
      const action = String(param(inst, 'existsAction') ?? 'override').toLowerCase();
      const k = headerKey(req.headers, name);
      if (k !== undefined && action === 'skip') continue;
      if (k !== undefined && action === 'append') req.headers[k] = `${req.headers[k]}, ${value}`;
      else setHeader(req.headers, name, value);
    } else if (id === 'setqueryparameter') {
      const name = sub(param(inst, 'name'));
      if (!name) continue;
      const value = sub(param(inst, 'value'));
      const action = String(param(inst, 'existsAction') ?? 'override').toLowerCase();
      const exists = req.query.some(([k]) => k.toLowerCase() === name.toLowerCase());
      if (exists && action === 'skip') continue;
      if (exists && action !== 'append') req.query = req.query.filter(([k]) => k.toLowerCase() !== name.toLowerCase());
      req.query.push([name, value]);
    } else if (id === 'dynamichosturl') {
      const tpl = param(inst, 'urlTemplate');
      if (typeof tpl === 'string' && tpl) req.baseUrl = newBase(sub(tpl));
    } else if (id === 'routerequesttoendpoint') {
      const tpl = param(inst, 'urlTemplate');
      if (typeof tpl === 'string' && tpl) req.baseUrl = newBase(sub(tpl));
      const newPath = param(inst, 'newPath');
      if (typeof newPath === 'string' && newPath) {
        const withParams = newPath.replace(/\{([^}]+)\}/g, (m, n: string) => {
          const v = lookupCi(req.pathParameters, n);
          return v === undefined ? m : encodeURIComponent(text(v));
        });
        const p = sub(withParams);
        req.path = p.startsWith('/') ? p : `/${p}`;
      }
      const method = param(inst, 'httpMethod');
      if (typeof method === 'string' && method && !/^@Request\.OriginalHTTPMethod$/i.test(method.trim()))
        req.method = method.trim().toUpperCase();
    }
  }
}

/** Applies the response-side `setheader` policies to response headers (lower-case names), in place. */
export function applyResponsePolicies(
  instances: readonly PolicyTemplateInstance[],
  values: PolicyValues,
  headers: Record<string, string>,
): void {
  for (const inst of instances) {
    if (!applies(inst, values.operationId) || inst.templateId.toLowerCase() !== 'setheader') continue;
    const section = String(
      param(inst, 'x-ms-apimTemplate-policySection') ??
        inst.parameters?.['x-ms-apimTemplate-policySection'] ??
        'Request',
    );
    if (section.toLowerCase() !== 'response') continue;
    const name = substitutePolicyValue(text(param(inst, 'name')), values).toLowerCase();
    if (!name) continue;
    const value = substitutePolicyValue(text(param(inst, 'value')), values);
    const action = String(param(inst, 'existsAction') ?? 'override').toLowerCase();
    if (headers[name] !== undefined && action === 'skip') continue;
    headers[name] = headers[name] !== undefined && action === 'append' ? `${headers[name]}, ${value}` : value;
  }
}
