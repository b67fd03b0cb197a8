// NumPy .npy: magic, version, header dict (parsed as a Python literal, never evaluated), descr /
// fortran_order / shape checks, and the data size. Object arrays (or structured dtypes with object
// fields) store a pickle after the header: it is scanned with the pickle engine.

import type { AnalysisContext } from '../../context.js';
import { asInt, isTuple, LiteralError, type PyValue, parsePythonLiteral } from '../../python/literal.js';
import { ByteReader } from '../../reader.js';
import type { Analyzer } from '../analyzer.js';
import { descrItemsize } from '../pickle/dtype.js';
import { scanPickle } from '../pickle/scan.js';
import { looksLikePickle } from '../pickle/sniff.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const UTF8 = new TextDecoder('utf-8');
const LATIN1 = new TextDecoder('latin1');

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const MAX_HEADER = 1 << 20;

export interface NpyHeader {
  version: [number, number];
  headerLength: number;
  dataOffset: number;
  descr: PyValue;
  fortranOrder: boolean;
  shape: number[];
  object: boolean;
  itemsize: number | undefined;
}

export const numpyAnalyzer: Analyzer = {
  id: 'numpy',
  detect(probe) {
    const h = probe.head;
    if (h.length >= 8 && MAGIC.every((b, i) => h[i] === b)) return { format: 'numpy', strength: 'magic' };
    return undefined;
  },
  async analyze(ctx) {
    await analyzeNpy(ctx);
  },
};

function bad(ctx: AnalysisContext, msg: string, offset?: number): undefined {
  ctx.report('MG300', msg, offset !== undefined ? { offset } : {});
  return undefined;
}

/** Parses and checks a .npy header; reports MG300 and returns undefined when it is invalid. */
export async function readNpyHeader(
  ctx: AnalysisContext,
  reader: ByteReader,
): Promise<NpyHeader | undefined> {
  if (!(await reader.ensure(10))) return bad(ctx, 'The .npy file is shorter than its fixed preamble.', 0);
  const pre = reader.take(8);
  const major = pre[6]!;
  const minor = pre[7]!;
  if (![1, 2, 3].includes(major) || minor !== 0)
    return bad(ctx, `Unknown .npy format version ${major}.${minor}.`, 6);
  let hlen: number;
  if (major === 1) hlen = reader.u16le();
  else {
    if (!(await reader.ensure(4))) return bad(ctx, 'The .npy header length is truncated.', 8);
    hlen = reader.u32le();
  }
  const dataOffset = reader.pos + hlen;
  if (hlen > MAX_HEADER)
    return bad(ctx, `The .npy header claims ${hlen} bytes (more than numpy accepts).`, 8);
  const size = ctx.source.size;
  if (size !== undefined && dataOffset > size)
    return bad(ctx, `The .npy header (${hlen} bytes) runs past the end of the file.`, 8);
  const raw = await reader.bytes(hlen);
  if (!raw) return bad(ctx, 'The .npy header is truncated.', 8);
  const text = (major === 3 ? UTF8 : LATIN1).decode(raw);
  let lit: PyValue;
  try {
    // numpy: format 1.0/2.0 headers go through _filter_header (drops Python 2 `L` suffixes), then
    // ast.literal_eval (safe_eval); our parser accepts exactly that grammar.
    lit = parsePythonLiteral(text, { longSuffix: major <= 2 });
  } catch (err) {
    return bad(
      ctx,
      `The .npy header is not a Python literal numpy accepts: ${err instanceof LiteralError ? err.message : String(err)}.`,
      10,
    );
  }
  if (!(lit instanceof Map)) return bad(ctx, 'The .npy header is not a dict.', 10);
  const keys = [...lit.keys()];
  if (
    keys.length !== 3 ||
    !['descr', 'fortran_order', 'shape'].every((k) => lit.has(k)) // numpy: EXPECTED_KEYS != d.keys()
  ) {
    return bad(
      ctx,
      `The .npy header keys are ${JSON.stringify(keys.map((k) => (typeof k === 'string' ? k : String(k))))}, not descr, fortran_order and shape.`,
      10,
    );
  }
  const descr = lit.get('descr')!;
  const fortran = lit.get('fortran_order');
  const shapeL = lit.get('shape');
  if (typeof fortran !== 'boolean') return bad(ctx, 'fortran_order is not a bool.', 10);
  if (!isTuple(shapeL)) return bad(ctx, 'shape is not a tuple.', 10);
  const shape: number[] = [];
  for (const d of shapeL.tuple) {
    const n = asInt(d); // isinstance(x, int): True and False count
    if (n === undefined || n < 0) return bad(ctx, `shape has an invalid dimension ${String(d)}.`, 10);
    shape.push(n);
  }
  const dt = dtypeInfo(descr);
  if (!dt) return bad(ctx, `descr ${describe(descr)} is not a dtype numpy can read.`, 10);
  return {
    version: [major, minor],
    headerLength: hlen,
    dataOffset,
    descr,
    fortranOrder: fortran,
    shape,
    object: dt.object,
    itemsize: dt.itemsize,
  };
}

/**
 * Item size and object-ness of a .npy descr, following numpy.lib.format.descr_to_dtype: a type string, a
 * `(descr, shape)` sub-array tuple, or a list of `(name, descr[, shape])` fields (a name may be a
 * `(title, name)` tuple; unnamed void fields are padding, still counted in the size).
 */
export function dtypeInfo(descr: PyValue, depth = 0): { itemsize: number; object: boolean } | undefined {
  if (depth > 16) return undefined;
  if (typeof descr === 'string') {
    if (/^[<>|=]?O\d*$/.test(descr) || descr === 'object') return { itemsize: 8, object: true };
    const n = descrItemsize(descr);
    return n === undefined ? undefined : { itemsize: n, object: false };
  }
  if (isTuple(descr)) {
    // numpy.dtype((descr_to_dtype(descr[0]), descr[1])); further elements are ignored by numpy
    const [base, shp] = descr.tuple;
    if (base === undefined || shp === undefined) return undefined;
    const info = dtypeInfo(base, depth + 1);
    const count = elementCount(shp);
    return info && count !== undefined ? { itemsize: info.itemsize * count, object: info.object } : undefined;
  }
  if (Array.isArray(descr)) {
    let size = 0;
    let object = false;
    for (const f of descr) {
      const parts = isTuple(f)
        ? f.tuple
        : Array.isArray(f)
          ? f
          : typeof f === 'string' && f.length === 2
            ? [...f] // `for field in descr: name, descr_str = field` unpacks a two-character string too
            : undefined;
      if (!parts || (parts.length !== 2 && parts.length !== 3)) return undefined;
      const [name, sub, shp] = parts;
      if (typeof name !== 'string' && !(isTuple(name) && name.tuple.length === 2)) return undefined;
      const info = dtypeInfo(sub ?? null, depth + 1);
      const count = shp === undefined ? 1 : elementCount(shp);
      if (!info || count === undefined) return undefined;
      size += info.itemsize * count;
      object ||= info.object;
    }
    return { itemsize: size, object };
  }
  return undefined;
}

/** Elements of a sub-array shape (an int or a tuple of ints), or undefined when numpy would refuse it. */
function elementCount(shp: PyValue): number | undefined {
  const dims = isTuple(shp) ? shp.tuple : [shp];
  let count = 1;
  for (const d of dims) {
    const n = asInt(d);
    if (n === undefined || n < 0) return undefined;
    count *= n;
  }
  return count;
}

function describe(v: PyValue): string {
  return JSON.stringify(v, (_k, x) =>
    typeof x === 'bigint' ? String(x) : x instanceof Map ? Object.fromEntries(x) : x,
  );
}

export async function analyzeNpy(ctx: AnalysisContext): Promise<void> {
  const reader = new ByteReader(ctx.source);
  const h = await readNpyHeader(ctx, reader);
  if (!h) return;
  ctx.fact('npy', {
    version: `${h.version[0]}.${h.version[1]}`,
    descr: JSON.parse(describe(h.descr)) as unknown,
    shape: h.shape,
    fortranOrder: h.fortranOrder,
    object: h.object,
  });
  const size = ctx.source.size;
  if (h.object) {
    ctx.report(
      'MG301',
      `The array (descr ${describe(h.descr)}, shape ${JSON.stringify(h.shape)}) holds Python objects: its data is a pickle, analysed below.`,
      {
        offset: h.dataOffset,
      },
    );
    const r = await scanPickle(ctx, reader, { refineFormat: false });
    if (!r.broken && size !== undefined && r.endOffset < size) {
      ctx.report('MG302', `${size - r.endOffset} bytes follow the pickled object array.`, {
        offset: r.endOffset,
      });
      // Scan what follows too: a second stream or payload hides there.
      await scanPickle(ctx, reader, { allStreams: true, refineFormat: false });
    }
    return;
  }
  const count = h.shape.reduce((a, b) => a * b, 1);
  const expected = count * (h.itemsize ?? 0);
  if (size === undefined) return;
  const have = size - h.dataOffset;
  if (have < expected) {
    ctx.report(
      'MG300',
      `The array needs ${expected} bytes of data (shape ${JSON.stringify(h.shape)} x ${h.itemsize}) but only ${have} follow the header.`,
      {
        offset: h.dataOffset,
      },
    );
  } else if (have > expected) {
    ctx.report('MG302', `${have - expected} bytes follow the ${expected} bytes of array data.`, {
      offset: h.dataOffset + expected,
    });
    // numpy.load never reads them; look for a pickle there anyway.
    const tail = new ByteReader(ctx.source, h.dataOffset + expected);
    if (await tail.ensure(2)) {
      const head = tail.peek(Math.min(tail.available, 4096));
      if (looksLikePickle(head)) await scanPickle(ctx, tail, { allStreams: true, refineFormat: false });
    }
  }
}
