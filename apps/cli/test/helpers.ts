/** In-process CLI runner for tests: `run(args)` → {code, stdout, stderr, json()}. */
import { main } from '../src/main.js';
import { memoryIO } from '../src/io.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON. */
  json<T = unknown>(): T;
}

/** Runs the CLI in-process with the given global args prepended and env. */
export function cli(globalArgs: string[], env: Record<string, string | undefined> = {}) {
  return async (...args: string[]): Promise<CliResult> => {
    const io = memoryIO({ env });
    const code = await main([...globalArgs, ...args], io);
    return {
      code,
      stdout: io.stdout,
      stderr: io.stderr,
      json<T>() {
        return JSON.parse(io.stdout) as T;
      },
    };
  };
}
