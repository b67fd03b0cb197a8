import { posix } from 'node:path';
import type { ScanSettings } from './context.js';
import { DEFAULT_POLICY, evaluateFile, type Policy, waiverFindings } from './policy/policy.js';
import { FileReports } from './report/file-reports.js';
import { localRepository, remoteCodeOncePerRepository } from './repository-notices.js';
import { getRule } from './rules/catalogue.js';
import { mapConcurrent, prepareScan, scanFileOnDisk } from './scan-file.js';
import { spoolStream } from './stream.js';
import { runTrustPhase } from './trust/phase.js';
import type { FileReport, Finding, ScanReport } from './types.js';
import { VERSION } from './version.js';
import { type WalkEntry, walk, walkPath } from './walk.js';
import { type EntryList, WalkList } from './walk-list.js';

/** Files scanned at once (large files still go one at a time); MODELGATE_CONCURRENCY overrides it. */
export const SCAN_CONCURRENCY = Math.max(1, Number(process.env.MODELGATE_CONCURRENCY) || 4);

export interface ScanOptions {
  policy?: Readonly<Policy>;
  /** The clock used for waiver expiry (tests pass a fixed date). */
  now?: Date;
  /** Told when a file starts and when it is done (a face shows progress; the core prints nothing). */
  onProgress?: (p: ScanProgress) => void;
  /** Bytes of report JSON held in memory before the reports move to a temporary file (FileReports). */
  reportMemoryBytes?: number;
}

export interface ScanProgress {
  done: number;
  total: number;
  bytesDone: number;
  bytesTotal: number;
  /** A file being analysed now (the most recently started). */
  current?: string;
}

/**
 * Scans files and folders as the CLI does: folders are walked, paths are reported relative to them.
 * `select` keeps the walked paths (relative to their folder) that a filter such as --include/--exclude wants.
 */
export async function scanPaths(
  paths: readonly string[],
  opts: ScanOptions & { select?: (relPath: string) => boolean } = {},
): Promise<ScanReport> {
  const entries = new WalkList();
  const select = opts.select ?? (() => true);
  for (const p of paths) for (const e of await walk(p)) if (select(e.relPath)) entries.push(e);
  return scanEntries(entries, opts);
}

/** Scans a chosen set of paths under one root (as the action scans changed files); paths stay as given. */
export async function scanFiles(
  root: string,
  relPaths: readonly string[],
  opts: ScanOptions = {},
): Promise<ScanReport> {
  const entries = new WalkList();
  for (const rel of relPaths) for (const e of await walkPath(root, rel)) entries.push(e);
  return scanEntries(entries, opts);
}

export async function scanEntries(entries: EntryList, opts: ScanOptions = {}): Promise<ScanReport> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const now = opts.now ?? new Date();
  // Bounded concurrency: small files overlap their I/O; large ones take turns (see scan-file.ts).
  prepareScan(entries);
  const progress = progressTracker(entries, opts.onProgress);
  const files = new FileReports({ memoryBytes: opts.reportMemoryBytes });
  await mapConcurrent(entries, SCAN_CONCURRENCY, async (e, i) => {
    progress.start(e);
    files.set(i, await scanEntry(e, policy, now));
    progress.done(e);
  });
  markCompanionData(files, policy, now);
  remoteCodeOncePerRepository(files, policy, now, localRepository(entries));
  // Folder-level trust checks (signatures, pins, publishers, SBOMs) once every file is scanned.
  const trust = await runTrustPhase(entries, files, policy, now);
  const report = buildReport(files, policy, trust.notes);
  report.trust = trust.summary;
  return report;
}

/** The report of these files (an array is stored as given; a store is taken as it is, not copied). */
export function buildReport(
  files: FileReports | readonly FileReport[],
  policy: Readonly<Policy>,
  notes: string[] = [],
): ScanReport {
  const stored = files instanceof FileReports ? files : FileReports.from(files);
  const { verdict, maxScore } = stored.summary();
  const blocked =
    !policy.warnOnly && (verdict === 'block' || (verdict === 'incomplete' && policy.failOnIncomplete));
  const report: ScanReport = {
    schemaVersion: 1,
    tool: { name: 'modelgate', version: VERSION },
    verdict,
    maxScore,
    blocked,
    files: stored,
  };
  if (notes.length > 0) report.notes = notes;
  return report;
}

/** 0 pass or warn (or warn-only); 1 blocked by policy; 2 incomplete files block. */
export function exitCodeFor(report: ScanReport): 0 | 1 | 2 {
  if (!report.blocked) return 0;
  return report.files.summary().counts.block > 0 ? 1 : 2;
}

function progressTracker(entries: EntryList, report: ScanOptions['onProgress']) {
  const size = (e: WalkEntry) => (e.kind === 'file' ? (e.size ?? 0) : 0);
  const p: ScanProgress = { done: 0, total: entries.length, bytesDone: 0, bytesTotal: 0 };
  for (const e of entries) p.bytesTotal += size(e);
  return {
    start(e: WalkEntry) {
      p.current = e.relPath;
      report?.({ ...p });
    },
    done(e: WalkEntry) {
      p.done++;
      p.bytesDone += size(e);
      report?.({ ...p });
    },
  };
}

async function scanEntry(e: WalkEntry, policy: Readonly<Policy>, now: Date): Promise<FileReport> {
  if (e.kind === 'skipped') return notScanned(e.relPath, e.ruleId, `Not scanned: ${e.why}.`, {}, policy, now);
  const settings: ScanSettings = { limits: policy.limits, allowGlobals: policy.allow };
  if (e.kind === 'stream') {
    // Read once into a private temporary file, then scanned like any file under the name given.
    const s = await spoolStream(e.absPath, policy.limits);
    const facts = { stream: e.what };
    if (!s.ok)
      return notScanned(
        e.relPath,
        s.limit ? 'MG001' : 'MG009',
        `${e.what}: ${s.message}.`,
        facts,
        policy,
        now,
      );
    try {
      const r = await scanFileOnDisk(s.path, e.relPath, s.dir, { settings });
      return finish(e.relPath, r.format, r.size, r.sha256, r.findings, { ...r.facts, ...facts }, policy, now);
    } finally {
      await s.cleanup();
    }
  }
  const r = await scanFileOnDisk(e.absPath, e.relPath, e.root, { settings });
  const facts = e.linkTarget === undefined ? r.facts : { ...r.facts, linkTarget: e.linkTarget };
  return finish(e.relPath, r.format, r.size, r.sha256, r.findings, facts, policy, now);
}

/** The report of a path that was not analysed (one `incomplete` finding saying why). */
function notScanned(
  path: string,
  ruleId: string,
  message: string,
  facts: Record<string, unknown>,
  policy: Readonly<Policy>,
  now: Date,
): FileReport {
  const rule = getRule(ruleId);
  const findings: Finding[] = [{ ruleId, severity: rule.severity, score: rule.score, message, location: {} }];
  return finish(path, 'other', 0, '', findings, facts, policy, now);
}

/** A file's report: its findings under the policy (scores, waivers, verdict). */
export function finish(
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
    findings: [...ev.findings, ...waiverFindings(ev)],
  };
  if (Object.keys(facts).length > 0) report.facts = facts;
  return report;
}

/**
 * Companion data files: raw bytes that a model of this scan names as its data are data, not an unknown model.
 * A `weights.bin` beside `model.onnx`, or `group1-shard1of2.bin` beside a TF.js `model.json`, would otherwise
 * be MG004 (unknown content under a model name). Only files with no other finding are reclassified, and only
 * when the reference resolves to their exact path (the analyzers already report references that escape the
 * folder, and they list only files that are present and regular).
 */
const COMPANIONS: ReadonlyArray<{
  formats: readonly FileReport['format'][];
  listFact: string;
  as: FileReport['format'];
  ofFact: string;
}> = [
  {
    formats: ['onnx', 'onnx-tensor'],
    listFact: 'onnx.externalDataFiles',
    as: 'onnx-external-data',
    ofFact: 'onnx.externalDataOf',
  },
  { formats: ['tfjs-model'], listFact: 'tfjs.weightFiles', as: 'tfjs-weights', ofFact: 'tfjs.weightsOf' },
];

function markCompanionData(files: FileReports, policy: Readonly<Policy>, now: Date): void {
  for (const kind of COMPANIONS) {
    const referencedBy = new Map<string, string>();
    for (let i = 0; i < files.length; i++) {
      if (!kind.formats.includes(files.head(i).format)) continue;
      const f = files.at(i)!;
      const locations = f.facts?.[kind.listFact];
      if (!Array.isArray(locations)) continue;
      const dir = posix.dirname(f.path);
      for (const l of locations) if (typeof l === 'string') referencedBy.set(posix.join(dir, l), f.path);
    }
    if (referencedBy.size === 0) continue;
    for (let i = 0; i < files.length; i++) {
      // Unknown content (MG004) or raw data (MG840, what a shard looks like on its own) only.
      const { format } = files.head(i);
      if (format !== 'unknown' && format !== 'raw-data') continue;
      const f = files.at(i)!;
      const model = referencedBy.get(posix.normalize(f.path));
      if (!model || f.findings.some((x) => x.ruleId !== 'MG004' && x.ruleId !== 'MG840')) continue;
      const ev = evaluateFile([], policy, f, now);
      files.set(i, {
        ...f,
        format: kind.as,
        verdict: ev.verdict,
        score: ev.score,
        severity: ev.severity,
        scoreBreakdown: ev.scoreBreakdown,
        findings: [],
        facts: { ...f.facts, [kind.ofFact]: model },
      });
    }
  }
}
