import { createHash } from 'node:crypto';
import { globFilter } from '../core/globs.js';
import type { EventInfo } from './event.js';
import { ensureCommit, git, isGitRepo } from './git.js';
import { type Api, httpStatus } from './github.js';
import type { Shard } from './inputs.js';

export type ChangeStatus = 'added' | 'modified' | 'renamed' | 'copied' | 'type-changed';

export interface ChangedFile {
  path: string;
  status: ChangeStatus;
  previous?: string;
  /** git file mode of the new version when known (120000 link, 160000 submodule). */
  mode?: string;
  /** git object id of the new version when known (a submodule's commit). */
  sha?: string;
}

export interface ChangedSet {
  /** undefined: scan everything under `path` (no usable base, or the change list was cut short). */
  files?: ChangedFile[];
  source: 'git' | 'api' | 'none';
  notes: string[];
}

const STATUS: Record<string, ChangeStatus> = {
  A: 'added',
  M: 'modified',
  R: 'renamed',
  C: 'copied',
  T: 'type-changed',
};

/**
 * Parses `git diff --raw -z -M` output: `:oldmode newmode oldsha newsha STATUS\0path\0` (renames and copies
 * carry two paths). Deleted files are dropped; unmerged or unknown entries are kept as modified so that
 * nothing is silently skipped.
 */
export function parseRawDiffZ(out: string): ChangedFile[] {
  const parts = out.split('\0');
  const files: ChangedFile[] = [];
  let i = 0;
  while (i < parts.length) {
    const head = parts[i++];
    if (head === undefined || head === '') continue;
    const m = /^:(\d{6}) (\d{6}) [0-9a-f]+ ([0-9a-f]+) ([A-Z])(\d*)$/.exec(head.replace(/^\n/, ''));
    if (!m) continue;
    const letter = m[4]!;
    const newMode = m[2]!;
    const sha = m[3]!;
    if (letter === 'R' || letter === 'C') {
      const from = parts[i++] ?? '';
      const to = parts[i++] ?? '';
      files.push({ path: to, status: STATUS[letter]!, previous: from, mode: newMode, sha });
    } else {
      const p = parts[i++] ?? '';
      if (letter === 'D') continue;
      files.push({ path: p, status: STATUS[letter] ?? 'modified', mode: newMode, sha });
    }
  }
  return files;
}

/** Files of the REST API's lists, without removed ones. */
export function fromApiFiles(
  files: ReadonlyArray<{ filename: string; status: string; previous_filename?: string }>,
): ChangedFile[] {
  const out: ChangedFile[] = [];
  for (const f of files) {
    if (f.status === 'removed') continue;
    const status: ChangeStatus =
      f.status === 'added'
        ? 'added'
        : f.status === 'renamed'
          ? 'renamed'
          : f.status === 'copied'
            ? 'copied'
            : 'modified';
    const c: ChangedFile = { path: f.filename, status };
    if (f.previous_filename) c.previous = f.previous_filename;
    out.push(c);
  }
  return out;
}

/** Normalises the `path` input to a repo-relative prefix ('' for the whole repository). */
export function normalizeRoot(path: string): string {
  const p = path
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
  if (p.split('/').includes('..'))
    throw new Error(`input 'path' must stay inside the workspace, got '${path}'`);
  return p;
}

export function underRoot(path: string, root: string): boolean {
  return root === '' || path === root || path.startsWith(`${root}/`);
}

/** Shard of a path, 1..n: from its sha256, so it does not depend on the order or number of other files. */
export function shardOf(path: string, count: number): number {
  const h = createHash('sha256').update(path).digest();
  return (h.readUInt32BE(0) % count) + 1;
}

export interface Filter {
  root: string;
  include: readonly string[];
  exclude: readonly string[];
  shard?: Shard;
}

/** Keeps the paths under `root`, matching an include glob (when any), no exclude glob, in this shard. */
export function makeFilter(f: Filter): (path: string) => boolean {
  const globs = globFilter(f.include, f.exclude);
  return (p) => underRoot(p, f.root) && globs(p) && (!f.shard || shardOf(p, f.shard.count) === f.shard.index);
}

/**
 * The files a change adds or modifies, from the checkout's git history when both commits are present
 * (fetching a missing base), else from the REST API. `files` undefined means: scan everything, and `notes`
 * says why.
 */
export async function changedFiles(cwd: string, ev: EventInfo, api: Api | undefined): Promise<ChangedSet> {
  const notes: string[] = [];
  if (ev.kind === 'push' && ev.newBranch) {
    notes.push('The push created a branch (no previous commit to compare with): every file was scanned.');
    return { source: 'none', notes };
  }
  if (!ev.base) {
    notes.push(`The ${ev.name} event names no base commit: every file was scanned.`);
    return { source: 'none', notes };
  }
  if (await isGitRepo(cwd)) {
    if (await ensureCommit(cwd, ev.base)) {
      const r = await git(cwd, [
        'diff',
        '--raw',
        '--no-abbrev',
        '-z',
        '-M',
        '--no-ext-diff',
        '--no-textconv',
        '--ignore-submodules=none',
        ev.base,
        'HEAD',
        '--',
      ]);
      if (r.code === 0) {
        const files = parseRawDiffZ(r.stdout);
        if (files.length === 0 && ev.kind === 'pull_request') {
          const head = (await git(cwd, ['rev-parse', 'HEAD'])).stdout.trim();
          if (head === ev.base)
            notes.push(
              'The checkout is the base commit itself, so the pull request changes nothing in it. With pull_request_target, check out the pull request head (persist-credentials: false) to scan its files.',
            );
        }
        return { files, source: 'git', notes };
      }
      notes.push(`git diff failed (${firstLine(r.stderr)}); asked the API instead.`);
    } else {
      notes.push(`The base commit ${ev.base.slice(0, 12)} could not be fetched; asked the API instead.`);
    }
  } else notes.push('The workspace is not a git checkout; asked the API for the changed files.');

  if (!api) {
    notes.push('No token to ask the API: every file was scanned.');
    return { source: 'none', notes };
  }
  try {
    if (ev.kind === 'pull_request' && ev.prNumber !== undefined) {
      const r = await api.listPrFiles(ev.prNumber);
      if (r.truncated) {
        notes.push(
          `The pull request changes ${r.files.length} or more files, more than the API lists (3000): every file was scanned instead. Check out with enough history (fetch-depth: 0) to use git.`,
        );
        return { source: 'api', notes };
      }
      return { files: fromApiFiles(r.files), source: 'api', notes };
    }
    const head = ev.head ?? 'HEAD';
    const r = await api.compareFiles(ev.base, head);
    if (r.truncated) {
      notes.push(
        `The comparison lists ${r.files.length} files, the API's limit (300): every file was scanned instead.`,
      );
      return { source: 'api', notes };
    }
    return { files: fromApiFiles(r.files), source: 'api', notes };
  } catch (err) {
    notes.push(
      `The API could not list the changed files (${httpStatus(err) ?? ''} ${firstLine(String((err as Error)?.message ?? err))}): every file was scanned.`,
    );
    return { source: 'none', notes };
  }
}

function firstLine(s: string): string {
  return (s.trim().split('\n')[0] ?? '').slice(0, 200);
}
