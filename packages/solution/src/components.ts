/**
 * Reading and re-emitting the components of a solution: `<Workflow>` metadata, connection
 * references, custom connectors (`<Connector>` + its files) and environment variable
 * definitions. Pure: works on text and bytes.
 */
import type {
  ConnectionReferenceComponent,
  CustomConnectorComponent,
  EnvironmentVariableDefinition,
  EnvironmentVariableType,
  LocalizedLabel,
} from './model.js';
import type { SolutionLimits } from './limits.js';
import { parseJsonText, isObject } from './json.js';
import { decodeText, encodeText, fileError, type TextEncoding } from './text.js';
import {
  attrsOf,
  childText,
  elementFromNode,
  getAttribute,
  listOf,
  parseXmlDocument,
  renderElement,
  setAttribute,
  setChildRaw,
  setChildText,
  textOf,
  xmlToObject,
  escapeXmlAttribute,
  newElement,
  type XmlElement,
} from './xml.js';

/** Reads `<LocalizedNames>`/`<Descriptions>`-style children (`<X description=".." languagecode=".."/>`). */
export function readLabels(el: XmlElement, container: string, item: string): LocalizedLabel[] {
  const child = el.children.find((c) => c.name === container);
  if (!child) return [];
  const obj = xmlToObject(child.raw);
  return labelsFromObject(obj[container], item);
}

/** Labels from a value read by xmlToObject. */
export function labelsFromObject(container: unknown, item: string): LocalizedLabel[] {
  if (!isObject(container)) return [];
  return listOf(container[item]).map((x) => {
    const a = attrsOf(x);
    return { languageCode: a['languagecode'] ?? '', description: a['description'] ?? '' };
  });
}

function int(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value.trim());
  return Number.isInteger(n) ? n : undefined;
}

function boolFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value.trim() === '1' || value.trim().toLowerCase() === 'true';
}

const GUID_RE = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;

/** A GUID in lower case without braces, or undefined when `value` is not a GUID. */
export function normalizeGuid(value: string | undefined): string | undefined {
  const m = value ? GUID_RE.exec(value.trim()) : null;
  return m?.[1]?.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Connection references

/** Child order Dataverse writes in `<connectionreference>` (formats §1.3). */
export const CONNECTION_REFERENCE_ORDER = [
  'connectionreferencedisplayname',
  'connectorid',
  'customconnectorid',
  'description',
  'iscustomizable',
  'promptingbehavior',
  'statecode',
  'statuscode',
] as const;

/** Reads a `<connectionreference>` element. */
export function readConnectionReference(el: XmlElement, file: string): ConnectionReferenceComponent {
  const logicalName = getAttribute(el, 'connectionreferencelogicalname');
  if (!logicalName) {
    throw fileError('SOLUTION_FIELD_INVALID', file, 'a <connectionreference> has no connectionreferencelogicalname', {
      field: 'connectionreference/@connectionreferencelogicalname',
    });
  }
  const connectorId = childText(el, 'connectorid') ?? '';
  const ref: ConnectionReferenceComponent = { logicalName, connectorId, element: el };
  const displayName = childText(el, 'connectionreferencedisplayname');
  if (displayName !== undefined) ref.displayName = displayName;
  const custom = el.children.find((c) => c.name === 'customconnectorid');
  if (custom) {
    const obj = xmlToObject(custom.raw)['customconnectorid'];
    const id = isObject(obj) ? textOf(obj['connectorid']) : undefined;
    if (id) ref.customConnectorId = id.trim();
  }
  const description = childText(el, 'description');
  if (description !== undefined) ref.description = description;
  const prompting = int(childText(el, 'promptingbehavior'));
  if (prompting !== undefined) ref.promptingBehavior = prompting;
  const state = int(childText(el, 'statecode'));
  if (state !== undefined) ref.stateCode = state;
  const status = int(childText(el, 'statuscode'));
  if (status !== undefined) ref.statusCode = status;
  const customizable = boolFlag(childText(el, 'iscustomizable'));
  if (customizable !== undefined) ref.isCustomizable = customizable;
  return ref;
}

function numText(n: number | undefined): string | undefined {
  return n === undefined ? undefined : String(n);
}

function flagText(b: boolean | undefined): string | undefined {
  return b === undefined ? undefined : b ? '1' : '0';
}

/** The `<connectionreference>` element for a reference, its fields patched into the element it was read from. */
export function connectionReferenceElement(ref: ConnectionReferenceComponent): XmlElement {
  const el: XmlElement = ref.element ? structuredClone(ref.element) : newElement('connectionreference');
  const order = CONNECTION_REFERENCE_ORDER;
  setAttribute(el, 'connectionreferencelogicalname', ref.logicalName);
  setChildText(el, 'connectionreferencedisplayname', ref.displayName, order);
  setChildText(el, 'connectorid', ref.connectorId, order);
  const current = readConnectionReferenceCustomId(el);
  if (ref.customConnectorId === undefined) setChildText(el, 'customconnectorid', undefined, order);
  else if (current !== ref.customConnectorId) {
    setChildRaw(
      el,
      'customconnectorid',
      `<customconnectorid>\n  <connectorid>${ref.customConnectorId}</connectorid>\n</customconnectorid>`,
      order,
    );
  }
  setChildText(el, 'description', ref.description, order);
  setChildText(el, 'iscustomizable', flagText(ref.isCustomizable), order);
  setChildText(el, 'promptingbehavior', numText(ref.promptingBehavior), order);
  setChildText(el, 'statecode', numText(ref.stateCode), order);
  setChildText(el, 'statuscode', numText(ref.statusCode), order);
  return el;
}

function readConnectionReferenceCustomId(el: XmlElement): string | undefined {
  const custom = el.children.find((c) => c.name === 'customconnectorid');
  if (!custom) return undefined;
  const obj = xmlToObject(custom.raw)['customconnectorid'];
  return isObject(obj) ? textOf(obj['connectorid'])?.trim() : undefined;
}

// ---------------------------------------------------------------------------------------------
// Workflow metadata

/** Child order of `<Workflow>` for the fields Patchbay sets. */
const WORKFLOW_ORDER = [
  'JsonFileName',
  'XamlFileName',
  'Type',
  'Subprocess',
  'Category',
  'Mode',
  'Scope',
  'OnDemand',
  'TriggerOnCreate',
  'TriggerOnDelete',
  'AsyncAutodelete',
  'SyncWorkflowLogOnFailure',
  'StateCode',
  'StatusCode',
  'RunAs',
  'IsTransacted',
  'IntroducedVersion',
  'IsCustomizable',
  'BusinessProcessType',
  'IsCustomProcessingStepAllowedForOtherPublishers',
  'ModernFlowType',
  'PrimaryEntity',
  'LocalizedNames',
  'Descriptions',
];

/** Metadata of a `<Workflow>` element (formats §1.1). */
export interface WorkflowMetadata {
  workflowId: string;
  name: string;
  description?: string;
  fileName?: string;
  jsonFile: boolean;
  category?: number;
  type?: number;
  stateCode?: number;
  statusCode?: number;
  localizedNames: LocalizedLabel[];
  descriptions: LocalizedLabel[];
}

/** Reads a `<Workflow>` element; WorkflowId must be a GUID and the file name a safe package path. */
export function readWorkflowMetadata(el: XmlElement, file: string): WorkflowMetadata {
  const rawId = getAttribute(el, 'WorkflowId');
  const workflowId = normalizeGuid(rawId);
  if (!workflowId) {
    throw fileError(
      'SOLUTION_FIELD_INVALID',
      file,
      `<Workflow> has WorkflowId ${JSON.stringify(rawId ?? null)}, which is not a GUID`,
      {
        field: 'Workflow/@WorkflowId',
      },
    );
  }
  const json = childText(el, 'JsonFileName');
  const xaml = childText(el, 'XamlFileName');
  const rawFile = json ?? xaml;
  let fileName: string | undefined;
  if (rawFile !== undefined && rawFile.trim() !== '') {
    fileName = rawFile.trim().replace(/^\/+/, '');
    const problem = unsafePathReason(fileName);
    if (problem) {
      throw fileError(
        'SOLUTION_FIELD_INVALID',
        file,
        `<Workflow ${workflowId}> names the file ${JSON.stringify(rawFile)}: ${problem}`,
        {
          field: json !== undefined ? 'Workflow/JsonFileName' : 'Workflow/XamlFileName',
        },
      );
    }
  }
  const meta: WorkflowMetadata = {
    workflowId,
    name: getAttribute(el, 'Name') ?? '',
    jsonFile: json !== undefined && /\.json$/i.test(json.trim()),
    localizedNames: readLabels(el, 'LocalizedNames', 'LocalizedName'),
    descriptions: readLabels(el, 'Descriptions', 'Description'),
  };
  const description = getAttribute(el, 'Description');
  if (description !== undefined) meta.description = description;
  if (fileName !== undefined) meta.fileName = fileName;
  const category = int(childText(el, 'Category'));
  if (category !== undefined) meta.category = category;
  const type = int(childText(el, 'Type'));
  if (type !== undefined) meta.type = type;
  const stateCode = int(childText(el, 'StateCode'));
  if (stateCode !== undefined) meta.stateCode = stateCode;
  const statusCode = int(childText(el, 'StatusCode'));
  if (statusCode !== undefined) meta.statusCode = statusCode;
  return meta;
}

/** The `<Workflow>` element with the flow's fields patched in. */
export function workflowElement(meta: {
  element?: XmlElement;
  workflowId: string;
  name: string;
  description?: string;
  fileName?: string;
  category?: number;
  type?: number;
  stateCode?: number;
  statusCode?: number;
}): XmlElement {
  const el = meta.element
    ? structuredClone(meta.element)
    : newElement('Workflow', [['WorkflowId', `{${meta.workflowId}}`]]);
  if (!meta.element) setChildText(el, 'PrimaryEntity', 'none', WORKFLOW_ORDER);
  const currentId = normalizeGuid(getAttribute(el, 'WorkflowId'));
  if (currentId !== meta.workflowId) setAttribute(el, 'WorkflowId', `{${meta.workflowId}}`);
  setAttribute(el, 'Name', meta.name);
  if (meta.description !== undefined || getAttribute(el, 'Description') !== undefined)
    setAttribute(el, 'Description', meta.description);
  if (meta.fileName !== undefined) {
    const field = el.children.some((c) => c.name === 'XamlFileName') ? 'XamlFileName' : 'JsonFileName';
    setChildText(el, field, `/${meta.fileName}`, WORKFLOW_ORDER);
  }
  if (meta.type !== undefined) setChildText(el, 'Type', String(meta.type), WORKFLOW_ORDER);
  if (meta.category !== undefined) setChildText(el, 'Category', String(meta.category), WORKFLOW_ORDER);
  if (meta.stateCode !== undefined) setChildText(el, 'StateCode', String(meta.stateCode), WORKFLOW_ORDER);
  if (meta.statusCode !== undefined) setChildText(el, 'StatusCode', String(meta.statusCode), WORKFLOW_ORDER);
  return el;
}

// ---------------------------------------------------------------------------------------------
// Paths

/** Why a package path is unsafe to write under a folder (absolute, `..`, backslash, NUL), or undefined. */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'empty path';
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.includes('\\')) return 'contains a backslash';
  if (/^[a-zA-Z]:/.test(path) || path.startsWith('/')) return 'is absolute';
  if (path.split('/').some((s) => s === '..')) return "contains a '..' segment";
  if (path.split('/').some((s) => s === '' || s === '.')) return 'contains an empty or "." segment';
  return undefined;
}

/** Root-level files of the zip layout; any other root-level file is not part of a solution. */
const ZIP_ROOT_FILES = new Set(['customizations.xml', 'solution.xml', '[content_types].xml']);
/** Operating-system junk, matched case-insensitively on a file name. */
const JUNK_FILES = new Set(['thumbs.db', 'ehthumbs.db', 'desktop.ini']);

/**
 * Why a path is not part of a solution package, or undefined when it may be. Such paths are
 * skipped when reading (a zip's with a warning) and refused when writing:
 * - a segment starting with `.` (`.git/`, `.svn/`, `.hg/`, `.DS_Store`, `._x` AppleDouble files,
 *   `.gitignore`, `.vscode/`, Patchbay's own temporary files): Dataverse names none this way;
 * - a `__MACOSX/` folder (macOS archive metadata), `Thumbs.db`, `desktop.ini`, names ending in `~`
 *   (editor backups);
 * - a file at the root other than `customizations.xml`, `solution.xml` and `[Content_Types].xml`
 *   of a zip: a tree holds only folders at its root (pac's layout), a zip only those three.
 */
export function ignoredPathReason(path: string, layout: 'zip' | 'folder'): string | undefined {
  const segments = path.split('/');
  for (const [i, seg] of segments.entries()) {
    if (seg.startsWith('.')) return i < segments.length - 1 ? 'hidden or version-control folder' : 'hidden file';
    if (i < segments.length - 1 && seg.toLowerCase() === '__macosx') return 'macOS archive metadata';
  }
  const last = segments[segments.length - 1] ?? '';
  if (JUNK_FILES.has(last.toLowerCase())) return 'operating-system file';
  if (last.endsWith('~')) return 'editor backup file';
  if (segments.length === 1 && !(layout === 'zip' && ZIP_ROOT_FILES.has(last.toLowerCase())))
    return layout === 'zip' ? 'file at the root of the zip' : 'file at the root of the tree';
  return undefined;
}

/** The part of an ignored path to report: the folder up to the ignored segment (`.git/`), else the path. */
export function ignoredPathGroup(path: string): string {
  const segments = path.split('/');
  const i = segments.findIndex(
    (seg, k) => k < segments.length - 1 && (seg.startsWith('.') || seg.toLowerCase() === '__macosx'),
  );
  return i < 0 ? path : segments.slice(0, i + 1).join('/') + '/';
}

// ---------------------------------------------------------------------------------------------
// Custom connectors

/** Fields of `<Connector>` that name a file of the connector. */
const CONNECTOR_ORDER = [
  'connectorid',
  'description',
  'displayname',
  'iconbrandcolor',
  'name',
  'connectortype',
  'openapidefinition',
  'connectionparameters',
  'policytemplateinstances',
  'customcodeblobcontent',
  'iconblob',
];

/** Options of {@link readConnectorElement}. */
export interface ReadConnectorOptions {
  file: string;
  /** Finds a part's bytes from its reference (`/Connector/x.json`); undefined when absent. */
  part: (ref: string) => { path: string; data: Buffer } | undefined;
  /** Display label of a package path, for errors. */
  label: (path: string) => string;
  limits: SolutionLimits;
  warn: (code: string, message: string, file?: string) => void;
}

/** Reads a `<Connector>` element and its files (OpenAPI definition, connection parameters, policies, script). */
export function readConnectorElement(el: XmlElement, options: ReadConnectorOptions): CustomConnectorComponent {
  const name = childText(el, 'name');
  if (!name)
    throw fileError('SOLUTION_FIELD_INVALID', options.file, 'a <Connector> has no <name>', { field: 'Connector/name' });
  const c: CustomConnectorComponent = { name, parts: [], element: el };
  const connectorId = childText(el, 'connectorid');
  if (connectorId) c.connectorId = connectorId.trim();
  const displayName = childText(el, 'displayname');
  if (displayName !== undefined) c.displayName = displayName;
  const description = childText(el, 'description');
  if (description !== undefined) c.description = description;
  const color = childText(el, 'iconbrandcolor');
  if (color !== undefined) c.iconBrandColor = color;
  const type = int(childText(el, 'connectortype'));
  if (type !== undefined) c.connectorType = type;
  for (const child of el.children) {
    const value = childText(el, child.name);
    if (!value || !/^\/?Connectors?\//i.test(value.trim())) continue;
    const ref = value.trim();
    const found = options.part(ref);
    if (!found) {
      options.warn(
        'CONNECTOR_PART_MISSING',
        `connector ${name}: ${child.name} ${ref} is not in the package`,
        options.file,
      );
      c.parts.push({ field: child.name, ref });
      continue;
    }
    c.parts.push({ field: child.name, ref, data: found.data });
    const label = options.label(found.path);
    const jsonOf = (): unknown =>
      parseJsonText(decodeText(found.data, { file: label, code: 'JSON_INVALID' }).text, {
        file: label,
        limits: options.limits,
      });
    if (child.name === 'openapidefinition') c.openApiDefinition = jsonOf();
    else if (child.name === 'connectionparameters') c.connectionParameters = jsonOf();
    else if (child.name === 'policytemplateinstances') c.policyTemplateInstances = jsonOf();
    else if (child.name === 'customcodeblobcontent')
      c.script = decodeText(found.data, { file: label, code: 'CONNECTOR_SCRIPT_INVALID' }).text;
  }
  return c;
}

function sameJson(data: Buffer | undefined, value: unknown): boolean {
  if (data === undefined) return value === undefined;
  try {
    return JSON.stringify(JSON.parse(decodeText(data).text)) === JSON.stringify(value);
  } catch {
    return false;
  }
}

/** The `<Connector>` element and the part files of a connector, its fields patched in. */
export function connectorElementAndParts(c: CustomConnectorComponent): {
  element: XmlElement;
  parts: Array<{ ref: string; data: Buffer }>;
} {
  const el = c.element ? structuredClone(c.element) : newElement('Connector');
  setChildText(el, 'connectorid', c.connectorId, CONNECTOR_ORDER);
  setChildText(el, 'description', c.description, CONNECTOR_ORDER);
  setChildText(el, 'displayname', c.displayName, CONNECTOR_ORDER);
  setChildText(el, 'iconbrandcolor', c.iconBrandColor, CONNECTOR_ORDER);
  setChildText(el, 'name', c.name, CONNECTOR_ORDER);
  setChildText(
    el,
    'connectortype',
    c.connectorType === undefined ? undefined : String(c.connectorType),
    CONNECTOR_ORDER,
  );
  const parts: Array<{ ref: string; data: Buffer }> = [];
  for (const p of c.parts) {
    let data = p.data;
    if (p.field === 'openapidefinition' && !sameJson(data, c.openApiDefinition))
      data = Buffer.from(JSON.stringify(c.openApiDefinition), 'utf8');
    if (p.field === 'connectionparameters' && !sameJson(data, c.connectionParameters))
      data = Buffer.from(JSON.stringify(c.connectionParameters), 'utf8');
    if (p.field === 'policytemplateinstances' && !sameJson(data, c.policyTemplateInstances))
      data = Buffer.from(JSON.stringify(c.policyTemplateInstances ?? null), 'utf8');
    if (
      p.field === 'customcodeblobcontent' &&
      c.script !== undefined &&
      (data === undefined || decodeText(data).text !== c.script)
    )
      data = Buffer.from(c.script, 'utf8');
    if (data !== undefined) parts.push({ ref: p.ref, data });
  }
  return { element: el, parts };
}

/** The file name part of a connector reference (`/Connector/x_openapidefinition.json` → `x_openapidefinition.json`). */
export function connectorPartBaseName(ref: string): string {
  return ref.replace(/^\/?Connectors?\//i, '');
}

// ---------------------------------------------------------------------------------------------
// Environment variables

/** Type codes of environment variable definitions (formats §1.5). */
export const ENV_VAR_TYPE_CODES: Readonly<Record<EnvironmentVariableType, number>> = Object.freeze({
  String: 100000000,
  Number: 100000001,
  Boolean: 100000002,
  JSON: 100000003,
  DataSource: 100000004,
  Secret: 100000005,
});

function envVarTypeName(code: number): EnvironmentVariableType | 'Unknown' {
  for (const [name, c] of Object.entries(ENV_VAR_TYPE_CODES)) if (c === code) return name as EnvironmentVariableType;
  return 'Unknown';
}

const ENV_VAR_ORDER = [
  'description',
  'displayname',
  'apiid',
  'parameterkey',
  'defaultvalue',
  'introducedversion',
  'iscustomizable',
  'isrequired',
  'secretstore',
  'type',
];

function labelled(el: XmlElement, name: string): string | undefined {
  const child = el.children.find((c) => c.name === name);
  if (!child) return undefined;
  const obj = xmlToObject(child.raw)[name];
  const def = attrsOf(obj)['default'];
  if (def !== undefined) return def;
  const labels = isObject(obj) ? listOf(obj['label']) : [];
  return labels.length ? attrsOf(labels[0])['description'] : undefined;
}

function labelledRaw(name: string, value: string): string {
  const v = escapeXmlAttribute(value);
  return `<${name} default="${v}">\n  <label description="${v}" languagecode="1033" />\n</${name}>`;
}

/** Reads an environment variable definition file and its optional values file. */
export function readEnvironmentVariable(
  definition: { path: string; data: Buffer },
  values: { path: string; data: Buffer } | undefined,
  options: { label: (path: string) => string; limits: SolutionLimits },
): EnvironmentVariableDefinition {
  const file = options.label(definition.path);
  const decoded = decodeText(definition.data, { file, code: 'XML_INVALID' });
  const doc = parseXmlDocument(decoded.text, file, options.limits);
  if (doc.root.name !== 'environmentvariabledefinition') {
    throw fileError(
      'SOLUTION_FIELD_INVALID',
      file,
      `root element is <${doc.root.name}>, expected <environmentvariabledefinition>`,
      { field: 'environmentvariabledefinition' },
    );
  }
  const el = elementFromNode(decoded.text, doc.root);
  const schemaName = getAttribute(el, 'schemaname');
  if (!schemaName)
    throw fileError('SOLUTION_FIELD_INVALID', file, 'no schemaname attribute', {
      field: 'environmentvariabledefinition/@schemaname',
    });
  const typeText = childText(el, 'type');
  const typeCode = int(typeText);
  if (typeCode === undefined) {
    throw fileError(
      'SOLUTION_FIELD_INVALID',
      file,
      `<type> is ${JSON.stringify(typeText ?? null)}, expected a type code such as 100000000`,
      { field: 'environmentvariabledefinition/type' },
    );
  }
  const def: EnvironmentVariableDefinition = {
    schemaName,
    type: envVarTypeName(typeCode),
    typeCode,
    isRequired: boolFlag(childText(el, 'isrequired')) ?? false,
    fileName: definition.path,
    element: el,
    xmlFile: {
      encoding: { encoding: decoded.encoding, bom: decoded.bom },
      prolog: decoded.text.slice(0, doc.root.start),
      epilog: decoded.text.slice(doc.root.end),
      newline: decoded.text.includes('\r\n') ? '\r\n' : '\n',
    },
  };
  const displayName = labelled(el, 'displayname');
  if (displayName !== undefined) def.displayName = displayName;
  const description = labelled(el, 'description');
  if (description !== undefined) def.description = description;
  const defaultValue = childText(el, 'defaultvalue');
  if (defaultValue !== undefined) def.defaultValue = defaultValue;
  const apiId = childText(el, 'apiid');
  if (apiId !== undefined) def.apiId = apiId;
  const parameterKey = childText(el, 'parameterkey');
  if (parameterKey !== undefined) def.parameterKey = parameterKey;
  const secretStore = int(childText(el, 'secretstore'));
  if (secretStore !== undefined) def.secretStore = secretStore;
  const introducedVersion = childText(el, 'introducedversion');
  if (introducedVersion !== undefined) def.introducedVersion = introducedVersion;
  const customizable = boolFlag(childText(el, 'iscustomizable'));
  if (customizable !== undefined) def.isCustomizable = customizable;
  if (values) {
    const vfile = options.label(values.path);
    const vdecoded = decodeText(values.data, { file: vfile, code: 'JSON_INVALID' });
    const parsed = parseJsonText(vdecoded.text, { file: vfile, limits: options.limits });
    def.valuesText = vdecoded.text;
    def.valuesEncoding = { encoding: vdecoded.encoding, bom: vdecoded.bom };
    const current = currentValueOf(parsed);
    if (current !== undefined) def.currentValue = current;
  }
  return def;
}

function currentValueOf(parsed: unknown): string | undefined {
  if (!isObject(parsed)) return undefined;
  const outer = parsed['environmentvariablevalues'];
  if (!isObject(outer)) return undefined;
  const inner = outer['environmentvariablevalue'];
  const first = Array.isArray(inner) ? inner[0] : inner;
  if (!isObject(first)) return undefined;
  const v = first['value'];
  return typeof v === 'string' ? v : v === undefined || v === null ? undefined : JSON.stringify(v);
}

/** The definition file and values file (if any) of an environment variable, fields patched in. */
export function environmentVariableFiles(def: EnvironmentVariableDefinition): {
  definition: Buffer;
  values?: Buffer;
  valuesPath: string;
} {
  const el = def.element ? structuredClone(def.element) : newElement('environmentvariabledefinition');
  setAttribute(el, 'schemaname', def.schemaName);
  if (labelled(el, 'displayname') !== def.displayName) {
    if (def.displayName === undefined) setChildText(el, 'displayname', undefined);
    else setChildRaw(el, 'displayname', labelledRaw('displayname', def.displayName), ENV_VAR_ORDER);
  }
  if (labelled(el, 'description') !== def.description) {
    if (def.description === undefined) setChildText(el, 'description', undefined);
    else setChildRaw(el, 'description', labelledRaw('description', def.description), ENV_VAR_ORDER);
  }
  setChildText(el, 'apiid', def.apiId, ENV_VAR_ORDER);
  setChildText(el, 'parameterkey', def.parameterKey, ENV_VAR_ORDER);
  setChildText(el, 'defaultvalue', def.defaultValue, ENV_VAR_ORDER);
  setChildText(el, 'introducedversion', def.introducedVersion, ENV_VAR_ORDER);
  setChildText(el, 'iscustomizable', flagText(def.isCustomizable), ENV_VAR_ORDER);
  const isRequiredNow = childText(el, 'isrequired');
  if (isRequiredNow !== undefined || def.isRequired)
    setChildText(el, 'isrequired', def.isRequired ? '1' : '0', ENV_VAR_ORDER);
  setChildText(el, 'secretstore', numText(def.secretStore), ENV_VAR_ORDER);
  setChildText(el, 'type', String(def.typeCode), ENV_VAR_ORDER);
  const { prolog, epilog, newline, encoding } = def.xmlFile ?? {
    prolog: '',
    epilog: '',
    newline: '\r\n',
    encoding: { encoding: 'utf8', bom: false },
  };
  const definition = encodeText(prolog + renderElement(el, 0, newline) + epilog, encoding);
  const valuesPath = def.fileName.replace(/[^/]+$/, 'environmentvariablevalues.json');
  let valuesText = def.valuesText;
  const current = valuesText === undefined ? undefined : currentValueOf(safeParse(valuesText));
  if (current !== def.currentValue) {
    valuesText =
      def.currentValue === undefined
        ? undefined
        : JSON.stringify(
            {
              environmentvariablevalues: { environmentvariablevalue: { iscustomizable: '1', value: def.currentValue } },
            },
            null,
            2,
          );
  }
  const out: { definition: Buffer; values?: Buffer; valuesPath: string } = { definition, valuesPath };
  if (valuesText !== undefined)
    out.values = encodeText(valuesText, def.valuesEncoding ?? { encoding: 'utf8', bom: false });
  return out;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
  } catch {
    return undefined;
  }
}

/** Encoding used for files Patchbay creates: UTF-8 with a byte-order mark, as Dataverse writes XML. */
export const XML_FILE_ENCODING: TextEncoding = { encoding: 'utf8', bom: true };
