/**
 * A platform over a fresh test store (current tier) with a generated master key, plus helpers to
 * seed flows directly (for tests that need flows without importing a package).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Flow, FlowConnectionEntry } from '@patchbay/core';
import { createPlatform, loadKeyring, reevaluateEnvironment, type Platform } from '@patchbay/platform';
import { testStore } from './stores.js';

/** A platform on a fresh store of the current tier. */
export async function testPlatform(): Promise<{
  platform: Platform;
  dataDir: string;
  databaseUrl?: string;
  cleanup(): Promise<void>;
}> {
  const { store, location, cleanup } = await testStore();
  const keyring = loadKeyring({
    env: { PATCHBAY_MASTER_KEY: randomBytes(32).toString('base64') },
    dataDir: join(location.dataDir, 'keys'),
  });
  const platform = await createPlatform({ store, keyring });
  return {
    platform,
    dataDir: location.dataDir,
    ...(location.databaseUrl ? { databaseUrl: location.databaseUrl } : {}),
    cleanup,
  };
}

/** Options of {@link seedFlow}. */
export interface SeedFlowOptions {
  environment: string;
  id: string;
  name: string;
  owner: string;
  connections: FlowConnectionEntry[];
  turnedOn?: boolean;
  definition?: unknown;
  childFlowIds?: string[];
}

/** Inserts a flow straight into the store and evaluates its state. */
export async function seedFlow(platform: Platform, o: SeedFlowOptions): Promise<Flow> {
  const env = await platform.environments.get(o.environment);
  const owner = await platform.principals.get(o.owner);
  const now = new Date().toISOString();
  const flow: Flow = {
    id: o.id.toLowerCase(),
    environmentId: env.id,
    name: o.name,
    definition: o.definition ?? {
      properties: {
        connectionReferences: Object.fromEntries(
          o.connections.map((c) => [
            c.key,
            {
              runtimeSource: c.runtimeSource,
              connection: { connectionReferenceLogicalName: c.logicalName },
              api: { name: c.connectorId },
            },
          ]),
        ),
        definition: {
          triggers: { manual: { type: 'Request', kind: 'Button', inputs: {} } },
          actions: Object.fromEntries(
            o.connections.map((c, i) => [
              `Action_${i}`,
              {
                type: 'OpenApiConnection',
                inputs: {
                  host: {
                    connectionName: c.key,
                    operationId: 'Op',
                    apiId: `/providers/Microsoft.PowerApps/apis/${c.connectorId}`,
                  },
                },
              },
            ]),
          ),
        },
      },
      schemaVersion: '1.0.0.0',
    },
    connections: o.connections,
    childFlowIds: o.childFlowIds ?? [],
    ownerId: owner.id,
    coOwnerIds: [],
    turnedOn: o.turnedOn ?? true,
    suspended: false,
    state: 'Off',
    reasons: [],
    modifiedOn: now,
    stateChangedOn: now,
    createdOn: now,
  };
  await platform.store.transaction(async (tx) => {
    await tx.flows.insert(flow);
    await reevaluateEnvironment(platform.ctx, tx, env.id);
  });
  return (await platform.store.repos.flows.get(env.id, flow.id))!;
}
