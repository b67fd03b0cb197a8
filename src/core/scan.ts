import { stat } from 'node:fs/promises';
import { AnalysisContext, type DiskLocation, FileState, type ScanSettings } from './context.js';
import { isModelExtension } from './detect.js';
import { analyzeSource, scanNested } from './engine.js';
import { sha256File } from './hash.js';
import { Budget, BudgetExceededError } from './limits.js';
import { DEFAULT_POLICY, evaluateFile, type Policy } from './policy/policy.js';
import { fileSource } from './source.js';
import type { FileReport, Finding, ScanReport, Verdict } from './types.js';
import { worstVerdict } from './types.js';
import { VERSION } from './version.js';
import { type WalkEntry, walk } from './walk.js';

export interface ScanOptions {
  policy?: Readonly<Policy>;
  /** The clock used for waiver expiry (tests pass a fixed date). */
  now?: Date;
}

/** Scans files and folders as the CLI does: folders are walked, paths are reported relative to them. */
export async function scanPaths(paths: readonly string[], opts: ScanOptions = {}): Promise<ScanReport> {
  const entries: WalkEntry[] = [];
  for (const p of paths) entries.push(...(await walk(p)));
  return scanEntries(entries, opts);
}

/** Scans a chosen set of files under one root (the action's changed files); paths stay as given. */
export async function scanFiles(
  root: string,
  relPaths: readonly string[],
  opts: ScanOptions = {},
): Promise<ScanReport> {
  const entries: WalkEntry[] = [];
  for (const rel of relPaths) {
    const found = await walk(`${root}/${rel}`);
    for (const e of found) entries.push({ ...e, relPath: rel, root });
  }
  return scanEntries(entries, opts);
}

export async function scanEntries(
  entries: readonly WalkEntry[],
  opts: ScanOptions = {},
): Promise<ScanReport> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const now = opts.now ?? new Date();
  const files: FileReport[] = [];
  for (const e of entries) files.push(await scanEntry(e, policy, now));
  return buildReport(files, policy);
}

export function buildReport(files: FileReport[], policy: Readonly<Policy>, notes: string[] = []): ScanReport {
  const verdict: Verdict = worstVerdict(files.map((f) => f.verdict));
  const blocked =
    !policy.warnOnly && (verdict === 'block' || (verdict === 'incomplete' && policy.failOnIncomplete));
  const report: ScanReport = {
    schemaVersion: 1,
    tool: { name: 'modelgate', version: VERSION },
    verdict,
    maxScore: files.reduce((m, f) => Math.max(m, f.score), 0),
    blocked,
    files,
  };
  if (notes.length > 0) report.notes = notes;
  return report;
}

/** 0 pass or warn (or warn-only); 1 blocked by policy; 2 incomplete files block. */
export function exitCodeFor(report: ScanReport): 0 | 1 | 2 {
  if (!report.blocked) return 0;
  return report.files.some((f) => f.verdict === 'block') ? 1 : 2;
}

async function scanEntry(e: WalkEntry, policy: Readonly<Policy>, now: Date): Promise<FileReport> {
  if (e.kind === 'skipped') {
    const findings: Finding[] = [
      { ruleId: 'MG008', severity: 'low', score: 0, message: `Not scanned: ${e.why}.`, location: {} },
    ];
    return finish(e.relPath, 'other', 0, '', findings, {}, policy, now);
  }
  const settings: ScanSettings = { limits: policy.limits, allowGlobals: policy.allow };
  const budget = new Budget(policy.limits);
  const disk: DiskLocation = { root: e.root, absPath: e.absPath, relPath: e.relPath };
  const state = new FileState(settings, budget, disk);
  const { size } = await stat(e.absPath);
  const hashing = sha256File(e.absPath);
  if (size > policy.limits.maxFileBytes) {
    const ctx = new AnalysisContext(state, { name: e.relPath, size, stream: emptyStream }, [], 0, scanNested);
    ctx.budgetExceeded(
      new BudgetExceededError('maxFileBytes', `file size ${size} > ${policy.limits.maxFileBytes}`),
    );
  } else {
    const src = await fileSource(e.absPath, e.relPath);
    try {
      const ctx = new AnalysisContext(state, src, [], 0, scanNested);
      const format = await analyzeSource(ctx);
      if (format === undefined) {
        const ext = e.relPath.toLowerCase().match(/\.[^./]+$/)?.[0] ?? '';
        if (isModelExtension(ext) && size > 0) {
          ctx.report('MG004', `Named like a model (${ext}) but the content matches no supported format.`);
          state.format = 'unknown';
        } else state.format = 'other';
      }
    } finally {
      await src.close();
    }
  }
  if (state.droppedFindings > 0) {
    state.findings.push({
      ruleId: 'MG001',
      severity: 'medium',
      score: 0,
      message: `${state.droppedFindings} more findings were not recorded (limit maxFindings).`,
      location: {},
    });
  }
  const sha256 = await hashing;
  return finish(e.relPath, state.format ?? 'other', size, sha256, state.findings, state.facts, policy, now);
}

function finish(
  path: string,
  format: FileReport['format'],
  size: number,
  sha256: string,
  findings: Finding[],
  facts: Record<string, unknown>,
  policy: Readonly<Policy>,
  now: Date,
): FileReport {
  const ev = evaluateFile(findings, policy, { path, sha256 }, now);
  const report: FileReport = {
    path,
    format,
    size,
    sha256,
    verdict: ev.verdict,
    score: ev.score,
    severity: ev.severity,
    scoreBreakdown: ev.scoreBreakdown,
    findings: ev.findings,
  };
  if (Object.keys(facts).length > 0) report.facts = facts;
  return report;
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}
