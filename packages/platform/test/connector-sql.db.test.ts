/**
 * The built-in SQL connector in flows: a flow inserts a row and looks rows up with a parameterised
 * native query through a `shared_sql` connection bound to a reference, on the real PostgreSQL and
 * MariaDB of this machine (one database each, dropped afterwards). Hostile trigger values stay data.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Platform } from '@patchbay/platform';
import { seedFlow } from '../../../test-support/platform.js';
import { connectorPlatform } from './support/connector-platform.js';

const PG_ADMIN = new URL(process.env['PATCHBAY_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const db = `pb_sqlflow_${process.pid}_${randomBytes(3).toString('hex')}`;

async function pgExec(sql: string, database?: string): Promise<void> {
  const url = new URL(PG_ADMIN);
  if (database) url.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
async function myExec(sql: string, database?: string): Promise<void> {
  const c = await mysql.createConnection({
    host: '127.0.0.1',
    port: 3306,
    user: 'root',
    ...(database ? { database } : {}),
  });
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await pgExec(`CREATE DATABASE ${db}`);
  await pgExec(
    'CREATE TABLE orders (id serial PRIMARY KEY, customer varchar(200) NOT NULL, amount integer NOT NULL)',
    db,
  );
  await myExec(`CREATE DATABASE ${db}`);
  await myExec(
    'CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, customer varchar(200) NOT NULL, amount int NOT NULL)',
    db,
  );
});
afterAll(async () => {
  await pgExec(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await myExec(`DROP DATABASE IF EXISTS ${db}`);
});

let p: Platform;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ platform: p, cleanup } = await connectorPlatform());
  await p.environments.create({ name: 'test', policy: { allowLoopback: true } });
});
afterEach(async () => cleanup());

const flowDefinition = {
  properties: {
    connectionReferences: {
      shared_sql: {
        runtimeSource: 'embedded',
        connection: { connectionReferenceLogicalName: 'pb_Orders' },
        api: { name: 'shared_sql' },
      },
    },
    definition: {
      triggers: { manual: { type: 'Request', kind: 'Http', inputs: { schema: {} } } },
      actions: {
        Insert_row: {
          type: 'OpenApiConnection',
          inputs: {
            host: {
              connectionName: 'shared_sql',
              operationId: 'PostItem_V2',
              apiId: '/providers/Microsoft.PowerApps/apis/shared_sql',
            },
            parameters: {
              server: 'default',
              database: 'default',
              table: '[dbo].[orders]',
              'item/customer': "@triggerBody()?['customer']",
              'item/amount': "@triggerBody()?['amount']",
            },
          },
        },
        Look_up: {
          type: 'OpenApiConnection',
          runAfter: { Insert_row: ['Succeeded'] },
          inputs: {
            host: {
              connectionName: 'shared_sql',
              operationId: 'ExecutePassThroughNativeQuery_V2',
              apiId: '/providers/Microsoft.PowerApps/apis/shared_sql',
            },
            parameters: {
              server: 'default',
              database: 'default',
              'query/query': 'SELECT customer, amount FROM orders WHERE customer = @who ORDER BY id',
              'query/formalParameters': { who: 'NVARCHAR(200)' },
              'query/actualParameters': { who: "@triggerBody()?['lookup']" },
            },
          },
        },
        Count: {
          type: 'OpenApiConnection',
          runAfter: { Look_up: ['Succeeded'] },
          inputs: {
            host: {
              connectionName: 'shared_sql',
              operationId: 'GetItems_V2',
              apiId: '/providers/Microsoft.PowerApps/apis/shared_sql',
            },
            parameters: { table: 'orders', $select: 'id', $top: 100 },
          },
        },
        Respond: {
          type: 'Response',
          kind: 'Http',
          runAfter: { Count: ['Succeeded'] },
          inputs: {
            statusCode: 200,
            body: {
              inserted: "@body('Insert_row')?['customer']",
              found: "@body('Look_up')?['ResultSets']?['Table1']",
              rows: "@length(body('Count')?['value'])",
            },
          },
        },
      },
    },
  },
};

describe.each([
  { dialect: 'postgres', port: Number(PG_ADMIN.port || 5432), username: PG_ADMIN.username || 'postgres' },
  { dialect: 'mysql', port: 3306, username: 'root' },
])(`SQL connector in a flow on $dialect (${process.env['PATCHBAY_TEST_STORE']})`, ({ dialect, port, username }) => {
  it('inserts and finds rows through the bound connection; injection attempts stay data', async () => {
    const conn = await p.connections.create({
      environment: 'test',
      connector: 'shared_sql',
      displayName: `orders on ${dialect}`,
      parameters: { dialect, server: '127.0.0.1', port: String(port), database: db, username },
    });
    await p.references.create({ environment: 'test', logicalName: 'pb_Orders', connector: 'shared_sql' });
    await p.references.bind({ environment: 'test', logicalName: 'pb_Orders', connectionId: conn.id });
    await seedFlow(p, {
      environment: 'test',
      id: '5a1f0000-0000-4000-8000-0000000000b1',
      name: 'Orders',
      owner: 'admin',
      connections: [
        { key: 'shared_sql', logicalName: 'pb_Orders', runtimeSource: 'embedded', connectorId: 'shared_sql' },
      ],
      definition: flowDefinition,
    });
    const evil = "Robert'); DROP TABLE orders; --";
    const run = (customer: string, lookup: string) =>
      p.runs.run({
        environment: 'test',
        flow: 'Orders',
        trigger: { body: { customer, amount: 7, lookup }, method: 'POST' },
      });
    const r1 = await run(evil, "x' OR '1'='1");
    expect(r1.result.status).toBe('Succeeded');
    expect(r1.result.response?.body).toMatchObject({ inserted: evil, found: [] });
    const r2 = await run('Ada', evil);
    expect(r2.result.response?.body).toEqual({ inserted: 'Ada', found: [{ customer: evil, amount: 7 }], rows: 2 });
  });
});
