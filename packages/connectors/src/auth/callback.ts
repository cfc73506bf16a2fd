/**
 * The local callback of the OAuth authorization code grant (RFC 8252 §7.3, loopback redirect):
 * a one-shot HTTP server on 127.0.0.1 that receives the browser's redirect, answers with a short
 * page, and hands the full callback URL to the caller. Used by `patchbay connection create --oauth`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notReady, type PatchbayError } from '@patchbay/core';

/** A listening callback. */
export interface LoopbackCallback {
  /** `http://127.0.0.1:<port><path>`: register it as the OAuth client's redirect URI. */
  redirectUri: string;
  /** Resolves with the full callback URL (code and state in its query) once the browser arrives. */
  wait(o?: { signal?: AbortSignal; timeoutMs?: number }): Promise<string>;
  close(): Promise<void>;
}

const PAGE = (title: string, text: string): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

/**
 * Starts the callback server. `port` 0 (default) picks a free port.
 * Errors: OAUTH_AUTHORIZATION_DENIED (the server answered with `error`), OAUTH_CALLBACK_TIMEOUT.
 */
export async function startLoopbackCallback(o: { port?: number; path?: string } = {}): Promise<LoopbackCallback> {
  const path = o.path ?? '/oauth/callback';
  let settle: { resolve: (url: string) => void; reject: (e: PatchbayError) => void } | undefined;
  let early: { url?: string; error?: PatchbayError } | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== path) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const port = (server.address() as AddressInfo).port;
    const full = `http://127.0.0.1:${port}${req.url ?? path}`;
    const error = url.searchParams.get('error');
    if (error) {
      res
        .writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(PAGE('Sign-in failed', 'Patchbay did not get access. You can close this window.'));
      const e = notReady(
        'OAUTH_AUTHORIZATION_DENIED',
        `the authorization server answered ${error}${url.searchParams.get('error_description') ? `: ${url.searchParams.get('error_description')}` : ''}`,
        {
          error,
        },
      );
      if (settle) settle.reject(e);
      else early = { error: e };
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
      .end(PAGE('Signed in', 'Patchbay received the sign-in. You can close this window.'));
    if (settle) settle.resolve(full);
    else early = { url: full };
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://127.0.0.1:${port}${path}`,
    wait: (w = {}) =>
      new Promise<string>((resolve, reject) => {
        if (early?.url) return resolve(early.url);
        if (early?.error) return reject(early.error);
        const timer = setTimeout(
          () =>
            reject(
              notReady(
                'OAUTH_CALLBACK_TIMEOUT',
                `no sign-in arrived at ${path} within ${Math.round((w.timeoutMs ?? 300_000) / 1000)} s`,
                {},
              ),
            ),
          w.timeoutMs ?? 300_000,
        );
        timer.unref();
        const done = (): void => clearTimeout(timer);
        w.signal?.addEventListener('abort', () => {
          done();
          reject(notReady('OAUTH_CALLBACK_TIMEOUT', 'the sign-in was cancelled', {}));
        });
        settle = {
          resolve: (u) => {
            done();
            resolve(u);
          },
          reject: (e) => {
            done();
            reject(e);
          },
        };
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
