/**
 * XML handling for solution packages.
 *
 * - Safety (design §6): a document with `<!DOCTYPE`, `<!ENTITY` or any other markup declaration is
 *   refused before anything parses it, so no DTD is read and no entity is ever expanded; only the
 *   five predefined entities and character references are decoded. Size and element depth are capped.
 * - Well-formedness is checked with fast-xml-parser's validator (errors carry line and column);
 *   values are read with fast-xml-parser (`processEntities: false`, our own decoder for the
 *   predefined entities).
 * - Lossless writing: {@link scanXml} records where every element starts and ends, so a writer can
 *   replace one region (e.g. `<Workflows>` in customizations.xml) and keep every other byte.
 *   {@link XmlElement} keeps an element's start tag and each child's text as found, so unchanged
 *   components are re-emitted as they were and changed fields are patched in place.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { SolutionLimits } from './limits.js';
import { fileError, lineColumn } from './text.js';

/** One node found by {@link scanXml}; offsets index the scanned text. */
export interface XNode {
  type: 'element' | 'text' | 'comment' | 'cdata' | 'pi';
  /** Element name (with prefix), '' for other nodes. */
  name: string;
  start: number;
  end: number;
  /** Offset just after the start tag's `>` (elements). */
  openEnd: number;
  selfClosing: boolean;
  children: XNode[];
}

/** A scanned XML document. */
export interface XmlDocument {
  text: string;
  root: XNode;
}

const ENTITY_RE = /&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#[xX]([0-9a-fA-F]+));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** A character XML 1.0 does not allow (§2.2 Char), lone surrogates included. */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** An entity or character reference starting at `lastIndex`. */
const REFERENCE_RE = /&(?:([A-Za-z_:][A-Za-z0-9_.:-]*)|#([0-9]+)|#[xX]([0-9a-fA-F]+));/y;

/** True for a code point XML 1.0 allows as a character (§2.2). */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** Decodes the five predefined XML entities and character references (nothing else). */
export function decodeXmlEntities(value: string): string {
  if (value.indexOf('&') < 0) return value;
  return value.replace(ENTITY_RE, (m, named: string | undefined, dec: string | undefined, hex: string | undefined) => {
    if (named) return NAMED[named] ?? m;
    const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
    return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

/** Escapes text content for XML. */
export function escapeXmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value for a double-quoted XML attribute. */
export function escapeXmlAttribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\r/g, '&#xD;')
    .replace(/\n/g, '&#xA;')
    .replace(/\t/g, '&#x9;');
}

/**
 * Scans `text` into a node tree with offsets. Refuses markup declarations (`<!DOCTYPE`,
 * `<!ENTITY`, …) with XML_DOCTYPE_FORBIDDEN, and documents deeper than `maxXmlDepth` with
 * XML_TOO_DEEP; structural errors, characters XML does not allow, and references other than the
 * five predefined entities and character references of XML characters (`&nbsp;`, `&#0;`, a bare
 * `&`) give XML_INVALID. All errors name `file`, line and column.
 */
export function scanXml(
  text: string,
  file: string,
  limits: Pick<SolutionLimits, 'maxXmlDepth' | 'maxXmlBytes'>,
): XmlDocument {
  if (text.length > limits.maxXmlBytes) {
    throw fileError(
      'XML_TOO_LARGE',
      file,
      `XML document has ${text.length} characters, more than the limit of ${limits.maxXmlBytes}`,
      {
        size: text.length,
        limit: limits.maxXmlBytes,
      },
    );
  }
  const bad = (code: string, at: number, message: string): never => {
    const { line, column } = lineColumn(text, at);
    throw fileError(code, file, `${message} (line ${line}, column ${column})`, { line, column });
  };
  const badChar = NOT_XML_CHAR.exec(text);
  if (badChar) {
    const code = badChar[0].codePointAt(0) ?? 0;
    bad(
      'XML_INVALID',
      badChar.index,
      `character U+${code.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`,
    );
  }
  /** Every `&` in text[from, to) must start a predefined entity or a character reference of an XML character. */
  // Ranges are checked in document order, so the next '&' is searched for once, not per range.
  let nextAmp = text.indexOf('&');
  const checkReferences = (from: number, to: number): void => {
    if (nextAmp < 0 || nextAmp >= to) return;
    if (nextAmp < from) nextAmp = text.indexOf('&', from);
    let amp = nextAmp;
    while (amp >= 0 && amp < to) {
      REFERENCE_RE.lastIndex = amp;
      const m = REFERENCE_RE.exec(text);
      if (!m || m.index + m[0].length > to) {
        bad('XML_INVALID', amp, "'&' does not start an entity or character reference (write &amp;)");
        return;
      }
      const [ref, name, dec, hex] = m;
      if (name !== undefined) {
        if (!Object.hasOwn(NAMED, name))
          bad(
            'XML_INVALID',
            amp,
            `undefined entity ${ref} (only &lt; &gt; &amp; &quot; &apos; and character references are defined; no DTD is read)`,
          );
      } else {
        const code = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
        if (!isXmlChar(code)) bad('XML_INVALID', amp, `character reference ${ref} is not an XML character`);
      }
      amp = text.indexOf('&', amp + ref.length);
    }
    nextAmp = amp;
  };
  const n = text.length;
  const stack: XNode[] = [];
  let root: XNode | undefined;
  let i = 0;
  const add = (node: XNode): void => {
    const top = stack[stack.length - 1];
    if (top) top.children.push(node);
  };
  while (i < n) {
    const lt = text.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      if (stack.length > 0) {
        checkReferences(i, textEnd);
        add({ type: 'text', name: '', start: i, end: textEnd, openEnd: textEnd, selfClosing: false, children: [] });
      } else if (text.slice(i, textEnd).trim() !== '') bad('XML_INVALID', i, 'text outside the root element');
    }
    if (lt < 0) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) bad('XML_INVALID', lt, 'comment is not closed');
      add({ type: 'comment', name: '', start: lt, end: end + 3, openEnd: end + 3, selfClosing: false, children: [] });
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end < 0) bad('XML_INVALID', lt, 'CDATA section is not closed');
      if (stack.length === 0) bad('XML_INVALID', lt, 'CDATA outside the root element');
      add({ type: 'cdata', name: '', start: lt, end: end + 3, openEnd: end + 3, selfClosing: false, children: [] });
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', lt)) {
      bad(
        'XML_DOCTYPE_FORBIDDEN',
        lt,
        'document type and entity declarations are not accepted (no DTD, no entity expansion)',
      );
    }
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) bad('XML_INVALID', lt, 'processing instruction is not closed');
      add({ type: 'pi', name: '', start: lt, end: end + 2, openEnd: end + 2, selfClosing: false, children: [] });
      i = end + 2;
      continue;
    }
    if (text.startsWith('</', lt)) {
      const gt = text.indexOf('>', lt);
      if (gt < 0) bad('XML_INVALID', lt, 'end tag is not closed');
      const name = text.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (!open) return bad('XML_INVALID', lt, `end tag </${name}> without a start tag`);
      if (open.name !== name) bad('XML_INVALID', lt, `end tag </${name}> does not match <${open.name}>`);
      open.end = gt + 1;
      i = gt + 1;
      continue;
    }
    // Start tag: find its end, skipping quoted attribute values.
    let j = lt + 1;
    let quote = 0;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (quote !== 0) {
        if (c === quote) quote = 0;
      } else if (c === 34 || c === 39) quote = c;
      else if (c === 62) break;
      else if (c === 60) bad('XML_INVALID', j, "'<' inside a tag");
      j++;
    }
    if (j >= n) bad('XML_INVALID', lt, 'start tag is not closed');
    checkReferences(lt, j);
    const nameMatch = /^[^\s/>]+/.exec(text.slice(lt + 1, Math.min(j, lt + 256)));
    if (!nameMatch) return bad('XML_INVALID', lt, 'element without a name');
    const selfClosing = text.charCodeAt(j - 1) === 47;
    const node: XNode = {
      type: 'element',
      name: nameMatch[0],
      start: lt,
      end: j + 1,
      openEnd: j + 1,
      selfClosing,
      children: [],
    };
    if (stack.length === 0) {
      if (root) bad('XML_INVALID', lt, 'more than one root element');
      root = node;
    } else add(node);
    if (!selfClosing) {
      stack.push(node);
      if (stack.length > limits.maxXmlDepth)
        bad('XML_TOO_DEEP', lt, `elements nested deeper than ${limits.maxXmlDepth}`);
    }
    i = j + 1;
  }
  const open = stack[stack.length - 1];
  if (open) bad('XML_INVALID', open.start, `element <${open.name}> is not closed`);
  if (!root) return bad('XML_INVALID', 0, 'no root element');
  return { text, root };
}

/**
 * Scans and validates a whole XML document (see {@link scanXml}); the validator's errors
 * (bad attribute syntax, invalid names, …) are reported as XML_INVALID with line and column.
 */
export function parseXmlDocument(
  text: string,
  file: string,
  limits: Pick<SolutionLimits, 'maxXmlDepth' | 'maxXmlBytes'>,
): XmlDocument {
  const doc = scanXml(text, file, limits);
  const result = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (result !== true) {
    const { line, col, msg } = result.err;
    throw fileError('XML_INVALID', file, `${msg} (line ${line}, column ${col})`, { line, column: col });
  }
  return doc;
}

const ARRAY_TAGS = new Set([
  'LocalizedName',
  'Description',
  'RootComponent',
  'MissingDependency',
  'label',
  'Workflow',
  'connectionreference',
  'Connector',
  'Address',
]);

const objectParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: '#cdata',
  textNodeName: '#text',
  tagValueProcessor: (_name, value) => decodeXmlEntities(value),
  attributeValueProcessor: (_name, value) => decodeXmlEntities(value),
  isArray: (name) => ARRAY_TAGS.has(name),
});

/** A value read by {@link xmlToObject}: a string (leaf), or an object with `@` attributes and children. */
export type XmlValue = string | XmlObject | XmlValue[];
/** An element read by {@link xmlToObject}. */
export interface XmlObject {
  '@'?: Record<string, string>;
  '#text'?: string;
  [child: string]: XmlValue | Record<string, string> | undefined;
}

/** Reads already-validated XML text (a document or one element) into plain objects. */
export function xmlToObject(text: string): XmlObject {
  return objectParser.parse(text) as XmlObject;
}

/** The text of an element value read by {@link xmlToObject} ('' for an empty element). */
export function textOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return textOf(value[0]);
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const t = o['#text'];
    const c = o['#cdata'];
    const parts = [typeof t === 'string' ? t : '', typeof c === 'string' ? c : Array.isArray(c) ? c.join('') : ''];
    return parts.join('');
  }
  return String(value);
}

/** The attributes of an element value read by {@link xmlToObject}. */
export function attrsOf(value: unknown): Record<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const a = (value as XmlObject)['@'];
    if (a) return a;
  }
  return {};
}

/** An element value as an array (absent → []). */
export function listOf(value: unknown): unknown[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}

// ---------------------------------------------------------------------------------------------
// Preserved elements

/** One child of a preserved element, kept as text. */
export interface XmlChild {
  /** Element name, or `#comment`, `#cdata`, `#pi`, `#text`. */
  name: string;
  /** The child's XML as found, with LF newlines; when `reindent`, later lines are relative to the child's own column. */
  raw: string;
  /** True when the child's line breaks are all formatting (between tags), so it can move to another column. */
  reindent: boolean;
}

/**
 * An element kept as found, for lossless re-emission: its start tag (reused while the attributes
 * are unchanged), attributes and each child's text. Patch with {@link setAttribute} and
 * {@link setChildText}; emit with {@link renderElement}.
 */
export interface XmlElement {
  name: string;
  /** The start tag as found; '' after an attribute changed (then rebuilt from `attributes`). */
  startTag: string;
  attributes: Array<[string, string]>;
  selfClosing: boolean;
  children: XmlChild[];
  /** Indentation of children relative to the element, in spaces. */
  childIndent: number;
}

function columnOf(text: string, offset: number): number {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const prefix = text.slice(lineStart, offset);
  return /^[ \t]*$/.test(prefix) ? prefix.length : -1;
}

function canReindent(raw: string): boolean {
  return !/[^>\s][ \t]*\n|\n[ \t]*[^<\s]/.test(raw);
}

function dedent(raw: string, column: number): string {
  if (column <= 0) return raw;
  const re = new RegExp(`\\n {0,${column}}`, 'g');
  return raw.replace(re, '\n');
}

/** Attributes of a start tag, decoded, in document order. */
export function parseStartTagAttributes(startTag: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const inner = startTag.replace(/^<[^\s/>]+/, '').replace(/\/?>$/, '');
  const re = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(inner)) !== null) out.push([m[1] ?? '', decodeXmlEntities(m[2] ?? m[3] ?? '')]);
  return out;
}

/** Builds an {@link XmlElement} from a scanned element node. */
export function elementFromNode(text: string, node: XNode): XmlElement {
  const column = columnOf(text, node.start);
  const children: XmlChild[] = [];
  let childIndent = -1;
  for (const c of node.children) {
    if (c.type === 'text' && text.slice(c.start, c.end).trim() === '') continue;
    const raw = text.slice(c.start, c.end).replace(/\r\n/g, '\n');
    const col = columnOf(text, c.start);
    const reindent = col >= 0 && canReindent(raw);
    if (childIndent < 0 && col >= 0 && column >= 0) childIndent = col - column;
    const name = c.type === 'element' ? c.name : `#${c.type}`;
    children.push({ name, raw: reindent ? dedent(raw, col) : raw, reindent });
  }
  const startTag = text.slice(node.start, node.openEnd);
  return {
    name: node.name,
    startTag,
    attributes: parseStartTagAttributes(startTag),
    selfClosing: node.selfClosing,
    children,
    childIndent: childIndent > 0 ? childIndent : 2,
  };
}

/** A new, empty element. */
export function newElement(name: string, attributes: Array<[string, string]> = []): XmlElement {
  return { name, startTag: '', attributes, selfClosing: true, children: [], childIndent: 2 };
}

/** The value of an attribute (undefined when absent). */
export function getAttribute(el: XmlElement, name: string): string | undefined {
  return el.attributes.find(([k]) => k === name)?.[1];
}

/** Sets (or with `undefined` removes) an attribute; the start tag is rebuilt only if something changed. */
export function setAttribute(el: XmlElement, name: string, value: string | undefined): void {
  const i = el.attributes.findIndex(([k]) => k === name);
  if (value === undefined) {
    if (i >= 0) {
      el.attributes.splice(i, 1);
      el.startTag = '';
    }
    return;
  }
  if (i >= 0) {
    if (el.attributes[i]?.[1] === value) return;
    el.attributes[i] = [name, value];
  } else el.attributes.push([name, value]);
  el.startTag = '';
}

/** Removes an attribute from the start tag text as well (used for `xmlns:xsi` of standalone files). */
export function dropAttributeText(el: XmlElement, name: string): void {
  const i = el.attributes.findIndex(([k]) => k === name);
  if (i < 0) return;
  el.attributes.splice(i, 1);
  if (el.startTag) {
    const re = new RegExp(`\\s+${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=\\s*(?:"[^"]*"|'[^']*')`);
    el.startTag = el.startTag.replace(re, '');
  }
}

/** Adds an attribute at the end of the start tag text (used for `xmlns:xsi` of standalone files). */
export function appendAttributeText(el: XmlElement, name: string, value: string): XmlElement {
  const copy = cloneElement(el);
  copy.attributes.push([name, value]);
  if (copy.startTag)
    copy.startTag = copy.startTag.replace(
      /\s*(\/?)>$/,
      (_m, slash: string) => ` ${name}="${escapeXmlAttribute(value)}"${slash ? ' /' : ''}>`,
    );
  return copy;
}

/** A deep copy of an element. */
export function cloneElement(el: XmlElement): XmlElement {
  return { ...el, attributes: el.attributes.map(([k, v]) => [k, v]), children: el.children.map((c) => ({ ...c })) };
}

/** Decoded text of a leaf child element (undefined when absent, or when the child has child elements). */
export function childText(el: XmlElement, name: string): string | undefined {
  const child = el.children.find((c) => c.name === name);
  return child ? leafText(child.raw) : undefined;
}

/** Decoded text content of a leaf element's XML (`<a x="1">text</a>` → `text`). */
export function leafText(raw: string): string | undefined {
  let q = 0;
  let j = 1;
  for (; j < raw.length; j++) {
    const c = raw.charCodeAt(j);
    if (q !== 0) {
      if (c === q) q = 0;
    } else if (c === 34 || c === 39) q = c;
    else if (c === 62) break;
  }
  if (raw.charCodeAt(j - 1) === 47) return '';
  const close = raw.lastIndexOf('</');
  if (close < j) return undefined;
  const inner = raw.slice(j + 1, close);
  if (inner.indexOf('<') < 0) return decodeXmlEntities(inner);
  // CDATA sections are kept literally; any element inside means it is not a leaf.
  let out = '';
  let k = 0;
  while (k < inner.length) {
    const lt = inner.indexOf('<', k);
    if (lt < 0) {
      out += decodeXmlEntities(inner.slice(k));
      break;
    }
    out += decodeXmlEntities(inner.slice(k, lt));
    if (inner.startsWith('<![CDATA[', lt)) {
      const end = inner.indexOf(']]>', lt);
      if (end < 0) return undefined;
      out += inner.slice(lt + 9, end);
      k = end + 3;
    } else if (inner.startsWith('<!--', lt)) {
      const end = inner.indexOf('-->', lt);
      if (end < 0) return undefined;
      k = end + 3;
    } else return undefined;
  }
  return out;
}

/**
 * Sets the text of a leaf child (creating it at the position `order` gives, or at the end), or
 * removes it with `undefined`. A child whose decoded text already equals `value` is left as found.
 */
export function setChildText(
  el: XmlElement,
  name: string,
  value: string | undefined,
  order: readonly string[] = [],
): void {
  const i = el.children.findIndex((c) => c.name === name);
  if (value === undefined) {
    if (i >= 0) el.children.splice(i, 1);
    if (el.children.length === 0 && el.startTag === '') el.selfClosing = true;
    return;
  }
  if (i >= 0 && leafText(el.children[i]?.raw ?? '') === value) return;
  setChildRaw(el, name, value === '' ? `<${name} />` : `<${name}>${escapeXmlText(value)}</${name}>`, order);
}

/** Sets a child's XML text (replacing the first child of that name, or inserting by `order`). */
export function setChildRaw(el: XmlElement, name: string, raw: string, order: readonly string[] = []): void {
  const child: XmlChild = { name, raw: raw.replace(/\r\n/g, '\n'), reindent: canReindent(raw) };
  const i = el.children.findIndex((c) => c.name === name);
  if (i >= 0) {
    el.children[i] = child;
    return;
  }
  if (el.selfClosing) {
    el.selfClosing = false;
    el.startTag = '';
  }
  const rank = order.indexOf(name);
  if (rank >= 0) {
    // Insert after the last existing child that comes before `name` in `order`.
    let at = -1;
    el.children.forEach((c, k) => {
      const r = order.indexOf(c.name);
      if (r >= 0 && r < rank) at = k;
    });
    if (at < 0) {
      const firstAfter = el.children.findIndex((c) => {
        const r = order.indexOf(c.name);
        return r > rank;
      });
      at = firstAfter >= 0 ? firstAfter - 1 : el.children.length - 1;
    }
    el.children.splice(at + 1, 0, child);
  } else el.children.push(child);
}

function buildStartTag(el: XmlElement, selfClose: boolean): string {
  const attrs = el.attributes.map(([k, v]) => ` ${k}="${escapeXmlAttribute(v)}"`).join('');
  return `<${el.name}${attrs}${selfClose ? ' />' : '>'}`;
}

/**
 * Emits an element whose start tag sits at `column`, with `newline` between lines. Unchanged
 * start tags and children are emitted as found.
 */
export function renderElement(el: XmlElement, column: number, newline: string): string {
  const empty = el.children.length === 0;
  const rawSelfClosing = el.startTag.endsWith('/>');
  let start = el.startTag;
  if (!start || (empty && el.selfClosing) !== rawSelfClosing) start = buildStartTag(el, empty && el.selfClosing);
  if (empty) return el.selfClosing ? start : `${start}</${el.name}>`;
  const childColumn = column + el.childIndent;
  const pad = ' '.repeat(childColumn);
  let out = start;
  for (const c of el.children) {
    const body = c.reindent ? c.raw.replace(/\n/g, '\n' + pad) : c.raw;
    out += newline + pad + body.replace(/\n/g, newline);
  }
  return out + newline + ' '.repeat(column) + `</${el.name}>`;
}

/** Column of a scanned node in its text (-1 when other text precedes it on its line). */
export function nodeColumn(text: string, node: XNode): number {
  return columnOf(text, node.start);
}

/** The first child element of `node` with `name`. */
export function findChild(node: XNode, name: string): XNode | undefined {
  return node.children.find((c) => c.type === 'element' && c.name === name);
}

/** The child elements of `node` (optionally only those named `name`). */
export function childElements(node: XNode, name?: string): XNode[] {
  return node.children.filter((c) => c.type === 'element' && (name === undefined || c.name === name));
}
