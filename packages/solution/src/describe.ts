/**
 * A JSON view of a package model without the preserved XML and file bytes: what
 * `patchbay solution analyze --json` prints, and what round-trip tests compare. Pure.
 */
import { createHash } from 'node:crypto';
import type { SolutionPackage } from './model.js';

/** Options of {@link describeSolution}. */
export interface DescribeOptions {
  /** Include each flow's parsed JSON (`clientData`). Default false. */
  includeFlowDefinitions?: boolean;
  /** Include the OpenAPI definitions and connection parameters of custom connectors. Default false. */
  includeConnectorDefinitions?: boolean;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

/**
 * The model as plain JSON, independent of the layout it was read from: components sorted by
 * key, preserved files and connector parts as `{path, bytes, sha256}`.
 */
export function describeSolution(pkg: SolutionPackage, options: DescribeOptions = {}): Record<string, unknown> {
  return {
    manifest: pkg.manifest,
    flows: [...pkg.flows].sort(byKey((f) => f.workflowId)).map((f) => ({
      workflowId: f.workflowId,
      name: f.name,
      description: f.description,
      fileName: f.fileName,
      category: f.category,
      type: f.type,
      stateCode: f.stateCode,
      statusCode: f.statusCode,
      onWhenExported: f.onWhenExported,
      localizedNames: f.localizedNames,
      descriptions: f.descriptions,
      triggers: f.triggers,
      actionCount: f.actionCount,
      connectionMap: { ...f.connectionMap },
      unmappedUses: f.unmappedUses,
      envVarParameters: f.envVarParameters,
      ...(options.includeFlowDefinitions ? { clientData: f.clientData } : {}),
    })),
    otherWorkflows: [...pkg.otherWorkflows]
      .sort(byKey((w) => w.workflowId))
      .map((w) => ({ workflowId: w.workflowId, name: w.name, category: w.category, fileName: w.fileName })),
    connectionReferences: [...pkg.connectionReferences].sort(byKey((r) => r.logicalName.toLowerCase())).map((r) => {
      const { element: _element, ...rest } = r;
      return rest;
    }),
    environmentVariables: [...pkg.environmentVariables].sort(byKey((v) => v.schemaName.toLowerCase())).map((v) => {
      const { element: _e, xmlFile: _x, valuesText: _v, valuesEncoding: _ve, ...rest } = v;
      return rest;
    }),
    customConnectors: [...pkg.customConnectors].sort(byKey((c) => c.name.toLowerCase())).map((c) => {
      const {
        element: _e,
        parts,
        openApiDefinition,
        connectionParameters,
        policyTemplateInstances,
        script,
        ...rest
      } = c;
      return {
        ...rest,
        parts: parts.map((p) => ({
          field: p.field,
          ref: p.ref,
          bytes: p.data?.length ?? null,
          sha256: p.data ? sha256(p.data) : null,
        })),
        ...(options.includeConnectorDefinitions
          ? { openApiDefinition, connectionParameters, policyTemplateInstances, script }
          : {}),
      };
    }),
    files: [...pkg.files]
      .sort(byKey((f) => f.path))
      .map((f) => ({ path: f.path, bytes: f.data.length, sha256: sha256(f.data) })),
    warnings: pkg.warnings,
  };
}
