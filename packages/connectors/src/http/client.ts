/**
 * The one outbound HTTP client of Patchbay (design §6): every Http action and connector call goes
 * through it. Built on undici 7 (`Agent` + `request`), with
 * - a connect timeout and a total timeout per request (default 10 s and 120 s, the Logic Apps
 *   outbound limit),
 * - a response size cap (default 100 MiB) enforced while streaming,
 * - at most `maxRedirects` redirects (default 5), the policy re-checked on every hop and
 *   `Authorization` dropped when the origin changes,
 * - the host policy (`policy.ts`) checked on the URL and on every address DNS returns.
 * Errors are PatchbayErrors with stable codes; `isRetryableHttpError` tells which ones a retry
 * policy may retry (connect failures and timeouts).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { PatchbayError } from '@patchbay/core';
import { Agent, request as undiciRequest } from 'undici';
import { denyReason, normaliseHost, type HttpPolicy } from './policy.js';

/** Options of {@link createHttpClient}. */
export interface HttpClientOptions {
  policy?: HttpPolicy;
  /** TCP/TLS connect timeout in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Total time for one request including redirects and the body, in ms. Default 120,000. */
  timeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 104,857,600 (100 MiB). */
  maxResponseBytes?: number;
  /** Redirects followed before failing with HTTP_TOO_MANY_REDIRECTS. Default 5; 0 returns 3xx responses as they are. */
  maxRedirects?: number;
  /** `User-Agent` sent when the request has none. */
  userAgent?: string;
  /**
   * Extra trusted CA certificates (PEM), added to Node's bundled roots — e.g. a company CA, or a
   * test CA for HTTPS servers on 127.0.0.1. Never disables certificate checks.
   */
  ca?: string[];
}

/** One outbound request. Header names are case-insensitive. */
export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Aborts the request (HTTP_ABORTED). */
  signal?: AbortSignal;
  /** Overrides the client's total timeout for this request (ms). */
  timeoutMs?: number;
  /** Overrides the client's redirect limit for this request. */
  maxRedirects?: number;
}

/** The response: lowercase header names (repeated headers joined with `, `), the whole body. */
export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** Final URL after redirects. */
  url: string;
  redirects: number;
}

/** The outbound HTTP client. */
export interface OutboundHttpClient {
  /** Sends a request; resolves with any HTTP status, rejects with a PatchbayError (HTTP_*) when no response was received. */
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Closes pooled connections. */
  close(): Promise<void>;
}

/** Error codes of the client that a retry policy may retry (the call may succeed later). */
const RETRYABLE = new Set(['HTTP_CONNECT_TIMEOUT', 'HTTP_TIMEOUT', 'HTTP_CONNECTION_FAILED']);

/** True for client errors a retry policy may retry: connect failures, resets and timeouts. */
export function isRetryableHttpError(e: unknown): boolean {
  return e instanceof PatchbayError && RETRYABLE.has(e.code);
}

class PolicyDenied extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function httpError(code: string, message: string, details: Record<string, unknown>, cause?: unknown): PatchbayError {
  const category = code === 'HTTP_HOST_DENIED' ? 'permission' : code === 'HTTP_INVALID_URL' ? 'invalid' : 'not-ready';
  return new PatchbayError({
    code,
    message,
    category,
    kind: category === 'not-ready' ? 'operational' : 'user',
    details,
    cause,
  });
}

function findCause<T>(e: unknown, test: (x: unknown) => x is T): T | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 6 && cur; i++) {
    if (test(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Creates a client; call `close()` when done with it. */
export function createHttpClient(options: HttpClientOptions = {}): OutboundHttpClient {
  const policy = options.policy ?? {};
  const connectTimeout = options.connectTimeoutMs ?? 10_000;
  const totalTimeout = options.timeoutMs ?? 120_000;
  const maxBytes = options.maxResponseBytes ?? 104_857_600;
  const maxRedirects = options.maxRedirects ?? 5;

  // Every address DNS returns is checked against the policy before the socket connects.
  const lookup: LookupFunction = (hostname, opts, callback) => {
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return (callback as (e: Error | null, a: string | LookupAddress[], f?: number) => void)(err, '', 0);
      const list = addresses as LookupAddress[];
      for (const a of list) {
        const reason = denyReason(policy, hostname, a.address);
        if (reason)
          return (callback as (e: Error | null, a: string, f?: number) => void)(new PolicyDenied(reason), '', 0);
      }
      if ((opts as { all?: boolean }).all) (callback as (e: Error | null, a: LookupAddress[]) => void)(null, list);
      else (callback as (e: Error | null, a: string, f: number) => void)(null, list[0]!.address, list[0]!.family);
    });
  };
  const agent = new Agent({
    connect: {
      timeout: connectTimeout,
      lookup,
      ...(options.ca && options.ca.length > 0 ? { ca: [...rootCertificates, ...options.ca] } : {}),
    },
    connections: 64,
  });

  async function once(
    req: HttpRequest,
    url: URL,
    signal: AbortSignal,
  ): Promise<{ statusCode: number; headers: Record<string, string>; body: Uint8Array }> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    if (options.userAgent && !headers['user-agent']) headers['user-agent'] = options.userAgent;
    const res = await undiciRequest(url, {
      method: req.method.toUpperCase() as 'GET',
      headers,
      body: req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : Buffer.from(req.body),
      signal,
      dispatcher: agent,
      headersTimeout: totalTimeout,
      bodyTimeout: totalTimeout,
    });
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    const declared = Number(out['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.body.destroy();
      throw httpError(
        'HTTP_RESPONSE_TOO_LARGE',
        `response of ${url.origin} is ${declared} bytes; the limit is ${maxBytes}`,
        { url: url.origin, limit: maxBytes },
      );
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        res.body.destroy();
        throw httpError(
          'HTTP_RESPONSE_TOO_LARGE',
          `response of ${url.origin} is larger than the limit of ${maxBytes} bytes`,
          { url: url.origin, limit: maxBytes },
        );
      }
      chunks.push(chunk as Buffer);
    }
    return { statusCode: res.statusCode, headers: out, body: Buffer.concat(chunks) };
  }

  async function request(req: HttpRequest): Promise<HttpResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw httpError('HTTP_INVALID_URL', `'${req.url}' is not an absolute URL`, { url: req.url });
    }
    const timeout = req.timeoutMs ?? totalTimeout;
    const timer = AbortSignal.timeout(timeout);
    const signal = req.signal ? AbortSignal.any([req.signal, timer]) : timer;
    const limit = req.maxRedirects ?? maxRedirects;
    let current: HttpRequest = req;
    let redirects = 0;
    for (;;) {
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw httpError('HTTP_INVALID_URL', `only http and https URLs can be called, not ${url.protocol}`, {
          url: url.origin,
        });
      }
      const host = normaliseHost(url.hostname);
      const reason = denyReason(policy, host, isIP(host) ? host : undefined);
      if (reason)
        throw httpError('HTTP_HOST_DENIED', `outbound call to ${url.origin} denied: ${reason}`, { host, reason });
      let res: Awaited<ReturnType<typeof once>>;
      try {
        res = await once(current, url, signal);
      } catch (e) {
        if (e instanceof PatchbayError) throw e;
        const denied = findCause(e, (x): x is PolicyDenied => x instanceof PolicyDenied);
        if (denied)
          throw httpError('HTTP_HOST_DENIED', `outbound call to ${url.origin} denied: ${denied.reason}`, {
            host,
            reason: denied.reason,
          });
        if (req.signal?.aborted)
          throw httpError('HTTP_ABORTED', `request to ${url.origin} was cancelled`, { url: url.origin }, e);
        if (timer.aborted)
          throw httpError(
            'HTTP_TIMEOUT',
            `request to ${url.origin} did not complete within ${timeout} ms`,
            { url: url.origin, timeoutMs: timeout },
            e,
          );
        const code = (
          findCause(e, (x): x is { code: string } => typeof (x as { code?: unknown })?.code === 'string') ?? {
            code: '',
          }
        ).code;
        if (code === 'UND_ERR_CONNECT_TIMEOUT')
          throw httpError(
            'HTTP_CONNECT_TIMEOUT',
            `could not connect to ${url.origin} within ${connectTimeout} ms`,
            { url: url.origin },
            e,
          );
        if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
          throw httpError('HTTP_TIMEOUT', `request to ${url.origin} timed out`, { url: url.origin }, e);
        throw httpError(
          'HTTP_CONNECTION_FAILED',
          `request to ${url.origin} failed: ${(e as Error).message}${code ? ` (${code})` : ''}`,
          { url: url.origin, cause: code || undefined },
          e,
        );
      }
      const location = res.headers['location'];
      if (res.statusCode >= 300 && res.statusCode < 400 && res.statusCode !== 304 && location && limit > 0) {
        if (redirects >= limit)
          throw httpError('HTTP_TOO_MANY_REDIRECTS', `more than ${limit} redirects from ${new URL(req.url).origin}`, {
            url: req.url,
            limit,
          });
        redirects++;
        const next = new URL(location, url);
        const headers = { ...(current.headers ?? {}) };
        if (next.origin !== url.origin)
          for (const k of Object.keys(headers))
            if (k.toLowerCase() === 'authorization' || k.toLowerCase() === 'cookie') delete headers[k];
        const toGet =
          res.statusCode === 303 ||
          ((res.statusCode === 301 || res.statusCode === 302) && current.method.toUpperCase() === 'POST');
        if (toGet)
          for (const k of Object.keys(headers))
            if (k.toLowerCase() === 'content-type' || k.toLowerCase() === 'content-length') delete headers[k];
        current = {
          ...current,
          method: toGet ? 'GET' : current.method,
          headers,
          body: toGet ? undefined : current.body,
        };
        url = next;
        continue;
      }
      return { ...res, url: url.href, redirects };
    }
  }

  return {
    request,
    close: () => agent.close(),
  };
}

/**
 * Decodes a response body the way Logic Apps shows HTTP outputs: JSON when the content type says
 * JSON (or the text parses as JSON and no type is given), text for `text/*`, XML and form data,
 * otherwise the binary envelope `{"$content-type", "$content": base64}`. Empty bodies give null.
 */
export function decodeBody(headers: Record<string, string>, body: Uint8Array): unknown {
  if (body.length === 0) return null;
  const type = (headers['content-type'] ?? '').toLowerCase();
  const text = (): string => Buffer.from(body).toString('utf8');
  if (type.includes('json')) {
    const t = text();
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  if (type === '') {
    const t = text();
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  if (
    type.startsWith('text/') ||
    type.includes('xml') ||
    type.includes('x-www-form-urlencoded') ||
    type.includes('javascript')
  )
    return text();
  return { '$content-type': headers['content-type'], $content: Buffer.from(body).toString('base64') };
}
