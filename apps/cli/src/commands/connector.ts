/** `patchbay connector list|import|add` — connectors of an environment (design §3A). */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { Connector } from '@patchbay/core';
import { connectorIdFromName, toConnectorDefinition } from '@patchbay/platform';
import { readCustomConnectorFolder } from '@patchbay/solution';
import type { CliContext } from '../context.js';

/** The JSON shape of a connector on the CLI (the OpenAPI document is summarised, not dumped). */
export function connectorJson(c: Connector) {
  const params = c.definition?.connectionParameters ?? {};
  const sets = c.definition?.connectionParameterSets?.values ?? [];
  const paths = (c.definition?.openApi['paths'] ?? {}) as Record<string, Record<string, { operationId?: string }>>;
  const operations = Object.values(paths).flatMap((item) =>
    Object.entries(item)
      .filter(([m]) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(m))
      .map(([, op]) => op?.operationId)
      .filter((x): x is string => typeof x === 'string'),
  );
  return {
    id: c.id,
    displayName: c.displayName,
    kind: c.kind,
    connectionParameters: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.type])),
    ...(sets.length
      ? { connectionParameterSets: sets.map((s) => ({ name: s.name, parameters: Object.keys(s.parameters) })) }
      : {}),
    operations,
    policyTemplates: (c.definition?.policyTemplateInstances ?? []).map((p) => p.templateId),
    createdOn: c.createdOn,
  };
}

/** Registers the `connector` commands on the program. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program.command('connector').description('connectors: built-in, custom (imported) and known by id only');
  cmd
    .command('list')
    .description('list the connectors of an environment')
    .requiredOption('--env <name>', 'environment')
    .option('--json', 'print JSON')
    .action(async (o: { env: string; json?: boolean }) => {
      const p = await ctx.platform();
      const list = await p.connectors.list(o.env);
      if (o.json) ctx.printJson(list.map(connectorJson));
      else
        ctx.printTable(
          ['ID', 'KIND', 'DISPLAY NAME'],
          list.map((c) => [c.id, c.kind, c.displayName]),
        );
    });
  cmd
    .command('import <folder>')
    .description(
      'import a custom connector in source form (apiDefinition.swagger.json + apiProperties.json [+ script.csx])',
    )
    .requiredOption('--env <name>', 'environment')
    .option('--id <id>', 'connector id (default: the folder name)')
    .option('--display-name <text>', 'display name (default: info.title of the OpenAPI definition)')
    .option('--json', 'print the installed connector as JSON')
    .action(async (folder: string, o: { env: string; id?: string; displayName?: string; json?: boolean }) => {
      const dir = ctx.path(folder);
      const def = await readCustomConnectorFolder(dir);
      const p = await ctx.platform();
      const installed = await p.connectors.install({
        environment: o.env,
        id: o.id ?? connectorIdFromName(def.name || basename(dir)),
        displayName: o.displayName ?? def.displayName ?? def.name,
        definition: toConnectorDefinition(def),
      });
      if (o.json) ctx.printJson(connectorJson(installed));
      else ctx.println(`installed connector ${installed.id} (${installed.displayName}) in ${o.env}`);
    });
  cmd
    .command('add')
    .description('register a connector known by id only (first-party connectors without a public definition)')
    .requiredOption('--env <name>', 'environment')
    .requiredOption(
      '--id <id>',
      'connector id, e.g. shared_office365 or /providers/Microsoft.PowerApps/apis/shared_office365',
    )
    .option('--display-name <text>', 'display name')
    .option('--json', 'print JSON')
    .action(async (o: { env: string; id: string; displayName?: string; json?: boolean }) => {
      const p = await ctx.platform();
      const c = await p.connectors.add({
        environment: o.env,
        id: o.id,
        ...(o.displayName ? { displayName: o.displayName } : {}),
      });
      if (o.json) ctx.printJson(connectorJson(c));
      else ctx.println(`registered connector ${c.id} (id only) in ${o.env}`);
    });
}
