import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

/** Keys the ONNX Python `ExternalDataInfo` accepts; anything else was an attribute-injection vector. */
export const EXTERNAL_KEYS = new Set(['location', 'offset', 'length', 'checksum', 'basepath']);

export interface LocationVerdict {
  /** MG501: the memory-address sentinel. */
  sentinel: boolean;
  /** MG500 reasons (absolute, traversal, drive, UNC, URL, backslash, NUL). */
  escapes: string[];
}

/** Lexical checks of an external data `location`, as the reference checker and beyond. */
export function checkLocation(loc: string): LocationVerdict {
  const escapes: string[] = [];
  const sentinel = loc.includes('_ORT_MEM_ADDR_') || loc.startsWith('*/') || loc.startsWith('#');
  if (loc.includes('\0')) escapes.push('contains a NUL byte');
  if (loc.startsWith('\\\\') || loc.startsWith('//')) escapes.push('is a UNC/network path');
  else if (loc.startsWith('/') || isAbsolute(loc)) escapes.push('is an absolute path');
  if (/^[A-Za-z]:/.test(loc)) escapes.push('starts with a drive letter');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(loc) || /^file:/i.test(loc)) escapes.push('is a URL');
  if (loc.includes('\\')) escapes.push('contains a backslash');
  if (loc.split(/[\\/]/).some((s) => s === '..')) escapes.push('contains a ".." segment');
  if (loc.startsWith('~')) escapes.push('starts with "~"');
  return { sentinel, escapes };
}

/** A decimal offset/length value: BigInt, or a reason it is invalid. */
export function parseExtNumber(v: string): bigint | string {
  if (!/^[+-]?\d+$/.test(v.trim())) return `"${v.slice(0, 40)}" is not an integer`;
  const n = BigInt(v.trim());
  if (n < 0n) return `${n} is negative`;
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return `${n} overflows`;
  return n;
}

export interface DiskCheck {
  /** MG500: resolves outside the model folder. */
  escape?: string;
  /** MG503: missing, link, not regular. */
  unresolved?: string;
  /** Size of the target file, when it is a regular file. */
  size?: number;
}

/**
 * Resolves a lexically clean location against the model's folder on disk, as the ONNX checker does: no
 * symlink, canonical path inside the folder (symlinked parents included), a regular file, one hard link.
 */
export async function checkOnDisk(modelPath: string, loc: string): Promise<DiskCheck> {
  const dir = dirname(modelPath);
  const target = resolve(dir, loc);
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(target);
  } catch {
    return { unresolved: 'does not exist next to the model' };
  }
  let realDir: string;
  let realTarget: string;
  try {
    realDir = await realpath(dir);
    realTarget = await realpath(target);
  } catch {
    return { unresolved: 'is a dangling link' };
  }
  const rel = relative(realDir, realTarget);
  if (rel === '') return { unresolved: 'is the model folder itself' };
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    return { escape: `resolves through a link to ${realTarget}, outside the model folder` };
  }
  if (st.isSymbolicLink()) return { unresolved: 'is a symbolic link' };
  const real = await stat(realTarget);
  if (!real.isFile()) return { unresolved: 'is not a regular file' };
  if (real.nlink > 1) return { unresolved: `has ${real.nlink} hard links`, size: real.size };
  return { size: real.size };
}
