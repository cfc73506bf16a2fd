import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy, type Connection, type ConnectionReference, type Flow, type Store } from '@patchbay/core';
import { testStore, testStoreKind } from '../../../test-support/stores.js';

const now = '2026-01-01T00:00:00.000Z';
let store: Store;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ store, cleanup } = await testStore());
});
afterAll(async () => cleanup());

describe(`repositories on ${testStoreKind()}`, () => {
  it('stores environments with case-insensitive unique names, keeping the casing', async () => {
    await store.repos.environments.insert({
      id: 'e1',
      name: 'Dev',
      displayName: 'Dev',
      policy: defaultPolicy(),
      createdOn: now,
    });
    expect((await store.repos.environments.getByName('dEV'))?.name).toBe('Dev');
    await expect(
      store.transaction((tx) =>
        tx.environments.insert({ id: 'e2', name: 'DEV', displayName: 'x', policy: defaultPolicy(), createdOn: now }),
      ),
    ).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(await store.repos.environments.list()).toHaveLength(1);
  });

  it('round-trips principals, connections with shares and references with bindings', async () => {
    await store.repos.principals.insert({
      id: 'p1',
      name: 'Alice',
      kind: 'user',
      displayName: 'Alice',
      status: 'active',
      createdOn: now,
    });
    await store.repos.principals.insert({
      id: 'p2',
      name: 'build-sp',
      kind: 'servicePrincipal',
      displayName: 'Build',
      status: 'active',
      createdOn: now,
    });
    const conn: Connection = {
      id: 'c1',
      environmentId: 'e1',
      connectorId: 'shared_sql',
      displayName: 'SQL',
      ownerId: 'p2',
      status: 'Connected',
      parameters: { server: 'db.example', port: 5432, encrypt: true },
      secretParameterNames: ['password'],
      shares: [{ principalId: 'p1', role: 'CanUse' }],
      createdOn: now,
      modifiedOn: now,
    };
    await store.repos.connections.insert(conn);
    expect(await store.repos.connections.get('c1')).toEqual(conn);
    expect(await store.repos.connections.listByOwner('p2')).toHaveLength(1);
    const ref: ConnectionReference = {
      id: 'r1',
      environmentId: 'e1',
      logicalName: 'pfx_SharedSql_1',
      displayName: 'Area – SQL – Service Principal',
      connectorId: 'shared_sql',
      ownerId: 'p1',
      connectionId: 'c1',
      promptingBehavior: 0,
      createdOn: now,
      modifiedOn: now,
    };
    await store.repos.references.insert(ref);
    expect(await store.repos.references.getByLogicalName('e1', 'PFX_SHAREDSQL_1')).toEqual(ref);
    expect((await store.repos.references.listByConnection('c1')).map((r) => r.id)).toEqual(['r1']);
    await expect(
      store.transaction((tx) => tx.references.insert({ ...ref, id: 'r2', logicalName: 'PFX_sharedsql_1' })),
    ).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
  });

  it('keeps a flow definition exactly as given', async () => {
    const definition = {
      properties: { definition: { actions: { A: { type: 'Compose', inputs: '@{1}' } } } },
      schemaVersion: '1.0.0.0',
    };
    const flow: Flow = {
      id: '1e7c5c7b-0884-ee11-8179-000d3a5a8520',
      environmentId: 'e1',
      name: 'Is it Patch Tuesday',
      definition,
      connections: [
        { key: 'shared_sql', logicalName: 'pfx_SharedSql_1', runtimeSource: 'embedded', connectorId: 'shared_sql' },
      ],
      childFlowIds: [],
      ownerId: 'p2',
      coOwnerIds: ['p1'],
      turnedOn: true,
      suspended: false,
      state: 'On',
      reasons: [],
      modifiedOn: now,
      stateChangedOn: now,
      createdOn: now,
    };
    await store.repos.flows.insert(flow);
    expect(await store.repos.flows.get('e1', flow.id.toUpperCase())).toEqual(flow);
  });

  it('rolls back every write of a failed transaction', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.environments.insert({
          id: 'e9',
          name: 'Test',
          displayName: 'Test',
          policy: defaultPolicy(),
          createdOn: now,
        });
        await tx.principals.insert({
          id: 'p9',
          name: 'bob',
          kind: 'user',
          displayName: 'Bob',
          status: 'active',
          createdOn: now,
        });
        throw new Error('injected failure');
      }),
    ).rejects.toThrow('injected failure');
    expect(await store.repos.environments.get('e9')).toBeUndefined();
    expect(await store.repos.principals.get('p9')).toBeUndefined();
  });

  it('joins nested transactions to the outer one', async () => {
    await expect(
      store.transaction(async () => {
        await store.transaction((tx) =>
          tx.principals.insert({
            id: 'p8',
            name: 'carol',
            kind: 'user',
            displayName: 'Carol',
            status: 'active',
            createdOn: now,
          }),
        );
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await store.repos.principals.get('p8')).toBeUndefined();
  });

  it('stores variables, solutions, secrets and data keys', async () => {
    await store.repos.environmentVariables.upsertDefinition({
      environmentId: 'e1',
      schemaName: 'pfx_Url',
      displayName: 'Url',
      type: 'String',
      defaultValue: 'https://x',
      isRequired: false,
      createdOn: now,
      modifiedOn: now,
    });
    await store.repos.environmentVariables.upsertValue({
      environmentId: 'e1',
      schemaName: 'pfx_Url',
      value: 'https://y',
      modifiedOn: now,
    });
    expect((await store.repos.environmentVariables.getValue('e1', 'PFX_URL'))?.value).toBe('https://y');
    await store.repos.solutions.upsert({
      environmentId: 'e1',
      uniqueName: 'PatchTuesday',
      displayName: 'Patch Tuesday',
      version: '1.0.0.1',
      managed: false,
      publisher: { uniqueName: 'bl', prefix: 'bl' },
      components: [{ type: 'flow', id: 'f' }],
      installedOn: now,
      modifiedOn: now,
    });
    expect((await store.repos.solutions.get('e1', 'patchtuesday'))?.components).toEqual([{ type: 'flow', id: 'f' }]);
    await store.repos.dataKeys.insert({
      id: 'k1',
      environmentId: 'e1',
      wrappedKey: 'w',
      masterKeyId: 'm',
      status: 'active',
      createdOn: now,
    });
    await store.repos.secrets.put({
      ownerId: 'c1',
      environmentId: 'e1',
      name: 'password',
      keyId: 'k1',
      ciphertext: 'x',
      modifiedOn: now,
    });
    await store.repos.secrets.put({
      ownerId: 'c1',
      environmentId: 'e1',
      name: 'password',
      keyId: 'k1',
      ciphertext: 'y',
      modifiedOn: now,
    });
    expect((await store.repos.secrets.listByOwner('c1')).map((s) => s.ciphertext)).toEqual(['y']);
  });
});
