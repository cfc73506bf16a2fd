/**
 * Parser of Workflow Definition Language expressions (wdl-spec §5 grammar):
 *
 * ```
 * template := '@@' text            -- literal, first '@' dropped
 *           | '@' expr             -- one expression, result keeps its type
 *           | (text | '@{' expr '}')*   when the string contains '@{'  -- always a string
 *           | text                 -- literal
 * expr     := primary accessor*
 * primary  := STRING | NUMBER | 'true' | 'false' | 'null' | IDENT '(' [expr (',' expr)*] ')'
 * accessor := ['?'] ('.' IDENT | '[' expr ']')
 * STRING   := "'" ( any char except "'" | "''" )* "'"
 * NUMBER   := ['+'|'-'] (DIGITS ['.' DIGITS*] | '.' DIGITS) [('e'|'E') ['+'|'-'] DIGITS]
 * IDENT    := 1+ chars other than whitespace . , ( ) [ ] { } @ ' ?
 * ```
 *
 * Hand-written, no regular expressions on the hot path, no recursion without a depth limit:
 * any input either parses or raises an `EXPRESSION_PARSE_ERROR` naming the position and what
 * was expected.
 */
import type { ExpressionNode, TemplateNode, TextPart, SegmentPart, StringLiteral } from './ast.js';
import { ExpressionError, ExpressionErrorCode } from './errors.js';

/** Deepest nesting of calls and index expressions accepted (guards the call stack); accessor chains are handled iteratively and do not count. */
export const MAX_NESTING = 256;

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** True for the characters .NET `char.IsWhiteSpace` treats as white space (the common ones). */
export function isWhitespaceCode(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0x85 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** True for characters allowed in identifiers (function names, `.name` accessors). */
export function isIdentCode(c: number): boolean {
  switch (c) {
    case 46: // .
    case 44: // ,
    case 40: // (
    case 41: // )
    case 91: // [
    case 93: // ]
    case 123: // {
    case 125: // }
    case 64: // @
    case 39: // '
    case 63: // ?
      return false;
    default:
      return !isWhitespaceCode(c);
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Describes the character at `pos` for an error message. */
function describe(text: string, pos: number): string {
  if (pos >= text.length) return 'end of expression';
  const ch = text[pos] ?? '';
  return `'${ch}'`;
}

class Parser {
  private pos: number;
  private depth = 0;

  /**
   * @param source the whole definition string (for error details)
   * @param end    offset where this expression body ends (exclusive)
   */
  constructor(
    private readonly source: string,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  fail(message: string, position: number, expected: string): never {
    const found = describe(this.source.slice(0, this.end), position);
    throw new ExpressionError(
      ExpressionErrorCode.Parse,
      `${message} at position ${position}: expected ${expected}, found ${found}`,
      { position, expected, found, expression: this.source },
    );
  }

  private code(): number {
    return this.pos < this.end ? this.source.charCodeAt(this.pos) : -1;
  }

  private skipWs(): void {
    while (this.pos < this.end && isWhitespaceCode(this.source.charCodeAt(this.pos))) this.pos++;
  }

  /** Parses a complete expression body: the text up to `end` must be consumed. */
  parseAll(): ExpressionNode {
    this.skipWs();
    if (this.pos >= this.end) this.fail('Empty expression', this.pos, 'an expression');
    const node = this.parseExpr();
    this.skipWs();
    if (this.pos < this.end) {
      const c = this.code();
      const expected =
        c === 40 ? 'end of expression (a bare name cannot be called like this)' : "'.', '[', '?' or end of expression";
      this.fail('Unexpected text after expression', this.pos, expected);
    }
    return node;
  }

  private parseExpr(): ExpressionNode {
    if (++this.depth > MAX_NESTING)
      this.fail('Expression nested too deeply', this.pos, `at most ${MAX_NESTING} levels of nesting`);
    this.skipWs();
    let node = this.parsePrimary();
    for (;;) {
      this.skipWs();
      const c = this.code();
      let optional = false;
      if (c === 63 /* ? */) {
        optional = true;
        this.pos++;
        this.skipWs();
        const n = this.code();
        if (n !== 46 && n !== 91) this.fail("'?' must be followed by '.' or '['", this.pos, "'.' or '['");
      }
      const d = this.code();
      if (d === 46 /* . */) {
        this.pos++;
        this.skipWs();
        const keyStart = this.pos;
        while (this.pos < this.end && isIdentCode(this.source.charCodeAt(this.pos))) this.pos++;
        if (this.pos === keyStart) this.fail("Missing property name after '.'", keyStart, 'a property name');
        const key: StringLiteral = {
          kind: 'string',
          value: this.source.slice(keyStart, this.pos),
          start: keyStart,
          end: this.pos,
        };
        node = { kind: 'access', target: node, key, optional, dot: true, start: node.start, end: this.pos };
        continue;
      }
      if (d === 91 /* [ */) {
        this.pos++;
        const key = this.parseExpr();
        this.skipWs();
        if (this.code() !== 93) this.fail('Unclosed index', this.pos, "']'");
        this.pos++;
        node = { kind: 'access', target: node, key, optional, dot: false, start: node.start, end: this.pos };
        continue;
      }
      break;
    }
    this.depth--;
    return node;
  }

  private parsePrimary(): ExpressionNode {
    const start = this.pos;
    const c = this.code();
    if (c === -1) this.fail('Incomplete expression', start, 'a value or a function call');
    if (c === 39 /* ' */) return this.parseString();
    if (
      isDigit(c) ||
      c === 43 ||
      c === 45 ||
      (c === 46 && isDigit(this.source.charCodeAt(this.pos + 1)) && this.pos + 1 < this.end)
    ) {
      return this.parseNumber();
    }
    if (!isIdentCode(c)) this.fail('Unexpected character', start, 'a value or a function call');
    while (this.pos < this.end && isIdentCode(this.source.charCodeAt(this.pos))) this.pos++;
    const name = this.source.slice(start, this.pos);
    const identEnd = this.pos;
    this.skipWs();
    if (this.code() === 40 /* ( */) {
      this.pos++;
      const args: ExpressionNode[] = [];
      this.skipWs();
      if (this.code() === 41) {
        this.pos++;
      } else {
        for (;;) {
          args.push(this.parseExpr());
          this.skipWs();
          const n = this.code();
          if (n === 44) {
            this.pos++;
            continue;
          }
          if (n === 41) {
            this.pos++;
            break;
          }
          this.fail(`Unclosed call of '${name}'`, this.pos, "',' or ')'");
        }
      }
      return { kind: 'call', name, args, start, end: this.pos };
    }
    this.pos = identEnd;
    const lower = name.toLowerCase();
    if (lower === 'true' || lower === 'false')
      return { kind: 'boolean', value: lower === 'true', start, end: identEnd };
    if (lower === 'null') return { kind: 'null', start, end: identEnd };
    if (name.charCodeAt(0) === 34 /* " */) {
      this.fail('Double quotes do not delimit strings in expressions', start, "a single-quoted string ('text')");
    }
    this.fail(`Bare name '${name}'`, identEnd, `'(' after the function name`);
  }

  private parseString(): StringLiteral {
    const start = this.pos;
    let i = this.pos + 1;
    let value = '';
    let chunkStart = i;
    for (;;) {
      if (i >= this.end) this.fail('Unterminated string literal', start, "a closing quote (')");
      if (this.source.charCodeAt(i) === 39) {
        if (i + 1 < this.end && this.source.charCodeAt(i + 1) === 39) {
          value += this.source.slice(chunkStart, i + 1);
          i += 2;
          chunkStart = i;
          continue;
        }
        value += this.source.slice(chunkStart, i);
        this.pos = i + 1;
        return { kind: 'string', value, start, end: this.pos };
      }
      i++;
    }
  }

  private parseNumber(): ExpressionNode {
    const start = this.pos;
    let i = this.pos;
    const s = this.source;
    const c0 = s.charCodeAt(i);
    if (c0 === 43 || c0 === 45) i++;
    const intStart = i;
    while (i < this.end && isDigit(s.charCodeAt(i))) i++;
    const intDigits = i - intStart;
    let float = false;
    let fracDigits = 0;
    if (i < this.end && s.charCodeAt(i) === 46 /* . */) {
      i++;
      const fracStart = i;
      while (i < this.end && isDigit(s.charCodeAt(i))) i++;
      fracDigits = i - fracStart;
      float = true;
    }
    if (intDigits === 0 && fracDigits === 0) this.fail('Invalid number', start, 'digits');
    if (i < this.end && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69) /* e E */) {
      let j = i + 1;
      if (j < this.end && (s.charCodeAt(j) === 43 || s.charCodeAt(j) === 45)) j++;
      const expStart = j;
      while (j < this.end && isDigit(s.charCodeAt(j))) j++;
      if (j === expStart) this.fail('Invalid number exponent', j, 'exponent digits');
      float = true;
      i = j;
    }
    if (i < this.end && isIdentCode(s.charCodeAt(i))) {
      this.fail('Invalid number', i, 'a delimiter after the number');
    }
    const text = s.slice(start, i);
    this.pos = i;
    if (!float) {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return { kind: 'number', value: n === 0 ? 0 : n, float: false, start, end: i };
      const big = BigInt(text);
      if (big >= INT64_MIN && big <= INT64_MAX) return { kind: 'number', value: big, float: false, start, end: i };
      if (!Number.isFinite(n)) this.fail('Number out of range', start, 'a finite number');
      return { kind: 'number', value: n, float: true, start, end: i };
    }
    const v = Number(text.charCodeAt(0) === 43 ? text.slice(1) : text);
    if (!Number.isFinite(v)) this.fail('Number out of range', start, 'a finite number');
    return { kind: 'number', value: v, float: true, start, end: i };
  }
}

/**
 * Parses an expression body (without the leading `@`), e.g. `concat('a', 'b')`.
 * `offset` is added to every position (use it when the body sits inside a larger string).
 * Throws `EXPRESSION_PARSE_ERROR`.
 */
export function parseExpressionBody(text: string): ExpressionNode {
  return new Parser(text, 0, text.length).parseAll();
}

/**
 * Parses one definition string per wdl-spec §5 ("when a JSON string is an expression"):
 * `@@…` → literal without the first `@`; `@…` (not `@{`) → expression; a string containing
 * `@{` → interpolation (`@@{` is an escaped literal `@{`); anything else → literal.
 * Positions are offsets into `source`. Throws `EXPRESSION_PARSE_ERROR`.
 */
export function parseExpression(source: string): TemplateNode {
  const n = source.length;
  if (n >= 2 && source.charCodeAt(0) === 64 && source.charCodeAt(1) === 64) {
    return { kind: 'literal', value: source.slice(1), start: 0, end: n };
  }
  if (n >= 1 && source.charCodeAt(0) === 64 && source.charCodeAt(1) !== 123) {
    const body = new Parser(source, 1, n).parseAll();
    return { kind: 'expression', body, start: 0, end: n };
  }
  if (source.indexOf('@{') < 0) return { kind: 'literal', value: source, start: 0, end: n };
  return parseInterpolation(source);
}

function parseInterpolation(source: string): TemplateNode {
  const parts: Array<TextPart | SegmentPart> = [];
  let text = '';
  let textStart = 0;
  let i = 0;
  const n = source.length;
  const pushText = (end: number): void => {
    if (text.length > 0) parts.push({ kind: 'text', value: text, start: textStart, end });
    text = '';
  };
  while (i < n) {
    const j = source.indexOf('@{', i);
    if (j < 0) {
      if (text.length === 0) textStart = i;
      text += source.slice(i);
      i = n;
      break;
    }
    if (j > 0 && source.charCodeAt(j - 1) === 64 /* @ */) {
      // `@@{` → literal `@{`: keep the first '@', drop the second.
      if (text.length === 0) textStart = i;
      text += source.slice(i, j);
      i = j + 1;
      continue;
    }
    if (j > i) {
      if (text.length === 0) textStart = i;
      text += source.slice(i, j);
    }
    pushText(j);
    // The closing '}' is the first one outside a single-quoted literal.
    let k = j + 2;
    let inString = false;
    let quoteAt = -1;
    for (; k < n; k++) {
      const c = source.charCodeAt(k);
      if (c === 39) {
        inString = !inString;
        if (inString) quoteAt = k;
      } else if (c === 125 && !inString) break;
    }
    if (k >= n) {
      const p = new Parser(source, j, n);
      // a quote that is never closed swallows the '}': name the literal, not the '@{'
      if (inString) p.fail('Unterminated string literal', quoteAt, "a closing quote (')");
      p.fail("Unterminated '@{' in string interpolation", j, "'}'");
    }
    const body = new Parser(source, j + 2, k).parseAll();
    parts.push({ kind: 'segment', body, start: j, end: k + 1 });
    i = k + 1;
    textStart = i;
  }
  pushText(n);
  return { kind: 'interpolation', parts, start: 0, end: n };
}
