// End-to-end harness: runs the bundled dist/index.js as the runner does (INPUT_* variables with hyphens
// kept, an event payload file, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files) against a real git repository in a
// temp folder and a real HTTP server on 127.0.0.1 standing in for the GitHub REST API and the LFS store.
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers.js';

export const DIST_BUILT = join(ROOT, 'dist', 'index.js');
/**
 * The bundle the tests run: dist/index.js as `node build.mjs` made it, copied to a private folder right after
 * the build (as .mjs, so it stays an ES module there). Other test processes in the shared worktree rebuild
 * dist/ too (build.mjs deletes it first); a private copy keeps them from pulling the file away mid-run.
 */
export const DIST_DIR = mkdtempSync(join(tmpdir(), 'mg-dist-'));
process.on('exit', () => rmSync(DIST_DIR, { recursive: true, force: true }));
export const DIST = join(DIST_DIR, 'index.mjs');
/**
 * dist/cli.js (the CLI: its launcher holding its bundle), copied beside it for the same reason, alone (not the
 * bundle's source map, which only an internal error's stack trace reads).
 */
export const DIST_CLI = join(DIST_DIR, 'cli.mjs');

let built: Promise<void> | undefined;
/**
 * Builds dist/ once per test process (node build.mjs), as CI does before running the bundle; under
 * `npm test` (scripts/test.mjs) dist/ was built before any test started, so it is only copied.
 */
export function buildDist(): Promise<void> {
  built ??= (async () => {
    for (let attempt = 1; ; attempt++) {
      if (!process.env.MODELGATE_DIST_PREBUILT)
        await new Promise<void>((res, rej) =>
          execFile(process.execPath, ['build.mjs'], { cwd: ROOT }, (err, _o, stderr) =>
            err ? rej(new Error(`build failed: ${stderr}`)) : res(),
          ),
        );
      try {
        copyFileSync(DIST_BUILT, DIST);
        copyFileSync(join(ROOT, 'dist', 'cli.js'), DIST_CLI);
        if ([DIST, DIST_CLI].every((f) => statSync(f).size > 0)) return;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  })();
  return built;
}

/** A pickle calling posix.system('echo hi') (protocol 4, one frame; never loaded by the tests). */
const PICKLE_BODY = Buffer.from(
  '\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x07echo hi\x94\x85\x94R\x94.',
  'latin1',
);
const FRAME_LEN = Buffer.alloc(8);
FRAME_LEN.writeBigUInt64LE(BigInt(PICKLE_BODY.length));
export const EVIL_PICKLE = Buffer.concat([Buffer.from([0x80, 0x04, 0x95]), FRAME_LEN, PICKLE_BODY]);

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
    },
  }).trim();
}

export function write(dir: string, rel: string, data: string | Buffer): void {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
}

/** A repository with a base commit (`files` at base) on main; returns its path and the base sha. */
export function makeRepo(dir: string, base: Record<string, string | Buffer>): { ws: string; base: string } {
  const ws = join(dir, 'ws');
  mkdirSync(ws, { recursive: true });
  git(ws, 'init', '-q', '-b', 'main');
  for (const [p, d] of Object.entries({ 'README.md': 'hello\n', ...base })) write(ws, p, d);
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '-m', 'base');
  return { ws, base: git(ws, 'rev-parse', 'HEAD') };
}

/** Commits changes (write or delete with null) on top of HEAD; returns the new sha. */
export function commit(ws: string, changes: Record<string, string | Buffer | null>, msg = 'change'): string {
  for (const [p, d] of Object.entries(changes)) {
    if (d === null) git(ws, 'rm', '-q', p);
    else write(ws, p, d);
  }
  git(ws, 'add', '-A');
  git(ws, 'commit', '-q', '--allow-empty', '-m', msg);
  return git(ws, 'rev-parse', 'HEAD');
}

export function lfsPointer(content: Buffer): { pointer: string; oid: string } {
  const oid = createHash('sha256').update(content).digest('hex');
  return {
    oid,
    pointer: `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.length}\n`,
  };
}

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  body: string;
  auth?: string;
}

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string; type: string };
}

/** State the fake GitHub serves; tests set it up and read what was recorded. */
export interface FakeState {
  comments: FakeComment[];
  prFiles: Array<{ filename: string; status: string; previous_filename?: string }>;
  /** `${ref}:${path}` → text */
  contents: Record<string, string>;
  /** oid → content served by the LFS store */
  lfs: Record<string, Buffer>;
  commentStatus?: number;
  /** Open pull requests, for GET /pulls?head=owner:branch (workflow_run lookups). */
  pulls: Array<{ number: number; head: { sha: string; label: string } }>;
  nextId: number;
  requests: Recorded[];
}

export class FakeGitHub {
  state: FakeState = {
    comments: [],
    prFiles: [],
    contents: {},
    lfs: {},
    pulls: [],
    nextId: 1000,
    requests: [],
  };
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, body, headers }) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
        },
        (err) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Requests matching a method and a path pattern. */
  calls(method: string, re: RegExp): Recorded[] {
    return this.state.requests.filter((r) => r.method === method && re.test(r.path));
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', this.url);
    const rec: Recorded = {
      method: req.method ?? '',
      path: decodeURIComponent(u.pathname),
      query: u.searchParams,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    if (req.headers.authorization) rec.auth = req.headers.authorization;
    this.state.requests.push(rec);
    const s = this.state;
    const p = rec.path;
    let m: RegExpExecArray | null;
    if (/^\/repos\/[^/]+\/[^/]+\/pulls$/.test(p) && req.method === 'GET') {
      const head = u.searchParams.get('head');
      return { status: 200, body: s.pulls.filter((x) => !head || x.head.label === head) };
    }
    if (p === '/graphql')
      return { status: 200, body: { data: { viewer: { login: 'github-actions[bot]' } } } };
    m = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/files$/.exec(p);
    if (m) {
      const per = Number(u.searchParams.get('per_page') ?? 30);
      const page = Number(u.searchParams.get('page') ?? 1);
      // The real API stops at 3000 files.
      const all = s.prFiles.slice(0, 3000);
      const slice = all.slice((page - 1) * per, page * per);
      const last = Math.ceil(all.length / per);
      const headers: Record<string, string> = {};
      if (page < last) headers.link = `<${this.url}${p}?per_page=${per}&page=${page + 1}>; rel="next"`;
      return {
        status: 200,
        body: slice.map((f) => ({ sha: '0', additions: 0, deletions: 0, changes: 0, ...f })),
        headers,
      };
    }
    m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(p);
    if (m) {
      if (s.commentStatus)
        return { status: s.commentStatus, body: { message: 'Resource not accessible by integration' } };
      if (req.method === 'GET') {
        const per = Number(u.searchParams.get('per_page') ?? 30);
        const page = Number(u.searchParams.get('page') ?? 1);
        return { status: 200, body: s.comments.slice((page - 1) * per, page * per) };
      }
      const c: FakeComment = {
        id: s.nextId++,
        body: JSON.parse(rec.body).body,
        user: { login: 'github-actions[bot]', type: 'Bot' },
      };
      s.comments.push(c);
      return { status: 201, body: c };
    }
    m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(p);
    if (m && req.method === 'PATCH') {
      if (s.commentStatus)
        return { status: s.commentStatus, body: { message: 'Resource not accessible by integration' } };
      const c = s.comments.find((x) => x.id === Number(m![1]));
      if (!c) return { status: 404, body: { message: 'Not Found' } };
      c.body = JSON.parse(rec.body).body;
      return { status: 200, body: c };
    }
    m = /^\/repos\/[^/]+\/[^/]+\/contents\/(.+)$/.exec(p);
    if (m) {
      const text = s.contents[`${u.searchParams.get('ref')}:${m[1]}`];
      if (text === undefined) return { status: 404, body: { message: 'Not Found' } };
      return { status: 200, body: text, headers: { 'content-type': 'application/vnd.github.raw' } };
    }
    m = /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(p);
    if (m) {
      const objs = (JSON.parse(rec.body).objects ?? []) as Array<{ oid: string; size: number }>;
      return {
        status: 200,
        headers: { 'content-type': 'application/vnd.git-lfs+json' },
        body: {
          transfer: 'basic',
          objects: objs.map((o) =>
            s.lfs[o.oid]
              ? {
                  oid: o.oid,
                  size: o.size,
                  actions: {
                    download: { href: `${this.url}/lfs-download/${o.oid}`, header: { 'x-lfs-test': '1' } },
                  },
                }
              : { oid: o.oid, size: o.size, error: { code: 404, message: 'Object does not exist' } },
          ),
        },
      };
    }
    m = /^\/lfs-download\/([0-9a-f]+)$/.exec(p);
    if (m) {
      const data = s.lfs[m[1]!];
      return data
        ? { status: 200, body: data, headers: { 'content-type': 'application/octet-stream' } }
        : { status: 404, body: {} };
    }
    return { status: 404, body: { message: `fake: no route for ${req.method} ${p}` } };
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  report:
    | {
        verdict: string;
        blocked: boolean;
        files: Array<{
          path: string;
          verdict: string;
          score: number;
          format: string;
          findings: Array<{ ruleId: string; message: string; location: Record<string, unknown> }>;
        }>;
        notes?: string[];
      }
    | undefined;
  sarif:
    | {
        runs: Array<{
          results: Array<{
            ruleId: string;
            locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }>;
          }>;
          automationDetails?: { id: string };
        }>;
      }
    | undefined;
}

/** Every input, as the runner would set it from action.yml's defaults plus the step's `with:`. */
export const DEFAULT_INPUTS: Record<string, string> = {
  path: '.',
  scope: '',
  include: '',
  exclude: '',
  config: '.github/modelgate.yml',
  profile: '',
  'max-score': '',
  'warn-only': '',
  'fail-on-incomplete': '',
  signatures: '',
  comment: 'on-findings',
  annotations: 'true',
  'sarif-file': 'modelgate.sarif',
  'report-file': 'modelgate-report.json',
  lfs: 'fetch',
  cache: 'true',
  token: 'ghs_faketoken',
  shard: '',
  'merge-reports': '',
};

export interface RunOptions {
  ws: string;
  tmp: string;
  event: string;
  payload: Record<string, unknown>;
  inputs?: Record<string, string>;
  api: FakeGitHub;
  sha?: string;
  ref?: string;
  env?: Record<string, string>;
}

export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([^\n<]+)<<(ghadelimiter_[0-9a-f-]+)\n([\s\S]*?)\n\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

let runCount = 0;
export function runAction(o: RunOptions): Promise<RunResult> {
  const n = runCount++;
  const eventPath = join(o.tmp, `event-${n}.json`);
  const outputPath = join(o.tmp, `output-${n}`);
  const summaryPath = join(o.tmp, `summary-${n}.md`);
  writeFileSync(eventPath, JSON.stringify(o.payload));
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');
  const inputs = { ...DEFAULT_INPUTS, ...o.inputs };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? o.tmp,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: o.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: 'octo/models',
    GITHUB_SHA: o.sha ?? git(o.ws, 'rev-parse', 'HEAD'),
    GITHUB_REF: o.ref ?? 'refs/heads/main',
    GITHUB_WORKSPACE: o.ws,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_API_URL: o.api.url,
    GITHUB_SERVER_URL: o.api.url,
    GITHUB_GRAPHQL_URL: `${o.api.url}/graphql`,
    GITHUB_RUN_ID: '42',
    RUNNER_TEMP: o.tmp,
    ...o.env,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return new Promise((res) => {
    execFile(
      process.execPath,
      [DIST],
      { cwd: o.ws, env, maxBuffer: 64 * 2 ** 20, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        const readJson = (rel: string) => {
          try {
            return JSON.parse(readFileSync(join(o.ws, rel), 'utf8'));
          } catch {
            return undefined;
          }
        };
        res({
          code,
          stdout,
          stderr,
          outputs: parseOutputs(readFileSync(outputPath, 'utf8')),
          summary: readFileSync(summaryPath, 'utf8'),
          report: readJson(inputs['report-file']!),
          sarif: readJson(inputs['sarif-file']!),
        });
      },
    );
  });
}

export function prPayload(o: {
  number: number;
  base: string;
  head: string;
  baseRef?: string;
  fork?: boolean;
}): Record<string, unknown> {
  const headRepo = o.fork ? 'mallory/models' : 'octo/models';
  return {
    action: 'synchronize',
    number: o.number,
    pull_request: {
      number: o.number,
      base: { sha: o.base, ref: o.baseRef ?? 'main', repo: { full_name: 'octo/models' } },
      head: { sha: o.head, ref: 'feature', repo: { full_name: headRepo, fork: !!o.fork } },
    },
    repository: { full_name: 'octo/models', default_branch: 'main' },
  };
}
