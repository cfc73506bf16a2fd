/**
 * The built-in connectors, present in every environment without installation (design §3A):
 * HTTP with credentials, the SQL connector over PostgreSQL/MySQL, and the platform's own
 * operations. They are not stored; lists and lookups merge them in. Their connection parameters
 * use the custom connector format (apiProperties `connectionParameters`) so that connection
 * validation is the same for every connector.
 */
import type { ConnectionParameter, Connector } from '@patchbay/core';

/** Ids of the built-in connectors. */
export const BUILTIN_CONNECTOR_IDS = ['shared_patchbayhttp', 'shared_sql', 'shared_patchbay'] as const;

const str = (
  displayName: string,
  required: boolean,
  extra: Partial<ConnectionParameter['uiDefinition']> = {},
): ConnectionParameter => ({
  type: 'string',
  uiDefinition: { displayName, constraints: { required: required ? 'true' : 'false' }, ...extra },
});
const secure = (displayName: string, required: boolean): ConnectionParameter => ({
  type: 'securestring',
  uiDefinition: { displayName, constraints: { required: required ? 'true' : 'false' } },
});

const builtinDefs: Record<string, { displayName: string; parameters: Record<string, ConnectionParameter> }> = {
  shared_patchbayhttp: {
    displayName: 'HTTP with credentials (built-in)',
    parameters: {
      baseUrl: str('Base URL', true),
      authType: {
        type: 'string',
        uiDefinition: {
          displayName: 'Authentication',
          constraints: {
            required: 'false',
            allowedValues: [{ value: 'none' }, { value: 'basic' }, { value: 'apiKey' }, { value: 'bearer' }],
          },
        },
      },
      username: str('User name', false),
      password: secure('Password', false),
      apiKeyHeader: str('API key header name', false),
      apiKey: secure('API key or bearer token', false),
    },
  },
  shared_sql: {
    displayName: 'SQL (PostgreSQL / MySQL, built-in)',
    parameters: {
      dialect: {
        type: 'string',
        uiDefinition: {
          displayName: 'Database kind',
          constraints: { required: 'true', allowedValues: [{ value: 'postgres' }, { value: 'mysql' }] },
        },
      },
      server: str('Server', true),
      port: { type: 'int', uiDefinition: { displayName: 'Port', constraints: { required: 'false' } } },
      database: str('Database', true),
      username: str('User name', true),
      password: secure('Password', false),
    },
  },
  shared_patchbay: { displayName: 'Patchbay platform operations (built-in)', parameters: {} },
};

/** The built-in connectors as records of an environment. */
export function builtinConnectors(environmentId: string): Connector[] {
  return BUILTIN_CONNECTOR_IDS.map((id) => ({
    environmentId,
    id,
    displayName: builtinDefs[id]?.displayName ?? id,
    kind: 'builtin' as const,
    definition: {
      openApi: {},
      connectionParameters: builtinDefs[id]?.parameters ?? {},
      policyTemplateInstances: [],
    },
    createdOn: '1970-01-01T00:00:00.000Z',
    modifiedOn: '1970-01-01T00:00:00.000Z',
  }));
}

/** True when the id names a built-in connector (case-insensitive). */
export function isBuiltinConnector(id: string): boolean {
  return BUILTIN_CONNECTOR_IDS.some((b) => b.toLowerCase() === id.toLowerCase());
}
