/** `patchbay audit …` commands. */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

/** Registers the `audit` commands on the program. */
export function register(_program: Command, _ctx: CliContext): void {}
