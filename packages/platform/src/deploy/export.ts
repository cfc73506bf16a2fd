/**
 * Solution export (design §3E, docs/alm.md "solution export"): builds a SolutionPackage from an
 * environment's current state, with @patchbay/solution's model (components built in code, no
 * XML element kept) so that its writers (`renderSolutionFiles`, `writeSolutionZip`,
 * `writeSolutionFolder`) produce the files.
 *
 * What goes in: the solution's flows (definitions as stored), its connection references without
 * any connection (bindings never leave the environment), its environment variable definitions
 * with their defaults and no value (values belong to environments; Secret values never leave),
 * and the custom connectors it installed (definition, no secret).
 */
import { notFound, type Connector, type Environment, type Repositories, type Solution } from '@patchbay/core';
import type {
  ConnectionReferenceComponent,
  CustomConnectorComponent,
  EnvironmentVariableDefinition,
  FlowComponent,
  SolutionPackage,
  XmlElement,
} from '@patchbay/solution';
import { analyzeFlowJson, ENV_VAR_TYPE_CODES } from '@patchbay/solution';

/** Options of {@link buildExportPackage}. */
export interface ExportOptions {
  repos: Repositories;
  env: Environment;
  solution: Solution;
  /** Export as managed (Solution.xml `<Managed>1`). Default: as installed. */
  managed?: boolean;
}

const xmlEscape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A `<Connector>` element naming its part files (the writer fills in the other fields). */
function connectorElement(name: string, fields: string[]): XmlElement {
  return {
    name: 'Connector',
    startTag: '',
    attributes: [],
    selfClosing: false,
    childIndent: 2,
    children: fields.map((f) => ({ name: f, raw: `<${f}>/Connector/${name}_${f}.json</${f}>`, reindent: true })),
  };
}

function solutionXml(s: Solution, managed: boolean): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<ImportExportXml version="9.2.0.0" SolutionPackageVersion="9.2" languagecode="1033" generatedBy="Patchbay" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">',
    '  <SolutionManifest>',
    `    <UniqueName>${xmlEscape(s.uniqueName)}</UniqueName>`,
    '    <LocalizedNames>',
    `      <LocalizedName description="${xmlEscape(s.displayName)}" languagecode="1033" />`,
    '    </LocalizedNames>',
    '    <Descriptions />',
    `    <Version>${xmlEscape(s.version)}</Version>`,
    `    <Managed>${managed ? 1 : 0}</Managed>`,
    '    <Publisher>',
    `      <UniqueName>${xmlEscape(s.publisher.uniqueName)}</UniqueName>`,
    '      <LocalizedNames>',
    `        <LocalizedName description="${xmlEscape(s.publisher.uniqueName)}" languagecode="1033" />`,
    '      </LocalizedNames>',
    '      <Descriptions />',
    `      <CustomizationPrefix>${xmlEscape(s.publisher.prefix)}</CustomizationPrefix>`,
    '    </Publisher>',
    '    <RootComponents />',
    '    <MissingDependencies />',
    '  </SolutionManifest>',
    '</ImportExportXml>',
    '',
  ].join('\n');
}

const CUSTOMIZATIONS_XML = [
  '<?xml version="1.0" encoding="utf-8"?>',
  '<ImportExportXml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" OrganizationSchemaType="Standard">',
  '  <Entities />',
  '  <Roles />',
  '  <Workflows />',
  '  <FieldSecurityProfiles />',
  '  <Templates />',
  '  <EntityMaps />',
  '  <EntityRelationships />',
  '  <OrganizationSettings />',
  '  <optionsets />',
  '  <CustomControls />',
  '  <EntityDataProviders />',
  '  <Languages>',
  '    <Language>1033</Language>',
  '  </Languages>',
  '</ImportExportXml>',
  '',
].join('\n');

function customConnector(c: Connector): CustomConnectorComponent {
  const def = c.definition;
  const fields = ['openapidefinition', 'connectionparameters', 'policytemplateinstances'];
  const out: CustomConnectorComponent = {
    name: c.id,
    displayName: c.displayName,
    connectorType: 1,
    openApiDefinition: def?.openApi ?? {},
    connectionParameters: def?.connectionParameterSets
      ? { ...(def.connectionParameters ?? {}) }
      : (def?.connectionParameters ?? {}),
    policyTemplateInstances: def?.policyTemplateInstances ?? [],
    parts: fields.map((f) => ({ field: f, ref: `/Connector/${c.id}_${f}.json` })),
    element: connectorElement(c.id, fields),
  };
  if (c.packageConnectorId) out.connectorId = c.packageConnectorId;
  const color = def?.otherProperties?.['iconBrandColor'];
  if (typeof color === 'string') out.iconBrandColor = color;
  if (def?.script !== undefined) {
    out.script = def.script;
    out.parts.push({ field: 'customcodeblobcontent', ref: `/Connector/${c.id}_customcodeblobcontent.json` });
  }
  return out;
}

/**
 * Builds the package of an installed solution from the environment's current state.
 * @throws SOLUTION_COMPONENT_MISSING (not-found) when a listed flow no longer exists.
 */
export async function buildExportPackage(o: ExportOptions): Promise<SolutionPackage> {
  const { repos, env, solution } = o;
  const managed = o.managed ?? solution.managed;
  const flows: FlowComponent[] = [];
  const references: ConnectionReferenceComponent[] = [];
  const variables: EnvironmentVariableDefinition[] = [];
  const connectors: CustomConnectorComponent[] = [];
  for (const c of solution.components) {
    if (c.type === 'flow') {
      const f = await repos.flows.get(env.id, c.id);
      if (!f)
        throw notFound(
          'SOLUTION_COMPONENT_MISSING',
          `flow ${c.id} of solution ${solution.uniqueName} no longer exists in ${env.name}`,
          { solution: solution.uniqueName, flow: c.id },
        );
      const text = JSON.stringify(f.definition, null, 2);
      const fileName = `Workflows/${f.name.replace(/[^A-Za-z0-9]+/g, '').slice(0, 40) || 'Flow'}-${f.id.toUpperCase()}.json`;
      const facts = analyzeFlowJson(f.definition, fileName);
      flows.push({
        workflowId: f.id,
        name: f.name,
        fileName,
        category: 5,
        type: 1,
        stateCode: f.turnedOn ? 1 : 0,
        statusCode: f.turnedOn ? 2 : 1,
        onWhenExported: f.turnedOn,
        localizedNames: [{ languageCode: '1033', description: f.name }],
        descriptions: [],
        clientData: f.definition,
        clientDataText: text,
        clientDataEncoding: { encoding: 'utf8', bom: false },
        connectionMap: facts.connectionMap,
        unmappedUses: facts.unmappedUses,
        envVarParameters: facts.envVarParameters,
        triggers: facts.triggers,
        actionCount: facts.actionCount,
      });
    } else if (c.type === 'connectionReference') {
      const r = await repos.references.getByLogicalName(env.id, c.id);
      if (!r) continue;
      const connector = await repos.connectors.get(env.id, r.connectorId);
      references.push({
        logicalName: r.logicalName,
        displayName: r.displayName,
        connectorId: `/providers/Microsoft.PowerApps/apis/${r.connectorId}`,
        ...((r.customConnectorId ?? connector?.packageConnectorId)
          ? { customConnectorId: r.customConnectorId ?? connector?.packageConnectorId }
          : {}),
        ...(r.description ? { description: r.description } : {}),
        promptingBehavior: r.promptingBehavior ?? 0,
        stateCode: 0,
        statusCode: 1,
        isCustomizable: true,
      });
    } else if (c.type === 'environmentVariable') {
      const d = await repos.environmentVariables.getDefinition(env.id, c.id);
      if (!d) continue;
      variables.push({
        schemaName: d.schemaName,
        displayName: d.displayName,
        type: d.type,
        typeCode: ENV_VAR_TYPE_CODES[d.type],
        ...(d.defaultValue !== undefined && d.type !== 'Secret' ? { defaultValue: d.defaultValue } : {}),
        isRequired: d.isRequired,
        isCustomizable: true,
        fileName: `environmentvariabledefinitions/${d.schemaName}/environmentvariabledefinition.xml`,
      });
    } else if (c.type === 'connector') {
      const k = await repos.connectors.get(env.id, c.id);
      if (k && k.kind === 'custom') connectors.push(customConnector(k));
    }
  }
  return {
    name: solution.uniqueName,
    layout: 'zip',
    manifest: {
      uniqueName: solution.uniqueName,
      version: solution.version,
      managed: managed ? 1 : 0,
      localizedNames: [{ languageCode: '1033', description: solution.displayName }],
      descriptions: [],
      publisher: { uniqueName: solution.publisher.uniqueName, prefix: solution.publisher.prefix, localizedNames: [] },
      rootComponents: [],
      missingDependencies: [],
    },
    flows,
    otherWorkflows: [],
    connectionReferences: references,
    environmentVariables: variables,
    customConnectors: connectors,
    files: [],
    warnings: [],
    sources: {
      solutionXml: solutionXml(solution, managed),
      solutionXmlEncoding: { encoding: 'utf8', bom: false },
      customizationsXml: CUSTOMIZATIONS_XML,
      customizationsXmlEncoding: { encoding: 'utf8', bom: false },
    },
  };
}
