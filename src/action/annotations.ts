import type { Policy } from '../core/policy/policy.js';
import { referenceSites, type Site } from '../core/remote/sites.js';
import { escapeControl, truncate } from '../core/report/escape.js';
import { getRule } from '../core/rules/catalogue.js';
import { type FileReport, type Finding, type ScanReport, severityRank } from '../core/types.js';

export interface Annotation {
  level: 'error' | 'warning' | 'notice';
  title: string;
  /** Workspace-relative file ('' for a notice about the run). */
  file: string;
  /** 1-based line, for findings in text (a model reference in code or a config). */
  line?: number;
  message: string;
}

/** GitHub shows at most 10 error and 10 warning annotations per step; more are dropped silently. */
export const ANNOTATIONS_PER_LEVEL = 10;

export interface AnnotationPlan {
  annotations: Annotation[];
  /** Findings that got no annotation of their own (counted in the closing notice and the job summary). */
  omitted: number;
}

type Level = 'error' | 'warning';

function annotationLevel(f: Finding, policy: Readonly<Policy>): Level {
  if (policy.warnOnly) return 'warning';
  const rule = getRule(f.ruleId);
  if (rule.kind === 'incomplete') return policy.failOnIncomplete ? 'error' : 'warning';
  return f.severity === 'critical' || f.severity === 'high' ? 'error' : 'warning';
}

/** Whether a file fails the gate under the policy (ignoring warn-only, which only changes how it is shown). */
export function fileFails(f: FileReport, policy: Readonly<Policy>): boolean {
  return f.verdict === 'block' || (f.verdict === 'incomplete' && policy.failOnIncomplete);
}

const LEVEL_ORDER = { error: 0, warning: 1 } as const;

/**
 * Annotations planned per file first: every file that fails the gate gets its worst finding annotated before
 * any file gets a second one, so in a PR with many blocked files each shows up on its own diff. Rounds go on
 * (second-worst finding of each file, ...) while GitHub's 10 + 10 slots last; one notice counts the rest.
 * Failing files come first, then by score. Waived findings are not annotated.
 */
export function planAnnotations(report: ScanReport, policy: Readonly<Policy>): AnnotationPlan {
  const sitesOf = referenceSites(report);
  const perFile = report.files
    .map((file) => ({ file, sites: sitesOf(file.path) }))
    // A file with no place in the workspace (a Hub repository named on no line) is in the summary only.
    .filter((x) => x.sites.length > 0)
    .map(({ file, sites }) => ({
      file,
      site: sites[0]!,
      others: sites.length - 1,
      fails: fileFails(file, policy),
      findings: file.findings
        .filter((f) => !f.waived)
        .map((f) => ({ f, level: annotationLevel(f, policy) }))
        .sort(
          (a, b) =>
            LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
            severityRank(b.f.severity) - severityRank(a.f.severity) ||
            b.f.score - a.f.score,
        ),
    }))
    .filter((x) => x.findings.length > 0)
    .sort(
      (a, b) =>
        Number(b.fails) - Number(a.fails) ||
        b.file.score - a.file.score ||
        a.file.path.localeCompare(b.file.path),
    );
  const out: Annotation[] = [];
  const used = { error: 0, warning: 0 };
  let omitted = 0;
  const rounds = Math.max(0, ...perFile.map((x) => x.findings.length));
  for (let round = 0; round < rounds; round++) {
    for (const { file, site, others, findings } of perFile) {
      const item = findings[round];
      if (!item) continue;
      if (used[item.level] >= ANNOTATIONS_PER_LEVEL) {
        omitted++;
        continue;
      }
      used[item.level]++;
      out.push(annotationFor(item.f, file, item.level, site, others));
    }
  }
  if (omitted > 0)
    out.push({
      level: 'notice',
      title: 'modelgate: more findings',
      file: '',
      message: `${omitted} more finding${omitted === 1 ? '' : 's'} not annotated (GitHub shows at most ${ANNOTATIONS_PER_LEVEL} errors and ${ANNOTATIONS_PER_LEVEL} warnings per step; each failing file got its worst finding first): see the job summary, the SARIF file or the JSON report.`,
    });
  return { annotations: out, omitted };
}

function annotationFor(f: Finding, file: FileReport, level: Level, site: Site, others: number): Annotation {
  const rule = getRule(f.ruleId);
  const where: string[] = [];
  if (f.location.member) where.push(`in ${f.location.member}`);
  if (f.location.symbol) where.push(`symbol ${f.location.symbol}`);
  if (f.location.offset !== undefined) where.push(`at byte ${f.location.offset}`);
  // A finding in a model this line loads from the Hub: say which file it is in, at the line that loads it.
  const remote = site.file !== file.path;
  const line = remote ? site.line : f.location.line;
  const prefix = remote
    ? `${file.path}, loaded here${others > 0 ? ` (and at ${others} more place${others === 1 ? '' : 's'})` : ''}: `
    : '';
  return {
    level,
    title: truncate(`${f.ruleId} ${rule.title}`, 200),
    file: site.file,
    ...(line !== undefined ? { line } : {}),
    message: truncate(
      escapeControl(
        `${prefix}${f.message}${where.length ? ` (${where.join(', ')})` : ''} Score ${f.score}; file ${file.verdict}, score ${file.score}. ${rule.remediation}`,
      ),
      1000,
    ),
  };
}

/** The step's failure message: one line per file that fails the gate, saying why. */
export function failureMessage(report: ScanReport, policy: Readonly<Policy>): string {
  const lines: string[] = [];
  for (const f of report.files) {
    if (!fileFails(f, policy)) continue;
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
