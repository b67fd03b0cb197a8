import { createHash, type KeyObject } from 'node:crypto';
import { resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILTIN_PROFILES } from '../policy/builtin.js';
import { DEFAULT_POLICY, type Policy } from '../policy/policy.js';
import { STATEMENT_V1 } from '../trust/manifest.js';
import { DSSE_INTOTO } from '../trust/signature.js';
import type { ScanReport } from '../types.js';
import { VERSION } from '../version.js';
import { type DsseEnvelope, makeEnvelope } from './dsse.js';

// "These exact bytes passed this exact policy": a SLSA Verification Summary Attestation (VSA) in an in-toto
// Statement. Specifications followed field by field:
//  - in-toto attestation framework v1, spec/v1/statement.md: {_type: https://in-toto.io/Statement/v1,
//    subject: [ResourceDescriptor with digest], predicateType, predicate}; resource_descriptor.md for the
//    subjects and the policy; field_types.md: Timestamp is RFC 3339 in UTC ("Z"); ResourceURI is RFC 3986,
//    RECOMMENDED as an SPDX download location (`git+https://host/repo@commit`) or package URL.
//  - SLSA VSA v1 (slsa.dev/spec/v1.0/verification_summary, github.com/slsa-framework/slsa
//    spec/verification_summary.md, change history to 1.2): predicateType https://slsa.dev/verification_summary/v1;
//    predicate.verifier.id (TypeURI, required), verifier.version (map component -> version), timeVerified,
//    resourceUri (required), policy (ResourceDescriptor: uri required, digest recommended),
//    verificationResult "PASSED" | "FAILED", verifiedLevels (required; custom values allowed but "MUST NOT"
//    start with `SLSA_`; "FAILED" when policy verification failed), slsaVersion "<MAJOR>.<MINOR>".

export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
export { DSSE_INTOTO, STATEMENT_V1 };
/** The verifier's identity (verifier.id): modelgate's home. */
export const VERIFIER_ID = 'https://github.com/modelgate/modelgate';
/** policy.uri when no policy file applied: the built-in default policy (and built-in profiles). */
export const BUILTIN_POLICY_URI = 'https://github.com/modelgate/modelgate#built-in-policy';
/** verifiedLevels entry of a passing scan; with a profile, MODELGATE_PROFILE_<NAME> is added. */
export const PASSED_LEVEL = 'MODELGATE_POLICY_PASSED';
/** The SLSA version whose VSA definition is followed (spec/verification_summary.md change history 1.2). */
export const SLSA_VERSION = '1.2';

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface VsaPredicate {
  verifier: { id: string; version: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: ResourceDescriptor;
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  slsaVersion: string;
}

export interface Statement {
  _type: typeof STATEMENT_V1;
  subject: ResourceDescriptor[];
  predicateType: typeof VSA_PREDICATE_TYPE;
  predicate: VsaPredicate;
}

export interface AttestOptions {
  /** What was scanned (predicate.resourceUri): `git+https://github.com/o/r@sha` in the action. */
  resourceUri: string;
  /** policy.uri of the policy file, when one applied (default: a file: URL of its path). */
  policyUri?: string;
  /** Default: now. */
  timeVerified?: Date;
}

/** RFC 8785-style canonical JSON (sorted keys, no whitespace) for the plain data a policy holds. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The built-in policy's canonical form: the default settings and the built-in profiles. */
export function builtinPolicyText(): string {
  return canonicalJson({ defaults: DEFAULT_POLICY, profiles: BUILTIN_PROFILES });
}

export function builtinPolicyDigest(): string {
  return createHash('sha256').update(builtinPolicyText(), 'utf8').digest('hex');
}

/** The policy the scan ran under, as the VSA's policy ResourceDescriptor. */
export function policyDescriptor(policy: Readonly<Policy>, policyUri?: string): ResourceDescriptor {
  const d: ResourceDescriptor = policy.file
    ? {
        uri: policyUri ?? pathToFileURL(resolve(policy.file.source)).href,
        digest: { sha256: policy.file.sha256 },
      }
    : { uri: BUILTIN_POLICY_URI, digest: { sha256: builtinPolicyDigest() } };
  // What the digest alone does not say: the profile chosen and settings replaced by flags or inputs.
  const annotations: Record<string, unknown> = {};
  if (policy.profile !== undefined) annotations.modelgateProfile = policy.profile;
  if (policy.overrides) annotations.modelgateOverrides = policy.overrides;
  if (Object.keys(annotations).length > 0) d.annotations = annotations;
  return d;
}

/** The verifiedLevels entry naming a profile: MODELGATE_PROFILE_STRICT for `strict`. */
export function profileLevel(profile: string): string {
  return `MODELGATE_PROFILE_${profile.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;
}

/**
 * PASSED when the policy did not block the scan. `warnOnly` does not make a blocking verdict pass: it only
 * keeps the job green, the verdict stays what the policy says.
 */
export function passed(report: Readonly<ScanReport>, policy: Readonly<Policy>): boolean {
  return !(report.verdict === 'block' || (report.verdict === 'incomplete' && policy.failOnIncomplete));
}

/**
 * The resourceUri of a CLI scan: a remote target's URI (hf://...) when it is the only target, else the file: URL
 * of the local path given, or of the folder the local paths share.
 */
export function resourceUriForPaths(targets: readonly string[]): string {
  const isUri = (t: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(t);
  const local = targets.filter((t) => !isUri(t));
  const remote = targets.filter(isUri);
  if (local.length === 0 && remote.length === 1) return remote[0]!;
  const abs = (local.length > 0 ? local : ['.']).map((p) => resolve(p));
  if (abs.length === 1) return pathToFileURL(abs[0]!).href;
  const parts = abs.map((p) => p.split(sep));
  const common: string[] = [];
  for (let i = 0; parts.every((p) => i < p.length && p[i] === parts[0]![i]); i++) common.push(parts[0]![i]!);
  return pathToFileURL(common.join(sep) || sep).href;
}

/** The statement for a finished scan: one subject per scanned file with a digest. */
export function buildStatement(
  report: Readonly<ScanReport>,
  policy: Readonly<Policy>,
  o: AttestOptions,
): Statement {
  const ok = passed(report, policy);
  const subject: ResourceDescriptor[] = report.files
    .filter((f) => /^[0-9a-f]{64}$/.test(f.sha256))
    .map((f) => ({ name: f.path, digest: { sha256: f.sha256 } }));
  return {
    _type: STATEMENT_V1,
    subject,
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: VERIFIER_ID, version: { modelgate: VERSION } },
      timeVerified: (o.timeVerified ?? new Date()).toISOString(),
      resourceUri: o.resourceUri,
      policy: policyDescriptor(policy, o.policyUri),
      verificationResult: ok ? 'PASSED' : 'FAILED',
      verifiedLevels: ok
        ? [PASSED_LEVEL, ...(policy.profile !== undefined ? [profileLevel(policy.profile)] : [])]
        : ['FAILED'],
      slsaVersion: SLSA_VERSION,
    },
  };
}

/** The DSSE envelope of a statement (in-toto envelope.md), signed when a key is given. */
export function envelopeFor(statement: Readonly<Statement>, key?: KeyObject): DsseEnvelope {
  return makeEnvelope(DSSE_INTOTO, Buffer.from(JSON.stringify(statement), 'utf8'), key);
}
