/**
 * The built-in SQL connector against the real PostgreSQL and MariaDB of this machine: every
 * operation, the OData options of Get rows, and injection attempts through every input that
 * reaches SQL (filter values, native query parameters, table and column names). Each dialect
 * gets its own database, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindNativeQuery, invokeSqlOperation, type SqlConnectionSettings } from '@patchbay/connectors';

const PG_ADMIN = process.env['PATCHBAY_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MY = { host: '127.0.0.1', port: 3306, user: 'root' };
const dbName = `pb_sqlconn_${process.pid}_${randomBytes(3).toString('hex')}`;

async function pgAdmin(sql: string, db?: string): Promise<void> {
  const url = new URL(PG_ADMIN);
  if (db) url.pathname = `/${db}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function myAdmin(sql: string, db?: string): Promise<void> {
  const c = await mysql.createConnection({ ...MY, ...(db ? { database: db } : {}), multipleStatements: true });
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const dialects: Array<{
  name: 'postgres' | 'mysql';
  settings: SqlConnectionSettings;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  count(): Promise<number>;
}> = [
  {
    name: 'postgres',
    settings: {
      dialect: 'postgres',
      server: '127.0.0.1',
      port: Number(new URL(PG_ADMIN).port || 5432),
      database: dbName,
      username: new URL(PG_ADMIN).username || 'postgres',
    },
    setup: async () => {
      await pgAdmin(`CREATE DATABASE ${dbName}`);
      await pgAdmin(
        `CREATE TABLE orders (id serial PRIMARY KEY, customer varchar(100) NOT NULL, amount integer NOT NULL, status varchar(20), note text);
         CREATE TABLE order_lines (order_id integer NOT NULL, line integer NOT NULL, product varchar(50), PRIMARY KEY (order_id, line));
         CREATE TABLE "Mixed Case" ("Order Date" varchar(20) PRIMARY KEY, value integer);`,
        dbName,
      );
    },
    teardown: () => pgAdmin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`),
    count: async () => {
      const url = new URL(PG_ADMIN);
      url.pathname = `/${dbName}`;
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      try {
        return Number((await c.query('SELECT count(*) AS n FROM orders')).rows[0].n);
      } finally {
        await c.end();
      }
    },
  },
  {
    name: 'mysql',
    settings: { dialect: 'mysql', server: '127.0.0.1', port: 3306, database: dbName, username: 'root' },
    setup: async () => {
      await myAdmin(`CREATE DATABASE ${dbName}`);
      await myAdmin(
        `CREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, customer varchar(100) NOT NULL, amount int NOT NULL, status varchar(20), note text);
         CREATE TABLE order_lines (order_id int NOT NULL, line int NOT NULL, product varchar(50), PRIMARY KEY (order_id, line));
         CREATE TABLE \`Mixed Case\` (\`Order Date\` varchar(20) PRIMARY KEY, value int);`,
        dbName,
      );
    },
    teardown: () => myAdmin(`DROP DATABASE IF EXISTS ${dbName}`),
    count: async () => {
      const c = await mysql.createConnection({ ...MY, database: dbName });
      try {
        const [rows] = await c.query('SELECT count(*) AS n FROM orders');
        return Number((rows as Array<{ n: number }>)[0]!.n);
      } finally {
        await c.end();
      }
    },
  },
];

describe.each(dialects)('SQL connector on $name', (d) => {
  const call = (operationId: string, parameters: Record<string, unknown>, policy = { allowLoopback: true }) =>
    invokeSqlOperation({ settings: d.settings, operationId, parameters, policy, action: 'Test_action' });

  beforeAll(async () => d.setup());
  afterAll(async () => d.teardown());

  it('inserts, gets, lists with $filter/$orderby/$top/$skip/$select, updates and deletes rows', async () => {
    const inserted = [];
    for (const [customer, amount, status] of [
      ['Alice', 30, 'open'],
      ['Albert', 12, 'open'],
      ['Bob', 50, 'closed'],
      ['Anna', 5, null],
    ] as const) {
      const r = await call('PostItem_V2', {
        server: 'default',
        database: 'default',
        table: '[dbo].[orders]',
        'item/customer': customer,
        'item/amount': amount,
        'item/status': status,
      });
      expect(r.statusCode).toBe(200);
      inserted.push(r.body as { id: number; customer: string });
    }
    expect(inserted.map((r) => r.customer)).toEqual(['Alice', 'Albert', 'Bob', 'Anna']);
    expect(inserted.every((r) => typeof r.id === 'number')).toBe(true);

    const get = await call('GetItem_V2', {
      server: 'default',
      database: 'default',
      table: 'orders',
      id: inserted[2]!.id,
    });
    expect(get).toMatchObject({ statusCode: 200, body: { customer: 'Bob', amount: 50, status: 'closed' } });

    const list = await call('GetItems_V2', {
      server: 'default',
      database: 'default',
      table: '[dbo].[orders]',
      $filter: "startswith(customer,'A') and (amount gt 10 or status eq null)",
      $orderby: 'amount desc',
      $select: 'customer,amount',
    });
    expect(list.body).toEqual({
      value: [
        { customer: 'Alice', amount: 30 },
        { customer: 'Albert', amount: 12 },
        { customer: 'Anna', amount: 5 },
      ],
    });
    const page = await call('GetItems_V2', {
      table: 'orders',
      $orderby: 'amount asc',
      $top: 2,
      $skip: 1,
      $select: 'customer',
    });
    expect(page.body).toEqual({ value: [{ customer: 'Albert' }, { customer: 'Alice' }] });
    const notNull = await call('GetItems_V2', {
      table: 'orders',
      $filter: "status ne null and not (status eq 'closed')",
      $select: 'customer',
      $orderby: 'customer',
    });
    expect(notNull.body).toEqual({ value: [{ customer: 'Albert' }, { customer: 'Alice' }] });
    const contains = await call('GetItems_V2', {
      table: 'orders',
      $filter: "contains(customer,'li')",
      $select: 'customer',
    });
    expect(contains.body).toEqual({ value: [{ customer: 'Alice' }] });

    const patched = await call('PatchItem_V2', {
      table: 'orders',
      id: String(inserted[0]!.id),
      item: { status: 'closed', amount: 31 },
    });
    expect(patched).toMatchObject({ statusCode: 200, body: { id: inserted[0]!.id, status: 'closed', amount: 31 } });
    expect((await call('PatchItem_V2', { table: 'orders', id: 999999, 'item/status': 'x' })).statusCode).toBe(404);

    expect((await call('DeleteItem_V2', { table: 'orders', id: inserted[3]!.id })).statusCode).toBe(200);
    expect((await call('GetItem_V2', { table: 'orders', id: inserted[3]!.id })).statusCode).toBe(404);
    expect((await call('DeleteItem_V2', { table: 'orders', id: inserted[3]!.id })).statusCode).toBe(404);
  });

  it('uses composite keys, quoted names and _x0020_ escapes', async () => {
    await call('PostItem_V2', { table: 'order_lines', item: { order_id: 7, line: 1, product: 'bolt' } });
    await call('PostItem_V2', { table: 'order_lines', item: { order_id: 7, line: 2, product: 'nut' } });
    expect((await call('GetItem_V2', { table: 'order_lines', id: '7,2' })).body).toMatchObject({ product: 'nut' });
    await expect(call('GetItem_V2', { table: 'order_lines', id: '7' })).rejects.toMatchObject({
      code: 'SQL_KEY_INVALID',
    });
    const mixed = await call('PostItem_V2', {
      table: '[Mixed Case]',
      'item/Order_x0020_Date': '2024-01-02',
      'item/value': 3,
    });
    expect(mixed.body).toMatchObject({ 'Order Date': '2024-01-02', value: 3 });
    expect(
      (await call('GetItems_V2', { table: 'Mixed Case', $filter: "Order_x0020_Date eq '2024-01-02'" })).body,
    ).toEqual({ value: [{ 'Order Date': '2024-01-02', value: 3 }] });
  });

  it('runs a native query with parameters', async () => {
    const r = await call('ExecutePassThroughNativeQuery_V2', {
      server: 'default',
      database: 'default',
      'query/query':
        "SELECT customer, amount FROM orders WHERE amount >= @minimum AND customer <> '@minimum' ORDER BY amount -- @minimum in a comment stays",
      'query/formalParameters': { minimum: 'INT' },
      'query/actualParameters': { minimum: 31 },
    });
    expect(r).toMatchObject({
      statusCode: 200,
      body: {
        ResultSets: {
          Table1: [
            { customer: 'Alice', amount: 31 },
            { customer: 'Bob', amount: 50 },
          ],
        },
        OutputParameters: {},
      },
    });
    const upd = await call('ExecutePassThroughNativeQuery_V2', {
      query: {
        query: 'UPDATE orders SET note = @note WHERE customer = @who',
        formalParameters: { '@note': 'NVARCHAR(50)', '@who': 'NVARCHAR(50)' },
        actualParameters: { '@note': 'vip', '@who': 'Bob' },
      },
    });
    expect(upd.body).toEqual({ ResultSets: {}, OutputParameters: {} });
    await expect(
      call('ExecutePassThroughNativeQuery_V2', { 'query/query': 'SELECT @a', 'query/formalParameters': { a: 'INT' } }),
    ).rejects.toMatchObject({ code: 'SQL_PARAMETER_MISSING' });
  });

  it('keeps injection attempts as data: filter values, query parameters, table and column names', async () => {
    const before = await d.count();
    const evil = "x' OR '1'='1";
    const viaFilter = await call('GetItems_V2', {
      table: 'orders',
      $filter: `customer eq '${evil.replace(/'/g, "''")}'`,
    });
    expect(viaFilter.body).toEqual({ value: [] });
    const viaParam = await call('ExecutePassThroughNativeQuery_V2', {
      'query/query': 'SELECT * FROM orders WHERE customer = @name',
      'query/formalParameters': { name: 'NVARCHAR(100)' },
      'query/actualParameters': { name: evil },
    });
    expect(viaParam.body).toEqual({ ResultSets: { Table1: [] }, OutputParameters: {} });
    const dropper = "'; DROP TABLE orders; --";
    const stored = await call('PostItem_V2', { table: 'orders', item: { customer: dropper, amount: 1 } });
    expect((stored.body as { customer: string }).customer).toBe(dropper);
    await expect(call('GetItems_V2', { table: 'orders; DROP TABLE orders', $top: 1 })).rejects.toMatchObject({
      code: 'SQL_TABLE_NOT_FOUND',
    });
    await expect(
      call('PostItem_V2', { table: 'orders', item: { 'customer) VALUES (1); DROP TABLE orders; --': 'x' } }),
    ).rejects.toMatchObject({ code: 'SQL_COLUMN_NOT_FOUND' });
    await expect(
      call('GetItems_V2', { table: 'orders', $filter: "customer eq 'a'; DROP TABLE orders" }),
    ).rejects.toMatchObject({ code: 'SQL_FILTER_INVALID' });
    await expect(call('GetItems_V2', { table: 'orders', $orderby: 'amount; DROP TABLE orders' })).rejects.toMatchObject(
      { code: 'SQL_ORDERBY_INVALID' },
    );
    await expect(
      call('ExecutePassThroughNativeQuery_V2', {
        'query/query': 'SELECT 1; DROP TABLE orders',
        'query/formalParameters': {},
      }),
    ).rejects.toMatchObject({ code: 'SQL_STATEMENT_FAILED' });
    expect(await d.count()).toBe(before + 1);
  });

  it("refuses another server or database than the connection's, and hosts the policy denies", async () => {
    await expect(
      call('GetItems_V2', { server: 'other.example.com', database: 'default', table: 'orders' }),
    ).rejects.toMatchObject({ code: 'SQL_SERVER_MISMATCH' });
    await expect(call('GetItems_V2', { database: 'postgres', table: 'orders' })).rejects.toMatchObject({
      code: 'SQL_SERVER_MISMATCH',
    });
    await expect(call('GetItems_V2', { table: 'orders' }, { allowLoopback: false })).rejects.toMatchObject({
      code: 'SQL_HOST_DENIED',
      category: 'permission',
    });
    await expect(
      invokeSqlOperation({
        settings: { ...d.settings, server: '169.254.169.254' },
        operationId: 'GetItems_V2',
        parameters: { table: 'orders' },
        policy: { allowLoopback: true },
      }),
    ).rejects.toMatchObject({ code: 'SQL_HOST_DENIED' });
    await expect(call('GetRows', { table: 'orders' })).rejects.toMatchObject({ code: 'OPERATION_NOT_FOUND' });
  });

  it('fails with a clear error when the password is wrong, without the password in it', async () => {
    const secret = `pw-${randomBytes(6).toString('hex')}`;
    const wrongUser = { ...d.settings, username: 'patchbay_no_such_user', password: secret };
    const err = await invokeSqlOperation({
      settings: wrongUser,
      operationId: 'GetItems_V2',
      parameters: { table: 'orders' },
      policy: { allowLoopback: true },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SQL_CONNECTION_FAILED' });
    expect(JSON.stringify({ m: (err as Error).message, d: (err as { details: unknown }).details })).not.toContain(
      secret,
    );
  });
});

describe('native query binding', () => {
  it('binds declared @names outside literals, comments and dollar quotes only', () => {
    const pgD = {
      name: 'postgres' as const,
      quote: (s: string) => `"${s}"`,
      placeholder: (n: number) => `$${n}`,
      backslashLiteral: "'\\'",
    };
    const r = bindNativeQuery('SELECT @a, \'@a\', "@a", $$ @a $$, @b /* @a */ -- @a\n, @@a, @A', pgD, { a: 1, b: 2 });
    expect(r.text).toBe('SELECT $1, \'@a\', "@a", $$ @a $$, $2 /* @a */ -- @a\n, @@a, $3');
    expect(r.params).toEqual([1, 2, 1]);
  });
});
