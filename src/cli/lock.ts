import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseLockfile } from '../core/policy/pins.js';
import type { Policy } from '../core/policy/policy.js';
import { resolvePolicy } from '../core/policy/resolve.js';
import {
  directoryCache,
  findReferences,
  HubClient,
  hubConfigFromEnv,
  scanRemote,
} from '../core/remote/index.js';
import type { RepoRef } from '../core/remote/ref.js';
import { getRule } from '../core/rules/catalogue.js';
import type { FileReport, ScanReport } from '../core/types.js';
import { walk } from '../core/walk.js';
import { splitTargets } from './remote.js';
import { UsageError } from './usage.js';

export const LOCK_USAGE = `Usage: modelgate lock [hf://OWNER/NAME[@REVISION] ...] [--references PATH ...] [options]

Pins Hugging Face Hub models by content: resolves each repository (named on the command line, or loaded by
the code and configs under each --references PATH) to its commit, scans it as \`modelgate scan\` does, and
writes one \`<sha256>  hf://OWNER/NAME@<commit>/<file>\` line per file (with a \`# size:\` line) into the
lockfile. Entries of the repositories locked are replaced; every other line is kept. Nothing is written when a
repository blocks or cannot be fully judged. Point the policy at the file (\`lockfile: models.lock\`) so that
scans compare the files with it (MG610).

Options:
  -r, --references PATH       repeatable: lock the models the files under PATH load
  -l, --lockfile FILE         the lockfile to update (default models.lock; created if missing)
  -c, --config FILE           policy file (YAML): its limits, allowlists and rules apply to the scan
  -p, --profile NAME          profile of the policy file
      --allow-incomplete      lock even what could not be fully judged (not recommended)
      --cache-dir DIR         keep analyses there (by commit and by file); a locked commit is not read again
  -h, --help                  this help

Exit codes: 0 written (or nothing to lock), 1 a repository blocks, 2 incomplete, 3 usage or internal error.`;

/** `modelgate lock`: scans the named or referenced Hub repositories and writes their files into the lockfile. */
export async function lockCommand(
  args: string[],
  io: { stdout: (s: string) => void; stderr: (s: string) => void },
) {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${LOCK_USAGE}\n`);
    return 0;
  }
  const { paths, uris } = splitTargets(positionals);
  if (paths.length > 0)
    throw new UsageError(
      `lock takes hf://OWNER/NAME[@REVISION] arguments; for the models code loads use --references ${paths[0]}`,
    );
  const refRoots = values.references ?? [];
  if (uris.length === 0 && refRoots.length === 0)
    throw new UsageError('nothing to lock: name hf://OWNER/NAME[@REVISION] or --references PATH');
  const lockfile = values.lockfile ?? 'models.lock';
  const existing = await readFile(lockfile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw new UsageError(`--lockfile ${lockfile}: ${err.message}`);
  });
  parseLockfile(existing, lockfile); // a malformed lockfile is an error before any request
  const policy = await resolvePolicy({
    configFile: values.config,
    profile: values.profile,
    allowIncomplete: values['allow-incomplete'],
  });
  const refs = [];
  for (const p of refRoots) {
    try {
      refs.push(...(await findReferences(await walk(p))));
    } catch (err) {
      throw new UsageError(`--references ${p}: ${(err as Error).message}`);
    }
  }
  // What cannot be followed cannot be locked: say so rather than leave it out silently.
  for (const r of refs) {
    if (r.kind !== 'hf')
      io.stderr(`modelgate: ${r.file}:${r.line}: not locked (${r.kind}: ${r.note ?? r.via})\n`);
  }
  const repos = new Set([
    ...uris.map((u) => u.repoId),
    ...refs.flatMap((r) => (r.kind === 'hf' && r.repoId ? [r.repoId] : [])),
  ]);
  if (repos.size === 0) {
    io.stdout(`modelgate: no Hub model references under ${refRoots.join(', ')}: ${lockfile} unchanged\n`);
    return 0;
  }
  // The entries being replaced do not judge the scan that replaces them.
  const pins = Object.fromEntries(Object.entries(policy.pins).filter(([k]) => !lockedRepo(k, repos)));
  const hub = new HubClient(hubConfigFromEnv());
  const report = await scanRemote(undefined, uris, refs, {
    hub,
    policy: { ...policy, pins },
    now: new Date(),
    ...(values['cache-dir'] ? { cache: directoryCache(values['cache-dir']) } : {}),
    log: (m) => io.stderr(`modelgate: ${m}\n`),
  });
  return writeLock(report, policy, repos, uris, lockfile, existing, io);
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      references: { type: 'string', short: 'r', multiple: true },
      lockfile: { type: 'string', short: 'l' },
      config: { type: 'string', short: 'c' },
      profile: { type: 'string', short: 'p' },
      'allow-incomplete': { type: 'boolean' },
      'cache-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Whether a lockfile path is a file of one of these repositories (at any commit). */
function lockedRepo(path: string, repos: ReadonlySet<string>): boolean {
  const m = /^hf:\/\/((?:[^/@]+\/)?[^/@]+)@/.exec(path);
  return m !== null && repos.has(m[1]!);
}

/**
 * Why a repository's scan cannot be locked: a file that fails the policy, or a repository-level finding
 * that blocks or leaves it incomplete. MG950 (not pinned) is what the lock is for: it does not stop it.
 */
function refusal(repo: FileReport, files: FileReport[], policy: Readonly<Policy>): string | undefined {
  const fails = (f: FileReport) =>
    f.verdict === 'block' || (f.verdict === 'incomplete' && policy.failOnIncomplete);
  const failing = files.filter((f) => fails(f) || !/^[0-9a-f]{64}$/.test(f.sha256));
  if (failing.length > 0)
    return failing.map((f) => `${f.path}: ${f.verdict === 'block' ? 'blocked' : 'incomplete'}`).join('; ');
  const bad = repo.findings.filter(
    (f) =>
      !f.waived &&
      f.ruleId !== 'MG950' &&
      (f.score > 0 || (getRule(f.ruleId).kind === 'incomplete' && policy.failOnIncomplete)),
  );
  if (bad.length > 0) return bad.map((f) => `${f.ruleId} ${f.message}`).join('; ');
  return undefined;
}

async function writeLock(
  report: ScanReport,
  policy: Readonly<Policy>,
  repos: ReadonlySet<string>,
  uris: readonly RepoRef[],
  lockfile: string,
  existing: string,
  io: { stdout: (s: string) => void; stderr: (s: string) => void },
): Promise<number> {
  const entries: string[] = [];
  let code = 0;
  const summary: string[] = [];
  for (const repo of report.files.filter((f) => f.format === 'hf-repository')) {
    const files = report.files.filter((f) => f.path.startsWith(`${repo.path}/`));
    const why = refusal(repo, files, policy);
    if (why) {
      const blocked = files.some((f) => f.verdict === 'block') || repo.verdict === 'block';
      code = Math.max(code, blocked ? 1 : 2);
      io.stderr(`modelgate: ${repo.path} not locked: ${why}\n`);
      continue;
    }
    const revision = String(repo.facts?.['hf.revision'] ?? '');
    const commit = String(repo.facts?.['hf.commit'] ?? '');
    summary.push(
      `${repo.path}: ${files.length} file${files.length === 1 ? '' : 's'}${revision !== commit ? ` (${revision} resolved to ${commit}: pin the code to it)` : ''}`,
    );
    for (const f of files) {
      if (entries.includes(`${f.sha256}  ${f.path}`)) continue;
      entries.push(`# size: ${f.size}`, `${f.sha256}  ${f.path}`);
    }
  }
  if (code !== 0) {
    io.stderr(`modelgate: ${lockfile} unchanged\n`);
    return code;
  }
  const text = mergeLock(existing, entries, repos);
  parseLockfile(text, lockfile); // what is written parses (never a lockfile the next scan rejects)
  const tmp = `${lockfile}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, lockfile);
  for (const line of summary) io.stdout(`locked ${line}\n`);
  io.stdout(
    `modelgate: ${lockfile} written (${entries.length / 2} entries for ${repos.size} repositor${repos.size === 1 ? 'y' : 'ies'}${uris.length === 0 ? ', from references' : ''})\n`,
  );
  return 0;
}

/**
 * The lockfile with the locked repositories' old entries (at any commit, with their `# size:` lines) removed
 * and the new ones appended; every other line (local files, other repositories, comments) is kept as it was.
 */
export function mergeLock(existing: string, entries: readonly string[], repos: ReadonlySet<string>): string {
  const lines = existing === '' ? [] : existing.replace(/\r?\n$/, '').split(/\r?\n/);
  const kept: string[] = [];
  for (const line of lines) {
    const m = /^\\?[0-9a-fA-F]{64} [ *](.+)$/.exec(line.trimEnd());
    if (m && lockedRepo(m[1]!, repos)) {
      if (/^#\s*size:\s*\d+\s*$/.test(kept.at(-1)?.trim() ?? '')) kept.pop();
      continue;
    }
    kept.push(line);
  }
  if (kept.length === 0)
    kept.push(
      '# modelgate lockfile: approved model files (sha256sum format; `sha256sum -c` checks the local ones)',
    );
  return `${[...kept, ...entries].join('\n')}\n`;
}
