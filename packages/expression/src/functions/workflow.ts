/**
 * Workflow functions (wdl-spec §4 "Referencing data", §6 "Workflow"): they read the run state
 * through the lazy accessors of `ExpressionContext`. A reference to something the context does
 * not have (an action that has not run, an undefined variable or parameter, `item()` outside a
 * loop) is an `EXPRESSION_REFERENCE_NOT_FOUND` error, never a silent null.
 */
import type { ExpressionContext } from '../contract.js';
import type { CallSite, FunctionDef } from './common.js';
import { argInt, argString, fail, notFound } from './common.js';
import { base64ToBytes, bytesToText, isContentEnvelope, isObject } from '../values.js';

function record(site: CallSite, ctx: ExpressionContext, name: string): unknown {
  const r = ctx.action(name);
  if (r === undefined) notFound(site, 'the action', name);
  return r;
}

function field(v: unknown, key: string): unknown {
  if (isObject(v) && Object.hasOwn(v, key)) {
    const x = v[key];
    return x === undefined ? null : x;
  }
  return null;
}

function triggerRecord(site: CallSite, ctx: ExpressionContext): unknown {
  const t = ctx.trigger();
  if (t === undefined) notFound(site, 'the trigger output');
  return t;
}

function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (isContentEnvelope(v)) return bytesToText(base64ToBytes(v.$content));
  return v === null || v === undefined ? '' : JSON.stringify(v);
}

function dispositionName(headers: unknown): string | undefined {
  if (!isObject(headers)) return undefined;
  for (const k of Object.keys(headers)) {
    if (k.toLowerCase() !== 'content-disposition') continue;
    const m = /name\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(String(headers[k]));
    return m ? (m[1] ?? m[2]) : undefined;
  }
  return undefined;
}

/** All values of `key` in a form-encoded or multipart/form-data body. */
function formValues(site: CallSite, body: unknown, key: string): unknown[] {
  if (isObject(body)) {
    const formdata = body['$formdata'];
    if (Array.isArray(formdata)) {
      return formdata
        .filter((e) => isObject(e) && e['key'] === key)
        .map((e) => (e as Record<string, unknown>)['value'] ?? null);
    }
    const multipart = body['$multipart'];
    if (Array.isArray(multipart)) {
      return multipart
        .filter((p) => isObject(p) && dispositionName(p['headers']) === key)
        .map((p) => text((p as Record<string, unknown>)['body']));
    }
    if (isContentEnvelope(body) && /x-www-form-urlencoded/i.test(String(body['$content-type'] ?? ''))) {
      return new URLSearchParams(bytesToText(base64ToBytes(body.$content))).getAll(key);
    }
  }
  if (typeof body === 'string' && body.includes('=')) return new URLSearchParams(body).getAll(key);
  return fail(site, 'the output body is not form data (application/x-www-form-urlencoded or multipart/form-data)');
}

function singleFormValue(site: CallSite, body: unknown, key: string): unknown {
  const values = formValues(site, body, key);
  if (values.length > 1)
    fail(
      site,
      `the form data has ${values.length} values for the key '${key}'; use formDataMultiValues to get all of them`,
    );
  return values.length === 0 ? null : values[0];
}

function multipartPart(site: CallSite, body: unknown, index: number): unknown {
  const parts = isObject(body) ? body['$multipart'] : undefined;
  if (!Array.isArray(parts)) return fail(site, 'the output body is not multipart content');
  if (index < 0 || index >= parts.length) fail(site, `the part index ${index} is outside the ${parts.length} parts`);
  const part = parts[index];
  return isObject(part) ? (part['body'] ?? null) : part;
}

function withDefault<T>(v: T | undefined, site: CallSite, what: string, name?: string): T {
  if (v === undefined) notFound(site, what, name);
  return v;
}

export const workflowFunctions: FunctionDef[] = [
  {
    name: 'action',
    group: 'workflow',
    min: 0,
    max: 0,
    impl: (_args, site, ctx) =>
      withDefault(
        ctx.currentAction(),
        site,
        'the current action (action() is available in trackedProperties, webhook unsubscribe and Until conditions)',
      ),
  },
  {
    name: 'actions',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => record(site, ctx, argString(site, args, 0)),
  },
  {
    name: 'body',
    aliases: ['actionBody'],
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => field(field(record(site, ctx, argString(site, args, 0)), 'outputs'), 'body'),
  },
  {
    name: 'outputs',
    aliases: ['actionOutputs'],
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => field(record(site, ctx, argString(site, args, 0)), 'outputs'),
  },
  {
    name: 'trigger',
    aliases: ['triggers'],
    group: 'workflow',
    min: 0,
    max: 0,
    impl: (_args, site, ctx) => triggerRecord(site, ctx),
  },
  {
    name: 'triggerOutputs',
    group: 'workflow',
    min: 0,
    max: 0,
    impl: (_args, site, ctx) => field(triggerRecord(site, ctx), 'outputs'),
  },
  {
    name: 'triggerBody',
    group: 'workflow',
    min: 0,
    max: 0,
    impl: (_args, site, ctx) => field(field(triggerRecord(site, ctx), 'outputs'), 'body'),
  },
  {
    name: 'formDataValue',
    group: 'workflow',
    min: 2,
    max: 2,
    impl: (args, site, ctx) =>
      singleFormValue(
        site,
        field(field(record(site, ctx, argString(site, args, 0)), 'outputs'), 'body'),
        argString(site, args, 1),
      ),
  },
  {
    name: 'formDataMultiValues',
    group: 'workflow',
    min: 2,
    max: 2,
    impl: (args, site, ctx) =>
      formValues(
        site,
        field(field(record(site, ctx, argString(site, args, 0)), 'outputs'), 'body'),
        argString(site, args, 1),
      ),
  },
  {
    name: 'triggerFormDataValue',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) =>
      singleFormValue(site, field(field(triggerRecord(site, ctx), 'outputs'), 'body'), argString(site, args, 0)),
  },
  {
    name: 'triggerFormDataMultiValues',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) =>
      formValues(site, field(field(triggerRecord(site, ctx), 'outputs'), 'body'), argString(site, args, 0)),
  },
  {
    name: 'multipartBody',
    group: 'workflow',
    min: 2,
    max: 2,
    impl: (args, site, ctx) =>
      multipartPart(
        site,
        field(field(record(site, ctx, argString(site, args, 0)), 'outputs'), 'body'),
        argInt(site, args, 1),
      ),
  },
  {
    name: 'triggerMultipartBody',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) =>
      multipartPart(site, field(field(triggerRecord(site, ctx), 'outputs'), 'body'), argInt(site, args, 0)),
  },
  {
    name: 'item',
    group: 'workflow',
    min: 0,
    max: 0,
    impl: (_args, site, ctx) =>
      withDefault(ctx.item(), site, 'the current item (item() is only available inside a loop or an array action)'),
  },
  {
    name: 'items',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => {
      const name = argString(site, args, 0);
      return withDefault(ctx.items(name), site, 'the current item of the loop', name);
    },
  },
  {
    name: 'iterationIndexes',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => {
      const name = argString(site, args, 0);
      return withDefault(ctx.iterationIndex(name), site, 'the iteration index of the Until loop', name);
    },
  },
  {
    name: 'listCallbackUrl',
    group: 'workflow',
    min: 0,
    max: 0,
    impl: (_args, site, ctx) => withDefault(ctx.callbackUrl(), site, 'a callback URL'),
  },
  {
    name: 'parameters',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => {
      const name = argString(site, args, 0);
      return withDefault(ctx.parameter(name), site, 'the workflow parameter', name);
    },
  },
  {
    name: 'result',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => {
      const name = argString(site, args, 0);
      return withDefault(ctx.result(name), site, 'the results of the scoped action', name);
    },
  },
  {
    name: 'variables',
    group: 'workflow',
    min: 1,
    max: 1,
    impl: (args, site, ctx) => {
      const name = argString(site, args, 0);
      return withDefault(ctx.variable(name), site, 'the variable', name);
    },
  },
  {
    name: 'workflow',
    group: 'workflow',
    min: 0,
    max: 0,
    impl: (_args, site, ctx) => withDefault(ctx.workflow(), site, 'the workflow details'),
  },
];
