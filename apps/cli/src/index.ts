/** Public entry of @patchbay/cli: run the `patchbay` command in-process. */
export { main, buildProgram } from './main.js';
export { CliContext, usageError } from './context.js';
export { processIO, memoryIO, type CliIO } from './io.js';
