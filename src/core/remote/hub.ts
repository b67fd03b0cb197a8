import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import {
  contentLength,
  DeadlineError,
  HttpError,
  type HttpResponse,
  header,
  readAll,
  send,
  Traffic,
} from './http.js';
import { DEFAULT_REVISION, isSafeRepoPath } from './ref.js';

/**
 * The Hugging Face Hub's HTTP API, as huggingface_hub (src/huggingface_hub/hf_api.py, file_download.py)
 * uses it:
 *
 * - `GET {endpoint}/api/models/{repo_id}/revision/{quote(revision, safe='')}` (HfApi.model_info with a
 *   revision): JSON with `sha` (the commit the revision resolves to) and `siblings` ([{rfilename}]).
 * - `GET {endpoint}/api/models/{repo_id}/tree/{revision}?recursive=true` (HfApi.list_repo_tree, paginated
 *   with a GitHub-style `Link: <url>; rel="next"` header, utils/_pagination.py): a JSON array of
 *   `{"type": "file"|"directory", "oid": git blob/tree sha1, "size": bytes, "path": "...",
 *     "lfs": {"oid": sha256, "size": bytes, "pointerSize": bytes}}` (`lfs` only for LFS files, whose
 *   `size` is the real file's; RepoFile.__init__ maps lfs.oid to BlobLfsInfo.sha256).
 * - `GET {endpoint}/{repo_id}/resolve/{revision}/{quote(path)}` (hf_hub_url): the content. The Hub answers
 *   with `X-Repo-Commit` (the commit), `ETag` (git sha1 for a regular file) or, for LFS files, a redirect
 *   to a CDN host carrying `X-Linked-Etag` (the sha256) and `X-Linked-Size` (get_hf_file_metadata).
 *   Range requests are honoured (http_get resumes with `Range: bytes=N-`; a 200 to a Range means the
 *   server ignored it).
 * - Errors carry `X-Error-Code` (GatedRepo, RepoNotFound, RevisionNotFound, EntryNotFound;
 *   utils/_http.py hf_raise_for_status); gated and private repositories answer 401/403 without a token.
 * - The token (HF_TOKEN) goes in `Authorization: Bearer <token>` (utils/_headers.py build_hf_headers);
 *   the endpoint is HF_ENDPOINT, default https://huggingface.co, trailing `/` removed (constants.py).
 */

export interface HubConfig {
  endpoint: string;
  token?: string;
  timeoutMs?: number;
}

export function hubConfigFromEnv(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  const token = env.HF_TOKEN?.trim();
  return token ? { endpoint, token } : { endpoint };
}

/** The Hub refused or failed to answer (gated, private, missing, server error, network). */
export class HubUnavailableError extends Error {
  override name = 'HubUnavailableError';
}

/** The Hub (or its CDN) answered with other bytes than it described: truncated, corrupted or mismatched. */
export class HubIntegrityError extends Error {
  override name = 'HubIntegrityError';
}

export interface TreeFile {
  path: string;
  size: number;
  /** git blob sha1. */
  oid: string;
  /** For LFS files: the sha256 of the content. */
  lfs?: { sha256: string; size: number };
}

export interface Revision {
  sha: string;
}

/** Limits on what the API may answer: no legitimate repository comes near them. */
const MAX_JSON_BYTES = 64 << 20;
const MAX_TREE_PAGES = 1000;

export class HubClient {
  readonly traffic = new Traffic();
  private readonly origin: string;

  readonly config: HubConfig;

  constructor(config: HubConfig) {
    // One spelling per endpoint (huggingface_hub strips the trailing `/` too): URLs and cache keys use it.
    this.config = { ...config, endpoint: config.endpoint.replace(/\/+$/, '') };
    this.origin = new URL(this.config.endpoint).origin;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = { ...extra };
    if (this.config.token) h.authorization = `Bearer ${this.config.token}`;
    return h;
  }

  private async get(
    url: string,
    extra: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    let res: HttpResponse;
    try {
      res = await send(
        url,
        {
          headers: this.headers(extra),
          authOrigin: this.origin,
          ...(this.config.timeoutMs !== undefined ? { timeoutMs: this.config.timeoutMs } : {}),
          ...(signal ? { signal } : {}),
        },
        this.traffic,
      );
    } catch (err) {
      throw new HubUnavailableError(describeHttp(err));
    }
    if (res.status < 200 || res.status > 299) {
      res.abort();
      throw new HubUnavailableError(statusMessage(res, url, !!this.config.token));
    }
    return res;
  }

  private async json(url: string, signal?: AbortSignal): Promise<{ data: unknown; res: HttpResponse }> {
    const res = await this.get(url, { accept: 'application/json' }, signal);
    let body: Buffer;
    try {
      body = await readAll(res, MAX_JSON_BYTES);
    } catch (err) {
      throw bodyError(err, shortUrl(url));
    }
    try {
      return { data: JSON.parse(body.toString('utf8')), res };
    } catch {
      throw new HubIntegrityError(`${shortUrl(url)}: the answer is not JSON`);
    }
  }

  /** Resolves a branch, tag or commit to the commit sha (HfApi.model_info(repo_id, revision=...).sha). */
  async resolveRevision(
    repoId: string,
    revision = DEFAULT_REVISION,
    signal?: AbortSignal,
  ): Promise<Revision> {
    const url = `${this.config.endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`;
    const { data } = await this.json(url, signal);
    const sha = (data as { sha?: unknown } | null)?.sha;
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha))
      throw new HubIntegrityError(`${shortUrl(url)}: the answer has no 40-hex commit sha`);
    if (/^[0-9a-f]{40}$/.test(revision) && sha !== revision)
      throw new HubIntegrityError(`commit ${revision} was answered with commit ${sha}`);
    return { sha };
  }

  /** Every file of the commit, with sizes and LFS sha256 (HfApi.list_repo_tree(recursive=True)). */
  async listFiles(
    repoId: string,
    sha: string,
    maxEntries: number,
    signal?: AbortSignal,
  ): Promise<TreeFile[]> {
    const files: TreeFile[] = [];
    let url: string | undefined = `${this.config.endpoint}/api/models/${repoId}/tree/${sha}?recursive=true`;
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_TREE_PAGES)
        throw new HubIntegrityError(`the file list has more than ${MAX_TREE_PAGES} pages`);
      const { data, res } = await this.json(url, signal);
      if (!Array.isArray(data))
        throw new HubIntegrityError(`${shortUrl(url)}: the file list is not an array`);
      for (const e of data) {
        const f = treeFile(e);
        if (f) files.push(f);
        if (files.length > maxEntries)
          throw new HubIntegrityError(
            `the repository lists more than ${maxEntries} files (limit maxEntries)`,
          );
      }
      url = nextPage(header(res.headers, 'link'), url);
    }
    return files;
  }

  private resolveUrl(repoId: string, sha: string, path: string): string {
    return `${this.config.endpoint}/${repoId}/resolve/${sha}/${path.split('/').map(encodeURIComponent).join('/')}`;
  }

  /**
   * Bytes [start, end) of a file through a Range request. Anything but a 206 whose Content-Range names
   * exactly these bytes of a file of the listed size, with a body of exactly that length, is an integrity
   * failure: a server that ignores Range (200) or answers other bytes never feeds an analyzer.
   */
  async readRange(
    repoId: string,
    sha: string,
    file: TreeFile,
    start: number,
    end: number,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const url = this.resolveUrl(repoId, sha, file.path);
    const res = await this.get(url, { range: `bytes=${start}-${end - 1}` }, signal);
    this.checkHeaders(res, sha, file);
    const where = `${file.path} bytes ${start}-${end - 1}`;
    if (res.status !== 206) {
      res.abort();
      throw new HubIntegrityError(
        `${where}: a Range request was answered with status ${res.status}, not 206`,
      );
    }
    const cr = header(res.headers, 'content-range');
    const m = cr ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(cr.trim()) : null;
    if (!m || Number(m[1]) !== start || Number(m[2]) !== end - 1 || Number(m[3]) !== file.size) {
      res.abort();
      throw new HubIntegrityError(
        `${where}: answered with Content-Range '${cr ?? '(none)'}', not bytes ${start}-${end - 1}/${file.size}`,
      );
    }
    try {
      const body = await readAll(res, end - start);
      if (body.length !== end - start) throw new Error(`${body.length} of ${end - start} bytes arrived`);
      return body;
    } catch (err) {
      throw bodyError(err, where);
    }
  }

  /**
   * Downloads a whole file into `out` (from offset 0), checking its size and its identity as listed: the
   * sha256 of an LFS file, the git blob sha1 of a regular one. Returns the computed sha256.
   */
  async download(
    repoId: string,
    sha: string,
    file: TreeFile,
    out: FileHandle,
    signal?: AbortSignal,
  ): Promise<string> {
    const url = this.resolveUrl(repoId, sha, file.path);
    const res = await this.get(url, {}, signal);
    this.checkHeaders(res, sha, file);
    if (res.status !== 200) {
      res.abort();
      throw new HubIntegrityError(
        `${file.path}: the download was answered with status ${res.status}, not 200`,
      );
    }
    const declared = contentLength(res.headers);
    if (declared !== undefined && declared !== file.size) {
      res.abort();
      throw new HubIntegrityError(
        `${file.path}: Content-Length ${declared}, but the file list says ${file.size} bytes`,
      );
    }
    const sha256 = createHash('sha256');
    const gitSha1 = createHash('sha1').update(`blob ${file.size}\0`);
    let got = 0;
    try {
      for await (const chunk of res.body) {
        got += chunk.length;
        if (got > file.size) {
          res.abort();
          throw new Error(`more than the listed ${file.size} bytes arrived`);
        }
        sha256.update(chunk);
        gitSha1.update(chunk);
        await out.write(chunk, 0, chunk.length, got - chunk.length);
      }
    } catch (err) {
      throw bodyError(err, file.path);
    }
    if (got !== file.size)
      throw new HubIntegrityError(`${file.path}: truncated download, ${got} of ${file.size} bytes`);
    const computed = sha256.digest('hex');
    if (file.lfs && computed !== file.lfs.sha256)
      throw new HubIntegrityError(
        `${file.path}: the downloaded bytes have sha256 ${computed}, the Hub lists ${file.lfs.sha256}`,
      );
    if (!file.lfs && gitSha1.digest('hex') !== file.oid)
      throw new HubIntegrityError(
        `${file.path}: the downloaded bytes are not the git blob ${file.oid} the Hub lists`,
      );
    return computed;
  }

  /** The Hub's own headers (before any CDN redirect) must describe the commit and file that were listed. */
  private checkHeaders(res: HttpResponse, sha: string, file: TreeFile): void {
    const commit = header(res.firstHeaders, 'x-repo-commit');
    if (commit !== undefined && commit !== sha) {
      res.abort();
      throw new HubIntegrityError(`${file.path}: served from commit ${commit}, not ${sha}`);
    }
    const linked = header(res.firstHeaders, 'x-linked-etag');
    if (file.lfs && linked !== undefined && normalizeEtag(linked) !== file.lfs.sha256) {
      res.abort();
      throw new HubIntegrityError(`${file.path}: X-Linked-Etag ${linked} differs from the listed sha256`);
    }
    const linkedSize = header(res.firstHeaders, 'x-linked-size');
    if (linkedSize !== undefined && Number(linkedSize) !== file.size) {
      res.abort();
      throw new HubIntegrityError(
        `${file.path}: X-Linked-Size ${linkedSize} differs from the listed ${file.size}`,
      );
    }
  }
}

/** A tree entry as listed; folders are skipped; anything malformed fails the listing (fail closed). */
function treeFile(e: unknown): TreeFile | undefined {
  const o = e as Record<string, unknown> | null;
  if (!o || typeof o !== 'object') throw new HubIntegrityError('a file list entry is not an object');
  if (o.type === 'directory') return undefined;
  const { path, size, oid, lfs } = o;
  if (o.type !== 'file' || typeof path !== 'string' || !Number.isSafeInteger(size) || (size as number) < 0)
    throw new HubIntegrityError(`a file list entry is malformed: ${JSON.stringify(e).slice(0, 200)}`);
  if (typeof oid !== 'string' || !/^[0-9a-f]{40}$/.test(oid))
    throw new HubIntegrityError(`${path.slice(0, 200)}: no git oid in the file list`);
  const f: TreeFile = { path, size: size as number, oid };
  if (lfs !== undefined && lfs !== null) {
    const l = lfs as Record<string, unknown>;
    if (typeof l.oid !== 'string' || !/^[0-9a-f]{64}$/.test(l.oid) || l.size !== size)
      throw new HubIntegrityError(`${path.slice(0, 200)}: malformed LFS entry in the file list`);
    f.lfs = { sha256: l.oid, size: size as number };
  }
  if (!isSafeRepoPath(path))
    throw new HubIntegrityError(`the file list names an unsafe path '${path.slice(0, 200)}'`);
  return f;
}

function nextPage(link: string | undefined, current: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (m) {
      const next = new URL(m[1]!, current);
      // Pagination stays on the API's host: a Link header cannot send the token elsewhere.
      if (next.origin !== new URL(current).origin)
        throw new HubIntegrityError('pagination leaves the Hub host');
      return next.toString();
    }
  }
  return undefined;
}

function normalizeEtag(e: string): string {
  return e.replace(/^W\//, '').replace(/^"|"$/g, '');
}

function statusMessage(res: HttpResponse, url: string, hasToken: boolean): string {
  const code = header(res.headers, 'x-error-code');
  const where = shortUrl(url);
  if (res.status === 401 || res.status === 403) {
    const gated = code === 'GatedRepo' ? 'gated' : 'gated or private';
    return `${where}: HTTP ${res.status}${code ? ` (${code})` : ''}: the repository is ${gated}; ${hasToken ? 'the token in HF_TOKEN has no access to it' : 'set HF_TOKEN to a token with access'}`;
  }
  if (res.status === 404) return `${where}: HTTP 404${code ? ` (${code})` : ''}: not found`;
  return `${where}: HTTP ${res.status}${code ? ` (${code})` : ''}`;
}

function shortUrl(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`.slice(0, 300);
}

/**
 * A body that could not be read whole: altered or cut by the server (integrity), unless the scan's deadline
 * ended it (the server was too slow: unavailable).
 */
function bodyError(err: unknown, where: string): Error {
  const msg = `${where}: ${describeHttp(err)}`;
  return err instanceof DeadlineError ? new HubUnavailableError(msg) : new HubIntegrityError(msg);
}

function describeHttp(err: unknown): string {
  return err instanceof HttpError || err instanceof Error ? err.message : String(err);
}
