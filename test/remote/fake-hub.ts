import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake Hugging Face Hub on 127.0.0.1 for tests, answering in the shapes huggingface_hub reads
 * (hf_api.py model_info / list_repo_tree, file_download.py hf_hub_url / get_hf_file_metadata):
 *
 * - GET /api/models/{owner}/{name}/revision/{rev} → {id, sha, siblings: [{rfilename}], private, gated}
 * - GET /api/models/{owner}/{name}/tree/{rev}?recursive=true → [{type, oid, size, path, lfs?}], paginated
 *   with `Link: <...>; rel="next"` when `pageSize` is set
 * - GET /{owner}/{name}/resolve/{rev}/{path} → regular files: 200 with ETag (git oid) and X-Repo-Commit;
 *   LFS files: 302 to a second server (the "CDN", another port) with X-Linked-Etag (sha256),
 *   X-Linked-Size and X-Repo-Commit. Both honour `Range: bytes=a-b` with 206 and Content-Range.
 * - Renamed repositories (`opts.renamed`): a relative 307 from the old id's URLs to the new id's.
 * - Gated repositories: metadata and file list are public, content answers 401 with X-Error-Code: GatedRepo
 *   without the right Bearer token. Private repositories answer 401 RepoNotFound everywhere without it.
 *
 * Files can be virtual (size + a function producing any byte range), so a multi-GB safetensors costs no
 * memory. Faults can be injected per path. Bytes served are counted per server.
 */

export type Fault =
  | 'status500' // the resolve answers 500
  | 'truncate' // the body stops halfway (Content-Length promises more)
  | 'corrupt' // one byte of the body is flipped
  | 'ignoreRange' // a Range request is answered 200 with the whole file
  | 'wrongRange' // a Range request is answered 206 with bytes from another offset
  | 'lieRange' // a Range request is answered 206 with the asked Content-Range but other bytes
  | 'drip'; // the body comes one byte at a time, one every 20 ms (a socket timeout never fires)

export interface FakeFile {
  path: string;
  lfs: boolean;
  size: number;
  /** Bytes [start, end). */
  read(start: number, end: number): Buffer;
  sha256: string;
  oid: string;
  fault?: Fault;
}

export interface FakeRepo {
  id: string;
  /** Branches and tags → commit. */
  refs: Record<string, string>;
  commits: Record<string, FakeFile[]>;
  /** A token that must be presented (gated/private); undefined = public. */
  token?: string;
  /** With a token: private (nothing without it) rather than gated (content only). */
  private?: boolean;
}

export function realFile(path: string, data: Buffer, lfs = false, fault?: Fault): FakeFile {
  return {
    path,
    lfs,
    size: data.length,
    read: (a, b) => data.subarray(a, b),
    sha256: createHash('sha256').update(data).digest('hex'),
    oid: gitOid(data),
    ...(fault ? { fault } : {}),
  };
}

/**
 * A safetensors file of `tensors` F32 tensors of `elements` each, served virtually: the header is real, the
 * data is zeros generated on demand. Its listed sha256 is a stand-in (hashing gigabytes of zeros would take
 * seconds); a client that downloads it whole fails the sha256 check, which is what a test wants to see.
 */
export function virtualSafetensors(
  path: string,
  tensors: number,
  elements: number,
  prefix = 'layer',
): FakeFile {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  for (let i = 0; i < tensors; i++) {
    const begin = i * elements * 4;
    header[`${prefix}.${i}.weight`] = {
      dtype: 'F32',
      shape: [elements],
      data_offsets: [begin, begin + elements * 4],
    };
  }
  let json = Buffer.from(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const head = Buffer.alloc(8 + json.length);
  head.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(head, 8);
  const size = head.length + tensors * elements * 4;
  return {
    path,
    lfs: true,
    size,
    read(a, b) {
      const out = Buffer.alloc(b - a);
      if (a < head.length) head.copy(out, 0, a, Math.min(b, head.length));
      return out;
    },
    sha256: createHash('sha256').update(`virtual:${path}:${size}`).digest('hex'),
    oid: createHash('sha1').update(`virtual-pointer:${path}`).digest('hex'),
  };
}

export function gitOid(data: Buffer): string {
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

export interface FakeHub {
  endpoint: string;
  cdn: string;
  /** Body bytes served by the API/resolve server and by the CDN. */
  served: { hub: number; cdn: number };
  /** Authorization headers the CDN received (must stay empty: the token never leaves the Hub's origin). */
  cdnAuthorizations: string[];
  requests: string[];
  pageSize: number | undefined;
  close(): Promise<void>;
}

export async function startFakeHub(
  repos: FakeRepo[],
  opts: { pageSize?: number; renamed?: Record<string, string> } = {},
): Promise<FakeHub> {
  const byId = new Map(repos.map((r) => [r.id, r]));
  const state: FakeHub = {
    endpoint: '',
    cdn: '',
    served: { hub: 0, cdn: 0 },
    cdnAuthorizations: [],
    requests: [],
    pageSize: opts.pageSize,
    close: async () => {},
  };
  const lfsObjects = new Map<string, FakeFile>();
  // Keyed by repository and sha256, as the CDN's URLs are (…/repos/<repo>/<sha256>?signature).
  for (const r of repos)
    for (const files of Object.values(r.commits))
      for (const f of files) if (f.lfs) lfsObjects.set(`${r.id}/${f.sha256}`, f);

  const cdn = createServer((req, res) => {
    state.requests.push(`cdn ${req.method} ${req.url}`);
    if (req.headers.authorization) state.cdnAuthorizations.push(req.headers.authorization);
    const m = /^\/repos\/([^/]+\/[^/]+)\/([0-9a-f]{64})\?/.exec(req.url ?? '');
    const f = m ? lfsObjects.get(`${m[1]}/${m[2]}`) : undefined;
    if (!f) return end(res, 404, {}, 'not found', 'cdn');
    serveContent(req, res, f, {}, 'cdn');
  });
  const hub = createServer((req, res) => {
    state.requests.push(`hub ${req.method} ${req.url}`);
    const url = new URL(req.url ?? '/', 'http://x');
    // A renamed repository (the canonical `gpt2` now `openai-community/gpt2`): the Hub answers its old
    // URLs, API and resolve alike, with a relative 307 to the new ones.
    for (const [from, to] of Object.entries(opts.renamed ?? {})) {
      for (const prefix of ['/api/models/', '/']) {
        if (!url.pathname.startsWith(`${prefix}${from}/`)) continue;
        const location = `${prefix}${to}${url.pathname.slice(prefix.length + from.length)}${url.search}`;
        return end(res, 307, { location }, 'Temporary Redirect', 'hub');
      }
    }
    const parts = url.pathname.split('/').map(decodeURIComponent);
    const api = parts[1] === 'api' && parts[2] === 'models';
    const repoId = api ? `${parts[3]}/${parts[4]}` : `${parts[1]}/${parts[2]}`;
    const repo = byId.get(repoId);
    if (!repo) return end(res, 401, { 'x-error-code': 'RepoNotFound' }, 'Repository not found', 'hub');
    const authorized = !repo.token || req.headers.authorization === `Bearer ${repo.token}`;
    if (!authorized && repo.private)
      return end(res, 401, { 'x-error-code': 'RepoNotFound' }, 'Repository Not Found', 'hub');
    const resolveRev = (rev: string) => (repo.commits[rev] ? rev : repo.refs[rev]);
    if (api && parts[5] === 'revision') {
      const sha = resolveRev(parts.slice(6).join('/'));
      if (!sha) return end(res, 404, { 'x-error-code': 'RevisionNotFound' }, 'Invalid rev id', 'hub');
      const body = {
        id: repoId,
        sha,
        private: !!repo.private,
        gated: repo.token ? 'manual' : false,
        siblings: repo.commits[sha]!.map((f) => ({ rfilename: f.path })),
      };
      return end(res, 200, { 'content-type': 'application/json' }, JSON.stringify(body), 'hub');
    }
    if (api && parts[5] === 'tree') {
      const sha = resolveRev(parts.slice(6).join('/'));
      if (!sha) return end(res, 404, { 'x-error-code': 'RevisionNotFound' }, 'Invalid rev id', 'hub');
      const entries = treeOf(repo.commits[sha]!);
      const cursor = Number(url.searchParams.get('cursor') ?? 0);
      const size = state.pageSize ?? entries.length;
      const page = entries.slice(cursor, cursor + size);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + size < entries.length) {
        const next = new URL(url.toString());
        next.searchParams.set('cursor', String(cursor + size));
        headers.link = `<${state.endpoint}${next.pathname}${next.search}>; rel="next"`;
      }
      return end(res, 200, headers, JSON.stringify(page), 'hub');
    }
    if (!api && parts[3] === 'resolve') {
      const sha = resolveRev(parts[4]!);
      const path = parts.slice(5).join('/');
      const f = sha ? repo.commits[sha]!.find((x) => x.path === path) : undefined;
      if (!sha || !f) return end(res, 404, { 'x-error-code': 'EntryNotFound' }, 'Entry not found', 'hub');
      if (!authorized)
        return end(res, 401, { 'x-error-code': 'GatedRepo' }, 'Access to this model is restricted', 'hub');
      if (f.fault === 'status500') return end(res, 500, {}, 'Internal Error', 'hub');
      const common = { 'x-repo-commit': sha };
      if (f.lfs) {
        return end(
          res,
          302,
          {
            ...common,
            location: `${state.cdn}/repos/${repoId}/${f.sha256}?X-Amz-Signature=fake`,
            'x-linked-etag': `"${f.sha256}"`,
            'x-linked-size': String(f.size),
          },
          'Found',
          'hub',
        );
      }
      return serveContent(req, res, f, { ...common, etag: `"${f.oid}"` }, 'hub');
    }
    end(res, 404, {}, 'not found', 'hub');
  });

  function end(
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: string,
    who: 'hub' | 'cdn',
  ) {
    const b = Buffer.from(body);
    state.served[who] += b.length;
    res.writeHead(status, { ...headers, 'content-length': String(b.length) });
    res.end(b);
  }

  function serveContent(
    req: IncomingMessage,
    res: ServerResponse,
    f: FakeFile,
    headers: Record<string, string>,
    who: 'hub' | 'cdn',
  ) {
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = f.size;
    let status = 200;
    if (range && f.fault !== 'ignoreRange') {
      start = Number(range[1]);
      end = Math.min(f.size, range[2] ? Number(range[2]) + 1 : f.size);
      if (start >= f.size) {
        res.writeHead(416, { 'content-range': `bytes */${f.size}` });
        return res.end();
      }
      status = 206;
    }
    let body: Buffer;
    let cr = `bytes ${start}-${end - 1}/${f.size}`;
    if (status === 206 && f.fault === 'wrongRange') {
      const shift = Math.min(16, f.size - end);
      body = f.read(start + shift, end + shift);
      cr = `bytes ${start + shift}-${end + shift - 1}/${f.size}`;
    } else if (status === 206 && f.fault === 'lieRange') {
      body = Buffer.from(f.read(start, end)).map((b) => b ^ 0xff) as Buffer;
    } else body = Buffer.from(f.read(start, end));
    if (f.fault === 'corrupt' && body.length > 0) {
      body = Buffer.from(body);
      body[body.length >> 1] = body[body.length >> 1]! ^ 0x01;
    }
    res.writeHead(status, {
      ...headers,
      'content-length': String(end - start),
      ...(status === 206 ? { 'content-range': cr } : {}),
      'accept-ranges': 'bytes',
    });
    if (req.method === 'HEAD') return res.end();
    if (f.fault === 'drip') {
      let i = 0;
      const timer = setInterval(() => {
        if (i >= body.length) {
          clearInterval(timer);
          res.end();
          return;
        }
        state.served[who] += 1;
        res.write(body.subarray(i, ++i));
      }, 20);
      res.on('close', () => clearInterval(timer));
      return;
    }
    if (f.fault === 'truncate') {
      const half = body.subarray(0, body.length >> 1);
      state.served[who] += half.length;
      res.write(half, () => res.destroy());
      return;
    }
    state.served[who] += body.length;
    // Large bodies in pieces (a client that stops reading does not make the server allocate the rest).
    let p = 0;
    const pump = () => {
      while (p < body.length) {
        const piece = body.subarray(p, p + (1 << 20));
        p += piece.length;
        if (!res.write(piece)) return res.once('drain', pump);
      }
      res.end();
    };
    pump();
  }

  await Promise.all([listen(hub), listen(cdn)]);
  state.endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  state.cdn = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  state.close = async () => {
    hub.closeAllConnections();
    cdn.closeAllConnections();
    await Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => cdn.close(r))]);
  };
  return state;
}

function treeOf(files: FakeFile[]): unknown[] {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [
    ...[...dirs].map((d) => ({
      type: 'directory',
      oid: createHash('sha1').update(d).digest('hex'),
      size: 0,
      path: d,
    })),
    ...files.map((f) => ({
      type: 'file',
      oid: f.oid,
      size: f.size,
      path: f.path,
      ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: 134 } } : {}),
    })),
  ];
}

function listen(s: Server): Promise<void> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r()));
}
