/** Public entry of @patchbay/connectors. */
export * from './http/index.js';
export {
  httpPolicyFromEnvironment,
  isConnectorBlocked,
  isHttpActionBlocked,
  connectorBlockedError,
  HTTP_ACTION_CONNECTOR_IDS,
} from './http/env-policy.js';
export {
  loadConnectorApi,
  connectorApiOf,
  type ConnectorApi,
  type ConnectorOperation,
  type OpenApiParameter,
  type JsonSchema,
  type SecurityDefinition,
} from './openapi/document.js';
export {
  buildOperationRequest,
  buildApiConnectionRequest,
  baseUrlOf,
  encodeBody,
  requestUrl,
  type PreparedRequest,
} from './openapi/request.js';
export { parseResponseBody, responseSchema } from './openapi/response.js';
export { applyRequestPolicies, applyResponsePolicies, substitutePolicyValue, type PolicyValues } from './policies.js';
export {
  applyAuth,
  authSchemeOf,
  declaredParameters,
  oauthSettingsOf,
  type AuthScheme,
  type OAuthSettings,
} from './auth/scheme.js';
export {
  startAuthorization,
  finishAuthorization,
  refreshTokens,
  clientCredentialsTokens,
  oauthConfiguration,
  oauthError,
  isGrantRejected,
  fetchVia,
  type TokenSet,
  type OAuthClientOptions,
  type AuthorizationRequest,
} from './auth/oauth.js';
export { startLoopbackCallback, type LoopbackCallback } from './auth/callback.js';
export {
  invokeSqlOperation,
  bindNativeQuery,
  SQL_OPERATION_IDS,
  type SqlConnectionSettings,
  type SqlInvokeOptions,
  type SqlResponse,
} from './sql/connector.js';
export {
  translateFilter,
  translateOrderBy,
  translateSelect,
  decodeODataName,
  type SqlDialect,
  type SqlBuilder,
} from './sql/odata.js';
export {
  callConnector,
  prepareConnectorRequest,
  buildConnectorRequest,
  connectorApi,
  connectionAuthScheme,
  connectionValueMap,
  type ConnectionValues,
  type ConnectorCallOptions,
  type ConnectorResponse,
} from './runtime.js';
