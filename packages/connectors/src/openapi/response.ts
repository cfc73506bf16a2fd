/**
 * An operation's HTTP answer → the action outputs `{statusCode, headers, body}`. The body is
 * decoded like Http action outputs (`decodeBody`), then read by the operation's response schema
 * for that status (or `default`): a `file` / `string`+`binary` schema keeps the bytes as a
 * `$content` envelope; an object or array schema parses JSON sent with a non-JSON content type.
 */
import { decodeBody } from '../http/client.js';
import type { ConnectorOperation, JsonSchema } from './document.js';

/** The schema of the answer with this status, if the operation declares one. */
export function responseSchema(operation: ConnectorOperation | undefined, statusCode: number): JsonSchema | undefined {
  if (!operation) return undefined;
  const r =
    operation.responses[String(statusCode)] ??
    operation.responses[`${String(statusCode)[0]}XX`] ??
    operation.responses['default'];
  return r?.schema;
}

/** Decodes an answer's body by its content type and the operation's schema. */
export function parseResponseBody(
  operation: ConnectorOperation | undefined,
  statusCode: number,
  headers: Record<string, string>,
  bytes: Uint8Array,
): unknown {
  const schema = responseSchema(operation, statusCode);
  const type = typeof schema?.type === 'string' ? schema.type : undefined;
  if (
    bytes.length > 0 &&
    (type === 'file' || (type === 'string' && (schema?.format === 'binary' || schema?.format === 'byte')))
  ) {
    const ct = (headers['content-type'] ?? '').toLowerCase();
    if (!ct.includes('json') && !ct.startsWith('text/'))
      return {
        '$content-type': headers['content-type'] ?? 'application/octet-stream',
        $content: Buffer.from(bytes).toString('base64'),
      };
  }
  const body = decodeBody(headers, bytes);
  if (typeof body === 'string' && (type === 'object' || type === 'array') && /^\s*[[{]/.test(body)) {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  }
  return body;
}
