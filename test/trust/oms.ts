// Test helpers: build OpenSSF model signatures (model.sig) exactly as model_signing 1.x does, with keys made
// at test time (node:crypto) or the committed test PKI (test/fixtures/trust/pki). Layers: in-toto statement
// (predicate https://model_signing/signature/v1.0) → DSSE envelope (PAE signed with the curve's hash) →
// Sigstore bundle v0.3 with `publicKey.hint` or `x509CertificateChain`.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  X509Certificate,
} from 'node:crypto';
import { cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FIXTURES } from '../helpers.js';

export const OMS = join(FIXTURES, 'trust', 'oms');
export const PKI = join(FIXTURES, 'trust', 'pki');
export const SIGSTORE_ID = 'stefanb@us.ibm.com';
export const SIGSTORE_ISSUER = 'https://sigstore.verify.ibm.com/oauth2';
export const DEFAULT_IGNORES = ['.git', '.gitattributes', '.github', '.gitignore', 'model.sig'];

export type Curve = 'P-256' | 'P-384' | 'P-521' | 'ed25519';

export function keyPair(curve: Curve): { privateKey: KeyObject; publicKey: KeyObject; pem: string } {
  const kp =
    curve === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: curve });
  return { ...kp, pem: kp.publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

export function hashFor(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  const c = key.asymmetricKeyDetails?.namedCurve;
  return c === 'secp384r1' ? 'sha384' : c === 'secp521r1' ? 'sha512' : 'sha256';
}

/** Writes files (path → content) under dir, creating folders. */
export function writeModel(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

export function copyVector(name: string, to: string): string {
  const dest = join(to, name);
  cpSync(join(OMS, name), dest, { recursive: true });
  // The read-only bits of the reference copy must not follow into the temp folder.
  for (const f of readdirSync(dest)) {
    try {
      writeFileSync(join(dest, f), readFileSync(join(dest, f)));
    } catch {
      // unreadable: leave as is
    }
  }
  return dest;
}

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(rel ? join(dir, rel) : dir)) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

export interface SignOptions {
  ignorePaths?: string[];
  hashType?: 'sha256' | 'blake2b';
  method?: 'files' | 'shards';
  shardSize?: number;
  allowSymlinks?: boolean;
  /** Edit the statement after it was computed, before signing (to make signed-but-inconsistent cases). */
  editStatement?: (st: Record<string, unknown>) => void;
  /** Hash used for the signature instead of the curve's (to check the verifier insists on the right one). */
  forceHash?: string | null;
  /** Extra DSSE signatures (an envelope must have exactly one). */
  extraSignatures?: number;
  payloadType?: string;
}

/** The statement model_signing writes for `dir` (files method by default). */
export function statementFor(dir: string, o: SignOptions = {}): Record<string, unknown> {
  const hashType = o.hashType ?? 'sha256';
  const ignore = [...new Set([...(o.ignorePaths ?? []), ...DEFAULT_IGNORES])];
  const ignored = (rel: string) => ignore.some((p) => rel === p || rel.startsWith(`${p}/`));
  const algo = hashType === 'blake2b' ? 'blake2b512' : 'sha256';
  const files = listFiles(dir).filter((r) => !ignored(r));
  const resources: Array<{ name: string; algorithm: string; digest: string; key: [string[], number] }> = [];
  for (const rel of files) {
    const data = readFileSync(join(dir, rel));
    if (o.method === 'shards') {
      const size = o.shardSize ?? 1_000_000_000;
      for (let s = 0; s < data.length; s += size) {
        const e = Math.min(data.length, s + size);
        resources.push({
          name: `${rel}:${s}:${e}`,
          algorithm: hashType,
          digest: createHash(algo).update(data.subarray(s, e)).digest('hex'),
          key: [rel.split('/'), s],
        });
      }
    } else {
      resources.push({
        name: rel,
        algorithm: hashType,
        digest: createHash(algo).update(data).digest('hex'),
        key: [rel.split('/'), 0],
      });
    }
  }
  // Python sorts PurePosixPath by components, then shard start.
  resources.sort((a, b) => {
    const [pa, sa] = a.key;
    const [pb, sb] = b.key;
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
      if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
    }
    return pa.length - pb.length || sa - sb;
  });
  const root = createHash('sha256');
  for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
  const serialization: Record<string, unknown> = {
    method: o.method ?? 'files',
    hash_type: hashType,
    allow_symlinks: o.allowSymlinks ?? false,
    ignore_paths: ignore,
  };
  if (o.method === 'shards') serialization.shard_size = o.shardSize ?? 1_000_000_000;
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: dir.split('/').pop(), digest: { sha256: root.digest('hex') } }],
    predicateType: 'https://model_signing/signature/v1.0',
    predicate: {
      serialization,
      resources: resources.map(({ name, algorithm, digest }) => ({ name, algorithm, digest })),
    },
  };
}

function pae(type: string, payload: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `),
    payload,
  ]);
}

function envelope(dir: string, privateKey: KeyObject, o: SignOptions) {
  const st = statementFor(dir, o);
  o.editStatement?.(st);
  const payload = Buffer.from(JSON.stringify(st));
  const payloadType = o.payloadType ?? 'application/vnd.in-toto+json';
  const hash = o.forceHash !== undefined ? o.forceHash : hashFor(privateKey);
  const sig = sign(hash, pae(payloadType, payload), privateKey).toString('base64');
  const signatures = [{ sig, keyid: '' }];
  for (let i = 0; i < (o.extraSignatures ?? 0); i++) signatures.push({ sig, keyid: '' });
  return { payload: payload.toString('base64'), payloadType, signatures };
}

/** Signs `dir` with a key (model_signing `sign key`): writes dir/model.sig. */
export function signWithKey(dir: string, privateKey: KeyObject, o: SignOptions = {}): void {
  const pub = createPublicKeyPem(privateKey);
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      publicKey: { hint: createHash('sha256').update(pub).digest('hex') },
      tlogEntries: [],
    },
    dsseEnvelope: envelope(dir, privateKey, o),
  };
  writeFileSync(join(dir, 'model.sig'), JSON.stringify(bundle));
}

/** Signs `dir` with a certificate chain (model_signing `sign certificate`): [leaf, ...chain]. */
export function signWithCertificate(
  dir: string,
  keyPem: string,
  chainPems: string[],
  o: SignOptions = {},
): void {
  const key = createPrivateKey(keyPem);
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      x509CertificateChain: {
        certificates: chainPems.map((p) => ({ rawBytes: new X509Certificate(p).raw.toString('base64') })),
      },
      tlogEntries: [],
    },
    dsseEnvelope: envelope(dir, key, o),
  };
  writeFileSync(join(dir, 'model.sig'), JSON.stringify(bundle));
}

function createPublicKeyPem(privateKey: KeyObject): string {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
}

export function pki(name: string): string {
  return readFileSync(join(PKI, name), 'utf8');
}
