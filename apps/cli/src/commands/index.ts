/** Every command module of the CLI, registered in help order. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { register as env } from './env.js';
import { register as principal } from './principal.js';
import { register as conformance } from './conformance.js';
import { register as solution } from './solution.js';
import { register as solutionDeploy } from './solution-deploy.js';
import { register as solutionExport } from './solution-export.js';
import { register as connector } from './connector.js';
import { register as connection } from './connection.js';
import { register as connref } from './connref.js';
import { register as flow } from './flow.js';
import { register as run } from './run.js';
import { register as serve } from './serve.js';
import { register as worker } from './worker.js';
import { register as demo } from './demo.js';
import { register as token } from './token.js';
import { register as audit } from './audit.js';
import { register as key } from './key.js';

/** Registers every command group on the program. */
export function registerAll(program: Command, ctx: CliContext): void {
  for (const r of [
    env,
    principal,
    connector,
    connection,
    connref,
    solution,
    solutionDeploy,
    solutionExport,
    flow,
    run,
    token,
    audit,
    key,
    serve,
    worker,
    demo,
    conformance,
  ])
    r(program, ctx);
}
