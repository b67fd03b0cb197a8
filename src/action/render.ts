import type { Policy } from '../core/policy/policy.js';
import { escapeControl, escapeMarkdown, markdownCode, truncate } from '../core/report/escape.js';
import { renderMarkdown } from '../core/report/markdown.js';
import { getRule } from '../core/rules/catalogue.js';
import { type FileReport, type Finding, type ScanReport, severityRank } from '../core/types.js';

/** GitHub rejects comment bodies of 65,536 characters or more. */
export const COMMENT_LIMIT = 65_536;
const COMMENT_BUDGET = 60_000;
/** The runner rejects a step summary over 1 MiB. */
export const SUMMARY_LIMIT = 1024 * 1024;
const SUMMARY_BUDGET = 1_000_000;

export function commentMarker(shard?: string): string {
  return `<!-- modelgate-report v1${shard ? ` shard=${shard.replace(/[^0-9/]/g, '')}` : ''} -->`;
}

/** What the reports say about the run besides the scan report itself. */
export interface RunContext {
  /** e.g. "changed in this pull request", "all files (schedule)". */
  scopeText: string;
  commit?: string;
  runUrl?: string;
  policySource: string;
  notes: string[];
  shard?: string;
}

function runLink(ctx: RunContext, text: string): string {
  return ctx.runUrl && /^https?:\/\/[^\s()<>]+$/.test(ctx.runUrl) ? `[${text}](${ctx.runUrl})` : text;
}

function footer(report: ScanReport, ctx: RunContext): string {
  const bits = [`modelgate ${escapeMarkdown(report.tool.version)}`];
  if (ctx.commit && /^[0-9a-f]{7,64}$/i.test(ctx.commit)) bits.push(`commit ${ctx.commit.slice(0, 12)}`);
  bits.push(`policy: ${escapeMarkdown(ctx.policySource)}`);
  if (ctx.shard) bits.push(`shard ${escapeMarkdown(ctx.shard)}`);
  return `<sub>${bits.join(' · ')} · ${runLink(ctx, 'run details and job summary')}</sub>`;
}

function notesBlock(notes: readonly string[], max = 20): string {
  if (notes.length === 0) return '';
  const shown = notes.slice(0, max).map((n) => `- ${escapeMarkdown(truncate(n, 600))}`);
  if (notes.length > max) shown.push(`- … ${notes.length - max} more notes in the job summary`);
  return `\n<details><summary>Notes (${notes.length})</summary>\n\n${shown.join('\n')}\n\n</details>\n`;
}

/** Whether a report has anything to say in a PR comment (with comment: on-findings). */
export function hasFindings(report: ScanReport): boolean {
  return (
    report.verdict !== 'pass' || report.files.some((f) => f.findings.some((x) => !x.waived && x.score > 0))
  );
}

/**
 * The sticky PR comment: hidden marker, verdict, a compact table (file, verdict, score, top findings), notes,
 * and a link to the run. Kept under GitHub's limit with two shorter fallbacks. Every path, symbol and message
 * taken from a model goes through the escapers: no mentions, links, HTML or forged table rows.
 */
export function renderComment(report: ScanReport, ctx: RunContext): string {
  const marker = commentMarker(ctx.shard);
  const scope = `Scanned ${escapeMarkdown(ctx.scopeText)}.`;
  const tries: Array<() => string> = [
    () => renderMarkdown(report, { topFindings: 3 }),
    () => renderMarkdown(report, { topFindings: 1, maxFiles: 200 }),
    () => renderMarkdown(report, { topFindings: 1, maxFiles: 20 }),
  ];
  for (const t of tries) {
    const body = `${marker}\n${t()}\n${scope}\n${notesBlock(ctx.notes)}\n${footer(report, ctx)}\n`;
    if (body.length <= COMMENT_BUDGET) return body;
  }
  const minimal = `${marker}\n### modelgate: ${report.verdict}${report.blocked ? ' (blocking)' : ''}\n\n${report.files.length} files scanned, highest score ${report.maxScore}. The full table is too long for a comment: see the ${runLink(ctx, 'job summary')}.\n`;
  return minimal.slice(0, COMMENT_LIMIT - 1);
}

/** The comment a clean run leaves on a PR that had findings before. */
export function renderResolvedComment(report: ScanReport, ctx: RunContext): string {
  const marker = commentMarker(ctx.shard);
  const commit =
    ctx.commit && /^[0-9a-f]{7,64}$/i.test(ctx.commit) ? ` at commit ${ctx.commit.slice(0, 12)}` : '';
  return `${marker}\n### ✅ modelgate: pass\n\nThe latest run${commit} found nothing to report in ${report.files.length} scanned files; the findings reported earlier on this pull request are resolved.\n\n${footer(report, ctx)}\n`;
}

/**
 * The job summary: the full table, per-file detail, notes, and a short explanation of the gate. Rendered to a
 * budget under the runner's 1 MiB limit: the details go first, then the table is cut.
 */
export function renderSummary(report: ScanReport, ctx: RunContext, policy?: Readonly<Policy>): string {
  const head = `Scanned ${escapeMarkdown(ctx.scopeText)}. Policy: ${escapeMarkdown(ctx.policySource)}${
    policy
      ? ` (max score ${policy.maxScore}${policy.warnOnly ? ', warn-only' : ''}${policy.failOnIncomplete ? ', incomplete blocks' : ', incomplete does not block'})`
      : ''
  }.\n`;
  const notes = ctx.notes.length
    ? `\n#### Notes\n\n${ctx.notes.map((n) => `- ${escapeMarkdown(truncate(n, 2000))}`).join('\n')}\n`
    : '';
  const tries: Array<() => string> = [
    () => renderMarkdown(report, { details: true, topFindings: 3 }),
    () => renderMarkdown(report, { topFindings: 3 }),
    () => renderMarkdown(report, { topFindings: 1, maxFiles: 2000 }),
    () => renderMarkdown(report, { topFindings: 1, maxFiles: 100 }),
  ];
  for (const [i, t] of tries.entries()) {
    const cut =
      i > 0
        ? '\n_Per-file details were left out to stay under the 1 MiB summary limit: see the JSON report (`report-file`) and the SARIF file._\n'
        : '';
    const body = `${t()}\n${head}${cut}${notes}\n${footer(report, ctx)}\n`;
    if (Buffer.byteLength(body) <= SUMMARY_BUDGET) return body;
  }
  return `### modelgate: ${report.verdict}\n\n${report.files.length} files scanned, highest score ${report.maxScore}. The report is too large for the job summary: see the JSON report.\n`;
}

/** The summary written when the action itself failed before producing a report. */
export function renderErrorSummary(message: string, ctx: Partial<RunContext>): string {
  const notes = (ctx.notes ?? []).map((n) => `- ${escapeMarkdown(truncate(n, 2000))}`).join('\n');
  return `### ❌ modelgate: error\n\nThe scan did not complete, so nothing was checked:\n\n${markdownCode(truncate(message, 4000))}\n${notes ? `\n${notes}\n` : ''}`;
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  title: string;
  file: string;
  message: string;
}

const PER_LEVEL = 10;

function annotationLevel(f: Finding, policy: Readonly<Policy>): 'error' | 'warning' {
  if (policy.warnOnly) return 'warning';
  const rule = getRule(f.ruleId);
  if (rule.kind === 'incomplete') return policy.failOnIncomplete ? 'error' : 'warning';
  return f.severity === 'critical' || f.severity === 'high' ? 'error' : 'warning';
}

/**
 * Annotations for the findings, most severe first: at most 10 errors and 10 warnings (GitHub shows no more
 * per step), then one notice counting the rest. Waived findings are not annotated.
 */
export function planAnnotations(report: ScanReport, policy: Readonly<Policy>): Annotation[] {
  const all: Array<{ f: Finding; file: FileReport; level: 'error' | 'warning' }> = [];
  for (const file of report.files)
    for (const f of file.findings) if (!f.waived) all.push({ f, file, level: annotationLevel(f, policy) });
  all.sort(
    (a, b) =>
      (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1) ||
      severityRank(b.f.severity) - severityRank(a.f.severity) ||
      b.f.score - a.f.score ||
      a.file.path.localeCompare(b.file.path),
  );
  const out: Annotation[] = [];
  const used = { error: 0, warning: 0 };
  let rest = 0;
  for (const { f, file, level } of all) {
    if (used[level] >= PER_LEVEL) {
      rest++;
      continue;
    }
    used[level]++;
    const rule = getRule(f.ruleId);
    const where: string[] = [];
    if (f.location.member) where.push(`in ${f.location.member}`);
    if (f.location.symbol) where.push(`symbol ${f.location.symbol}`);
    if (f.location.offset !== undefined) where.push(`at byte ${f.location.offset}`);
    out.push({
      level,
      title: truncate(`${f.ruleId} ${rule.title}`, 200),
      file: file.path,
      message: truncate(
        escapeControl(
          `${f.message}${where.length ? ` (${where.join(', ')})` : ''} Score ${f.score}; file ${file.verdict}, score ${file.score}.`,
        ),
        1000,
      ),
    });
  }
  if (rest > 0)
    out.push({
      level: 'notice',
      title: 'modelgate: more findings',
      file: '',
      message: `${rest} more finding${rest === 1 ? '' : 's'} not annotated (GitHub shows at most ${PER_LEVEL} errors and ${PER_LEVEL} warnings per step): see the job summary, the SARIF file or the JSON report.`,
    });
  return out;
}

/** The step's failure message: one line per file that fails the gate, saying why. */
export function failureMessage(report: ScanReport, policy: Readonly<Policy>): string {
  const lines: string[] = [];
  for (const f of report.files) {
    if (f.verdict !== 'block' && !(f.verdict === 'incomplete' && policy.failOnIncomplete)) continue;
    const top = f.findings
      .filter(
        (x) => !x.waived && (f.verdict === 'block' ? x.score > 0 : getRule(x.ruleId).kind === 'incomplete'),
      )
      .sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || b.score - a.score)
      .slice(0, 3)
      .map((x) => `${x.ruleId}${x.location.symbol ? ` ${x.location.symbol}` : ''}`);
    const why = f.verdict === 'block' ? `blocked, score ${f.score} > ${policy.maxScore}` : 'incomplete';
    lines.push(escapeControl(truncate(`${f.path}: ${why}${top.length ? ` (${top.join(', ')})` : ''}`, 400)));
  }
  const n = lines.length;
  const shown = lines.slice(0, 50);
  if (n > 50) shown.push(`… and ${n - 50} more files`);
  return `modelgate: ${n} file${n === 1 ? '' : 's'} failed the policy:\n${shown.join('\n')}`;
}
