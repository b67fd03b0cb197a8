import { LFS_MAX_POINTER_BYTES, parseLfsPointer } from '../core/formats/lfs/pointer.js';

/** The oid and size of a Git LFS pointer, read with the core's strict parser (src/core/formats/lfs/). */
export interface LfsPointerInfo {
  oid: string;
  size: number;
}

export function readLfsPointer(bytes: Uint8Array): LfsPointerInfo | undefined {
  if (bytes.length >= LFS_MAX_POINTER_BYTES) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  const r = parseLfsPointer(text);
  return r.ok ? { oid: r.pointer.oid, size: r.pointer.size } : undefined;
}
