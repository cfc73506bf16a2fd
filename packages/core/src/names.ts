/**
 * Name rules shared by the model: case-insensitive unique names that keep their original casing,
 * and connector id normalisation.
 */

/** The comparison key of a case-insensitive name (logical names, environment and principal names). */
export function nameKey(name: string): string {
  return name.toLowerCase();
}

/** True when two names are equal ignoring case. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Normalises a connector id as written in packages and flows to Patchbay's connector id:
 * `/providers/Microsoft.PowerApps/apis/shared_office365` → `shared_office365`. Ids without a
 * path are returned as they are. Case is kept.
 */
export function connectorIdFromApiId(apiId: string): string {
  const i = apiId.lastIndexOf('/apis/');
  return i >= 0 ? apiId.slice(i + '/apis/'.length) : apiId;
}

/** The Power Platform api id of a connector id: `shared_office365` → `/providers/Microsoft.PowerApps/apis/shared_office365`. */
export function apiIdFromConnectorId(connectorId: string): string {
  return connectorId.startsWith('/providers/') ? connectorId : `/providers/Microsoft.PowerApps/apis/${connectorId}`;
}
