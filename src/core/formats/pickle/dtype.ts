// NumPy dtypes and joblib's NumpyArrayWrapper states as pickles carry them: enough to know how many raw
// bytes follow a wrapper and whether the array is an object array (an inline pickle).

import { PyCall, PyDict, PyGlobal, PyTuple, type PyValue } from './values.js';

export interface WrapperInfo {
  shape: number[];
  dtype: string;
  itemsize: number;
  bytes: number;
  object: boolean;
  aligned: boolean;
}

function dictGet(d: PyDict, key: string): PyValue | undefined {
  for (let i = 0; i < d.keys.length; i++) if (d.keys[i] === key) return d.values[i];
  return undefined;
}

/** Reads a joblib NumpyArrayWrapper BUILD state: shape, dtype (a numpy.dtype call), alignment flag. */
export function describeWrapper(state: PyValue): WrapperInfo | undefined {
  if (!(state instanceof PyDict) || state.dropped > 0) return undefined;
  // Every key must be known: a key the retention budget did not keep could be the alignment flag.
  if (state.keys.some((k) => typeof k !== 'string')) return undefined;
  const shapeV = dictGet(state, 'shape');
  const dtypeV = dictGet(state, 'dtype');
  if (!(shapeV instanceof PyTuple) || shapeV.dropped > 0) return undefined;
  const shape: number[] = [];
  let count = 1;
  for (const d of shapeV.items) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) return undefined;
    shape.push(d);
    count *= d;
  }
  const dt = describeDtype(dtypeV);
  if (!dt) return undefined;
  return {
    shape,
    dtype: dt.descr,
    itemsize: dt.itemsize,
    bytes: count * dt.itemsize,
    object: dt.object,
    aligned: dictGet(state, 'numpy_array_alignment_bytes') !== undefined,
  };
}

/** Item size and object-ness of a pickled numpy.dtype (REDUCE numpy.dtype(descr, align, copy) + BUILD state). */
export function describeDtype(
  v: PyValue | undefined,
  depth = 0,
): { descr: string; itemsize: number; object: boolean } | undefined {
  if (depth > 16) return undefined;
  if (!(v instanceof PyCall) || !(v.callee instanceof PyGlobal) || v.callee.name !== 'dtype')
    return undefined;
  const args = v.args;
  if (!(args instanceof PyTuple) || typeof args.items[0] !== 'string') return undefined;
  const descr = args.items[0] as string;
  let object = /^[<>|=]?O/.test(descr);
  let itemsize = descrItemsize(descr);
  const st = v.state;
  if (st !== undefined && !(st instanceof PyTuple)) return undefined;
  if (st instanceof PyTuple) {
    if (st.dropped > 0) return undefined;
    // Slot 2 is the sub-array (base dtype, shape): a `V16` dtype may be two objects, pickled inline.
    const sub = st.items[2];
    if (sub !== null && sub !== undefined) {
      if (!(sub instanceof PyTuple) || sub.dropped > 0) return undefined;
      const base = describeDtype(sub.items[0], depth + 1);
      if (!base) return undefined;
      if (base.object) object = true;
    }
    const fields = st.items[4];
    if (fields !== null && fields !== undefined && !(fields instanceof PyDict)) return undefined;
    if (fields instanceof PyDict) {
      if (fields.dropped > 0) return undefined;
      for (const fv of fields.values) {
        if (fv instanceof PyTuple && describeDtype(fv.items[0], depth + 1)?.object) object = true;
      }
    }
    const elsize = st.items[5];
    if (typeof elsize === 'number' && elsize > 0 && (itemsize === undefined || /^[<>|=]?V/.test(descr)))
      itemsize = elsize;
  }
  if (object) return { descr, itemsize: 8, object: true };
  if (itemsize === undefined) return undefined;
  return { descr, itemsize, object };
}

/** Item size of a numpy type string like `<f8`, `i4`, `U10`, `S3`, `V16`, `M8[ns]`, `b1`, `?`. */
export function descrItemsize(descr: string): number | undefined {
  const m = /^[<>|=]?([a-zA-Z?])(\d*)(\[\w+\])?$/.exec(descr);
  if (!m) return undefined;
  const kind = m[1]!;
  const n = m[2] ? Number(m[2]) : undefined;
  switch (kind) {
    case 'b':
    case 'i':
    case 'u':
    case 'f':
    case 'c':
    case 'M':
    case 'm':
      return n ?? (kind === 'b' ? 1 : undefined);
    case '?':
    case 'B':
      return 1;
    case 'S':
    case 'a':
    case 'V':
      return n ?? 0;
    case 'U':
      return (n ?? 0) * 4;
    case 'O':
      return 8;
    case 'e':
    case 'h':
    case 'H':
      return 2;
    case 'l':
    case 'L':
    case 'd':
    case 'q':
    case 'Q':
    case 'g':
      return 8;
    case 'I':
    case 'f4':
      return 4;
    default:
      return undefined;
  }
}
