/**
 * A real OAuth 2.0 / OpenID Connect server for tests (`oidc-provider` 8, in memory) on
 * 127.0.0.1, with:
 * - client `patchbay` (confidential, native loopback redirect: any port), authorization code +
 *   refresh token grants, refresh tokens always issued and rotated;
 * - client `svc` (service principal), client credentials grant;
 * - client `resource-server`, which introspects tokens;
 * - an automatic sign-in: `/interaction/:uid` signs in the account `alice` and grants the
 *   requested scopes, so a test "browser" only follows redirects ({@link TestOidcServer.browse});
 * - a count of successful grants per grant type (`grants`).
 * Plus {@link startResourceServer}: an API on 127.0.0.1 that accepts only tokens the provider
 * says are active (RFC 7662 introspection).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestOidcServer {
  issuer: string;
  authorizationUrl: string;
  tokenUrl: string;
  /** Successful grants by grant type. */
  grants: Record<string, number>;
  /** Grant attempts by grant type (successful or not). */
  attempts: Record<string, number>;
  clients: {
    app: { id: string; secret: string };
    service: { id: string; secret: string };
  };
  /** Follows redirects from `url` with a cookie jar until a Location points outside the provider; returns it. */
  browse(url: string): Promise<string>;
  /** Revokes a token (as the `patchbay` client). */
  revoke(token: string, hint?: 'refresh_token' | 'access_token'): Promise<void>;
  /** RFC 7662 introspection as the resource server. */
  introspect(token: string): Promise<{ active: boolean; client_id?: string; sub?: string; scope?: string }>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** Starts the provider. `accessTokenTtl` in seconds (default 3600). */
export async function startOidcServer(o: { accessTokenTtl?: number } = {}): Promise<TestOidcServer> {
  const server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const clients = {
    app: { id: 'patchbay', secret: 'app-secret-for-tests-0123456789' },
    service: { id: 'svc', secret: 'svc-secret-for-tests-0123456789' },
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clients.app.id,
        client_secret: clients.app.secret,
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/oauth/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: clients.service.id,
        client_secret: clients.service.secret,
        redirect_uris: [],
        response_types: [],
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: 'resource-server',
        client_secret: 'rs-secret',
        redirect_uris: [],
        response_types: [],
        grant_types: [],
      },
    ],
    scopes: ['openid', 'offline_access', 'api'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true, methods: ['S256'] },
    cookies: { keys: ['patchbay-test-cookie-key'] },
    ttl: {
      AccessToken: o.accessTokenTtl ?? 3600,
      ClientCredentials: o.accessTokenTtl ?? 3600,
      RefreshToken: 14 * 86400,
      Interaction: 600,
      Session: 3600,
      Grant: 86400,
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  } as never);
  const grants: Record<string, number> = {};
  const attempts: Record<string, number> = {};
  provider.on('grant.success', (ctx: { oidc: { params: { grant_type?: string } } }) => {
    const t = String(ctx.oidc.params.grant_type);
    grants[t] = (grants[t] ?? 0) + 1;
  });
  provider.on('grant.error', (ctx: { oidc: { params?: { grant_type?: string } } }) => {
    const t = String(ctx.oidc.params?.grant_type);
    attempts[t] = (attempts[t] ?? 0) + 1;
  });
  provider.on('grant.success', (ctx: { oidc: { params: { grant_type?: string } } }) => {
    const t = String(ctx.oidc.params.grant_type);
    attempts[t] = (attempts[t] ?? 0) + 1;
  });
  const callback = provider.callback();
  const interaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const details = await provider.interactionDetails(req, res);
    const params = details.params as { client_id: string; scope?: string };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: 'alice', clientId: params.client_id });
    grant!.addOIDCScope(params.scope ?? 'openid');
    const grantId = await grant!.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: 'alice' }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  };
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((e: unknown) => {
        res.writeHead(500).end(String(e));
      });
      return;
    }
    callback(req, res);
  });
  const form = (body: Record<string, string>): { method: string; headers: Record<string, string>; body: string } => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body).toString(),
  });
  return {
    issuer,
    authorizationUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    grants,
    attempts,
    clients,
    browse: async (start) => {
      const jar = new Map<string, string>();
      let url = start;
      for (let i = 0; i < 10; i++) {
        const res = await fetch(url, {
          redirect: 'manual',
          headers: jar.size ? { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
        });
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(';');
          const eq = pair!.indexOf('=');
          jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
        }
        const location = res.headers.get('location');
        if (!location) throw new Error(`sign-in stopped at ${url} with status ${res.status}: ${await res.text()}`);
        const next = new URL(location, url).href;
        if (!next.startsWith(issuer)) return next;
        url = next;
      }
      throw new Error('too many redirects during sign-in');
    },
    revoke: async (token, hint = 'refresh_token') => {
      const r = await fetch(
        `${issuer}/token/revocation`,
        form({ token, token_type_hint: hint, client_id: clients.app.id, client_secret: clients.app.secret }),
      );
      if (!r.ok) throw new Error(`revocation failed: ${r.status}`);
    },
    introspect: async (token) => {
      const r = await fetch(`${issuer}/token/introspection`, {
        ...form({ token }),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('resource-server:rs-secret').toString('base64')}`,
        },
      });
      return (await r.json()) as { active: boolean; client_id?: string; sub?: string; scope?: string };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A request the resource server saw. */
export interface ResourceHit {
  path: string;
  token: string;
  active: boolean;
  clientId?: string;
  sub?: string;
}

/** An API that answers `GET /api/me` with who the token belongs to, 401 for tokens that are not active. */
export async function startResourceServer(
  oidc: TestOidcServer,
): Promise<{ url: string; host: string; hits: ResourceHit[]; close(): Promise<void> }> {
  const hits: ResourceHit[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      const info = token ? await oidc.introspect(token) : { active: false };
      hits.push({
        path: req.url ?? '',
        token,
        active: info.active,
        ...(info.client_id ? { clientId: info.client_id } : {}),
        ...(info.sub ? { sub: info.sub } : {}),
      });
      if (!info.active) {
        res
          .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer error="invalid_token"' })
          .end('{"error":"invalid_token"}');
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ subject: info.sub ?? null, client: info.client_id ?? null }));
    })();
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
