/**
 * Limits applied to untrusted packages (design §6): zip entry count, total uncompressed size,
 * compression ratio, file sizes, JSON and XML depth. Every reader takes a partial override.
 */

/** Caps for reading a solution package, a settings file or a connector folder. Sizes in bytes. */
export interface SolutionLimits {
  /** Most entries a zip may hold (central directory count), and most files a folder may hold. */
  maxEntries: number;
  /** Most bytes all entries or files may hold together, uncompressed. */
  maxTotalBytes: number;
  /** Most bytes one entry or file may hold, uncompressed. */
  maxEntryBytes: number;
  /**
   * Highest uncompressed/compressed ratio of one entry of {@link ratioMinBytes} or more, and of
   * the whole zip (declared uncompressed total / size of the zip file) once that total reaches
   * {@link ratioMinBytes}.
   */
  maxCompressionRatio: number;
  /** Entries (and zips) holding less than this are not ratio-checked (small repetitive files compress very well). */
  ratioMinBytes: number;
  /** Most bytes of one JSON document (flow, connector definition, settings file). */
  maxJsonBytes: number;
  /** Deepest nesting of arrays/objects in one JSON document. */
  maxJsonDepth: number;
  /** Most bytes of one XML document. */
  maxXmlBytes: number;
  /** Deepest element nesting in one XML document. */
  maxXmlDepth: number;
}

/** Defaults: generous for real packages (the corpus' largest is 1.2 MB), small enough to stop bombs. */
export const DEFAULT_LIMITS: Readonly<SolutionLimits> = Object.freeze({
  maxEntries: 20_000,
  maxTotalBytes: 512 * 1024 * 1024,
  maxEntryBytes: 128 * 1024 * 1024,
  maxCompressionRatio: 100,
  ratioMinBytes: 1024 * 1024,
  maxJsonBytes: 32 * 1024 * 1024,
  maxJsonDepth: 256,
  maxXmlBytes: 64 * 1024 * 1024,
  maxXmlDepth: 256,
});

/** The defaults with `override` applied. */
export function resolveLimits(override?: Partial<SolutionLimits>): SolutionLimits {
  return { ...DEFAULT_LIMITS, ...(override ?? {}) };
}
