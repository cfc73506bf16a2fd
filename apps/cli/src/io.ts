/**
 * The CLI's view of the outside world, injectable so the CLI can run in-process in tests.
 */
export interface CliIO {
  /** Writes to standard output (text as given, no newline added). */
  out(text: string): void;
  /** Writes to standard error (text as given, no newline added). */
  err(text: string): void;
  /** Reads all of standard input as UTF-8 (used by `-` file arguments). */
  readStdin(): Promise<string>;
  /** Environment variables (PATCHBAY_DATA_DIR, PATCHBAY_DATABASE_URL, …). */
  env: Record<string, string | undefined>;
  /** Working directory used to resolve relative paths. */
  cwd: string;
  /** True when stderr is a terminal: progress bars are drawn only then. */
  isTTY: boolean;
}

/** The real process streams. */
export function processIO(): CliIO {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stderr.isTTY),
  };
}

/** An in-memory IO for tests: collects stdout and stderr. */
export function memoryIO(
  options: { env?: Record<string, string | undefined>; cwd?: string; stdin?: string } = {},
): CliIO & {
  stdout: string;
  stderr: string;
} {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    readStdin: async () => options.stdin ?? '',
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  };
  return io;
}
