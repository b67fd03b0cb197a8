import {
  createHash,
  createPublicKey,
  verify as cryptoVerify,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import type { Bundle } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';
import picomatch from 'picomatch';
import { type Sigstore, sigstore } from '../lazy.js';
import type { TrustedIdentity, TrustedKey, TrustSettings } from '../policy/policy.js';
import bundledRoot from './trusted_root.json' with { type: 'json' };

// Verifies the signature layer of an OpenSSF model signature (model.sig) or any Sigstore DSSE bundle:
// bundle → DSSE envelope → who signed it, and whether the policy trusts them. The payload (the in-toto
// statement) is returned for the caller to check against the files (manifest.ts).
//
// Three methods, as model_signing produces them:
//  - key: `verificationMaterial.publicKey.hint`, no log entry. The DSSE signature is checked here with the
//    hash the curve calls for (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512; Ed25519 pure). @sigstore/verify
//    is not used for it: it verifies EC signatures with SHA-256 whatever the curve, so genuine P-384
//    signatures fail there (formats.md §7.2 caveat 2), and it wants a timestamp these bundles lack.
//  - certificate: `x509CertificateChain` [leaf, intermediates...], no log entry. @sigstore/bundle refuses a
//    chain in a v0.3 bundle, so the bundle is read with the protobuf-specs parser plus the base checks; the
//    chain is verified here up to a trusted CA certificate, at the leaf's notBefore (as model_signing does).
//  - sigstore: Fulcio certificate + Rekor entry (+ RFC 3161 timestamps), verified by @sigstore/verify
//    against the trusted root (bundled, or the policy's), thresholds 1/1/1. The identity (SAN) and issuer
//    are then compared with the trusted identities by exact string equality, never as a pattern.

export const DSSE_INTOTO = 'application/vnd.in-toto+json';

export type SignatureMethod = 'key' | 'certificate' | 'sigstore';

export interface SignerInfo {
  method: SignatureMethod;
  /** Human name: the trusted key's name, the certificate subject, or the Sigstore identity. */
  name: string;
  /** SHA-256 of the signing key's DER SubjectPublicKeyInfo, hex. */
  keyFingerprint: string;
  /** Sigstore keyless: certificate SAN (email or URI). */
  identity?: string;
  /** Sigstore keyless: OIDC issuer from the certificate. */
  issuer?: string;
  /** Certificate subject (certificate and sigstore methods). */
  subject?: string;
  /** The trusted key / CA / identity entry that matched. */
  trustedAs?: string;
}

export interface SignatureResult {
  method: SignatureMethod | 'unknown';
  /** The signature is cryptographically valid (and its chain, log entry and timestamps verify). */
  valid: boolean;
  /** Valid and made by a signer the policy trusts for this path. */
  trusted: boolean;
  signer?: SignerInfo;
  /** When it was signed, ISO 8601, from the transparency log or a timestamp authority. */
  signedAt?: string;
  signedAtSource?: 'transparency log' | 'timestamp authority';
  /** Why it is not valid, or not trusted. */
  problem?: string;
  /** The signature could not be checked at all: no trusted key or CA of its kind is configured. */
  unchecked?: boolean;
  /** The DSSE payload (when the envelope could be read), for the statement checks. */
  payloadType?: string;
  payload?: Buffer;
}

export class SignatureFormatError extends Error {
  override name = 'SignatureFormatError';
}

/**
 * Parses a Sigstore bundle (JSON text) with the base checks; a v0.3 bundle with a chain is accepted. Loads
 * the @sigstore packages on first use (src/core/lazy.ts).
 */
export async function parseBundle(text: string): Promise<Bundle> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SignatureFormatError(`not JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== 'object') throw new SignatureFormatError('not a Sigstore bundle');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !mediaType.startsWith('application/vnd.dev.sigstore.bundle')) {
    throw new SignatureFormatError(`not a Sigstore bundle (mediaType ${JSON.stringify(mediaType)})`);
  }
  const { bundle, specs } = await sigstore();
  try {
    const hasChain = Boolean(
      (json as { verificationMaterial?: { x509CertificateChain?: unknown } }).verificationMaterial
        ?.x509CertificateChain,
    );
    if (!hasChain) return bundle.bundleFromJSON(json);
    const b = specs.Bundle.fromJSON(json) as unknown as Bundle;
    // TypeScript calls an assertion function only through a name of declared type.
    const assertBundle: typeof import('@sigstore/bundle').assertBundle = bundle.assertBundle;
    assertBundle(b);
    return b;
  } catch (err) {
    throw new SignatureFormatError(`invalid Sigstore bundle: ${(err as Error).message}`);
  }
}

/** DSSE pre-authentication encoding. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(payloadType)} ${payloadType} ${payload.length} `, 'utf8'),
    payload,
  ]);
}

/** The digest a key's signatures use: the curve's for EC keys, none (pure) for Ed25519. */
export function hashForKey(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448') return null;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'sha256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'sha384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'sha512';
    throw new SignatureFormatError(`unsupported EC curve ${curve}`);
  }
  throw new SignatureFormatError(`unsupported key type ${key.asymmetricKeyType} (EC P-256/384/521, Ed25519)`);
}

export function keyFingerprint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

/** The `publicKey.hint` model_signing writes: SHA-256 of the key's SPKI PEM text. */
export function keyHint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'pem' }) as string)
    .digest('hex');
}

function inScope(paths: readonly string[] | undefined, folder: string): boolean {
  if (!paths || paths.length === 0) return true;
  return paths.some((g) => picomatch.isMatch(folder === '' ? '.' : folder, g, { dot: true }));
}

const rootCache = new Map<string, TrustMaterial>();
function trustMaterial(s: Sigstore, rootText: string | undefined): TrustMaterial {
  const key = rootText ?? '<bundled>';
  let tm = rootCache.get(key);
  if (!tm) {
    const json = rootText === undefined ? bundledRoot : JSON.parse(rootText);
    tm = s.verify.toTrustMaterial(s.specs.TrustedRoot.fromJSON(json));
    rootCache.set(key, tm);
  }
  return tm;
}

/**
 * Verifies a bundle's DSSE signature and decides whether its signer is trusted for `folder` (a path relative
 * to the scanned root, used with the trusted signers' `paths` globs). Never throws for a bad signature:
 * problems are returned in `problem`.
 */
export async function verifyBundleSignature(
  bundle: Bundle,
  trust: Readonly<TrustSettings>,
  folder: string,
): Promise<SignatureResult> {
  const s = await sigstore();
  const content = bundle.content;
  if (content.$case !== 'dsseEnvelope') {
    return { method: 'unknown', valid: false, trusted: false, problem: 'the bundle holds no DSSE envelope' };
  }
  const env = content.dsseEnvelope;
  const base = { payloadType: env.payloadType, payload: Buffer.from(env.payload) };
  if (env.signatures.length !== 1) {
    return {
      ...base,
      method: 'unknown',
      valid: false,
      trusted: false,
      problem: `the DSSE envelope has ${env.signatures.length} signatures (exactly 1 expected)`,
    };
  }
  const sig = Buffer.from(env.signatures[0]!.sig);
  const message = pae(env.payloadType, base.payload);
  const vm = bundle.verificationMaterial.content;
  switch (vm.$case) {
    case 'publicKey':
      return { ...base, ...verifyWithKeys(vm.publicKey.hint, message, sig, trust.keys, folder) };
    case 'x509CertificateChain':
      return {
        ...base,
        ...verifyChain(
          s,
          vm.x509CertificateChain.certificates.map((c) => Buffer.from(c.rawBytes)),
          message,
          sig,
          trust.keys,
          folder,
        ),
      };
    case 'certificate':
      return { ...base, ...verifySigstore(s, bundle, trust, folder) };
    default:
      return {
        ...base,
        method: 'unknown',
        valid: false,
        trusted: false,
        problem: 'no verification material',
      };
  }
}

function verifyWithKeys(
  hint: string,
  message: Buffer,
  sig: Buffer,
  keys: readonly TrustedKey[],
  folder: string,
): SignatureResult {
  const candidates = keys.filter((k) => !k.pem.includes('-----BEGIN CERTIFICATE-----'));
  // Hint-matching keys first; the hint is unsigned metadata, so every trusted key is tried.
  const parsed = candidates.map((k) => ({ k, key: createPublicKey(k.pem) }));
  parsed.sort((a, b) => Number(keyHint(b.key) === hint) - Number(keyHint(a.key) === hint));
  for (const { k, key } of parsed) {
    let ok = false;
    try {
      ok = cryptoVerify(hashForKey(key), message, key, sig);
    } catch {
      ok = false;
    }
    if (!ok) continue;
    const signer: SignerInfo = {
      method: 'key',
      name: k.name,
      keyFingerprint: keyFingerprint(key),
      trustedAs: k.name,
    };
    if (!inScope(k.paths, folder)) {
      const { trustedAs: _t, ...untrusted } = signer;
      return {
        method: 'key',
        valid: true,
        trusted: false,
        signer: untrusted,
        problem: `signed by trusted key ${k.name}, which is not trusted for ${folder || '.'} (paths: ${k.paths!.join(', ')})`,
      };
    }
    return { method: 'key', valid: true, trusted: true, signer };
  }
  if (candidates.length === 0) {
    return {
      method: 'key',
      valid: false,
      trusted: false,
      unchecked: true,
      problem: `signed with a public key (hint ${hint || 'none'}) and no trusted key is configured to check it`,
    };
  }
  // A hint that names none of the trusted keys: signed by some other key (or forged); either way not trusted.
  const hinted = hint !== '' && parsed.some(({ key }) => keyHint(key) === hint);
  if (hint !== '' && !hinted) {
    return {
      method: 'key',
      valid: false,
      trusted: false,
      unchecked: true,
      problem: `signed with a public key that is not trusted (key hint ${hint})`,
    };
  }
  return {
    method: 'key',
    valid: false,
    trusted: false,
    problem: `the signature does not verify with the trusted key${hinted ? ' its hint names' : 's'} (key hint ${hint || 'none'})`,
  };
}

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

function verifyChain(
  s: Sigstore,
  ders: Buffer[],
  message: Buffer,
  sig: Buffer,
  keys: readonly TrustedKey[],
  folder: string,
): SignatureResult {
  const fail = (problem: string): SignatureResult => ({
    method: 'certificate',
    valid: false,
    trusted: false,
    problem,
  });
  if (ders.length === 0) return fail('the certificate chain is empty');
  let chain: X509Certificate[];
  try {
    chain = ders.map((d) => new X509Certificate(d));
  } catch (err) {
    return fail(`unreadable certificate in the chain: ${(err as Error).message}`);
  }
  const leaf = chain[0]!;
  const leafKey = leaf.publicKey;
  // 1. The signature, with the leaf's key and the curve's hash.
  let sigOk = false;
  try {
    sigOk = cryptoVerify(hashForKey(leafKey), message, leafKey, sig);
  } catch (err) {
    return fail(`cannot verify with the leaf certificate's key: ${(err as Error).message}`);
  }
  if (!sigOk) return fail('the signature does not verify with the leaf certificate in the bundle');
  // 2. The leaf may sign code.
  const sc = s.core.X509Certificate.parse(Buffer.from(ders[0]!));
  const ku = sc.extKeyUsage; // @sigstore/core names the KeyUsage (2.5.29.15) extension so
  const eku = leaf.keyUsage ?? [];
  if (!(ku?.digitalSignature || eku.includes(CODE_SIGNING))) {
    return fail('the leaf certificate allows neither digitalSignature nor codeSigning');
  }
  const at = new Date(leaf.validFrom);
  const subject = leaf.subject.replace(/\n/g, ', ');
  const signer: SignerInfo = {
    method: 'certificate',
    name: subject || leaf.subjectAltName || 'certificate',
    keyFingerprint: keyFingerprint(leafKey),
    subject,
  };
  if (leaf.subjectAltName) signer.identity = leaf.subjectAltName;
  // 3. The chain, link by link, valid at the leaf's notBefore, intermediates being CAs.
  const validAt = (c: X509Certificate) => new Date(c.validFrom) <= at && at <= new Date(c.validTo);
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i]!;
    if (!validAt(c)) return fail(`certificate ${i} (${c.subject}) is not valid at ${at.toISOString()}`);
    if (i > 0 && !c.ca)
      return fail(`certificate ${i} (${c.subject}) is not a CA but issues certificate ${i - 1}`);
    const next = chain[i + 1];
    if (next && !(c.checkIssued(next) && c.verify(next.publicKey))) {
      return fail(`certificate ${i} (${c.subject}) is not signed by certificate ${i + 1} (${next.subject})`);
    }
  }
  // 4. The top of the chain is a trusted CA, or is issued by one.
  const top = chain[chain.length - 1]!;
  const anchors = keys.filter((k) => k.pem.includes('-----BEGIN CERTIFICATE-----'));
  if (anchors.length === 0) {
    return {
      method: 'certificate',
      valid: false,
      trusted: false,
      unchecked: true,
      signer,
      problem: 'signed with a certificate chain and no trusted CA certificate is configured to check it',
    };
  }
  for (const k of anchors) {
    let ca: X509Certificate;
    try {
      ca = new X509Certificate(k.pem);
    } catch {
      continue;
    }
    const isAnchor =
      top.raw.equals(ca.raw) || (top.checkIssued(ca) && top.verify(ca.publicKey) && ca.ca && validAt(ca));
    if (!isAnchor) continue;
    if (!inScope(k.paths, folder)) {
      return {
        method: 'certificate',
        valid: true,
        trusted: false,
        signer,
        problem: `the chain ends at trusted CA ${k.name}, which is not trusted for ${folder || '.'}`,
      };
    }
    return { method: 'certificate', valid: true, trusted: true, signer: { ...signer, trustedAs: k.name } };
  }
  return {
    method: 'certificate',
    valid: false,
    trusted: false,
    unchecked: true,
    signer,
    problem: `the certificate chain (top: ${top.subject.replace(/\n/g, ', ')}, issuer ${top.issuer.replace(/\n/g, ', ')}) does not lead to a trusted CA certificate`,
  };
}

function verifySigstore(
  s: Sigstore,
  bundle: Bundle,
  trust: Readonly<TrustSettings>,
  folder: string,
): SignatureResult {
  let signerKey: KeyObject;
  let san: string | undefined;
  let issuer: string | undefined;
  try {
    const tm = trustMaterial(s, trust.trustedRoot);
    const verifier = new s.verify.Verifier(tm, {
      tlogThreshold: 1,
      ctlogThreshold: 1,
      timestampThreshold: 1,
    });
    const signed = verifier.verify(s.verify.toSignedEntity(bundle));
    signerKey = signed.key;
    san = signed.identity?.subjectAlternativeName;
    issuer = signed.identity?.extensions?.issuer;
  } catch (err) {
    const e = err as Error & { code?: string };
    return {
      method: 'sigstore',
      valid: false,
      trusted: false,
      problem: `Sigstore verification failed against the ${trust.trustedRootSource ? `trusted root ${trust.trustedRootSource}` : 'bundled trusted root'}: ${e.code ? `${e.code}: ` : ''}${e.message}`,
    };
  }
  const time = signingTime(s, bundle);
  const signer: SignerInfo = {
    method: 'sigstore',
    name: san ?? 'unknown identity',
    keyFingerprint: keyFingerprint(signerKey),
    ...(san ? { identity: san } : {}),
    ...(issuer ? { issuer } : {}),
  };
  const timeFields = time ? { signedAt: time.at, signedAtSource: time.source } : {};
  // Exact comparison of both strings: `stefanb@us.ibm.co` must not match `stefanb@us.ibm.com`.
  const matches = (t: TrustedIdentity) => san !== undefined && t.identity === san && t.issuer === issuer;
  const hit = trust.identities.find(matches);
  if (!hit) {
    return {
      method: 'sigstore',
      valid: true,
      trusted: false,
      signer,
      ...timeFields,
      problem:
        trust.identities.length === 0
          ? `signed by ${san} (issuer ${issuer}); no trusted Sigstore identity is configured`
          : `signed by ${san} (issuer ${issuer}), which is not a trusted identity and issuer pair`,
    };
  }
  if (!inScope(hit.paths, folder)) {
    return {
      method: 'sigstore',
      valid: true,
      trusted: false,
      signer,
      ...timeFields,
      problem: `identity ${san} is trusted, but not for ${folder || '.'}`,
    };
  }
  return {
    method: 'sigstore',
    valid: true,
    trusted: true,
    signer: { ...signer, trustedAs: `${hit.identity} (${hit.issuer})` },
    ...timeFields,
  };
}

/** The signing time the verifier relied on: the log's integrated time, else an RFC 3161 timestamp. */
function signingTime(
  s: Sigstore,
  bundle: Bundle,
): { at: string; source: 'transparency log' | 'timestamp authority' } | undefined {
  for (const e of bundle.verificationMaterial.tlogEntries) {
    const t = Number(e.integratedTime);
    if (Number.isFinite(t) && t > 0)
      return { at: new Date(t * 1000).toISOString(), source: 'transparency log' };
  }
  for (const ts of bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []) {
    try {
      const at = s.core.RFC3161Timestamp.parse(Buffer.from(ts.signedTimestamp)).signingTime;
      return { at: at.toISOString(), source: 'timestamp authority' };
    } catch {
      // Unreadable here means unverified by the verifier too; it would have failed before this point.
    }
  }
  return undefined;
}
