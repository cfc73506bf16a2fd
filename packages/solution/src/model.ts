/**
 * The solution package model: one shape for both layouts (exported zip and unpacked
 * source-control tree). Formats: ../shared/reference/powerplatform-formats.md §1–§3, §6.
 *
 * Every component keeps the XML element it was read from ({@link XmlElement}), so writing
 * re-emits what Patchbay does not interpret exactly as found; the typed fields are the source of
 * truth for what it does interpret (a changed field is patched into the element on write).
 */
import type { TextEncoding } from './text.js';
import type { XmlElement } from './xml.js';

/** Where a package was read from. `folder` = unpacked (SolutionPackager / `pac solution unpack`) tree. */
export type SolutionLayout = 'zip' | 'folder';

/** A label in one language (`<LocalizedName description=".." languagecode="1033"/>`). */
export interface LocalizedLabel {
  languageCode: string;
  description: string;
}

/** The solution publisher (Solution.xml `<Publisher>`). */
export interface SolutionPublisher {
  uniqueName: string;
  /** Customization prefix, e.g. `cat` (used in logical names). */
  prefix: string;
  /** CustomizationOptionValuePrefix, e.g. `80906`. */
  optionValuePrefix?: string;
  localizedNames: LocalizedLabel[];
  email?: string;
  supportingWebsiteUrl?: string;
}

/** `<RootComponent type=".." id=".." schemaName=".." behavior=".."/>` (type codes: formats §1.4). */
export interface RootComponent {
  type: number;
  id?: string;
  schemaName?: string;
  /** 0 include subcomponents, 1 do not include subcomponents, 2 shell only. */
  behavior?: number;
}

/** `<MissingDependency>`: attributes of its `<Required>` and `<Dependent>` elements. */
export interface MissingDependency {
  required: Record<string, string>;
  dependent: Record<string, string>;
}

/** Solution.xml `<SolutionManifest>`. */
export interface SolutionManifest {
  uniqueName: string;
  version: string;
  /** 0 unmanaged, 1 managed, 2 both (seen in `packagetype Both` source trees). */
  managed: number;
  localizedNames: LocalizedLabel[];
  descriptions: LocalizedLabel[];
  publisher: SolutionPublisher;
  /** As listed; the package may hold more than this (everything present counts). */
  rootComponents: RootComponent[];
  missingDependencies: MissingDependency[];
}

/** One use of a connection key by a trigger or action of a flow. */
export interface FlowConnectionUse {
  /** Slash-separated path of action names from the top (e.g. `Try/Condition/Get_items`). */
  path: string;
  /** The trigger or action name. */
  name: string;
  kind: 'trigger' | 'action';
  /** The action type (`OpenApiConnection`, `ApiConnection`, `OpenApiConnectionWebhook`, …). */
  type: string;
  operationId?: string;
  /** `inputs.host.apiId` when present. */
  apiId?: string;
  /** For ApiConnection actions: `method` and `path` of the call. */
  method?: string;
  /** JSON path of the `host` object in the flow file. */
  jsonPath: string;
}

/**
 * One entry of a flow's `properties.connectionReferences` map (formats §2.1, §2.3).
 * `embedded: true` marks the legacy form without `connectionReferenceLogicalName` (the flow
 * embeds a connection instead of using a connection reference; design §3F).
 */
export interface FlowConnectionEntry {
  key: string;
  /** `connection.connectionReferenceLogicalName`. */
  logicalName?: string;
  /** `runtimeSource` (`embedded` / `invoker`), or the legacy `source` lower-cased. */
  runtimeSource?: string;
  /** `api.name` (e.g. `shared_office365`), or derived from the legacy `id`. Custom connector names are environment-specific. */
  apiName?: string;
  /** `api.logicalName`: the stable custom connector name (e.g. `cat_5Fcustomazuredevops`). */
  apiLogicalName?: string;
  /** Legacy connection name (`connection.name` or top-level `connectionName`). */
  connectionName?: string;
  /** True when the entry has no reference logical name (a connection is embedded). */
  embedded: boolean;
  usedBy: FlowConnectionUse[];
}

/** A connection key used by an action but absent from the flow's map. */
export interface UnmappedConnectionUse extends FlowConnectionUse {
  key: string;
}

/** A definition parameter bound to an environment variable (`"<Display> (<schema>)"` with `metadata.schemaName`). */
export interface FlowEnvironmentVariableParameter {
  parameterName: string;
  schemaName: string;
  /** Parameter type as written (`String`, `Int`, `Bool`, `Object`, …). */
  type?: string;
  /** Design-time snapshot of the value; at run time the environment's value applies. */
  defaultValue?: unknown;
}

/** A trigger of a flow (top level of `definition.triggers`). */
export interface FlowTrigger {
  name: string;
  type: string;
  kind?: string;
}

/** A cloud flow: the `<Workflow>` metadata plus the flow JSON (the workflow `clientdata`). */
export interface FlowComponent {
  /** Lower-case GUID without braces (`WorkflowId`); stable across imports. */
  workflowId: string;
  name: string;
  description?: string;
  /** Package path of the flow JSON (JsonFileName without the leading `/`), e.g. `Workflows/X-GUID.json`. */
  fileName: string;
  /** 5 = modern (cloud) flow. */
  category: number;
  /** 1 = definition. */
  type: number;
  /** 0 draft/off, 1 activated, 2 suspended. */
  stateCode: number;
  statusCode: number;
  /** True when the flow was on when exported (StateCode 1). */
  onWhenExported: boolean;
  localizedNames: LocalizedLabel[];
  descriptions: LocalizedLabel[];
  /** The flow JSON parsed; treat as read-only (use `withFlowClientData` to change it). */
  clientData: unknown;
  /** The flow JSON exactly as found (written back unchanged). */
  clientDataText: string;
  clientDataEncoding: TextEncoding;
  /** The connection map: connection key → entry (null-prototype object). */
  connectionMap: Record<string, FlowConnectionEntry>;
  /** Keys used by triggers/actions (`host.connectionName`, `$connections` expressions) that the map lacks. */
  unmappedUses: UnmappedConnectionUse[];
  envVarParameters: FlowEnvironmentVariableParameter[];
  triggers: FlowTrigger[];
  /** Number of actions, nested ones included. */
  actionCount: number;
  /** The `<Workflow>` element as found (absent for a flow built in code: a minimal one is written). */
  element?: XmlElement;
}

/** A `<Workflow>` that is not a JSON cloud flow (classic workflow, business process flow, …): kept as is. */
export interface OtherWorkflow {
  workflowId: string;
  name: string;
  category?: number;
  /** Package path of its data file (XamlFileName / JsonFileName without `/`), if any. */
  fileName?: string;
  element: XmlElement;
}

/** `<connectionreference>` in customizations.xml (formats §1.3). Holds no connection. */
export interface ConnectionReferenceComponent {
  logicalName: string;
  displayName?: string;
  /** `/providers/Microsoft.PowerApps/apis/<api>`. For custom connectors the api part is environment-specific. */
  connectorId: string;
  /** `<customconnectorid><connectorid>`: the Dataverse connector row id of a custom connector. */
  customConnectorId?: string;
  description?: string;
  /** 0 prompt on import, 1 skip; absent in older exports. */
  promptingBehavior?: number;
  stateCode?: number;
  statusCode?: number;
  isCustomizable?: boolean;
  /** The element as found (absent for a reference built in code). */
  element?: XmlElement;
}

/** Environment variable types (formats §1.5, type codes 100000000–100000005). */
export type EnvironmentVariableType = 'String' | 'Number' | 'Boolean' | 'JSON' | 'DataSource' | 'Secret';

/** An environment variable definition (`environmentvariabledefinitions/<schema>/`). */
export interface EnvironmentVariableDefinition {
  schemaName: string;
  displayName?: string;
  description?: string;
  /** The type name, or `Unknown` for an undocumented code (kept as `typeCode`). */
  type: EnvironmentVariableType | 'Unknown';
  typeCode: number;
  defaultValue?: string;
  /** The exported current value (`environmentvariablevalues.json`), if any. */
  currentValue?: string;
  isRequired: boolean;
  /** Data-source type only: the connector api id and the parameter key (e.g. `dataset`). */
  apiId?: string;
  parameterKey?: string;
  secretStore?: number;
  introducedVersion?: string;
  isCustomizable?: boolean;
  /** Path of the definition XML in the package. */
  fileName: string;
  /** The element as found (absent for a definition built in code). */
  element?: XmlElement;
  /** The definition file's prolog (XML declaration, BOM) and trailing text, kept for writing. */
  xmlFile?: { encoding: TextEncoding; prolog: string; epilog: string; newline: string };
  /** The values file as found (kept when `currentValue` is unchanged). */
  valuesText?: string;
  valuesEncoding?: TextEncoding;
}

/** A file part of a custom connector (`/Connector/<name>_openapidefinition.json`, …). */
export interface CustomConnectorPart {
  /** The element naming it: `openapidefinition`, `connectionparameters`, `policytemplateinstances`, `customcodeblobcontent`, `iconblob`, … */
  field: string;
  /** The reference as written in the element (e.g. `/Connector/x_openapidefinition.json`). */
  ref: string;
  /** File bytes; undefined when the package does not hold the file (warning `CONNECTOR_PART_MISSING`). */
  data?: Buffer;
}

/** A custom connector shipped in the solution (`<Connector>`, formats §6). */
export interface CustomConnectorComponent {
  /** Logical name (`connector.name`, = a flow's `api.logicalName`), e.g. `cat_5Fcustomazuredevops`. */
  name: string;
  /** Dataverse connector row id (= a reference's `customConnectorId`). */
  connectorId?: string;
  displayName?: string;
  description?: string;
  iconBrandColor?: string;
  connectorType?: number;
  /** OpenAPI 2.0 definition, parsed. */
  openApiDefinition?: unknown;
  /** `connectionParameters` map (same shape as apiProperties.json `properties.connectionParameters`). */
  connectionParameters?: unknown;
  /** Policy template instances (`null` in packages without policies). */
  policyTemplateInstances?: unknown;
  /** Custom code (script.csx) text. */
  script?: string;
  parts: CustomConnectorPart[];
  /** The element as found (absent for a connector built in code). */
  element?: XmlElement;
}

/** A file Patchbay keeps without interpreting it (Entities/, CanvasApps/, bots/, …). */
export interface PreservedFile {
  /** Package path with `/` separators. */
  path: string;
  data: Buffer;
}

/** A problem found while reading that does not stop reading. */
export interface SolutionWarning {
  code: string;
  message: string;
  file?: string;
}

/** The raw documents a writer splices the components into. */
export interface SolutionSources {
  /** Solution.xml text (without BOM). */
  solutionXml: string;
  solutionXmlEncoding: TextEncoding;
  /** customizations.xml text (without BOM), as read; its Workflows, Connectors and connectionreferences regions are re-emitted. */
  customizationsXml: string;
  customizationsXmlEncoding: TextEncoding;
  /** `[Content_Types].xml` of a zip, kept for zip output; regenerated when absent. */
  contentTypesXml?: Buffer;
}

/** A Power Platform solution package (zip or unpacked tree) as one model. */
export interface SolutionPackage {
  /** Name used in messages (the file or folder name). */
  name: string;
  /** The layout it was read from. */
  layout: SolutionLayout;
  manifest: SolutionManifest;
  /** Cloud flows, keyed by `workflowId` (unique). */
  flows: FlowComponent[];
  otherWorkflows: OtherWorkflow[];
  connectionReferences: ConnectionReferenceComponent[];
  environmentVariables: EnvironmentVariableDefinition[];
  customConnectors: CustomConnectorComponent[];
  /** Files kept as is, in package order. */
  files: PreservedFile[];
  warnings: SolutionWarning[];
  sources: SolutionSources;
}
