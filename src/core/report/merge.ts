import { z } from 'zod';
import type { Policy } from '../policy/policy.js';
import { hasRule } from '../rules/catalogue.js';
import { buildReport } from '../scan.js';
import { type FileReport, type ScanReport, SEVERITIES, VERDICTS, verdictRank } from '../types.js';
import { FileReports } from './file-reports.js';
import { findingShape } from './finding-schema.js';

/**
 * Combining JSON reports (shards of one scan, or the artifact of a read-only scan job). Reports are untrusted
 * input here (they may come from a job that ran on a fork's code path), so they are validated against the
 * schema and size caps before use, and the verdict is recomputed under the merging job's own policy.
 */
export const MAX_REPORT_BYTES = 64 * 2 ** 20;

/** The report's schema, built on first use (building zod schemas costs milliseconds on every start). */
function buildSchema() {
  const finding = z.object({
    ...findingShape(),
    waived: z.object({ reason: z.string().max(4000), expires: z.string().max(40) }).optional(),
  });

  const fileReport = z.object({
    path: z.string().min(1).max(4096),
    format: z.string().max(40),
    size: z.number().int().nonnegative(),
    sha256: z.string().max(64),
    sha256Source: z.literal('hub').optional(),
    verdict: z.enum(VERDICTS),
    score: z.number().min(0).max(100),
    severity: z.enum(SEVERITIES),
    scoreBreakdown: z.record(z.string().max(8192), z.number()),
    findings: z.array(finding).max(100_000),
    facts: z.record(z.string(), z.unknown()).optional(),
  });

  const scanReport = z.object({
    schemaVersion: z.literal(1),
    tool: z.object({ name: z.literal('modelgate'), version: z.string().max(64) }),
    verdict: z.enum(VERDICTS),
    maxScore: z.number(),
    blocked: z.boolean(),
    files: z.array(fileReport).max(1_000_000),
    notes: z.array(z.string().max(20_000)).max(10_000).optional(),
  });
  return scanReport;
}

let schema: ReturnType<typeof buildSchema> | undefined;

export class ReportError extends Error {
  override name = 'ReportError';
}

/** Parses and validates a JSON report (schemaVersion 1). Throws ReportError naming the source. */
export function parseReport(text: string, source: string): ScanReport {
  if (text.length > MAX_REPORT_BYTES)
    throw new ReportError(`${source}: report larger than ${MAX_REPORT_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ReportError(`${source}: not JSON (${(err as Error).message})`);
  }
  schema ??= buildSchema();
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ReportError(
      `${source}: not a modelgate report: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    );
  }
  for (const f of r.data.files)
    for (const x of f.findings)
      if (!hasRule(x.ruleId)) throw new ReportError(`${source}: ${f.path}: unknown rule id ${x.ruleId}`);
  return { ...r.data, files: FileReports.from(r.data.files as FileReport[]) } as ScanReport;
}

/**
 * One report from several: files are combined by path (a path reported twice keeps its worst result, so a
 * duplicated shard cannot hide a finding), notes are concatenated, and the verdict and `blocked` are
 * recomputed under `policy` (warn-only and fail-on-incomplete of the merging run).
 */
export function mergeReports(
  reports: readonly ScanReport[],
  policy: Readonly<Pick<Policy, 'warnOnly' | 'failOnIncomplete'>>,
): ScanReport {
  const byPath = new Map<string, FileReport>();
  for (const r of reports)
    for (const f of r.files) {
      const prev = byPath.get(f.path);
      if (
        !prev ||
        verdictRank(f.verdict) > verdictRank(prev.verdict) ||
        (f.verdict === prev.verdict && f.score > prev.score)
      )
        byPath.set(f.path, f);
    }
  const files = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const notes = reports.flatMap((r) => r.notes ?? []);
  return buildReport(files, policy as Readonly<Policy>, [...new Set(notes)]);
}
