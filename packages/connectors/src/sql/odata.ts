/**
 * The OData query options of the SQL connector's "Get rows" (`$filter`, `$orderby`, `$select`),
 * translated to parameterised SQL. Supported `$filter` subset (what maps onto every dialect):
 *
 * - comparisons `eq ne gt ge lt le` (`eq null` / `ne null` become `IS NULL` / `IS NOT NULL`),
 * - `and`, `or`, `not`, parentheses,
 * - `startswith(col, 'x')`, `endswith(col, 'x')`, `contains(col, 'x')`, `substringof('x', col)`
 *   (→ `LIKE` with the value escaped), `tolower(col)`, `toupper(col)`, `trim(col)`, `length(col)`,
 * - literals: `'text'` (`''` escapes a quote), numbers, `true`, `false`, `null`.
 *
 * Column names must exist in the table (checked against the database's metadata, compared
 * case-insensitively; `_x0020_`-style escapes are decoded) and are quoted by the dialect; every
 * value becomes a bound parameter. Anything else fails with SQL_FILTER_INVALID naming the position.
 */
import { invalid } from '@patchbay/core';

/** How a dialect writes identifiers and placeholders. */
export interface SqlDialect {
  name: 'postgres' | 'mysql';
  quote(identifier: string): string;
  /** The placeholder of the n-th (1-based) parameter. */
  placeholder(n: number): string;
  /** The SQL literal of one backslash, the LIKE escape character: `'\'` in PostgreSQL, `'\\'` in MySQL/MariaDB. */
  backslashLiteral: string;
}

/** The target of a translation: resolves column names and collects parameters. */
export interface SqlBuilder {
  dialect: SqlDialect;
  /** The table's column with this name (case-insensitive), or undefined. */
  column(name: string): string | undefined;
  params: unknown[];
}

type Token = { kind: 'id' | 'str' | 'num' | 'op'; text: string; value?: unknown; pos: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= src.length)
          throw invalid('SQL_FILTER_INVALID', `unterminated text literal at position ${i} of $filter`, { position: i });
        if (src[j] === "'") {
          if (src[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        s += src[j];
        j++;
      }
      out.push({ kind: 'str', text: src.slice(i, j + 1), value: s, pos: i });
      i = j + 1;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: 'op', text: c, pos: i });
      i++;
      continue;
    }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?[dDmMfFlL]?/.exec(src.slice(i));
    if (num && (c === '-' || /\d/.test(c))) {
      out.push({ kind: 'num', text: num[0], value: Number(num[0].replace(/[dDmMfFlL]$/, '')), pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(src.slice(i));
    if (id) {
      out.push({ kind: 'id', text: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    throw invalid('SQL_FILTER_INVALID', `unexpected '${c}' at position ${i} of $filter`, { position: i });
  }
  return out;
}

/** Decodes OData `_xHHHH_` escapes in a column name (`Order_x0020_Date` → `Order Date`). */
export function decodeODataName(name: string): string {
  return name.replace(/_x([0-9A-Fa-f]{4})_/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

const COMPARE: Record<string, string> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

/** Translates a `$filter` into a SQL condition; parameters are appended to `b.params`. */
export function translateFilter(filter: string, b: SqlBuilder): string {
  const toks = tokenize(filter);
  let k = 0;
  const peek = (): Token | undefined => toks[k];
  const isWord = (t: Token | undefined, w: string): boolean => t?.kind === 'id' && t.text.toLowerCase() === w;
  const fail = (what: string, t: Token | undefined): never => {
    throw invalid('SQL_FILTER_INVALID', `${what} at position ${t?.pos ?? filter.length} of $filter`, {
      position: t?.pos ?? filter.length,
    });
  };
  const expect = (text: string): void => {
    const t = toks[k];
    if (t?.kind !== 'op' || t.text !== text) fail(`expected '${text}'`, t);
    k++;
  };
  const param = (v: unknown): string => {
    b.params.push(v);
    return b.dialect.placeholder(b.params.length);
  };
  const columnSql = (t: Token): string => {
    const col = b.column(decodeODataName(t.text));
    if (!col) fail(`unknown column '${t.text}'`, t);
    return b.dialect.quote(col!);
  };
  type Operand = { sql: string; isNull?: boolean };
  const operand = (): Operand => {
    const t = peek();
    if (!t) return fail('expected a value', t);
    if (t.kind === 'op' && t.text === '(') {
      k++;
      const inner = or();
      expect(')');
      return { sql: `(${inner})` };
    }
    if (t.kind === 'str' || t.kind === 'num') {
      k++;
      return { sql: param(t.value) };
    }
    if (t.kind === 'id') {
      const w = t.text.toLowerCase();
      if (w === 'null') {
        k++;
        return { sql: 'NULL', isNull: true };
      }
      if (w === 'true' || w === 'false') {
        k++;
        return { sql: param(w === 'true') };
      }
      const next = toks[k + 1];
      if (next?.kind === 'op' && next.text === '(') {
        k += 2;
        const args: Token[] = [];
        while (peek() && !(peek()!.kind === 'op' && peek()!.text === ')')) {
          args.push(toks[k]!);
          k++;
          if (peek()?.kind === 'op' && peek()!.text === ',') k++;
        }
        expect(')');
        const colArg = (a: Token | undefined): string =>
          a?.kind === 'id' ? columnSql(a) : fail(`${w}() needs a column`, a);
        const strArg = (a: Token | undefined): string =>
          a?.kind === 'str' ? String(a.value) : fail(`${w}() needs a text literal`, a);
        const like = (col: string, pattern: string): string =>
          `${col} LIKE ${param(pattern)} ESCAPE ${b.dialect.backslashLiteral}`;
        switch (w) {
          case 'startswith':
            return { sql: like(colArg(args[0]), `${likeEscape(strArg(args[1]))}%`) };
          case 'endswith':
            return { sql: like(colArg(args[0]), `%${likeEscape(strArg(args[1]))}`) };
          case 'contains':
            return { sql: like(colArg(args[0]), `%${likeEscape(strArg(args[1]))}%`) };
          case 'substringof':
            return { sql: like(colArg(args[1]), `%${likeEscape(strArg(args[0]))}%`) };
          case 'tolower':
            return { sql: `LOWER(${colArg(args[0])})` };
          case 'toupper':
            return { sql: `UPPER(${colArg(args[0])})` };
          case 'trim':
            return { sql: `TRIM(${colArg(args[0])})` };
          case 'length':
            return { sql: `CHAR_LENGTH(${colArg(args[0])})` };
          default:
            return fail(`function '${t.text}' is not supported`, t);
        }
      }
      k++;
      return { sql: columnSql(t) };
    }
    return fail(`unexpected '${t.text}'`, t);
  };
  const comparison = (): string => {
    const left = operand();
    const opTok = peek();
    if (opTok?.kind === 'id' && COMPARE[opTok.text.toLowerCase()]) {
      k++;
      const op = opTok.text.toLowerCase();
      const right = operand();
      if (right.isNull || left.isNull) {
        const other = right.isNull ? left : right;
        if (op === 'eq') return `${other.sql} IS NULL`;
        if (op === 'ne') return `${other.sql} IS NOT NULL`;
        fail(`null can only be compared with eq or ne`, opTok);
      }
      return `${left.sql} ${COMPARE[op]} ${right.sql}`;
    }
    return left.sql;
  };
  const not = (): string => {
    if (isWord(peek(), 'not')) {
      k++;
      return `NOT (${not()})`;
    }
    return comparison();
  };
  const and = (): string => {
    let s = not();
    while (isWord(peek(), 'and')) {
      k++;
      s = `${s} AND ${not()}`;
    }
    return s;
  };
  function or(): string {
    let s = and();
    while (isWord(peek(), 'or')) {
      k++;
      s = `(${s}) OR (${and()})`;
    }
    return s;
  }
  const sql = or();
  if (k < toks.length) fail(`unexpected '${toks[k]!.text}'`, toks[k]);
  return sql;
}

/** Translates `$orderby` (`col [asc|desc], …`). */
export function translateOrderBy(orderBy: string, b: SqlBuilder): string {
  return orderBy
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([A-Za-z_][A-Za-z0-9_.]*)(\s+(asc|desc))?$/i.exec(part);
      if (!m) throw invalid('SQL_ORDERBY_INVALID', `cannot read $orderby item '${part}'`, { item: part });
      const col = b.column(decodeODataName(m[1]!));
      if (!col) throw invalid('SQL_ORDERBY_INVALID', `unknown column '${m[1]}' in $orderby`, { column: m[1] });
      return `${b.dialect.quote(col)} ${(m[3] ?? 'asc').toUpperCase()}`;
    })
    .join(', ');
}

/** Translates `$select` (`col, col`) into quoted column names. */
export function translateSelect(select: string, b: SqlBuilder): string {
  return select
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((c) => {
      const col = b.column(decodeODataName(c));
      if (!col) throw invalid('SQL_SELECT_INVALID', `unknown column '${c}' in $select`, { column: c });
      return b.dialect.quote(col);
    })
    .join(', ');
}
