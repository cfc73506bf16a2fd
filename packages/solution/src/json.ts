/**
 * JSON reading for untrusted files (design §6): size and nesting depth are checked before
 * `JSON.parse`, and a syntax error is reported with the file, line and column.
 */
import type { SolutionLimits } from './limits.js';
import { fileError, lineColumn } from './text.js';

/** Options of {@link parseJsonText}. */
export interface ParseJsonOptions {
  /** File named in errors. */
  file: string;
  limits: Pick<SolutionLimits, 'maxJsonBytes' | 'maxJsonDepth'>;
  /** Error code prefix: `<prefix>_INVALID`, `<prefix>_TOO_LARGE`, `<prefix>_TOO_DEEP`. Default `JSON`. */
  codePrefix?: string;
}

/**
 * Parses JSON text (a leading byte-order mark is ignored). Errors: `JSON_TOO_LARGE`,
 * `JSON_TOO_DEEP` (with line/column of the first too-deep bracket), `JSON_INVALID` (with
 * line/column from the parser's position), each naming the file.
 */
export function parseJsonText(text: string, options: ParseJsonOptions): unknown {
  const prefix = options.codePrefix ?? 'JSON';
  const { file, limits } = options;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length > limits.maxJsonBytes) {
    throw fileError(
      `${prefix}_TOO_LARGE`,
      file,
      `JSON document has ${body.length} characters, more than the limit of ${limits.maxJsonBytes}`,
      {
        size: body.length,
        limit: limits.maxJsonBytes,
      },
    );
  }
  const deep = firstTooDeep(body, limits.maxJsonDepth);
  if (deep >= 0) {
    const { line, column } = lineColumn(body, deep);
    throw fileError(
      `${prefix}_TOO_DEEP`,
      file,
      `JSON nested deeper than ${limits.maxJsonDepth} (line ${line}, column ${column})`,
      {
        line,
        column,
        limit: limits.maxJsonDepth,
      },
    );
  }
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    const message = (e as Error).message;
    const m = /position (\d+)/.exec(message);
    let where: { line: number; column: number } | undefined;
    if (m) where = lineColumn(body, Number(m[1]));
    else {
      const lc = /line (\d+) column (\d+)/.exec(message);
      if (lc) where = { line: Number(lc[1]), column: Number(lc[2]) };
      else if (/end of JSON input/i.test(message)) where = lineColumn(body, body.length);
    }
    const at = where ? ` (line ${where.line}, column ${where.column})` : '';
    throw fileError(`${prefix}_INVALID`, file, `invalid JSON: ${message}${at}`, { ...(where ?? {}), reason: message });
  }
}

/** Offset of the first `[`/`{` that nests deeper than `max`, or -1. Strings are skipped. */
function firstTooDeep(text: string, max: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > max) return i;
    } else if (c === 125 || c === 93) depth--;
  }
  return -1;
}

/** Appends a key or index to a JSON path (`$.a.b`, `$['odd key']`, `$.list[2]`). */
export function jsonPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
