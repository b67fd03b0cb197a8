import type { KeyObject } from 'node:crypto';
import { keyFingerprint, SignatureFormatError } from '../trust/signature.js';
import { parseEnvelope, verifyEnvelope } from './dsse.js';
import {
  DSSE_INTOTO,
  PASSED_LEVEL,
  STATEMENT_V1,
  type Statement,
  VERIFIER_ID,
  VSA_PREDICATE_TYPE,
} from './vsa.js';

// What a deployment gate checks before it lets model bytes through, in the order of the SLSA VSA spec's "How
// to verify" (spec/verification_summary.md): 1. the envelope's signature with the preconfigured keys (DSSE
// protocol.md: verify, then reject unsupported payload types, then parse the very bytes verified); 2. every
// artifact's digest is a subject digest (statement.md: "Subject artifacts are matched purely by digest");
// 3. predicateType; 4. verifier.id is modelgate's; 5. resourceUri when the caller expects one; 6.
// verificationResult PASSED; 7. verifiedLevels holds the expected values. Plus the policy digest when given.
// Nothing in an unauthenticated payload is believed: a signature failure stops the checks there.

export interface VerifyAttestationOptions {
  /** Public keys (ECDSA P-256/384/521, Ed25519) trusted to sign attestations. */
  trustedKeys: readonly KeyObject[];
  /** The artifacts to admit: a display name and their SHA-256 (hex). */
  files: ReadonlyArray<{ path: string; sha256: string }>;
  /** The policy's expected SHA-256 (hex): of the policy file's bytes, or the built-in policy's digest. */
  policyDigest?: string;
  /** Expected predicate.resourceUri. */
  resourceUri?: string;
  /** Values predicate.verifiedLevels must contain (besides MODELGATE_POLICY_PASSED). */
  verifiedLevels?: readonly string[];
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface AttestationVerification {
  ok: boolean;
  checks: Check[];
  /** The signing key's SHA-256 fingerprint (DER SubjectPublicKeyInfo), when a signature verified. */
  signer?: string;
  statement?: Statement;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const IN_TOTO_TYPE = /^application\/vnd\.in-toto(\.[a-z0-9_-]+)?\+json$/;

/** Verifies an attestation (DSSE envelope JSON text); never throws for a bad attestation. */
export function verifyAttestationText(text: string, o: VerifyAttestationOptions): AttestationVerification {
  const checks: Check[] = [];
  const done = (): AttestationVerification => ({ ok: checks.every((c) => c.ok), checks });
  const check = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    return ok;
  };

  let parsed: ReturnType<typeof parseEnvelope>;
  try {
    parsed = parseEnvelope(text);
  } catch (err) {
    if (!(err instanceof SignatureFormatError)) throw err;
    check('envelope', false, `not a DSSE envelope: ${err.message}`);
    return done();
  }
  const { envelope, payload } = parsed;
  const sig = verifyEnvelope(envelope, payload, o.trustedKeys);
  const signer = sig.key ? keyFingerprint(sig.key) : undefined;
  if (!check('signature', sig.key !== undefined, sig.problem ?? `signed by trusted key sha256:${signer}`)) {
    return done();
  }
  if (
    !check(
      'payload type',
      IN_TOTO_TYPE.test(envelope.payloadType),
      `${envelope.payloadType}${IN_TOTO_TYPE.test(envelope.payloadType) ? '' : ` (expected ${DSSE_INTOTO})`}`,
    )
  ) {
    return { ...done(), ...(signer ? { signer } : {}) };
  }
  let st: Obj;
  try {
    const j: unknown = JSON.parse(payload.toString('utf8'));
    if (!isObj(j)) throw new Error('not a JSON object');
    st = j;
  } catch (err) {
    check('statement', false, `the payload is not a JSON statement: ${(err as Error).message}`);
    return { ...done(), ...(signer ? { signer } : {}) };
  }
  const result = (): AttestationVerification => ({
    ...done(),
    ...(signer ? { signer } : {}),
    statement: st as unknown as Statement,
  });

  check(
    'statement type',
    st._type === STATEMENT_V1,
    `_type ${JSON.stringify(st._type)}${st._type === STATEMENT_V1 ? '' : ` (expected ${STATEMENT_V1})`}`,
  );
  check(
    'predicate type',
    st.predicateType === VSA_PREDICATE_TYPE,
    `${JSON.stringify(st.predicateType)}${st.predicateType === VSA_PREDICATE_TYPE ? '' : ` (expected ${VSA_PREDICATE_TYPE})`}`,
  );
  const pred: Obj = isObj(st.predicate) ? st.predicate : {};
  const verifier = isObj(pred.verifier) ? pred.verifier : {};
  check(
    'verifier',
    verifier.id === VERIFIER_ID,
    `verifier.id ${JSON.stringify(verifier.id)}${verifier.id === VERIFIER_ID ? '' : ` (expected ${VERIFIER_ID})`}`,
  );
  check(
    'verification result',
    pred.verificationResult === 'PASSED',
    `verificationResult ${JSON.stringify(pred.verificationResult)}${pred.verificationResult === 'PASSED' ? '' : ' (expected "PASSED")'}`,
  );
  const levels = Array.isArray(pred.verifiedLevels)
    ? pred.verifiedLevels.filter((l) => typeof l === 'string')
    : [];
  const wanted = [PASSED_LEVEL, ...(o.verifiedLevels ?? [])];
  const missingLevels = wanted.filter((l) => !levels.includes(l));
  check(
    'verified levels',
    missingLevels.length === 0,
    `[${levels.join(', ')}]${missingLevels.length ? ` lacks ${missingLevels.join(', ')}` : ''}`,
  );
  if (o.resourceUri !== undefined) {
    check(
      'resource',
      pred.resourceUri === o.resourceUri,
      `resourceUri ${JSON.stringify(pred.resourceUri)}${pred.resourceUri === o.resourceUri ? '' : ` (expected ${o.resourceUri})`}`,
    );
  }
  if (o.policyDigest !== undefined) {
    const policy = isObj(pred.policy) ? pred.policy : {};
    const digest = isObj(policy.digest) ? policy.digest.sha256 : undefined;
    const want = o.policyDigest.toLowerCase();
    const same = typeof digest === 'string' && digest.toLowerCase() === want;
    check(
      'policy',
      same,
      same
        ? `${String(policy.uri)} sha256:${want}`
        : `policy digest ${typeof digest === 'string' ? `sha256:${digest}` : 'missing'} (expected sha256:${want})`,
    );
    // The digest names the policy file; settings that flags or inputs replaced make it another policy.
    const overrides = isObj(policy.annotations) ? policy.annotations.modelgateOverrides : undefined;
    if (same && overrides !== undefined) {
      check(
        'policy overrides',
        false,
        `the scan replaced settings of that policy: ${JSON.stringify(overrides)} (the policy applied was not exactly the file)`,
      );
    }
  }

  const subjects = Array.isArray(st.subject) ? st.subject.filter(isObj) : [];
  const digests = new Set<string>();
  for (const s of subjects) {
    if (isObj(s.digest) && typeof s.digest.sha256 === 'string') digests.add(s.digest.sha256.toLowerCase());
  }
  for (const f of o.files) {
    const ok = digests.has(f.sha256.toLowerCase());
    check(
      `subject ${f.path}`,
      ok,
      ok
        ? `sha256:${f.sha256}`
        : `sha256:${f.sha256} is not a subject of the attestation (a file it does not cover, or changed bytes)`,
    );
  }
  return result();
}
