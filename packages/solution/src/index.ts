/**
 * @patchbay/solution — Power Platform solution packages (exported zip and unpacked
 * source-control tree), cloud-flow JSON, deployment settings files and custom connector files.
 * Formats: ../shared/reference/powerplatform-formats.md; what is read and written: docs/formats.md.
 *
 * Pure parts (buffers and strings in, model out): parseSolutionFiles, renderSolutionFiles,
 * readSolutionZip, writeSolutionZip, analyzeSolution, the settings functions,
 * parseCustomConnectorSource. File-system parts: readSolution, writeSolutionFolder,
 * writeSolutionZipFile, readCustomConnectorFolder.
 */
export type * from './model.js';
export { DEFAULT_LIMITS, resolveLimits, type SolutionLimits } from './limits.js';
export {
  parseSolutionFiles,
  renderSolutionFiles,
  contentTypesFor,
  dataverseZipOrder,
  findFlow,
  solutionCounts,
  type SolutionFiles,
  type ParseSolutionOptions,
} from './package.js';
export { readSolutionZip, writeSolutionZip, type ReadSolutionZipOptions } from './zip-package.js';
export { readZipEntries, writeZipEntries, type ReadZipOptions } from './zip.js';
export {
  readSolution,
  writeSolutionFolder,
  writeSolutionZipFile,
  readCustomConnectorFolder,
  findSolutionRoot,
  type ReadSolutionOptions,
  type WriteFolderOptions,
} from './fs.js';
export { analyzeFlowJson, withFlowClientData, embeddedConnectionKeys, type FlowJsonFacts } from './flow.js';
export {
  analyzeSolution,
  apiNameOf,
  DEFAULT_NAMING_RULE,
  type AnalyzeOptions,
  type Finding,
  type FindingSeverity,
  type NamingRule,
  type ReferenceUsage,
  type EnvironmentVariableUsage,
  type SolutionAnalysis,
} from './analyze.js';
export {
  createDeploymentSettings,
  formatDeploymentSettings,
  parseDeploymentSettings,
  checkDeploymentSettings,
  findPlaceholders,
  PLACEHOLDER_PATTERNS,
  type DeploymentSettings,
  type DeploymentSettingsJson,
  type SettingsCheckResult,
  type SettingsReferenceEntry,
  type SettingsVariableEntry,
  type SettingsShapeError,
  type ParseSettingsOptions,
} from './settings.js';
export {
  parseCustomConnectorSource,
  customConnectorDefinition,
  checkOpenApiDefinition,
  type CustomConnectorDefinition,
  type CustomConnectorSourceTexts,
  type ParseConnectorOptions,
} from './connector-source.js';
export { ENV_VAR_TYPE_CODES, normalizeGuid } from './components.js';
export { describeSolution, type DescribeOptions } from './describe.js';
export { parseJsonText, type ParseJsonOptions } from './json.js';
export type { XmlElement, XmlChild } from './xml.js';
export type { TextEncoding } from './text.js';
