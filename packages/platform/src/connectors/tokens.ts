/**
 * OAuth 2.0 tokens of connections (issue 7 item 3, design §3B).
 *
 * State: one vault secret `$oauth` per connection, JSON `{clientId?, clientSecret?, accessToken,
 * tokenType, refreshToken?, expiresAt?, scope?}` (`expiresAt`: epoch ms on the platform clock).
 *
 * Rules:
 * - a token is renewed ahead of expiry: when less than the skew (default 300 s,
 *   PATCHBAY_OAUTH_REFRESH_SKEW_SECONDS) is left, or after the API answered 401;
 * - one renewal at a time per connection in this process: concurrent actions and runs wait for the
 *   same renewal; before renewing, the stored state is read again, so a token another run (or
 *   another process) already renewed is used instead of renewing twice;
 * - authorization-code connections renew with their refresh token; client-credentials (service
 *   principal) connections ask for a new token;
 * - when the server rejects the renewal (revoked or expired refresh token, changed client secret)
 *   and no newer token was stored meanwhile, the connection moves to NeedsReconnect (its flows turn
 *   Off with reason `connection_error`) and the action fails with CONNECTION_NEEDS_RECONNECT.
 * Every renewal is audited (`connection.token.refresh`, no token values); every decryption too.
 */
import { notReady, type Connection } from '@patchbay/core';
import {
  clientCredentialsTokens,
  isGrantRejected,
  refreshTokens,
  type OAuthSettings,
  type OutboundHttpClient,
  type TokenSet,
} from '@patchbay/connectors';
import type { PlatformContext } from '../context.js';
import type { ConnectionService } from '../services/connections.js';
import { decryptConnectionSecrets, type DecryptPurpose } from './secrets.js';

/** Name of the vault secret holding a connection's OAuth state. */
export const OAUTH_SECRET = '$oauth';

/** A connection's OAuth state (stored encrypted as {@link OAUTH_SECRET}). */
export interface OAuthState {
  clientId?: string;
  clientSecret?: string;
  accessToken?: string;
  tokenType?: string;
  refreshToken?: string;
  expiresAt?: number;
  scope?: string;
}

/** Parses a stored state; an absent or unreadable one is empty. */
export function parseOAuthState(raw: string | undefined): OAuthState {
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === 'object' && v !== null ? (v as OAuthState) : {};
  } catch {
    return {};
  }
}

/** The state after a grant: the new tokens over the previous state. */
export function mergeTokens(state: OAuthState, t: TokenSet): OAuthState {
  const next: OAuthState = { ...state, accessToken: t.accessToken, tokenType: t.tokenType };
  if (t.refreshToken) next.refreshToken = t.refreshToken;
  if (t.expiresAt !== undefined) next.expiresAt = t.expiresAt;
  else delete next.expiresAt;
  if (t.scope) next.scope = t.scope;
  return next;
}

/** Options of {@link TokenManager.accessToken}. */
export interface AccessTokenOptions {
  connection: Connection;
  settings: OAuthSettings;
  /** The run's decrypted secrets of the connection (with `$oauth`). */
  secrets: Record<string, string>;
  http: OutboundHttpClient;
  /** Renew even if the token looks valid (the API answered 401). */
  forceRefresh?: boolean;
  why: DecryptPurpose;
  /** Called with the new serialized state after a renewal, to update the run's cache. */
  onRenewed?: (raw: string) => Promise<void> | void;
}

/** Keeps connections' access tokens fresh; one instance per platform. */
export class TokenManager {
  private readonly inflight = new Map<string, Promise<OAuthState>>();
  /** Renewals this process carried out (for diagnostics and tests). */
  renewals = 0;

  constructor(
    private readonly ctx: PlatformContext,
    private readonly connections: ConnectionService,
    readonly skewMs = 300_000,
  ) {}

  /** True when a state's access token can be used now. */
  usable(state: OAuthState): boolean {
    return (
      Boolean(state.accessToken) &&
      (state.expiresAt === undefined || state.expiresAt - this.skewMs > this.ctx.clock.now())
    );
  }

  /**
   * The access token for a call now, renewed first when it is about to expire.
   * @throws CONNECTION_NEEDS_RECONNECT (not-ready) when the server refuses a renewal;
   *   OAUTH_TOKEN_REQUEST_FAILED / HTTP_* when the server cannot be reached.
   */
  async accessToken(o: AccessTokenOptions): Promise<string> {
    const state = parseOAuthState(o.secrets['$oauth']);
    if (!o.forceRefresh && this.usable(state)) return state.accessToken!;
    const next = await this.renew(o, state.accessToken);
    await o.onRenewed?.(JSON.stringify(next));
    return next.accessToken!;
  }

  private renew(o: AccessTokenOptions, stale: string | undefined): Promise<OAuthState> {
    const running = this.inflight.get(o.connection.id);
    if (running) return running;
    const p = this.doRenew(o, stale).finally(() => this.inflight.delete(o.connection.id));
    this.inflight.set(o.connection.id, p);
    return p;
  }

  private async stored(o: AccessTokenOptions): Promise<{ state: OAuthState; secrets: Record<string, string> }> {
    const secrets = await decryptConnectionSecrets(this.ctx, o.connection, { ...o.why, purpose: 'token-refresh' });
    return { state: parseOAuthState(secrets['$oauth']), secrets };
  }

  private async doRenew(o: AccessTokenOptions, stale: string | undefined): Promise<OAuthState> {
    const { state, secrets } = await this.stored(o);
    if (state.accessToken && state.accessToken !== stale && this.usable(state)) return state;
    const conn = o.connection;
    const clientId = state.clientId ?? o.settings.clientId;
    const clientSecret = secrets['token:clientSecret'] ?? state.clientSecret;
    if (!clientId) throw this.reconnectError(conn, 'the connection has no OAuth client id');
    const common = {
      settings: o.settings,
      clientId,
      ...(clientSecret ? { clientSecret } : {}),
      http: o.http,
      now: () => this.ctx.clock.now(),
    };
    let tokens: TokenSet;
    try {
      if (o.settings.grantType === 'client_credentials') tokens = await clientCredentialsTokens(common);
      else {
        if (!state.refreshToken) {
          await this.markNeedsReconnect(conn, 'the OAuth token expired and there is no refresh token; sign in again');
          throw this.reconnectError(conn, 'there is no refresh token');
        }
        tokens = await refreshTokens({ ...common, refreshToken: state.refreshToken });
      }
    } catch (e) {
      if (!isGrantRejected(e)) throw e;
      // Another process may have renewed (and rotated the refresh token) in the meantime.
      const again = (await this.stored(o)).state;
      if (again.accessToken && again.accessToken !== state.accessToken && this.usable(again)) return again;
      const error = String((e as { details?: { error?: unknown } }).details?.error ?? 'rejected');
      await this.markNeedsReconnect(
        conn,
        `the authorization server rejected the token renewal (${error}); sign in again`,
      );
      throw this.reconnectError(conn, `the authorization server rejected the token renewal (${error})`);
    }
    const next = mergeTokens(state, tokens);
    this.renewals++;
    await this.ctx.store.transaction(async (tx) => {
      await this.ctx.vault.put(tx, {
        environmentId: conn.environmentId,
        ownerId: conn.id,
        name: OAUTH_SECRET,
        value: JSON.stringify(next),
      });
      await this.ctx.audit(tx, {
        environmentId: conn.environmentId,
        action: 'connection.token.refresh',
        target: { type: 'connection', id: conn.id, name: conn.displayName },
        details: {
          grant: o.settings.grantType === 'client_credentials' ? 'client_credentials' : 'refresh_token',
          ...(next.expiresAt !== undefined ? { expiresAt: new Date(next.expiresAt).toISOString() } : {}),
          ...(o.why.runId ? { runId: o.why.runId } : {}),
        },
      });
    });
    return next;
  }

  private async markNeedsReconnect(conn: Connection, message: string): Promise<void> {
    await this.connections.setStatus({ id: conn.id, status: 'NeedsReconnect', message });
  }

  private reconnectError(conn: Connection, why: string) {
    return notReady(
      'CONNECTION_NEEDS_RECONNECT',
      `connection ${conn.id} (${conn.displayName}) cannot renew its OAuth token: ${why}; it is now NeedsReconnect and its flows are off until it is signed in again (patchbay connection reconnect ${conn.id})`,
      { connection: conn.id },
    );
  }
}
