/**
 * Connector calls from real custom connectors of ../shared/corpus/connectors (auth schemes,
 * parameter sets, policy templates) and from OpenAPI features the corpus does not cover
 * (`x-ms-url-encoding`, internal defaults, nested body keys, collection formats, form data,
 * ApiConnection paths, response schemas). Calls that are sent go to real servers on 127.0.0.1
 * (HTTPS with a throwaway certificate where the connector insists on https).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '@patchbay/core';
import {
  authSchemeOf,
  buildConnectorRequest,
  callConnector,
  connectorApi,
  createHttpClient,
  loadConnectorApi,
  type ConnectionValues,
  type OutboundHttpClient,
} from '@patchbay/connectors';
import { testCertificate, type TestCertificate } from './support/tls.js';
import { CORPUS_DIR } from '../../../test-support/shared.js';

const corpus = join(CORPUS_DIR, 'connectors');

/** A corpus connector as the platform stores it (same mapping as the platform's toConnectorDefinition). */
function corpusConnector(folder: string, id = folder.toLowerCase()): Connector {
  const json = (f: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(corpus, folder, f), 'utf8').replace(/^\uFEFF/, ''));
  const props = (json('apiProperties.json')['properties'] ?? {}) as Record<string, unknown>;
  return {
    environmentId: 'env',
    id,
    displayName: folder,
    kind: 'custom',
    definition: {
      openApi: json('apiDefinition.swagger.json'),
      connectionParameters: (props['connectionParameters'] ?? {}) as never,
      ...(props['connectionParameterSets']
        ? { connectionParameterSets: props['connectionParameterSets'] as never }
        : {}),
      policyTemplateInstances: (props['policyTemplateInstances'] ?? []) as never,
    },
    createdOn: '',
    modifiedOn: '',
  };
}

function synthetic(
  openApi: Record<string, unknown>,
  policies: unknown[] = [],
  connectionParameters: Record<string, unknown> = {},
): Connector {
  return {
    environmentId: 'env',
    id: 'synthetic',
    displayName: 'Synthetic',
    kind: 'custom',
    definition: {
      openApi,
      connectionParameters: connectionParameters as never,
      policyTemplateInstances: policies as never,
    },
    createdOn: '',
    modifiedOn: '',
  };
}

const values = (
  parameters: ConnectionValues['parameters'],
  secrets: Record<string, string> = {},
  parameterSet?: string,
): ConnectionValues => ({
  parameters,
  secrets,
  ...(parameterSet ? { parameterSet } : {}),
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let tls: TestCertificate;
let httpsServer: Server;
let httpServer: Server;
let httpsPort = 0;
let httpPort = 0;
const seen: Seen[] = [];
let client: OutboundHttpClient;

function handler(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    });
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/api/task') res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":42}');
    else if (u.pathname.startsWith('/base/files/'))
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([1, 2, 3]));
    else if (u.pathname === '/base/text-json') res.writeHead(200, { 'content-type': 'text/plain' }).end('{"ok":true}');
    else
      res
        .writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' })
        .end(JSON.stringify({ path: u.pathname, query: u.search }));
  });
}

beforeAll(async () => {
  tls = testCertificate();
  httpsServer = createHttpsServer({ key: tls.key, cert: tls.cert }, handler);
  httpServer = createHttpServer(handler);
  await new Promise<void>((r) => httpsServer.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  httpsPort = (httpsServer.address() as AddressInfo).port;
  httpPort = (httpServer.address() as AddressInfo).port;
  client = createHttpClient({ policy: { allowLoopback: true }, ca: [tls.cert] });
});

afterAll(async () => {
  await client.close();
  for (const s of [httpsServer, httpServer]) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  tls.cleanup();
});

describe('corpus connectors', () => {
  it('cioplenu: dynamic host URL from a connection parameter, setheader rewriting the API key, body defaults; over HTTPS', async () => {
    seen.length = 0;
    const r = await callConnector({
      connector: corpusConnector('cioplenu'),
      connection: values({ cioplenu_instance: `127.0.0.1:${httpsPort}` }, { api_key: 'cio-key-1' }),
      actionType: 'OpenApiConnection',
      action: 'Create_task',
      host: { operationId: 'CreateTask' },
      inputs: { parameters: { 'task data/title': 'Check valve' } },
      http: client,
      policy: { allowLoopback: true },
    });
    expect(r).toMatchObject({ statusCode: 201, body: { id: 42 }, operationId: 'CreateTask' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('POST');
    expect(seen[0]!.url).toBe('/api/task');
    expect(seen[0]!.headers['authorization']).toBe('Bearer cio-key-1');
    expect(seen[0]!.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(seen[0]!.body)).toEqual({ title: 'Check valve', description: '', priority: 5 });
  });

  it('cioplenu without a title: the required body property is named', async () => {
    await expect(
      buildConnectorRequest({
        connector: corpusConnector('cioplenu'),
        connection: values({ cioplenu_instance: 'x' }, { api_key: 'k' }),
        actionType: 'OpenApiConnection',
        host: { operationId: 'CreateTask' },
        inputs: { parameters: {} },
      }),
    ).rejects.toMatchObject({ code: 'OPERATION_PARAMETER_MISSING', details: { parameter: 'task data/title' } });
  });

  it('CompaniesHouse: API key in a header', async () => {
    const r = await buildConnectorRequest({
      connector: corpusConnector('CompaniesHouse'),
      connection: values({}, { api_key: 'ch-key' }),
      actionType: 'OpenApiConnection',
      host: { operationId: 'SearchCompany' },
      inputs: { parameters: { q: 'Acme & Sons' } },
    });
    expect(r.method).toBe('GET');
    expect(r.url).toBe('https://api.companieshouse.gov.uk/search/companies?q=Acme+%26+Sons');
    expect(r.headers['Authorization']).toBe('ch-key');
  });

  it('Abstract IBAN Validator: API key in the query', async () => {
    const r = await buildConnectorRequest({
      connector: corpusConnector('Abstract-IBAN-Validator'),
      connection: values({}, { api_key: 'iban-key' }),
      actionType: 'OpenApiConnection',
      host: { operationId: 'Validate' },
      inputs: { parameters: { iban: 'DE89370400440532013000' } },
    });
    const u = new URL(r.url);
    expect(u.host).toBe('ibanvalidation.abstractapi.com');
    expect(u.searchParams.get('api_key')).toBe('iban-key');
    expect(u.searchParams.get('iban')).toBe('DE89370400440532013000');
  });

  it('HR Cloud: basic authentication', async () => {
    const r = await buildConnectorRequest({
      connector: corpusConnector('HR-Cloud'),
      connection: values({}, { username: 'hr-user', password: 'hr-pass' }),
      actionType: 'OpenApiConnection',
      host: { operationId: 'GetEmployee' },
      inputs: { parameters: {} },
    });
    expect(r.headers['Authorization']).toBe(`Basic ${Buffer.from('hr-user:hr-pass').toString('base64')}`);
  });

  it('Infura: routerequesttoendpoint puts the (secret) project id in the path and keeps the method', async () => {
    const r = await buildConnectorRequest({
      connector: corpusConnector('Infura-Ethereum'),
      connection: values({}, { infuraProjectId: 'proj-123' }),
      actionType: 'OpenApiConnection',
      host: { operationId: 'Eth_blockNumber' },
      inputs: { parameters: {} },
    });
    expect(r.method).toBe('POST');
    expect(r.url).toBe('https://mainnet.infura.io/v3/proj-123');
  });

  it('Open Data Network: the parameter set decides between an app token header and basic', async () => {
    const c = corpusConnector('Open-Data-Network');
    const api = await connectorApi(c);
    expect(authSchemeOf({ definition: c.definition, api, parameterSet: 'api-auth' })).toEqual({
      kind: 'apiKey',
      in: 'header',
      name: 'X-App-Token',
      parameter: 'api_key',
    });
    expect(authSchemeOf({ definition: c.definition, api, parameterSet: 'basic-auth' })).toEqual({
      kind: 'basic',
      usernameParameter: 'username',
      passwordParameter: 'password',
    });
  });

  it('Azure Key Vault: OAuth (aad) settings and the vault name as host', async () => {
    const c = corpusConnector('AzureKeyVault');
    const scheme = authSchemeOf({ definition: c.definition, api: await connectorApi(c) });
    expect(scheme).toMatchObject({
      kind: 'oauth2',
      settings: {
        identityProvider: 'aad',
        grantType: 'authorization_code',
        authorizationUrl: 'https://login.windows.net/common/oauth2/authorize',
        tokenUrl: 'https://login.windows.net/common/oauth2/token',
        resource: 'https://vault.azure.net',
      },
    });
    const r = await buildConnectorRequest({
      connector: c,
      connection: values({ keyVaultName: 'contosokv' }),
      actionType: 'OpenApiConnection',
      host: { operationId: 'GetSecret' },
      inputs: { parameters: { 'secret-name': 'db password' } },
      accessToken: 'token-abc',
    });
    expect(r.url.startsWith('https://contosokv.vault.azure.net/secrets/db%20password')).toBe(true);
    expect(r.headers['Authorization']).toBe('Bearer token-abc');
  });

  it('ACS SMS Events: the service-principal parameter set means client credentials with the connection’s client id and tenant', async () => {
    const c = corpusConnector('Azure-Communication-Services-SMS-Events');
    const scheme = authSchemeOf({
      definition: c.definition,
      api: await connectorApi(c),
      parameterSet: 'aadOauthClientCredentials',
      values: { 'token:clientId': 'app-1', 'token:TenantId': 'tenant-9' },
    });
    expect(scheme).toMatchObject({
      kind: 'oauth2',
      settings: {
        grantType: 'client_credentials',
        clientId: 'app-1',
        tokenUrl: 'https://login.windows.net/tenant-9/oauth2/token',
        resource: 'https://management.core.windows.net',
      },
    });
  });

  it('every corpus connector that parses loads with its operations indexed', async () => {
    for (const folder of [
      'Abbreviations',
      'Affirmations',
      'BIN-Checker',
      'DataScope',
      'Dad-Jokes',
      'Feathery-Forms',
      'HARNESS-PDFx',
      'Microsoft-Bookings',
      'TRIGGERcmd',
      'Ticketing.events',
      'Yeelight',
    ]) {
      const api = await loadConnectorApi(corpusConnector(folder).definition!.openApi, { connector: folder });
      expect(api.operations.length, folder).toBeGreaterThan(0);
    }
  });
});

describe('authentication kinds against a real server', () => {
  const api = (security: Record<string, unknown>) => ({
    swagger: '2.0',
    info: { title: 'Auth', version: '1' },
    host: `127.0.0.1:${httpPort}`,
    basePath: '/',
    schemes: ['http'],
    paths: { '/who': { get: { operationId: 'Who', responses: {} } } },
    securityDefinitions: security,
  });
  const call = async (
    openApi: Record<string, unknown>,
    connectionParameters: Record<string, unknown>,
    connection: ConnectionValues,
  ) => {
    seen.length = 0;
    const r = await callConnector({
      connector: synthetic(openApi, [], connectionParameters),
      connection,
      actionType: 'OpenApiConnection',
      host: { operationId: 'Who' },
      inputs: {},
      http: client,
      policy: { allowLoopback: true },
    });
    expect(r.statusCode).toBe(200);
    return seen[0]!;
  };
  const secure = { type: 'securestring' };

  it('no authentication sends no credentials', async () => {
    const s = await call(api({}), {}, values({}));
    expect(s.headers['authorization']).toBeUndefined();
  });
  it('API key in a header and in the query', async () => {
    expect(
      (
        await call(
          api({ k: { type: 'apiKey', in: 'header', name: 'X-Key' } }),
          { api_key: secure },
          values({}, { api_key: 'h-key' }),
        )
      ).headers['x-key'],
    ).toBe('h-key');
    expect(
      new URL(
        (
          await call(
            api({ k: { type: 'apiKey', in: 'query', name: 'code' } }),
            { api_key: secure },
            values({}, { api_key: 'q-key' }),
          )
        ).url,
        'http://x',
      ).searchParams.get('code'),
    ).toBe('q-key');
  });
  it('basic', async () => {
    const s = await call(
      api({ b: { type: 'basic' } }),
      { username: secure, password: secure },
      values({}, { username: 'u1', password: 'p:1' }),
    );
    expect(s.headers['authorization']).toBe(`Basic ${Buffer.from('u1:p:1').toString('base64')}`);
  });
});

describe('OpenAPI features', () => {
  const doc = {
    swagger: '2.0',
    info: { title: 'S', version: '1' },
    host: 'placeholder.invalid',
    basePath: '/base',
    schemes: ['http'],
    consumes: ['application/json'],
    paths: {
      '/items/{folder}/{name}': {
        parameters: [{ name: 'folder', in: 'path', required: true, type: 'string', 'x-ms-url-encoding': 'double' }],
        post: {
          operationId: 'PutItem',
          parameters: [
            { name: 'name', in: 'path', required: true, type: 'string' },
            {
              name: 'api-version',
              in: 'query',
              required: true,
              type: 'string',
              default: '2024-01-01',
              'x-ms-visibility': 'internal',
            },
            { name: 'tags', in: 'query', type: 'array', items: { type: 'string' }, collectionFormat: 'multi' },
            { name: 'ids', in: 'query', type: 'array', items: { type: 'integer' }, collectionFormat: 'pipes' },
            { name: 'X-Trace', in: 'header', type: 'string' },
            {
              name: 'item',
              in: 'body',
              required: true,
              schema: {
                type: 'object',
                required: ['kind'],
                properties: {
                  kind: { type: 'string', default: 'doc', 'x-ms-visibility': 'internal' },
                  size: { type: 'integer' },
                  meta: {
                    type: 'object',
                    properties: { owner: { $ref: '#/definitions/Owner' }, flag: { type: 'boolean' } },
                  },
                },
              },
            },
          ],
          responses: { '200': { description: 'ok', schema: { type: 'object' } } },
        },
      },
      '/files/{id}': {
        get: {
          operationId: 'GetFile',
          parameters: [{ name: 'id', in: 'path', required: true, type: 'string' }],
          responses: { '200': { description: 'f', schema: { type: 'file' } } },
        },
      },
      '/text-json': {
        get: { operationId: 'TextJson', responses: { '200': { description: 'x', schema: { type: 'object' } } } },
      },
      '/form': {
        post: {
          operationId: 'Form',
          consumes: ['application/x-www-form-urlencoded'],
          parameters: [
            { name: 'a', in: 'formData', type: 'string' },
            { name: 'b', in: 'formData', type: 'integer' },
          ],
          responses: {},
        },
      },
      '/datasets/{dataset}/tables/{table}/items': {
        get: {
          operationId: 'GetItems',
          parameters: [
            { name: 'dataset', in: 'path', required: true, type: 'string' },
            { name: 'table', in: 'path', required: true, type: 'string' },
          ],
          responses: {},
        },
      },
    },
    definitions: { Owner: { type: 'object', properties: { name: { type: 'string' } } } },
  };
  const policies = (port: number) => [
    {
      templateId: 'dynamichosturl',
      parameters: { 'x-ms-apimTemplateParameter.urlTemplate': `http://127.0.0.1:${port}/base` },
    },
    {
      templateId: 'setqueryparameter',
      parameters: {
        'x-ms-apimTemplateParameter.name': 'tenant',
        'x-ms-apimTemplateParameter.value': "@connectionParameters('tenant')",
        'x-ms-apimTemplateParameter.existsAction': 'override',
      },
    },
    {
      templateId: 'setheader',
      parameters: {
        'x-ms-apimTemplateParameter.name': 'X-Trace',
        'x-ms-apimTemplateParameter.value': 'policy',
        'x-ms-apimTemplateParameter.existsAction': 'skip',
      },
    },
    {
      templateId: 'setheader',
      parameters: {
        'x-ms-apimTemplateParameter.name': 'X-Copied',
        'x-ms-apimTemplateParameter.value': "@headers('X-Trace')/@queryParameters('api-version')",
      },
    },
    {
      templateId: 'setheader',
      parameters: {
        'x-ms-apimTemplateParameter.name': 'X-Only-Files',
        'x-ms-apimTemplateParameter.value': 'yes',
        'x-ms-apimTemplate-operationName': ['GetFile'],
      },
    },
    {
      templateId: 'setheader',
      parameters: {
        'x-ms-apimTemplateParameter.name': 'X-Served-By',
        'x-ms-apimTemplateParameter.value': 'patchbay',
        'x-ms-apimTemplate-policySection': 'Response',
      },
    },
  ];

  it('path encoding, internal defaults, collection formats, nested body keys and $ref schemas, request and response policies', async () => {
    seen.length = 0;
    const r = await callConnector({
      connector: synthetic(doc, policies(httpPort)),
      connection: values({ tenant: 'contoso' }),
      actionType: 'OpenApiConnection',
      host: { operationId: 'PutItem' },
      inputs: {
        parameters: {
          folder: 'a/b c',
          name: 'x y',
          tags: ['t1', 't2'],
          ids: [1, 2],
          'X-Trace': 'flow',
          'item/size': '12',
          'item/meta/owner/name': 'Ann',
          'item/meta/flag': 'true',
        },
      },
      http: client,
      policy: { allowLoopback: true },
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-served-by']).toBe('patchbay');
    const s = seen[0]!;
    expect(s.url.split('?')[0]).toBe('/base/items/a%252Fb%2520c/x%20y');
    const q = new URL(s.url, 'http://x').searchParams;
    expect(q.get('api-version')).toBe('2024-01-01');
    expect(q.getAll('tags')).toEqual(['t1', 't2']);
    expect(q.get('ids')).toBe('1|2');
    expect(q.get('tenant')).toBe('contoso');
    expect(s.headers['x-trace']).toBe('flow');
    expect(s.headers['x-copied']).toBe('flow/2024-01-01');
    expect(s.headers['x-only-files']).toBeUndefined();
    expect(JSON.parse(s.body)).toEqual({ kind: 'doc', size: 12, meta: { owner: { name: 'Ann' }, flag: true } });
  });

  it('binary responses by schema, JSON sent as text, form data, ApiConnection paths', async () => {
    const c = synthetic(doc, policies(httpPort), {});
    const common = { connector: c, connection: values({ tenant: 't' }), http: client, policy: { allowLoopback: true } };
    const file = await callConnector({
      ...common,
      actionType: 'OpenApiConnection',
      host: { operationId: 'GetFile' },
      inputs: { parameters: { id: '1' } },
    });
    expect(file.body).toEqual({
      '$content-type': 'application/octet-stream',
      $content: Buffer.from([1, 2, 3]).toString('base64'),
    });
    const text = await callConnector({
      ...common,
      actionType: 'OpenApiConnection',
      host: { operationId: 'TextJson' },
      inputs: {},
    });
    expect(text.body).toEqual({ ok: true });
    seen.length = 0;
    await callConnector({
      ...common,
      actionType: 'OpenApiConnection',
      host: { operationId: 'Form' },
      inputs: { parameters: { a: 'x&y', b: 3 } },
    });
    expect(seen[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen[0]!.body).toBe('a=x%26y&b=3');
    seen.length = 0;
    const api = await callConnector({
      ...common,
      actionType: 'ApiConnection',
      inputs: { method: 'get', path: "/datasets/default/tables/Order's list/items", queries: { $top: 5 } },
    });
    expect(api).toMatchObject({ statusCode: 200, operationId: 'GetItems' });
    expect(seen[0]!.url).toBe("/base/datasets/default/tables/Order's%20list/items?%24top=5&tenant=t");
  });

  it('webhook actions, id-only connectors and unknown operations fail with typed errors', async () => {
    const common = { connection: values({}), http: client, policy: { allowLoopback: true }, inputs: {} };
    await expect(
      callConnector({
        ...common,
        connector: synthetic(doc),
        actionType: 'OpenApiConnectionWebhook',
        host: { operationId: 'PutItem' },
      }),
    ).rejects.toMatchObject({ code: 'WEBHOOK_ACTION_NOT_SUPPORTED' });
    await expect(
      callConnector({
        ...common,
        connector: { ...synthetic(doc), kind: 'idOnly', definition: undefined } as Connector,
        actionType: 'OpenApiConnection',
        host: { operationId: 'X' },
      }),
    ).rejects.toMatchObject({ code: 'CONNECTOR_DEFINITION_MISSING' });
    await expect(
      callConnector({
        ...common,
        connector: synthetic(doc),
        actionType: 'OpenApiConnection',
        host: { operationId: 'Nope' },
      }),
    ).rejects.toMatchObject({ code: 'OPERATION_NOT_FOUND' });
  });

  it('a broken $ref is a typed definition error naming the connector', async () => {
    await expect(
      loadConnectorApi(
        {
          swagger: '2.0',
          info: { title: 'x', version: '1' },
          paths: {
            '/a': {
              get: {
                operationId: 'A',
                responses: { '200': { description: 'x', schema: { $ref: '#/definitions/Missing' } } },
              },
            },
          },
        },
        { connector: 'broken' },
      ),
    ).rejects.toMatchObject({
      code: 'CONNECTOR_DEFINITION_INVALID',
      details: { connector: 'broken' },
    });
  });
});
