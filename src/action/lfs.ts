import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256File } from '../core/hash.js';
import { git } from './git.js';
import { readLfsPointer } from './lfs-pointer.js';

export interface PointerFile {
  path: string;
  abs: string;
  oid: string;
  size: number;
}

export type LfsResult =
  | { ok: true; via: 'git-lfs' | 'batch-api' }
  | { ok: false; ruleId: 'MG700' | 'MG701'; reason: string };

/** Changed files that are Git LFS pointers (regular files under 1024 bytes that parse as a pointer). */
export async function findPointers(
  files: ReadonlyArray<{ path: string; abs: string }>,
): Promise<PointerFile[]> {
  const out: PointerFile[] = [];
  for (const f of files) {
    const st = await lstat(f.abs).catch(() => undefined);
    if (!st?.isFile() || st.size >= 1024) continue;
    const p = readLfsPointer(await readFile(f.abs));
    if (p) out.push({ ...f, oid: p.oid, size: p.size });
  }
  return out;
}

async function checkContent(p: PointerFile): Promise<LfsResult | 'still-pointer'> {
  const st = await lstat(p.abs).catch(() => undefined);
  if (!st?.isFile()) return { ok: false, ruleId: 'MG700', reason: 'the file is gone after the fetch' };
  if (st.size < 1024 && readLfsPointer(await readFile(p.abs))) return 'still-pointer';
  if (st.size !== p.size)
    return { ok: false, ruleId: 'MG701', reason: `size ${st.size} differs from the pointer's ${p.size}` };
  const sha = await sha256File(p.abs);
  if (sha !== p.oid)
    return { ok: false, ruleId: 'MG701', reason: `sha256 ${sha} differs from the pointer's oid ${p.oid}` };
  return { ok: true, via: 'git-lfs' };
}

/** Characters git-lfs reads as pattern syntax or list separators; such paths go through the batch API. */
const UNSAFE_FOR_INCLUDE = /[,*?[\]{}\\!#\s]/;

export interface LfsOptions {
  cwd: string;
  /** e.g. https://github.com */
  serverUrl: string;
  /** Repositories to ask, in order (a fork's head repository first, then the base). */
  repos: string[];
  token: string;
  log: (msg: string) => void;
  /** `-c key=value` pairs for git-lfs (an `lfs.url` that overrides the pull request's `.lfsconfig`). */
  gitConfig?: string[];
}

/**
 * A pull request's `.lfsconfig` can point LFS downloads at any URL (`lfs.url`, `remote.<name>.lfsurl`).
 * What comes back is still checked against the pointer and no token is sent there (the checkout's
 * credentials are for the repository's own host), but the change under review must not choose where the
 * action connects. When the checked-out `.lfsconfig` differs from the base commit's, git-lfs is run with
 * `lfs.url` set (it outranks every `.lfsconfig` setting) to the base's `lfs.url`, or to the repository's
 * own LFS endpoint. The batch API fallback never reads `.lfsconfig`.
 */
export async function lfsUrlOverride(
  cwd: string,
  base: string | undefined,
  defaultUrl: string,
): Promise<{ gitConfig: string[]; note?: string }> {
  if (!base || !/^[0-9a-f]{7,64}$/i.test(base)) return { gitConfig: [] };
  const here = await lstat(join(cwd, '.lfsconfig')).catch(() => undefined);
  if (!here) return { gitConfig: [] };
  const theirs = here.isFile() ? await readFile(join(cwd, '.lfsconfig'), 'utf8') : undefined;
  const ours = await git(cwd, ['show', `${base}:.lfsconfig`]);
  if (ours.code === 0 && theirs === ours.stdout) return { gitConfig: [] };
  const baseUrl =
    ours.code === 0
      ? (await git(cwd, ['config', '--blob', `${base}:.lfsconfig`, '--get', 'lfs.url'])).stdout.trim()
      : '';
  const url = baseUrl || defaultUrl;
  return {
    gitConfig: [`lfs.url=${url}`],
    note: `The change edits .lfsconfig; its LFS endpoint settings were ignored and objects were fetched from ${baseUrl ? "the base commit's lfs.url" : "the repository's own LFS endpoint"} (${url}).`,
  };
}

/**
 * Fetches the objects behind LFS pointers: `git lfs pull --include` for just these paths when git-lfs is
 * installed, else (or for what it could not get) the LFS batch API. Every object is checked against the
 * pointer's sha256 and size before it replaces the pointer in the workspace; what cannot be fetched or does
 * not match is reported (MG700 / MG701), never scanned as if it were the model.
 */
export async function fetchLfs(
  pointers: readonly PointerFile[],
  o: LfsOptions,
): Promise<Map<string, LfsResult>> {
  const results = new Map<string, LfsResult>();
  let pending = [...pointers];
  const hasLfs = (await git(o.cwd, ['lfs', 'version'], { timeoutMs: 30_000 })).code === 0;
  if (hasLfs && pending.length > 0) {
    const safe = pending.filter((p) => !UNSAFE_FOR_INCLUDE.test(p.path));
    for (let i = 0; i < safe.length; i += 50) {
      const chunk = safe.slice(i, i + 50);
      const r = await git(
        o.cwd,
        [
          ...(o.gitConfig ?? []).flatMap((c) => ['-c', c]),
          'lfs',
          'pull',
          `--include=${chunk.map((p) => p.path).join(',')}`,
          '--exclude=',
        ],
        {
          timeoutMs: 600_000,
        },
      );
      if (r.code !== 0) o.log(`git lfs pull failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
    }
    const left: PointerFile[] = [];
    for (const p of pending) {
      const c = await checkContent(p);
      if (c === 'still-pointer') left.push(p);
      else results.set(p.path, c);
    }
    pending = left;
  } else if (!hasLfs) o.log('git-lfs is not installed: using the LFS batch API');

  for (const p of pending) {
    let last = 'no repository to ask';
    let done = false;
    for (const repo of o.repos) {
      try {
        const r = await batchDownload(p, repo, o);
        results.set(p.path, r);
        done = true;
        break;
      } catch (err) {
        last = `${repo}: ${(err as Error).message}`;
      }
    }
    if (!done) results.set(p.path, { ok: false, ruleId: 'MG700', reason: last });
  }
  return results;
}

async function batchDownload(p: PointerFile, repo: string, o: LfsOptions): Promise<LfsResult> {
  const url = `${o.serverUrl.replace(/\/$/, '')}/${repo}.git/info/lfs/objects/batch`;
  const headers: Record<string, string> = {
    accept: 'application/vnd.git-lfs+json',
    'content-type': 'application/vnd.git-lfs+json',
  };
  if (o.token) headers.authorization = `Basic ${Buffer.from(`x-access-token:${o.token}`).toString('base64')}`;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      operation: 'download',
      transfers: ['basic'],
      objects: [{ oid: p.oid, size: p.size }],
      hash_algo: 'sha256',
    }),
    signal: AbortSignal.timeout(60_000),
  });
  if (!res.ok) throw new Error(`LFS batch API answered ${res.status}`);
  const body = (await res.json()) as {
    objects?: Array<{
      oid?: string;
      error?: { code?: number; message?: string };
      actions?: { download?: { href?: string; header?: Record<string, string> } };
    }>;
  };
  const obj = body.objects?.find((x) => x.oid === p.oid);
  if (!obj) throw new Error('the LFS batch API did not list the object');
  if (obj.error)
    throw new Error(
      `LFS object error ${obj.error.code ?? ''}: ${String(obj.error.message ?? '').slice(0, 200)}`,
    );
  const href = obj.actions?.download?.href;
  if (!href || !/^https?:\/\//.test(href)) throw new Error('the LFS batch API gave no download link');
  const dl = await fetch(href, {
    headers: obj.actions?.download?.header ?? {},
    signal: AbortSignal.timeout(3_600_000),
  });
  if (!dl.ok || !dl.body) throw new Error(`LFS download answered ${dl.status}`);

  const tmp = `${p.abs}.modelgate-lfs.tmp`;
  const hash = createHash('sha256');
  let size = 0;
  let over = false;
  const guard = async function* (src: AsyncIterable<Uint8Array>) {
    for await (const chunk of src) {
      size += chunk.length;
      if (size > p.size) {
        over = true;
        throw new Error('more bytes than the pointer names');
      }
      hash.update(chunk);
      yield chunk;
    }
  };
  try {
    await pipeline(
      Readable.fromWeb(dl.body as import('node:stream/web').ReadableStream),
      guard,
      createWriteStream(tmp),
    );
  } catch (err) {
    await rm(tmp, { force: true });
    if (over)
      return {
        ok: false,
        ruleId: 'MG701',
        reason: `the LFS store sent more than the pointer's ${p.size} bytes`,
      };
    throw err;
  }
  const sha = hash.digest('hex');
  if (size !== p.size || sha !== p.oid) {
    await rm(tmp, { force: true });
    return {
      ok: false,
      ruleId: 'MG701',
      reason: `the LFS store sent ${size} bytes with sha256 ${sha}; the pointer names ${p.size} bytes with ${p.oid}`,
    };
  }
  // Replace the pointer (a regular file, checked before) with the verified content, as a smudge would.
  const st = await lstat(p.abs);
  if (!st.isFile()) {
    await rm(tmp, { force: true });
    throw new Error('the pointer is no longer a regular file');
  }
  await rename(tmp, p.abs);
  return { ok: true, via: 'batch-api' };
}
