import { lstat, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

export type WalkEntry =
  | {
      kind: 'file';
      absPath: string;
      relPath: string;
      root: string;
      /** Size when the folder was listed (a hint for scheduling; the scan stats the open file again). */
      size?: number;
    }
  | {
      kind: 'skipped';
      absPath: string;
      relPath: string;
      root: string;
      why: string;
      /** Set when the path could not be examined (an unreadable folder, an I/O error): not clean. */
      incomplete?: boolean;
    };

/**
 * Lists the regular files under `root` (or `root` itself when it is a file), sorted, without following
 * symbolic links. A link whose target stays inside the root is left out (its target is listed on its own);
 * one that leaves the root, and FIFOs, sockets and devices, are listed as skipped so the report says so.
 */
export async function walk(target: string): Promise<WalkEntry[]> {
  const abs = resolve(target);
  const st = await lstat(abs);
  if (!st.isDirectory()) {
    // A file named on the command line is scanned even through a link: the user asked for it.
    const root = resolve(abs, '..');
    if (st.isSymbolicLink()) {
      const real = await realpath(abs).catch(() => undefined);
      const rs = real ? await lstat(real) : undefined;
      if (real && rs?.isFile())
        return [{ kind: 'file', absPath: real, relPath: target, root, size: rs.size }];
    }
    const entry = await classify(abs, root, target);
    return entry ? [entry] : [];
  }
  const out: WalkEntry[] = [];
  const stack = [abs];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      // An unreadable folder may hide models: say so (incomplete) instead of failing the whole scan.
      out.push(unreadable(dir, abs, err));
      continue;
    }
    for (const name of names) {
      const p = join(dir, name);
      let s: Awaited<ReturnType<typeof lstat>>;
      try {
        s = await lstat(p);
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') continue; // removed since readdir: not there
        out.push(unreadable(p, abs, err));
        continue;
      }
      if (s.isDirectory()) stack.push(p);
      else {
        const e = await classify(p, abs, toPosix(relative(abs, p))).catch((err: unknown) =>
          (err as { code?: string }).code === 'ENOENT' ? undefined : unreadable(p, abs, err),
        );
        if (e) out.push(e);
      }
    }
  }
  return out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}

function unreadable(absPath: string, root: string, err: unknown): WalkEntry {
  const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));
  return {
    kind: 'skipped',
    absPath,
    relPath: toPosix(relative(root, absPath)) || '.',
    root,
    why: `a path that could not be read (${code})`,
    incomplete: true,
  };
}

async function classify(absPath: string, root: string, relPath: string): Promise<WalkEntry | undefined> {
  const s = await lstat(absPath);
  if (s.isFile()) return { kind: 'file', absPath, relPath, root, size: s.size };
  if (s.isSymbolicLink()) {
    let target: string;
    try {
      target = await realpath(absPath);
    } catch {
      return {
        kind: 'skipped',
        absPath,
        relPath,
        root,
        why: 'a symbolic link whose target does not resolve (dangling or a loop)',
      };
    }
    if (isInside(target, await realpath(root))) return undefined;
    return {
      kind: 'skipped',
      absPath,
      relPath,
      root,
      why: 'a symbolic link that points outside the scanned folder',
    };
  }
  const what = s.isFIFO()
    ? 'a FIFO'
    : s.isSocket()
      ? 'a socket'
      : s.isCharacterDevice() || s.isBlockDevice()
        ? 'a device'
        : 'not a regular file';
  return { kind: 'skipped', absPath, relPath, root, why: what };
}

export function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export function toPosix(p: string): string {
  return p.split(sep).join('/');
}
