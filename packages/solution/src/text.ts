/**
 * Text helpers shared by the readers: decoding file bytes (UTF-8 with or without byte-order
 * mark, UTF-16 with a byte-order mark), line/column of an offset, and error construction.
 */
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

/** Decodes file bytes: UTF-8 (BOM optional) or UTF-16 LE/BE with a BOM. */
export function decodeText(data: Uint8Array): DecodedText {
  if (data.length >= 3 && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
    return {
      text: Buffer.from(data.buffer, data.byteOffset + 3, data.length - 3).toString('utf8'),
      encoding: 'utf8',
      bom: true,
    };
  }
  if (data.length >= 2 && data[0] === 0xff && data[1] === 0xfe) {
    return {
      text: Buffer.from(data.buffer, data.byteOffset + 2, data.length - 2).toString('utf16le'),
      encoding: 'utf16le',
      bom: true,
    };
  }
  if (data.length >= 2 && data[0] === 0xfe && data[1] === 0xff) {
    const swapped = Buffer.from(data.subarray(2));
    swapped.swap16();
    return { text: swapped.toString('utf16le'), encoding: 'utf16le', bom: true };
  }
  return {
    text: Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8'),
    encoding: 'utf8',
    bom: false,
  };
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
