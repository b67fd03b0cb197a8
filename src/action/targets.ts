import { lstat, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import picomatch from 'picomatch';
import { isInside, type WalkEntry, walkPath, walkTree } from '../core/walk.js';
import {
  type ChangedFile,
  changedFiles,
  type Filter,
  makeFilter,
  normalizeRoot,
  underRoot,
} from './changed.js';
import type { EventInfo } from './event.js';
import { git, hasCommit } from './git.js';
import type { Api } from './github.js';
import type { ActionInputs } from './inputs.js';
import type { RunContext } from './render.js';

/**
 * The paths one run scans, as core walk entries (files, and paths reported incomplete).
 *
 * - `scope: changed`: each added or modified path, resolved by the core walker with the workspace as the
 *   boundary: a changed link is scanned as its target, under the link's own path, whatever the filters say
 *   about the target and whether it changed; a link that leaves the workspace, dangles or loops, and FIFOs,
 *   sockets and devices, are incomplete. A submodule the change adds or moves is walked like a folder when
 *   checked out, and incomplete (MG702) when not.
 * - `scope: all`: every file under `path`, the same way. Only `.git` is left out; the action keeps its own
 *   working files outside the workspace (RUNNER_TEMP), so nothing in it is exempt.
 * - `pull_request_target` whose checkout does not contain the pull request head (the default checkout is
 *   the base branch): incomplete (MG703), since the change is not in the workspace, unless `scope: all`.
 */
export async function selectEntries(
  workspace: string,
  inputs: ActionInputs,
  ev: EventInfo,
  api: Api | undefined,
  ctx: RunContext,
): Promise<WalkEntry[]> {
  const { root, filter, keep } = filterOf(inputs);
  const scope = inputs.scope ?? (ev.kind === 'other' ? 'all' : 'changed');
  const where = root === '' ? '' : ` under ${root}`;
  const shard = inputs.shard ? `, shard ${inputs.shard.index} of ${inputs.shard.count}` : '';

  if (scope === 'changed' && ev.name === 'pull_request_target') {
    const missing = await headMissing(workspace, ev);
    if (missing) {
      ctx.scopeText = `nothing: the pull request head is not checked out${shard}`;
      ctx.notes.push(missing);
      return [
        {
          kind: 'skipped',
          absPath: workspace,
          relPath: '.',
          root: workspace,
          ruleId: 'MG703',
          why: missing,
        },
      ];
    }
  }

  let changed: ChangedFile[] | undefined;
  if (scope === 'changed') {
    const cs = await changedFiles(workspace, ev, api);
    ctx.notes.push(...cs.notes);
    changed = cs.files;
    if (changed) {
      const kind =
        ev.kind === 'pull_request'
          ? 'this pull request'
          : ev.kind === 'merge_group'
            ? 'this merge group'
            : 'this push';
      ctx.scopeText = `the files${where} added or modified by ${kind} (${changed.length} changed, from ${cs.source === 'git' ? 'git history' : 'the REST API'})`;
    }
  }
  if (!changed)
    ctx.scopeText = `every file${where} (${scope === 'all' ? `scope all, ${ev.name || 'manual'} event` : 'fallback'})`;
  ctx.scopeText += shard;

  if (!changed) return walkWorkspace(workspace, root, keep);
  const entries: WalkEntry[] = [];
  for (const c of changed) {
    const abs = resolve(workspace, c.path);
    if (!isInside(abs, workspace) || isGitDir(c.path, '')) continue;
    if (c.mode === '160000') {
      entries.push(...(await submodule(workspace, c, filter, keep)));
      continue;
    }
    const found = await walkPath(workspace, c.path);
    if (found.length === 0 && !(await exists(abs))) {
      if (keep(c.path))
        ctx.notes.push(`${c.path} is listed as changed but is not in the workspace; not scanned.`);
      continue;
    }
    // Filters apply to the changed path (and to the paths under a changed link to a folder), never to
    // where a link points: `exclude: tests/**` must not let `models/m.pkl -> ../tests/x` through unscanned.
    for (const e of found) if (keep(e.relPath)) entries.push(e);
  }
  return entries;
}

/** The `path`, `include`, `exclude` and `shard` inputs as one filter over repository-relative paths. */
export function filterOf(inputs: ActionInputs): {
  root: string;
  filter: Filter;
  keep: (path: string) => boolean;
} {
  const root = normalizeRoot(inputs.path);
  const filter: Filter = {
    root,
    include: inputs.include,
    exclude: inputs.exclude,
    ...(inputs.shard ? { shard: inputs.shard } : {}),
  };
  return { root, filter, keep: makeFilter(filter) };
}

/** Every path under `root` (repository-relative) that the filter keeps, walked with the workspace as boundary. */
export async function walkWorkspace(
  workspace: string,
  root: string,
  keep: (path: string) => boolean,
): Promise<WalkEntry[]> {
  const base = resolve(workspace, root || '.');
  const found = await walkTree(base, workspace, root, workspace, 'the workspace');
  return found.filter((e) => !isGitDir(e.relPath, '') && keep(e.relPath));
}

/** `.git` (the repository's own metadata, or a submodule's gitfile) under `base`. */
function isGitDir(rel: string, base: string): boolean {
  const r = base ? rel.slice(base.length + 1) : rel;
  return r === '.git' || r.startsWith('.git/');
}

async function exists(abs: string): Promise<boolean> {
  return lstat(abs).then(
    () => true,
    () => false,
  );
}

/**
 * A submodule the change adds or moves to another commit: its checked-out files are scanned like those of
 * any changed folder; when it is not checked out (an empty folder, actions/checkout's default) the path is
 * incomplete (MG702) unless the filters exclude everything under it.
 */
async function submodule(
  workspace: string,
  c: ChangedFile,
  filter: Filter,
  keep: (p: string) => boolean,
): Promise<WalkEntry[]> {
  const abs = resolve(workspace, c.path);
  const st = await lstat(abs).catch(() => undefined);
  const names = st?.isDirectory() ? await readdir(abs).catch(() => []) : [];
  if (names.length > 0) {
    const headNote = await submoduleCommitMismatch(abs, c);
    if (headNote)
      return folderKept(filter, c.path)
        ? [
            {
              kind: 'skipped',
              absPath: abs,
              relPath: c.path,
              root: workspace,
              ruleId: 'MG702',
              why: headNote,
            },
          ]
        : [];
    const found = await walkPath(workspace, c.path);
    return found.filter((e) => !isGitDir(e.relPath, c.path) && keep(e.relPath));
  }
  if (!folderKept(filter, c.path)) return [];
  return [
    {
      kind: 'skipped',
      absPath: abs,
      relPath: c.path,
      root: workspace,
      ruleId: 'MG702',
      why: `a submodule${c.sha ? ` at commit ${c.sha.slice(0, 12)}` : ''} that the change adds or updates, and whose files are not checked out`,
    },
  ];
}

/** When the submodule's checkout is not the commit the change records, its files are not the change's. */
async function submoduleCommitMismatch(abs: string, c: ChangedFile): Promise<string | undefined> {
  if (!c.sha || /^0+$/.test(c.sha)) return undefined;
  const r = await git(abs, ['rev-parse', 'HEAD']);
  const head = r.code === 0 ? r.stdout.trim() : '';
  if (head !== '' && head.startsWith(c.sha)) return undefined;
  return `a submodule checked out at ${head ? head.slice(0, 12) : 'an unknown commit'}, while the change records ${c.sha.slice(0, 12)}: its files are not the ones under review`;
}

/**
 * Whether the filters could keep some file under `dir` (without listing it): under `path` (or holding it),
 * not excluded as a whole, in this shard. Include globs are not evaluated: nobody knows the file names.
 */
function folderKept(f: Filter, dir: string): boolean {
  if (!underRoot(dir, f.root) && !underRoot(f.root, dir)) return false;
  if (f.exclude.length > 0) {
    const exc = picomatch(f.exclude as string[], { dot: true });
    if (exc(dir) || exc(`${dir}/`) || exc(`${dir}/x`)) return false;
  }
  return !f.shard || makeFilter({ root: '', include: [], exclude: [], shard: f.shard })(dir);
}

/**
 * On pull_request_target the workflow runs from the base branch and the default checkout is the base
 * branch too: the pull request's files are not in the workspace, and scanning it would pass whatever the
 * pull request holds. The head commit must be HEAD or an ancestor of it (a merge of the head).
 */
async function headMissing(workspace: string, ev: EventInfo): Promise<string | undefined> {
  const fix =
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression the user copies
    'Check out the pull request head (actions/checkout with `ref: ${{ github.event.pull_request.head.sha }}` and `persist-credentials: false`) and run nothing from it, or set `scope: all` to scan the checkout as it is.';
  if (!ev.head || !/^[0-9a-f]{7,64}$/i.test(ev.head))
    return `pull_request_target: the event names no pull request head, so the checkout cannot be shown to hold the change. ${fix}`;
  const head = ev.head;
  // HEAD is the head, or a merge of it (refs/pull/N/merge): its parent lines name the head even in a
  // shallow clone, where the parent commits themselves are missing.
  const raw = await git(workspace, ['cat-file', 'commit', 'HEAD']);
  const self = (await git(workspace, ['rev-parse', 'HEAD'])).stdout.trim();
  const parents = raw.stdout
    .split('\n\n')[0]!
    .split('\n')
    .filter((l) => l.startsWith('parent '))
    .map((l) => l.slice(7));
  if (self.startsWith(head) || parents.some((p) => p.startsWith(head))) return undefined;
  const present = await hasCommit(workspace, head);
  if (present && (await git(workspace, ['merge-base', '--is-ancestor', head, 'HEAD'])).code === 0)
    return undefined;
  return `pull_request_target: the workspace is ${self ? `commit ${self.slice(0, 12)}` : 'not a git checkout'} (the base branch, as actions/checkout fetches by default), not the pull request head ${head.slice(0, 12)}: the pull request's files were not scanned. ${fix}`;
}
