/**
 * Helpers for connector tests of the platform: a platform on a fresh store of the current tier
 * with platform environment variables (e.g. PATCHBAY_EXTRA_CA_CERTS) and a clock the test moves,
 * small HTTP(S) servers on 127.0.0.1, and a capture of everything written to stdout/stderr.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Clock } from '@patchbay/core';
import { createPlatform, loadKeyring, type Platform } from '@patchbay/platform';
import { testStore } from '../../../../test-support/stores.js';

/** A clock whose time the test sets. */
export interface TestClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

/** A clock starting now (real time) that only moves when told. */
export function testClock(start = Date.now()): TestClock {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms), advance: (ms) => (t += ms) };
}

/** A platform on a fresh store of the current tier. */
export async function connectorPlatform(
  o: { env?: Record<string, string | undefined>; clock?: Clock } = {},
): Promise<{ platform: Platform; cleanup(): Promise<void> }> {
  const { store, location, cleanup } = await testStore();
  const keyring = loadKeyring({
    env: { PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64') },
    dataDir: join(location.dataDir, 'keys'),
  });
  const platform = await createPlatform({
    store,
    keyring,
    ...(o.env ? { env: o.env } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  return { platform, cleanup };
}

/** One request a test server received. */
export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A server on 127.0.0.1 (HTTPS when given a key and certificate) that records requests. */
export interface TestServer {
  port: number;
  host: string;
  received: Received[];
  close(): Promise<void>;
}

/** Starts a recording server; `handle` answers (it may be async and do things first). */
export async function testServer(
  handle: (r: Received, res: ServerResponse) => void | Promise<void>,
  tls?: { key: string; cert: string },
): Promise<TestServer> {
  const received: Received[] = [];
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const r: Received = {
        method: req.method ?? '',
        path: u.pathname,
        query: u.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(r);
      Promise.resolve(handle(r, res)).catch((e: unknown) => res.writeHead(500).end(String(e)));
    });
  };
  const server: Server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Records everything written to stdout and stderr (and console) until `stop()`. */
export function captureOutput(): { text(): string; stop(): void } {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const wrap =
    (orig: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (orig as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = wrap(out) as typeof process.stdout.write;
  process.stderr.write = wrap(err) as typeof process.stderr.write;
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) {
    const orig = console[m];
    console[m] = (...args: unknown[]) => {
      chunks.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      orig(...args);
    };
  }
  return {
    text: () => chunks.join(''),
    stop: () => {
      process.stdout.write = out;
      process.stderr.write = err;
      methods.forEach((m, i) => (console[m] = saved[i]!));
    },
  };
}
