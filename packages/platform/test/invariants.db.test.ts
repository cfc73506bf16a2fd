/**
 * The invariants of design §2, one describe block each, on both stores.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Platform } from '@patchbay/platform';
import { resolveConnection } from '@patchbay/platform';
import { seedFlow, testPlatform } from '../../../test-support/platform.js';

let p: Platform;
let cleanup: () => Promise<void>;
let dataDir: string;

beforeEach(async () => {
  ({ platform: p, cleanup, dataDir } = await testPlatform());
  await p.environments.create({ name: 'dev' });
  await p.environments.create({ name: 'test' });
  await p.principals.create({ name: 'alice' });
  await p.principals.create({ name: 'bob' });
  await p.principals.create({ name: 'deploy-sp', kind: 'servicePrincipal' });
  for (const env of ['dev', 'test']) {
    await p.connectors.add({ environment: env, id: 'shared_office365', displayName: 'Office 365 Outlook' });
    await p.connectors.add({ environment: env, id: '/providers/Microsoft.PowerApps/apis/shared_sharepointonline' });
  }
});
afterEach(async () => cleanup());

const o365 = (key = 'shared_office365', logicalName = 'pfx_Outlook') => ({
  key,
  logicalName,
  runtimeSource: 'embedded' as const,
  connectorId: 'shared_office365',
});

async function conn(env: string, owner: string, connector = 'shared_office365', name = 'c') {
  return p.connections.create({ environment: env, connector, displayName: name, actor: owner });
}

describe('invariant 1: a reference binds only to a connection of the same connector in the same environment', () => {
  it('refuses another connector and another environment, and keeps the binding', async () => {
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Outlook', connector: 'shared_office365' });
    const good = await conn('dev', 'admin');
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: good.id });
    const sp = await conn('dev', 'admin', 'shared_sharepointonline');
    await expect(
      p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: sp.id }),
    ).rejects.toMatchObject({
      code: 'BINDING_CONNECTOR_MISMATCH',
      category: 'conflict',
    });
    const other = await conn('test', 'admin');
    await expect(
      p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: other.id }),
    ).rejects.toMatchObject({
      code: 'BINDING_ENVIRONMENT_MISMATCH',
    });
    expect((await p.references.get('dev', 'PFX_OUTLOOK')).connectionId).toBe(good.id);
  });
});

describe('invariant 2: binding requires the actor to own the connection or hold a share', () => {
  it('refuses a connection not shared with the actor, allows it after sharing', async () => {
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Outlook', connector: 'shared_office365' });
    const bobs = await conn('dev', 'bob');
    await expect(
      p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: bobs.id, actor: 'alice' }),
    ).rejects.toMatchObject({ code: 'BINDING_NOT_PERMITTED', category: 'permission' });
    expect((await p.references.get('dev', 'pfx_Outlook')).connectionId).toBeNull();
    await expect(
      p.connections.share({ id: bobs.id, with: 'deploy-sp', role: 'CanUse', actor: 'alice' }),
    ).rejects.toMatchObject({
      code: 'SHARE_NOT_PERMITTED',
    });
    await p.connections.share({ id: bobs.id, with: 'alice', role: 'CanUse', actor: 'bob' });
    const r = await p.references.bind({
      environment: 'dev',
      logicalName: 'pfx_Outlook',
      connectionId: bobs.id,
      actor: 'alice',
    });
    expect(r.reference.connectionId).toBe(bobs.id);
  });
});

describe('invariant 3: a flow is On only if every reference is bound and usable by its owner', () => {
  it('gives a reason per reference and turns On when every cause is fixed', async () => {
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Outlook', connector: 'shared_office365' });
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Sp', connector: 'shared_sharepointonline' });
    const flow = await seedFlow(p, {
      environment: 'dev',
      id: '11111111-1111-1111-1111-111111111111',
      name: 'Two refs',
      owner: 'alice',
      connections: [
        o365(),
        {
          key: 'shared_sharepointonline',
          logicalName: 'pfx_Sp',
          runtimeSource: 'embedded',
          connectorId: 'shared_sharepointonline',
        },
      ],
    });
    expect(flow.state).toBe('Off');
    expect(flow.reasons.map((r) => [r.code, r.reference])).toEqual([
      ['unbound', 'pfx_Outlook'],
      ['unbound', 'pfx_Sp'],
    ]);
    const bobs = await conn('dev', 'bob');
    await p.connections.share({ id: bobs.id, with: 'admin', role: 'CanUse', actor: 'bob' });
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: bobs.id });
    const alices = await conn('dev', 'alice', 'shared_sharepointonline');
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Sp', connectionId: alices.id, actor: 'alice' });
    let f = await p.flows.get('dev', 'Two refs');
    expect(f.reasons.map((r) => [r.code, r.reference, r.connectionId])).toEqual([
      ['not_shared_with_owner', 'pfx_Outlook', bobs.id],
    ]);
    await p.connections.share({ id: bobs.id, with: 'alice', role: 'CanUse', actor: 'bob' });
    f = await p.flows.get('dev', 'Two refs');
    expect(f.state).toBe('On');
    expect(f.reasons).toEqual([]);
    const broken = await p.connections.setStatus({ id: alices.id, status: 'Error', message: 'token expired' });
    expect(broken.flows).toMatchObject([{ name: 'Two refs', from: 'On', to: 'Off' }]);
    f = await p.flows.get('dev', 'Two refs');
    expect(f.reasons).toMatchObject([{ code: 'connection_error', reference: 'pfx_Sp', connectionId: alices.id }]);
    await p.connections.setStatus({ id: alices.id, status: 'Connected' });
    expect((await p.flows.get('dev', 'Two refs')).state).toBe('On');
  });

  it('keeps a flow turned off by hand Off, and turns it on again only on request', async () => {
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Outlook', connector: 'shared_office365' });
    const c = await conn('dev', 'alice');
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: c.id, actor: 'alice' });
    await seedFlow(p, {
      environment: 'dev',
      id: '22222222-2222-2222-2222-222222222222',
      name: 'F',
      owner: 'alice',
      connections: [o365()],
    });
    const off = await p.flows.turnOff({ environment: 'dev', flow: 'F' });
    expect(off.flow.state).toBe('Off');
    expect(off.flow.reasons[0]?.code).toBe('turned_off');
    await p.connections.setStatus({ id: c.id, status: 'Connected' });
    expect((await p.flows.get('dev', 'F')).state).toBe('Off');
    expect((await p.flows.turnOn({ environment: 'dev', flow: 'F' })).flow.state).toBe('On');
  });
});

describe('invariant 4: re-binding changes what flows call next and modifies no flow', () => {
  it('resolves the new connection at the next action; definitions and modified times are unchanged', async () => {
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Outlook', connector: 'shared_office365' });
    const first = await conn('dev', 'alice', 'shared_office365', 'first');
    const second = await conn('dev', 'alice', 'shared_office365', 'second');
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: first.id, actor: 'alice' });
    const a = await seedFlow(p, {
      environment: 'dev',
      id: '33333333-3333-3333-3333-333333333333',
      name: 'A',
      owner: 'alice',
      connections: [o365()],
    });
    const b = await seedFlow(p, {
      environment: 'dev',
      id: '44444444-4444-4444-4444-444444444444',
      name: 'B',
      owner: 'alice',
      connections: [o365('shared_office365_1')],
    });
    const before = await p.flows.list('dev');
    const resolveA = async () =>
      (await resolveConnection({ repos: p.store.repos, flow: a, connectionKey: 'shared_office365' })).connection.id;
    expect(await resolveA()).toBe(first.id);
    const rebound = await p.references.bind({
      environment: 'dev',
      logicalName: 'pfx_Outlook',
      connectionId: second.id,
      actor: 'alice',
    });
    expect(rebound.previousConnectionId).toBe(first.id);
    expect(rebound.usages.map((u) => u.flowName).sort()).toEqual(['A', 'B']);
    expect(await resolveA()).toBe(second.id);
    expect(
      (await resolveConnection({ repos: p.store.repos, flow: b, connectionKey: 'shared_office365_1' })).connection.id,
    ).toBe(second.id);
    const after = await p.flows.list('dev');
    expect(after.map((f) => [f.id, f.modifiedOn, JSON.stringify(f.definition)])).toEqual(
      before.map((f) => [f.id, f.modifiedOn, JSON.stringify(f.definition)]),
    );
  });
});

describe('invariant 5: secrets never leave the environment', () => {
  it('keeps secret values out of records, errors and the database file', async () => {
    const secret = 'S3cr3t-value-that-must-not-leak-' + Math.random().toString(36).slice(2);
    await p.connectors.install({
      environment: 'dev',
      id: 'pfx_demo',
      displayName: 'Demo',
      definition: {
        openApi: { swagger: '2.0', info: { title: 'Demo', version: '1' }, paths: {} },
        connectionParameters: {
          api_key: {
            type: 'securestring',
            uiDefinition: { displayName: 'API key', constraints: { required: 'true' } },
          },
          region: {
            type: 'string',
            uiDefinition: { constraints: { allowedValues: [{ value: 'eu' }, { value: 'us' }] } },
          },
        },
        policyTemplateInstances: [],
      },
    });
    const c = await p.connections.create({
      environment: 'dev',
      connector: 'pfx_demo',
      displayName: 'Demo',
      parameters: { region: 'eu' },
      secretParameters: { api_key: secret },
    });
    expect(JSON.stringify(c)).not.toContain(secret);
    expect(JSON.stringify(await p.connections.list({ environment: 'dev' }))).not.toContain(secret);
    const err = await p.connections
      .create({ environment: 'dev', connector: 'pfx_demo', displayName: 'x', parameters: { api_key: secret } })
      .catch((e: unknown) => e as Error & { details: unknown });
    expect((err as { code?: string }).code).toBe('CONNECTION_PARAMETER_MUST_BE_SECRET');
    expect(err.message + JSON.stringify(err.details)).not.toContain(secret);
    const rows = await p.store.repos.secrets.listByOwner(c.id);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect(await p.vault.get(c.id, 'api_key')).toBe(secret);
    if (p.store.kind === 'sqlite') {
      for (const f of readdirSync(dataDir)) {
        const path = join(dataDir, f);
        if (statSync(path).isFile()) expect(readFileSync(path).includes(Buffer.from(secret))).toBe(false);
      }
    }
  });
});

describe('invariant 6: service principals own connections and flows', () => {
  it('lets a service principal own a connection and a flow that is On', async () => {
    await p.references.create({
      environment: 'dev',
      logicalName: 'pfx_Outlook',
      connector: 'shared_office365',
      actor: 'deploy-sp',
    });
    const c = await conn('dev', 'deploy-sp');
    expect(c.ownerId).toBe((await p.principals.get('deploy-sp')).id);
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: c.id, actor: 'deploy-sp' });
    const f = await seedFlow(p, {
      environment: 'dev',
      id: '55555555-5555-5555-5555-555555555555',
      name: 'SP flow',
      owner: 'deploy-sp',
      connections: [o365()],
    });
    expect(f.state).toBe('On');
    const bobs = await conn('dev', 'bob');
    await p.connections.transfer({ id: bobs.id, to: 'deploy-sp', actor: 'bob' });
    expect((await p.connections.get(bobs.id)).ownerId).toBe((await p.principals.get('deploy-sp')).id);
  });
});

describe('invariant 7: deleting or disabling what others depend on is refused or lists its impact', () => {
  it('lists the flows that turn off when a connection owner is disabled, and brings them back on transfer', async () => {
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Outlook', connector: 'shared_office365' });
    const c = await conn('dev', 'bob');
    await p.connections.share({ id: c.id, with: 'alice', role: 'CanUse', actor: 'bob' });
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: c.id, actor: 'alice' });
    await seedFlow(p, {
      environment: 'dev',
      id: '66666666-6666-6666-6666-666666666666',
      name: 'Uses bob',
      owner: 'alice',
      connections: [o365()],
    });
    const disabled = await p.principals.disable({ name: 'bob' });
    expect(disabled.flows).toMatchObject([
      { name: 'Uses bob', environment: 'dev', from: 'On', to: 'Off', reasons: [{ code: 'owner_disabled' }] },
    ]);
    await p.connections.transfer({ id: c.id, to: 'deploy-sp' });
    await p.connections.share({ id: c.id, with: 'alice', role: 'CanUse', actor: 'deploy-sp' });
    expect((await p.flows.get('dev', 'Uses bob')).state).toBe('On');
  });

  it('refuses to delete a bound connection or a used reference, and lists what turns off with force', async () => {
    await p.references.create({ environment: 'dev', logicalName: 'pfx_Outlook', connector: 'shared_office365' });
    const c = await conn('dev', 'admin');
    await p.references.bind({ environment: 'dev', logicalName: 'pfx_Outlook', connectionId: c.id });
    await seedFlow(p, {
      environment: 'dev',
      id: '77777777-7777-7777-7777-777777777777',
      name: 'Dep',
      owner: 'admin',
      connections: [o365()],
    });
    await expect(p.connections.delete({ id: c.id })).rejects.toMatchObject({
      code: 'CONNECTION_IN_USE',
      details: { references: ['pfx_Outlook'], flows: [{ name: 'Dep' }] },
    });
    await expect(p.references.delete({ environment: 'dev', logicalName: 'pfx_Outlook' })).rejects.toMatchObject({
      code: 'REFERENCE_IN_USE',
    });
    const forced = await p.connections.delete({ id: c.id, force: true });
    expect(forced.unboundReferences).toEqual(['pfx_Outlook']);
    expect(forced.flows).toMatchObject([{ name: 'Dep', from: 'On', to: 'Off', reasons: [{ code: 'unbound' }] }]);
    expect(await p.store.repos.secrets.listByOwner(c.id)).toEqual([]);
  });
});
