// Sparse tensors in torch.save checkpoints. torch._utils._rebuild_sparse_tensor (and torch 1.x's
// _rebuild_sparse_csr_tensor) are on the weights_only allowlist and rebuild the tensor without checking it;
// torch.load validates the rebuilt tensors afterwards only when torch.sparse.check_sparse_tensor_invariants
// is enabled, which it is not by default since torch 2.8 (_validate_loaded_sparse_tensors returns early).
// Indices outside the declared size then reach .to_dense() and the sparse kernels as out-of-bounds writes
// (CVE-2025-62164 in vLLM prompt embeddings). This module models that validation statically: it reads the
// index storages from the file (streamed, bounded) and checks what torch's _validate_sparse_coo_tensor_args
// and _validate_sparse_compressed_tensor_args check about bounds.
import type { AnalysisContext } from '../../context.js';
import type { ByteSource } from '../../source.js';
import type { Location } from '../../types.js';
import type { PlainValue } from '../pickle/values.js';
import { storageRef } from './storages.js';

export const SPARSE_REBUILDERS = new Set([
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_sparse_csr_tensor',
]);
/** Index bytes read per file; sparse tensors past it are reported as not checked. */
const MAX_INDEX_BYTES_PER_FILE = 4 * 2 ** 30;
/** Sparse tensors analysed per pickle (each costs a few pickle-value lookups plus its index bytes). */
const MAX_SPARSE = 100_000;
/** Pickle-value nodes visited looking for sparse rebuild calls. */
const MAX_WALK = 20_000_000;

/** The bytes of a storage, by its persistent-id key (a `data/<key>` record, a raw legacy storage). */
export type StorageBytes = (key: string) => ByteSource | undefined;

interface Call {
  kind: 'call';
  callee: PlainValue;
  args: PlainValue;
}

function isObj(
  v: PlainValue | undefined,
): v is Exclude<
  PlainValue,
  null | boolean | number | bigint | string | PlainValue[] | Map<PlainValue, PlainValue>
> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map);
}

function isCall(v: PlainValue | undefined): v is PlainValue & Call {
  return isObj(v) && v.kind === 'call';
}

function globalName(v: PlainValue | undefined): string | undefined {
  return isObj(v) && v.kind === 'global' ? `${v.module}.${v.name}` : undefined;
}

function int(v: PlainValue | undefined): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(v);
  return undefined;
}

function ints(v: PlainValue | undefined): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: number[] = [];
  for (const x of v) {
    const n = int(x);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

/** A `torch.Size((...))` call or a plain tuple. */
function sizeOf(v: PlainValue | undefined): number[] | undefined {
  if (isCall(v))
    return globalName(v.callee) === 'torch.Size' && Array.isArray(v.args) ? ints(v.args[0]) : undefined;
  return ints(v);
}

/** `torch.sparse_csr` as `_get_layout('torch.sparse_csr')` (copyreg for torch.layout) or a bare global. */
function layoutOf(v: PlainValue | undefined): string | undefined {
  if (isCall(v) && globalName(v.callee) === 'torch.serialization._get_layout' && Array.isArray(v.args)) {
    const s = v.args[0];
    return typeof s === 'string' && s.startsWith('torch.') ? s.slice(6) : undefined;
  }
  const g = globalName(v);
  return g?.startsWith('torch.') ? g.slice(6) : undefined;
}

/** A dense tensor rebuilt from a storage in the file: `_rebuild_tensor_v2(storage, offset, size, stride, ...)`. */
interface View {
  key: string;
  /** 4 or 8 for IntStorage/LongStorage; undefined for other element types. */
  width: 4 | 8 | undefined;
  offset: number;
  shape: number[];
  stride: number[];
}

function viewOf(v: PlainValue | undefined): View | undefined {
  if (!isCall(v) || !Array.isArray(v.args)) return undefined;
  const callee = globalName(v.callee);
  if (callee !== 'torch._utils._rebuild_tensor_v2' && callee !== 'torch._utils._rebuild_tensor')
    return undefined;
  const [p, off, shape, stride] = v.args;
  if (!isObj(p) || p.kind !== 'persistent') return undefined;
  // A legacy view of a larger storage (pid[5] set) is not followed: reported as unchecked.
  if (Array.isArray(p.pid) && p.pid[5] !== undefined && p.pid[5] !== null) return undefined;
  const ref = storageRef(p.pid);
  const o = int(off);
  const sh = ints(shape);
  const st = ints(stride);
  if (!ref || o === undefined || o < 0 || !sh || !st || sh.length !== st.length) return undefined;
  const width =
    ref.typeName === 'torch.LongStorage' ? 8 : ref.typeName === 'torch.IntStorage' ? 4 : undefined;
  return { key: ref.key, width, offset: o, shape: sh, stride: st };
}

/** Row-major (C-contiguous) strides of a shape, ignoring dimensions of size 1 as torch does. */
function isContiguous(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) return false;
    expect *= shape[d]!;
  }
  return true;
}

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

/** Every sparse rebuild call in a pickled value (shared nodes visited once), and whether the walk finished. */
function findSparse(root: PlainValue): { calls: Array<PlainValue & Call>; complete: boolean } {
  const calls: Array<PlainValue & Call> = [];
  const seen = new Set<object>();
  const stack: PlainValue[] = [root];
  let n = 0;
  while (stack.length > 0) {
    if (n++ >= MAX_WALK || calls.length >= MAX_SPARSE) return { calls, complete: false };
    const v = stack.pop()!;
    if (!v || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v.kind === 'call') {
      if (SPARSE_REBUILDERS.has(globalName(v.callee) ?? '')) calls.push(v as PlainValue & Call);
      stack.push(v.callee, v.args, v.state ?? null, ...(v.items ?? []));
    } else if (v.kind === 'set' || v.kind === 'frozenset') for (const x of v.items) stack.push(x);
  }
  return { calls, complete: true };
}

/** Why a sparse tensor was not checked, or what is wrong with it. */
type Outcome =
  | { kind: 'ok' }
  | { kind: 'unchecked'; why: string }
  | { kind: 'bad'; message: string; key: string | undefined };

/** One index array to stream: where it is and what each element must satisfy. */
interface IndexRead {
  view: View;
  src: ByteSource;
}

class Reader {
  bytesRead = 0;
  constructor(
    private readonly ctx: AnalysisContext,
    private readonly storage: StorageBytes,
    private readonly littleEndian: boolean,
  ) {}

  /** The byte source of an index view, or why it cannot be read. */
  open(view: View, elements: number): IndexRead | string {
    if (view.width === undefined) return `index storage data/${view.key} is not int32/int64`;
    const src = this.storage(view.key);
    if (!src) return `index storage ${view.key} is not in the file`;
    const bytes = (view.offset + elements) * view.width;
    if (src.size !== undefined && bytes > src.size)
      return `index view of storage ${view.key} extends past its ${src.size} bytes`;
    if (this.bytesRead + elements * view.width > MAX_INDEX_BYTES_PER_FILE)
      return `index bytes beyond the ${MAX_INDEX_BYTES_PER_FILE / 2 ** 30} GiB read per file`;
    return { view, src };
  }

  /** Streams `count` integers of an index view (from its storage offset), a chunk at a time. */
  async *values(r: IndexRead, count: number): AsyncGenerator<Float64Array> {
    const w = r.view.width!;
    const le = this.littleEndian;
    const start = r.view.offset * w;
    const pending = new Uint8Array(8);
    let plen = 0;
    let left = count;
    const decode = (dv: DataView, p: number): number =>
      w === 4
        ? dv.getInt32(p, le)
        : // hi * 2^32 + lo is exact below 2^53 and stays out of any tensor size's range above it.
          le
          ? dv.getInt32(p + 4, true) * 4294967296 + dv.getUint32(p, true)
          : dv.getInt32(p, false) * 4294967296 + dv.getUint32(p + 4, false);
    for await (const c of r.src.stream(start, start + count * w)) {
      this.ctx.checkTime();
      this.bytesRead += c.length;
      const out = new Float64Array(Math.min(left, Math.floor((plen + c.length) / w)));
      let n = 0;
      let p = 0;
      if (plen > 0) {
        const need = w - plen;
        if (c.length < need) {
          pending.set(c, plen);
          plen += c.length;
          continue;
        }
        pending.set(c.subarray(0, need), plen);
        out[n++] = decode(new DataView(pending.buffer), 0);
        p = need;
        plen = 0;
      }
      const dv = new DataView(c.buffer, c.byteOffset, c.length);
      for (; p + w <= c.length && n < out.length; p += w) out[n++] = decode(dv, p);
      if (p < c.length) {
        pending.set(c.subarray(p, p + Math.min(w, c.length - p)), 0);
        plen = c.length - p;
      }
      left -= n;
      yield out.subarray(0, n);
      if (left <= 0) return;
    }
    if (left > 0) throw new ShortRead();
  }
}

class ShortRead extends Error {}

/** COO: `(indices [sparse_dim, nnz] int64, values [nnz, *dense], size[, is_coalesced])`. */
async function checkCoo(reader: Reader, data: PlainValue[]): Promise<Outcome> {
  const idx = viewOf(data[0]);
  const values = viewOf(data[1]);
  const size = sizeOf(data[2]);
  if (!idx || !size) return { kind: 'unchecked', why: 'COO indices or size not resolved' };
  if (idx.shape.length !== 2) return bad(`COO indices have shape [${idx.shape}], not [sparse_dim, nnz]`, idx);
  const [sd, nnz] = idx.shape as [number, number];
  if (sd > size.length) return bad(`COO indices have ${sd} rows for a ${size.length}-dimensional size`, idx);
  if (values) {
    if (values.shape[0] !== nnz)
      return bad(`COO has ${nnz} indices but ${values.shape[0] ?? 0} values`, values);
    const dense = size.slice(sd);
    if (values.shape.length !== 1 + dense.length || dense.some((s, k) => values.shape[1 + k] !== s))
      return bad(`COO values have shape [${values.shape}] for dense dimensions [${dense}]`, values);
  }
  const rowMajor = nnz <= 1 || sd <= 1 || (idx.stride[0] === nnz && idx.stride[1] === 1);
  const colMajor = idx.stride[0] === 1 && idx.stride[1] === sd;
  if (!rowMajor && !colMajor) return { kind: 'unchecked', why: 'COO indices are not a contiguous view' };
  const r = reader.open(idx, sd * nnz);
  if (typeof r === 'string') return { kind: 'unchecked', why: r };
  let d = 0;
  let j = 0;
  for await (const chunk of reader.values(r, sd * nnz)) {
    for (const x of chunk) {
      if (!(x >= 0 && x < size[d]!))
        return bad(
          `a sparse COO tensor of size [${size.join(', ')}] has index ${x} in dimension ${d} (entry ${j}): out of range`,
          idx,
        );
      if (rowMajor) {
        if (++j === nnz) {
          j = 0;
          d++;
        }
      } else if (++d === sd) {
        d = 0;
        j++;
      }
    }
  }
  return { kind: 'ok' };
}

/**
 * CSR/CSC/BSR/BSC: `(compressed [*B, n+1], plain [*B, nnz], values [*B, nnz, (bh, bw,) *dense], size)` with
 * size `[*B, rows, cols, *dense]`. torch requires compressed[..., 0] == 0, compressed[..., -1] == nnz,
 * 0 <= compressed[i] - compressed[i-1] <= plain dimension, and 0 <= plain < plain dimension.
 */
async function checkCompressed(reader: Reader, layout: string, data: PlainValue[]): Promise<Outcome> {
  const comp = viewOf(data[0]);
  const plain = viewOf(data[1]);
  const values = viewOf(data[2]);
  const size = sizeOf(data[3]);
  const name = layout.slice('sparse_'.length).toUpperCase();
  if (!comp || !plain || !size) return { kind: 'unchecked', why: `${name} indices or size not resolved` };
  const nb = comp.shape.length - 1;
  if (nb < 0 || plain.shape.length !== nb + 1 || comp.shape.slice(0, nb).some((b, k) => plain.shape[k] !== b))
    return bad(`${name} index shapes [${comp.shape}] and [${plain.shape}] disagree`, plain);
  if (size.length < nb + 2) return bad(`${name} size [${size}] has no matrix dimensions`, comp);
  const nnz = plain.shape[nb]!;
  let [bh, bw] = [1, 1];
  const blocked = layout === 'sparse_bsr' || layout === 'sparse_bsc';
  if (blocked) {
    if (!values) return { kind: 'unchecked', why: `${name} values not resolved (block size unknown)` };
    [bh, bw] = [values.shape[nb + 1] ?? 0, values.shape[nb + 2] ?? 0];
  }
  const rows = size[nb]!;
  const cols = size[nb + 1]!;
  if (bh <= 0 || bw <= 0 || rows % bh !== 0 || cols % bw !== 0)
    return bad(`${name} size [${size}] is not a multiple of its ${bh}x${bw} blocks`, values ?? comp);
  const byRow = layout === 'sparse_csr' || layout === 'sparse_bsr';
  const compDim = byRow ? rows / bh : cols / bw;
  const plainDim = byRow ? cols / bw : rows / bh;
  if (comp.shape[nb] !== compDim + 1)
    return bad(
      `${name} compressed indices have ${comp.shape[nb]} entries per batch for ${compDim} ${byRow ? 'rows' : 'columns'} (want ${compDim + 1})`,
      comp,
    );
  if (values) {
    const dense = size.slice(nb + 2);
    const want = [...size.slice(0, nb), nnz, ...(blocked ? [bh, bw] : []), ...dense];
    if (values.shape.length !== want.length || want.some((s, k) => values.shape[k] !== s))
      return bad(`${name} values have shape [${values.shape}], expected [${want}]`, values);
  }
  if (!isContiguous(comp.shape, comp.stride) || !isContiguous(plain.shape, plain.stride))
    return { kind: 'unchecked', why: `${name} indices are not contiguous views` };
  const batches = product(comp.shape.slice(0, nb));
  const rc = reader.open(comp, batches * (compDim + 1));
  const rp = typeof rc === 'string' ? rc : reader.open(plain, batches * nnz);
  if (typeof rc === 'string' || typeof rp === 'string')
    return { kind: 'unchecked', why: String(typeof rc === 'string' ? rc : rp) };
  let i = 0;
  let prev = 0;
  for await (const chunk of reader.values(rc, batches * (compDim + 1))) {
    for (const x of chunk) {
      let why: string | undefined;
      if (i === 0 && x !== 0) why = `starts at ${x}, not 0`;
      else if (i > 0 && !(x - prev >= 0 && x - prev <= plainDim))
        why = `goes from ${prev} to ${x} at entry ${i} (each step must be between 0 and ${plainDim})`;
      else if (i === compDim && x !== nnz) why = `ends at ${x}, not at the ${nnz} stored entries`;
      if (why)
        return bad(`a sparse ${name} tensor of size [${size.join(', ')}]: its compressed index ${why}`, comp);
      prev = x;
      if (++i > compDim) i = 0;
    }
  }
  let j = 0;
  for await (const chunk of reader.values(rp, batches * nnz)) {
    for (const x of chunk) {
      if (!(x >= 0 && x < plainDim))
        return bad(
          `a sparse ${name} tensor of size [${size.join(', ')}] has ${byRow ? 'column' : 'row'}${blocked ? '-block' : ''} index ${x} (entry ${j}): out of range (${plainDim})`,
          plain,
        );
      j++;
    }
  }
  return { kind: 'ok' };
}

function bad(message: string, v: View | undefined): Outcome {
  return { kind: 'bad', message, key: v?.key };
}

const COMPRESSED = new Set(['sparse_csr', 'sparse_csc', 'sparse_bsr', 'sparse_bsc']);

async function checkOne(reader: Reader, call: Call): Promise<Outcome> {
  const args = call.args;
  if (!Array.isArray(args) || args.length < 2 || !Array.isArray(args[1]))
    return { kind: 'unchecked', why: 'arguments not resolved' };
  const layout = layoutOf(args[0]);
  const data = args[1] as PlainValue[];
  try {
    if (layout === 'sparse_coo') return await checkCoo(reader, data);
    if (layout && COMPRESSED.has(layout)) return await checkCompressed(reader, layout, data);
  } catch (err) {
    if (err instanceof ShortRead) return { kind: 'unchecked', why: 'index storage shorter than its view' };
    throw err;
  }
  return { kind: 'unchecked', why: `layout ${layout ?? 'not a constant'}` };
}

export interface SparseCheckOptions {
  /** Where findings point (the data.pkl member, or the legacy pickle's offset). */
  location: Location;
  /** How the storage key is named in messages and symbols (`data/<key>` in zips, `storage <key>` in legacy files). */
  storageLabel: (key: string) => string;
  littleEndian?: boolean;
  /** Sparse rebuild calls the pickle scan counted (some may not survive into the plain value). */
  calls?: number;
}

/**
 * Reports sparse tensors (MG940): each one's index storages are read from the file and checked as torch's
 * validation would (bounds, compressed-index monotonicity, shapes): a violation is high; valid ones pass with
 * no finding; sparse tensors that cannot be checked (layout, view or storage not resolved, budget) are
 * reported together, medium, as needing validation at load.
 */
export async function checkSparseTensors(
  ctx: AnalysisContext,
  value: PlainValue | undefined,
  storage: StorageBytes,
  opts: SparseCheckOptions,
): Promise<void> {
  const found = value === undefined ? { calls: [], complete: true } : findSparse(value);
  const expected = Math.max(opts.calls ?? 0, found.calls.length);
  if (expected === 0 && found.complete) return;
  const reader = new Reader(ctx, storage, opts.littleEndian ?? true);
  const why = new Map<string, number>();
  const unchecked = (w: string) => why.set(w, (why.get(w) ?? 0) + 1);
  for (const call of found.calls) {
    const o = await checkOne(reader, call);
    if (o.kind === 'unchecked') unchecked(o.why);
    else if (o.kind === 'bad') {
      const where = o.key !== undefined ? opts.storageLabel(o.key) : undefined;
      ctx.report(
        'MG940',
        `${capital(o.message)}${where ? ` (${where})` : ''}. Densifying it or using it in sparse kernels reads or writes out of bounds in loaders that skip torch's sparse invariant checks (off by default since torch 2.8).`,
        { ...opts.location, symbol: where ?? 'sparse' },
        { severity: 'high', score: 60 },
      );
    }
  }
  const missing = expected - found.calls.length;
  if (missing > 0) unchecked('not resolved in the pickled value');
  if (!found.complete) unchecked('more sparse tensors than analysed');
  if (why.size === 0) return;
  const n = [...why.values()].reduce((a, b) => a + b, 0) + Math.max(0, missing - 1);
  ctx.report(
    'MG940',
    `${n} sparse tensor(s) whose indices could not be checked here (${[...why.keys()].slice(0, 3).join('; ')}): torch.load(weights_only=True) rebuilds them without validating the indices since torch 2.8; load with torch.sparse.check_sparse_tensor_invariants enabled.`,
    { ...opts.location, symbol: 'sparse' },
  );
}

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
