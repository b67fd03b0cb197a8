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
import type { FileReport, Finding } from './types.js';
import type { WalkEntry } from './walk.js';

const isNotice = (f: Finding) => f.ruleId === 'MG460' && f.location.symbol === 'auto_map';
const WAIVER_NOTES = new Set(['MG620', 'MG621']);

/**
 * Merges the per-config remote-code notices of each repository into one. `repositoryOf` names a file's
 * repository (undefined: leave the file alone).
 */
export function remoteCodeOncePerRepository(
  files: FileReport[],
  policy: Readonly<Policy>,
  now: Date,
  repositoryOf: (f: FileReport) => string | undefined,
): void {
  const groups = new Map<string, number[]>();
  files.forEach((f, i) => {
    if (!f.findings.some(isNotice)) return;
    const repo = repositoryOf(f);
    if (repo === undefined) return;
    const g = groups.get(repo);
    if (g) g.push(i);
    else groups.set(repo, [i]);
  });
  for (const [repo, idx] of groups) {
    if (idx.length < 2) continue;
    const rank = (f: FileReport) => (posix.basename(f.path) === 'config.json' ? 0 : 1);
    idx.sort((a, b) => rank(files[a]!) - rank(files[b]!) || files[a]!.path.localeCompare(files[b]!.path));
    const [keep, ...rest] = idx as [number, ...number[]];
    const modules = new Set<string>();
    for (const i of idx) {
      const local = files[i]!.facts?.[REMOTE_CODE_LOCAL_FACT];
      if (Array.isArray(local)) for (const m of local) if (typeof m === 'string') modules.add(m);
    }
    const configs = idx.map((i) => files[i]!.path);
    const message = `Loading this repository's model (${label(repo, files[keep]!)}) with trust_remote_code=True imports and runs its own Python code, by design: ${[...modules].join(', ')}. Named by ${configs.join(', ')}; said once for the repository. Every such file is analysed as python-source.`;
    files[keep] = reevaluate(files[keep]!, policy, now, (f) => (isNotice(f) ? [{ ...f, message }] : [f]));
    for (const i of rest)
      files[i] = reevaluate(files[i]!, policy, now, (f) => (isNotice(f) ? [] : [f]), {
        'hf.remoteCodeNoticeIn': files[keep]!.path,
      });
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
export function localRepository(entries: readonly WalkEntry[]): (f: FileReport) => string | undefined {
  const byPath = new Map(entries.map((e) => [e.relPath, e]));
  return (f) => {
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
