/**
 * What the triggering event says about the change: which commits to compare, which pull request to comment
 * on, which branch picks the policy profile, and whether the run is trusted enough to write the cache.
 */

export type EventKind = 'pull_request' | 'push' | 'merge_group' | 'other';

export interface EventInfo {
  name: string;
  kind: EventKind;
  owner: string;
  repo: string;
  /** Trusted base commit: PR base, merge-group base, or the commit before a push. */
  base?: string;
  /** Head commit named by the event (the workspace's HEAD is what is actually scanned). */
  head?: string;
  prNumber?: number;
  /** Repository holding the PR head (a fork's full name), for LFS objects pushed there. */
  headRepo?: string;
  isFork: boolean;
  /** Branch that picks the policy profile: a PR's base branch, the pushed branch, the merge group's base. */
  branch?: string;
  /** The policy file must come from `base` (pull requests), not from the workspace. */
  policyFromBase: boolean;
  /** Saving results to the cache is allowed (push to the default branch, merge_group, schedule). */
  cacheSaveAllowed: boolean;
  /** A push that created a branch (`before` all zeros): there is no base to compare with. */
  newBranch: boolean;
  defaultBranch?: string;
  /** workflow_run: the run that produced the reports, for finding its pull request. */
  workflowRun?: { headSha: string; headBranch?: string; headOwner?: string; prNumbers: number[] };
}

const ZERO = /^0+$/;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export function stripRef(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  if (ref.startsWith('refs/heads/')) return ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/')) return undefined;
  return ref;
}

export function readEvent(name: string, payload: Json, env: NodeJS.ProcessEnv): EventInfo {
  const [owner = '', repo = ''] = (
    env.GITHUB_REPOSITORY ??
    str(obj(payload.repository).full_name) ??
    '/'
  ).split('/');
  const repository = obj(payload.repository);
  const defaultBranch = str(repository.default_branch);
  const info: EventInfo = {
    name,
    kind: 'other',
    owner,
    repo,
    isFork: false,
    policyFromBase: false,
    cacheSaveAllowed: false,
    newBranch: false,
  };
  if (defaultBranch) info.defaultBranch = defaultBranch;
  const refBranch = stripRef(env.GITHUB_REF);

  if (name === 'pull_request' || name === 'pull_request_target') {
    const pr = obj(payload.pull_request);
    const base = obj(pr.base);
    const head = obj(pr.head);
    const headRepo = obj(head.repo);
    info.kind = 'pull_request';
    info.base = str(base.sha);
    info.head = str(head.sha);
    if (typeof pr.number === 'number') info.prNumber = pr.number;
    else if (typeof payload.number === 'number') info.prNumber = payload.number;
    info.branch = str(base.ref);
    const headFull = str(headRepo.full_name);
    if (headFull) info.headRepo = headFull;
    // A deleted fork has head.repo null: treat it as a fork.
    info.isFork = headFull === undefined || headFull !== `${owner}/${repo}` || headRepo.fork === true;
    info.policyFromBase = true;
  } else if (name === 'merge_group') {
    const mg = obj(payload.merge_group);
    info.kind = 'merge_group';
    info.base = str(mg.base_sha);
    info.head = str(mg.head_sha);
    info.branch = stripRef(str(mg.base_ref));
    info.policyFromBase = true;
    info.cacheSaveAllowed = true;
  } else if (name === 'push') {
    info.kind = 'push';
    const before = str(payload.before);
    info.head = str(payload.after) ?? env.GITHUB_SHA;
    info.branch = stripRef(str(payload.ref)) ?? refBranch;
    if (before === undefined || ZERO.test(before)) info.newBranch = true;
    else info.base = before;
    info.cacheSaveAllowed = info.branch !== undefined && info.branch === defaultBranch;
  } else {
    info.branch = refBranch;
    if (name === 'schedule') info.cacheSaveAllowed = true;
    if (name === 'workflow_run') {
      const wr = obj(payload.workflow_run);
      const prs = Array.isArray(wr.pull_requests) ? wr.pull_requests : [];
      const run: NonNullable<EventInfo['workflowRun']> = {
        headSha: str(wr.head_sha) ?? '',
        prNumbers: prs.map((p) => obj(p).number).filter((n): n is number => typeof n === 'number'),
      };
      const hb = str(wr.head_branch);
      if (hb) run.headBranch = hb;
      const ho = str(obj(obj(wr.head_repository).owner).login);
      if (ho) run.headOwner = ho;
      info.workflowRun = run;
    }
  }
  return info;
}
