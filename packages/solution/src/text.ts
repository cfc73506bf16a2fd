/**
 * Text helpers shared by the readers: decoding file bytes (UTF-8 with or without byte-order
 * mark, UTF-16 with a byte-order mark), line/column of an offset, and error construction.
 */
import { isUtf8 } from 'node:buffer';
import { invalid, type ErrorDetails, type PatchbayError } from '@patchbay/core';

/** How a text file was encoded, so a writer can encode it the same way again. */
export interface TextEncoding {
  encoding: 'utf8' | 'utf16le';
  /** True when the file started with a byte-order mark. */
  bom: boolean;
}

/** A decoded text file: `text` never includes the byte-order mark. */
export interface DecodedText extends TextEncoding {
  text: string;
}

/**
 * How {@link decodeText} refuses bytes that are not valid in their encoding: the file named in
 * the error and the error code (`XML_INVALID`, `JSON_INVALID`, `SETTINGS_JSON_INVALID`, …).
 */
export interface DecodeCheck {
  file: string;
  code: string;
}

/**
 * Decodes file bytes: UTF-8 (BOM optional) or UTF-16 LE/BE with a BOM. With `check`, bytes that
 * are not valid UTF-8 (or UTF-16 of odd length) are refused with `check.code`, naming the file,
 * line, column and byte offset of the first bad byte, instead of being replaced by U+FFFD: a file
 * Patchbay accepts is always written back with the same bytes.
 */
export function decodeText(data: Uint8Array, check?: DecodeCheck): DecodedText {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    return { text: utf8(buf.subarray(3), 3, check), encoding: 'utf8', bom: true };
  }
  if (buf.length >= 2 && ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))) {
    const body = Buffer.from(buf.subarray(2));
    if (check && body.length % 2 !== 0) {
      const text = body.subarray(0, body.length - 1).toString('utf16le');
      const { line, column } = lineColumn(text, text.length);
      throw fileError(
        check.code,
        check.file,
        `not valid UTF-16: odd number of bytes, the last one is cut off (line ${line}, column ${column})`,
        { line, column, offset: buf.length - 1 },
      );
    }
    if (buf[0] === 0xfe) body.swap16();
    return { text: body.toString('utf16le'), encoding: 'utf16le', bom: true };
  }
  return { text: utf8(buf, 0, check), encoding: 'utf8', bom: false };
}

function utf8(body: Buffer, base: number, check: DecodeCheck | undefined): string {
  if (!check || isUtf8(body)) return body.toString('utf8');
  const bad = firstInvalidUtf8(body);
  const text = body.subarray(0, bad).toString('utf8');
  const { line, column } = lineColumn(text, text.length);
  const byte = body[bad] ?? 0;
  throw fileError(
    check.code,
    check.file,
    `not valid UTF-8: byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} at line ${line}, column ${column} (byte offset ${base + bad})`,
    { line, column, offset: base + bad, byte },
  );
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (RFC 3629), or the length. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  const n = b.length;
  const cont = (k: number): boolean => k < n && ((b[k] as number) & 0xc0) === 0x80;
  while (i < n) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      if (!cont(i + 1)) return i;
      i += 2;
      continue;
    }
    if (c >= 0xe0 && c <= 0xef) {
      const c1 = b[i + 1] ?? 0;
      const lo = c === 0xe0 ? 0xa0 : 0x80;
      const hi = c === 0xed ? 0x9f : 0xbf;
      if (c1 < lo || c1 > hi || !cont(i + 2)) return i;
      i += 3;
      continue;
    }
    if (c >= 0xf0 && c <= 0xf4) {
      const c1 = b[i + 1] ?? 0;
      const lo = c === 0xf0 ? 0x90 : 0x80;
      const hi = c === 0xf4 ? 0x8f : 0xbf;
      if (c1 < lo || c1 > hi || !cont(i + 2) || !cont(i + 3)) return i;
      i += 4;
      continue;
    }
    return i;
  }
  return n;
}

/** Encodes text the way {@link decodeText} found it. */
export function encodeText(text: string, enc: TextEncoding = { encoding: 'utf8', bom: false }): Buffer {
  if (enc.encoding === 'utf16le') {
    const body = Buffer.from(text, 'utf16le');
    return enc.bom ? Buffer.concat([Buffer.from([0xff, 0xfe]), body]) : body;
  }
  const body = Buffer.from(text, 'utf8');
  return enc.bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body;
}

/** 1-based line and column of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** The newline a document uses (CRLF when its first line break is CRLF). */
export function newlineOf(text: string): '\r\n' | '\n' {
  const i = text.indexOf('\n');
  return i > 0 && text[i - 1] === '\r' ? '\r\n' : '\n';
}

/** An input error (exit 2) that names the file; `details.file` is always set. */
export function fileError(code: string, file: string, message: string, details: ErrorDetails = {}): PatchbayError {
  return invalid(code, `${file}: ${message}`, { file, ...details });
}
