/**
 * The build (`npm run build` = tsc -b + the architecture check) must fail when a package imports
 * against the directions of design §5. The check runs dependency-cruiser with the repository's
 * rules over a small fixture tree laid out like the repository.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const dirs: string[] = [];

function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-arch-'));
  dirs.push(dir);
  copyFileSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  copyFileSync(join(root, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function check(dir: string): { code: number; output: string } {
  try {
    const out = execFileSync(depcruise, ['--config', '.dependency-cruiser.cjs', 'packages', 'apps'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return { code: 0, output: out };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, output: err.stdout + err.stderr };
  }
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('architecture rules of design §5', () => {
  it('pass on the repository itself', () => {
    const r = (() => {
      try {
        return {
          code: 0,
          output: execFileSync(depcruise, ['--config', '.dependency-cruiser.cjs', 'packages', 'apps'], {
            cwd: root,
            encoding: 'utf8',
            stdio: 'pipe',
          }),
        };
      } catch (e) {
        const err = e as { status: number; stdout: string };
        return { code: err.status, output: err.stdout };
      }
    })();
    expect(r.output).toContain('no dependency violations');
    expect(r.code).toBe(0);
  });

  it('fail the build when core imports storage (dependencies point inward)', () => {
    const dir = fixture({
      'packages/storage/src/index.ts': 'export const store = 1;\n',
      'packages/core/src/index.ts': "import { store } from '../../storage/src/index.js';\nexport const x = store;\n",
      'apps/cli/src/index.ts': 'export {};\n',
    });
    const r = check(dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('import-direction-core');
  });

  it('fail the build when the pure engine does I/O', () => {
    const dir = fixture({
      'packages/engine/src/index.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n",
      'apps/cli/src/index.ts': 'export {};\n',
    });
    const r = check(dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('pure-centre-no-io');
  });

  it('fail the build when an app reaches into a package by a deep path', () => {
    const dir = fixture({
      'packages/platform/src/index.ts': "export * from './services.js';\n",
      'packages/platform/src/services.ts': 'export const s = 1;\n',
      'apps/cli/src/main.ts': "import { s } from '../../../packages/platform/src/services.js';\nexport const y = s;\n",
    });
    const r = check(dir);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('one-public-entry');
  });
});
