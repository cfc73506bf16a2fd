/**
 * The connector runtime of a platform: the outbound HTTP clients of each environment (built from
 * its policy, shared by its runs, rebuilt when the policy changes), the connector invoker of each
 * run, and the OAuth token manager (one per platform, so "one renewal at a time per connection"
 * holds across concurrent runs).
 *
 * Configuration (the platform's environment variables):
 * | variable | meaning | default |
 * |---|---|---|
 * | PATCHBAY_EXTRA_CA_CERTS | PEM file of extra trusted CA certificates for outbound HTTPS | none |
 * | PATCHBAY_HTTP_CONNECT_TIMEOUT_MS | connect timeout of outbound calls | 10000 |
 * | PATCHBAY_HTTP_TIMEOUT_MS | total time of one outbound call | 120000 |
 * | PATCHBAY_HTTP_MAX_RESPONSE_BYTES | largest response body | 104857600 |
 * | PATCHBAY_HTTP_MAX_REDIRECTS | redirects followed | 5 |
 * | PATCHBAY_OAUTH_REFRESH_SKEW_SECONDS | renew OAuth tokens this long before they expire | 300 |
 *
 * The host policy comes from the environment (`allowedHosts`, `deniedHosts`, `allowLoopback`;
 * link-local and metadata addresses always denied). When the environment blocks the connector
 * `http` (or `shared_http`), Http actions fail with CONNECTOR_BLOCKED; connector calls check
 * `blockedConnectors` themselves.
 */
import { readFileSync } from 'node:fs';
import { invalid, type Environment } from '@patchbay/core';
import {
  connectorBlockedError,
  createHttpClient,
  httpPolicyFromEnvironment,
  isHttpActionBlocked,
  type HttpClientOptions,
  type OutboundHttpClient,
} from '@patchbay/connectors';
import type { PlatformContext } from '../context.js';
import type { ConnectionService } from '../services/connections.js';
import type { RunService } from '../services/runs.js';
import { createRunInvoker, type RunConnectorInvoker } from './invoker.js';
import { TokenManager } from './tokens.js';

const BASE = Symbol('patchbay.baseHttpClient');

/** The client connector calls use behind a run's Http-action client (which may refuse Http actions). */
export function connectorClientOf(http: OutboundHttpClient): OutboundHttpClient {
  return (http as { [BASE]?: OutboundHttpClient })[BASE] ?? http;
}

function num(env: Record<string, string | undefined>, name: string): number | undefined {
  const v = Number(env[name]);
  return Number.isFinite(v) && v >= 0 && env[name] !== undefined && env[name] !== '' ? v : undefined;
}

/** The connector runtime of one platform. */
export class ConnectorRuntime {
  readonly tokens: TokenManager;
  private extraCa: string[] | undefined;

  constructor(
    readonly ctx: PlatformContext,
    readonly connections: ConnectionService,
    private readonly env: Record<string, string | undefined> = {},
  ) {
    const skew = num(env, 'PATCHBAY_OAUTH_REFRESH_SKEW_SECONDS');
    this.tokens = new TokenManager(ctx, connections, (skew ?? 300) * 1000);
  }

  /** Options of outbound clients (timeouts, limits, extra CAs) from the platform's environment. */
  clientOptions(): Omit<HttpClientOptions, 'policy'> {
    if (this.extraCa === undefined) {
      const file = this.env['PATCHBAY_EXTRA_CA_CERTS'];
      if (file) {
        try {
          this.extraCa = [readFileSync(file, 'utf8')];
        } catch (e) {
          throw invalid(
            'EXTRA_CA_CERTS_UNREADABLE',
            `PATCHBAY_EXTRA_CA_CERTS names ${file}, which cannot be read: ${(e as Error).message}`,
            { file },
          );
        }
      } else this.extraCa = [];
    }
    const connect = num(this.env, 'PATCHBAY_HTTP_CONNECT_TIMEOUT_MS');
    const total = num(this.env, 'PATCHBAY_HTTP_TIMEOUT_MS');
    const max = num(this.env, 'PATCHBAY_HTTP_MAX_RESPONSE_BYTES');
    const redirects = num(this.env, 'PATCHBAY_HTTP_MAX_REDIRECTS');
    return {
      ...(connect !== undefined ? { connectTimeoutMs: connect } : {}),
      ...(total !== undefined ? { timeoutMs: total } : {}),
      ...(max !== undefined ? { maxResponseBytes: max } : {}),
      ...(redirects !== undefined ? { maxRedirects: redirects } : {}),
      ...(this.extraCa.length > 0 ? { ca: this.extraCa } : {}),
      userAgent: 'Patchbay',
    };
  }

  private readonly clients = new Map<string, { key: string; base: OutboundHttpClient; run: OutboundHttpClient }>();

  /**
   * The outbound clients of an environment, shared by its runs (one connection pool per
   * environment) and made again when its policy changes: `base` for connector calls and token
   * requests, `run` for Http actions (refuses every call when the environment blocks `http`).
   */
  clientsFor(environment: Pick<Environment, 'id' | 'name' | 'policy'>): {
    base: OutboundHttpClient;
    run: OutboundHttpClient;
  } {
    const key = JSON.stringify(environment.policy);
    const have = this.clients.get(environment.id);
    if (have && have.key === key) return have;
    if (have) void have.base.close();
    const base = createHttpClient({ ...this.clientOptions(), policy: httpPolicyFromEnvironment(environment.policy) });
    const run: OutboundHttpClient = isHttpActionBlocked(environment.policy)
      ? Object.assign(
          {
            request: () =>
              Promise.reject(connectorBlockedError({ connectorId: 'http', environment: environment.name })),
            close: () => Promise.resolve(),
          },
          { [BASE]: base },
        )
      : Object.assign({ request: base.request, close: () => Promise.resolve() }, { [BASE]: base });
    const entry = { key, base, run };
    this.clients.set(environment.id, entry);
    return entry;
  }

  /** A new outbound client with an environment's host policy, for one-off work (close it when done). */
  connectorClient(environment: Pick<Environment, 'policy'>): OutboundHttpClient {
    return createHttpClient({ ...this.clientOptions(), policy: httpPolicyFromEnvironment(environment.policy) });
  }

  /** Closes the shared clients (idle connections would otherwise time out by themselves). */
  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.base.close()));
  }

  /** The invoker of one run; without `http`, the environment's shared client is used. */
  invoker(
    o: Omit<Parameters<typeof createRunInvoker>[0], 'ctx' | 'tokens' | 'http'> & { http?: OutboundHttpClient },
  ): RunConnectorInvoker {
    const http = o.http
      ? connectorClientOf(o.http)
      : lazyClient(async () => {
          const env = await this.ctx.store.repos.environments.get(o.environmentId);
          return this.clientsFor(
            env ?? {
              id: o.environmentId,
              name: o.environmentId,
              policy: { blockedConnectors: [], allowedHosts: [], deniedHosts: [], allowLoopback: false },
            },
          ).base;
        });
    return createRunInvoker({ ...o, ctx: this.ctx, tokens: this.tokens, http });
  }

  /** Makes the run service use this runtime for its runs' HTTP clients and connector actions. */
  install(runs: RunService): void {
    runs.httpClientFactory = ({ environment }) => this.clientsFor(environment).run;
    runs.invokerFactory = (o) => this.invoker(o);
  }
}

/** A client whose target is found on first use. */
function lazyClient(get: () => Promise<OutboundHttpClient>): OutboundHttpClient {
  let p: Promise<OutboundHttpClient> | undefined;
  return {
    request: async (req) => (await (p ??= get())).request(req),
    close: () => Promise.resolve(),
  };
}

const runtimes = new WeakMap<PlatformContext, ConnectorRuntime>();

/** The connector runtime of a platform context (created on first use). */
export function connectorRuntime(
  ctx: PlatformContext,
  connections: ConnectionService,
  env: Record<string, string | undefined> = {},
): ConnectorRuntime {
  let r = runtimes.get(ctx);
  if (!r) {
    r = new ConnectorRuntime(ctx, connections, env);
    runtimes.set(ctx, r);
  }
  return r;
}
