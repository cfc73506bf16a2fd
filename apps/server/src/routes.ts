/**
 * The authenticated API routes (issue 8 items 2 and 4): environments, principals, tokens,
 * connectors, connections, connection references, solutions, flows, runs, audit. Roles per
 * environment (Admin ⊇ Maker ⊇ Viewer) are checked before the service call; the services then
 * apply the model's own rules (binding needs ownership or a share, design §2, §6). Every refusal
 * is a 403 `{code, message, details}` naming what was missing.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  canUseConnection,
  forbidden,
  notFound,
  PatchbayError,
  type Environment,
  type Principal,
  type Role,
  type ShareRole,
} from '@patchbay/core';
import {
  auditJson,
  clientCredentialJson,
  connectionJson,
  flowJson,
  referenceJson,
  runListJson,
  runShowJson,
  toConnectorDefinition,
  tokenJson,
  type ExecutionService,
  type Platform,
} from '@patchbay/platform';
import {
  analyzeSolution,
  createDeploymentSettings,
  parseCustomConnectorSource,
  parseDeploymentSettings,
  readSolutionZip,
  writeSolutionZip,
  type DeploymentSettings,
} from '@patchbay/solution';

// ---------- schema helpers ----------
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const anyObj = { type: 'object', additionalProperties: true } as const;
const anyArr = { type: 'array', items: anyObj } as const;
const obj = (properties: Record<string, unknown>, required: string[] = [], extra = false) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: extra,
});
const out = (schema: unknown, status = 200) => ({
  [status]: schema,
  '4xx': { $ref: 'Error#' },
  '5xx': { $ref: 'Error#' },
});
const envP = obj({ env: str }, ['env']);
const envIdP = (name: string) => obj({ env: str, [name]: str }, ['env', name]);
const principalShape = obj({ id: str, name: str, kind: str, displayName: str, status: str, createdOn: str }, [], true);
const environmentShape = obj({ id: str, name: str, displayName: str, policy: anyObj, createdOn: str }, [], true);
const connectionShape = obj(
  {
    id: str,
    connector: str,
    displayName: str,
    owner: str,
    status: str,
    parameters: anyObj,
    secretParameters: { type: 'array', items: str },
    shares: anyArr,
  },
  [],
  true,
);
const referenceShape = obj(
  {
    logicalName: str,
    displayName: str,
    connector: str,
    connectionId: { type: 'string', nullable: true },
    owner: str,
    flows: anyArr,
  },
  [],
  true,
);
const flowShape = obj(
  { name: str, id: str, state: str, turnedOn: bool, owner: str, reasons: anyArr, connections: anyArr },
  [],
  true,
);
const runShape = obj({ id: str, flow: str, flowId: str, status: str, startedBy: str, startTime: str }, [], true);
const packageBody = (extra: Record<string, unknown> = {}) =>
  obj(
    {
      package: { type: 'string', description: 'the solution zip, base64', contentEncoding: 'base64' },
      settings: { ...anyObj, description: 'deployment settings (pac create-settings JSON)' },
      ...extra,
    },
    ['package'],
  );

function tag(t: string, summary: string) {
  return { tags: [t], summary };
}

/** Decodes an uploaded solution zip (base64). */
async function readPackage(b64: string, name = 'upload.zip') {
  return readSolutionZip(Buffer.from(b64, 'base64'), { name });
}

function settingsOf(value: unknown): DeploymentSettings | undefined {
  if (value === undefined || value === null) return undefined;
  return parseDeploymentSettings(JSON.stringify(value), { file: 'settings' });
}

/** Registers every authenticated route. */
export function registerRoutes(app: FastifyInstance, platform: Platform, execution?: ExecutionService): void {
  const auth = platform.auth;
  const me = (req: FastifyRequest): Principal => req.principal!;
  const params = <T>(req: FastifyRequest) => req.params as T;
  const principalMap = async () => new Map((await platform.principals.list()).map((p) => [p.id, p]));
  const ownerNames = async () => new Map((await platform.principals.list()).map((p) => [p.id, p.name]));
  /** The environment of the route, after checking the caller's role there. */
  const envFor = async (req: FastifyRequest, role: Role, action: string): Promise<Environment> => {
    const e = await platform.environments.get(params<{ env: string }>(req).env);
    await auth.requireRole(me(req), e, role, action);
    return e;
  };
  /** A connection of the environment that the caller may see (owner, share, or Admin of the environment). */
  const visibleConnection = async (req: FastifyRequest, e: Environment, id: string) => {
    const c = await platform.connections.get(id);
    if (c.environmentId !== e.id)
      throw notFound('CONNECTION_NOT_FOUND', `connection ${id} does not exist in environment ${e.name}`, {
        connection: id,
        environment: e.name,
      });
    const p = me(req);
    if (!canUseConnection(p.id, c) && (await auth.roleIn(p, e.id)) !== 'Admin') {
      throw forbidden('CONNECTION_NOT_VISIBLE', `connection ${id} is neither owned by nor shared with ${p.name}`, {
        connection: id,
        principal: p.name,
        missing: 'ownership of or a share on the connection',
      });
    }
    return c;
  };

  // ---------- who am I ----------
  app.get(
    '/api/v1/me',
    {
      schema: {
        ...tag('auth', 'the calling principal, its roles and whether it is a platform admin'),
        response: out(anyObj),
      },
    },
    async (req) => {
      const p = me(req);
      const envs = new Map((await platform.environments.list()).map((e) => [e.id, e.name]));
      const roles = await platform.store.repos.roles.listForPrincipal(p.id);
      return {
        principal: { name: p.name, kind: p.kind, displayName: p.displayName },
        platformAdmin: await auth.isPlatformAdmin(p),
        roles:
          p.name.toLowerCase() === 'admin'
            ? [...envs.values()].map((environment) => ({ environment, role: 'Admin' }))
            : roles.map((r) => ({ environment: envs.get(r.environmentId) ?? r.environmentId, role: r.role })),
      };
    },
  );

  // ---------- environments ----------
  app.get(
    '/api/v1/environments',
    {
      schema: {
        ...tag('environments', 'environments where the caller has a role (all for a platform admin)'),
        response: out({ type: 'array', items: environmentShape }),
      },
    },
    async (req) => {
      const all = await platform.environments.list();
      if (await auth.isPlatformAdmin(me(req))) return all;
      const mine = new Set((await platform.store.repos.roles.listForPrincipal(me(req).id)).map((r) => r.environmentId));
      return all.filter((e) => mine.has(e.id));
    },
  );
  app.post(
    '/api/v1/environments',
    {
      schema: {
        ...tag('environments', 'create an environment (platform admin); the caller becomes its Admin'),
        body: obj({ name: str, displayName: str, policy: anyObj }, ['name']),
        response: out(environmentShape, 201),
      },
    },
    async (req, reply) => {
      await auth.requirePlatformAdmin(me(req), 'creating an environment');
      const b = req.body as { name: string; displayName?: string; policy?: Record<string, unknown> };
      const e = await platform.environments.create({
        name: b.name,
        ...(b.displayName ? { displayName: b.displayName } : {}),
        ...(b.policy ? { policy: b.policy } : {}),
        actor: me(req).name,
      });
      return reply.code(201).send(e);
    },
  );
  app.get(
    '/api/v1/environments/:env',
    { schema: { ...tag('environments', 'one environment (Viewer)'), params: envP, response: out(environmentShape) } },
    async (req) => envFor(req, 'Viewer', 'reading the environment'),
  );
  app.patch(
    '/api/v1/environments/:env/policy',
    {
      schema: {
        ...tag('environments', "change the environment's policy (Admin)"),
        params: envP,
        body: anyObj,
        response: out(environmentShape),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Admin', 'changing the policy');
      return platform.environments.setPolicy({
        environment: e.name,
        policy: req.body as Record<string, never>,
        actor: me(req).name,
      });
    },
  );
  app.get(
    '/api/v1/environments/:env/roles',
    {
      schema: {
        ...tag('environments', 'role assignments (Viewer)'),
        params: envP,
        response: out({ type: 'array', items: obj({ principal: str, role: str }) }),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'reading roles');
      return platform.environments.roles(e.name);
    },
  );
  app.put(
    '/api/v1/environments/:env/roles/:principal',
    {
      schema: {
        ...tag('environments', 'give a principal a role (Admin)'),
        params: envIdP('principal'),
        body: obj({ role: { type: 'string', enum: ['Admin', 'Maker', 'Viewer'] } }, ['role']),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Admin', 'assigning roles');
      const a = await platform.environments.assignRole({
        environment: e.name,
        principal: params<{ principal: string }>(req).principal,
        role: (req.body as { role: Role }).role,
        actor: me(req).name,
      });
      return { environment: e.name, principal: params<{ principal: string }>(req).principal, role: a.role };
    },
  );
  app.delete(
    '/api/v1/environments/:env/roles/:principal',
    {
      schema: {
        ...tag('environments', "remove a principal's role (Admin)"),
        params: envIdP('principal'),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Admin', 'removing roles');
      await platform.environments.removeRole({
        environment: e.name,
        principal: params<{ principal: string }>(req).principal,
        actor: me(req).name,
      });
      return { removed: true };
    },
  );

  // ---------- principals, tokens, client credentials ----------
  app.get(
    '/api/v1/principals',
    {
      schema: {
        ...tag('principals', 'every principal (any authenticated caller: needed to share by name)'),
        response: out({ type: 'array', items: principalShape }),
      },
    },
    async () => platform.principals.list(),
  );
  app.post(
    '/api/v1/principals',
    {
      schema: {
        ...tag('principals', 'create a user or service principal (platform admin)'),
        body: obj({ name: str, kind: { type: 'string', enum: ['user', 'servicePrincipal'] }, displayName: str }, [
          'name',
        ]),
        response: out(principalShape, 201),
      },
    },
    async (req, reply) => {
      await auth.requirePlatformAdmin(me(req), 'creating principals');
      const b = req.body as { name: string; kind?: 'user' | 'servicePrincipal'; displayName?: string };
      return reply.code(201).send(
        await platform.principals.create({
          name: b.name,
          ...(b.kind ? { kind: b.kind } : {}),
          ...(b.displayName ? { displayName: b.displayName } : {}),
          actor: me(req).name,
        }),
      );
    },
  );
  for (const verb of ['disable', 'enable'] as const) {
    app.post(
      `/api/v1/principals/:name/${verb}`,
      {
        schema: {
          ...tag('principals', `${verb} a principal (platform admin); lists the flows that change state`),
          params: obj({ name: str }, ['name']),
          response: out(anyObj),
        },
      },
      async (req) => {
        await auth.requirePlatformAdmin(me(req), `${verb === 'disable' ? 'disabling' : 'enabling'} principals`);
        return platform.principals[verb]({ name: params<{ name: string }>(req).name, actor: me(req).name });
      },
    );
  }
  app.post(
    '/api/v1/principals/:name/client-credentials',
    {
      schema: {
        ...tag(
          'principals',
          'create client credentials for a service principal (platform admin); the secret is shown once',
        ),
        params: obj({ name: str }, ['name']),
        body: obj({ description: str, expiresInDays: { type: 'number' } }),
        response: out(anyObj, 201),
      },
    },
    async (req, reply) => {
      await auth.requirePlatformAdmin(me(req), 'creating client credentials');
      const b = (req.body ?? {}) as { description?: string; expiresInDays?: number };
      const c = await auth.createClientCredentials({
        for: params<{ name: string }>(req).name,
        ...(b.description ? { description: b.description } : {}),
        ...(b.expiresInDays ? { expiresInDays: b.expiresInDays } : {}),
        actor: me(req).name,
      });
      return reply
        .code(201)
        .send({ ...clientCredentialJson(c.record, await principalMap()), clientSecret: c.clientSecret });
    },
  );
  app.get(
    '/api/v1/principals/:name/client-credentials',
    {
      schema: {
        ...tag('principals', 'client credentials of a service principal, without secrets (platform admin)'),
        params: obj({ name: str }, ['name']),
        response: out(anyArr),
      },
    },
    async (req) => {
      await auth.requirePlatformAdmin(me(req), 'listing client credentials');
      const pm = await principalMap();
      return (await auth.listClientCredentials({ for: params<{ name: string }>(req).name })).map((c) =>
        clientCredentialJson(c, pm),
      );
    },
  );
  app.delete(
    '/api/v1/client-credentials/:clientId',
    {
      schema: {
        ...tag('principals', 'revoke client credentials (platform admin)'),
        params: obj({ clientId: str }, ['clientId']),
        response: out(anyObj),
      },
    },
    async (req) => {
      await auth.requirePlatformAdmin(me(req), 'revoking client credentials');
      await auth.revokeClientCredentials({ clientId: params<{ clientId: string }>(req).clientId, actor: me(req).name });
      return { revoked: true };
    },
  );
  app.post(
    '/api/v1/tokens',
    {
      schema: {
        ...tag('auth', 'create an API token for a principal (platform admin); the token is shown once'),
        body: obj({ for: str, description: str, expiresInDays: { type: 'number' } }, ['for']),
        response: out(anyObj, 201),
      },
    },
    async (req, reply) => {
      await auth.requirePlatformAdmin(me(req), 'creating API tokens');
      const b = req.body as { for: string; description?: string; expiresInDays?: number };
      const t = await auth.createToken({
        for: b.for,
        ...(b.description ? { description: b.description } : {}),
        ...(b.expiresInDays ? { expiresInDays: b.expiresInDays } : {}),
        actor: me(req).name,
      });
      return reply.code(201).send({ ...tokenJson(t.record, await principalMap()), token: t.token });
    },
  );
  app.get(
    '/api/v1/tokens',
    {
      schema: {
        ...tag('auth', 'API tokens without secrets (platform admin: all or ?for=; others: their own)'),
        querystring: obj({ for: str }),
        response: out(anyArr),
      },
    },
    async (req) => {
      const q = req.query as { for?: string };
      const admin = await auth.isPlatformAdmin(me(req));
      const forName = admin ? q.for : me(req).name;
      if (!admin && q.for && q.for.toLowerCase() !== me(req).name.toLowerCase())
        await auth.requirePlatformAdmin(me(req), "listing another principal's tokens");
      const pm = await principalMap();
      return (await auth.listTokens(forName ? { for: forName } : {})).map((t) => tokenJson(t, pm));
    },
  );
  app.delete(
    '/api/v1/tokens/:id',
    {
      schema: {
        ...tag('auth', 'revoke an API token (platform admin, or the owner of the token)'),
        params: obj({ id: str }, ['id']),
        response: out(anyObj),
      },
    },
    async (req) => {
      const t = await auth.getToken(params<{ id: string }>(req).id);
      if (t.principalId !== me(req).id) await auth.requirePlatformAdmin(me(req), "revoking another principal's token");
      const r = await auth.revokeToken({ id: t.id, actor: me(req).name });
      return tokenJson(r, await principalMap());
    },
  );

  // ---------- connectors ----------
  const connectorJson = (c: {
    id: string;
    displayName: string;
    kind: string;
    packageConnectorId?: string;
    createdOn: string;
    modifiedOn: string;
  }) => ({
    id: c.id,
    displayName: c.displayName,
    kind: c.kind,
    ...(c.packageConnectorId ? { packageConnectorId: c.packageConnectorId } : {}),
    createdOn: c.createdOn,
    modifiedOn: c.modifiedOn,
  });
  app.get(
    '/api/v1/environments/:env/connectors',
    {
      schema: {
        ...tag('connectors', 'built-in and installed connectors (Viewer)'),
        params: envP,
        response: out(anyArr),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'listing connectors');
      return (await platform.connectors.list(e.name)).map(connectorJson);
    },
  );
  app.get(
    '/api/v1/environments/:env/connectors/:id',
    {
      schema: {
        ...tag('connectors', 'one connector with its definition (Viewer)'),
        params: envIdP('id'),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'reading connectors');
      const c = await platform.connectors.get(e.name, params<{ id: string }>(req).id);
      return { ...connectorJson(c), ...(c.definition ? { definition: c.definition } : {}) };
    },
  );
  app.post(
    '/api/v1/environments/:env/connectors',
    {
      schema: {
        ...tag('connectors', 'register a connector by id only (Maker)'),
        params: envP,
        body: obj({ id: str, displayName: str }, ['id']),
        response: out(anyObj, 201),
      },
    },
    async (req, reply) => {
      const e = await envFor(req, 'Maker', 'adding connectors');
      const b = req.body as { id: string; displayName?: string };
      return reply.code(201).send(
        connectorJson(
          await platform.connectors.add({
            environment: e.name,
            id: b.id,
            ...(b.displayName ? { displayName: b.displayName } : {}),
            actor: me(req).name,
          }),
        ),
      );
    },
  );
  app.put(
    '/api/v1/environments/:env/connectors/:id',
    {
      schema: {
        ...tag('connectors', 'install or update a custom connector from its source form (Maker)'),
        params: envIdP('id'),
        body: obj(
          {
            displayName: str,
            apiDefinition: { ...anyObj, description: 'apiDefinition.swagger.json' },
            apiProperties: { ...anyObj, description: 'apiProperties.json' },
            script: str,
          },
          ['apiDefinition', 'apiProperties'],
        ),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'installing connectors');
      const id = params<{ id: string }>(req).id;
      const b = req.body as { displayName?: string; apiDefinition: unknown; apiProperties: unknown; script?: string };
      const def = parseCustomConnectorSource(
        {
          apiDefinition: JSON.stringify(b.apiDefinition),
          apiProperties: JSON.stringify(b.apiProperties),
          ...(b.script !== undefined ? { script: b.script } : {}),
        },
        { name: id, label: (f) => `${id}/${f}` },
      );
      const c = await platform.connectors.install({
        environment: e.name,
        id,
        displayName: b.displayName ?? def.displayName ?? id,
        definition: toConnectorDefinition(def),
        actor: me(req).name,
      });
      return connectorJson(c);
    },
  );

  // ---------- connections ----------
  app.get(
    '/api/v1/environments/:env/connections',
    {
      schema: {
        ...tag('connections', 'connections: all for an Admin, else those the caller owns or that are shared with it'),
        params: envP,
        response: out({ type: 'array', items: connectionShape }),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'listing connections');
      const admin = (await auth.roleIn(me(req), e.id)) === 'Admin';
      const list = await platform.connections.list({
        environment: e.name,
        ...(admin ? {} : { visibleTo: me(req).name }),
      });
      const pm = await principalMap();
      return list.map((c) => connectionJson(c, pm));
    },
  );
  app.post(
    '/api/v1/environments/:env/connections',
    {
      schema: {
        ...tag('connections', 'create a connection owned by the caller (Maker); secret parameters are write-only'),
        params: envP,
        body: obj(
          {
            connector: str,
            displayName: str,
            parameterSet: str,
            parameters: { type: 'object', additionalProperties: { type: 'string' } },
            secretParameters: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'write-only: encrypted at rest, never returned',
            },
          },
          ['connector', 'displayName'],
        ),
        response: out(connectionShape, 201),
      },
    },
    async (req, reply) => {
      const e = await envFor(req, 'Maker', 'creating connections');
      const b = req.body as {
        connector: string;
        displayName: string;
        parameterSet?: string;
        parameters?: Record<string, string>;
        secretParameters?: Record<string, string>;
      };
      const c = await platform.connections.create({
        environment: e.name,
        connector: b.connector,
        displayName: b.displayName,
        ...(b.parameterSet ? { parameterSet: b.parameterSet } : {}),
        parameters: b.parameters ?? {},
        secretParameters: b.secretParameters ?? {},
        actor: me(req).name,
      });
      return reply.code(201).send(connectionJson(c, await principalMap()));
    },
  );
  app.get(
    '/api/v1/environments/:env/connections/:id',
    {
      schema: {
        ...tag('connections', 'one connection (owner, share holder or Admin); never a secret value'),
        params: envIdP('id'),
        response: out(connectionShape),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'reading connections');
      return connectionJson(await visibleConnection(req, e, params<{ id: string }>(req).id), await principalMap());
    },
  );
  app.post(
    '/api/v1/environments/:env/connections/:id/test',
    {
      schema: {
        ...tag('connections', 'test a connection (Maker, owner or share holder)'),
        params: envIdP('id'),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'testing connections');
      const c = await visibleConnection(req, e, params<{ id: string }>(req).id);
      const svc = platform.connections as unknown as { test?: (o: { id: string; actor?: string }) => Promise<unknown> };
      if (typeof svc.test === 'function') return svc.test({ id: c.id, actor: me(req).name });
      const stored = new Set((await platform.store.repos.secrets.listByOwner(c.id)).map((s) => s.name.toLowerCase()));
      const missing = c.secretParameterNames.filter((n) => !stored.has(n.toLowerCase()));
      const owner = await platform.store.repos.principals.get(c.ownerId);
      const checks = [
        { check: 'status', ok: c.status === 'Connected', detail: c.statusMessage ?? c.status },
        {
          check: 'secrets',
          ok: missing.length === 0,
          detail: missing.length
            ? `missing: ${missing.join(', ')}`
            : `${c.secretParameterNames.length} stored encrypted`,
        },
        {
          check: 'owner',
          ok: owner?.status === 'active',
          detail: owner ? `${owner.name} (${owner.status})` : 'missing',
        },
      ];
      return { connection: c.id, ok: checks.every((x) => x.ok), checks };
    },
  );
  app.post(
    '/api/v1/environments/:env/connections/:id/share',
    {
      schema: {
        ...tag('connections', 'share with a principal (Maker; owner or CanUseAndShare holder)'),
        params: envIdP('id'),
        body: obj({ with: str, role: { type: 'string', enum: ['CanUse', 'CanUseAndShare'] } }, ['with', 'role']),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'sharing connections');
      const c = await visibleConnection(req, e, params<{ id: string }>(req).id);
      const b = req.body as { with: string; role: ShareRole };
      const r = await platform.connections.share({ id: c.id, with: b.with, role: b.role, actor: me(req).name });
      return { connection: connectionJson(r.connection, await principalMap()), flows: r.flows };
    },
  );
  app.post(
    '/api/v1/environments/:env/connections/:id/unshare',
    {
      schema: {
        ...tag('connections', 'remove a share (Maker); lists flows that turn off'),
        params: envIdP('id'),
        body: obj({ with: str }, ['with']),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'unsharing connections');
      const c = await visibleConnection(req, e, params<{ id: string }>(req).id);
      const r = await platform.connections.unshare({
        id: c.id,
        with: (req.body as { with: string }).with,
        actor: me(req).name,
      });
      return { connection: connectionJson(r.connection, await principalMap()), flows: r.flows };
    },
  );
  app.post(
    '/api/v1/environments/:env/connections/:id/transfer',
    {
      schema: {
        ...tag('connections', 'transfer ownership (Maker owning it, or Admin)'),
        params: envIdP('id'),
        body: obj({ to: str, keepAccess: bool }, ['to']),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'transferring connections');
      const c = await visibleConnection(req, e, params<{ id: string }>(req).id);
      const b = req.body as { to: string; keepAccess?: boolean };
      const r = await platform.connections.transfer({
        id: c.id,
        to: b.to,
        keepAccess: Boolean(b.keepAccess),
        actor: me(req).name,
      });
      return { connection: connectionJson(r.connection, await principalMap()), flows: r.flows };
    },
  );
  app.delete(
    '/api/v1/environments/:env/connections/:id',
    {
      schema: {
        ...tag('connections', 'delete (owner or Admin); refused while bound unless ?force=true'),
        params: envIdP('id'),
        querystring: obj({ force: bool }),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'deleting connections');
      const c = await visibleConnection(req, e, params<{ id: string }>(req).id);
      const r = await platform.connections.delete({
        id: c.id,
        force: Boolean((req.query as { force?: boolean }).force),
        actor: me(req).name,
      });
      return { deleted: r.connection.id, unboundReferences: r.unboundReferences, flows: r.flows };
    },
  );

  // ---------- connection references ----------
  app.get(
    '/api/v1/environments/:env/references',
    {
      schema: {
        ...tag('references', 'every connection reference of the environment (Viewer)'),
        params: envP,
        response: out({ type: 'array', items: referenceShape }),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'listing connection references');
      const [refs, usages, names] = await Promise.all([
        platform.references.list(e.name),
        platform.references.allUsages(e.name),
        ownerNames(),
      ]);
      return refs.map((r) => referenceJson(r, usages.get(r.logicalName.toLowerCase()) ?? [], names.get(r.ownerId)));
    },
  );
  app.post(
    '/api/v1/environments/:env/references',
    {
      schema: {
        ...tag('references', 'create an unbound reference (Maker)'),
        params: envP,
        body: obj({ logicalName: str, connector: str, displayName: str, description: str }, [
          'logicalName',
          'connector',
        ]),
        response: out(referenceShape, 201),
      },
    },
    async (req, reply) => {
      const e = await envFor(req, 'Maker', 'creating connection references');
      const b = req.body as { logicalName: string; connector: string; displayName?: string; description?: string };
      const r = await platform.references.create({
        environment: e.name,
        logicalName: b.logicalName,
        connector: b.connector,
        ...(b.displayName ? { displayName: b.displayName } : {}),
        ...(b.description ? { description: b.description } : {}),
        actor: me(req).name,
      });
      return reply.code(201).send(referenceJson(r, [], me(req).name));
    },
  );
  app.get(
    '/api/v1/environments/:env/references/:name',
    {
      schema: {
        ...tag('references', 'one reference with its flows (Viewer)'),
        params: envIdP('name'),
        response: out(referenceShape),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'reading connection references');
      const r = await platform.references.get(e.name, params<{ name: string }>(req).name);
      const usages = await platform.references.usages({ environment: e.name, logicalName: r.logicalName });
      return referenceJson(r, usages, (await ownerNames()).get(r.ownerId));
    },
  );
  app.put(
    '/api/v1/environments/:env/references/:name/binding',
    {
      schema: {
        ...tag(
          'references',
          'bind to a connection of the same connector that the caller owns or holds a share on (Maker); changes no flow',
        ),
        params: envIdP('name'),
        body: obj({ connectionId: str }, ['connectionId']),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'binding connection references');
      const r = await platform.references.bind({
        environment: e.name,
        logicalName: params<{ name: string }>(req).name,
        connectionId: (req.body as { connectionId: string }).connectionId,
        actor: me(req).name,
      });
      return {
        reference: r.reference.logicalName,
        connectionId: r.reference.connectionId,
        previousConnectionId: r.previousConnectionId,
        usages: r.usages,
        flows: r.flows,
      };
    },
  );
  app.delete(
    '/api/v1/environments/:env/references/:name/binding',
    {
      schema: {
        ...tag('references', 'unbind (Maker); lists the flows that turn off'),
        params: envIdP('name'),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'unbinding connection references');
      const r = await platform.references.unbind({
        environment: e.name,
        logicalName: params<{ name: string }>(req).name,
        actor: me(req).name,
      });
      return { reference: r.reference.logicalName, previousConnectionId: r.previousConnectionId, flows: r.flows };
    },
  );
  app.get(
    '/api/v1/environments/:env/references/:name/usages',
    {
      schema: {
        ...tag('references', 'which flows and actions use the reference (Viewer)'),
        params: envIdP('name'),
        response: out(anyArr),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'reading usages');
      return platform.references.usages({ environment: e.name, logicalName: params<{ name: string }>(req).name });
    },
  );
  app.delete(
    '/api/v1/environments/:env/references/:name',
    {
      schema: {
        ...tag('references', 'delete (Maker); refused while used unless ?force=true'),
        params: envIdP('name'),
        querystring: obj({ force: bool }),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'deleting connection references');
      const r = await platform.references.delete({
        environment: e.name,
        logicalName: params<{ name: string }>(req).name,
        force: Boolean((req.query as { force?: boolean }).force),
        actor: me(req).name,
      });
      return { deleted: r.reference.logicalName, flows: r.flows };
    },
  );

  // ---------- solutions ----------
  app.get(
    '/api/v1/environments/:env/solutions',
    { schema: { ...tag('solutions', 'installed solutions (Viewer)'), params: envP, response: out(anyArr) } },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'listing solutions');
      return platform.solutions.list(e.name);
    },
  );
  app.post(
    '/api/v1/environments/:env/solutions/plan',
    {
      schema: {
        ...tag('solutions', 'upload a package and plan its import; writes nothing (Maker)'),
        params: envP,
        body: packageBody({ addMissingConnectors: bool }),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'planning imports');
      const b = req.body as { package: string; settings?: unknown; addMissingConnectors?: boolean };
      const settings = settingsOf(b.settings);
      return platform.solutions.plan({
        environment: e.name,
        package: await readPackage(b.package),
        ...(settings ? { settings } : {}),
        actor: me(req).name,
        ...(b.addMissingConnectors ? { addMissingConnectors: true } : {}),
      });
    },
  );
  app.post(
    '/api/v1/environments/:env/solutions/import',
    {
      schema: {
        ...tag(
          'solutions',
          'import a package atomically (Maker); blocked imports answer with the first blocking problem and write nothing',
        ),
        params: envP,
        body: packageBody({ addMissingConnectors: bool }),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'importing solutions');
      const b = req.body as { package: string; settings?: unknown; addMissingConnectors?: boolean };
      const settings = settingsOf(b.settings);
      return platform.solutions.import({
        environment: e.name,
        package: await readPackage(b.package),
        ...(settings ? { settings } : {}),
        actor: me(req).name,
        ...(b.addMissingConnectors ? { addMissingConnectors: true } : {}),
      });
    },
  );
  app.get(
    '/api/v1/environments/:env/solutions/:name/export',
    {
      schema: {
        ...tag(
          'solutions',
          'export an installed solution as a zip (Maker): no connection, no variable value, no secret',
        ),
        params: envIdP('name'),
        querystring: obj({ managed: bool }),
        response: {
          200: { description: 'the solution zip', type: 'string', format: 'binary' },
          '4xx': { $ref: 'Error#' },
        },
      },
    },
    async (req, reply) => {
      const e = await envFor(req, 'Maker', 'exporting solutions');
      const q = req.query as { managed?: boolean };
      const pkg = await platform.solutions.export({
        environment: e.name,
        name: params<{ name: string }>(req).name,
        ...(q.managed !== undefined ? { managed: q.managed } : {}),
        actor: me(req).name,
      });
      const zip = await writeSolutionZip(pkg);
      return reply
        .type('application/zip')
        .header(
          'content-disposition',
          `attachment; filename="${pkg.manifest.uniqueName}_${pkg.manifest.version.replace(/\./g, '_')}${pkg.manifest.managed ? '_managed' : ''}.zip"`,
        )
        .send(zip);
    },
  );
  app.get(
    '/api/v1/environments/:env/solutions/:name/settings',
    {
      schema: {
        ...tag('solutions', 'a deployment settings template for an installed solution (Viewer)'),
        params: envIdP('name'),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'reading solutions');
      const pkg = await platform.solutions.export({
        environment: e.name,
        name: params<{ name: string }>(req).name,
        actor: me(req).name,
      });
      return createDeploymentSettings(pkg);
    },
  );
  app.post(
    '/api/v1/solutions/create-settings',
    {
      schema: {
        ...tag('solutions', 'a deployment settings template for an uploaded package (pac solution create-settings)'),
        body: obj({ package: str }, ['package']),
        response: out(anyObj),
      },
    },
    async (req) => createDeploymentSettings(await readPackage((req.body as { package: string }).package)),
  );
  app.post(
    '/api/v1/solutions/analyze',
    {
      schema: {
        ...tag('solutions', 'analyse an uploaded package: references, usages, findings'),
        body: obj({ package: str }, ['package']),
        response: out(anyObj),
      },
    },
    async (req) => analyzeSolution(await readPackage((req.body as { package: string }).package)),
  );

  // ---------- flows ----------
  app.get(
    '/api/v1/environments/:env/flows',
    {
      schema: {
        ...tag('flows', 'flows with state and reasons (Viewer)'),
        params: envP,
        response: out({ type: 'array', items: flowShape }),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'listing flows');
      const owners = await ownerNames();
      return (await platform.flows.list(e.name)).map((f) => flowJson(f, owners));
    },
  );
  app.get(
    '/api/v1/environments/:env/flows/:flow',
    {
      schema: {
        ...tag('flows', 'one flow with its definition (Viewer)'),
        params: envIdP('flow'),
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'reading flows');
      const f = await platform.flows.get(e.name, params<{ flow: string }>(req).flow);
      return { ...flowJson(f, await ownerNames()), definition: f.definition };
    },
  );
  for (const verb of ['on', 'off'] as const) {
    app.post(
      `/api/v1/environments/:env/flows/:flow/${verb}`,
      {
        schema: {
          ...tag(
            'flows',
            verb === 'on'
              ? 'turn on (Maker): On when every reference is usable, else Off with reasons'
              : 'turn off (Maker)',
          ),
          params: envIdP('flow'),
          response: out(anyObj),
        },
      },
      async (req) => {
        const e = await envFor(req, 'Maker', `turning flows ${verb}`);
        const args = { environment: e.name, flow: params<{ flow: string }>(req).flow, actor: me(req).name };
        const r = verb === 'on' ? await platform.flows.turnOn(args) : await platform.flows.turnOff(args);
        return { ...flowJson(r.flow, await ownerNames()), changes: r.changes };
      },
    );
  }
  app.post(
    '/api/v1/environments/:env/flows/:flow/run',
    {
      schema: {
        ...tag('flows', 'run a flow now and wait for its end (Maker); the run is cancellable meanwhile'),
        params: envIdP('flow'),
        body: { type: 'object', properties: { body: {} }, additionalProperties: false, nullable: true },
        response: out(anyObj),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Maker', 'running flows');
      const runId = platform.ctx.ids.newId();
      const ctl = new AbortController();
      platform.triggers.active.set(runId, ctl);
      try {
        const b = (req.body ?? {}) as { body?: unknown };
        if (execution) {
          // Queued execution: the run is durable; wait for its end (the row says Running when it takes longer).
          const queued = await execution.enqueue({
            environment: e.name,
            flow: params<{ flow: string }>(req).flow,
            runId,
            actor: me(req).name,
            ...(b.body !== undefined ? { trigger: { body: b.body } } : {}),
          });
          return runShowJson(await execution.waitForEnd(queued.id, { timeoutMs: 120_000 }));
        }
        const { run } = await platform.runs.run({
          environment: e.name,
          flow: params<{ flow: string }>(req).flow,
          runId,
          signal: ctl.signal,
          actor: me(req).name,
          ...(b.body !== undefined ? { trigger: { body: b.body } } : {}),
        });
        return runShowJson(run);
      } finally {
        platform.triggers.active.delete(runId);
      }
    },
  );
  for (const verb of ['listCallbackUrl', 'revokeCallbackUrl'] as const) {
    app.post(
      `/api/v1/environments/:env/flows/:flow/triggers/:trigger/${verb}`,
      {
        schema: {
          ...tag(
            'flows',
            verb === 'listCallbackUrl'
              ? 'the signed callback URL of a Request trigger (Maker); keep it secret'
              : "revoke the trigger's callback URLs (Maker): they answer 401 from now on; the next listCallbackUrl signs a new one",
          ),
          params: obj({ env: str, flow: str, trigger: str }, ['env', 'flow', 'trigger']),
          response: out(anyObj),
        },
      },
      async (req) => {
        const e = await envFor(
          req,
          'Maker',
          verb === 'listCallbackUrl' ? 'reading callback URLs' : 'revoking callback URLs',
        );
        const p = params<{ flow: string; trigger: string }>(req);
        if (verb === 'revokeCallbackUrl')
          return {
            revoked: await platform.triggers.revokeCallbackUrls({
              environment: e.name,
              flow: p.flow,
              trigger: p.trigger,
              actor: me(req).name,
            }),
          };
        const u = await platform.triggers.listCallbackUrl({
          environment: e.name,
          flow: p.flow,
          trigger: p.trigger,
          actor: me(req).name,
        });
        return { value: u.url, method: u.method ?? 'POST', trigger: u.trigger, keyId: u.keyId };
      },
    );
  }

  // ---------- runs ----------
  const runEnv = async (req: FastifyRequest, role: Role, action: string) => {
    const run = await platform.runs.get(params<{ id: string }>(req).id);
    const e = await platform.store.repos.environments.get(run.environmentId);
    if (!e) throw notFound('RUN_NOT_FOUND', `run ${run.id} does not exist`, { run: run.id });
    await auth.requireRole(me(req), e, role, action);
    return { run, env: e };
  };
  app.get(
    '/api/v1/environments/:env/runs',
    {
      schema: {
        ...tag('runs', 'runs, newest first (Viewer)'),
        params: envP,
        querystring: obj({ flow: str, status: str, limit: { type: 'integer', minimum: 1, maximum: 1000 } }),
        response: out({ type: 'array', items: runShape }),
      },
    },
    async (req) => {
      const e = await envFor(req, 'Viewer', 'listing runs');
      const q = req.query as { flow?: string; status?: string; limit?: number };
      return (
        await platform.runs.list({
          environment: e.name,
          ...(q.flow ? { flow: q.flow } : {}),
          ...(q.status ? { status: q.status } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
        })
      ).map(runListJson);
    },
  );
  app.get(
    '/api/v1/runs/:id',
    {
      schema: {
        ...tag('runs', 'one run with its redacted history (Viewer of its environment)'),
        params: obj({ id: str }, ['id']),
        response: out(anyObj),
      },
    },
    async (req) => runShowJson((await runEnv(req, 'Viewer', 'reading runs')).run),
  );
  app.post(
    '/api/v1/runs/:id/cancel',
    {
      schema: {
        ...tag('runs', 'cancel a running run (Maker)'),
        params: obj({ id: str }, ['id']),
        response: out(anyObj, 202),
      },
    },
    async (req, reply) => {
      const { run } = await runEnv(req, 'Maker', 'cancelling runs');
      if (run.status !== 'Running')
        throw new PatchbayError({
          code: 'RUN_ALREADY_ENDED',
          message: `run ${run.id} already ended (${run.status})`,
          category: 'conflict',
          details: { run: run.id, status: run.status },
        });
      if (!platform.triggers.cancel(run.id)) {
        if (execution && (await platform.store.repos.runStates.get(run.id))) {
          await execution.cancel({ runId: run.id, actor: me(req).name });
          return reply.code(202).send({ run: run.id, cancelRequested: true });
        }
        throw new PatchbayError({
          code: 'RUN_NOT_ACTIVE_HERE',
          message: `run ${run.id} is not running in this server process`,
          category: 'not-ready',
          details: { run: run.id },
        });
      }
      return reply.code(202).send({ run: run.id, cancelRequested: true });
    },
  );
  app.post(
    '/api/v1/runs/:id/resubmit',
    {
      schema: {
        ...tag('runs', 'run the flow again with the same trigger outputs (Maker)'),
        params: obj({ id: str }, ['id']),
        response: out(anyObj),
      },
    },
    async (req) => {
      const { run } = await runEnv(req, 'Maker', 'resubmitting runs');
      return runShowJson((await platform.runs.resubmit({ id: run.id, actor: me(req).name })).run);
    },
  );

  // ---------- audit ----------
  app.get(
    '/api/v1/audit',
    {
      schema: {
        ...tag(
          'audit',
          "the audit log, newest first (an environment's Admin for ?environment=, else a platform admin)",
        ),
        querystring: obj({
          environment: str,
          action: { type: 'string', description: "exact, or a prefix with '.*' (e.g. connection.*)" },
          actor: str,
          target: str,
          since: str,
          until: str,
          limit: { type: 'integer', minimum: 1, maximum: 10000 },
        }),
        response: out(anyArr),
      },
    },
    async (req) => {
      const q = req.query as {
        environment?: string;
        action?: string;
        actor?: string;
        target?: string;
        since?: string;
        until?: string;
        limit?: number;
      };
      let environmentId: string | undefined;
      if (q.environment) {
        const e = await platform.environments.get(q.environment);
        await auth.requireRole(me(req), e, 'Admin', 'reading the audit log');
        environmentId = e.id;
      } else await auth.requirePlatformAdmin(me(req), 'reading the whole audit log');
      const actorId = q.actor ? (await platform.principals.get(q.actor)).id : undefined;
      const envNames = new Map((await platform.environments.list()).map((e) => [e.id, e.name]));
      const list = await platform.store.repos.audit.list({
        ...(environmentId ? { environmentId } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(actorId ? { actorId } : {}),
        ...(q.target ? { targetId: q.target } : {}),
        ...(q.since ? { since: q.since } : {}),
        ...(q.until ? { until: q.until } : {}),
        ...(q.limit ? { limit: q.limit } : {}),
      });
      return list.map((a) => auditJson(a, envNames));
    },
  );
}
