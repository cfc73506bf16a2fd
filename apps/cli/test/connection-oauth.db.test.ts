/**
 * `patchbay connection create --oauth`, `connection test` and `connection reconnect` in-process
 * against a real OAuth server (oidc-provider on 127.0.0.1) and an API that introspects tokens:
 * the command prints the authorization URL on stderr and waits on its local callback; the test
 * plays the browser.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { memoryIO } from '../src/io.js';
import { testStoreLocation, type TestStoreLocation } from '../../../test-support/stores.js';
import {
  startOidcServer,
  startResourceServer,
  type TestOidcServer,
} from '../../../packages/connectors/test/support/oidc-server.js';
import { cli } from './helpers.js';

let loc: TestStoreLocation;
let run: ReturnType<typeof cli>;
let oidc: TestOidcServer;
let api: Awaited<ReturnType<typeof startResourceServer>>;
let dir: string;

beforeAll(async () => {
  oidc = await startOidcServer();
  api = await startResourceServer(oidc);
  loc = await testStoreLocation();
  run = cli(loc.cliArgs);
  dir = mkdtempSync(join(tmpdir(), 'patchbay-oauth-cli-'));
  const folder = join(dir, 'whoami');
  mkdirSync(folder);
  const custom = { authorizationUrl: { value: oidc.authorizationUrl }, tokenUrl: { value: oidc.tokenUrl } };
  writeFileSync(
    join(folder, 'apiDefinition.swagger.json'),
    JSON.stringify({
      swagger: '2.0',
      info: { title: 'Who am I', version: '1.0' },
      host: api.host,
      basePath: '/api',
      schemes: ['http'],
      paths: { '/me': { get: { operationId: 'GetMe', responses: { '200': { description: 'ok' } } } } },
      securityDefinitions: {
        oauth2_auth: {
          type: 'oauth2',
          flow: 'accessCode',
          authorizationUrl: oidc.authorizationUrl,
          tokenUrl: oidc.tokenUrl,
          scopes: {},
        },
      },
      security: [{ oauth2_auth: [] }],
      'x-ms-capabilities': { testConnection: { operationId: 'GetMe' } },
    }),
  );
  writeFileSync(
    join(folder, 'apiProperties.json'),
    JSON.stringify({
      properties: {
        connectionParameterSets: {
          values: [
            {
              name: 'signIn',
              parameters: {
                token: {
                  type: 'oauthSetting',
                  oAuthSettings: {
                    identityProvider: 'oauth2',
                    clientId: oidc.clients.app.id,
                    scopes: ['openid', 'api'],
                    customParameters: custom,
                  },
                },
              },
            },
            {
              name: 'servicePrincipal',
              parameters: {
                token: {
                  type: 'oauthSetting',
                  oAuthSettings: {
                    identityProvider: 'oauth2',
                    scopes: ['api'],
                    customParameters: { ...custom, grantType: { value: 'client_credentials' } },
                  },
                },
                'token:clientId': { type: 'string', uiDefinition: { constraints: { required: 'true' } } },
                'token:clientSecret': { type: 'securestring', uiDefinition: { constraints: { required: 'true' } } },
              },
            },
          ],
        },
        policyTemplateInstances: [],
      },
    }),
  );
  writeFileSync(join(dir, 'app-secret.txt'), oidc.clients.app.secret + '\n');
  writeFileSync(join(dir, 'svc-secret.txt'), oidc.clients.service.secret + '\n');
  expect((await run('env', 'create', 'dev', '--allow-loopback')).code).toBe(0);
  expect((await run('connector', 'import', folder, '--env', 'dev')).code).toBe(0);
});
afterAll(async () => {
  await loc.cleanup();
  await api.close();
  await oidc.close();
});

/** Runs a command that signs in: waits for the URL on stderr, plays the browser, returns the outcome. */
async function withBrowser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIO();
  const done = main([...loc.cliArgs, ...args], io);
  let url: string | undefined;
  while (!url) {
    const finished = await Promise.race([
      done.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 20)),
    ]);
    if (finished) break;
    url = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m.exec(io.stderr)?.[1];
  }
  if (url) {
    const back = await oidc.browse(url);
    await fetch(back);
  }
  return { code: await done, stdout: io.stdout, stderr: io.stderr };
}

describe(`connection create --oauth via the CLI (${process.env['PATCHBAY_TEST_STORE']})`, () => {
  it('signs in with the authorization code grant through the local callback, tests and reconnects the connection', async () => {
    const r = await withBrowser([
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'whoami',
      '--display-name',
      'alice',
      '--parameter-set',
      'signIn',
      '--oauth',
      '--oauth-client-secret',
      `@${join(dir, 'app-secret.txt')}`,
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Open this URL in a browser');
    const conn = JSON.parse(r.stdout) as { id: string; status: string };
    expect(conn.status).toBe('Connected');
    expect(r.stdout + r.stderr).not.toContain(oidc.clients.app.secret);
    const t = await run('connection', 'test', conn.id, '--json');
    expect(t.code).toBe(0);
    expect(t.json()).toMatchObject({ result: 'passed', method: 'operation', operationId: 'GetMe', statusCode: 200 });
    expect(api.hits.at(-1)).toMatchObject({ active: true, sub: 'alice' });
    const again = await withBrowser(['connection', 'reconnect', conn.id, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: conn.id, status: 'Connected' });
  });

  it('a service principal signs in with client credentials, no browser', async () => {
    const r = await run(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'whoami',
      '--display-name',
      'svc',
      '--parameter-set',
      'servicePrincipal',
      '--param',
      `token:clientId=${oidc.clients.service.id}`,
      '--secret-param',
      `token:clientSecret=@${join(dir, 'svc-secret.txt')}`,
      '--oauth',
      '--json',
    );
    expect(r.code).toBe(0);
    const conn = r.json<{ id: string; status: string }>();
    expect(conn.status).toBe('Connected');
    const t = await run('connection', 'test', conn.id);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('passed via GetMe');
    expect(api.hits.at(-1)).toMatchObject({ active: true, clientId: 'svc' });
  });

  it('a wrong client secret fails with exit 3 and creates nothing; a failing test exits 3', async () => {
    writeFileSync(join(dir, 'wrong.txt'), 'wrong-secret-value\n');
    const r = await run(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'whoami',
      '--display-name',
      'bad',
      '--parameter-set',
      'servicePrincipal',
      '--param',
      `token:clientId=${oidc.clients.service.id}`,
      '--secret-param',
      `token:clientSecret=@${join(dir, 'wrong.txt')}`,
      '--oauth',
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('OAUTH_GRANT_REJECTED');
    expect(r.stderr).not.toContain('wrong-secret-value');
    const list = await run('connection', 'list', '--env', 'dev', '--json');
    expect(list.json<Array<{ displayName: string }>>().map((c) => c.displayName)).not.toContain('bad');
    const usage = await run(
      'connection',
      'create',
      '--env',
      'dev',
      '--connector',
      'whoami',
      '--display-name',
      'x',
      '--oauth-port',
      '1',
    );
    expect(usage.code).toBe(1);
  });
});
