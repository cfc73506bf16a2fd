/**
 * The built-in SQL connector (`shared_sql`, design §3A) over PostgreSQL (`pg`) and MySQL/MariaDB
 * (`mysql2`), with the operation ids and parameter names of Power Automate's SQL Server connector:
 *
 * | operation | parameters | answer |
 * |---|---|---|
 * | `GetItems_V2` (Get rows) | `server`, `database`, `table`, `$filter`, `$orderby`, `$top` (default 2048), `$skip`, `$select` | 200 `{value: [rows]}` |
 * | `GetItem_V2` (Get row) | `server`, `database`, `table`, `id` | 200 row · 404 |
 * | `PostItem_V2` (Insert row) | `server`, `database`, `table`, `item` (`item/Column` keys) | 200 inserted row |
 * | `PatchItem_V2` (Update row) | `server`, `database`, `table`, `id`, `item` | 200 updated row · 404 |
 * | `DeleteItem_V2` (Delete row) | `server`, `database`, `table`, `id` | 200 · 404 |
 * | `ExecutePassThroughNativeQuery_V2` (Execute a SQL query) | `server`, `database`, `query/query`, `query/formalParameters`, `query/actualParameters` | 200 `{ResultSets: {Table1: rows}, OutputParameters: {}}` |
 *
 * Rules: `server`/`database` must be `default` or the connection's own (a flow cannot point a
 * connection's credentials at another server). Tables are `[schema].[table]`, `schema.table` or
 * `table`; `dbo` means the database's default schema. Table and column names are checked against
 * the database's metadata and quoted; every value is a bound parameter. `id` is the primary key
 * value (comma-separated for composite keys, in key order). A native query runs one statement
 * whose `@name` parameters (declared in `formalParameters`) become bound parameters.
 * The server host goes through the outbound host policy (metadata and link-local addresses
 * denied; loopback only when allowed) and the connection is made to the checked address.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { forbidden, invalid, notFound, notReady, PatchbayError } from '@patchbay/core';
import { denyReason, type HttpPolicy } from '../http/policy.js';
import {
  decodeODataName,
  translateFilter,
  translateOrderBy,
  translateSelect,
  type SqlBuilder,
  type SqlDialect,
} from './odata.js';

/** The SQL connector's operation ids. */
export const SQL_OPERATION_IDS = [
  'GetItems_V2',
  'GetItem_V2',
  'PostItem_V2',
  'PatchItem_V2',
  'DeleteItem_V2',
  'ExecutePassThroughNativeQuery_V2',
] as const;

/** A SQL connection's settings (the `shared_sql` connection parameters; `password` is a secret). */
export interface SqlConnectionSettings {
  dialect: 'postgres' | 'mysql';
  server: string;
  port?: number;
  database: string;
  username: string;
  password?: string;
}

/** Options of {@link invokeSqlOperation}. */
export interface SqlInvokeOptions {
  settings: SqlConnectionSettings;
  operationId: string;
  /** The action's evaluated `inputs.parameters`. */
  parameters: Record<string, unknown>;
  /** Host policy of the environment (the same one outbound HTTP uses). */
  policy: HttpPolicy;
  action?: string;
  signal?: AbortSignal;
  /** Connect timeout in ms (default 10,000); statement timeout in ms (default 110,000, the Power Automate SQL limit). */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

/** The answer of an operation, HTTP-shaped like every connector call. */
export interface SqlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: unknown;
}

type Row = Record<string, unknown>;

interface Session {
  dialect: SqlDialect;
  query(sql: string, params: unknown[]): Promise<{ rows: Row[]; affected: number; insertId?: number }>;
  close(): Promise<void>;
}

const PG: SqlDialect = {
  name: 'postgres',
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  placeholder: (n) => `$${n}`,
  backslashLiteral: "'\\'",
};
const MY: SqlDialect = {
  name: 'mysql',
  quote: (id) => `\`${id.replace(/`/g, '``')}\``,
  placeholder: () => '?',
  backslashLiteral: "'\\\\'",
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function jsonValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

function jsonRow(r: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) out[k] = jsonValue(v);
  return out;
}

/** Resolves and checks the server host; returns the address to connect to. */
async function checkedAddress(server: string, policy: HttpPolicy): Promise<string> {
  const host = server.trim();
  const reason = denyReason(policy, host, isIP(host) ? host : undefined);
  if (reason) throw forbidden('SQL_HOST_DENIED', `SQL server ${host} denied: ${reason}`, { host, reason });
  if (isIP(host)) return host;
  let addresses: Array<{ address: string }>;
  try {
    addresses = await lookup(host, { all: true });
  } catch (e) {
    throw notReady('SQL_CONNECTION_FAILED', `SQL server ${host} cannot be resolved: ${(e as Error).message}`, { host });
  }
  for (const a of addresses) {
    const r = denyReason(policy, host, a.address);
    if (r) throw forbidden('SQL_HOST_DENIED', `SQL server ${host} denied: ${r}`, { host, reason: r });
  }
  return addresses[0]!.address;
}

async function open(o: SqlInvokeOptions): Promise<Session> {
  const s = o.settings;
  const address = await checkedAddress(s.server, o.policy);
  const connectTimeout = o.connectTimeoutMs ?? 10_000;
  const statementTimeout = o.statementTimeoutMs ?? 110_000;
  try {
    if (s.dialect === 'postgres') {
      const c = new pg.Client({
        host: address,
        port: s.port ?? 5432,
        database: s.database,
        user: s.username,
        ...(s.password !== undefined ? { password: s.password } : {}),
        connectionTimeoutMillis: connectTimeout,
        query_timeout: statementTimeout,
        application_name: 'patchbay-sql-connector',
      });
      c.on('error', () => undefined);
      await c.connect();
      o.signal?.addEventListener('abort', () => void c.end().catch(() => undefined), { once: true });
      return {
        dialect: PG,
        query: async (sql, params) => {
          // Always the extended protocol: one statement per call, even without parameters
          // (the simple protocol would run `SELECT 1; DROP TABLE x` as two statements).
          const r = await c.query({ text: sql, values: params, queryMode: 'extended' } as pg.QueryConfig);
          return { rows: (r.rows as Row[]).map(jsonRow), affected: r.rowCount ?? 0 };
        },
        close: () => c.end().catch(() => undefined),
      };
    }
    const c = await mysql.createConnection({
      host: address,
      port: s.port ?? 3306,
      database: s.database,
      user: s.username,
      ...(s.password !== undefined ? { password: s.password } : {}),
      connectTimeout,
      multipleStatements: false,
      dateStrings: false,
      supportBigNumbers: true,
    });
    c.on('error', () => undefined);
    o.signal?.addEventListener('abort', () => c.destroy(), { once: true });
    return {
      dialect: MY,
      query: async (sql, params) => {
        const [result] = await c.execute(
          { sql, timeout: statementTimeout },
          params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p)) as never[],
        );
        if (Array.isArray(result)) return { rows: (result as Row[]).map(jsonRow), affected: 0 };
        const h = result as { affectedRows?: number; insertId?: number };
        return { rows: [], affected: h.affectedRows ?? 0, ...(h.insertId ? { insertId: h.insertId } : {}) };
      },
      close: () => c.end().catch(() => undefined),
    };
  } catch (e) {
    if (e instanceof PatchbayError) throw e;
    throw notReady(
      'SQL_CONNECTION_FAILED',
      `cannot connect to ${s.dialect} server ${s.server}:${s.port ?? (s.dialect === 'postgres' ? 5432 : 3306)} database ${s.database}: ${sqlMessage(e)}`,
      {
        server: s.server,
        database: s.database,
      },
    );
  }
}

/** A driver error message without the statement's values. */
function sqlMessage(e: unknown): string {
  const m = (e as { message?: unknown }).message;
  return typeof m === 'string' ? m : String(e);
}

interface Table {
  schema: string;
  name: string;
  columns: Array<{ name: string; type: string }>;
  primaryKey: string[];
}

function parseTableName(raw: string): { schema?: string; name: string } {
  const parts: string[] = [];
  const re = /\[([^\]]+)\]|"((?:[^"]|"")+)"|`((?:[^`]|``)+)`|([^.[\]"`]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null)
    parts.push((m[1] ?? m[2]?.replace(/""/g, '"') ?? m[3]?.replace(/``/g, '`') ?? m[4] ?? '').trim());
  const clean = parts.filter(Boolean);
  if (clean.length === 0 || clean.length > 2)
    throw invalid('SQL_TABLE_INVALID', `cannot read the table name '${raw}'`, { table: raw });
  return clean.length === 2 ? { schema: clean[0]!, name: clean[1]! } : { name: clean[0]! };
}

async function describeTable(s: Session, raw: string, database: string): Promise<Table> {
  const t = parseTableName(raw);
  const isPg = s.dialect.name === 'postgres';
  let schemas: string[];
  if (isPg) {
    const cur = (await s.query('SELECT current_schema() AS s', [])).rows[0]?.['s'];
    const dflt = typeof cur === 'string' ? cur : 'public';
    schemas = !t.schema ? [dflt] : t.schema.toLowerCase() === 'dbo' ? ['dbo', dflt] : [t.schema];
  } else {
    if (t.schema && t.schema.toLowerCase() !== 'dbo' && t.schema.toLowerCase() !== database.toLowerCase())
      throw notFound('SQL_TABLE_NOT_FOUND', `table ${raw} is not in database ${database}`, { table: raw, database });
    schemas = [database];
  }
  for (const schema of schemas) {
    const cols = isPg
      ? await s.query(
          'SELECT table_schema AS "schema", table_name AS "table", column_name AS "name", data_type AS "type" FROM information_schema.columns WHERE lower(table_schema) = lower($1) AND lower(table_name) = lower($2) ORDER BY table_name, ordinal_position',
          [schema, t.name],
        )
      : await s.query(
          'SELECT TABLE_SCHEMA AS `schema`, TABLE_NAME AS `table`, COLUMN_NAME AS `name`, DATA_TYPE AS `type` FROM information_schema.COLUMNS WHERE lower(TABLE_SCHEMA) = lower(?) AND lower(TABLE_NAME) = lower(?) ORDER BY TABLE_NAME, ORDINAL_POSITION',
          [schema, t.name],
        );
    if (cols.rows.length === 0) continue;
    const exact = cols.rows.find((r) => r['table'] === t.name)?.['table'] ?? cols.rows[0]!['table'];
    const rows = cols.rows.filter((r) => r['table'] === exact);
    const realSchema = String(rows[0]!['schema']);
    const pk = isPg
      ? await s.query(
          `SELECT kcu.column_name AS "name" FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema AND tc.table_name = kcu.table_name WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = $1 AND tc.table_name = $2 ORDER BY kcu.ordinal_position`,
          [realSchema, exact],
        )
      : await s.query(
          "SELECT COLUMN_NAME AS `name` FROM information_schema.KEY_COLUMN_USAGE WHERE CONSTRAINT_NAME = 'PRIMARY' AND TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
          [realSchema, exact],
        );
    return {
      schema: realSchema,
      name: String(exact),
      columns: rows.map((r) => ({ name: String(r['name']), type: String(r['type']) })),
      primaryKey: pk.rows.map((r) => String(r['name'])),
    };
  }
  throw notFound('SQL_TABLE_NOT_FOUND', `table ${raw} does not exist in database ${database}`, {
    table: raw,
    database,
  });
}

function builder(s: Session, t: Table): SqlBuilder {
  const byLower = new Map(t.columns.map((c) => [c.name.toLowerCase(), c.name]));
  return {
    dialect: s.dialect,
    column: (n) => (t.columns.some((c) => c.name === n) ? n : byLower.get(n.toLowerCase())),
    params: [],
  };
}

function qualified(s: Session, t: Table): string {
  return `${s.dialect.quote(t.schema)}.${s.dialect.quote(t.name)}`;
}

function param(parameters: Record<string, unknown>, name: string): unknown {
  if (name in parameters) return parameters[name];
  const k = Object.keys(parameters).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : parameters[k];
}

/** The `item` object of insert/update: `item` merged with `item/Column` keys. */
function itemOf(parameters: Record<string, unknown>): Record<string, unknown> {
  const base = param(parameters, 'item');
  const out: Record<string, unknown> = isObject(base) ? { ...base } : {};
  for (const [k, v] of Object.entries(parameters)) if (k.toLowerCase().startsWith('item/')) out[k.slice(5)] = v;
  return out;
}

function keyCondition(s: Session, t: Table, b: SqlBuilder, id: unknown, operationId: string): string {
  if (t.primaryKey.length === 0)
    throw invalid('SQL_TABLE_HAS_NO_KEY', `table ${t.name} has no primary key; ${operationId} needs one`, {
      table: t.name,
      operation: operationId,
    });
  if (id === undefined || id === null || id === '')
    throw invalid('OPERATION_PARAMETER_MISSING', `operation ${operationId} requires the parameter 'id'`, {
      operation: operationId,
      parameter: 'id',
    });
  const values =
    t.primaryKey.length === 1
      ? [id]
      : String(id)
          .split(',')
          .map((x) => x.trim());
  if (values.length !== t.primaryKey.length)
    throw invalid(
      'SQL_KEY_INVALID',
      `table ${t.name} has a ${t.primaryKey.length}-column key (${t.primaryKey.join(', ')}); give id as ${t.primaryKey.length} comma-separated values`,
      {
        table: t.name,
        key: t.primaryKey,
      },
    );
  return t.primaryKey
    .map((k, i) => {
      b.params.push(values[i]);
      return `${s.dialect.quote(k)} = ${s.dialect.placeholder(b.params.length)}`;
    })
    .join(' AND ');
}

function columnsOf(b: SqlBuilder, t: Table, item: Record<string, unknown>): Array<[string, unknown]> {
  return Object.entries(item).map(([k, v]) => {
    const col = b.column(decodeODataName(k));
    if (!col)
      throw invalid('SQL_COLUMN_NOT_FOUND', `table ${t.name} has no column '${k}'`, { table: t.name, column: k });
    return [col, isObject(v) || Array.isArray(v) ? JSON.stringify(v) : v];
  });
}

function intParam(
  parameters: Record<string, unknown>,
  name: string,
  dflt: number | undefined,
  max: number,
): number | undefined {
  const v = param(parameters, name);
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw invalid('SQL_PARAMETER_INVALID', `${name} must be an integer from 0 to ${max}`, { parameter: name });
  return n;
}

const NOT_FOUND = (table: string): SqlResponse => ({
  statusCode: 404,
  headers: { 'content-type': 'application/json' },
  body: {
    status: 404,
    message: `No row was found with the given key in table ${table}.`,
    error: { message: 'Not found' },
  },
});

const ok = (body: unknown): SqlResponse => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body });

async function selectByKey(s: Session, t: Table, id: unknown, operationId: string): Promise<Row | undefined> {
  const b = builder(s, t);
  const where = keyCondition(s, t, b, id, operationId);
  return (await s.query(`SELECT * FROM ${qualified(s, t)} WHERE ${where}`, b.params)).rows[0];
}

/** Replaces declared `@name` parameters outside literals and comments with placeholders. */
export function bindNativeQuery(
  sql: string,
  dialect: SqlDialect,
  values: Record<string, unknown>,
): { text: string; params: unknown[] } {
  const names = new Map(Object.keys(values).map((k) => [k.replace(/^@/, '').toLowerCase(), k]));
  const params: unknown[] = [];
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    let m: RegExpExecArray | null;
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === '\\' && dialect.name === 'mysql') j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (rest.startsWith('--') || (c === '#' && dialect.name === 'mysql')) {
      const j = sql.indexOf('\n', i);
      const end = j < 0 ? sql.length : j;
      out += sql.slice(i, end);
      i = end;
    } else if (rest.startsWith('/*')) {
      const j = sql.indexOf('*/', i + 2);
      const end = j < 0 ? sql.length : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (dialect.name === 'postgres' && (m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(rest))) {
      const tag = m[0];
      const j = sql.indexOf(tag, i + tag.length);
      const end = j < 0 ? sql.length : j + tag.length;
      out += sql.slice(i, end);
      i = end;
    } else if (
      c === '@' &&
      sql[i - 1] !== '@' &&
      (m = /^@([A-Za-z_][A-Za-z0-9_]*)/.exec(rest)) &&
      names.has(m[1]!.toLowerCase())
    ) {
      params.push(values[names.get(m[1]!.toLowerCase())!]);
      out += dialect.placeholder(params.length);
      i += m[0].length;
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, params };
}

function nativeQuery(parameters: Record<string, unknown>): {
  query: string;
  formal: Record<string, unknown>;
  actual: Record<string, unknown>;
} {
  const q = param(parameters, 'query');
  const base: Record<string, unknown> = isObject(q) ? q : {};
  const get = (n: string): unknown => param(parameters, `query/${n}`) ?? base[n];
  const query = get('query');
  if (typeof query !== 'string' || !query.trim())
    throw invalid(
      'OPERATION_PARAMETER_MISSING',
      "operation ExecutePassThroughNativeQuery_V2 requires the parameter 'query/query'",
      {
        operation: 'ExecutePassThroughNativeQuery_V2',
        parameter: 'query/query',
      },
    );
  const formal = get('formalParameters');
  const actual: Record<string, unknown> = { ...(isObject(base['actualParameters']) ? base['actualParameters'] : {}) };
  for (const [k, v] of Object.entries(parameters))
    if (k.toLowerCase().startsWith('query/actualparameters/')) actual[k.slice('query/actualParameters/'.length)] = v;
  const direct = param(parameters, 'query/actualParameters');
  if (isObject(direct)) Object.assign(actual, direct);
  return { query, formal: isObject(formal) ? formal : {}, actual };
}

/**
 * Runs one SQL connector operation against the connection's database. Validation errors are
 * PatchbayErrors (invalid / not-found); a missing row is a 404 answer, as in Power Automate.
 * @throws SQL_HOST_DENIED, SQL_CONNECTION_FAILED, SQL_SERVER_MISMATCH, SQL_TABLE_NOT_FOUND,
 *   SQL_FILTER_INVALID, SQL_COLUMN_NOT_FOUND, OPERATION_NOT_FOUND, SQL_STATEMENT_FAILED …
 */
export async function invokeSqlOperation(o: SqlInvokeOptions): Promise<SqlResponse> {
  const op = SQL_OPERATION_IDS.find((x) => x.toLowerCase() === o.operationId.toLowerCase());
  if (!op)
    throw notFound(
      'OPERATION_NOT_FOUND',
      `the SQL connector has no operation ${o.operationId}; it has ${SQL_OPERATION_IDS.join(', ')}`,
      {
        connector: 'shared_sql',
        operation: o.operationId,
      },
    );
  const p = o.parameters;
  for (const [name, own] of [
    ['server', o.settings.server],
    ['database', o.settings.database],
  ] as const) {
    const v = param(p, name);
    if (
      v !== undefined &&
      v !== null &&
      v !== '' &&
      String(v).toLowerCase() !== 'default' &&
      String(v).toLowerCase() !== own.toLowerCase()
    )
      throw forbidden(
        'SQL_SERVER_MISMATCH',
        `the action names ${name} '${String(v)}', but its connection is for ${name} '${own}'; use 'default' or the connection's own`,
        {
          parameter: name,
          ...(o.action ? { action: o.action } : {}),
        },
      );
  }
  const s = await open(o);
  try {
    if (op === 'ExecutePassThroughNativeQuery_V2') {
      const q = nativeQuery(p);
      const declared: Record<string, unknown> = {};
      for (const k of Object.keys(q.formal)) declared[k.replace(/^@/, '')] = undefined;
      for (const [k, v] of Object.entries(q.actual)) declared[k.replace(/^@/, '')] = v;
      for (const [k, v] of Object.entries(declared))
        if (v === undefined)
          throw invalid(
            'SQL_PARAMETER_MISSING',
            `query parameter @${k} is declared but has no value in query/actualParameters`,
            { parameter: k },
          );
      const bound = bindNativeQuery(q.query, s.dialect, declared);
      const r = await run(s, bound.text, bound.params);
      return ok({
        ResultSets: r.rows.length > 0 || /^\s*(select|with|show|values)\b/i.test(q.query) ? { Table1: r.rows } : {},
        OutputParameters: {},
      });
    }
    const tableRaw = param(p, 'table');
    if (typeof tableRaw !== 'string' || !tableRaw.trim())
      throw invalid('OPERATION_PARAMETER_MISSING', `operation ${op} requires the parameter 'table'`, {
        operation: op,
        parameter: 'table',
      });
    const t = await describeTable(s, tableRaw, o.settings.database);
    const table = qualified(s, t);
    switch (op) {
      case 'GetItems_V2': {
        const b = builder(s, t);
        const filter = param(p, '$filter');
        const orderBy = param(p, '$orderby');
        const select = param(p, '$select');
        const top = intParam(p, '$top', 2048, 100_000);
        const skip = intParam(p, '$skip', undefined, Number.MAX_SAFE_INTEGER);
        let sql = `SELECT ${typeof select === 'string' && select.trim() ? translateSelect(select, b) : '*'} FROM ${table}`;
        if (typeof filter === 'string' && filter.trim()) sql += ` WHERE ${translateFilter(filter, b)}`;
        if (typeof orderBy === 'string' && orderBy.trim()) sql += ` ORDER BY ${translateOrderBy(orderBy, b)}`;
        sql += ` LIMIT ${top}`;
        if (skip) sql += ` OFFSET ${skip}`;
        return ok({ value: (await run(s, sql, b.params)).rows });
      }
      case 'GetItem_V2': {
        const row = await selectByKey(s, t, param(p, 'id'), op);
        return row ? ok(row) : NOT_FOUND(t.name);
      }
      case 'PostItem_V2': {
        const b = builder(s, t);
        const cols = columnsOf(b, t, itemOf(p));
        if (cols.length === 0)
          throw invalid('OPERATION_PARAMETER_MISSING', `operation ${op} needs at least one column in 'item'`, {
            operation: op,
            parameter: 'item',
          });
        const names = cols.map(([c]) => s.dialect.quote(c)).join(', ');
        const ph = cols.map((_c, i) => s.dialect.placeholder(i + 1)).join(', ');
        const values = cols.map(([, v]) => v);
        if (s.dialect.name === 'postgres')
          return ok(
            (await run(s, `INSERT INTO ${table} (${names}) VALUES (${ph}) RETURNING *`, values)).rows[0] ?? null,
          );
        const r = await run(s, `INSERT INTO ${table} (${names}) VALUES (${ph})`, values);
        const given = new Map(cols.map(([c, v]) => [c.toLowerCase(), v]));
        const keyValues = t.primaryKey.map(
          (k) => given.get(k.toLowerCase()) ?? (t.primaryKey.length === 1 ? r.insertId : undefined),
        );
        if (t.primaryKey.length === 0 || keyValues.some((v) => v === undefined)) return ok(Object.fromEntries(cols));
        return ok((await selectByKey(s, t, keyValues.join(','), op)) ?? Object.fromEntries(cols));
      }
      case 'PatchItem_V2': {
        const b = builder(s, t);
        const cols = columnsOf(b, t, itemOf(p));
        if (cols.length === 0)
          throw invalid('OPERATION_PARAMETER_MISSING', `operation ${op} needs at least one column in 'item'`, {
            operation: op,
            parameter: 'item',
          });
        const sets = cols
          .map(([c, v]) => {
            b.params.push(v);
            return `${s.dialect.quote(c)} = ${s.dialect.placeholder(b.params.length)}`;
          })
          .join(', ');
        const where = keyCondition(s, t, b, param(p, 'id'), op);
        if (s.dialect.name === 'postgres') {
          const r = await run(s, `UPDATE ${table} SET ${sets} WHERE ${where} RETURNING *`, b.params);
          return r.rows[0] ? ok(r.rows[0]) : NOT_FOUND(t.name);
        }
        const r = await run(s, `UPDATE ${table} SET ${sets} WHERE ${where}`, b.params);
        const row = await selectByKey(s, t, param(p, 'id'), op);
        return r.affected === 0 && !row ? NOT_FOUND(t.name) : ok(row ?? null);
      }
      case 'DeleteItem_V2': {
        const b = builder(s, t);
        const where = keyCondition(s, t, b, param(p, 'id'), op);
        const r = await run(s, `DELETE FROM ${table} WHERE ${where}`, b.params);
        return r.affected === 0 ? NOT_FOUND(t.name) : { statusCode: 200, headers: {}, body: null };
      }
    }
  } finally {
    await s.close();
  }
  throw notFound('OPERATION_NOT_FOUND', `the SQL connector has no operation ${o.operationId}`, {
    connector: 'shared_sql',
    operation: o.operationId,
  });
}

async function run(
  s: Session,
  sql: string,
  params: unknown[],
): Promise<{ rows: Row[]; affected: number; insertId?: number }> {
  try {
    return await s.query(sql, params);
  } catch (e) {
    if (e instanceof PatchbayError) throw e;
    const code = (e as { code?: unknown }).code;
    throw invalid('SQL_STATEMENT_FAILED', `the database refused the statement: ${sqlMessage(e)}`, {
      ...(typeof code === 'string' ? { sqlState: code } : {}),
    });
  }
}
