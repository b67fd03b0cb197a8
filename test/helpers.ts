import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileReport, ScanReport } from '../src/core/types.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const CLI = join(ROOT, 'dist', 'cli.js');

/** A temp folder removed when the test ends (pass the node:test context's `after`). */
export function tempDir(after: (fn: () => void) => void, prefix = 'modelgate-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the bundled CLI (dist/cli.js) as a user would. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, maxBuffer: 256 * 2 ** 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 3) : 0;
        res({ code, stdout, stderr });
      },
    );
  });
}

/** The one file report of a single-file scan. */
export function only(report: ScanReport): FileReport {
  if (report.files.length !== 1)
    throw new Error(`expected one file in the report, got ${report.files.length}`);
  return report.files.at(0)!;
}

/** Rule ids of a file's findings (unwaived), sorted and unique. */
export function ruleIds(f: FileReport): string[] {
  return [...new Set(f.findings.filter((x) => !x.waived).map((x) => x.ruleId))].sort();
}

/** Symbols named by a file's findings of one rule. */
export function symbols(f: FileReport, ruleId?: string): string[] {
  return f.findings
    .filter((x) => (ruleId ? x.ruleId === ruleId : true))
    .map((x) => x.location.symbol)
    .filter((s): s is string => s !== undefined);
}
