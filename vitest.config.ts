import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Test tiers (see docs/testing.md):
 * - `unit`: tests that need no database (`*.test.ts`).
 * - `sqlite` and `postgres`: every `*.db.test.ts` runs twice, once per store, selected by
 *   PATCHBAY_TEST_STORE. PostgreSQL comes from PATCHBAY_TEST_PG_URL (default
 *   postgres://postgres@127.0.0.1:5432/postgres); each test file gets its own database.
 * Workspace packages resolve to their TypeScript sources, so tests need no build; tests that
 * spawn the `patchbay` binary use the build made by `npm test`.
 */
const pkgs = ['expression', 'core', 'engine', 'solution', 'connectors', 'storage', 'platform'];
const apps = ['server', 'worker', 'web', 'cli'];
const alias = Object.fromEntries([
  ...pkgs.map((p) => [`@patchbay/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
  ...apps.map((p) => [`@patchbay/${p}`, fileURLToPath(new URL(`./apps/${p}/src/index.ts`, import.meta.url))]),
]);
const testDirs = ['packages/*/test/**/', 'apps/*/test/**/', 'test/**/'];

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', './scripts/tier-summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: testDirs.map((d) => `${d}*.test.ts`),
          exclude: ['**/*.db.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'sqlite',
          include: testDirs.map((d) => `${d}*.db.test.ts`),
          env: { PATCHBAY_TEST_STORE: 'sqlite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: testDirs.map((d) => `${d}*.db.test.ts`),
          env: { PATCHBAY_TEST_STORE: 'postgres' },
        },
      },
    ],
  },
});
