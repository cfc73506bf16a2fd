/**
 * Test support for the API: a platform on a fresh store of the current tier, the server listening
 * on 127.0.0.1 (any free port), an admin token, and a small JSON client over real HTTP.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPlatform, loadKeyring, type Platform } from '@patchbay/platform';
import { startServer, type PatchbayServer } from '@patchbay/server';
import { readSolution, writeSolutionZip } from '@patchbay/solution';
import { testStore } from '../../../test-support/stores.js';

/** A JSON answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** Calls the API with a token (or none). */
export type Api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>;

/** A running test server. */
export interface TestServer {
  platform: Platform;
  server: PatchbayServer;
  url: string;
  adminToken: string;
  /** Global CLI flags that open the same store (with {@link TestServer.cliEnv}). */
  cliArgs: string[];
  /** Environment of CLI invocations on the same store (its master key). */
  cliEnv: Record<string, string>;
  /** A client acting with `token` (default: the admin token; null: no token). */
  api(token?: string | null): Api;
  /** Creates a principal (user or service principal) with a role in environments, and a token for it. */
  principal(o: {
    name: string;
    kind?: 'user' | 'servicePrincipal';
    roles?: Record<string, 'Admin' | 'Maker' | 'Viewer'>;
  }): Promise<{ token: string; api: Api }>;
  close(): Promise<void>;
}

/** Sends one request and parses the JSON answer (text kept as is when not JSON). */
export async function call(
  url: string,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const h: Record<string, string> = { ...headers };
  if (token) h['authorization'] = `Bearer ${token}`;
  if (body !== undefined && !h['content-type']) h['content-type'] = 'application/json';
  const res = await fetch(`${url}${path}`, {
    method,
    headers: h,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: parsed, headers: res.headers, text };
}

/** Starts the API over a fresh platform of the current tier. */
export async function startTestServer(): Promise<TestServer> {
  const { store, location, cleanup } = await testStore();
  const masterKey = randomBytes(32).toString('base64');
  const keyring = loadKeyring({ env: { PATCHBAY_MASTER_KEY: masterKey }, dataDir: join(location.dataDir, 'keys') });
  const platform = await createPlatform({ store, keyring });
  const server = await startServer({ platform, port: 0, host: '127.0.0.1' });
  const adminToken = (await platform.auth.createToken({ for: 'admin', description: 'tests' })).token;
  const api =
    (token: string | null = adminToken): Api =>
    (method, path, body, headers) =>
      call(server.url, method, path, token, body, headers);
  return {
    platform,
    server,
    url: server.url,
    adminToken,
    cliArgs: [
      '--data-dir',
      location.dataDir,
      ...(location.databaseUrl ? ['--database-url', location.databaseUrl] : []),
    ],
    cliEnv: { PATCHBAY_MASTER_KEY: masterKey },
    api,
    async principal(o) {
      await platform.principals.create({ name: o.name, ...(o.kind ? { kind: o.kind } : {}) });
      for (const [env, role] of Object.entries(o.roles ?? {}))
        await platform.environments.assignRole({ environment: env, principal: o.name, role });
      const token = (await platform.auth.createToken({ for: o.name })).token;
      return { token, api: api(token) };
    },
    async close() {
      await server.close();
      await cleanup();
    },
  };
}

/** The DemoGreetings sample solution as a base64 zip. */
export async function demoSolutionBase64(): Promise<string> {
  const pkg = await readSolution(fileURLToPath(new URL('../../../samples/solutions/DemoGreetings', import.meta.url)));
  return (await writeSolutionZip(pkg)).toString('base64');
}

/** A flow file with a Request trigger (POST), built-in actions only, answering with a Response. */
export function echoFlow(o: { response?: boolean; callbackUrl?: boolean } = {}): unknown {
  const actions: Record<string, unknown> = {
    Init: {
      type: 'InitializeVariable',
      runAfter: {},
      inputs: { variables: [{ name: 'count', type: 'integer', value: 1 }] },
    },
    Compose: {
      type: 'Compose',
      runAfter: { Init: ['Succeeded'] },
      inputs: { hello: "@triggerBody()?['name']", ...(o.callbackUrl ? { url: '@listCallbackUrl()' } : {}) },
    },
  };
  if (o.response !== false) {
    actions['Respond'] = {
      type: 'Response',
      kind: 'Http',
      runAfter: { Compose: ['Succeeded'] },
      inputs: {
        statusCode: 201,
        headers: { 'X-Flow': 'echo' },
        body: { greeting: "@concat('Hello ', triggerBody()?['name'])", run: "@workflow()?['run']?['name']" },
      },
    };
  }
  return {
    properties: {
      connectionReferences: {},
      definition: {
        $schema:
          'https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#',
        contentVersion: '1.0.0.0',
        parameters: {},
        triggers: { manual: { type: 'Request', kind: 'Http', inputs: { method: 'POST', schema: {} } } },
        actions,
        outputs: {},
      },
    },
    schemaVersion: '1.0.0.0',
  };
}
