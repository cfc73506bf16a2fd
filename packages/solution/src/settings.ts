/**
 * Deployment settings files (`pac solution create-settings`, formats §5.1): creating one for a
 * package, reading one with JSON-path errors, and checking one against a package. Pure.
 *
 * Check results: errors mean the file does not fit the package (missing / unknown / duplicate
 * entries, connector mismatch); placeholders and empty values are warnings that mean the file is
 * not filled in yet (a pipeline replaces them). `fits` = no errors; `ready` = fits and nothing
 * left to fill in.
 */
import { invalid } from '@patchbay/core';
import type { SolutionPackage } from './model.js';
import { resolveLimits, type SolutionLimits } from './limits.js';
import { isObject, jsonPath, parseJsonText } from './json.js';
import { decodeText } from './text.js';
import type { Finding } from './analyze.js';
import { apiNameOf } from './analyze.js';

/** The JSON `pac solution create-settings` writes. */
export interface DeploymentSettingsJson {
  EnvironmentVariables: Array<{ SchemaName: string; Value: string }>;
  ConnectionReferences: Array<{ LogicalName: string; ConnectionId: string; ConnectorId: string }>;
}

/** One settings entry for an environment variable. */
export interface SettingsVariableEntry {
  schemaName: string;
  value: string;
  /** JSON path of the entry, e.g. `$.EnvironmentVariables[2]`. */
  path: string;
  /** Keys pac does not read, as found. */
  extra: Record<string, unknown>;
}

/** One settings entry for a connection reference. */
export interface SettingsReferenceEntry {
  logicalName: string;
  connectionId: string;
  connectorId?: string;
  path: string;
  /** Keys pac does not read (e.g. `ConnectionOwner` of the ALM Accelerator), as found. */
  extra: Record<string, unknown>;
}

/** A parsed deployment settings file. */
export interface DeploymentSettings {
  file: string;
  environmentVariables: SettingsVariableEntry[];
  connectionReferences: SettingsReferenceEntry[];
  /** Top-level keys pac does not read (e.g. `AadGroupCanvasConfiguration`). */
  extraKeys: string[];
}

/** A shape problem of a settings file. */
export interface SettingsShapeError {
  path: string;
  message: string;
  hint?: string;
}

/**
 * Creates the settings JSON for a package: one entry per connection reference and per
 * environment variable definition (all types), with empty `ConnectionId` / `Value`, in package order.
 */
export function createDeploymentSettings(pkg: SolutionPackage): DeploymentSettingsJson {
  return {
    EnvironmentVariables: pkg.environmentVariables.map((v) => ({ SchemaName: v.schemaName, Value: '' })),
    ConnectionReferences: pkg.connectionReferences.map((r) => ({
      LogicalName: r.logicalName,
      ConnectionId: '',
      ConnectorId: r.connectorId,
    })),
  };
}

/** The settings JSON as file text (2-space indentation, final newline). */
export function formatDeploymentSettings(settings: DeploymentSettingsJson): string {
  return JSON.stringify(settings, null, 2) + '\n';
}

const PAIR_HINT =
  'this is the older [name, value] pair format; pac expects objects such as {"SchemaName": "x", "Value": "y"} and {"LogicalName": "x", "ConnectionId": "y", "ConnectorId": "z"}';

/** Options of {@link parseDeploymentSettings}. */
export interface ParseSettingsOptions {
  /** File named in errors. */
  file: string;
  limits?: Partial<SolutionLimits>;
}

/**
 * Reads a settings file, given as text or as the file's bytes (UTF-8 with or without a byte-order
 * mark, or UTF-16 with one; bytes that are not valid UTF-8 are SETTINGS_JSON_INVALID with line,
 * column and byte offset). Errors (exit 2): SETTINGS_JSON_INVALID (line, column),
 * SETTINGS_JSON_TOO_LARGE / _TOO_DEEP, and SETTINGS_SHAPE_INVALID with `details.errors`, a list of
 * `{path, message, hint?}` covering every shape problem (the legacy array-of-pairs shape gets a hint).
 */
export function parseDeploymentSettings(text: string | Uint8Array, options: ParseSettingsOptions): DeploymentSettings {
  const limits = resolveLimits(options.limits);
  const { file } = options;
  const body = typeof text === 'string' ? text : decodeText(text, { file, code: 'SETTINGS_JSON_INVALID' }).text;
  const root = parseJsonText(body, { file, limits, codePrefix: 'SETTINGS_JSON' });
  const errors: SettingsShapeError[] = [];
  const out: DeploymentSettings = { file, environmentVariables: [], connectionReferences: [], extraKeys: [] };
  if (!isObject(root)) {
    throw invalid('SETTINGS_SHAPE_INVALID', `${file}: the settings file must be a JSON object`, {
      file,
      errors: [{ path: '$', message: 'not an object' }],
    });
  }
  const str = (entry: Record<string, unknown>, key: string, at: string, required: boolean): string | undefined => {
    const v = entry[key];
    if (v === undefined) {
      if (required) errors.push({ path: jsonPath(at, key), message: `missing "${key}"` });
      return undefined;
    }
    if (typeof v !== 'string') {
      errors.push({
        path: jsonPath(at, key),
        message: `must be a string, found ${v === null ? 'null' : typeof v}`,
        hint: typeof v === 'number' || typeof v === 'boolean' ? `write it as a string: "${String(v)}"` : undefined,
      });
      return undefined;
    }
    return v;
  };
  const list = (key: string): unknown[] => {
    const v = root[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      errors.push({ path: jsonPath('$', key), message: 'must be an array' });
      return [];
    }
    return v;
  };
  const readVariables = (): void =>
    list('EnvironmentVariables').forEach((e, i) => {
      const at = jsonPath('$.EnvironmentVariables', i);
      if (Array.isArray(e))
        return void errors.push({ path: at, message: 'an entry is an array, expected an object', hint: PAIR_HINT });
      if (!isObject(e)) return void errors.push({ path: at, message: 'an entry must be an object' });
      const schemaName = str(e, 'SchemaName', at, true);
      const value = str(e, 'Value', at, true);
      if (schemaName === '') errors.push({ path: `${at}.SchemaName`, message: 'empty SchemaName' });
      if (schemaName && value !== undefined) {
        const extra = Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'SchemaName' && k !== 'Value'));
        out.environmentVariables.push({ schemaName, value, path: at, extra });
      }
    });
  const readReferences = (): void =>
    list('ConnectionReferences').forEach((e, i) => {
      const at = jsonPath('$.ConnectionReferences', i);
      if (Array.isArray(e))
        return void errors.push({ path: at, message: 'an entry is an array, expected an object', hint: PAIR_HINT });
      if (!isObject(e)) return void errors.push({ path: at, message: 'an entry must be an object' });
      const logicalName = str(e, 'LogicalName', at, true);
      const connectionId = str(e, 'ConnectionId', at, true);
      const connectorId = str(e, 'ConnectorId', at, false);
      if (logicalName === '') errors.push({ path: `${at}.LogicalName`, message: 'empty LogicalName' });
      if (logicalName && connectionId !== undefined) {
        const extra = Object.fromEntries(
          Object.entries(e).filter(([k]) => !['LogicalName', 'ConnectionId', 'ConnectorId'].includes(k)),
        );
        const entry: SettingsReferenceEntry = { logicalName, connectionId, path: at, extra };
        if (connectorId !== undefined) entry.connectorId = connectorId;
        out.connectionReferences.push(entry);
      }
    });
  // Shape errors are collected in file order: the two lists in the order the file has them.
  for (const key of Object.keys(root)) {
    if (key === 'EnvironmentVariables') readVariables();
    else if (key === 'ConnectionReferences') readReferences();
    else {
      const lower = key.toLowerCase();
      if (lower === 'environmentvariables' || lower === 'connectionreferences') {
        errors.push({
          path: jsonPath('$', key),
          message: `unexpected key "${key}"`,
          hint: `pac reads "${lower === 'environmentvariables' ? 'EnvironmentVariables' : 'ConnectionReferences'}" (exact case)`,
        });
      } else out.extraKeys.push(key);
    }
  }
  if (errors.length > 0) throw invalid('SETTINGS_SHAPE_INVALID', shapeMessage(file, errors), { file, errors });
  return out;
}

/** Every shape error on its own line, in file order, each distinct hint once after the list. */
function shapeMessage(file: string, errors: SettingsShapeError[]): string {
  const lines = [`${file}: ${errors.length} shape error${errors.length === 1 ? '' : 's'}:`];
  for (const e of errors) lines.push(`  ${e.path}: ${e.message}`);
  for (const hint of new Set(errors.map((e) => e.hint).filter((h): h is string => h !== undefined)))
    lines.push(`hint: ${hint}`);
  return lines.join('\n');
}

/** Placeholder syntaxes of pipeline token replacement: `#{…}#` (Azure DevOps), `@@…@@`, `${…}`, `__…__`. */
export const PLACEHOLDER_PATTERNS: readonly RegExp[] = [
  /#\{[^}]*\}#/g,
  /@@[^@\s]+@@/g,
  /\$\{[^}]*\}/g,
  /__[A-Za-z0-9_.:-]+?__/g,
];

/** The placeholder tokens found in a value. */
export function findPlaceholders(value: string): string[] {
  const found: string[] = [];
  for (const re of PLACEHOLDER_PATTERNS) for (const m of value.matchAll(re)) found.push(m[0]);
  return found;
}

/** Compares strings with their numbers as numbers (`[2]` before `[10]`). */
const NATURAL = new Intl.Collator('en', { numeric: true });

/** The result of {@link checkDeploymentSettings}. */
export interface SettingsCheckResult {
  file: string;
  /** No error findings: every entry matches the package and nothing is missing or duplicated. */
  fits: boolean;
  /** Fits, and no placeholder or empty value is left: ready to deploy. */
  ready: boolean;
  findings: Finding[];
  /**
   * `placeholders`: tokens in the values pac reads (ConnectionId, Value); `otherPlaceholders`: tokens in
   * keys pac does not read (e.g. ConnectionOwner), which other pipeline steps fill in.
   */
  summary: {
    errors: number;
    warnings: number;
    info: number;
    placeholders: number;
    otherPlaceholders: number;
    emptyValues: number;
  };
}

/**
 * Checks a parsed settings file against a package (or, without one, only the entries
 * themselves). Logical and schema names match case-insensitively, as Dataverse names do.
 *
 * Codes: SETTINGS_DUPLICATE_ENTRY, SETTINGS_UNKNOWN_REFERENCE, SETTINGS_UNKNOWN_VARIABLE,
 * SETTINGS_MISSING_REFERENCE, SETTINGS_CONNECTOR_MISMATCH (errors); SETTINGS_MISSING_VARIABLE
 * (error, or warning when the definition has a default or current value),
 * SETTINGS_CUSTOM_CONNECTOR_ID_DIFFERS, SETTINGS_CONNECTOR_ID_MISSING, SETTINGS_PLACEHOLDER,
 * SETTINGS_EMPTY_VALUE (warnings); SETTINGS_CONNECTOR_ID_CASE, SETTINGS_EXTRA_KEY (info). Findings are
 * sorted by severity, code, then message with numbers compared as numbers. A missing or empty
 * ConnectorId is reported but does not make the file not ready: neither pac nor Patchbay's import
 * reads it (the bound connection is checked against the package's reference).
 */
export function checkDeploymentSettings(
  pkg: SolutionPackage | undefined,
  settings: DeploymentSettings,
): SettingsCheckResult {
  const findings: Finding[] = [];
  const dupCheck = (entries: Array<{ name: string; path: string }>, kind: 'reference' | 'variable'): void => {
    const seen = new Map<string, { name: string; path: string }>();
    for (const e of entries) {
      const prev = seen.get(e.name.toLowerCase());
      if (prev) {
        findings.push({
          code: 'SETTINGS_DUPLICATE_ENTRY',
          severity: 'error',
          message: `${e.path}: ${kind} ${e.name} already has an entry at ${prev.path}${prev.name !== e.name ? ' (the names differ only in case)' : ''}`,
          ...(kind === 'reference' ? { reference: e.name } : { variable: e.name }),
          details: { path: e.path, firstPath: prev.path },
        });
      } else seen.set(e.name.toLowerCase(), e);
    }
  };
  dupCheck(
    settings.connectionReferences.map((e) => ({ name: e.logicalName, path: e.path })),
    'reference',
  );
  dupCheck(
    settings.environmentVariables.map((e) => ({ name: e.schemaName, path: e.path })),
    'variable',
  );

  let placeholders = 0;
  let otherPlaceholders = 0;
  let emptyValues = 0;
  const valueChecks = (
    entry: { path: string; extra: Record<string, unknown> },
    field: string,
    value: string,
    subject: Pick<Finding, 'reference' | 'variable'>,
  ): void => {
    const check = (path: string, v: string, read: boolean): void => {
      const tokens = findPlaceholders(v);
      if (tokens.length > 0) {
        if (read) placeholders += tokens.length;
        else otherPlaceholders += tokens.length;
        findings.push({
          code: 'SETTINGS_PLACEHOLDER',
          severity: 'warning',
          message: `${path}: unresolved placeholder ${tokens.join(', ')}`,
          ...subject,
          details: { path, tokens },
        });
      }
    };
    const path = `${entry.path}.${field}`;
    if (value.trim() === '') {
      emptyValues++;
      findings.push({
        code: 'SETTINGS_EMPTY_VALUE',
        severity: 'warning',
        message: `${path}: empty value`,
        ...subject,
        details: { path },
      });
    } else check(path, value, true);
    for (const [k, v] of Object.entries(entry.extra))
      if (typeof v === 'string') check(jsonPath(entry.path, k), v, false);
  };
  for (const e of settings.connectionReferences) {
    valueChecks(e, 'ConnectionId', e.connectionId, { reference: e.logicalName });
    const path = `${e.path}.ConnectorId`;
    if (e.connectorId === undefined || e.connectorId.trim() === '') {
      findings.push({
        code: 'SETTINGS_CONNECTOR_ID_MISSING',
        severity: 'warning',
        message: `${path}: ${e.connectorId === undefined ? 'missing' : 'empty'}; pac writes the connector of each reference here, so the entry cannot be checked against the package`,
        reference: e.logicalName,
        details: { path },
      });
    } else {
      const tokens = findPlaceholders(e.connectorId);
      if (tokens.length > 0) {
        otherPlaceholders += tokens.length;
        findings.push({
          code: 'SETTINGS_PLACEHOLDER',
          severity: 'warning',
          message: `${path}: unresolved placeholder ${tokens.join(', ')}`,
          reference: e.logicalName,
          details: { path, tokens },
        });
      }
    }
  }
  for (const e of settings.environmentVariables) valueChecks(e, 'Value', e.value, { variable: e.schemaName });

  for (const k of settings.extraKeys) {
    findings.push({
      code: 'SETTINGS_EXTRA_KEY',
      severity: 'info',
      message: `${jsonPath('$', k)}: key not read by pac solution import (kept for other tooling)`,
      details: { path: jsonPath('$', k) },
    });
  }
  for (const e of [...settings.connectionReferences, ...settings.environmentVariables]) {
    for (const k of Object.keys(e.extra)) {
      findings.push({
        code: 'SETTINGS_EXTRA_KEY',
        severity: 'info',
        message: `${jsonPath(e.path, k)}: key not read by pac solution import (kept for other tooling)`,
        details: { path: jsonPath(e.path, k) },
      });
    }
  }

  if (pkg) {
    const refs = new Map(pkg.connectionReferences.map((r) => [r.logicalName.toLowerCase(), r]));
    const vars = new Map(pkg.environmentVariables.map((v) => [v.schemaName.toLowerCase(), v]));
    const refEntries = new Set(settings.connectionReferences.map((e) => e.logicalName.toLowerCase()));
    const varEntries = new Set(settings.environmentVariables.map((e) => e.schemaName.toLowerCase()));
    for (const e of settings.connectionReferences) {
      const ref = refs.get(e.logicalName.toLowerCase());
      if (!ref) {
        findings.push({
          code: 'SETTINGS_UNKNOWN_REFERENCE',
          severity: 'error',
          message: `${e.path}: connection reference ${e.logicalName} is not in solution ${pkg.manifest.uniqueName}`,
          reference: e.logicalName,
          details: { path: e.path },
        });
        continue;
      }
      if (e.connectorId !== undefined && e.connectorId.trim() !== '' && findPlaceholders(e.connectorId).length === 0) {
        const same = e.connectorId.trim().toLowerCase() === ref.connectorId.trim().toLowerCase();
        if (same && e.connectorId.trim() !== ref.connectorId.trim()) {
          findings.push({
            code: 'SETTINGS_CONNECTOR_ID_CASE',
            severity: 'info',
            message: `${e.path}.ConnectorId: ${e.connectorId} differs from the package's ${ref.connectorId} only in case (matched case-insensitively)`,
            reference: ref.logicalName,
            details: { path: `${e.path}.ConnectorId`, expected: ref.connectorId, found: e.connectorId },
          });
        } else if (!same && ref.customConnectorId) {
          findings.push({
            code: 'SETTINGS_CUSTOM_CONNECTOR_ID_DIFFERS',
            severity: 'warning',
            message: `${e.path}.ConnectorId: ${e.connectorId} differs from the package's ${ref.connectorId}; custom connector api names are environment-specific, so check it names the same custom connector`,
            reference: ref.logicalName,
            details: { path: `${e.path}.ConnectorId`, expected: ref.connectorId, found: e.connectorId },
          });
        } else if (!same && apiNameOf(e.connectorId).toLowerCase() !== apiNameOf(ref.connectorId).toLowerCase()) {
          findings.push({
            code: 'SETTINGS_CONNECTOR_MISMATCH',
            severity: 'error',
            message: `${e.path}.ConnectorId: ${e.connectorId} is not the connector of ${ref.logicalName} (${ref.connectorId})`,
            reference: ref.logicalName,
            details: { path: `${e.path}.ConnectorId`, expected: ref.connectorId, found: e.connectorId },
          });
        }
      }
    }
    for (const e of settings.environmentVariables) {
      if (!vars.has(e.schemaName.toLowerCase())) {
        findings.push({
          code: 'SETTINGS_UNKNOWN_VARIABLE',
          severity: 'error',
          message: `${e.path}: environment variable ${e.schemaName} is not in solution ${pkg.manifest.uniqueName}`,
          variable: e.schemaName,
          details: { path: e.path },
        });
      }
    }
    for (const r of pkg.connectionReferences) {
      if (!refEntries.has(r.logicalName.toLowerCase())) {
        findings.push({
          code: 'SETTINGS_MISSING_REFERENCE',
          severity: 'error',
          message: `no entry for connection reference ${r.logicalName} (${r.connectorId})`,
          reference: r.logicalName,
        });
      }
    }
    for (const v of pkg.environmentVariables) {
      if (!varEntries.has(v.schemaName.toLowerCase())) {
        const fallback = v.currentValue !== undefined || (v.defaultValue !== undefined && v.defaultValue !== '');
        findings.push({
          code: 'SETTINGS_MISSING_VARIABLE',
          severity: fallback ? 'warning' : 'error',
          message: `no entry for environment variable ${v.schemaName}${fallback ? ' (the package value applies)' : ' and the package gives it no value'}`,
          variable: v.schemaName,
        });
      }
    }
  }

  const rank = { error: 0, warning: 1, info: 2 } as const;
  findings.sort(
    (a, b) =>
      rank[a.severity] - rank[b.severity] || a.code.localeCompare(b.code) || NATURAL.compare(a.message, b.message),
  );
  const summary = { errors: 0, warnings: 0, info: 0, placeholders, otherPlaceholders, emptyValues };
  for (const f of findings) {
    if (f.severity === 'error') summary.errors++;
    else if (f.severity === 'warning') summary.warnings++;
    else summary.info++;
  }
  const fits = summary.errors === 0;
  return {
    file: settings.file,
    fits,
    ready: fits && placeholders === 0 && otherPlaceholders === 0 && emptyValues === 0,
    findings,
    summary,
  };
}
