/**
 * A solution package ↔ the files of either layout (formats §1). Pure: takes and returns
 * `path → bytes` maps; zip and file-system code live in zip.ts and fs.ts.
 *
 * | part | zip | unpacked tree |
 * |---|---|---|
 * | manifest | `solution.xml` | `Other/Solution.xml` |
 * | customizations | `customizations.xml` | `Other/Customizations.xml` (`<Workflows />`, `<Connectors />`) |
 * | flow metadata | `<Workflows>` in customizations.xml | `Workflows/<file>.json.data.xml` |
 * | flow JSON | `Workflows/<Name>-<GUID>.json` | same |
 * | custom connector | `<Connectors>` in customizations.xml + `Connector/<name>_*` | `Connectors/<name>.xml` + `Connectors/<name>_*` |
 * | env var definitions | `environmentvariabledefinitions/<schema>/…` | same |
 * | content types | `[Content_Types].xml` | (none; generated when packing) |
 * | anything else | kept byte for byte at the same path in both layouts |
 */
import type {
  CustomConnectorComponent,
  FlowComponent,
  OtherWorkflow,
  PreservedFile,
  SolutionLayout,
  SolutionManifest,
  SolutionPackage,
  SolutionWarning,
} from './model.js';
import { resolveLimits, type SolutionLimits } from './limits.js';
import { analyzeFlowJson } from './flow.js';
import { parseJsonText, isObject } from './json.js';
import { decodeText, encodeText, fileError, newlineOf } from './text.js';
import {
  appendAttributeText,
  attrsOf,
  childElements,
  dropAttributeText,
  elementFromNode,
  findChild,
  listOf,
  nodeColumn,
  parseXmlDocument,
  renderElement,
  scanXml,
  textOf,
  xmlToObject,
  type XmlElement,
  type XNode,
} from './xml.js';
import {
  connectionReferenceElement,
  connectorElementAndParts,
  connectorPartBaseName,
  environmentVariableFiles,
  labelsFromObject,
  readConnectionReference,
  readConnectorElement,
  readEnvironmentVariable,
  readWorkflowMetadata,
  unsafePathReason,
  ignoredPathReason,
  ignoredPathGroup,
  workflowElement,
  XML_FILE_ENCODING,
  normalizeGuid,
} from './components.js';

/** Files of a package: package path (`/` separators, no leading `/`) → bytes, in package order. */
export type SolutionFiles = Map<string, Buffer>;

/** Options of {@link parseSolutionFiles}. */
export interface ParseSolutionOptions {
  layout: SolutionLayout;
  /** Name used in messages (file or folder name). */
  name: string;
  limits?: Partial<SolutionLimits>;
  /** How a package path is shown in errors; default `<name>/<path>` for folders, `<name>:<path>` for zips. */
  label?: (path: string) => string;
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

/** Finds a path case-insensitively among the package files. */
function makeLookup(files: SolutionFiles): (path: string) => string | undefined {
  const lower = new Map<string, string>();
  for (const p of files.keys()) if (!lower.has(p.toLowerCase())) lower.set(p.toLowerCase(), p);
  return (path) => (files.has(path) ? path : lower.get(path.toLowerCase()));
}

/** `files` without the paths that are not part of a solution; `report` is called once per ignored group (`.git/`, a file). */
function withoutIgnoredPaths(
  files: SolutionFiles,
  layout: SolutionLayout,
  report: (group: string, reason: string, count: number) => void,
): SolutionFiles {
  let out: SolutionFiles | undefined;
  const groups = new Map<string, { reason: string; count: number }>();
  for (const path of files.keys()) {
    const reason = ignoredPathReason(path, layout);
    if (!reason) continue;
    out ??= new Map(files);
    out.delete(path);
    const group = ignoredPathGroup(path);
    const g = groups.get(group);
    if (g) g.count++;
    else groups.set(group, { reason, count: 1 });
  }
  for (const [group, g] of groups) report(group, g.reason, g.count);
  return out ?? files;
}

/** Reads Solution.xml into the manifest. */
export function parseManifest(text: string, file: string, limits: SolutionLimits): SolutionManifest {
  parseXmlDocument(text, file, limits);
  const doc = xmlToObject(text);
  const root = doc['ImportExportXml'];
  const m = isObject(root) ? root['SolutionManifest'] : undefined;
  if (!isObject(m))
    throw fileError('SOLUTION_FIELD_INVALID', file, 'no <ImportExportXml><SolutionManifest>', {
      field: 'ImportExportXml/SolutionManifest',
    });
  const uniqueName = textOf(m['UniqueName'])?.trim();
  if (!uniqueName)
    throw fileError('SOLUTION_FIELD_INVALID', file, 'no <UniqueName>', { field: 'SolutionManifest/UniqueName' });
  const publisher = isObject(m['Publisher']) ? m['Publisher'] : {};
  const opt = (v: unknown): string | undefined => {
    if (isObject(v) && attrsOf(v)['xsi:nil'] === 'true') return undefined;
    const t = textOf(v)?.trim();
    return t ? t : undefined;
  };
  const rootComponents = listOf(isObject(m['RootComponents']) ? m['RootComponents']['RootComponent'] : undefined).map(
    (rc) => {
      const a = attrsOf(rc);
      const out: SolutionManifest['rootComponents'][number] = { type: Number(a['type'] ?? NaN) };
      if (a['id'] !== undefined) out.id = a['id'];
      if (a['schemaName'] !== undefined) out.schemaName = a['schemaName'];
      if (a['behavior'] !== undefined) out.behavior = Number(a['behavior']);
      return out;
    },
  );
  const missingDependencies = listOf(
    isObject(m['MissingDependencies']) ? m['MissingDependencies']['MissingDependency'] : undefined,
  ).map((md) => ({
    required: isObject(md) ? attrsOf(md['Required']) : {},
    dependent: isObject(md) ? attrsOf(md['Dependent']) : {},
  }));
  const manifest: SolutionManifest = {
    uniqueName,
    version: textOf(m['Version'])?.trim() ?? '',
    managed: Number(textOf(m['Managed'])?.trim() ?? '0'),
    localizedNames: labelsFromObject(m['LocalizedNames'], 'LocalizedName'),
    descriptions: labelsFromObject(m['Descriptions'], 'Description'),
    publisher: {
      uniqueName: textOf(publisher['UniqueName'])?.trim() ?? '',
      prefix: textOf(publisher['CustomizationPrefix'])?.trim() ?? '',
      localizedNames: labelsFromObject(publisher['LocalizedNames'], 'LocalizedName'),
    },
    rootComponents,
    missingDependencies,
  };
  const ovp = opt(publisher['CustomizationOptionValuePrefix']);
  if (ovp) manifest.publisher.optionValuePrefix = ovp;
  const email = opt(publisher['EMailAddress']);
  if (email) manifest.publisher.email = email;
  const site = opt(publisher['SupportingWebsiteUrl']);
  if (site) manifest.publisher.supportingWebsiteUrl = site;
  return manifest;
}

/**
 * Reads a package from its files. Everything present counts, whatever RootComponents lists.
 * Errors (PatchbayError, category `invalid`) name the file and the line, field or JSON path.
 */
export function parseSolutionFiles(allFiles: SolutionFiles, options: ParseSolutionOptions): SolutionPackage {
  const limits = resolveLimits(options.limits);
  const { layout, name } = options;
  const label = options.label ?? ((p: string) => (layout === 'zip' ? `${name}:${p}` : `${name}/${p}`));
  const warnings: SolutionWarning[] = [];
  const warn = (code: string, message: string, file?: string): void => {
    warnings.push(file === undefined ? { code, message } : { code, message, file });
  };
  const files = withoutIgnoredPaths(allFiles, layout, (group, reason, count) => {
    const what = count === 1 ? 'entry' : `${count} entries`;
    if (layout === 'zip')
      warn('ZIP_ENTRY_IGNORED', `${group} is not part of a solution (${reason}): ${what} skipped`, label(group));
    else if (reason.includes('root'))
      warn('FOLDER_FILE_IGNORED', `${group} is not part of the solution (${reason}); not read`, label(group));
  });
  const find = makeLookup(files);
  const claimed = new Set<string>();
  const need = (path: string): { path: string; data: Buffer } => {
    const actual = find(path);
    const data = actual === undefined ? undefined : files.get(actual);
    if (actual === undefined || data === undefined) {
      throw fileError(
        'SOLUTION_PART_MISSING',
        label(path),
        `the ${layout === 'zip' ? 'zip' : 'folder'} has no ${path}`,
        { part: path },
      );
    }
    claimed.add(actual);
    return { path: actual, data };
  };

  const solutionPath = layout === 'zip' ? 'solution.xml' : 'Other/Solution.xml';
  const customizationsPath = layout === 'zip' ? 'customizations.xml' : 'Other/Customizations.xml';
  const solutionFile = need(solutionPath);
  const solutionDecoded = decodeText(solutionFile.data, { file: label(solutionFile.path), code: 'XML_INVALID' });
  const manifest = parseManifest(solutionDecoded.text, label(solutionFile.path), limits);

  const customizationsFile = need(customizationsPath);
  const custDecoded = decodeText(customizationsFile.data, {
    file: label(customizationsFile.path),
    code: 'XML_INVALID',
  });
  const custLabel = label(customizationsFile.path);
  const custDoc = parseXmlDocument(custDecoded.text, custLabel, limits);
  const custRoot = custDoc.root;
  if (custRoot.name !== 'ImportExportXml') {
    throw fileError(
      'SOLUTION_FIELD_INVALID',
      custLabel,
      `root element is <${custRoot.name}>, expected <ImportExportXml>`,
      {
        field: 'ImportExportXml',
      },
    );
  }

  let contentTypesXml: Buffer | undefined;
  if (layout === 'zip') {
    const ct = find('[Content_Types].xml');
    if (ct !== undefined) {
      contentTypesXml = files.get(ct);
      claimed.add(ct);
    }
  }

  // Workflow metadata: customizations.xml <Workflows> (zip, or inline in a tree) and Workflows/*.data.xml (tree).
  const workflowElements: Array<{ el: XmlElement; file: string }> = [];
  const wfRegion = findChild(custRoot, 'Workflows');
  if (wfRegion)
    for (const n of childElements(wfRegion, 'Workflow'))
      workflowElements.push({ el: elementFromNode(custDecoded.text, n), file: custLabel });
  if (layout === 'folder') {
    const dataFiles = [...files.keys()].filter((p) => /^Workflows\/.+\.data\.xml$/i.test(p)).sort();
    for (const p of dataFiles) {
      const data = files.get(p) as Buffer;
      const decoded = decodeText(data, { file: label(p), code: 'XML_INVALID' });
      const doc = parseXmlDocument(decoded.text, label(p), limits);
      if (doc.root.name !== 'Workflow') continue;
      claimed.add(p);
      const el = elementFromNode(decoded.text, doc.root);
      dropAttributeText(el, 'xmlns:xsi');
      workflowElements.push({ el, file: label(p) });
    }
  }

  const flows: FlowComponent[] = [];
  const otherWorkflows: OtherWorkflow[] = [];
  const seenWorkflows = new Map<string, string>();
  for (const { el, file } of workflowElements) {
    const meta = readWorkflowMetadata(el, file);
    const previous = seenWorkflows.get(meta.workflowId);
    if (previous !== undefined) {
      throw fileError(
        'SOLUTION_DUPLICATE_COMPONENT',
        file,
        `workflow ${meta.workflowId} is defined twice (also in ${previous})`,
        {
          kind: 'workflow',
          key: meta.workflowId,
        },
      );
    }
    seenWorkflows.set(meta.workflowId, file);
    if (!meta.jsonFile || meta.fileName === undefined) {
      const other: OtherWorkflow = { workflowId: meta.workflowId, name: meta.name, element: el };
      if (meta.category !== undefined) other.category = meta.category;
      if (meta.fileName !== undefined) other.fileName = meta.fileName;
      otherWorkflows.push(other);
      continue;
    }
    const part = need(meta.fileName);
    const flowLabel = label(part.path);
    const decoded = decodeText(part.data, { file: flowLabel, code: 'JSON_INVALID' });
    const clientData = parseJsonText(decoded.text, { file: flowLabel, limits });
    const facts = analyzeFlowJson(clientData, flowLabel);
    const flow: FlowComponent = {
      workflowId: meta.workflowId,
      name: meta.name,
      fileName: part.path,
      category: meta.category ?? 5,
      type: meta.type ?? 1,
      stateCode: meta.stateCode ?? 0,
      statusCode: meta.statusCode ?? 0,
      onWhenExported: meta.stateCode === 1,
      localizedNames: meta.localizedNames,
      descriptions: meta.descriptions,
      clientData,
      clientDataText: decoded.text,
      clientDataEncoding: { encoding: decoded.encoding, bom: decoded.bom },
      ...facts,
      element: el,
    };
    if (meta.description !== undefined) flow.description = meta.description;
    flows.push(flow);
  }

  // Connection references (inline in customizations.xml in both layouts).
  const refs = [];
  const seenRefs = new Set<string>();
  const crRegion = findChild(custRoot, 'connectionreferences');
  if (crRegion) {
    for (const n of childElements(crRegion, 'connectionreference')) {
      const ref = readConnectionReference(elementFromNode(custDecoded.text, n), custLabel);
      const key = ref.logicalName.toLowerCase();
      if (seenRefs.has(key)) {
        throw fileError(
          'SOLUTION_DUPLICATE_COMPONENT',
          custLabel,
          `connection reference ${ref.logicalName} is defined twice`,
          {
            kind: 'connectionReference',
            key: ref.logicalName,
          },
        );
      }
      seenRefs.add(key);
      refs.push(ref);
    }
  }

  // Custom connectors.
  const connectorElements: Array<{ el: XmlElement; file: string }> = [];
  const connRegion = findChild(custRoot, 'Connectors');
  if (connRegion)
    for (const n of childElements(connRegion, 'Connector'))
      connectorElements.push({ el: elementFromNode(custDecoded.text, n), file: custLabel });
  if (layout === 'folder') {
    const xmlFiles = [...files.keys()].filter((p) => /^Connectors\/[^/]+\.xml$/i.test(p)).sort();
    for (const p of xmlFiles) {
      const decoded = decodeText(files.get(p) as Buffer, { file: label(p), code: 'XML_INVALID' });
      const doc = parseXmlDocument(decoded.text, label(p), limits);
      if (doc.root.name !== 'Connector') continue;
      claimed.add(p);
      const el = elementFromNode(decoded.text, doc.root);
      dropAttributeText(el, 'xmlns:xsi');
      connectorElements.push({ el, file: label(p) });
    }
  }
  const partFolder = layout === 'zip' ? 'Connector' : 'Connectors';
  const customConnectors: CustomConnectorComponent[] = [];
  const seenConnectors = new Set<string>();
  for (const { el, file } of connectorElements) {
    const c = readConnectorElement(el, {
      file,
      label,
      limits,
      warn,
      part: (ref) => {
        const base = connectorPartBaseName(ref);
        const actual = find(`${partFolder}/${base}`) ?? find(ref.replace(/^\//, ''));
        const data = actual === undefined ? undefined : files.get(actual);
        if (actual === undefined || data === undefined) return undefined;
        claimed.add(actual);
        return { path: actual, data };
      },
    });
    if (seenConnectors.has(c.name.toLowerCase())) {
      throw fileError('SOLUTION_DUPLICATE_COMPONENT', file, `custom connector ${c.name} is defined twice`, {
        kind: 'customConnector',
        key: c.name,
      });
    }
    seenConnectors.add(c.name.toLowerCase());
    customConnectors.push(c);
  }

  // Environment variable definitions.
  const environmentVariables = [];
  const defPaths = [...files.keys()].filter((p) =>
    /^environmentvariabledefinitions\/[^/]+\/environmentvariabledefinition\.xml$/i.test(p),
  );
  const seenVars = new Set<string>();
  for (const p of defPaths) {
    claimed.add(p);
    const valuesPath = find(p.replace(/[^/]+$/, 'environmentvariablevalues.json'));
    if (valuesPath !== undefined) claimed.add(valuesPath);
    const def = readEnvironmentVariable(
      { path: p, data: files.get(p) as Buffer },
      valuesPath === undefined ? undefined : { path: valuesPath, data: files.get(valuesPath) as Buffer },
      { label, limits },
    );
    if (seenVars.has(def.schemaName.toLowerCase())) {
      throw fileError(
        'SOLUTION_DUPLICATE_COMPONENT',
        label(p),
        `environment variable ${def.schemaName} is defined twice`,
        {
          kind: 'environmentVariable',
          key: def.schemaName,
        },
      );
    }
    seenVars.add(def.schemaName.toLowerCase());
    if (def.type === 'Unknown')
      warn(
        'ENV_VAR_TYPE_UNKNOWN',
        `environment variable ${def.schemaName} has the undocumented type code ${def.typeCode}`,
        label(p),
      );
    environmentVariables.push(def);
  }

  // Everything else is preserved.
  const preserved: PreservedFile[] = [];
  for (const [path, data] of files) {
    if (claimed.has(path)) continue;
    const problem = unsafePathReason(path);
    if (problem) throw fileError('SOLUTION_PATH_INVALID', label(path), `unsafe path: ${problem}`, { entry: path });
    if (/^Workflows\/[^/]+\.json$/i.test(path))
      warn('ORPHAN_FLOW_FILE', `${path} is not named by any <Workflow>; kept as a plain file`, label(path));
    preserved.push({ path, data });
  }

  for (const rc of manifest.rootComponents) {
    if (rc.type === 29 && rc.id && !seenWorkflows.has(normalizeGuid(rc.id) ?? rc.id)) {
      warn(
        'ROOT_COMPONENT_NOT_IN_PACKAGE',
        `RootComponents lists workflow ${rc.id}, which the package does not hold`,
        label(solutionFile.path),
      );
    }
  }

  return {
    name,
    layout,
    manifest,
    flows,
    otherWorkflows,
    connectionReferences: refs,
    environmentVariables,
    customConnectors,
    files: preserved,
    warnings,
    sources: {
      solutionXml: solutionDecoded.text,
      solutionXmlEncoding: { encoding: solutionDecoded.encoding, bom: solutionDecoded.bom },
      customizationsXml: custDecoded.text,
      customizationsXmlEncoding: { encoding: custDecoded.encoding, bom: custDecoded.bom },
      ...(contentTypesXml ? { contentTypesXml } : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Writing

function escapeForRegion(el: XmlElement, column: number, newline: string): string {
  return renderElement(el, column, newline);
}

/** Renders a region element (`<Workflows>`, …) holding `elements`, at `column`. */
function renderRegion(
  name: string,
  elements: XmlElement[],
  column: number,
  newline: string,
  emptyForm: string,
): string {
  if (elements.length === 0) return emptyForm;
  const pad = ' '.repeat(column + 2);
  let out = `<${name}>`;
  for (const el of elements) out += newline + pad + escapeForRegion(el, column + 2, newline);
  return out + newline + ' '.repeat(column) + `</${name}>`;
}

/** Patches `<Version>` and `<Managed>` of Solution.xml when the manifest changed them; everything else stays as found. */
function renderSolutionXml(pkg: SolutionPackage): string {
  const text = pkg.sources.solutionXml;
  const doc = scanXml(text, 'Solution.xml', resolveLimits());
  const manifest = findChild(doc.root, 'SolutionManifest');
  if (!manifest) return text;
  const edits: Array<{ start: number; end: number; value: string }> = [];
  const patch = (name: string, value: string): void => {
    const node = findChild(manifest, name);
    if (!node || node.selfClosing) return;
    const closeStart = text.lastIndexOf('</', node.end - 1);
    const current = text.slice(node.openEnd, closeStart);
    if (current.trim() !== value) edits.push({ start: node.openEnd, end: closeStart, value });
  };
  patch('Version', pkg.manifest.version);
  patch('Managed', String(pkg.manifest.managed));
  patch('UniqueName', pkg.manifest.uniqueName);
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.value + out.slice(e.end);
  return out;
}

interface RegionPlan {
  name: string;
  elements: XmlElement[];
  /** Keep an absent region absent when it has nothing to hold. */
  omitWhenEmpty: boolean;
}

/** Re-emits customizations.xml for `layout`: the Workflows, Connectors and connectionreferences regions are rebuilt, all else is kept. */
function renderCustomizations(pkg: SolutionPackage, layout: SolutionLayout): string {
  const text = pkg.sources.customizationsXml;
  const newline = newlineOf(text);
  const doc = scanXml(text, 'customizations.xml', resolveLimits());
  const root = doc.root;
  const zip = layout === 'zip';
  const workflowEls = [
    ...pkg.flows.map((f) => workflowElement({ ...f, fileName: f.fileName })),
    ...pkg.otherWorkflows.filter((w) => zip || w.fileName === undefined).map((w) => w.element),
  ];
  const plans: RegionPlan[] = [
    { name: 'Workflows', elements: zip ? workflowEls : workflowEls.slice(pkg.flows.length), omitWhenEmpty: false },
    {
      name: 'Connectors',
      elements: zip ? pkg.customConnectors.map((c) => connectorElementAndParts(c).element) : [],
      omitWhenEmpty: true,
    },
    {
      name: 'connectionreferences',
      elements: pkg.connectionReferences.map(connectionReferenceElement),
      omitWhenEmpty: true,
    },
  ];
  const edits: Array<{ start: number; end: number; value: string }> = [];
  const childColumn = ((): number => {
    const first = root.children.find((c) => c.type === 'element');
    const col = first ? nodeColumn(text, first) : -1;
    return col >= 0 ? col : 2;
  })();
  for (const plan of plans) {
    const node: XNode | undefined = findChild(root, plan.name);
    const column = node ? Math.max(nodeColumn(text, node), 0) : childColumn;
    const emptyForm = `<${plan.name} />`;
    if (node) {
      const originalEmpty = childElements(node).length === 0;
      const value =
        plan.elements.length === 0 && originalEmpty
          ? text.slice(node.start, node.end)
          : renderRegion(plan.name, plan.elements, column, newline, emptyForm);
      edits.push({ start: node.start, end: node.end, value });
    } else if (plan.elements.length > 0 || !plan.omitWhenEmpty) {
      const before = findChild(root, 'Languages');
      const value = renderRegion(plan.name, plan.elements, column, newline, emptyForm);
      if (before) edits.push({ start: before.start, end: before.start, value: value + newline + ' '.repeat(column) });
      else {
        const close = text.lastIndexOf('</', root.end - 1);
        edits.push({ start: close, end: close, value: ' '.repeat(column) + value + newline });
      }
    }
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.value + out.slice(e.end);
  return out;
}

function standaloneXml(el: XmlElement, newline: string): Buffer {
  const withNs = appendAttributeText(el, 'xmlns:xsi', XSI);
  return encodeText(
    `<?xml version="1.0" encoding="utf-8"?>${newline}${renderElement(withNs, 0, newline)}`,
    XML_FILE_ENCODING,
  );
}

/** `[Content_Types].xml` as Dataverse writes it: xml → text/xml by default, every other part octet-stream. */
export function contentTypesFor(paths: readonly string[]): Buffer {
  const exts: string[] = [];
  const overrides: string[] = [];
  for (const p of paths) {
    const base = p.slice(p.lastIndexOf('/') + 1);
    const dot = base.lastIndexOf('.');
    const ext = dot > 0 ? base.slice(dot + 1) : '';
    if (ext === '') {
      overrides.push(p);
      continue;
    }
    if (!exts.includes(ext)) exts.push(ext);
    if (ext.toLowerCase() === 'xml' && p !== 'customizations.xml' && p !== 'solution.xml') overrides.push(p);
  }
  const ordered = ['xml', ...exts.filter((e) => e !== 'xml')];
  const defaults = ordered
    .map((e) => `<Default Extension="${e}" ContentType="${e === 'xml' ? 'text/xml' : 'application/octet-stream'}" />`)
    .join('');
  const ov = overrides.map((p) => `<Override PartName="/${p}" ContentType="application/octet-stream" />`).join('');
  return encodeText(
    `<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">${defaults}${ov}</Types>`,
    XML_FILE_ENCODING,
  );
}

/**
 * The files of `pkg` in `layout`, in writing order. Refuses unsafe paths and two parts with the
 * same path (case-insensitively) with SOLUTION_PATH_INVALID / SOLUTION_PATH_CONFLICT.
 */
export function renderSolutionFiles(pkg: SolutionPackage, layout: SolutionLayout): SolutionFiles {
  const out: SolutionFiles = new Map();
  const lower = new Map<string, string>();
  const put = (path: string, data: Buffer): void => {
    const problem = unsafePathReason(path) ?? ignoredPathReason(path, layout);
    if (problem) throw fileError('SOLUTION_PATH_INVALID', path, `cannot write this path: ${problem}`, { entry: path });
    const key = path.toLowerCase();
    const previous = lower.get(key);
    if (previous !== undefined)
      throw fileError(
        'SOLUTION_PATH_CONFLICT',
        path,
        `two parts of the package would be written to the same path (${previous})`,
        { entry: path },
      );
    lower.set(key, path);
    out.set(path, data);
  };
  const zip = layout === 'zip';
  const newline = newlineOf(pkg.sources.customizationsXml);
  put(
    zip ? 'customizations.xml' : 'Other/Customizations.xml',
    encodeText(renderCustomizations(pkg, layout), pkg.sources.customizationsXmlEncoding),
  );
  put(zip ? 'solution.xml' : 'Other/Solution.xml', encodeText(renderSolutionXml(pkg), pkg.sources.solutionXmlEncoding));
  for (const f of pkg.flows) {
    put(f.fileName, encodeText(f.clientDataText, f.clientDataEncoding));
    if (!zip) put(`${f.fileName}.data.xml`, standaloneXml(workflowElement(f), newline));
  }
  if (!zip) {
    for (const w of pkg.otherWorkflows)
      if (w.fileName !== undefined) put(`${w.fileName}.data.xml`, standaloneXml(w.element, newline));
  }
  for (const c of pkg.customConnectors) {
    const { element, parts } = connectorElementAndParts(c);
    if (!zip) put(`Connectors/${c.name}.xml`, standaloneXml(element, newline));
    for (const p of parts) put(`${zip ? 'Connector' : 'Connectors'}/${connectorPartBaseName(p.ref)}`, p.data);
  }
  const envFiles: Array<[string, Buffer]> = [];
  for (const v of pkg.environmentVariables) {
    const files = environmentVariableFiles(v);
    envFiles.push([v.fileName, files.definition]);
    if (files.values) envFiles.push([files.valuesPath, files.values]);
  }
  for (const f of pkg.files) put(f.path, f.data);
  for (const [p, d] of envFiles) put(p, d);
  if (zip && pkg.sources.contentTypesXml) put('[Content_Types].xml', pkg.sources.contentTypesXml);
  else if (zip) {
    // No [Content_Types].xml to keep (a tree, or a zip without one): entries in Dataverse's order,
    // then the content types generated from that order, as Dataverse writes them.
    const ordered = dataverseZipOrder([...out.keys()], renderedCustomizations(out));
    const sorted: SolutionFiles = new Map(ordered.map((p) => [p, out.get(p) as Buffer]));
    sorted.set('[Content_Types].xml', contentTypesFor(ordered));
    return sorted;
  }
  return out;
}

function renderedCustomizations(files: SolutionFiles): string {
  const data = files.get('customizations.xml');
  return data ? decodeText(data).text : '';
}

/** Top-level folders in the order Dataverse exports them (corpus zips); others go before `environmentvariabledefinitions`. */
const ZIP_FOLDER_ORDER = ['workflows', 'connector', 'canvasapps', 'assets', 'botcomponents', 'bots'];
/** Folders whose files Dataverse writes in the order customizations.xml names them. */
const MENTION_ORDERED = new Set(['workflows', 'canvasapps']);

function folderRank(path: string): number {
  const top = path.includes('/') ? path.slice(0, path.indexOf('/')).toLowerCase() : '';
  if (top === '') return path.toLowerCase() === 'customizations.xml' ? -2 : -1;
  if (top === 'environmentvariabledefinitions') return ZIP_FOLDER_ORDER.length + 1;
  const i = ZIP_FOLDER_ORDER.indexOf(top);
  return i < 0 ? ZIP_FOLDER_ORDER.length : i;
}

/** Compares paths folder by folder, case-insensitively, a folder's files before its sub-folders. */
function comparePaths(a: string, b: string): number {
  const as = a.toLowerCase().split('/');
  const bs = b.toLowerCase().split('/');
  for (let i = 0; ; i++) {
    const aFile = i === as.length - 1;
    const bFile = i === bs.length - 1;
    if (aFile !== bFile) return aFile ? -1 : 1;
    const x = as[i] as string;
    const y = bs[i] as string;
    if (x !== y) return x < y ? -1 : 1;
    if (aFile) return a < b ? -1 : a > b ? 1 : 0;
  }
}

/**
 * Zip entry order of an exported solution, as far as the package records it (checked on the
 * corpus zips): customizations.xml, solution.xml, then by folder — Workflows, Connector,
 * CanvasApps, Assets, botcomponents, bots, any other folder, environmentvariabledefinitions —;
 * flow files and canvas app files in the order customizations.xml names them; everything else
 * folder by folder, case-insensitively, a folder's files before its sub-folders.
 */
export function dataverseZipOrder(paths: readonly string[], customizationsXml: string): string[] {
  const mention = new Map<string, number>();
  for (const m of customizationsXml.matchAll(/>\/([^<>\s]+)</g)) {
    const key = (m[1] as string).toLowerCase();
    if (!mention.has(key)) mention.set(key, m.index);
  }
  const mentionOf = (p: string): number => {
    const top = p.slice(0, Math.max(p.indexOf('/'), 0)).toLowerCase();
    return MENTION_ORDERED.has(top) ? (mention.get(p.toLowerCase()) ?? Infinity) : Infinity;
  };
  return [...paths].sort((a, b) => {
    const r = folderRank(a) - folderRank(b);
    if (r !== 0) return r;
    const ma = mentionOf(a);
    const mb = mentionOf(b);
    if (ma !== mb) return ma < mb ? -1 : 1;
    return comparePaths(a, b);
  });
}

/** Reads the counts a package holds (for reports and the corpus test). */
export function solutionCounts(pkg: SolutionPackage): {
  flows: number;
  connectionReferences: number;
  environmentVariables: number;
  customConnectors: number;
  files: number;
} {
  return {
    flows: pkg.flows.length,
    connectionReferences: pkg.connectionReferences.length,
    environmentVariables: pkg.environmentVariables.length,
    customConnectors: pkg.customConnectors.length,
    files: pkg.files.length,
  };
}

/** Reads the flow JSON of a flow in a package by workflow id (braces and case ignored). */
export function findFlow(pkg: SolutionPackage, workflowId: string): FlowComponent | undefined {
  const id = normalizeGuid(workflowId) ?? workflowId.toLowerCase();
  return pkg.flows.find((f) => f.workflowId === id);
}
