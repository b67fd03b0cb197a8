import { getRule } from '../rules/catalogue.js';
import { type FileReport, type Finding, type ScanReport, severityRank } from '../types.js';
import { escapeHtml, escapeMarkdown, markdownCode, truncate } from './escape.js';
import { provenanceRows } from './provenance.js';

export const ICON = { pass: '✅', warn: '⚠️', block: '⛔', incomplete: '❓' } as const;

export interface MarkdownOptions {
  /** Include per-file detail sections (the job summary does; the PR comment keeps to the table). */
  details?: boolean;
  /** Findings named per file in the table. */
  topFindings?: number;
  /** Include files with nothing to say (format other, no findings). */
  includeClean?: boolean;
  /** Rows in the table at most (most severe first); the rest are counted in one line. */
  maxFiles?: number;
  /** List the report's notes (with details; default true). The job summary lists notes itself. */
  notes?: boolean;
  /** Incomplete files fail the gate under the policy: say so where the verdict is shown. */
  incompleteFails?: boolean;
}

/** A Markdown report: verdict line, a table of files, and optionally the findings per file. */
export function renderMarkdown(report: ScanReport, opts: MarkdownOptions = {}): string {
  const top = opts.topFindings ?? 3;
  const out: string[] = [];
  out.push(`### ${ICON[report.verdict]} modelgate: ${report.verdict}${report.blocked ? ' (blocking)' : ''}`);
  out.push('');
  // The files worth a row, most severe first, chosen and ordered by their heads and paths: a report is read
  // back whole only for the rows and details written (a scan can hold 100,000 files).
  const files = report.files;
  const shown: Array<Pick<FileReport, 'verdict' | 'score' | 'path'> & { i: number }> = [];
  for (let i = 0; i < files.length; i++) {
    const { verdict, score, findings, format } = files.head(i);
    if (opts.includeClean || findings > 0 || format !== 'other')
      shown.push({ i, verdict, score, path: files.at(i)!.path });
  }
  shown.sort(mostSevereFirst);
  const { counts } = files.summary();
  out.push(
    `${report.files.length} files scanned: ${counts.block} blocked, ${counts.incomplete} incomplete, ${counts.warn} warned, ${counts.pass} passed. Highest score ${report.maxScore}.`,
  );
  if (shown.length > 0) {
    out.push('');
    out.push('| File | Verdict | Score | Format | Top findings |');
    out.push('| --- | --- | ---: | --- | --- |');
    const rows = opts.maxFiles !== undefined ? shown.slice(0, opts.maxFiles) : shown;
    for (const { i } of rows) {
      const f = files.at(i)!;
      const findings = topOf(f, top)
        .map(
          (x) =>
            `${x.ruleId} ${escapeMarkdown(truncate(getRule(x.ruleId).title, 60))}${x.location.symbol ? ` ${markdownCode(truncate(x.location.symbol, 80))}` : ''}`,
        )
        .join('<br>');
      out.push(
        `| ${markdownCode(truncate(displayPath(f), 120))} | ${verdictCell(f, opts)} | ${f.score} | ${f.format} | ${findings || '—'} |`,
      );
    }
    if (rows.length < shown.length) {
      out.push('');
      out.push(
        `… and ${shown.length - rows.length} more files (the least severe), listed in the full report.`,
      );
    }
  }
  const provenance = opts.details ? provenanceRows(report) : [];
  if (provenance.length > 0) {
    out.push('');
    out.push('#### Provenance');
    out.push('');
    out.push('| Folder | Status | Signed by | When | Covers |');
    out.push('| --- | --- | --- | --- | --- |');
    for (const r of provenance) {
      const problems = r.problems.map((p) => `<br>${escapeMarkdown(truncate(p, 300))}`).join('');
      out.push(
        `| ${markdownCode(truncate(r.folder, 120))} | ${r.status}${problems} | ${escapeMarkdown(truncate(r.signer, 200))} | ${escapeMarkdown(r.when)} | ${escapeMarkdown(truncate(r.covers, 200))} |`,
      );
    }
  }
  if (opts.details && (opts.notes ?? true) && report.notes?.length) {
    out.push('');
    for (const n of report.notes) out.push(`- ${escapeMarkdown(truncate(n, 1000))}`);
  }
  if (opts.details) {
    for (const { i } of shown) {
      if (files.head(i).findings === 0) continue;
      const f = files.at(i)!;
      out.push('');
      out.push(
        `<details><summary>${ICON[f.verdict]} <code>${escapeHtml(truncate(displayPath(f), 200))}</code>: ${verdictText(f, opts)}, score ${f.score}</summary>`,
      );
      out.push('');
      out.push(`sha256 \`${f.sha256}\`, ${f.size} bytes. Score: ${breakdown(f)}`);
      out.push('');
      for (const x of [...f.findings].sort(bySeverity)) out.push(`- ${findingLine(x)}`);
      out.push('');
      out.push('</details>');
    }
  }
  return `${out.join('\n')}\n`;
}

function verdictText(f: FileReport, opts: MarkdownOptions): string {
  return f.verdict === 'incomplete' && opts.incompleteFails ? 'incomplete (fails the gate)' : f.verdict;
}

function verdictCell(f: FileReport, opts: MarkdownOptions): string {
  return `${ICON[f.verdict]} ${verdictText(f, opts)}`;
}

export function findingLine(x: Finding): string {
  const rule = getRule(x.ruleId);
  const where: string[] = [];
  if (x.location.symbol) where.push(`symbol ${markdownCode(truncate(x.location.symbol, 120))}`);
  if (x.location.member) where.push(`in ${markdownCode(truncate(x.location.member, 160))}`);
  if (x.location.offset !== undefined) where.push(`at byte ${x.location.offset}`);
  const waived = x.waived
    ? ` _(waived until ${escapeMarkdown(x.waived.expires)}: ${escapeMarkdown(truncate(x.waived.reason, 200))})_`
    : '';
  return `**${x.ruleId}** ${x.severity} (${x.score}): ${escapeMarkdown(truncate(x.message, 400))}${where.length ? ` — ${where.join(', ')}` : ''}. ${escapeMarkdown(rule.remediation)}${waived}`;
}

function breakdown(f: FileReport): string {
  const parts = Object.entries(f.scoreBreakdown);
  return parts.length === 0
    ? '0'
    : parts.map(([k, v]) => `${markdownCode(truncate(k, 100))} ${v}`).join(' + ');
}

function topOf(f: FileReport, n: number): Finding[] {
  return [...f.findings]
    .filter((x) => !x.waived)
    .sort(bySeverity)
    .slice(0, n);
}

export function bySeverity(a: Finding, b: Finding): number {
  return severityRank(b.severity) - severityRank(a.severity) || b.score - a.score;
}

const ORDER = { block: 0, incomplete: 1, warn: 2, pass: 3 } as const;
/** Most severe first: verdict, then score, then path (the order of the Markdown table). */
function mostSevereFirst(a: Pick<FileReport, 'verdict' | 'score' | 'path'>, b: typeof a): number {
  return ORDER[a.verdict] - ORDER[b.verdict] || b.score - a.score || a.path.localeCompare(b.path);
}

export function sortFiles(files: FileReport[]): FileReport[] {
  return [...files].sort(mostSevereFirst);
}

/** A file's path for people: `link -> target` when it was reached through a symbolic link. */
export function displayPath(f: Pick<FileReport, 'path' | 'facts'>): string {
  const target = f.facts?.linkTarget;
  return typeof target === 'string' ? `${f.path} -> ${target}` : f.path;
}
