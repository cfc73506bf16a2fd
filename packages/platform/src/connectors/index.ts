/** Connector actions at run time (issue 7): resolution, secrets per run, OAuth tokens, sign-in and tests. */
export { ConnectorRuntime, connectorRuntime, connectorClientOf } from './runtime.js';
export { createRunInvoker, cacheKeyOf, type RunInvokerOptions, type RunConnectorInvoker } from './invoker.js';
export { RunSecrets, decryptConnectionSecrets, redactSecrets, type DecryptPurpose } from './secrets.js';
export {
  TokenManager,
  OAUTH_SECRET,
  parseOAuthState,
  mergeTokens,
  type OAuthState,
  type AccessTokenOptions,
} from './tokens.js';
export {
  createOAuthConnection,
  reconnectOAuthConnection,
  testConnection,
  type CreateOAuthConnectionOptions,
  type OAuthSignInOptions,
  type ConnectionTestResult,
} from './connect.js';
export { resolveTriggerConnection, connectionKeyOfHost, type ResolvedTrigger } from './trigger.js';
