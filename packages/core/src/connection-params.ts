/**
 * Validation of connection parameters against a connector's `connectionParameters` /
 * `connectionParameterSets` (Power Platform custom connector format, apiProperties.json;
 * ../shared/reference/powerplatform-formats.md §6).
 *
 * Rules:
 * - a connector with parameter sets needs `parameterSet` naming one of them (unless it has just one);
 * - every parameter given must be declared; required ones (`uiDefinition.constraints.required`
 *   "true") must be given, except `oauthSetting` parameters, which a sign-in fills;
 * - `securestring` parameters must be given as secret parameters, others as plain parameters
 *   (so a secret is never stored in clear and never echoed: errors name the parameter, never the value);
 * - a required parameter given as an empty string counts as missing; a parameter with a
 *   `defaultValue` that is not given takes the default;
 * - `allowedValues` are enforced; `int` must be an integer, `bool` true/false;
 * - connectors known by id only (no definition) accept any parameters.
 */
import { invalid } from './errors.js';
import type { ConnectionParameter, Connector } from './model.js';

/** Input of {@link validateConnectionParameters}. */
export interface ConnectionParameterInput {
  connector: Connector;
  parameterSet?: string;
  /** Plain parameters as given on the command line / API (strings). */
  parameters: Record<string, string>;
  /** Secret parameters: only their names matter here; values are never inspected beyond emptiness. */
  secretParameters: Record<string, string>;
}

/** The validated parameters. */
export interface ValidatedConnectionParameters {
  parameterSet?: string;
  parameters: Record<string, string | number | boolean>;
  secretParameterNames: string[];
  /** True when the chosen parameters include an OAuth setting: the connection needs a sign-in. */
  needsOAuth: boolean;
}

/** Longest accepted value of a plain connection parameter, in characters. */
export const MAX_PARAMETER_LENGTH = 4096;
/** Longest accepted secret parameter value, in characters (certificates and keys fit). */
export const MAX_SECRET_LENGTH = 65536;

const isRequired = (p: ConnectionParameter): boolean => {
  const r = p.uiDefinition?.constraints?.required;
  return r === true || r === 'true';
};

/**
 * Validates connection parameters (see the module comment).
 * @throws CONNECTION_PARAMETER_* (invalid, exit 2) naming the connector and the parameter.
 */
export function validateConnectionParameters(input: ConnectionParameterInput): ValidatedConnectionParameters {
  const { connector } = input;
  const def = connector.definition;
  const names = [...Object.keys(input.parameters), ...Object.keys(input.secretParameters)];
  const dup = Object.keys(input.parameters).find((k) => k in input.secretParameters);
  for (const [k, v] of Object.entries(input.parameters)) {
    if (v.length > MAX_PARAMETER_LENGTH) {
      throw invalid(
        'CONNECTION_PARAMETER_TOO_LONG',
        `parameter ${k} is longer than ${MAX_PARAMETER_LENGTH} characters`,
        { connector: connector.id, parameter: k },
      );
    }
  }
  for (const [k, v] of Object.entries(input.secretParameters)) {
    if (v.length > MAX_SECRET_LENGTH) {
      throw invalid(
        'CONNECTION_PARAMETER_TOO_LONG',
        `secret parameter ${k} is longer than ${MAX_SECRET_LENGTH} characters`,
        { connector: connector.id, parameter: k },
      );
    }
  }
  if (dup) {
    throw invalid('CONNECTION_PARAMETER_DUPLICATE', `parameter ${dup} is given both as --param and as --secret-param`, {
      connector: connector.id,
      parameter: dup,
    });
  }
  if (!def) {
    return {
      ...(input.parameterSet ? { parameterSet: input.parameterSet } : {}),
      parameters: { ...input.parameters },
      secretParameterNames: Object.keys(input.secretParameters).sort(),
      needsOAuth: false,
    };
  }
  let declared: Record<string, ConnectionParameter> = def.connectionParameters;
  let parameterSet: string | undefined;
  const sets = def.connectionParameterSets?.values ?? [];
  if (sets.length > 0) {
    if (!input.parameterSet && sets.length > 1) {
      throw invalid(
        'CONNECTION_PARAMETER_SET_REQUIRED',
        `connector ${connector.id} offers several ways to connect; choose one with --parameter-set: ${sets.map((s) => s.name).join(', ')}`,
        { connector: connector.id, parameterSets: sets.map((s) => s.name) },
      );
    }
    const chosen = input.parameterSet
      ? sets.find((s) => s.name.toLowerCase() === input.parameterSet!.toLowerCase())
      : sets[0];
    if (!chosen) {
      throw invalid(
        'CONNECTION_PARAMETER_SET_UNKNOWN',
        `connector ${connector.id} has no parameter set ${input.parameterSet}; choose one of: ${sets.map((s) => s.name).join(', ')}`,
        { connector: connector.id, parameterSet: input.parameterSet, parameterSets: sets.map((s) => s.name) },
      );
    }
    parameterSet = chosen.name;
    declared = chosen.parameters;
  } else if (input.parameterSet) {
    throw invalid('CONNECTION_PARAMETER_SET_UNKNOWN', `connector ${connector.id} has no parameter sets`, {
      connector: connector.id,
      parameterSet: input.parameterSet,
    });
  }
  const declaredKey = new Map(Object.keys(declared).map((k) => [k.toLowerCase(), k]));
  for (const n of names) {
    if (!declaredKey.has(n.toLowerCase())) {
      throw invalid(
        'CONNECTION_PARAMETER_UNKNOWN',
        `connector ${connector.id} has no connection parameter ${n}; it has: ${Object.keys(declared).join(', ') || 'none'}`,
        { connector: connector.id, parameter: n, ...(parameterSet ? { parameterSet } : {}) },
      );
    }
  }
  const out: Record<string, string | number | boolean> = {};
  const secretNames: string[] = [];
  let needsOAuth = false;
  for (const [name, p] of Object.entries(declared)) {
    const given = Object.keys(input.parameters).find((k) => k.toLowerCase() === name.toLowerCase());
    const givenSecret = Object.keys(input.secretParameters).find((k) => k.toLowerCase() === name.toLowerCase());
    const type = p.type.toLowerCase();
    if (type === 'oauthsetting') {
      needsOAuth = true;
      continue;
    }
    if (type === 'securestring' || type === 'clientcertificate') {
      if (given !== undefined) {
        throw invalid(
          'CONNECTION_PARAMETER_MUST_BE_SECRET',
          `connection parameter ${name} of connector ${connector.id} is a secure string: pass it with --secret-param ${name}=@FILE or - (stdin), never as --param`,
          { connector: connector.id, parameter: name },
        );
      }
      if (givenSecret !== undefined) {
        if (input.secretParameters[givenSecret] === '') {
          throw invalid('CONNECTION_PARAMETER_EMPTY', `secret parameter ${name} is empty`, {
            connector: connector.id,
            parameter: name,
          });
        }
        secretNames.push(name);
      } else if (isRequired(p)) {
        throw invalid('CONNECTION_PARAMETER_REQUIRED', `connector ${connector.id} requires secret parameter ${name}`, {
          connector: connector.id,
          parameter: name,
        });
      }
      continue;
    }
    if (givenSecret !== undefined) {
      throw invalid(
        'CONNECTION_PARAMETER_NOT_SECRET',
        `connection parameter ${name} of connector ${connector.id} is not a secure string: pass it with --param`,
        { connector: connector.id, parameter: name },
      );
    }
    const emptyRequired = given !== undefined && (input.parameters[given] ?? '') === '' && isRequired(p);
    if (given === undefined || emptyRequired) {
      if (p.defaultValue !== undefined && p.defaultValue !== null && p.defaultValue !== '') {
        const d = p.defaultValue;
        out[name] = typeof d === 'number' || typeof d === 'boolean' ? d : String(d);
        continue;
      }
      if (isRequired(p)) {
        throw invalid(
          'CONNECTION_PARAMETER_REQUIRED',
          `connector ${connector.id} requires connection parameter ${name}`,
          {
            connector: connector.id,
            parameter: name,
          },
        );
      }
      continue;
    }
    const raw = input.parameters[given] ?? '';
    const allowed = p.uiDefinition?.constraints?.allowedValues;
    if (allowed && allowed.length > 0 && !allowed.some((a) => a.value === raw)) {
      throw invalid(
        'CONNECTION_PARAMETER_NOT_ALLOWED',
        `connection parameter ${name} of connector ${connector.id} must be one of: ${allowed.map((a) => a.value).join(', ')}`,
        { connector: connector.id, parameter: name, allowedValues: allowed.map((a) => a.value) },
      );
    }
    if (type === 'int') {
      if (!/^-?\d+$/.test(raw)) {
        throw invalid('CONNECTION_PARAMETER_TYPE', `connection parameter ${name} must be an integer`, {
          connector: connector.id,
          parameter: name,
          type: p.type,
        });
      }
      out[name] = Number(raw);
    } else if (type === 'bool') {
      if (!/^(true|false)$/i.test(raw)) {
        throw invalid('CONNECTION_PARAMETER_TYPE', `connection parameter ${name} must be true or false`, {
          connector: connector.id,
          parameter: name,
          type: p.type,
        });
      }
      out[name] = raw.toLowerCase() === 'true';
    } else {
      out[name] = raw;
    }
  }
  return {
    ...(parameterSet ? { parameterSet } : {}),
    parameters: out,
    secretParameterNames: secretNames.sort(),
    needsOAuth,
  };
}
