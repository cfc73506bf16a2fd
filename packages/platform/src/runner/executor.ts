/**
 * Carrying out the engine's `executeAction` commands: Http actions through the outbound HTTP
 * client, connector actions through a pluggable `ConnectorInvoker`, child flows (Workflow) through
 * a callback that runs them. Every outcome becomes an engine `ActionResult`; this module never
 * throws for a failed call. Separate from the run loop so a queue worker can reuse it.
 */
import { createHash } from 'node:crypto';
import { decodeBody, isRetryableHttpError, type OutboundHttpClient } from '@patchbay/connectors';
import { isPatchbayError } from '@patchbay/core';
import type {
  ActionResult,
  ExecuteActionCommand,
  RepetitionIndex,
  RunResponse,
  RunStatus,
  RunError,
} from '@patchbay/engine';

/** One connector operation to call (OpenApiConnection, ApiConnection and their webhook forms). */
export interface ConnectorCall {
  runId: string;
  workflowId: string;
  action: string;
  actionType: string;
  /** Connection key of the flow (`host.connectionName`, or the key inside `$connections`). */
  connectionName?: string;
  /** The flow's `connectionReferences[connectionName]` entry (logical name, api, runtimeSource), when known. */
  connectionReference?: unknown;
  /** Raw `host` of the action (`apiId`, `operationId`, `connectionName` / `connection`). */
  host?: Record<string, unknown>;
  /** Evaluated inputs without `host` (`parameters`, `method`, `path`, `queries`, `body`, …). */
  inputs: Record<string, unknown>;
  /** 1-based attempt (the engine retries). */
  attempt: number;
  repetition?: RepetitionIndex[];
  /** Aborted when the action times out or the run ends. */
  signal: AbortSignal;
}

/**
 * Calls connector operations; implemented by the connector runtime (reference → binding →
 * connection → connector operation). Answers with an HTTP-shaped result, or an error result;
 * should not throw (a thrown error becomes `CONNECTOR_INVOCATION_FAILED`).
 */
export interface ConnectorInvoker {
  invoke(call: ConnectorCall): Promise<ActionResult>;
}

/** How the executor runs a child flow: resolves with the child's response, or with its end when it never answered. */
export type ChildFlowRunner = (call: {
  workflowId: string;
  action: string;
  body: unknown;
  headers: Record<string, string>;
  signal: AbortSignal;
}) => Promise<
  { response?: RunResponse; status: RunStatus; error?: RunError } | { notFound: true } | { tooDeep: number }
>;

/** What the executor needs. */
export interface ExecutorDeps {
  runId: string;
  workflowId: string;
  http?: OutboundHttpClient;
  invoker?: ConnectorInvoker;
  connectionReferences?: Record<string, unknown>;
  runChild?: ChildFlowRunner;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function errorResult(e: unknown, fallbackCode: string): ActionResult {
  if (isPatchbayError(e))
    return { kind: 'error', code: e.code, message: e.message, retryable: isRetryableHttpError(e) };
  return { kind: 'error', code: fallbackCode, message: e instanceof Error ? e.message : String(e) };
}

/**
 * Builds the HTTP request of an Http action from its evaluated inputs: `uri` + `queries`,
 * `headers`, `body` (objects as JSON, `$content` envelopes decoded), `authentication`
 * (`Basic`, `Raw`, `None`), `cookie`. Throws a PatchbayError for unsupported authentication.
 */
export function httpRequestOf(inputs: Record<string, unknown>): {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
} {
  const url = new URL(String(inputs.uri));
  if (isObject(inputs.queries))
    for (const [k, v] of Object.entries(inputs.queries)) url.searchParams.append(k, text(v));
  const headers: Record<string, string> = {};
  if (isObject(inputs.headers)) for (const [k, v] of Object.entries(inputs.headers)) headers[k] = text(v);
  const has = (name: string): boolean => Object.keys(headers).some((k) => k.toLowerCase() === name);
  let body: string | Uint8Array | undefined;
  const b = inputs.body;
  if (b !== undefined && b !== null) {
    if (typeof b === 'string') body = b;
    else if (isObject(b) && typeof b.$content === 'string') {
      body = Buffer.from(b.$content, 'base64');
      if (!has('content-type') && typeof b['$content-type'] === 'string') headers['Content-Type'] = b['$content-type'];
    } else {
      body = JSON.stringify(b);
      if (!has('content-type')) headers['Content-Type'] = 'application/json';
    }
  }
  if (inputs.cookie !== undefined && !has('cookie')) headers['Cookie'] = text(inputs.cookie);
  const auth = inputs.authentication;
  if (isObject(auth)) {
    const type = String(auth.type ?? 'None').toLowerCase();
    if (type === 'basic')
      headers['Authorization'] =
        `Basic ${Buffer.from(`${text(auth.username)}:${text(auth.password)}`).toString('base64')}`;
    else if (type === 'raw') headers['Authorization'] = text(auth.value);
    else if (type !== 'none' && Object.keys(auth).length > 0) {
      throw Object.assign(
        new Error(
          `authentication type '${String(auth.type)}' is not supported by Patchbay's Http action (Basic, Raw and None are)`,
        ),
        { code: 'AuthenticationNotSupported' },
      );
    }
  }
  return {
    method: String(inputs.method).toUpperCase(),
    url: url.href,
    headers,
    ...(body !== undefined ? { body } : {}),
  };
}

/**
 * A stable id of one action execution: run id, action name and loop position (not the attempt),
 * as a UUID-shaped SHA-256 prefix.
 */
export function actionTrackingId(runId: string, cmd: Pick<ExecuteActionCommand, 'action' | 'repetition'>): string {
  const where = (cmd.repetition ?? []).map((r) => `${r.loop}[${r.index}]`).join('/');
  const h = createHash('sha256').update(`${runId}\u0000${cmd.action}\u0000${where}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Carries out one `executeAction` command; resolves with the engine result, never rejects. */
export async function executeAction(
  deps: ExecutorDeps,
  cmd: ExecuteActionCommand,
  signal: AbortSignal,
): Promise<ActionResult> {
  if (cmd.operation === 'http') {
    if (!deps.http)
      return {
        kind: 'error',
        code: 'HTTP_CLIENT_NOT_CONFIGURED',
        message: `Action '${cmd.action}' needs the outbound HTTP client.`,
      };
    let req: ReturnType<typeof httpRequestOf>;
    try {
      req = httpRequestOf(cmd.inputs);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'InvalidTemplate';
      return { kind: 'error', code, message: (e as Error).message };
    }
    // Logic Apps' tracking headers, unless the action sets them. The action tracking id is the
    // same for every attempt of one action execution (retries, and a repeat after a worker
    // crash), so a receiver can recognise a repeated delivery (docs/operations.md).
    const has = (name: string): boolean => Object.keys(req.headers).some((k) => k.toLowerCase() === name);
    const tracking: Record<string, string> = {
      'x-ms-workflow-name': deps.workflowId,
      'x-ms-workflow-run-id': deps.runId,
      'x-ms-client-tracking-id': deps.runId,
      'x-ms-action-tracking-id': actionTrackingId(deps.runId, cmd),
    };
    for (const [k, v] of Object.entries(tracking)) if (!has(k)) req.headers[k] = v;
    try {
      const res = await deps.http.request({ ...req, signal });
      return {
        kind: 'http',
        statusCode: res.statusCode,
        headers: res.headers,
        body: decodeBody(res.headers, res.body),
      };
    } catch (e) {
      return errorResult(e, 'HTTP_CONNECTION_FAILED');
    }
  }
  if (cmd.operation === 'connector') {
    const key = cmd.connectionName ?? '(none)';
    if (!deps.invoker) {
      return {
        kind: 'error',
        code: 'CONNECTOR_NOT_AVAILABLE',
        message: `Action '${cmd.action}' (${cmd.actionType}) calls connection '${key}', but no connector runtime is available here; bind the flow in an environment or give the action a static result.`,
      };
    }
    try {
      return await deps.invoker.invoke({
        runId: deps.runId,
        workflowId: deps.workflowId,
        action: cmd.action,
        actionType: cmd.actionType,
        ...(cmd.connectionName !== undefined ? { connectionName: cmd.connectionName } : {}),
        ...(cmd.connectionName !== undefined && deps.connectionReferences?.[cmd.connectionName] !== undefined
          ? { connectionReference: deps.connectionReferences[cmd.connectionName] }
          : {}),
        ...(cmd.host ? { host: cmd.host } : {}),
        inputs: cmd.inputs,
        attempt: cmd.attempt,
        ...(cmd.repetition ? { repetition: cmd.repetition } : {}),
        signal,
      });
    } catch (e) {
      return errorResult(e, 'CONNECTOR_INVOCATION_FAILED');
    }
  }
  // child flow
  const id = cmd.workflowId ?? '';
  if (!deps.runChild)
    return {
      kind: 'error',
      code: 'CHILD_FLOW_NOT_FOUND',
      message: `Action '${cmd.action}' runs child flow '${id}', but no child flows are available here.`,
    };
  const headers: Record<string, string> = {};
  if (isObject(cmd.inputs.headers)) for (const [k, v] of Object.entries(cmd.inputs.headers)) headers[k] = text(v);
  try {
    const r = await deps.runChild({ workflowId: id, action: cmd.action, body: cmd.inputs.body, headers, signal });
    if ('notFound' in r)
      return {
        kind: 'error',
        code: 'CHILD_FLOW_NOT_FOUND',
        message: `Action '${cmd.action}' runs child flow '${id}', which does not exist here.`,
      };
    if ('tooDeep' in r)
      return {
        kind: 'error',
        code: 'CHILD_FLOW_TOO_DEEP',
        message: `Action '${cmd.action}' would nest child flows deeper than ${r.tooDeep} levels.`,
      };
    if (r.response)
      return { kind: 'http', statusCode: r.response.statusCode, headers: r.response.headers, body: r.response.body };
    if (r.status === 'Succeeded') return { kind: 'outputs', status: 'Succeeded', outputs: {} };
    return {
      kind: 'error',
      code: 'ChildFlowFailed',
      message: `Child flow '${id}' ended ${r.status} without answering${r.error ? `: ${r.error.code}: ${r.error.message}` : ''}.`,
    };
  } catch (e) {
    return errorResult(e, 'ChildFlowFailed');
  }
}
