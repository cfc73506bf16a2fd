/**
 * Errors shared by every Patchbay package.
 *
 * Every error Patchbay raises on purpose is a {@link PatchbayError}: it carries a stable,
 * machine-readable `code` (SCREAMING_SNAKE, never reworded once published), a `kind`
 * (who must act: the user, the operator, or a developer) and a `category` that decides the
 * CLI exit code (docs/cli.md) and the HTTP status (apps/server). `details` is structured,
 * JSON-serialisable data that names the file, field or object concerned; it must never hold a
 * secret value (design §2 invariant 5).
 */

/** Who has to act on an error: the user (bad input, missing permission), the operator (a service is down), or a developer (a bug). */
export type ErrorKind = 'user' | 'operational' | 'unexpected';

/**
 * What went wrong, coarse-grained. Decides the CLI exit code and HTTP status:
 *
 * | category       | exit | HTTP |
 * |----------------|------|------|
 * | usage          | 1    | 400  |
 * | invalid        | 2    | 400  |
 * | not-found      | 2    | 404  |
 * | conflict       | 3    | 409  |
 * | not-ready      | 3    | 409  |
 * | unauthenticated| 4    | 401  |
 * | permission     | 4    | 403  |
 * | partial        | 5    | 207  |
 * | secret         | 6    | 500  |
 * | internal       | 70   | 500  |
 */
export type ErrorCategory =
  | 'usage'
  | 'invalid'
  | 'not-found'
  | 'conflict'
  | 'not-ready'
  | 'unauthenticated'
  | 'permission'
  | 'partial'
  | 'secret'
  | 'internal';

/** JSON-serialisable details attached to an error. Never holds secret values. */
export type ErrorDetails = Record<string, unknown>;

/** Options of the {@link PatchbayError} constructor. */
export interface PatchbayErrorOptions {
  /** Stable machine-readable code, e.g. `BINDING_CONNECTOR_MISMATCH`. */
  code: string;
  message: string;
  category: ErrorCategory;
  /** Defaults from the category: `internal` → unexpected, `secret` → operational, others → user. */
  kind?: ErrorKind;
  details?: ErrorDetails;
  cause?: unknown;
}

/** Base class of every error Patchbay raises on purpose. */
export class PatchbayError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly category: ErrorCategory;
  readonly details: ErrorDetails;

  constructor(options: PatchbayErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PatchbayError';
    this.code = options.code;
    this.category = options.category;
    this.kind = options.kind ?? defaultKind(options.category);
    this.details = options.details ?? {};
  }

  /** The wire shape used by the API and by `--json` error output: `{code, message, details}`. */
  toJSON(): { code: string; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

function defaultKind(category: ErrorCategory): ErrorKind {
  if (category === 'internal') return 'unexpected';
  if (category === 'secret') return 'operational';
  return 'user';
}

/** Input that does not have the expected shape or value (exit 2, HTTP 400). */
export function invalid(code: string, message: string, details?: ErrorDetails): PatchbayError {
  return new PatchbayError({ code, message, category: 'invalid', details });
}

/** A named object that does not exist (exit 2, HTTP 404). */
export function notFound(code: string, message: string, details?: ErrorDetails): PatchbayError {
  return new PatchbayError({ code, message, category: 'not-found', details });
}

/** A change that would break a rule of the model or clash with existing state (exit 3, HTTP 409). */
export function conflict(code: string, message: string, details?: ErrorDetails): PatchbayError {
  return new PatchbayError({ code, message, category: 'conflict', details });
}

/** A pre-flight check failed; nothing was written (exit 3, HTTP 409). */
export function notReady(code: string, message: string, details?: ErrorDetails): PatchbayError {
  return new PatchbayError({ code, message, category: 'not-ready', details });
}

/** The acting principal lacks a right (exit 4, HTTP 403). */
export function forbidden(code: string, message: string, details?: ErrorDetails): PatchbayError {
  return new PatchbayError({ code, message, category: 'permission', details });
}

/** A secret or key problem: missing master key, wrong key, tampered ciphertext (exit 6). */
export function secretError(code: string, message: string, details?: ErrorDetails): PatchbayError {
  return new PatchbayError({ code, message, category: 'secret', details });
}

/** True for any {@link PatchbayError}, also one thrown by another copy of this module. */
export function isPatchbayError(value: unknown): value is PatchbayError {
  return (
    value instanceof PatchbayError ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { code?: unknown }).code === 'string' &&
      typeof (value as { category?: unknown }).category === 'string' &&
      typeof (value as { kind?: unknown }).kind === 'string')
  );
}

/** CLI exit codes, documented in docs/cli.md. Stable. */
export const ExitCode = {
  Ok: 0,
  Usage: 1,
  InvalidInput: 2,
  NotReady: 3,
  PermissionDenied: 4,
  Partial: 5,
  Secret: 6,
  Internal: 70,
} as const;

/** The exit code for an error category (see {@link ErrorCategory}). */
export function exitCodeFor(category: ErrorCategory): number {
  switch (category) {
    case 'usage':
      return ExitCode.Usage;
    case 'invalid':
    case 'not-found':
      return ExitCode.InvalidInput;
    case 'conflict':
    case 'not-ready':
      return ExitCode.NotReady;
    case 'unauthenticated':
    case 'permission':
      return ExitCode.PermissionDenied;
    case 'partial':
      return ExitCode.Partial;
    case 'secret':
      return ExitCode.Secret;
    case 'internal':
      return ExitCode.Internal;
  }
}

/** The HTTP status for an error category (see {@link ErrorCategory}). */
export function httpStatusFor(category: ErrorCategory): number {
  switch (category) {
    case 'usage':
    case 'invalid':
      return 400;
    case 'not-found':
      return 404;
    case 'conflict':
    case 'not-ready':
      return 409;
    case 'unauthenticated':
      return 401;
    case 'permission':
      return 403;
    case 'partial':
      return 207;
    case 'secret':
    case 'internal':
      return 500;
  }
}
