/**
 * Vitest reporter that prints one line per test tier (unit, sqlite, postgres) after the run,
 * so the summary shows that both stores ran. Used by vitest.config.ts.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class TierSummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const tiers = new Map<string, { files: number; passed: number; failed: number; skipped: number }>();
    for (const mod of testModules) {
      const name = mod.project.name || 'default';
      const t = tiers.get(name) ?? { files: 0, passed: 0, failed: 0, skipped: 0 };
      t.files += 1;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') t.passed += 1;
        else if (state === 'failed') t.failed += 1;
        else t.skipped += 1;
      }
      tiers.set(name, t);
    }
    const lines = ['', 'Test tiers:'];
    for (const [name, t] of [...tiers.entries()].sort()) {
      lines.push(
        `  ${name.padEnd(9)} ${String(t.files).padStart(4)} files  ${String(t.passed).padStart(5)} passed  ${String(t.failed).padStart(3)} failed  ${String(t.skipped).padStart(3)} skipped`,
      );
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
}
