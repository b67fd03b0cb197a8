import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { hashForKey, keyFingerprint, pae, SignatureFormatError } from '../trust/signature.js';

// The DSSE JSON envelope, signed and verified with a local key. Specifications:
//  - DSSE v1.0.2 protocol (github.com/secure-systems-lab/dsse protocol.md): SIGNATURE =
//    Sign(PAE(UTF8(PAYLOAD_TYPE), SERIALIZED_BODY)); the PAE is the one model signatures use (trust/signature.ts
//    `pae`: one mechanism for both). KEYID is an unauthenticated hint: it "MUST NOT be used for security
//    decisions", so every trusted key is tried whatever it says.
//  - DSSE envelope.md: {payload: Base64(SERIALIZED_BODY), payloadType, signatures: [{keyid, sig: Base64}]};
//    `payload`, `payloadType`, `signatures` are required even when empty (an unsigned envelope has
//    `signatures: []`); standard and URL-safe base64 must both be accepted.
//  - in-toto attestation v1 envelope.md: payloadType `application/vnd.in-toto+json`, payload a Statement.
// Signature algorithms: the DSSE spec leaves Sign() to the parties; we sign as Sigstore and cosign do (ECDSA
// DER with the curve's hash, Ed25519 pure) and also accept the raw r||s ECDSA encoding of the DSSE test vector.

export interface DsseSignature {
  keyid?: string;
  sig: string;
}

export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: DsseSignature[];
}

/** Reads a private key (PEM: PKCS#8, SEC1 "EC PRIVATE KEY") that modelgate can sign with. */
export function loadSigningKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new SignatureFormatError(`not a PEM private key: ${(err as Error).message}`);
  }
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (!(type === 'ed25519' || (type === 'ec' && (curve === 'prime256v1' || curve === 'P-256')))) {
    throw new SignatureFormatError(
      `unsupported signing key ${type}${curve ? ` ${curve}` : ''} (ECDSA P-256 or Ed25519)`,
    );
  }
  return key;
}

/** The keyid modelgate writes: SHA-256 of the public key's DER SubjectPublicKeyInfo (as `verify` prints it). */
export function keyIdOf(key: KeyObject): string {
  return keyFingerprint(key.type === 'private' ? createPublicKey(key) : key);
}

/** An envelope for `payload`; signed with `key` when given, else with no signatures. */
export function makeEnvelope(payloadType: string, payload: Buffer, key?: KeyObject): DsseEnvelope {
  const env: DsseEnvelope = { payload: payload.toString('base64'), payloadType, signatures: [] };
  if (key) {
    const pub = createPublicKey(key);
    const sig = sign(hashForKey(pub), pae(payloadType, payload), key);
    env.signatures.push({ keyid: keyIdOf(pub), sig: sig.toString('base64') });
  }
  return env;
}

/** Decodes standard or URL-safe base64, refusing anything else (Node's decoder silently skips bad bytes). */
export function decodeBase64(s: string): Buffer | undefined {
  const t = s.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/_-]*$/.test(t) || t.length % 4 === 1) return undefined;
  return Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Parses the JSON envelope (DSSE parsing rules); throws SignatureFormatError naming what is wrong. */
export function parseEnvelope(text: string): { envelope: DsseEnvelope; payload: Buffer } {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (err) {
    throw new SignatureFormatError(`not JSON: ${(err as Error).message}`);
  }
  const o = j as Partial<Record<keyof DsseEnvelope, unknown>>;
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new SignatureFormatError('not a DSSE envelope');
  if (typeof o.payload !== 'string') throw new SignatureFormatError('the envelope has no payload');
  if (typeof o.payloadType !== 'string') throw new SignatureFormatError('the envelope has no payloadType');
  if (!Array.isArray(o.signatures)) throw new SignatureFormatError('the envelope has no signatures array');
  const signatures: DsseSignature[] = o.signatures.map((s, i) => {
    const e = s as { keyid?: unknown; sig?: unknown };
    if (!s || typeof s !== 'object' || typeof e.sig !== 'string') {
      throw new SignatureFormatError(`signature ${i} has no sig`);
    }
    return { sig: e.sig, ...(typeof e.keyid === 'string' && e.keyid !== '' ? { keyid: e.keyid } : {}) };
  });
  const payload = decodeBase64(o.payload);
  if (!payload) throw new SignatureFormatError('the payload is not base64');
  return { envelope: { payload: o.payload, payloadType: o.payloadType, signatures }, payload };
}

export interface EnvelopeVerification {
  /** Index of the signature that verified and the trusted key it verified with. */
  signature?: number;
  key?: KeyObject;
  /** Why no signature verified. */
  problem?: string;
}

/**
 * DSSE verification with threshold 1: the first signature that verifies with one of `keys` over
 * PAE(payloadType, payload). `payload` must be the bytes the caller goes on to parse (protocol.md: never
 * re-parse the envelope after verification).
 */
export function verifyEnvelope(
  envelope: DsseEnvelope,
  payload: Buffer,
  keys: readonly KeyObject[],
): EnvelopeVerification {
  if (envelope.signatures.length === 0) return { problem: 'the envelope is unsigned (no signatures)' };
  const message = pae(envelope.payloadType, payload);
  for (const [i, s] of envelope.signatures.entries()) {
    const sig = decodeBase64(s.sig);
    if (!sig) continue;
    for (const key of keys) {
      if (verifies(key, message, sig)) return { signature: i, key };
    }
  }
  const n = envelope.signatures.length;
  return {
    problem: `no signature verifies with the trusted key${keys.length === 1 ? '' : 's'} (${n} signature${n === 1 ? '' : 's'}${envelope.signatures.some((s) => s.keyid) ? `, keyid ${envelope.signatures.map((s) => s.keyid ?? '-').join(', ')}` : ''})`,
  };
}

function verifies(key: KeyObject, message: Buffer, sig: Buffer): boolean {
  try {
    const hash = hashForKey(key);
    if (cryptoOk(hash, message, key, sig)) return true;
    // ECDSA as raw r||s (IEEE P1363), the encoding of the DSSE spec's own test vector.
    return key.asymmetricKeyType === 'ec' && cryptoOk(hash, message, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

function cryptoOk(
  hash: string | null,
  message: Buffer,
  key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' },
  sig: Buffer,
): boolean {
  try {
    return verify(hash, message, key, sig);
  } catch {
    return false;
  }
}
