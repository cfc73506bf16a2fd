/**
 * Custom connectors in source form (the `paconn` / PowerPlatformConnectors layout, formats §6):
 * `apiDefinition.swagger.json` (OpenAPI 2.0), `apiProperties.json`, optional `script.csx`.
 * A solution's `Connector(s)/<name>_*` parts describe the same connector; both map to
 * {@link CustomConnectorDefinition}. Pure: parses texts.
 */
import type { CustomConnectorComponent } from './model.js';
import { resolveLimits, type SolutionLimits } from './limits.js';
import { isObject, jsonPath, parseJsonText } from './json.js';
import { fileError } from './text.js';

/** A custom connector, whichever form it came from. */
export interface CustomConnectorDefinition {
  /** Folder name (source form) or logical name (solution). */
  name: string;
  /** `info.title` of the OpenAPI definition, or the solution's display name. */
  displayName?: string;
  /** OpenAPI 2.0 definition. */
  openApiDefinition: Record<string, unknown>;
  /** `connectionParameters`: name → {type, uiDefinition, oAuthSettings?, …}. */
  connectionParameters: Record<string, unknown>;
  /** `connectionParameterSets` (several auth choices), when present. */
  connectionParameterSets?: Record<string, unknown>;
  /** `policyTemplateInstances`: [{templateId, title, parameters}]. */
  policyTemplateInstances: Array<Record<string, unknown>>;
  /** Custom code (script.csx), when present. */
  script?: string;
  iconBrandColor?: string;
  /** `capabilities` of apiProperties (`actions`, `triggers`, …), when present. */
  capabilities?: unknown[];
  /** The whole apiProperties.json (source form only). */
  apiProperties?: Record<string, unknown>;
}

/** Texts of a connector folder. */
export interface CustomConnectorSourceTexts {
  apiDefinition: string;
  apiProperties: string;
  script?: string;
}

/** Options of {@link parseCustomConnectorSource}. */
export interface ParseConnectorOptions {
  name: string;
  /** Builds the label of a file of the connector for errors, e.g. `connectors/X/apiProperties.json`. */
  label: (file: string) => string;
  limits?: Partial<SolutionLimits>;
}

function fieldError(file: string, field: string, message: string): Error {
  return fileError('CONNECTOR_FIELD_INVALID', file, `${field}: ${message}`, { field });
}

/** Checks the fields Patchbay relies on in an OpenAPI 2.0 definition. */
export function checkOpenApiDefinition(def: unknown, file: string): Record<string, unknown> {
  if (!isObject(def)) throw fieldError(file, '$', 'the OpenAPI definition must be an object');
  if (def['swagger'] !== '2.0')
    throw fieldError(file, '$.swagger', `expected "2.0", found ${JSON.stringify(def['swagger'] ?? null)}`);
  if (!isObject(def['info'])) throw fieldError(file, '$.info', 'missing or not an object');
  if (typeof def['info']['title'] !== 'string') throw fieldError(file, '$.info.title', 'missing or not a string');
  if (!isObject(def['paths'])) throw fieldError(file, '$.paths', 'missing or not an object');
  for (const [p, item] of Object.entries(def['paths'])) {
    if (!isObject(item)) throw fieldError(file, jsonPath('$.paths', p), 'a path item must be an object');
  }
  if (def['securityDefinitions'] !== undefined && !isObject(def['securityDefinitions'])) {
    throw fieldError(file, '$.securityDefinitions', 'not an object');
  }
  return def;
}

function checkPolicies(value: unknown, file: string, base: string): Array<Record<string, unknown>> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw fieldError(file, base, 'not an array');
  return value.map((p, i) => {
    const at = jsonPath(base, i);
    if (!isObject(p)) throw fieldError(file, at, 'a policy template instance must be an object');
    if (typeof p['templateId'] !== 'string') throw fieldError(file, `${at}.templateId`, 'missing or not a string');
    if (p['parameters'] !== undefined && !isObject(p['parameters']))
      throw fieldError(file, `${at}.parameters`, 'not an object');
    return p;
  });
}

function checkParameters(value: unknown, file: string, base: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw fieldError(file, base, 'not an object');
  for (const [k, v] of Object.entries(value)) {
    const at = jsonPath(base, k);
    if (!isObject(v)) throw fieldError(file, at, 'a connection parameter must be an object');
    if (typeof v['type'] !== 'string') throw fieldError(file, `${at}.type`, 'missing or not a string');
  }
  return value;
}

/**
 * Parses a connector in source form. Errors: CONNECTOR_JSON_INVALID (with line and column),
 * CONNECTOR_JSON_TOO_LARGE / _TOO_DEEP, CONNECTOR_FIELD_INVALID (with the JSON path), each
 * naming the file.
 */
export function parseCustomConnectorSource(
  texts: CustomConnectorSourceTexts,
  options: ParseConnectorOptions,
): CustomConnectorDefinition {
  const limits = resolveLimits(options.limits);
  const defFile = options.label('apiDefinition.swagger.json');
  const propFile = options.label('apiProperties.json');
  const def = checkOpenApiDefinition(
    parseJsonText(texts.apiDefinition, { file: defFile, limits, codePrefix: 'CONNECTOR_JSON' }),
    defFile,
  );
  const props = parseJsonText(texts.apiProperties, { file: propFile, limits, codePrefix: 'CONNECTOR_JSON' });
  if (!isObject(props)) throw fieldError(propFile, '$', 'apiProperties must be an object');
  const properties = props['properties'];
  if (!isObject(properties)) throw fieldError(propFile, '$.properties', 'missing or not an object');
  const out: CustomConnectorDefinition = {
    name: options.name,
    displayName: (def['info'] as Record<string, unknown>)['title'] as string,
    openApiDefinition: def,
    connectionParameters: checkParameters(
      properties['connectionParameters'],
      propFile,
      '$.properties.connectionParameters',
    ),
    policyTemplateInstances: checkPolicies(
      properties['policyTemplateInstances'],
      propFile,
      '$.properties.policyTemplateInstances',
    ),
    apiProperties: props,
  };
  const sets = properties['connectionParameterSets'];
  if (sets !== undefined) {
    if (!isObject(sets)) throw fieldError(propFile, '$.properties.connectionParameterSets', 'not an object');
    if (sets['values'] !== undefined && !Array.isArray(sets['values']))
      throw fieldError(propFile, '$.properties.connectionParameterSets.values', 'not an array');
    out.connectionParameterSets = sets;
  }
  if (typeof properties['iconBrandColor'] === 'string') out.iconBrandColor = properties['iconBrandColor'];
  if (Array.isArray(properties['capabilities'])) out.capabilities = properties['capabilities'];
  if (texts.script !== undefined)
    out.script = texts.script.charCodeAt(0) === 0xfeff ? texts.script.slice(1) : texts.script;
  return out;
}

/**
 * The {@link CustomConnectorDefinition} of a connector shipped in a solution. Errors name the
 * connector's definition part when it is missing or not OpenAPI 2.0.
 */
export function customConnectorDefinition(
  c: CustomConnectorComponent,
  packageName = 'solution',
): CustomConnectorDefinition {
  const defRef = c.parts.find((p) => p.field === 'openapidefinition')?.ref ?? `${c.name}_openapidefinition.json`;
  const file = `${packageName}:${defRef.replace(/^\//, '')}`;
  if (c.openApiDefinition === undefined)
    throw fileError('CONNECTOR_PART_MISSING', file, `connector ${c.name} has no OpenAPI definition`, {
      field: 'openapidefinition',
    });
  const def = checkOpenApiDefinition(c.openApiDefinition, file);
  const paramFile = `${packageName}:${(c.parts.find((p) => p.field === 'connectionparameters')?.ref ?? '').replace(/^\//, '')}`;
  const out: CustomConnectorDefinition = {
    name: c.name,
    openApiDefinition: def,
    connectionParameters: checkParameters(c.connectionParameters, paramFile, '$'),
    policyTemplateInstances: checkPolicies(
      c.policyTemplateInstances,
      `${packageName}:${c.name}_policytemplateinstances.json`,
      '$',
    ),
  };
  if (c.displayName !== undefined) out.displayName = c.displayName;
  if (c.script !== undefined) out.script = c.script;
  if (c.iconBrandColor !== undefined) out.iconBrandColor = c.iconBrandColor;
  return out;
}
