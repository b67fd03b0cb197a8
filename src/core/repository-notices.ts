// Notices said once per repository rather than once per file. Remote code (MG460) is code execution by design
// when a model is loaded with trust_remote_code=True: config.json and tokenizer_config.json of one model usually
// both name the repository's Python files, and saying it on each would count one decision twice. Once every
// file is scanned, the per-config notices of one repository are merged into one, on its config.json (or the
// first config by path), listing every Python file and the configs that name them; the other configs keep a
// fact pointing at it. Each Python file keeps its own findings (MG461, MG462, MG910).
import { existsSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { REMOTE_CODE_LOCAL_FACT } from './formats/huggingface/rules.js';
import { evaluateFile, type Policy, waiverFindings } from './policy/policy.js';
import type { FileReports } from './report/file-reports.js';
import type { FileReport, Finding } from './types.js';
import type { WalkEntry } from './walk.js';
import type { EntryList } from './walk-list.js';

const isNotice = (f: Finding) => f.ruleId === 'MG460' && f.location.symbol === 'auto_map';
const WAIVER_NOTES = new Set(['MG620', 'MG621']);

/**
 * Merges the per-config remote-code notices of each repository into one. `repositoryOf` names a file's
 * repository (undefined: leave the file alone).
 */
export function remoteCodeOncePerRepository(
  files: FileReports,
  policy: Readonly<Policy>,
  now: Date,
  repositoryOf: (f: FileReport) => string | undefined,
): void {
  const groups = new Map<string, Array<{ i: number; f: FileReport }>>();
  for (let i = 0; i < files.length; i++) {
    // Only reports with findings can hold a notice: the others are not read back.
    if (files.head(i).findings === 0) continue;
    const f = files.at(i)!;
    if (!f.findings.some(isNotice)) continue;
    const repo = repositoryOf(f);
    if (repo === undefined) continue;
    const g = groups.get(repo);
    if (g) g.push({ i, f });
    else groups.set(repo, [{ i, f }]);
  }
  for (const [repo, group] of groups) {
    if (group.length < 2) continue;
    const rank = (f: FileReport) => (posix.basename(f.path) === 'config.json' ? 0 : 1);
    group.sort((a, b) => rank(a.f) - rank(b.f) || a.f.path.localeCompare(b.f.path));
    const [keep, ...rest] = group as [(typeof group)[0], ...typeof group];
    const modules = new Set<string>();
    for (const { f } of group) {
      const local = f.facts?.[REMOTE_CODE_LOCAL_FACT];
      if (Array.isArray(local)) for (const m of local) if (typeof m === 'string') modules.add(m);
    }
    const configs = group.map(({ f }) => f.path);
    const message = `Loading this repository's model (${label(repo, keep.f)}) with trust_remote_code=True imports and runs its own Python code, by design: ${[...modules].join(', ')}. Named by ${configs.join(', ')}; said once for the repository. Every such file is analysed as python-source.`;
    files.set(
      keep.i,
      reevaluate(keep.f, policy, now, (f) => (isNotice(f) ? [{ ...f, message }] : [f])),
    );
    for (const { i, f } of rest)
      files.set(
        i,
        reevaluate(f, policy, now, (x) => (isNotice(x) ? [] : [x]), { 'hf.remoteCodeNoticeIn': keep.f.path }),
      );
  }
}

function reevaluate(
  f: FileReport,
  policy: Readonly<Policy>,
  now: Date,
  map: (x: Finding) => Finding[],
  facts: Record<string, unknown> = {},
): FileReport {
  const findings = f.findings.filter((x) => !WAIVER_NOTES.has(x.ruleId)).flatMap(map);
  const ev = evaluateFile(findings, policy, f, now);
  return {
    ...f,
    verdict: ev.verdict,
    score: ev.score,
    severity: ev.severity,
    scoreBreakdown: ev.scoreBreakdown,
    findings: [...ev.findings, ...waiverFindings(ev)],
    facts: { ...f.facts, ...facts },
  };
}

/**
 * The repository of a scanned local file: the nearest folder, from the file's own up to the scanned root,
 * that holds a config.json (a model folder); else the file's own folder. Named by its report path.
 */
export function localRepository(entries: EntryList): (f: FileReport) => string | undefined {
  // Built on first use: most scans have no remote-code notice to place.
  let byPath: Map<string, WalkEntry> | undefined;
  return (f) => {
    byPath ??= new Map(Array.from(entries, (e) => [e.relPath, e]));
    const e = byPath.get(f.path);
    if (e?.kind !== 'file') return undefined;
    const top = dirname(e.absPath);
    for (let dir = top; ; dir = dirname(dir)) {
      const rel = relative(e.root, dir);
      if (rel.startsWith('..')) break;
      if (existsSync(join(dir, 'config.json')))
        return posix.join(posix.dirname(f.path), ...relative(top, dir).split(sep).filter(Boolean)) || '.';
      if (dir === dirname(dir) || rel === '') break;
    }
    return posix.dirname(f.path);
  };
}

/** A repository label for messages: its report folder, or the scanned folder's name when that is the root. */
function label(repo: string, f: FileReport): string {
  return repo === '.' ? `the folder of ${f.path}` : repo;
}
