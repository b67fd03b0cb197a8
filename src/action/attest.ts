import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { attest } from '@actions/attest';
import { buildStatement, type Statement, VSA_PREDICATE_TYPE } from '../core/attest/vsa.js';
import type { Policy } from '../core/policy/policy.js';
import type { ScanReport } from '../core/types.js';

// The action's `attest` input: the VSA of this run (built by src/core/attest) written as a file, and
// published as a GitHub artifact attestation through @actions/attest: Sigstore keyless (an OIDC token from
// the job, `id-token: write`; a Fulcio certificate; Rekor for public repositories, GitHub's timestamp
// authority for private ones), stored with POST /repos/{owner}/{repo}/attestations (`attestations: write`).
// `gh attestation verify FILE --repo o/r --predicate-type https://slsa.dev/verification_summary/v1` then
// checks it at deployment.

export type AttestFn = typeof attest;

/** `git+https://github.com/o/r@sha`: an SPDX download location, the ResourceURI form in-toto recommends. */
export function repoUri(env: NodeJS.ProcessEnv, commit: string | undefined): string | undefined {
  if (!env.GITHUB_REPOSITORY || !commit) return undefined;
  const server = new URL(env.GITHUB_SERVER_URL || 'https://github.com');
  return `git+${server.protocol}//${server.host.toLowerCase()}/${env.GITHUB_REPOSITORY}@${commit}`;
}

export interface AttestRun {
  /** The statement file to write (workspace-relative). */
  file: string;
  /** Publish a GitHub artifact attestation (only of a PASSED summary). */
  publish: boolean;
  token: string;
  /** The policy file as applied: repository path and the commit it was read at. */
  policyRef?: { path: string; commit: string | undefined };
}

export interface AttestResult {
  statement: Statement;
  file: string;
  /** Id of the stored GitHub attestation, when published. */
  attestationId?: string;
  /** Why nothing was published. */
  notPublished?: string;
}

/** Builds the statement of this run, writes it, and publishes it when asked and PASSED. */
export async function attestRun(
  workspace: string,
  report: ScanReport,
  policy: Readonly<Policy>,
  run: AttestRun,
  env: NodeJS.ProcessEnv,
  publish: AttestFn = attest,
): Promise<AttestResult> {
  // The policy file at the commit it was read from (the base commit on pull requests), as a git URI.
  const ref = run.policyRef;
  const at = ref ? repoUri(env, ref.commit ?? env.GITHUB_SHA) : undefined;
  const policyUri = ref
    ? at
      ? `${at}#${ref.path}`
      : pathToFileURL(resolve(workspace, ref.path)).href
    : undefined;
  const statement = buildStatement(report, policy, {
    resourceUri: repoUri(env, env.GITHUB_SHA) ?? pathToFileURL(workspace).href,
    ...(policyUri ? { policyUri } : {}),
  });
  const path = resolve(workspace, run.file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(statement, null, 2)}\n`);
  const out: AttestResult = { statement, file: run.file };
  if (!run.publish) return out;
  if (statement.predicate.verificationResult !== 'PASSED') {
    // Only passing summaries are published: `gh attestation verify` checks who signed, not the result, so the
    // presence of a verifiable modelgate VSA for a digest must mean it passed.
    out.notPublished = 'the scan did not pass (verificationResult FAILED); nothing was published';
    return out;
  }
  if (statement.subject.length === 0) {
    out.notPublished = 'no file was scanned; there is nothing to attest';
    return out;
  }
  const r = await publish({
    subjects: statement.subject.map((s) => ({ name: s.name ?? '_', digest: s.digest ?? {} })),
    predicateType: VSA_PREDICATE_TYPE,
    predicate: statement.predicate,
    token: run.token,
  });
  if (r.attestationID) out.attestationId = r.attestationID;
  return out;
}
