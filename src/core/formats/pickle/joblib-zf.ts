// joblib's old compressed container (joblib < 0.10, `joblib.dump(obj, f, compress=n)`), which current
// joblib.load still reads through numpy_pickle_compat: `ZF`, the payload length as Python's hex() padded
// with spaces to 19 characters, then one zlib stream holding a pickle (or, for a `.npy.z` sidecar, an .npy
// file). Unrecognised, it would be unknown bytes; it is decoded within the scan's budgets and scanned.

import { streamSource } from '../../source.js';
import type { Analyzer } from '../analyzer.js';
import { bounded, counting, decode } from '../archive/codecs.js';

/** Length of `ZF` plus the padded hex length (joblib's _ZFILE_PREFIX and _MAX_LEN = len(hex(2**64))). */
export const ZF_HEADER = 2 + 19;

/** `ZF0x<hex>` + spaces, then a zlib header. */
export function isJoblibZFile(h: Uint8Array): boolean {
  if (h.length < ZF_HEADER + 2 || h[0] !== 0x5a || h[1] !== 0x46 || h[2] !== 0x30 || h[3] !== 0x78)
    return false;
  let i = 4;
  while (i < ZF_HEADER && /[0-9a-fA-FL]/.test(String.fromCharCode(h[i]!))) i++;
  if (i === 4) return false;
  while (i < ZF_HEADER && h[i] === 0x20) i++;
  if (i !== ZF_HEADER) return false;
  const cmf = h[ZF_HEADER]!;
  const flg = h[ZF_HEADER + 1]!;
  return (cmf & 0x0f) === 8 && ((cmf << 8) | flg) % 31 === 0;
}

export const joblibZfAnalyzer: Analyzer = {
  id: 'joblib-zf',
  detect(probe) {
    return isJoblibZFile(probe.head) ? { format: 'joblib', strength: 'magic' } : undefined;
  },
  async analyze(ctx) {
    const src = ctx.source;
    const name = 'joblib-zfile';
    const inner = streamSource(name, () => {
      const counter = { n: 0 };
      return bounded(ctx, decode('zlib', counting(src.stream(ZF_HEADER), counter)), { counter });
    });
    const fmt = await ctx.scanNested(inner, name);
    // A payload that is no pickle is the raw array bytes of a ZNDArrayWrapper sidecar (`.npy.z`): joblib
    // hands them to ndarray.__setstate__ as data; unpickling them would fail before importing anything.
    if (fmt === undefined) ctx.fact('joblibZFile', 'raw array data (a ZNDArrayWrapper sidecar)');
  },
};
