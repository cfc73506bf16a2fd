/**
 * The built-in connectors, present in every environment without installation (design §3A):
 * HTTP, the SQL connector over PostgreSQL/MySQL, and the platform's own operations. They are
 * not stored; lists and lookups merge them in.
 */
import type { Connector } from '@patchbay/core';

/** Ids of the built-in connectors. */
export const BUILTIN_CONNECTOR_IDS = ['shared_patchbayhttp', 'shared_sql', 'shared_patchbay'] as const;

const builtinInfo: Record<string, string> = {
  shared_patchbayhttp: 'HTTP (built-in)',
  shared_sql: 'SQL (PostgreSQL / MySQL, built-in)',
  shared_patchbay: 'Patchbay platform operations (built-in)',
};

/** The built-in connectors as records of an environment. */
export function builtinConnectors(environmentId: string): Connector[] {
  return BUILTIN_CONNECTOR_IDS.map((id) => ({
    environmentId,
    id,
    displayName: builtinInfo[id] ?? id,
    kind: 'builtin' as const,
    createdOn: '1970-01-01T00:00:00.000Z',
    modifiedOn: '1970-01-01T00:00:00.000Z',
  }));
}

/** True when the id names a built-in connector (case-insensitive). */
export function isBuiltinConnector(id: string): boolean {
  return BUILTIN_CONNECTOR_IDS.some((b) => b.toLowerCase() === id.toLowerCase());
}
