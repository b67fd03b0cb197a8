import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrustSettings } from '../policy/policy.js';
import { checkFolder, type ManifestCheck, parseStatement, type SignedManifest } from './manifest.js';
import { parseBundle, type SignatureResult, type SignerInfo, verifyBundleSignature } from './signature.js';

/** The signature file model_signing writes at the root of a model folder. */
export const SIGNATURE_FILE = 'model.sig';
/** Larger model.sig files are not read (a bundle is a few KiB). */
const MAX_SIGNATURE_BYTES = 4 * 2 ** 20;

/**
 * verified: valid signature by a trusted signer, and the folder is exactly what was signed.
 * untrusted: valid signature and intact folder, but the signer is not trusted (for this path).
 * tampered: the signature checks out (or cannot be checked) but the files differ from what was signed.
 * invalid: the signature itself does not verify or cannot be read.
 * unsigned: no model.sig.
 */
export type FolderStatus = 'verified' | 'untrusted' | 'tampered' | 'invalid' | 'unsigned';

export interface FolderVerification {
  /** Folder path relative to the scanned root ('' for the root itself). */
  folder: string;
  status: FolderStatus;
  method?: SignatureResult['method'];
  signer?: SignerInfo;
  signedAt?: string;
  signedAtSource?: string;
  /** Why the status is not `verified`, in order of importance. */
  problems: string[];
  /** The signature covers these files (paths relative to the folder), as signed. */
  signedFiles?: string[];
  predicateType?: string;
  serialization?: { method: string; hashType: string; allowSymlinks: boolean; ignorePaths: string[] };
  check?: ManifestCheck;
  /** The signature could be checked cryptographically (false: key/CA not configured, or invalid). */
  signatureValid: boolean;
  /** The signature is valid and its signer trusted for this folder. */
  signerTrusted: boolean;
  /** Why the signer is not trusted (or could not be checked). */
  signerProblem?: string;
  /** No trusted key or CA of the signature's kind was configured, so it could not be checked. */
  unchecked?: boolean;
}

export interface VerifyFolderOptions {
  /** Folder path relative to the scanned root, for the signers' path scopes and the report. */
  folder?: string;
  /** SHA-256 digests already computed for absolute paths (reused instead of reading the file again). */
  known?: ReadonlyMap<string, string>;
}

/** Verifies the model folder `dir` against its model.sig and the trusted signers. Never throws for bad input. */
export async function verifyModelFolder(
  dir: string,
  trust: Readonly<TrustSettings>,
  opts: VerifyFolderOptions = {},
): Promise<FolderVerification> {
  const folder = opts.folder ?? '';
  const sigPath = join(dir, SIGNATURE_FILE);
  const out: FolderVerification = {
    folder,
    status: 'unsigned',
    problems: [],
    signatureValid: false,
    signerTrusted: false,
  };
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(sigPath);
  } catch {
    out.problems.push(`no ${SIGNATURE_FILE} in the folder`);
    return out;
  }
  if (!st.isFile()) {
    out.status = 'invalid';
    out.problems.push(`${SIGNATURE_FILE} is not a regular file`);
    return out;
  }
  if (st.size > MAX_SIGNATURE_BYTES) {
    out.status = 'invalid';
    out.problems.push(`${SIGNATURE_FILE} is ${st.size} bytes, more than a signature bundle can be`);
    return out;
  }
  let sig: SignatureResult;
  let manifest: SignedManifest;
  try {
    const bundle = await parseBundle(await readFile(sigPath, 'utf8'));
    sig = await verifyBundleSignature(bundle, trust, folder);
    manifest = parseStatement(sig.payloadType, sig.payload);
  } catch (err) {
    out.status = 'invalid';
    out.problems.push(`${SIGNATURE_FILE}: ${(err as Error).message}`);
    return out;
  }
  out.method = sig.method;
  if (sig.signer) out.signer = sig.signer;
  if (sig.signedAt) out.signedAt = sig.signedAt;
  if (sig.signedAtSource) out.signedAtSource = sig.signedAtSource;
  out.signatureValid = sig.valid;
  out.signerTrusted = sig.valid && sig.trusted;
  if (!out.signerTrusted && sig.problem) out.signerProblem = sig.problem;
  if (sig.unchecked) out.unchecked = true;
  out.predicateType = manifest.predicateType;
  out.serialization = {
    method: manifest.method,
    hashType: manifest.hashType,
    allowSymlinks: manifest.allowSymlinks,
    ignorePaths: manifest.ignorePaths,
  };
  out.signedFiles = [...new Set(manifest.resources.map((r) => r.path))];
  let check: ManifestCheck;
  try {
    check = await checkFolder(dir, manifest, SIGNATURE_FILE, opts.known);
  } catch (err) {
    out.status = 'invalid';
    out.problems.push(`cannot compare the folder with the signature: ${(err as Error).message}`);
    return out;
  }
  out.check = check;
  const tampered: string[] = [];
  if (!check.rootDigestOk) tampered.push('the signed root digest does not match the signed file list');
  if (check.modified.length) tampered.push(`changed since signing: ${check.modified.join(', ')}`);
  if (check.extra.length) tampered.push(`not covered by the signature: ${check.extra.join(', ')}`);
  if (check.missing.length) tampered.push(`signed but missing: ${check.missing.join(', ')}`);
  if (check.symlinks.length) tampered.push(`symbolic links or special files: ${check.symlinks.join(', ')}`);
  if (!sig.valid && !sig.unchecked) {
    out.status = 'invalid';
    out.problems.push(sig.problem ?? 'the signature does not verify');
    out.problems.push(...tampered);
  } else if (tampered.length > 0) {
    out.status = 'tampered';
    out.problems.push(...tampered);
    if (!sig.trusted && sig.problem) out.problems.push(sig.problem);
  } else if (!sig.trusted) {
    out.status = 'untrusted';
    out.problems.push(sig.problem ?? 'the signer is not trusted');
  } else out.status = 'verified';
  return out;
}
