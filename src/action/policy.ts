import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Policy } from '../core/policy/policy.js';
import { diffPins, loadPolicyText, type PolicyFile, resolvePolicy } from '../core/policy/resolve.js';
import type { EventInfo } from './event.js';
import { ensureCommit, git, isGitRepo } from './git.js';
import type { Api } from './github.js';
import type { ActionInputs } from './inputs.js';

export interface ActionPolicy {
  policy: Policy;
  /** Where the policy came from, for the summary. */
  source: string;
  /** Policy-related remarks for the summary (policy changed in the PR, no file found, ...). */
  notes: string[];
  /** Identity of the policy for cache keys. */
  hash: string;
  /** The pull request changes the policy file (its version was not used). */
  changedInChange: boolean;
  /** The policy file applied: repository path and the commit it was read at (undefined: the workspace). */
  fileRef?: { path: string; commit: string | undefined };
}

/** Reads repo-relative files at a trusted commit: through git when the commit is present, else the API. */
export function baseReader(cwd: string, commit: string, api: Api | undefined) {
  let gitOk: Promise<boolean> | undefined;
  return async (rel: string): Promise<string | undefined> => {
    gitOk ??= (async () => (await isGitRepo(cwd)) && (await ensureCommit(cwd, commit)))();
    if (await gitOk) {
      const r = await git(cwd, ['cat-file', 'blob', `${commit}:${rel}`]);
      if (r.code === 0) return r.stdout;
      const exists = await git(cwd, ['cat-file', '-e', `${commit}:${rel}`]);
      if (exists.code !== 0) return undefined;
    }
    if (!api) throw new Error(`cannot read ${rel} at ${commit.slice(0, 12)}: no git history and no token`);
    return api.getContent(rel, commit);
  };
}

async function readWorkspace(cwd: string, rel: string): Promise<string | undefined> {
  try {
    return await readFile(resolve(cwd, rel), 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The policy the action enforces. On pull requests and merge groups the policy file (and every file it refers
 * to: keys, lockfile, trusted root) is read from the base commit, never from the change under review; a
 * change to the policy file is reported. Inputs override the file; the profile comes from the `profile` input
 * or the policy's `branches` map for the PR's base branch or the pushed branch.
 */
export async function loadActionPolicy(
  cwd: string,
  inputs: ActionInputs,
  ev: EventInfo,
  api: Api | undefined,
): Promise<ActionPolicy> {
  const notes: string[] = [];
  const rel = inputs.config.replace(/^\.\//, '');
  if (isAbsolute(rel) || rel.split('/').includes('..'))
    throw new Error(`input 'config' must be a path inside the repository, got '${inputs.config}'`);
  const fromBase = ev.policyFromBase && ev.base !== undefined;
  const read = fromBase ? baseReader(cwd, ev.base!, api) : (p: string) => readWorkspace(cwd, p);
  const text = await read(rel);
  const where = fromBase ? `${rel} at the base commit ${ev.base!.slice(0, 12)}` : rel;
  let file: PolicyFile | undefined;
  if (text !== undefined) file = loadPolicyText(text, where);
  else notes.push(`No policy file at ${where}: the built-in default policy applies.`);

  let changedInChange = false;
  let headFile: PolicyFile | undefined;
  if (fromBase) {
    const head = await readWorkspace(cwd, rel);
    if (head !== text) {
      changedInChange = true;
      notes.push(
        text === undefined
          ? `This change adds the policy file ${rel}; it takes effect once merged. This run used the built-in default policy.`
          : head === undefined
            ? `This change deletes the policy file ${rel}; this run used the base branch's version.`
            : `This change modifies the policy file ${rel} (waivers, pins, profiles or limits); this run used the base branch's version. The change takes effect once merged.`,
      );
      if (head !== undefined) {
        try {
          headFile = loadPolicyText(head, `${rel} in this change`);
        } catch (err) {
          notes.push(
            `The changed policy file is not valid and would fail once merged: ${(err as Error).message}`,
          );
        }
      }
    }
  }

  const policy = await resolvePolicy({
    ...(file ? { file } : {}),
    ...(inputs.profile !== undefined ? { profile: inputs.profile } : {}),
    ...(ev.branch !== undefined ? { branch: ev.branch } : {}),
    ...(inputs.maxScore !== undefined ? { maxScore: inputs.maxScore } : {}),
    ...(inputs.failOnIncomplete === false ? { allowIncomplete: true } : {}),
    ...(inputs.warnOnly ? { warnOnly: true } : {}),
    ...(inputs.signatures !== undefined ? { signatures: inputs.signatures } : {}),
    baseDir: resolve(cwd),
    pinRoot: resolve(cwd),
    readFile: async (abs: string) => {
      const r = relative(resolve(cwd), abs).split('\\').join('/');
      if (r.startsWith('..') || isAbsolute(r)) throw new Error('outside the repository');
      const t = await read(r);
      if (t === undefined) throw new Error(fromBase ? 'not found at the base commit' : 'not found');
      return t;
    },
  });
  // An explicit input wins over the file both ways (e.g. `warn-only: false` on a file that says true).
  if (inputs.failOnIncomplete !== undefined) policy.failOnIncomplete = inputs.failOnIncomplete;
  if (inputs.warnOnly !== undefined) policy.warnOnly = inputs.warnOnly;
  // Recorded for attestations: the policy applied is the file's digest plus these (core/attest/vsa.ts).
  for (const [k, v] of [
    ['failOnIncomplete', inputs.failOnIncomplete],
    ['warnOnly', inputs.warnOnly],
  ] as const) {
    if (v !== undefined) policy.overrides = { ...policy.overrides, [k]: v };
  }

  if (headFile) {
    try {
      const headPolicy = await resolvePolicy({
        file: headFile,
        ...(ev.branch !== undefined ? { branch: ev.branch } : {}),
        baseDir: resolve(cwd),
        pinRoot: resolve(cwd),
        readFile: (abs: string) => readFile(abs, 'utf8'),
      });
      policy.pinChanges = diffPins(policy.pins, headPolicy.pins);
    } catch {
      // the head policy's problems are already reported above or surface once merged
    }
  }
  if (policy.profile) notes.push(`Profile: ${policy.profile}${ev.branch ? ` (branch ${ev.branch})` : ''}.`);
  const hash = createHash('sha256').update(JSON.stringify(policy)).digest('hex');
  return {
    policy,
    source: file ? where : 'built-in default policy',
    notes,
    hash,
    changedInChange,
    ...(file ? { fileRef: { path: rel, commit: fromBase ? ev.base : undefined } } : {}),
  };
}
