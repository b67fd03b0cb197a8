import { createHash, getHashes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ATTESTATION_FILE } from './attestation.js';
import { DSSE_INTOTO, SignatureFormatError } from './signature.js';

// The payload side of an OpenSSF model signature: the in-toto statement with predicate type
// `https://model_signing/signature/v1.0` (and the legacy `https://model_signing/Digests/v0.1`), and its
// comparison with the files of the model folder, hashed as model_signing hashes them.

export const PREDICATE_V1 = 'https://model_signing/signature/v1.0';
export const PREDICATE_V01 = 'https://model_signing/Digests/v0.1';
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

/** Names model_signing always leaves out at the top of the folder, besides the signature file itself. */
export const DEFAULT_IGNORED = ['.git', '.gitattributes', '.github', '.gitignore'];

/**
 * Statements about the model rather than parts of it: attestations (Sigstore bundles, in-toto envelopes and
 * JSON lines, a modelgate VSA `*.intoto.json`) and detached signatures (`*.sig`, a nested folder's
 * model.sig). They are made after the signature, so it cannot cover them, and no loader reads them; adding
 * one to a signed folder is not tampering with the model. They are still scanned by content like any file.
 */
export function isSidecar(rel: string): boolean {
  const name = rel.slice(rel.lastIndexOf('/') + 1);
  return ATTESTATION_FILE.test(name) || /\.(sig|intoto\.json)$/i.test(name);
}

export interface Resource {
  /** `path` (files method) or `path:start:end` (shards method). */
  name: string;
  path: string;
  start?: number;
  end?: number;
  algorithm: string;
  digest: string;
}

export interface SignedManifest {
  predicateType: string;
  legacy: boolean;
  method: 'files' | 'shards';
  hashType: string;
  shardSize?: number;
  allowSymlinks: boolean;
  ignorePaths: string[];
  /** In the statement's order: the root digest is computed in this order, as model_signing verifies it. */
  resources: Resource[];
  subjectName?: string;
  /** The signed root digest (v1.0), hex. */
  subjectDigest?: string;
}

const HASHES: Record<string, string> = { sha256: 'sha256', blake2b: 'blake2b512' };

function bad(msg: string): never {
  throw new SignatureFormatError(msg);
}

function checkRelPath(p: string, what: string): void {
  if (
    p === '' ||
    p.startsWith('/') ||
    p.endsWith('/') ||
    p.includes('\\') ||
    p.includes('\0') ||
    p.split('/').some((c) => c === '' || c === '.' || c === '..')
  ) {
    bad(`${what} '${p}' is not a plain relative path`);
  }
}

/** Parses and checks the in-toto statement of a model signature. Throws SignatureFormatError. */
export function parseStatement(payloadType: string | undefined, payload: Buffer | undefined): SignedManifest {
  if (payloadType !== DSSE_INTOTO)
    bad(`DSSE payload type is ${JSON.stringify(payloadType)}, not ${DSSE_INTOTO}`);
  let st: Record<string, unknown>;
  try {
    st = JSON.parse(payload!.toString('utf8'));
  } catch (err) {
    return bad(`the statement is not JSON: ${(err as Error).message}`);
  }
  if (!st || typeof st !== 'object') bad('the statement is not an object');
  if (st._type !== STATEMENT_V1) {
    bad(`not an in-toto statement (_type ${JSON.stringify(st._type)})`);
  }
  const subjects = Array.isArray(st.subject)
    ? (st.subject as Array<Record<string, unknown>>)
    : bad('no subject');
  if (st.predicateType === PREDICATE_V01) {
    // Legacy: file digests are the subjects; no serialization parameters, no root digest.
    const resources: Resource[] = subjects.map((s) => {
      const name = typeof s.name === 'string' ? s.name : bad('a subject has no name');
      checkRelPath(name, 'subject');
      const d = (s.digest as Record<string, unknown> | undefined)?.sha256;
      if (typeof d !== 'string' || !/^[0-9a-f]{64}$/i.test(d)) bad(`subject ${name} has no sha256 digest`);
      return { name, path: name, algorithm: 'sha256', digest: d.toLowerCase() };
    });
    return {
      predicateType: PREDICATE_V01,
      legacy: true,
      method: 'files',
      hashType: 'sha256',
      allowSymlinks: false,
      ignorePaths: [],
      resources: uniqueResources(resources),
    };
  }
  if (st.predicateType !== PREDICATE_V1) {
    bad(`predicate type ${JSON.stringify(st.predicateType)} is not ${PREDICATE_V1}`);
  }
  if (subjects.length !== 1) bad(`the statement has ${subjects.length} subjects (1 expected)`);
  const subj = subjects[0]!;
  const root = (subj.digest as Record<string, unknown> | undefined)?.sha256;
  if (typeof root !== 'string' || !/^[0-9a-f]{64}$/i.test(root)) bad('the subject has no sha256 root digest');
  const pred = (st.predicate ?? bad('no predicate')) as Record<string, unknown>;
  const ser = (pred.serialization ?? bad('no serialization parameters')) as Record<string, unknown>;
  const method = ser.method;
  if (method !== 'files' && method !== 'shards')
    bad(`unknown serialization method ${JSON.stringify(method)}`);
  const hashType = typeof ser.hash_type === 'string' ? ser.hash_type : bad('no hash_type');
  if (!HASHES[hashType] || !getHashes().includes(HASHES[hashType]!)) {
    bad(`hash type ${hashType} is not supported here (sha256, blake2b)`);
  }
  let shardSize: number | undefined;
  if (method === 'shards') {
    shardSize =
      typeof ser.shard_size === 'number' && Number.isSafeInteger(ser.shard_size) && ser.shard_size > 0
        ? ser.shard_size
        : bad('shards method without a positive shard_size');
  }
  const ignorePaths = Array.isArray(ser.ignore_paths) ? ser.ignore_paths : [];
  for (const p of ignorePaths) {
    if (typeof p !== 'string') bad('ignore_paths holds a non-string');
    checkRelPath(p.replace(/\/+$/, ''), 'ignore path');
  }
  const raw = Array.isArray(pred.resources)
    ? (pred.resources as Array<Record<string, unknown>>)
    : bad('no resources');
  const resources = raw.map((r): Resource => {
    const name = typeof r.name === 'string' ? r.name : bad('a resource has no name');
    const algorithm =
      typeof r.algorithm === 'string' ? r.algorithm : bad(`resource ${name} has no algorithm`);
    if (algorithm !== hashType) bad(`resource ${name} uses ${algorithm}, the serialization says ${hashType}`);
    const digest =
      typeof r.digest === 'string' && /^[0-9a-f]+$/i.test(r.digest) && r.digest.length % 2 === 0
        ? r.digest.toLowerCase()
        : bad(`resource ${name} has no hex digest`);
    if (method === 'files') {
      checkRelPath(name, 'resource');
      return { name, path: name, algorithm, digest };
    }
    const m = /^(.*):(\d+):(\d+)$/.exec(name) ?? bad(`shard name '${name}' is not path:start:end`);
    const start = Number(m[2]);
    const end = Number(m[3]);
    checkRelPath(m[1]!, 'resource');
    if (!(start < end) || !Number.isSafeInteger(end)) bad(`shard '${name}' has a bad range`);
    return { name, path: m[1]!, start, end, algorithm, digest };
  });
  return {
    predicateType: PREDICATE_V1,
    legacy: false,
    method,
    hashType,
    ...(shardSize !== undefined ? { shardSize } : {}),
    allowSymlinks: ser.allow_symlinks === true,
    ignorePaths: ignorePaths.map((p: string) => p.replace(/\/+$/, '')),
    resources: uniqueResources(resources),
    ...(typeof subj.name === 'string' ? { subjectName: subj.name } : {}),
    subjectDigest: root.toLowerCase(),
  };
}

function uniqueResources(rs: Resource[]): Resource[] {
  const seen = new Set<string>();
  for (const r of rs) {
    if (seen.has(r.name)) bad(`resource ${r.name} is listed twice`);
    seen.add(r.name);
  }
  return rs;
}

/** model_signing's order: by path components (Python PurePosixPath), then shard start and end. */
export function compareResources(a: Resource, b: Resource): number {
  const pa = a.path.split('/');
  const pb = b.path.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const c = compareCodePoints(pa[i]!, pb[i]!);
    if (c !== 0) return c;
  }
  if (pa.length !== pb.length) return pa.length - pb.length;
  return (a.start ?? 0) - (b.start ?? 0) || (a.end ?? 0) - (b.end ?? 0);
}

function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function sortResources(rs: Resource[]): Resource[] {
  return [...rs].sort(compareResources);
}

/**
 * SHA-256 over the raw bytes of every resource digest, in the order the statement lists them (model_signing
 * writes them sorted and recomputes the digest in the listed order): the statement's subject digest.
 */
export function rootDigest(resources: readonly Resource[]): string {
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

export interface FolderEntry {
  /** Path relative to the model folder, POSIX. */
  rel: string;
  abs: string;
  kind: 'file' | 'symlink' | 'other';
  size: number;
}

/** Whether `rel` is excluded by the signature: the signature file, the default names, or ignore_paths. */
export function isIgnored(rel: string, ignorePaths: readonly string[], signatureName: string): boolean {
  const top = rel.split('/')[0]!;
  if (rel === signatureName || DEFAULT_IGNORED.includes(top)) return true;
  return ignorePaths.some((p) => rel === p || rel.startsWith(`${p}/`));
}

/** Every entry under `dir` (not following links), with paths relative to it; sorted. */
export async function listFolder(dir: string, maxEntries = 1_000_000): Promise<FolderEntry[]> {
  const out: FolderEntry[] = [];
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const names = await readdir(rel === '' ? dir : join(dir, rel));
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = join(dir, r);
      const st = await lstat(abs);
      if (st.isDirectory()) stack.push(r);
      else
        out.push({
          rel: r,
          abs,
          kind: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
          size: st.size,
        });
      if (out.length > maxEntries)
        throw new SignatureFormatError(`the model folder has more than ${maxEntries} entries`);
    }
  }
  return out.sort((a, b) => compareCodePoints(a.rel, b.rel));
}

/** Streams a file (or a byte range of it) through a hash. */
export async function hashFile(abs: string, algo: string, start?: number, end?: number): Promise<string> {
  const h = createHash(HASHES[algo] ?? algo);
  const stream = createReadStream(abs, {
    ...(start !== undefined ? { start } : {}),
    ...(end !== undefined ? { end: end - 1 } : {}),
    highWaterMark: 1 << 20,
  });
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

export interface ManifestCheck {
  /** Signed and present with the signed digest. */
  covered: string[];
  /** Signed, present, different content. */
  modified: string[];
  /** Present, regular, not signed, not ignored and not a sidecar. */
  extra: string[];
  /** Present, not signed: attestations and signatures beside the model (isSidecar), which need no coverage. */
  sidecars: string[];
  /** Signed but absent (or not a regular file). */
  missing: string[];
  /** Symbolic links (or other non-regular entries) that are not ignored. */
  symlinks: string[];
  /** Present files the signed ignore_paths exclude (default names and the signature aside). */
  ignored: string[];
  rootDigestOk: boolean;
  ok: boolean;
}

/**
 * Compares the folder with the signed manifest. `known` gives SHA-256 digests already computed for some
 * absolute paths (the scan hashed them), so files are read once for the common files/sha256 case.
 */
export async function checkFolder(
  dir: string,
  m: SignedManifest,
  signatureName: string,
  known: ReadonlyMap<string, string> = new Map(),
): Promise<ManifestCheck> {
  const entries = await listFolder(dir);
  const byRel = new Map(entries.map((e) => [e.rel, e]));
  const res: ManifestCheck = {
    covered: [],
    modified: [],
    extra: [],
    sidecars: [],
    missing: [],
    symlinks: [],
    ignored: [],
    rootDigestOk: m.legacy || rootDigest(m.resources) === m.subjectDigest,
    ok: false,
  };
  const signedPaths = new Set(m.resources.map((r) => r.path));
  for (const e of entries) {
    if (isIgnored(e.rel, m.ignorePaths, signatureName)) {
      const top = e.rel.split('/')[0]!;
      if (e.rel !== signatureName && !DEFAULT_IGNORED.includes(top)) res.ignored.push(e.rel);
      continue;
    }
    if (e.kind !== 'file') {
      res.symlinks.push(e.rel);
      continue;
    }
    if (!signedPaths.has(e.rel)) {
      // Shard mode omits empty files; they carry no content to sign.
      if (isSidecar(e.rel)) res.sidecars.push(e.rel);
      else if (!(m.method === 'shards' && e.size === 0)) res.extra.push(e.rel);
    }
  }
  const byPath = new Map<string, Resource[]>();
  // Shards of a file in offset order (model_signing's order), whatever order the statement lists them in.
  for (const r of sortResources(m.resources)) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  for (const [path, rs] of byPath) {
    const e = byRel.get(path);
    if (e?.kind !== 'file' || isIgnored(path, m.ignorePaths, signatureName)) {
      res.missing.push(path);
      continue;
    }
    let same = true;
    if (m.method === 'files') {
      const r = rs[0]!;
      const actual =
        m.hashType === 'sha256' && known.has(e.abs) ? known.get(e.abs)! : await hashFile(e.abs, m.hashType);
      same = actual === r.digest;
    } else {
      // The shards must tile the file exactly: [0, shard), [shard, 2*shard) ... up to its size.
      const size = e.size;
      const expected = Math.ceil(size / m.shardSize!);
      if (rs.length !== expected) same = false;
      else {
        for (let i = 0; i < rs.length && same; i++) {
          const r = rs[i]!;
          const s = i * m.shardSize!;
          const en = Math.min(size, s + m.shardSize!);
          if (r.start !== s || r.end !== en) same = false;
          else same = (await hashFile(e.abs, m.hashType, s, en)) === r.digest;
        }
      }
    }
    (same ? res.covered : res.modified).push(path);
  }
  res.ok =
    res.rootDigestOk &&
    res.modified.length === 0 &&
    res.extra.length === 0 &&
    res.missing.length === 0 &&
    res.symlinks.length === 0;
  return res;
}
