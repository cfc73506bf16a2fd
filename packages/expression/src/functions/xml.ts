/**
 * XML: `xml()`, `json(xml)`, `xpath()`. XML values are the runtime's content envelope
 * `{"$content-type": "application/xml;charset=utf-8", "$content": "<base64 of the XML text>"}`.
 * Parsing uses @xmldom/xmldom with DTDs refused (no entity expansion: design §6); XPath 1.0 via
 * the `xpath` package. JSON↔XML conversion follows Json.NET `SerializeXmlNode` /
 * `DeserializeXmlNode`, which the runtime uses: attributes ↔ `@name`, text ↔ `#text`,
 * declaration ↔ `?xml`, repeated elements ↔ arrays.
 */
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import xpathLib from 'xpath';
import { installXmlPerformanceFixes } from './xml-perf.js';
import type { CallSite } from './common.js';
import { fail, typeError } from './common.js';
import { ExpressionErrorCode } from '../errors.js';
import {
  base64ToBytes,
  bytesToBase64,
  bytesToText,
  isContentEnvelope,
  isObject,
  numberText,
  textToBytes,
  type JsonObject,
  setKey,
} from '../values.js';
import { WdlDecimal } from '../decimal.js';

/** Content type of XML values. */
export const XML_CONTENT_TYPE = 'application/xml;charset=utf-8';

/** An XML value (envelope) for XML text. */
export function xmlEnvelope(text: string): { '$content-type': string; $content: string } {
  return { '$content-type': XML_CONTENT_TYPE, $content: bytesToBase64(textToBytes(text)) };
}

/** True for an envelope whose content type is XML. */
export function isXmlEnvelope(v: unknown): v is { '$content-type': string; $content: string } {
  return isContentEnvelope(v) && /xml/i.test(String(v['$content-type'] ?? ''));
}

type XNode = {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: ArrayLike<XNode>;
  attributes?: ArrayLike<XNode> & { length: number };
  data?: string;
  target?: string;
};

function isXmlSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * True when the text has a document type declaration. XML 1.0 §2.8 allows one only in the
 * prolog — after the optional XML declaration, comments, processing instructions and white
 * space, before the root element — so only the prolog is scanned: `<!DOCTYPE` inside a CDATA
 * section or a comment is text, and one inside or after the root element is a well-formedness
 * error the parser reports. (The parsed document's `doctype` is checked as well.)
 */
export function hasDoctype(text: string): boolean {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  for (;;) {
    while (i < n && isXmlSpace(text.charCodeAt(i))) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) return false;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return false;
      i = end + 3;
    } else return text.slice(i, i + 9).toUpperCase() === '<!DOCTYPE';
  }
}

/**
 * Largest XML text `xml()`, `json(xml)` and `xpath()` parse (characters). Parsing and XPath run
 * synchronously; at this size the densest XML (about a million elements) parses in a few seconds.
 */
export const MAX_XML_CHARS = 4_194_304;

/** Parses XML text (DTDs refused, at most {@link MAX_XML_CHARS}). Throws an ExpressionError naming the problem. */
export function parseXml(site: CallSite, text: string): XNode {
  if (text.length > MAX_XML_CHARS)
    fail(
      site,
      `the XML text has ${text.length} characters; at most ${MAX_XML_CHARS} are accepted`,
      ExpressionErrorCode.LimitExceeded,
    );
  if (hasDoctype(text)) fail(site, 'XML with a document type declaration (DTD) is not accepted');
  let problem: string | undefined;
  let doc: XNode;
  try {
    doc = new DOMParser({
      onError: (level: string, message: string) => {
        if (level !== 'warning') {
          problem ??= message;
          throw new Error(message);
        }
      },
    }).parseFromString(text, 'text/xml') as unknown as XNode;
  } catch (e) {
    return fail(site, `the value is not valid XML: ${problem ?? (e as Error).message}`);
  }
  if (Array.from(doc.childNodes).some((n) => n.nodeType === 10))
    fail(site, 'XML with a document type declaration (DTD) is not accepted');
  const hasElement = Array.from(doc.childNodes).some((n) => n.nodeType === 1);
  if (!hasElement) fail(site, 'the value is not valid XML: no root element');
  const bad = illegalCharacter(doc);
  if (bad !== undefined)
    fail(
      site,
      `the value is not valid XML: U+${bad.toString(16).toUpperCase().padStart(4, '0')} is not a legal XML 1.0 character (XML 1.0 §2.2; also when written as a character reference)`,
    );
  return doc;
}

/** Characters XML 1.0 §2.2 does not allow (controls other than tab/LF/CR, U+FFFE/U+FFFF, unpaired surrogates). */
const ILLEGAL_CHAR =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The first character of the parsed document that XML 1.0 does not allow, or undefined. The
 * parser decodes character references (`&#0;` → U+0000) and passes raw control characters, so
 * text, CDATA, comments, processing instructions and attribute values are checked after parsing
 * (a reference written inside CDATA or a comment is text and stays legal). One iterative walk.
 */
function illegalCharacter(doc: XNode): number | undefined {
  const check = (v: string | null | undefined): number | undefined => {
    if (!v) return undefined;
    const m = ILLEGAL_CHAR.exec(v);
    return m ? (m[0].codePointAt(0) ?? 0) : undefined;
  };
  const stack: XNode[] = [doc];
  while (stack.length > 0) {
    const node = stack.pop() as XNode;
    const t = node.nodeType;
    if (t === 3 || t === 4 || t === 7 || t === 8) {
      const c = check(node.nodeValue ?? node.data);
      if (c !== undefined) return c;
    } else if (t === 1 && node.attributes) {
      for (let i = 0; i < node.attributes.length; i++) {
        const c = check((node.attributes[i] as XNode).nodeValue);
        if (c !== undefined) return c;
      }
    }
    const kids = node.childNodes;
    if (kids) for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as XNode);
  }
  return undefined;
}

/** The XML text of an XML argument (envelope or string). */
export function xmlTextOf(site: CallSite, v: unknown, index: number): string {
  if (typeof v === 'string') return v;
  if (isContentEnvelope(v)) return bytesToText(base64ToBytes(v.$content));
  return typeError(site, index, 'XML (an XML value or a string with XML)', v);
}

// ----- JSON → XML ------------------------------------------------------------------------------

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

const NAME_START =
  /[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]/;
const NAME_CHAR =
  /[A-Za-z_:\-.0-9\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]/;

/** XmlConvert.EncodeName: characters not allowed in XML names become `_xHHHH_`. */
export function encodeXmlName(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i] as string;
    const ok = i === 0 ? NAME_START.test(ch) : NAME_CHAR.test(ch);
    out += ok ? ch : `_x${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}_`;
  }
  return out || '_';
}

function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' || typeof v === 'bigint' || v instanceof WdlDecimal) return numberText(v);
  return String(v);
}

function writeElement(site: CallSite, name: string, value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) writeElement(site, name, item, out);
    return;
  }
  const tag = encodeXmlName(name);
  if (value === null || value === undefined) {
    out.push(`<${tag} />`);
    return;
  }
  if (!isObject(value) || value instanceof WdlDecimal) {
    out.push(`<${tag}>${escapeText(scalarText(value))}</${tag}>`);
    return;
  }
  let attrs = '';
  const children: string[] = [];
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (k.startsWith('@')) attrs += ` ${encodeXmlName(k.slice(1))}="${escapeAttr(v === null ? '' : scalarText(v))}"`;
    else if (k === '#text')
      children.push(escapeText(Array.isArray(v) ? v.map(scalarText).join('') : v === null ? '' : scalarText(v)));
    else if (k === '#cdata-section') children.push(`<![CDATA[${scalarText(v)}]]>`);
    else if (k === '#comment') children.push(`<!--${scalarText(v)}-->`);
    else if (k.startsWith('$') || k.startsWith('?')) continue;
    else writeElement(site, k, v, children);
  }
  out.push(children.length === 0 ? `<${tag}${attrs} />` : `<${tag}${attrs}>${children.join('')}</${tag}>`);
}

/** Converts a JSON object with exactly one root property to XML text (Json.NET DeserializeXmlNode). */
export function jsonToXml(site: CallSite, obj: JsonObject): string {
  const keys = Object.keys(obj).filter((k) => k !== '?xml' && k !== '!DOCTYPE');
  if (keys.length !== 1) {
    fail(site, `the JSON object must have exactly one root property to be converted to XML; it has ${keys.length}`);
  }
  const rootName = keys[0] as string;
  const rootValue = obj[rootName];
  if (Array.isArray(rootValue))
    fail(site, 'the root property of the JSON object must not be an array to be converted to XML');
  const out: string[] = [];
  const decl = obj['?xml'];
  if (isObject(decl)) {
    let d = '<?xml';
    for (const a of ['@version', '@encoding', '@standalone'])
      if (decl[a] !== undefined && decl[a] !== null) d += ` ${a.slice(1)}="${escapeAttr(scalarText(decl[a]))}"`;
    out.push(d + '?>');
  }
  writeElement(site, rootName, rootValue, out);
  return out.join('');
}

// ----- XML → JSON ------------------------------------------------------------------------------

function declarationObject(data: string): JsonObject {
  const out: JsonObject = {};
  const re = /([A-Za-z_:][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(data))) setKey(out, '@' + m[1], m[2] ?? m[3] ?? '');
  return out;
}

function addProp(obj: JsonObject, key: string, value: unknown): void {
  if (Object.hasOwn(obj, key)) {
    // element values are never arrays themselves, so an array here is a group of siblings
    const cur = obj[key];
    if (Array.isArray(cur)) cur.push(value);
    else obj[key] = [cur, value];
  } else setKey(obj, key, value);
}

function elementValue(el: XNode): unknown {
  const obj: JsonObject = {};
  const attrs = el.attributes;
  let hasAttrs = false;
  if (attrs) {
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs[i] as XNode;
      setKey(obj, '@' + a.nodeName, a.nodeValue ?? '');
      hasAttrs = true;
    }
  }
  const texts: string[] = [];
  let hasChildElements = false;
  const kids = el.childNodes;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i] as XNode;
    switch (k.nodeType) {
      case 1:
        hasChildElements = true;
        addProp(obj, k.nodeName, elementValue(k));
        break;
      case 3:
        if ((k.nodeValue ?? '').trim().length > 0) texts.push(k.nodeValue ?? '');
        break;
      case 4:
        addProp(obj, '#cdata-section', k.nodeValue ?? '');
        hasChildElements = true;
        break;
      case 8:
        addProp(obj, '#comment', k.nodeValue ?? '');
        hasChildElements = true;
        break;
      case 7:
        addProp(obj, '?' + k.nodeName, k.nodeValue ?? '');
        hasChildElements = true;
        break;
    }
  }
  if (!hasAttrs && !hasChildElements) {
    if (texts.length === 0) return null;
    return texts.join('');
  }
  if (texts.length === 1) setKey(obj, '#text', texts[0]);
  else if (texts.length > 1) setKey(obj, '#text', texts);
  return obj;
}

/** Converts an XML document to JSON (Json.NET SerializeXmlNode). */
export function xmlToJson(doc: XNode): JsonObject {
  const out: JsonObject = {};
  const kids = doc.childNodes;
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i] as XNode;
    if (k.nodeType === 7 && k.nodeName === 'xml') setKey(out, '?xml', declarationObject(k.nodeValue ?? k.data ?? ''));
    else if (k.nodeType === 7) addProp(out, '?' + k.nodeName, k.nodeValue ?? '');
    else if (k.nodeType === 1) addProp(out, k.nodeName, elementValue(k));
    else if (k.nodeType === 8) addProp(out, '#comment', k.nodeValue ?? '');
  }
  return out;
}

// ----- xpath -----------------------------------------------------------------------------------

const serializer = new XMLSerializer();
installXmlPerformanceFixes();

/** Evaluates an XPath 1.0 expression: node-sets → arrays (elements as XML values, other nodes as their text), scalars as they are. */
export function evaluateXPath(site: CallSite, xmlText: string, expr: string): unknown {
  const doc = parseXml(site, xmlText);
  let result: unknown;
  try {
    result = xpathLib.select(expr, doc as unknown as Node);
  } catch (e) {
    return fail(site, `the XPath expression '${expr}' is not valid: ${(e as Error).message}`);
  }
  if (Array.isArray(result)) {
    return result.map((n: XNode) => {
      if (n.nodeType === 1 || n.nodeType === 9)
        return xmlEnvelope(
          serializer.serializeToString(n as unknown as Parameters<XMLSerializer['serializeToString']>[0]),
        );
      return n.nodeValue ?? '';
    });
  }
  if (typeof result === 'number') {
    if (!Number.isFinite(result))
      fail(
        site,
        `the XPath expression '${expr}' evaluates to ${Number.isNaN(result) ? 'NaN' : result > 0 ? 'Infinity' : '-Infinity'}, which is not a finite number`,
        ExpressionErrorCode.Overflow,
      );
    return result;
  }
  return result ?? null;
}
