/**
 * Graceful shutdown (issue 8 item 1): closing the server lets an in-flight request finish (a
 * callback-URL run waiting on a Delay), persists its run, and refuses new connections.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFlow } from '../../../test-support/platform.js';
import { call, echoFlow, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  await t.api()('POST', '/api/v1/environments', { name: 'dev' });
  const def = echoFlow() as { properties: { definition: { actions: Record<string, { runAfter?: unknown }> } } };
  def.properties.definition.actions['Wait'] = {
    type: 'Wait',
    runAfter: { Compose: ['Succeeded'] },
    inputs: { interval: { count: 1, unit: 'Second' } },
  } as never;
  def.properties.definition.actions['Respond']!.runAfter = { Wait: ['Succeeded'] };
  await seedFlow(t.platform, {
    environment: 'dev',
    id: 'bbbbbbbb-0000-0000-0000-000000000001',
    name: 'Slow echo',
    owner: 'admin',
    connections: [],
    definition: def,
  });
});
afterAll(async () => {
  await t?.close();
});

describe('graceful shutdown', () => {
  it('finishes the in-flight request, keeps its run, then refuses connections', async () => {
    const url = (await t.api()('POST', '/api/v1/environments/dev/flows/Slow%20echo/triggers/manual/listCallbackUrl'))
      .body.value as string;
    const inFlight = call(url, 'POST', '', null, { name: 'Late' });
    for (let i = 0; i < 400 && t.platform.triggers.active.size === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(t.platform.triggers.active.size).toBe(1);
    const closing = t.server.close();
    const answer = await inFlight;
    await closing;
    expect(answer.status).toBe(201);
    expect(answer.body.greeting).toBe('Hello Late');
    const run = await t.platform.runs.get(answer.body.run as string);
    expect(run).toMatchObject({ status: 'Succeeded', startedBy: 'http' });
    await expect(fetch(`${t.url}/api/v1/health`)).rejects.toThrow();
  });
});
