/**
 * Performance fixes for the XML libraries: linear-time node sets for the `xpath` package
 * (XPath 1.0 over @xmldom/xmldom), and a cache for the regular expressions @xmldom/xmldom builds
 * while parsing.
 *
 * The package keeps node sets in an array with a linear duplicate check per added node and
 * sorts them into document order with an AVL tree whose comparisons call xmldom's
 * `compareDocumentPosition`, which scans the children of the common ancestor: `//a` over a
 * document with N sibling elements took O(N² log N) (2.5 s for N = 2,000, 54 s for 10,000).
 * Its `preceding` axis also builds its result with `Array.unshift` (O(N²)).
 *
 * This module replaces exactly those parts, with the same results:
 * - `XNodeSet.add`/`addArray`: duplicate check with a `Set` (identity, as before);
 * - `XNodeSet.toArray`/`first`: document order from a pre-order index of the document, built
 *   once per document (one walk) and kept in a `WeakMap`, so sorting is O(N log N);
 * - the `preceding` axis: one walk, ancestors excluded (XPath 1.0 §2.2), reverse document order;
 * - comparisons of two node-sets (`//a = //b`, `//a < //b`), which the package did pair by pair
 *   (O(N·M) string values): string values are computed once per node and compared through a set
 *   (`=`, `!=`) or the minimum / maximum numbers (`<`, `<=`, `>`, `>=`), with XPath 1.0 §3.4 results.
 *
 * @xmldom/xmldom 0.9 compiles a new Unicode regular expression (`grammar.reg`) for every end tag
 * it reads; the expressions depend only on constant grammar parts, so {@link installXmlPerformanceFixes}
 * memoises them (parsing `<a>1</a>` × 50,000 went from 2.2 s to 1.0 s).
 *
 * Installed once by xml.ts (both packages are used only by @patchbay/expression). The pinned
 * versions (xpath 0.0.34, @xmldom/xmldom 0.9.12) are the ones these internals were read from;
 * test/qa-regressions.test.ts checks document order and results on large documents.
 * Document order of attribute and namespace nodes: after their element, before its children;
 * namespace nodes before attributes (XPath 1.0 §5: the order among them is implementation-defined).
 */
import xpathLib from 'xpath';
import xmldomGrammar from '@xmldom/xmldom/lib/grammar.js';

interface DomNode {
  nodeType: number;
  parentNode?: DomNode | null;
  ownerElement?: DomNode | null;
  ownerDocument?: DomNode | null;
  firstChild?: DomNode | null;
  nextSibling?: DomNode | null;
  attributes?: { length: number; [i: number]: DomNode | undefined } | null;
  isXPathNamespace?: boolean;
  nodeValue?: string | null;
  baseNode?: DomNode;
}

interface NodeSet {
  nodes: DomNode[];
  size: number;
  tree: unknown;
  _set?: Set<DomNode>;
  _sorted?: DomNode[];
}

interface StepLike {
  axis: number;
  nodeTest: { matches(node: DomNode, xpc: unknown): boolean };
}

interface Internals {
  XNodeSet: new () => unknown;
  XBoolean: new (b: boolean) => unknown;
  XNumber: new (s: string) => { numberValue(): number };
  PathExpr: {
    applyStep: (step: StepLike, xpc: { contextNode: DomNode; virtualRoot?: DomNode }, node: DomNode) => DomNode[];
  };
  Step: { PRECEDING: number };
}

const lib = xpathLib as unknown as Internals;

const ATTRIBUTE = 2;
const DOCUMENT = 9;
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
/** Sub-positions of a node's attribute/namespace nodes below the next pre-order index. */
const SUB = 2 ** 21;

const indexes = new WeakMap<DomNode, Map<DomNode, number>>();

function rootOf(n: DomNode): DomNode {
  if (n.nodeType === DOCUMENT) return n;
  if (n.ownerDocument) return n.ownerDocument;
  let cur = n;
  while (cur.parentNode) cur = cur.parentNode;
  return cur;
}

/** Pre-order positions of every node of the tree under `root` (one iterative walk). */
function indexOf(root: DomNode): Map<DomNode, number> {
  let map = indexes.get(root);
  if (map) return map;
  map = new Map();
  let i = 0;
  const stack: Array<DomNode | null | undefined> = [root];
  while (stack.length > 0) {
    for (let m = stack.pop(); m;) {
      map.set(m, i++);
      if (m.firstChild) {
        stack.push(m.nextSibling);
        m = m.firstChild;
      } else m = m.nextSibling;
    }
  }
  indexes.set(root, map);
  return map;
}

/** A number that orders nodes of one document in document order. */
function orderKey(n: DomNode, map: Map<DomNode, number>): number {
  const owner = n.nodeType === ATTRIBUTE || n.isXPathNamespace ? n.ownerElement : undefined;
  if (!owner) return (map.get(n) ?? 0) * SUB;
  const base = (map.get(owner) ?? 0) * SUB;
  if (n.isXPathNamespace) return base + (n.nodeValue === XML_NS ? 1 : 2);
  const attrs = owner.attributes;
  const target = n.baseNode ?? n;
  if (attrs) for (let k = 0; k < attrs.length; k++) if (attrs[k] === target) return base + 3 + k;
  return base + 3;
}

function sortedNodes(set: NodeSet): DomNode[] {
  if (set._sorted) return set._sorted;
  const nodes = set.nodes;
  let sorted: DomNode[];
  if (nodes.length <= 1) sorted = nodes.slice();
  else {
    const map = indexOf(rootOf(nodes[0] as DomNode));
    const keyed = nodes.map((n, i) => ({ n, k: orderKey(n, map), i }));
    keyed.sort((a, b) => a.k - b.k || a.i - b.i);
    sorted = keyed.map((x) => x.n);
  }
  set._sorted = sorted;
  return sorted;
}

let installed = false;

/** Installs the linear-time node-set operations and the parser's regular-expression cache (idempotent). */
export function installXmlPerformanceFixes(): void {
  if (installed) return;
  installed = true;
  installRegexCache();
  const proto = lib.XNodeSet.prototype as Record<string, unknown>;
  proto['add'] = function (this: NodeSet, n: DomNode): void {
    let set = this._set;
    if (!set) set = this._set = new Set(this.nodes);
    if (set.has(n)) return;
    set.add(n);
    this.nodes.push(n);
    this.size += 1;
    this.tree = null;
    this._sorted = undefined;
  };
  proto['addArray'] = function (this: NodeSet & { add(n: DomNode): void }, ns: DomNode[]): void {
    for (let i = 0; i < ns.length; i++) this.add(ns[i] as DomNode);
  };
  proto['toArray'] = function (this: NodeSet): DomNode[] {
    return sortedNodes(this).slice();
  };
  proto['first'] = function (this: NodeSet): DomNode | null {
    const nodes = this.nodes;
    if (nodes.length === 0) return null;
    if (nodes.length === 1) return nodes[0] as DomNode;
    return sortedNodes(this)[0] ?? null;
  };

  installNodeSetComparisons(proto);

  const applyStep = lib.PathExpr.applyStep;
  const PRECEDING = lib.Step.PRECEDING;
  lib.PathExpr.applyStep = function (step, xpc, node) {
    if (step.axis !== PRECEDING || !node) return applyStep.call(this, step, xpc, node);
    xpc.contextNode = node;
    const ref = node.nodeType === ATTRIBUTE || node.isXPathNamespace ? (node.ownerElement ?? node) : node;
    const ancestors = new Set<DomNode>();
    for (let a = ref.parentNode; a; a = a.parentNode) ancestors.add(a);
    const out: DomNode[] = [];
    const stack: Array<DomNode | null | undefined> = [xpc.virtualRoot ?? rootOf(ref)];
    outer: while (stack.length > 0) {
      for (let m = stack.pop(); m;) {
        if (m === ref) break outer;
        if (!ancestors.has(m) && step.nodeTest.matches(m, xpc)) out.push(m);
        if (m.firstChild) {
          stack.push(m.nextSibling);
          m = m.firstChild;
        } else m = m.nextSibling;
      }
    }
    return out.reverse();
  };
}

type Op = 'equals' | 'notequal' | 'lessthan' | 'lessthanorequal' | 'greaterthan' | 'greaterthanorequal';

/** Smallest and largest XPath number of the strings, ignoring NaN (NaN, NaN when none). */
function range(xs: string[]): [number, number] {
  let min = NaN;
  let max = NaN;
  for (const x of xs) {
    const n = new lib.XNumber(x).numberValue();
    if (Number.isNaN(n)) continue;
    if (!(n >= min)) min = n;
    if (!(n <= max)) max = n;
  }
  return [min, max];
}

function compareSets(op: Op, left: string[], right: string[]): boolean {
  if (left.length === 0 || right.length === 0) return false;
  if (op === 'equals') {
    const set = new Set(left);
    return right.some((r) => set.has(r));
  }
  if (op === 'notequal') {
    const first = left[0] as string;
    return left.some((l) => l !== first) || right.some((r) => r !== first);
  }
  const [lMin, lMax] = range(left);
  const [rMin, rMax] = range(right);
  if (Number.isNaN(lMin) || Number.isNaN(rMin)) return false;
  switch (op) {
    case 'lessthan':
      return lMin < rMax;
    case 'lessthanorequal':
      return lMin <= rMax;
    case 'greaterthan':
      return lMax > rMin;
    default:
      return lMax >= rMin;
  }
}

function installNodeSetComparisons(proto: Record<string, unknown>): void {
  const ops: Op[] = ['equals', 'notequal', 'lessthan', 'lessthanorequal', 'greaterthan', 'greaterthanorequal'];
  for (const op of ops) {
    const original = proto[op] as (this: unknown, r: unknown) => unknown;
    proto[op] = function (this: NodeSet & { stringForNode(n: DomNode): string }, r: unknown): unknown {
      if (!(r instanceof lib.XNodeSet)) return original.call(this, r);
      const other = r as unknown as NodeSet & { stringForNode(n: DomNode): string };
      const left = this.nodes.map((n) => this.stringForNode(n));
      const right = other.nodes.map((n) => other.stringForNode(n));
      return new lib.XBoolean(compareSets(op, left, right));
    };
  }
}

/** Memoises @xmldom/xmldom's `grammar.reg(...parts)` (a pure function of constant parts). */
function installRegexCache(): void {
  const grammar = xmldomGrammar as unknown as { reg: (...parts: Array<string | RegExp>) => RegExp };
  const original = grammar.reg;
  if (typeof original !== 'function') return;
  // a trie over the parts by identity: the grammar passes the same RegExp objects and short strings
  type Node = { next: Map<string | RegExp, Node>; re?: RegExp };
  const root: Node = { next: new Map() };
  let entries = 0;
  grammar.reg = function (this: unknown, ...parts: Array<string | RegExp>): RegExp {
    let node = root;
    for (const p of parts) {
      let child = node.next.get(p);
      if (!child) {
        if (entries > 1024) return original.apply(this, parts);
        child = { next: new Map() };
        node.next.set(p, child);
        entries++;
      }
      node = child;
    }
    return (node.re ??= original.apply(this, parts));
  };
}
