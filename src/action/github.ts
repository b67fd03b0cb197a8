import { getOctokit } from '@actions/github';

/** The few REST calls the action makes, behind one small interface (tests stand up a real HTTP server). */
export interface ApiFile {
  filename: string;
  status: string;
  previous_filename?: string;
}

export interface ApiComment {
  id: number;
  body: string;
  login: string;
  html_url?: string;
}

export interface Api {
  /** Files of a pull request (pages of 100; the API stops at 3000). */
  listPrFiles(pr: number): Promise<{ files: ApiFile[]; truncated: boolean }>;
  /** Files changed between two commits (the API lists at most 300). */
  compareFiles(base: string, head: string): Promise<{ files: ApiFile[]; truncated: boolean }>;
  /** Raw text of a file at a ref; undefined when it does not exist there. */
  getContent(path: string, ref: string): Promise<string | undefined>;
  listComments(pr: number): Promise<ApiComment[]>;
  createComment(pr: number, body: string): Promise<ApiComment>;
  updateComment(id: number, body: string): Promise<ApiComment>;
  /** The login the token acts as (GraphQL viewer); undefined when it cannot be told. */
  viewerLogin(): Promise<string | undefined>;
  /** Open pull requests whose head is `owner:branch`. */
  findPulls(headOwner: string, headBranch: string): Promise<Array<{ number: number; headSha: string }>>;
  /** Actions cache entries in the scope of `ref` whose key starts with `keyPrefix` (needs actions: read). */
  countCaches(ref: string, keyPrefix: string): Promise<number>;
}

/** HTTP status of an Octokit error, if any. */
export function httpStatus(err: unknown): number | undefined {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : undefined;
}

export const PR_FILES_LIMIT = 3000;
export const COMPARE_FILES_LIMIT = 300;

export function createApi(token: string, owner: string, repo: string): Api {
  const octokit = getOctokit(token);
  const asComment = (c: {
    id: number | bigint;
    body?: string | null;
    user?: { login?: string } | null;
    html_url?: string;
  }) => ({
    id: Number(c.id),
    body: c.body ?? '',
    login: c.user?.login ?? '',
    html_url: c.html_url,
  });
  return {
    async listPrFiles(pr) {
      const files: ApiFile[] = [];
      for (let page = 1; page <= PR_FILES_LIMIT / 100; page++) {
        const res = await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', {
          owner,
          repo,
          pull_number: pr,
          per_page: 100,
          page,
        });
        for (const f of res.data) {
          const e: ApiFile = { filename: f.filename, status: f.status };
          if (f.previous_filename) e.previous_filename = f.previous_filename;
          files.push(e);
        }
        const link = String(res.headers.link ?? '');
        if (res.data.length < 100 || !/rel="next"/.test(link)) break;
      }
      return { files, truncated: files.length >= PR_FILES_LIMIT };
    },
    async compareFiles(base, head) {
      const res = await octokit.request('GET /repos/{owner}/{repo}/compare/{basehead}', {
        owner,
        repo,
        basehead: `${base}...${head}`,
        per_page: 1,
      });
      const files = (res.data.files ?? []).map((f) => {
        const e: ApiFile = { filename: f.filename, status: f.status };
        if (f.previous_filename) e.previous_filename = f.previous_filename;
        return e;
      });
      return { files, truncated: files.length >= COMPARE_FILES_LIMIT };
    },
    async getContent(path, ref) {
      try {
        const res = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', {
          owner,
          repo,
          path,
          ref,
          headers: { accept: 'application/vnd.github.raw+json' },
        });
        const data = res.data as unknown;
        if (typeof data === 'string') return data;
        if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
        const c = data as { content?: string; encoding?: string };
        if (typeof c.content === 'string')
          return Buffer.from(c.content, c.encoding === 'base64' ? 'base64' : 'utf8').toString('utf8');
        return undefined;
      } catch (err) {
        if (httpStatus(err) === 404) return undefined;
        throw err;
      }
    },
    async listComments(pr) {
      const out: ApiComment[] = [];
      for (let page = 1; page <= 100; page++) {
        const res = await octokit.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', {
          owner,
          repo,
          issue_number: pr,
          per_page: 100,
          page,
        });
        out.push(...res.data.map(asComment));
        if (res.data.length < 100) break;
      }
      return out;
    },
    async createComment(pr, body) {
      const res = await octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', {
        owner,
        repo,
        issue_number: pr,
        body,
      });
      return asComment(res.data);
    },
    async updateComment(id, body) {
      const res = await octokit.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', {
        owner,
        repo,
        comment_id: id,
        body,
      });
      return asComment(res.data);
    },
    async viewerLogin() {
      try {
        const res = await octokit.graphql<{ viewer?: { login?: string } }>('query { viewer { login } }');
        return res.viewer?.login || undefined;
      } catch {
        return undefined;
      }
    },
    async findPulls(headOwner, headBranch) {
      const res = await octokit.request('GET /repos/{owner}/{repo}/pulls', {
        owner,
        repo,
        state: 'open',
        head: `${headOwner}:${headBranch}`,
        per_page: 100,
      });
      return res.data.map((p) => ({ number: p.number, headSha: p.head.sha }));
    },
    async countCaches(ref, keyPrefix) {
      const res = await octokit.request('GET /repos/{owner}/{repo}/actions/caches', {
        owner,
        repo,
        ref,
        key: keyPrefix,
        per_page: 1,
      });
      return res.data.total_count;
    },
  };
}
