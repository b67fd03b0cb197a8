import { getRule } from '../rules/catalogue.js';
import { type Finding, type ScanReport, severityRank } from '../types.js';
import { escapeControl } from './escape.js';
import { displayPath } from './markdown.js';
import { provenanceRows } from './provenance.js';

const MARK = { pass: 'PASS ', warn: 'WARN ', block: 'BLOCK', incomplete: 'INCOMPLETE' } as const;
/** SGR colours per verdict (green, yellow, red, magenta), used only when the face asks for colour. */
const COLOUR = { pass: 32, warn: 33, block: 31, incomplete: 35 } as const;

export interface TextOptions {
  verbose?: boolean;
  color?: boolean;
}

/** One line per file (verdict, score, format, path), then its findings grouped by rule, most severe first. */
export function renderText(report: ScanReport, opts: TextOptions = {}): string {
  return [...renderTextChunks(report, opts)].join('');
}

/** Pieces of about this many characters: a scan of 100,000 files is not written as one string. */
const CHUNK_CHARS = 1 << 16;

/** The same text as `renderText`, in pieces of about 64 KiB. */
export function* renderTextChunks(report: ScanReport, opts: TextOptions = {}): Generator<string> {
  const paint = (v: keyof typeof COLOUR, s: string) => (opts.color ? `\x1b[${COLOUR[v]}m${s}\x1b[0m` : s);
  let lines: string[] = [];
  let chars = 0;
  for (const f of report.files) {
    if (chars >= CHUNK_CHARS) {
      yield `${lines.join('\n')}\n`;
      lines = [];
      chars = 0;
    }
    if (!opts.verbose && f.format === 'other' && f.findings.length === 0) continue;
    const line = `${paint(f.verdict, MARK[f.verdict].padEnd(10))} ${String(f.score).padStart(3)}  ${f.format.padEnd(16)} ${escapeControl(displayPath(f))}`;
    lines.push(line);
    chars += line.length;
    const groups = new Map<string, Finding[]>();
    for (const x of [...f.findings].sort(bySeverity)) {
      const g = groups.get(x.ruleId) ?? [];
      g.push(x);
      groups.set(x.ruleId, g);
    }
    for (const [ruleId, fs] of groups) {
      const rule = getRule(ruleId);
      lines.push(`    ${ruleId} ${fs[0]!.severity.toUpperCase()} ${rule.title}`);
      const shown = opts.verbose ? fs : fs.slice(0, 5);
      for (const x of shown) {
        const line = `      - ${escapeControl(x.message)}${where(x)}${x.waived ? ` [waived: ${escapeControl(x.waived.reason)}]` : ''}`;
        lines.push(line);
        chars += line.length;
      }
      if (shown.length < fs.length) lines.push(`      … and ${fs.length - shown.length} more`);
    }
  }
  const provenance = provenanceRows(report);
  if (provenance.length > 0) {
    lines.push('', 'Provenance:');
    for (const r of provenance) {
      const facts = [
        r.signer && `by ${r.signer}`,
        r.when && `at ${r.when}`,
        r.covers && `covers ${r.covers}`,
      ].filter(Boolean);
      lines.push(
        `  ${r.status.toUpperCase().padEnd(10)} ${escapeControl(r.folder)}${facts.length ? `: ${escapeControl(facts.join(', '))}` : ''}`,
      );
      for (const p of r.problems) lines.push(`      - ${escapeControl(p)}`);
    }
  }
  for (const note of report.notes ?? []) lines.push(`note: ${escapeControl(note)}`);
  const { counts } = report.files.summary();
  lines.push('');
  lines.push(
    `modelgate ${report.tool.version}: ${paint(report.verdict, report.verdict.toUpperCase())} (${report.files.length} files: ${counts.block} blocked, ${counts.incomplete} incomplete, ${counts.warn} warned, ${counts.pass} passed; max score ${report.maxScore})`,
  );
  yield `${lines.join('\n')}\n`;
}

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.location.symbol) parts.push(`symbol ${f.location.symbol}`);
  if (f.location.member) parts.push(`in ${f.location.member}`);
  if (f.location.offset !== undefined) parts.push(`at byte ${f.location.offset}`);
  if (f.location.line !== undefined) parts.push(`line ${f.location.line}`);
  return parts.length > 0 ? ` (${escapeControl(parts.join(', '))})` : '';
}

function bySeverity(a: Finding, b: Finding): number {
  return severityRank(b.severity) - severityRank(a.severity) || b.score - a.score;
}
