/**
 * Authentication and authorization (design §6, issue 8 items 3–4).
 *
 * - **API tokens** `pbt_<id>_<secret>`: 16 hex characters of public id, then 256 random bits
 *   (base64url). Only the SHA-256 of the secret part is stored (a slow KDF adds nothing for a
 *   256-bit random secret). Revocable, with an optional expiry. Shown once, when created.
 * - **Client credentials** of service principals: client id `pbc_<hex>` and a 256-bit secret
 *   (stored hashed), exchanged at `POST /api/v1/oauth/token` for a short-lived access token (an
 *   API token of kind `access`, default lifetime 1 hour).
 * - **Roles** per environment: Admin ⊇ Maker ⊇ Viewer. The local `admin` principal is Admin
 *   everywhere. A *platform admin* (may manage principals, tokens, client credentials and create
 *   environments) is the local admin, or a principal that is Admin of every environment (and of
 *   at least one).
 *
 * Verified tokens are cached in memory for {@link TOKEN_CACHE_MS}; every audited change (a
 * revocation, a principal disabled, a role changed) clears the cache in this process.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  PatchbayError,
  forbidden,
  invalid,
  notFound,
  type ApiTokenRecord,
  type ClientCredentialRecord,
  type Principal,
  type Role,
} from '@patchbay/core';
import { LOCAL_ADMIN, type PlatformContext } from '../context.js';

/** How long a verified token is trusted without reading the store again (ms). */
export const TOKEN_CACHE_MS = 10_000;
/** Default lifetime of an access token from the client-credentials exchange (seconds). */
export const ACCESS_TOKEN_SECONDS = 3600;

const ROLE_RANK: Record<Role, number> = { Viewer: 1, Maker: 2, Admin: 3 };

/** An `unauthenticated` error (HTTP 401, exit 4). */
export function unauthenticated(code: string, message: string, details?: Record<string, unknown>): PatchbayError {
  return new PatchbayError({ code, message, category: 'unauthenticated', details });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A token as created: the secret text (shown once) and its record. */
export interface CreatedToken {
  token: string;
  record: ApiTokenRecord;
}

/** Client credentials as created: the secret (shown once) and the record. */
export interface CreatedClientCredentials {
  clientId: string;
  clientSecret: string;
  record: ClientCredentialRecord;
}

interface CachedToken {
  principal: Principal;
  tokenId: string;
  expiresAt: number;
  checkedAt: number;
}

/** Tokens, client credentials, roles. */
export class AuthService {
  private readonly cache = new Map<string, CachedToken>();

  constructor(private readonly ctx: PlatformContext) {
    ctx.onChange(() => this.cache.clear());
  }

  /**
   * Creates an API token for a principal.
   * @throws PRINCIPAL_NOT_FOUND, TOKEN_EXPIRY_INVALID (invalid).
   */
  async createToken(o: {
    for: string;
    description?: string;
    expiresInDays?: number;
    actor?: string;
  }): Promise<CreatedToken> {
    if (o.expiresInDays !== undefined && !(o.expiresInDays > 0 && o.expiresInDays <= 3650)) {
      throw invalid('TOKEN_EXPIRY_INVALID', `expiry must be between 1 and 3650 days (got ${o.expiresInDays})`, {
        field: 'expiresInDays',
        value: o.expiresInDays,
      });
    }
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(o.actor, tx);
      const p = await this.ctx.principal(o.for, tx);
      const { token, record } = this.newToken(
        p.id,
        'user',
        o.description ?? '',
        o.expiresInDays !== undefined ? o.expiresInDays * 86_400_000 : undefined,
      );
      record.createdBy = actor.id;
      await tx.apiTokens.insert(record);
      await this.ctx.audit(tx, {
        actor,
        action: 'token.create',
        target: { type: 'apiToken', id: record.id, name: p.name },
        after: {
          principal: p.name,
          description: record.description,
          ...(record.expiresOn ? { expiresOn: record.expiresOn } : {}),
        },
      });
      return { token, record };
    });
  }

  /** Tokens (of one principal when `for` is given), newest first, without hashes. */
  async listTokens(o: { for?: string; kind?: ApiTokenRecord['kind'] } = {}): Promise<ApiTokenRecord[]> {
    const principalId = o.for ? (await this.ctx.principal(o.for)).id : undefined;
    return this.ctx.store.repos.apiTokens.list({
      ...(principalId ? { principalId } : {}),
      ...(o.kind ? { kind: o.kind } : {}),
    });
  }

  /** A token record by id. @throws TOKEN_NOT_FOUND */
  async getToken(id: string): Promise<ApiTokenRecord> {
    const t = await this.ctx.store.repos.apiTokens.get(id);
    if (!t) throw notFound('TOKEN_NOT_FOUND', `API token ${id} does not exist`, { token: id });
    return t;
  }

  /** Revokes a token: it gets 401 from now on. @throws TOKEN_NOT_FOUND */
  async revokeToken(o: { id: string; actor?: string }): Promise<ApiTokenRecord> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(o.actor, tx);
      const t = await tx.apiTokens.get(o.id);
      if (!t) throw notFound('TOKEN_NOT_FOUND', `API token ${o.id} does not exist`, { token: o.id });
      const at = this.ctx.nowIso();
      await tx.apiTokens.revoke(t.id, at);
      await this.ctx.audit(tx, {
        actor,
        action: 'token.revoke',
        target: { type: 'apiToken', id: t.id },
        before: { revokedOn: t.revokedOn ?? null },
        after: { revokedOn: t.revokedOn ?? at },
      });
      return { ...t, revokedOn: t.revokedOn ?? at };
    });
  }

  /**
   * Creates client credentials for a service principal.
   * @throws PRINCIPAL_NOT_FOUND, CLIENT_CREDENTIALS_NOT_SERVICE_PRINCIPAL (invalid).
   */
  async createClientCredentials(o: {
    for: string;
    description?: string;
    expiresInDays?: number;
    actor?: string;
  }): Promise<CreatedClientCredentials> {
    return this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(o.actor, tx);
      const p = await this.ctx.principal(o.for, tx);
      if (p.kind !== 'servicePrincipal') {
        throw invalid(
          'CLIENT_CREDENTIALS_NOT_SERVICE_PRINCIPAL',
          `principal ${p.name} is a user; client credentials are for service principals (users get API tokens)`,
          { principal: p.name },
        );
      }
      const clientId = `pbc_${randomBytes(12).toString('hex')}`;
      const clientSecret = randomBytes(32).toString('base64url');
      const now = this.ctx.clock.now();
      const record: ClientCredentialRecord = {
        clientId,
        principalId: p.id,
        description: o.description ?? '',
        secretHash: sha256(clientSecret),
        createdOn: new Date(now).toISOString(),
        ...(o.expiresInDays !== undefined
          ? { expiresOn: new Date(now + o.expiresInDays * 86_400_000).toISOString() }
          : {}),
      };
      await tx.clientCredentials.insert(record);
      await this.ctx.audit(tx, {
        actor,
        action: 'clientCredentials.create',
        target: { type: 'clientCredentials', id: clientId, name: p.name },
        after: { principal: p.name, description: record.description },
      });
      return { clientId, clientSecret, record };
    });
  }

  /** Client credentials (of one principal), without secret hashes. */
  async listClientCredentials(o: { for?: string } = {}): Promise<ClientCredentialRecord[]> {
    const principalId = o.for ? (await this.ctx.principal(o.for)).id : undefined;
    return this.ctx.store.repos.clientCredentials.list(principalId ? { principalId } : {});
  }

  /** Revokes client credentials (access tokens already issued stay valid until they expire). @throws CLIENT_CREDENTIALS_NOT_FOUND */
  async revokeClientCredentials(o: { clientId: string; actor?: string }): Promise<void> {
    await this.ctx.store.transaction(async (tx) => {
      const actor = await this.ctx.actor(o.actor, tx);
      const c = await tx.clientCredentials.get(o.clientId);
      if (!c)
        throw notFound('CLIENT_CREDENTIALS_NOT_FOUND', `client ${o.clientId} does not exist`, { clientId: o.clientId });
      await tx.clientCredentials.revoke(c.clientId, this.ctx.nowIso());
      await this.ctx.audit(tx, {
        actor,
        action: 'clientCredentials.revoke',
        target: { type: 'clientCredentials', id: c.clientId },
      });
    });
  }

  /**
   * The client-credentials grant (RFC 6749 §4.4): a valid client id and secret of an active
   * service principal give a short-lived access token.
   * @throws INVALID_CLIENT (unauthenticated, 401) without saying which part was wrong.
   */
  async exchangeClientCredentials(o: {
    clientId: string;
    clientSecret: string;
    lifetimeSeconds?: number;
  }): Promise<{ accessToken: string; expiresIn: number; record: ApiTokenRecord }> {
    const fail = (): PatchbayError =>
      unauthenticated(
        'INVALID_CLIENT',
        'client authentication failed: unknown client, wrong secret, or revoked or expired credentials',
        { clientId: o.clientId },
      );
    const c = await this.ctx.store.repos.clientCredentials.get(o.clientId);
    if (!c || !sameHash(c.secretHash, sha256(o.clientSecret))) throw fail();
    const now = this.ctx.clock.now();
    if (c.revokedOn || (c.expiresOn && Date.parse(c.expiresOn) <= now)) throw fail();
    const p = await this.ctx.store.repos.principals.get(c.principalId);
    if (!p || p.status !== 'active') throw fail();
    const lifetime = o.lifetimeSeconds ?? ACCESS_TOKEN_SECONDS;
    const { token, record } = this.newToken(p.id, 'access', `client ${c.clientId}`, lifetime * 1000);
    await this.ctx.store.repos.apiTokens.insert(record);
    return { accessToken: token, expiresIn: lifetime, record };
  }

  /**
   * The principal a bearer token stands for.
   * @throws TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_REVOKED, PRINCIPAL_DISABLED (all unauthenticated, 401).
   */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (!token)
      throw unauthenticated('TOKEN_MISSING', 'this endpoint needs a bearer token (Authorization: Bearer pbt_…)');
    const now = this.ctx.clock.now();
    const hit = this.cache.get(token);
    if (hit && now - hit.checkedAt < TOKEN_CACHE_MS) {
      if (now >= hit.expiresAt) {
        this.cache.delete(token);
        throw unauthenticated('TOKEN_EXPIRED', `API token ${hit.tokenId} has expired`, { token: hit.tokenId });
      }
      return hit.principal;
    }
    const m = /^pbt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
    if (!m) throw unauthenticated('TOKEN_INVALID', 'the bearer token is not a Patchbay API token');
    const id = m[1]!;
    const t = await this.ctx.store.repos.apiTokens.get(id);
    if (!t || !sameHash(t.hash, sha256(m[2]!)))
      throw unauthenticated('TOKEN_INVALID', 'the bearer token is not valid', { token: id });
    if (t.revokedOn)
      throw unauthenticated('TOKEN_REVOKED', `API token ${id} was revoked on ${t.revokedOn}`, { token: id });
    const expiresAt = t.expiresOn ? Date.parse(t.expiresOn) : Number.POSITIVE_INFINITY;
    if (now >= expiresAt)
      throw unauthenticated('TOKEN_EXPIRED', `API token ${id} expired on ${t.expiresOn}`, { token: id });
    const p = await this.ctx.store.repos.principals.get(t.principalId);
    if (!p) throw unauthenticated('TOKEN_INVALID', 'the principal of this token no longer exists', { token: id });
    if (p.status !== 'active')
      throw unauthenticated('PRINCIPAL_DISABLED', `principal ${p.name} is disabled`, { token: id, principal: p.name });
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(token, { principal: p, tokenId: id, expiresAt, checkedAt: now });
    return p;
  }

  /** The principal's role in an environment (Admin for the local admin), or undefined. */
  async roleIn(principal: Principal, environmentId: string): Promise<Role | undefined> {
    if (principal.name.toLowerCase() === LOCAL_ADMIN) return 'Admin';
    const roles = await this.ctx.store.repos.roles.listForPrincipal(principal.id);
    return roles.find((r) => r.environmentId === environmentId)?.role;
  }

  /**
   * Requires at least `role` in the environment.
   * @throws ROLE_REQUIRED (permission, 403) naming the environment, the role needed and the role held.
   */
  async requireRole(
    principal: Principal,
    environment: { id: string; name: string },
    role: Role,
    action: string,
  ): Promise<Role> {
    const held = await this.roleIn(principal, environment.id);
    if (!held || ROLE_RANK[held] < ROLE_RANK[role]) {
      throw forbidden(
        'ROLE_REQUIRED',
        `${action} in environment ${environment.name} needs the ${role} role; principal ${principal.name} has ${held ?? 'no role'} there`,
        {
          environment: environment.name,
          required: role,
          role: held ?? null,
          principal: principal.name,
          action,
        },
      );
    }
    return held;
  }

  /** True for the local admin and for a principal that is Admin of every environment (and of at least one). */
  async isPlatformAdmin(principal: Principal): Promise<boolean> {
    if (principal.name.toLowerCase() === LOCAL_ADMIN) return true;
    const [envs, roles] = await Promise.all([
      this.ctx.store.repos.environments.list(),
      this.ctx.store.repos.roles.listForPrincipal(principal.id),
    ]);
    if (envs.length === 0) return false;
    const admin = new Set(roles.filter((r) => r.role === 'Admin').map((r) => r.environmentId));
    return envs.every((e) => admin.has(e.id));
  }

  /** @throws PLATFORM_ADMIN_REQUIRED (permission, 403). */
  async requirePlatformAdmin(principal: Principal, action: string): Promise<void> {
    if (!(await this.isPlatformAdmin(principal))) {
      throw forbidden(
        'PLATFORM_ADMIN_REQUIRED',
        `${action} needs a platform admin (the local admin, or Admin of every environment); principal ${principal.name} is not one`,
        {
          required: 'PlatformAdmin',
          principal: principal.name,
          action,
        },
      );
    }
  }

  private newToken(
    principalId: string,
    kind: ApiTokenRecord['kind'],
    description: string,
    lifetimeMs: number | undefined,
  ): CreatedToken {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.ctx.clock.now();
    const record: ApiTokenRecord = {
      id,
      principalId,
      kind,
      description,
      hash: sha256(secret),
      createdOn: new Date(now).toISOString(),
      ...(lifetimeMs !== undefined ? { expiresOn: new Date(now + lifetimeMs).toISOString() } : {}),
    };
    return { token: `pbt_${id}_${secret}`, record };
  }
}
