/**
 * Compiling a workflow definition into a `Plan`: every action indexed by its (definition-wide
 * unique) name, the runAfter graph of every container as blocks, expressions compiled once with
 * `@patchbay/expression`. A plan is immutable and reused by every run of the definition
 * (`compileDefinition` caches it per definition object).
 *
 * Source: wdl-spec.md §1 (skeleton, unique names), §3 (action shapes), §4 (runAfter).
 */
import { invalid } from '@patchbay/core';
import { compileValue, type CompiledValue } from '@patchbay/expression';
import { parseDuration } from './duration.js';
import type { RunError } from './types.js';

/** What the engine does with an action (from its `type`, compared case-insensitively). */
export type ActionKind =
  | 'compose'
  | 'initializevariable'
  | 'setvariable'
  | 'incrementvariable'
  | 'decrementvariable'
  | 'appendtoarrayvariable'
  | 'appendtostringvariable'
  | 'if'
  | 'switch'
  | 'foreach'
  | 'until'
  | 'scope'
  | 'terminate'
  | 'response'
  | 'query'
  | 'select'
  | 'join'
  | 'table'
  | 'parsejson'
  | 'wait'
  | 'http'
  | 'workflow'
  | 'connector'
  | 'unsupported';

const KINDS: Record<string, ActionKind> = {
  compose: 'compose',
  initializevariable: 'initializevariable',
  setvariable: 'setvariable',
  incrementvariable: 'incrementvariable',
  decrementvariable: 'decrementvariable',
  appendtoarrayvariable: 'appendtoarrayvariable',
  appendtostringvariable: 'appendtostringvariable',
  if: 'if',
  switch: 'switch',
  foreach: 'foreach',
  until: 'until',
  scope: 'scope',
  terminate: 'terminate',
  response: 'response',
  query: 'query',
  select: 'select',
  join: 'join',
  table: 'table',
  parsejson: 'parsejson',
  wait: 'wait',
  delay: 'wait',
  http: 'http',
  workflow: 'workflow',
  apiconnection: 'connector',
  apiconnectionwebhook: 'connector',
  apiconnectionnotification: 'connector',
  openapiconnection: 'connector',
  openapiconnectionwebhook: 'connector',
  openapiconnectionnotification: 'connector',
};

/** Kinds evaluated inside the engine (no command, no retry policy). */
export const CONTAINER_KINDS = new Set<ActionKind>(['if', 'switch', 'foreach', 'until', 'scope']);

/** A compiled condition: `If`/`Until` expression as a string or as a designer condition object. */
export interface CompiledCondition {
  /** The condition as one compiled value; operands of a condition object are read through `operands`. */
  value: CompiledValue;
  /** Operands of a designer condition object, in the order the placeholders use them. */
  operands: CompiledValue[];
}

/** Placeholder prefix for condition-object operands (never a valid variable name in a definition). */
export const OPERAND_PREFIX = '\u0000op';

/** One runAfter dependency: the predecessor and the statuses it must end in (canonical spelling). */
export interface RunAfterEdge {
  pred: string;
  statuses: string[];
}

/** A compiled action. */
export interface PlanAction {
  name: string;
  /** Type as written. */
  type: string;
  kind: ActionKind;
  /** The raw definition of the action. */
  def: Record<string, unknown>;
  /** Key of the block the action belongs to. */
  block: string;
  /** Name of the enclosing container action, undefined at the top level. */
  parent?: string;
  runAfter: RunAfterEdge[];
  /** Actions of the same block that list this one in their runAfter. */
  successors: string[];
  /** Compiled `inputs` (for Select/Query/Table without the per-item parts; for connectors without `host`). */
  inputs?: CompiledValue;
  /** Set when an expression of the action did not compile: the action fails with this error when it runs. */
  compileError?: RunError;
  /** If/Until: the condition. Switch: `expression` (as a condition value). */
  condition?: CompiledCondition;
  /** Foreach: the array expression. */
  foreach?: CompiledValue;
  /** Select: `select` (object map or text mode); Query: `where`; Table: column values. */
  perItem?: CompiledValue;
  tableColumns?: Array<{ header: string; value: CompiledValue }>;
  /** Container blocks: If `actions`/`else`, Switch cases and `default`, Foreach/Until/Scope `actions`. */
  blocks?: {
    actions?: string;
    else?: string;
    default?: string;
    cases?: Array<{ name: string; value: unknown; block: string }>;
  };
  /** `limit.timeout` in ms (I/O actions and Wait; for Until the loop timeout). */
  timeoutMs?: number;
  /** Until: `limit.count`. */
  limitCount?: number;
  /** Foreach parallelism (1 = sequential). */
  concurrency?: number;
  /** `operationOptions` entries, lowercased. */
  operationOptions: string[];
  /** `runtimeConfiguration.staticResult.name` when `staticResultOptions` is Enabled. */
  staticResultName?: string;
  secureInputs: boolean;
  secureOutputs: boolean;
  trackedProperties?: CompiledValue;
  /** Connector actions: raw host and connection key. */
  host?: Record<string, unknown>;
  connectionName?: string;
  /** Workflow actions: the child workflow id. */
  workflowId?: string;
}

/** A container's actions and their runAfter graph. */
export interface PlanBlock {
  key: string;
  /** Container action owning the block; undefined for the top level (key ''). */
  owner?: string;
  /** Action names in definition order. */
  actions: string[];
  /** Actions with an empty runAfter: they start when the block starts. */
  roots: string[];
  /** Actions that no other action of the block runs after (the ends of branches). */
  terminals: string[];
}

/** A definition parameter. */
export interface PlanParameter {
  name: string;
  type: string;
  defaultValue?: unknown;
  /** Environment variable schema name (`metadata.schemaName`). */
  schemaName?: string;
  secure: boolean;
}

/** The compiled trigger. */
export interface PlanTrigger {
  name: string;
  type: string;
  kind?: string;
  inputs?: unknown;
  conditions: CompiledValue[];
  conditionErrors: RunError[];
  splitOn?: CompiledValue;
  secureInputs: boolean;
  secureOutputs: boolean;
}

/** A compiled definition, reused across runs. */
export interface Plan {
  definition: Record<string, unknown>;
  actions: Map<string, PlanAction>;
  blocks: Map<string, PlanBlock>;
  trigger: PlanTrigger;
  parameters: PlanParameter[];
  outputs: Array<{ name: string; type?: string; value: CompiledValue }>;
  staticResults: Record<string, unknown>;
  /** True when some action of the definition is a Response action. */
  hasResponse: boolean;
}

const cache = new WeakMap<object, Plan>();

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The workflow definition inside a flow file: accepts a Power Automate export
 * (`{properties: {definition}}`), a Logic Apps resource (`{definition}`) or the definition itself.
 * Throws `INVALID_DEFINITION` when none is found.
 */
export function definitionOf(flow: unknown): Record<string, unknown> {
  if (isObject(flow)) {
    if (isObject(flow.properties) && isObject(flow.properties.definition)) return flow.properties.definition;
    if (isObject(flow.definition)) return flow.definition;
    if (isObject(flow.actions) || isObject(flow.triggers)) return flow;
  }
  throw invalid(
    'INVALID_DEFINITION',
    'not a workflow definition: expected {properties: {definition}}, {definition} or a definition with triggers/actions',
    {},
  );
}

/**
 * Compiles a definition (or flow file, see `definitionOf`) into a plan; cached per object, so
 * compiling the same object again is free. Throws `INVALID_DEFINITION`, `DUPLICATE_ACTION_NAME`,
 * `INVALID_RUN_AFTER`, `RUN_AFTER_CYCLE` or `VARIABLE_NOT_TOP_LEVEL` (category invalid) with
 * details naming the action. Expressions that do not compile do not throw: the action fails with
 * `InvalidTemplate` when it runs, as a Logic Apps run would report it.
 */
export function compileDefinition(flow: unknown): Plan {
  if (isObject(flow)) {
    const hit = cache.get(flow);
    if (hit) return hit;
  }
  const definition = definitionOf(flow);
  const hitDef = cache.get(definition);
  if (hitDef) return hitDef;
  const plan = buildPlan(definition);
  cache.set(definition, plan);
  if (isObject(flow)) cache.set(flow, plan);
  return plan;
}

function tryCompile(value: unknown, where: string, errors: RunError[]): CompiledValue {
  try {
    return compileValue(value);
  } catch (e) {
    errors.push({
      code: 'InvalidTemplate',
      message: `The template language expression in ${where} is not valid: ${(e as Error).message}`,
    });
    return { isConstant: true, evaluate: () => undefined };
  }
}

function canonicalStatus(s: unknown): string {
  const t = String(s).toLowerCase();
  return t === 'succeeded'
    ? 'Succeeded'
    : t === 'failed'
      ? 'Failed'
      : t === 'skipped'
        ? 'Skipped'
        : t === 'timedout'
          ? 'TimedOut'
          : String(s);
}

/** Compiles a condition: an expression string (or boolean) or a designer condition object. */
export function compileCondition(value: unknown, where: string, errors: RunError[]): CompiledCondition {
  if (!isObject(value)) return { value: tryCompile(value, where, errors), operands: [] };
  const operands: CompiledValue[] = [];
  const toSource = (node: unknown): string => {
    if (!isObject(node)) throw invalid('INVALID_CONDITION', `condition in ${where} is not an object`, { where });
    const keys = Object.keys(node);
    if (keys.length !== 1)
      throw invalid(
        'INVALID_CONDITION',
        `condition in ${where} must have exactly one operator, got ${keys.join(', ') || 'none'}`,
        { where },
      );
    const op = keys[0]!;
    const arg = node[op];
    const lower = op.toLowerCase();
    if (lower === 'and' || lower === 'or') {
      if (!Array.isArray(arg)) throw invalid('INVALID_CONDITION', `'${op}' in ${where} needs an array`, { where });
      const parts = arg.map(toSource);
      if (parts.length === 0) return lower === 'and' ? 'true' : 'false';
      if (parts.length === 1) return parts[0]!;
      return `${lower}(${parts.join(',')})`;
    }
    if (lower === 'not') return `not(${toSource(arg)})`;
    const known = [
      'equals',
      'greater',
      'greaterorequals',
      'less',
      'lessorequals',
      'contains',
      'startswith',
      'endswith',
    ];
    if (!known.includes(lower))
      throw invalid('INVALID_CONDITION', `unknown condition operator '${op}' in ${where}`, { where, operator: op });
    if (!Array.isArray(arg) || arg.length !== 2)
      throw invalid('INVALID_CONDITION', `'${op}' in ${where} needs two operands`, { where });
    const refs = arg.map((operand) => {
      operands.push(tryCompile(operand, where, errors));
      return `variables('${OPERAND_PREFIX}${operands.length - 1}')`;
    });
    return `${op}(${refs.join(',')})`;
  };
  try {
    const source = toSource(value);
    return { value: tryCompile(`@${source}`, where, errors), operands };
  } catch (e) {
    errors.push({ code: 'InvalidTemplate', message: (e as Error).message });
    return { value: { isConstant: true, evaluate: () => undefined }, operands: [] };
  }
}

function connectionKeyOf(host: Record<string, unknown> | undefined): string | undefined {
  if (!host) return undefined;
  if (typeof host.connectionName === 'string') return host.connectionName;
  const conn = host.connection;
  if (isObject(conn) && typeof conn.name === 'string') {
    const m = /\$connections'\)\s*\[\s*'([^']+)'\s*\]/.exec(conn.name);
    return m ? m[1] : conn.name;
  }
  if (isObject(conn) && typeof conn.referenceName === 'string') return conn.referenceName;
  return undefined;
}

function workflowIdOf(host: unknown): string | undefined {
  if (!isObject(host)) return undefined;
  if (typeof host.workflowReferenceName === 'string') return host.workflowReferenceName;
  if (isObject(host.workflow) && typeof host.workflow.id === 'string') return host.workflow.id;
  return undefined;
}

function without(obj: unknown, keys: string[]): unknown {
  if (!isObject(obj)) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!keys.includes(k)) out[k] = v;
  return out;
}

function buildPlan(definition: Record<string, unknown>): Plan {
  const actions = new Map<string, PlanAction>();
  const blocks = new Map<string, PlanBlock>();
  let hasResponse = false;

  const addBlock = (key: string, owner: string | undefined, defs: unknown, depth: number): void => {
    const block: PlanBlock = { key, owner, actions: [], roots: [], terminals: [] };
    blocks.set(key, block);
    if (defs === undefined || defs === null) return;
    if (!isObject(defs))
      throw invalid('INVALID_DEFINITION', `actions of ${owner ?? 'the definition'} must be an object`, {
        action: owner,
      });
    for (const [name, raw] of Object.entries(defs)) {
      if (actions.has(name))
        throw invalid(
          'DUPLICATE_ACTION_NAME',
          `action name '${name}' is used twice; action names are unique across the definition`,
          { action: name },
        );
      if (!isObject(raw)) throw invalid('INVALID_DEFINITION', `action '${name}' must be an object`, { action: name });
      actions.set(name, compileAction(name, raw, key, owner, depth));
      block.actions.push(name);
    }
    // runAfter edges, successors, roots, terminals, cycles
    for (const name of block.actions) {
      const a = actions.get(name)!;
      for (const edge of a.runAfter) {
        if (!block.actions.includes(edge.pred)) {
          throw invalid(
            'INVALID_RUN_AFTER',
            `action '${name}' runs after '${edge.pred}', which is not an action of the same container`,
            { action: name, runAfter: edge.pred },
          );
        }
        actions.get(edge.pred)!.successors.push(name);
      }
      if (a.runAfter.length === 0) block.roots.push(name);
    }
    for (const name of block.actions) if (actions.get(name)!.successors.length === 0) block.terminals.push(name);
    // cycle check (Kahn)
    const indeg = new Map(block.actions.map((n) => [n, actions.get(n)!.runAfter.length]));
    const queue = [...block.roots];
    let seen = 0;
    while (queue.length > 0) {
      const n = queue.shift()!;
      seen++;
      for (const s of actions.get(n)!.successors) {
        const d = indeg.get(s)! - 1;
        indeg.set(s, d);
        if (d === 0) queue.push(s);
      }
    }
    if (seen !== block.actions.length) {
      const stuck = block.actions.filter((n) => indeg.get(n)! > 0);
      throw invalid('RUN_AFTER_CYCLE', `runAfter cycle between actions ${stuck.join(', ')}`, { actions: stuck });
    }
  };

  const compileAction = (
    name: string,
    def: Record<string, unknown>,
    blockKey: string,
    parent: string | undefined,
    depth: number,
  ): PlanAction => {
    const type = String(def.type ?? '');
    const kind: ActionKind = KINDS[type.toLowerCase()] ?? 'unsupported';
    const errors: RunError[] = [];
    const where = `action '${name}'`;
    const runAfter: RunAfterEdge[] = [];
    if (isObject(def.runAfter)) {
      for (const [pred, statuses] of Object.entries(def.runAfter)) {
        const list = Array.isArray(statuses) && statuses.length > 0 ? statuses.map(canonicalStatus) : ['Succeeded'];
        runAfter.push({ pred, statuses: list });
      }
    }
    const rc = isObject(def.runtimeConfiguration) ? def.runtimeConfiguration : {};
    const secureProps =
      isObject(rc.secureData) && Array.isArray(rc.secureData.properties)
        ? rc.secureData.properties.map((p) => String(p).toLowerCase())
        : [];
    const opts = (typeof def.operationOptions === 'string' ? def.operationOptions.split(',') : [])
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const a: PlanAction = {
      name,
      type,
      kind,
      def,
      block: blockKey,
      parent,
      runAfter,
      successors: [],
      operationOptions: opts,
      secureInputs: secureProps.includes('inputs'),
      secureOutputs: secureProps.includes('outputs'),
    };
    if (
      isObject(rc.staticResult) &&
      String(rc.staticResult.staticResultOptions ?? '').toLowerCase() === 'enabled' &&
      typeof rc.staticResult.name === 'string'
    ) {
      a.staticResultName = rc.staticResult.name;
    }
    if (isObject(def.limit) && def.limit.timeout !== undefined) {
      try {
        a.timeoutMs = parseDuration(def.limit.timeout, `${where} limit.timeout`);
      } catch (e) {
        errors.push({ code: 'InvalidTemplate', message: (e as Error).message });
      }
    }
    if (def.trackedProperties !== undefined)
      a.trackedProperties = tryCompile(def.trackedProperties, `${where} trackedProperties`, errors);
    const inputs = def.inputs;
    const sub = (suffix: string): string => `${name}/${suffix}`;
    switch (kind) {
      case 'initializevariable':
        if (parent !== undefined)
          throw invalid(
            'VARIABLE_NOT_TOP_LEVEL',
            `InitializeVariable '${name}' must be at the top level of the definition, not inside '${parent}'`,
            { action: name, parent },
          );
        a.inputs = tryCompile(inputs, `${where} inputs`, errors);
        break;
      case 'if': {
        a.condition = compileCondition(def.expression, `${where} expression`, errors);
        a.blocks = { actions: sub('actions'), else: sub('else') };
        addBlock(sub('actions'), name, def.actions, depth + 1);
        addBlock(sub('else'), name, isObject(def.else) ? def.else.actions : undefined, depth + 1);
        break;
      }
      case 'switch': {
        a.condition = { value: tryCompile(def.expression, `${where} expression`, errors), operands: [] };
        const cases: Array<{ name: string; value: unknown; block: string }> = [];
        if (isObject(def.cases)) {
          for (const [caseName, c] of Object.entries(def.cases)) {
            const key = sub(`case:${caseName}`);
            cases.push({ name: caseName, value: isObject(c) ? c.case : undefined, block: key });
            addBlock(key, name, isObject(c) ? c.actions : undefined, depth + 1);
          }
        }
        a.blocks = { cases, default: sub('default') };
        addBlock(sub('default'), name, isObject(def.default) ? def.default.actions : undefined, depth + 1);
        break;
      }
      case 'foreach': {
        a.foreach = tryCompile(def.foreach, `${where} foreach`, errors);
        const reps = isObject(rc.concurrency) ? Number(rc.concurrency.repetitions) : NaN;
        a.concurrency =
          opts.includes('sequential') || !Number.isFinite(reps) || reps < 1 ? 1 : Math.min(50, Math.floor(reps));
        a.blocks = { actions: sub('actions') };
        addBlock(sub('actions'), name, def.actions, depth + 1);
        break;
      }
      case 'until': {
        a.condition = compileCondition(def.expression, `${where} expression`, errors);
        const limit = isObject(def.limit) ? def.limit : {};
        const count = limit.count === undefined ? 60 : Number(limit.count);
        a.limitCount = Number.isFinite(count) && count > 0 ? Math.min(5000, Math.floor(count)) : 5000;
        if (a.timeoutMs === undefined) a.timeoutMs = 3_600_000;
        a.blocks = { actions: sub('actions') };
        addBlock(sub('actions'), name, def.actions, depth + 1);
        break;
      }
      case 'scope':
        a.blocks = { actions: sub('actions') };
        addBlock(sub('actions'), name, def.actions, depth + 1);
        break;
      case 'select':
        a.inputs = tryCompile(without(inputs, ['select']), `${where} inputs`, errors);
        a.perItem = tryCompile(isObject(inputs) ? inputs.select : undefined, `${where} select`, errors);
        break;
      case 'query':
        a.inputs = tryCompile(without(inputs, ['where']), `${where} inputs`, errors);
        a.perItem = tryCompile(isObject(inputs) ? inputs.where : undefined, `${where} where`, errors);
        break;
      case 'table':
        a.inputs = tryCompile(without(inputs, ['columns']), `${where} inputs`, errors);
        if (isObject(inputs) && Array.isArray(inputs.columns)) {
          a.tableColumns = inputs.columns.map((c, i) => ({
            header: isObject(c) ? String(c.header ?? '') : '',
            value: tryCompile(isObject(c) ? c.value : undefined, `${where} columns[${i}].value`, errors),
          }));
        }
        break;
      case 'connector': {
        const host = isObject(inputs) && isObject(inputs.host) ? inputs.host : undefined;
        a.host = host;
        a.connectionName = connectionKeyOf(host);
        a.inputs = tryCompile(without(inputs, ['host']), `${where} inputs`, errors);
        break;
      }
      case 'workflow':
        a.workflowId = workflowIdOf(isObject(inputs) ? inputs.host : undefined);
        a.inputs = tryCompile(without(inputs, ['host']), `${where} inputs`, errors);
        break;
      case 'response':
        hasResponse = true;
        a.inputs = tryCompile(inputs, `${where} inputs`, errors);
        break;
      default:
        a.inputs = tryCompile(inputs, `${where} inputs`, errors);
    }
    if (errors.length > 0) a.compileError = errors[0];
    void depth;
    return a;
  };

  addBlock('', undefined, definition.actions ?? {}, 0);

  // trigger
  const triggers = isObject(definition.triggers) ? Object.entries(definition.triggers) : [];
  const [tName, tDefRaw] = triggers[0] ?? ['manual', { type: 'Request', kind: 'Http' }];
  const tDef = isObject(tDefRaw) ? tDefRaw : {};
  const tErrors: RunError[] = [];
  const trc = isObject(tDef.runtimeConfiguration) ? tDef.runtimeConfiguration : {};
  const tSecure =
    isObject(trc.secureData) && Array.isArray(trc.secureData.properties)
      ? trc.secureData.properties.map((p) => String(p).toLowerCase())
      : [];
  const trigger: PlanTrigger = {
    name: tName,
    type: String(tDef.type ?? 'Request'),
    kind: typeof tDef.kind === 'string' ? tDef.kind : undefined,
    inputs: tDef.inputs,
    conditions: Array.isArray(tDef.conditions)
      ? tDef.conditions.map((c, i) =>
          tryCompile(isObject(c) ? c.expression : c, `trigger '${tName}' conditions[${i}]`, tErrors),
        )
      : [],
    conditionErrors: tErrors,
    splitOn: tDef.splitOn !== undefined ? tryCompile(tDef.splitOn, `trigger '${tName}' splitOn`, tErrors) : undefined,
    secureInputs: tSecure.includes('inputs'),
    secureOutputs: tSecure.includes('outputs'),
  };

  const parameters: PlanParameter[] = [];
  if (isObject(definition.parameters)) {
    for (const [name, p] of Object.entries(definition.parameters)) {
      const pd = isObject(p) ? p : {};
      const type = String(pd.type ?? 'string').toLowerCase();
      parameters.push({
        name,
        type,
        defaultValue: pd.defaultValue,
        schemaName:
          isObject(pd.metadata) && typeof pd.metadata.schemaName === 'string' ? pd.metadata.schemaName : undefined,
        secure:
          (type === 'securestring' || type === 'secureobject') && name !== '$authentication' && name !== '$connections',
      });
    }
  }
  const outputs: Plan['outputs'] = [];
  if (isObject(definition.outputs)) {
    for (const [name, o] of Object.entries(definition.outputs)) {
      const od = isObject(o) ? o : {};
      outputs.push({
        name,
        type: typeof od.type === 'string' ? od.type : undefined,
        value: tryCompile(od.value, `output '${name}'`, []),
      });
    }
  }
  return {
    definition,
    actions,
    blocks,
    trigger,
    parameters,
    outputs,
    staticResults: isObject(definition.staticResults) ? definition.staticResults : {},
    hasResponse,
  };
}
