import { fstatSync, lstatSync, type Stats } from 'node:fs';
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * The rule a path that is not scanned as a file is reported under (an `incomplete` rule of the catalogue:
 * MG001, MG009-MG012 from the walk; a face may add its own, e.g. the action's MG702 for submodules).
 */
export type SkipRule = string;

export type WalkEntry =
  | {
      kind: 'file';
      absPath: string;
      relPath: string;
      root: string;
      /** Size when the folder was listed (a hint for scheduling; the scan stats the open file again). */
      size?: number;
      /** Reached through a symbolic link at `relPath`: the target the link resolves to, for the report. */
      linkTarget?: string;
    }
  | {
      /** Read once, front to back: standard input (`absPath` '-') or a pipe named on the command line. */
      kind: 'stream';
      absPath: string;
      relPath: string;
      root: string;
      /** What the stream is, for messages ("standard input", "a named pipe"). */
      what: string;
    }
  | {
      kind: 'skipped';
      absPath: string;
      relPath: string;
      root: string;
      ruleId: SkipRule;
      why: string;
    };

/**
 * Entries reached through links to folders, per walk: links can multiply a tree (two links to a folder
 * holding two links to the next...), so what they add is bounded; past it the walk says so (MG001).
 */
export const MAX_LINKED_ENTRIES = 100_000;

/**
 * What the CLI scans for one argument.
 *
 * - A folder: every file in it (see `walkTree`); links are followed while they stay inside that folder.
 * - A file, or a link to one: that file, reported under the name given (the user asked for it).
 * - `-`, a FIFO, `/dev/stdin` or `<(...)` (a pipe): read as a stream, never skipped.
 * - A device, a socket, a dangling link or a link loop: incomplete, saying what it is.
 */
export async function walk(target: string): Promise<WalkEntry[]> {
  if (target === '-') return [await stdinEntry()];
  const abs = resolve(target);
  const root = resolve(abs, '..');
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(abs);
  } catch (err) {
    const l = await lstat(abs); // not even there: the caller's usage error (ENOENT) is thrown here
    if (l.isSymbolicLink()) return [await brokenLink(abs, target, root, err)];
    return [unreadable(abs, target, root, err)];
  }
  if (st.isDirectory()) return walkTree(abs, abs, '', abs, 'the scanned folder');
  if (st.isFile()) {
    const real = await realpath(abs).catch(() => undefined);
    if (real) {
      const e: WalkEntry = { kind: 'file', absPath: real, relPath: target, root, size: st.size };
      if (real !== abs) e.linkTarget = real;
      return [e];
    }
    // /proc/self/fd/N of a deleted file and the like: readable only by following the name.
    return [{ kind: 'stream', absPath: abs, relPath: target, root, what: 'a file read through its name' }];
  }
  if (st.isFIFO()) return [{ kind: 'stream', absPath: abs, relPath: target, root, what: 'a pipe' }];
  return [special(abs, target, root, st)];
}

async function stdinEntry(): Promise<WalkEntry> {
  let st: Stats | undefined;
  try {
    st = fstatSync(0);
  } catch {
    st = undefined;
  }
  const base = { absPath: '-', relPath: '<stdin>', root: process.cwd() };
  if (st?.isFile()) {
    // `modelgate scan - < model.pkl`: a file after all; scanned as one (random access, hashing thread).
    const real = await realpath('/dev/stdin').catch(() => undefined);
    if (real) return { kind: 'file', ...base, absPath: real, size: st.size, linkTarget: real };
  }
  return { kind: 'stream', ...base, what: 'standard input' };
}

/**
 * Every file under `dir`, sorted, reported relative to `relBase` (joined to the path under `dir`), with the
 * entries' `root` set to `root`. Symbolic links are resolved and followed while their target stays inside
 * `boundary` (a file: scanned under the link's own path; a folder: walked under it); a link that leaves
 * it, dangles or loops, and FIFOs, sockets and devices, are reported as skipped and incomplete. Used by the
 * CLI (boundary: the scanned folder) and the GitHub Action (boundary: the workspace).
 */
export async function walkTree(
  dir: string,
  boundary: string,
  relBase: string,
  root: string,
  boundaryName: string,
): Promise<WalkEntry[]> {
  const w = new Walker(await realpath(boundary), root, boundaryName);
  const real = await realpath(dir);
  if (!isInside(real, await realpath(boundary))) {
    // The folder itself is a link out (the action's `path` pointing at a link to /etc): not walked.
    const shown = await readlink(dir).catch(() => real);
    return [
      {
        kind: 'skipped',
        absPath: dir,
        relPath: relBase || '.',
        root,
        ruleId: 'MG010',
        why: `a symbolic link to ${quote(shown)}, which leaves ${boundaryName}; its target was not read`,
      },
    ];
  }
  w.push({ abs: dir, real, rel: relBase, chain: [] });
  await w.drain();
  return w.sorted();
}

/**
 * The entries for one path inside `boundary` named by a change list (the action's changed files): a
 * regular file is itself; a link is resolved like in a walked folder (its target scanned under the link's
 * path, whatever filters say about the target); a folder (a checked-out submodule) is walked.
 */
export async function walkPath(boundary: string, relPath: string): Promise<WalkEntry[]> {
  const w = new Walker(await realpath(boundary), boundary, 'the workspace');
  const abs = resolve(boundary, relPath);
  await w.entry(abs, relPath, { abs: resolve(abs, '..'), real: await parentReal(abs), rel: '', chain: [] });
  await w.drain();
  return w.sorted();
}

async function parentReal(abs: string): Promise<string> {
  const parent = resolve(abs, '..');
  return realpath(parent).catch(() => parent);
}

interface Frame {
  /** The folder's path as listed (through the real path of a followed link). */
  abs: string;
  /** Its real path. */
  real: string;
  /** Its path in the report ('' for the walk's start). */
  rel: string;
  /** Real paths of the folders reached through links on the way here, and of the folders holding those links. */
  chain: readonly string[];
}

class Walker {
  readonly out: WalkEntry[] = [];
  private linked = 0;
  private linkBudgetReported = false;
  private readonly stack: Frame[] = [];

  constructor(
    private readonly boundary: string,
    private readonly root: string,
    private readonly boundaryName: string,
  ) {}

  push(f: Frame): void {
    this.stack.push(f);
  }

  sorted(): WalkEntry[] {
    return this.out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  }

  /** Walks the pushed folders iteratively (deep trees need no recursion). */
  async drain(): Promise<void> {
    while (this.stack.length > 0) {
      const f = this.stack.pop()!;
      let names: string[];
      try {
        names = (await readdir(f.abs)).sort();
      } catch (err) {
        // An unreadable folder may hide models: say so (incomplete) instead of failing the whole scan.
        this.out.push(unreadable(f.abs, f.rel || '.', this.root, err));
        continue;
      }
      for (const name of names) await this.entry(join(f.abs, name), f.rel ? `${f.rel}/${name}` : name, f);
    }
  }

  /** One path met in folder `parent`: pushes its entry (or its folder onto the stack). */
  async entry(abs: string, rel: string, parent: Frame): Promise<void> {
    let s: Stats;
    try {
      // Synchronous: a few microseconds on a cached inode, where the promise form costs a thread-pool round
      // trip per path (a tenth of the per-file time of a folder of small files).
      s = lstatSync(abs);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return; // removed since readdir: not there
      this.out.push(unreadable(abs, rel, this.root, err));
      return;
    }
    if (parent.chain.length > 0 && !this.takeLinked(abs, rel)) return;
    if (s.isDirectory()) {
      this.stack.push({ abs, real: join(parent.real, relative(parent.abs, abs)), rel, chain: parent.chain });
      return;
    }
    if (s.isFile()) {
      this.out.push({ kind: 'file', absPath: abs, relPath: rel, root: this.root, size: s.size });
      return;
    }
    if (s.isSymbolicLink()) {
      await this.link(abs, rel, parent);
      return;
    }
    this.out.push(special(abs, rel, this.root, s));
  }

  /** A symbolic link: followed while its target stays inside the boundary. */
  private async link(abs: string, rel: string, parent: Frame): Promise<void> {
    const text = await readlink(abs).catch(() => undefined);
    // Its first step already leaves (an absolute link, or `../..` past the boundary): outside, whether or
    // not anything is there on this machine.
    const leaves = (t: string) => !isInside(t, this.boundary);
    let target: string | undefined;
    let failure: unknown;
    try {
      target = await realpath(abs);
    } catch (err) {
      failure = err;
    }
    const shown = text ?? target ?? '?';
    if (
      (text !== undefined && leaves(resolve(parent.real, text))) ||
      (target !== undefined && leaves(target))
    ) {
      this.out.push({
        kind: 'skipped',
        absPath: abs,
        relPath: rel,
        root: this.root,
        ruleId: 'MG010',
        why: `a symbolic link to ${quote(shown)}, which leaves ${this.boundaryName}; its target was not read`,
      });
      return;
    }
    if (target === undefined) {
      this.out.push(await brokenLink(abs, rel, this.root, failure));
      return;
    }
    let ts: Awaited<ReturnType<typeof stat>>;
    try {
      ts = await stat(target);
    } catch (err) {
      this.out.push(unreadable(abs, rel, this.root, err));
      return;
    }
    const targetRel = toPosix(relative(this.boundary, target)) || '.';
    if (ts.isFile()) {
      this.out.push({
        kind: 'file',
        absPath: target,
        relPath: rel,
        root: this.root,
        size: ts.size,
        linkTarget: targetRel,
      });
      return;
    }
    if (ts.isDirectory()) {
      // A folder link loops when its target holds a folder already on this path (the link's own folder,
      // or one reached or left through an earlier link): following it would never end.
      const onPath = [...parent.chain, parent.real];
      if (onPath.some((d) => isInside(d, target))) {
        this.out.push({
          kind: 'skipped',
          absPath: abs,
          relPath: rel,
          root: this.root,
          ruleId: 'MG011',
          why: `a symbolic link loop: ${quote(shown)} leads back to a folder that holds the link`,
        });
        return;
      }
      this.stack.push({ abs: target, real: target, rel, chain: [...parent.chain, parent.real, target] });
      return;
    }
    this.out.push(special(abs, rel, this.root, ts, shown));
  }

  /** Counts an entry reached through a folder link; false past the budget (reported once). */
  private takeLinked(abs: string, rel: string): boolean {
    if (++this.linked <= MAX_LINKED_ENTRIES) return true;
    if (!this.linkBudgetReported) {
      this.linkBudgetReported = true;
      this.out.push({
        kind: 'skipped',
        absPath: abs,
        relPath: rel,
        root: this.root,
        ruleId: 'MG001',
        why: `more than ${MAX_LINKED_ENTRIES} paths are reached through symbolic links to folders; the rest were not listed`,
      });
    }
    return false;
  }
}

/** A link whose target cannot be resolved: dangling, a loop, or an unreadable step. */
async function brokenLink(abs: string, rel: string, root: string, err: unknown): Promise<WalkEntry> {
  const code = (err as { code?: string }).code;
  const shown = await readlink(abs).catch(() => '?');
  const why =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? `a dangling symbolic link: its target ${quote(shown)} does not exist`
      : code === 'ELOOP'
        ? `a symbolic link loop: ${quote(shown)} never reaches a file`
        : undefined;
  if (why) return { kind: 'skipped', absPath: abs, relPath: rel, root, ruleId: 'MG011', why };
  return unreadable(abs, rel, root, err);
}

function special(
  absPath: string,
  relPath: string,
  root: string,
  s: { isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean },
  viaLink?: string,
): WalkEntry {
  const what = s.isFIFO()
    ? 'a FIFO (named pipe): its bytes are whatever a writer sends, not a stored file'
    : s.isSocket()
      ? 'a socket, not a file'
      : s.isCharacterDevice()
        ? 'a character device, not a file'
        : s.isBlockDevice()
          ? 'a block device, not a file'
          : 'not a regular file';
  return {
    kind: 'skipped',
    absPath,
    relPath,
    root,
    ruleId: 'MG012',
    why: viaLink ? `a symbolic link to ${quote(viaLink)}, ${what}` : what,
  };
}

function unreadable(absPath: string, relPath: string, root: string, err: unknown): WalkEntry {
  const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));
  return {
    kind: 'skipped',
    absPath,
    relPath,
    root,
    ruleId: 'MG009',
    why: `a path that could not be read (${code})`,
  };
}

function quote(p: string): string {
  return `'${p}'`;
}

export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export function toPosix(p: string): string {
  return p.split(sep).join('/');
}
