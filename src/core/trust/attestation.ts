import { X509Certificate } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bundle } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';
import { type Sigstore, sigstore } from '../lazy.js';
import type { TrustSettings } from '../policy/policy.js';
import bundledRoot from './trusted_root.json' with { type: 'json' };

// GitHub artifact attestations (`actions/attest-build-provenance`, `gh attestation download`): Sigstore
// bundles whose DSSE payload is an in-toto statement naming files by digest, usually with SLSA provenance
// (`https://slsa.dev/provenance/v1`). Found next to model files as `*.sigstore.json`, `*.sigstore`,
// `*.intoto.jsonl`, `*.attestation.json[l]` or `sha256:<hex>.jsonl` (one bundle, one bundle per line, or the
// API's `{attestations: [{bundle}]}`). Verified offline against the trusted root (public-good thresholds
// 1/1/1; GitHub's own Sigstore instance, leaf issued by "GitHub, Inc.", needs 1 RFC 3161 timestamp and a
// trusted root that holds that instance: pass `gh attestation trusted-root` output with --trusted-root).

export const ATTESTATION_FILE =
  /(\.sigstore\.json|\.sigstore|\.intoto\.jsonl|\.attestation\.jsonl?|^sha256:[0-9a-f]{64}\.jsonl)$/i;
const MAX = 8 << 20;
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';

export interface Provenance {
  /** The workflow that built the artifact: SAN of the signing certificate (workflow file @ ref). */
  workflow?: string;
  repository?: string;
  ref?: string;
  workflowPath?: string;
  builderId?: string;
  runnerEnvironment?: string;
  buildType?: string;
}

export interface AttestationReport {
  /** The attestation file (relative to the model folder) and the entry index inside it. */
  file: string;
  index: number;
  verified: boolean;
  trusted: boolean;
  predicateType?: string;
  identity?: string;
  issuer?: string;
  signedAt?: string;
  /** Subjects of the statement; `file` is set when a file of the folder has that digest. */
  subjects: Array<{ name: string; sha256?: string; file?: string }>;
  provenance?: Provenance;
  problem?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readText(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    if (st.size > MAX) throw new Error(`larger than ${MAX} bytes`);
    const buf = Buffer.alloc(st.size);
    await fh.read(buf, 0, st.size, 0);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The bundles an attestation file holds: a bundle, JSON lines of bundles, or the API's wrapper. */
export function bundlesIn(text: string): unknown[] {
  const unwrap = (j: unknown): unknown[] => {
    if (isObj(j) && Array.isArray(j.attestations)) return j.attestations.flatMap(unwrap);
    if (isObj(j) && isObj(j.bundle)) return [j.bundle];
    return [j];
  };
  const t = text.trim();
  try {
    return unwrap(JSON.parse(t));
  } catch {
    return t
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .flatMap((l) => unwrap(JSON.parse(l)));
  }
}

/** What a SLSA v1 provenance predicate (GitHub Actions build type) says about the build. */
export function describeProvenance(predicate: unknown, san?: string): Provenance {
  const out: Provenance = {};
  if (san) out.workflow = san;
  if (!isObj(predicate)) return out;
  const bd = isObj(predicate.buildDefinition) ? predicate.buildDefinition : {};
  if (typeof bd.buildType === 'string') out.buildType = bd.buildType;
  const ext = isObj(bd.externalParameters) ? bd.externalParameters : {};
  const wf = isObj(ext.workflow) ? ext.workflow : {};
  if (typeof wf.repository === 'string') out.repository = wf.repository;
  if (typeof wf.ref === 'string') out.ref = wf.ref;
  if (typeof wf.path === 'string') out.workflowPath = wf.path;
  const internal =
    isObj(bd.internalParameters) && isObj(bd.internalParameters.github) ? bd.internalParameters.github : {};
  if (typeof internal.runner_environment === 'string') out.runnerEnvironment = internal.runner_environment;
  const rd = isObj(predicate.runDetails) ? predicate.runDetails : {};
  if (isObj(rd.builder) && typeof rd.builder.id === 'string') out.builderId = rd.builder.id;
  return out;
}

const tmCache = new Map<string, TrustMaterial>();
function trustMaterial(s: Sigstore, rootText: string | undefined): TrustMaterial {
  const key = rootText ?? '<bundled>';
  let tm = tmCache.get(key);
  if (!tm) {
    tm = s.verify.toTrustMaterial(
      s.specs.TrustedRoot.fromJSON(rootText === undefined ? bundledRoot : JSON.parse(rootText)),
    );
    tmCache.set(key, tm);
  }
  return tm;
}

/**
 * Verifies one attestation bundle; `byDigest` maps sha256 → file names of the folder. `s`: the @sigstore
 * packages (loaded by folderAttestations when a folder has attestations).
 */
export function verifyAttestation(
  s: Sigstore,
  json: unknown,
  trust: Readonly<TrustSettings>,
  byDigest: ReadonlyMap<string, string>,
  file: string,
  index: number,
): AttestationReport {
  const rep: AttestationReport = { file, index, verified: false, trusted: false, subjects: [] };
  let bundle: Bundle;
  try {
    bundle = s.bundle.bundleFromJSON(json);
  } catch (err) {
    rep.problem = `not a valid Sigstore bundle: ${(err as Error).message}`;
    return rep;
  }
  if (bundle.content.$case !== 'dsseEnvelope') {
    rep.problem = 'the bundle holds no DSSE envelope (not an attestation)';
    return rep;
  }
  let st: Obj;
  try {
    st = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
  } catch {
    rep.problem = 'the DSSE payload is not JSON';
    return rep;
  }
  if (typeof st.predicateType === 'string') rep.predicateType = st.predicateType;
  for (const s of Array.isArray(st.subject) ? st.subject : []) {
    if (!isObj(s)) continue;
    const d =
      isObj(s.digest) && typeof s.digest.sha256 === 'string' ? s.digest.sha256.toLowerCase() : undefined;
    const match = d ? byDigest.get(d) : undefined;
    rep.subjects.push({
      name: String(s.name ?? ''),
      ...(d ? { sha256: d } : {}),
      ...(match ? { file: match } : {}),
    });
  }
  // GitHub's own Sigstore instance issues leaves from "GitHub, Inc." and relies on a TSA, not on logs.
  let githubInstance = false;
  const vm = bundle.verificationMaterial.content;
  const leafDer =
    vm.$case === 'certificate'
      ? vm.certificate.rawBytes
      : vm.$case === 'x509CertificateChain'
        ? vm.x509CertificateChain.certificates[0]?.rawBytes
        : undefined;
  if (leafDer) {
    try {
      githubInstance = /O=GitHub, Inc\./.test(new X509Certificate(Buffer.from(leafDer)).issuer);
    } catch {
      // The verifier reports the unreadable certificate.
    }
  }
  try {
    const thresholds = githubInstance
      ? { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 }
      : { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 };
    const signer = new s.verify.Verifier(trustMaterial(s, trust.trustedRoot), thresholds).verify(
      s.verify.toSignedEntity(bundle),
    );
    rep.verified = true;
    if (signer.identity?.subjectAlternativeName) rep.identity = signer.identity.subjectAlternativeName;
    if (signer.identity?.extensions?.issuer) rep.issuer = signer.identity.extensions.issuer;
  } catch (err) {
    const e = err as Error & { code?: string };
    rep.problem = `does not verify against the ${trust.trustedRootSource ? `trusted root ${trust.trustedRootSource}` : 'bundled trusted root'}: ${e.code ? `${e.code}: ` : ''}${e.message}`;
    return rep;
  }
  const t = bundle.verificationMaterial.tlogEntries.find((e) => Number(e.integratedTime) > 0);
  if (t) rep.signedAt = new Date(Number(t.integratedTime) * 1000).toISOString();
  if (rep.predicateType === SLSA_V1) rep.provenance = describeProvenance(st.predicate, rep.identity);
  // Exact identity and issuer, as for model signatures; with no identities configured, reported only.
  if (trust.identities.length === 0) rep.trusted = true;
  else {
    rep.trusted = trust.identities.some((i) => i.identity === rep.identity && i.issuer === rep.issuer);
    if (!rep.trusted)
      rep.problem = `made by ${rep.identity} (${rep.issuer}), which is not a trusted identity`;
  }
  if (rep.trusted && !rep.subjects.some((s) => s.file)) {
    rep.problem = 'it names no file of this folder (no subject digest matches)';
  }
  return rep;
}

/** Finds and verifies the attestations in a folder (top level only). */
export async function folderAttestations(
  dir: string,
  trust: Readonly<TrustSettings>,
  /** sha256 → file name in the folder; asked only when the folder holds attestations. */
  byDigest: () => ReadonlyMap<string, string>,
): Promise<AttestationReport[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => ATTESTATION_FILE.test(n)).sort();
  } catch {
    return [];
  }
  if (names.length === 0) return [];
  const s = await sigstore();
  const out: AttestationReport[] = [];
  const digests = byDigest();
  for (const name of names) {
    let entries: unknown[];
    try {
      entries = bundlesIn(await readText(join(dir, name)));
    } catch (err) {
      out.push({
        file: name,
        index: 0,
        verified: false,
        trusted: false,
        subjects: [],
        problem: `unreadable: ${(err as Error).message}`,
      });
      continue;
    }
    entries.slice(0, 100).forEach((j, i) => {
      out.push(verifyAttestation(s, j, trust, digests, name, i));
    });
  }
  return out;
}
