#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in ../dist (built by `npm install` via the root `prepare` script).
import { main } from '../dist/main.js';

// A closed pipe (`patchbay … | head`) is not an error: stop writing quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
