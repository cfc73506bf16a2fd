/**
 * Public entry of @patchbay/server: the HTTP API over a Platform (docs/api.md).
 *
 * `startServer({platform, port, host})` listens and returns the base URL and a `close()` that
 * stops accepting connections, lets in-flight requests finish, waits for HTTP-triggered runs and
 * their history writes, and leaves the platform open (the caller closes it).
 */
import type { FastifyInstance } from 'fastify';
import { buildApp, errorSchema, type BuildAppOptions } from './app.js';

export { buildApp, errorSchema, type BuildAppOptions };
export { registerOperations, queuedTriggerAnswer, QUEUED_RESPONSE_TIMEOUT_MS } from './operations.js';

/** Options of {@link startServer}. */
export interface StartServerOptions extends BuildAppOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Public base URL used in callback URLs (default http://HOST:PORT as listened). */
  publicUrl?: string;
}

/** A listening server. */
export interface PatchbayServer {
  app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:8080 (no trailing slash). */
  url: string;
  port: number;
  /** Graceful shutdown: in-flight requests finish, new ones are refused. */
  close(): Promise<void>;
}

/** Builds the API and listens. */
export async function startServer(o: StartServerOptions): Promise<PatchbayServer> {
  const app = await buildApp(o);
  // Graceful shutdown: once closing, every answer (in-flight requests included) ends its
  // keep-alive connection, so the server closes as soon as the last request finished.
  let shuttingDown = false;
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  const host = o.host ?? '127.0.0.1';
  await app.listen({ port: o.port ?? 8080, host });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (o.port ?? 8080);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = (o.publicUrl ?? `http://${shownHost}:${port}`).replace(/\/+$/, '');
  o.platform.triggers.baseUrl = url;
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    port,
    close: () =>
      (closing ??= (async () => {
        shuttingDown = true;
        await app.close();
        await o.platform.triggers.close();
      })()),
  };
}
