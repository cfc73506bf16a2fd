/**
 * @patchbay/platform — application services (import/plan/apply, bind, share, run, analyse)
 * composed from the other packages; the queue and scheduler interfaces.
 */
export { Platform, createPlatform, openPlatform, type CreatePlatformOptions, type OpenPlatformOptions } from './platform.js';
export { PlatformContext, LOCAL_ADMIN, systemClock, uuidIds } from './context.js';
export { loadKeyring, masterKeyId, writeKeyFile, type Keyring, type MasterKey, type LoadKeyringOptions } from './secrets/keyring.js';
export { SecretVault, type RotationReport, type SecretVaultOptions } from './secrets/vault.js';
export { EnvironmentService, type CreateEnvironmentOptions } from './services/environments.js';
export { PrincipalService, type CreatePrincipalOptions, type PrincipalChange } from './services/principals.js';
export { BUILTIN_CONNECTOR_IDS, builtinConnectors, isBuiltinConnector } from './services/builtins.js';
export * from './runner/index.js';
