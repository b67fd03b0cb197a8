import type { Policy } from '../core/policy/policy.js';
import { escapeMarkdown, markdownCode, safeJsonStringify, truncate } from '../core/report/escape.js';
import { bySeverity, displayPath, ICON, renderMarkdown, sortFiles } from '../core/report/markdown.js';
import { getRule } from '../core/rules/catalogue.js';
import { ruleDocUrl } from '../core/rules/docs.js';
import { type FileReport, type Finding, type ScanReport, severityRank } from '../core/types.js';
import { fileFails } from './annotations.js';

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
  /** Findings that got no annotation of their own (GitHub's 10 + 10 limit), said in the job summary. */
  annotationsOmitted?: number;
  /** The clock for dates the reports propose (waiver expiry); the current time when absent. */
  now?: Date;
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

/** Files listed one per line in the comment before the rest are only counted. */
const COMMENT_FILES = 50;

/**
 * The sticky PR comment, written for the reviewer who has to act: the verdict in one line, then only the files
 * with findings, one line each with its worst finding in words and a link to the rule's documentation, the
 * count of the rest, and "what now" (fix or remove, or the exact waiver to add to the base-branch policy, and
 * what cannot be waived). No wide table, so nothing is cut at GitHub's comment width. Everything taken from a
 * model goes through the escapers: no mentions, links, HTML or forged lines.
 */
export function renderComment(report: ScanReport, ctx: RunContext, policy: Readonly<Policy>): string {
  const marker = commentMarker(ctx.shard);
  const scope = `Scanned ${escapeMarkdown(ctx.scopeText)}.`;
  for (const max of [COMMENT_FILES, 10, 0]) {
    const body = `${marker}\n${commentBody(report, ctx, policy, max)}\n${scope}\n${notesBlock(ctx.notes)}\n${footer(report, ctx)}\n`;
    if (body.length <= COMMENT_BUDGET) return body;
  }
  const minimal = `${marker}\n### modelgate: ${report.verdict}${report.blocked ? ' (blocking)' : ''}\n\n${report.files.length} files scanned, highest score ${report.maxScore}. The full list is too long for a comment: see the ${runLink(ctx, 'job summary')}.\n`;
  return minimal.slice(0, COMMENT_LIMIT - 1);
}

function commentBody(
  report: ScanReport,
  ctx: RunContext,
  policy: Readonly<Policy>,
  maxFiles: number,
): string {
  const failing = sortFiles(report.files.filter((f) => fileFails(f, policy)));
  const warned = sortFiles(
    report.files.filter((f) => !fileFails(f, policy) && f.findings.some((x) => !x.waived && x.score > 0)),
  );
  const quiet = report.files.length - failing.length - warned.length;
  const out: string[] = [];
  const head =
    failing.length > 0
      ? `${failing.length} of ${report.files.length} scanned file${report.files.length === 1 ? '' : 's'} fail${failing.length === 1 ? 's' : ''} the policy${report.blocked ? '' : ' (warn-only: the job does not fail)'}`
      : `${report.files.length} file${report.files.length === 1 ? '' : 's'} scanned, none fails the policy`;
  out.push(`### ${ICON[report.verdict]} modelgate: ${report.verdict} — ${head}`, '');
  let budget = maxFiles;
  const list = (title: string, files: FileReport[]) => {
    if (files.length === 0) return;
    out.push(`**${title}**`, '');
    const shown = files.slice(0, Math.max(0, budget));
    budget -= shown.length;
    for (const f of shown) out.push(`- ${fileLine(f)}`);
    if (shown.length < files.length)
      out.push(`- … and ${files.length - shown.length} more: see the ${runLink(ctx, 'job summary')}`);
    out.push('');
  };
  list('Fails the gate', failing);
  list('Warnings', warned);
  out.push(
    `${quiet} other file${quiet === 1 ? '' : 's'} passed with nothing to report. Full report with every finding: the ${runLink(ctx, 'job summary')}.`,
  );
  if (failing.length > 0 || warned.length > 0) out.push('', ...whatNow([...failing, ...warned], policy, ctx));
  return `${out.join('\n')}\n`;
}

function fileLine(f: FileReport): string {
  const active = f.findings.filter((x) => !x.waived).sort(bySeverity);
  const worst = active[0];
  if (!worst) return `${ICON[f.verdict]} ${markdownCode(truncate(displayPath(f), 160))}`;
  const rule = getRule(worst.ruleId);
  const what =
    rule.kind === 'incomplete'
      ? `not fully analysed: ${escapeMarkdown(rule.title)}`
      : `${escapeMarkdown(rule.title)}${worst.location.symbol ? ` ${markdownCode(truncate(worst.location.symbol, 80))}` : ''}`;
  const more =
    active.length > 1 ? ` · ${active.length - 1} more finding${active.length === 2 ? '' : 's'}` : '';
  return `${ICON[f.verdict]} ${markdownCode(truncate(displayPath(f), 160))} — ${what} ([${worst.ruleId}](${ruleDocUrl(worst.ruleId)})) · score ${f.score}${more}`;
}

/** Files with a waiver example in the comment at most. */
const WAIVER_EXAMPLES = 5;

/** Waivers are matched on the rule, the path and (here) the exact bytes; an expiry keeps them from lasting forever. */
function whatNow(files: FileReport[], policy: Readonly<Policy>, ctx: RunContext): string[] {
  const out = ['#### What now?', ''];
  out.push(
    '- **Fix or remove** the files listed: regenerate models from trusted code in a data-only format (safetensors, or a state_dict loaded with `weights_only=True`), or take them out of this pull request. Each rule link says what the finding means and what to do.',
  );
  // A waiver only helps a file whose every finding can be waived: the others are listed as "remove".
  const nonWaivable = new Set<string>();
  const waivers: string[][] = [];
  const expires = new Date((ctx.now ?? new Date()).getTime() + 90 * 86_400_000).toISOString().slice(0, 10);
  for (const f of files) {
    const active = f.findings.filter(
      (x) => !x.waived && (x.score > 0 || getRule(x.ruleId).kind === 'incomplete'),
    );
    const blocking = active.filter((x) => !canWaive(x, policy));
    for (const x of blocking) nonWaivable.add(x.ruleId);
    if (blocking.length > 0 || waivers.length >= WAIVER_EXAMPLES) continue;
    waivers.push(
      [...new Set(active.map((x) => x.ruleId))].flatMap((ruleId) => [
        `  - ruleId: ${ruleId}`,
        `    path: ${yamlString(f.path)}`,
        `    sha256: ${f.sha256}`,
        '    reason: "<why these bytes are safe>"',
        `    expires: "${expires}"`,
      ]),
    );
  }
  if (waivers.length > 0) {
    out.push(
      `- **A false positive?** A maintainer accepts it with a waiver in the policy file of the base branch (${escapeMarkdown(ctx.policySource)}); a waiver added by this pull request is not read. For the findings above, pinned to these exact bytes:`,
      '',
      '```yaml',
      'waivers:',
      ...waivers.flat(),
      '```',
    );
  }
  if (nonWaivable.size > 0)
    out.push(
      '',
      `- **Cannot be waived:** ${[...nonWaivable]
        .sort()
        .map((id) => `[${id}](${ruleDocUrl(id)})`)
        .join(
          ', ',
        )} (known code execution, or above the policy's waivable severity): remove or regenerate the files that have them.`,
    );
  return out;
}

function canWaive(x: Finding, policy: Readonly<Policy>): boolean {
  return getRule(x.ruleId).waivable && severityRank(x.severity) <= severityRank(policy.maxWaivedSeverity);
}

/** A YAML double-quoted scalar: paths from the PR cannot close the string or add keys. */
function yamlString(s: string): string {
  return safeJsonStringify(s).replace(/`/g, '\\u0060');
}

/** The comment a clean run leaves on a PR that had findings before. */
export function renderResolvedComment(report: ScanReport, ctx: RunContext): string {
  const marker = commentMarker(ctx.shard);
  const commit =
    ctx.commit && /^[0-9a-f]{7,64}$/i.test(ctx.commit) ? ` at commit ${ctx.commit.slice(0, 12)}` : '';
  return `${marker}\n### ✅ modelgate: pass\n\nThe latest run${commit} found nothing to report in ${report.files.length} scanned files; the findings reported earlier on this pull request are resolved.\n\n${footer(report, ctx)}\n`;
}

/**
 * The job summary: the full table, per-file detail, notes (once), and a short explanation of the gate.
 * Incomplete files are shown as failing when the policy makes them fail. Rendered to a budget under the
 * runner's 1 MiB limit: the details go first, then the table is cut.
 */
export function renderSummary(report: ScanReport, ctx: RunContext, policy?: Readonly<Policy>): string {
  const head = `Scanned ${escapeMarkdown(ctx.scopeText)}. Policy: ${escapeMarkdown(ctx.policySource)}${
    policy
      ? ` (max score ${policy.maxScore}${policy.warnOnly ? ', warn-only' : ''}${policy.failOnIncomplete ? ', incomplete blocks' : ', incomplete does not block'})`
      : ''
  }.\n`;
  // The action folds its own notes into the report's; listing both would say each twice.
  const allNotes = [...new Set([...(report.notes ?? []), ...ctx.notes])];
  const notes = allNotes.length
    ? `\n#### Notes\n\n${allNotes.map((n) => `- ${escapeMarkdown(truncate(n, 2000))}`).join('\n')}\n`
    : '';
  const omitted = ctx.annotationsOmitted
    ? `\n${ctx.annotationsOmitted} finding${ctx.annotationsOmitted === 1 ? ' was' : 's were'} not annotated on the diff (GitHub shows at most 10 errors and 10 warnings per step); all are listed here.\n`
    : '';
  const common = { notes: false, incompleteFails: policy?.failOnIncomplete ?? true };
  const tries: Array<() => string> = [
    () => renderMarkdown(report, { ...common, details: true, topFindings: 3 }),
    () => renderMarkdown(report, { ...common, topFindings: 3 }),
    () => renderMarkdown(report, { ...common, topFindings: 1, maxFiles: 2000 }),
    () => renderMarkdown(report, { ...common, topFindings: 1, maxFiles: 100 }),
  ];
  for (const [i, t] of tries.entries()) {
    const cut =
      i > 0
        ? '\n_Per-file details were left out to stay under the 1 MiB summary limit: see the JSON report (`report-file`) and the SARIF file._\n'
        : '';
    const body = `${t()}\n${head}${omitted}${cut}${notes}\n${footer(report, ctx)}\n`;
    if (Buffer.byteLength(body) <= SUMMARY_BUDGET) return body;
  }
  return `### modelgate: ${report.verdict}\n\n${report.files.length} files scanned, highest score ${report.maxScore}. The report is too large for the job summary: see the JSON report.\n`;
}

/** The summary written when the action itself failed before producing a report. */
export function renderErrorSummary(message: string, ctx: Partial<RunContext>): string {
  const notes = (ctx.notes ?? []).map((n) => `- ${escapeMarkdown(truncate(n, 2000))}`).join('\n');
  return `### ❌ modelgate: error\n\nThe scan did not complete, so nothing was checked:\n\n${markdownCode(truncate(message, 4000))}\n${notes ? `\n${notes}\n` : ''}`;
}
