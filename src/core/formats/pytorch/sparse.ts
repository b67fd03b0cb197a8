// Sparse tensors in torch.save checkpoints: torch._utils._rebuild_sparse_tensor is on the weights_only allowlist,
// and since torch 2.8 the sparse invariants are not checked at load, so indices outside the declared size
// reach .to_dense() and sparse kernels as out-of-bounds writes (CVE-2025-62164 in vLLM prompt embeddings).
import type { AnalysisContext } from '../../context.js';
import type { PlainValue } from '../pickle/values.js';
import type { ZipEntry } from '../zip/reader.js';
import { storageRef } from './storages.js';

const SPARSE_REBUILDERS = new Set([
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_sparse_csr_tensor',
]);
/** Index storages larger than this are not read (their bounds are then reported as unchecked). */
const MAX_INDEX_BYTES = 64 << 20;
const MAX_SPARSE = 64;

interface Call {
  kind: 'call';
  callee: PlainValue;
  args: PlainValue;
}

function isCall(v: PlainValue): v is PlainValue & Call {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && v.kind === 'call';
}

function calleeName(v: PlainValue): string | undefined {
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Map) && v.kind === 'global')
    return `${v.module}.${v.name}`;
  return undefined;
}

function ints(v: PlainValue): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: number[] = [];
  for (const x of v) {
    if (typeof x === 'number' && Number.isSafeInteger(x)) out.push(x);
    else if (typeof x === 'bigint' && x >= 0n && x <= BigInt(Number.MAX_SAFE_INTEGER)) out.push(Number(x));
    else return undefined;
  }
  return out;
}

/** Every sparse rebuild call in a pickled value (bounded walk; shared nodes visited once). */
function findSparse(root: PlainValue): Array<PlainValue & Call> {
  const out: Array<PlainValue & Call> = [];
  const seen = new Set<object>();
  const stack: PlainValue[] = [root];
  let n = 0;
  while (stack.length > 0 && n++ < 200_000 && out.length < MAX_SPARSE) {
    const v = stack.pop()!;
    if (!v || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) stack.push(...v);
    else if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    else if (v.kind === 'call') {
      if (SPARSE_REBUILDERS.has(calleeName(v.callee) ?? '')) out.push(v as PlainValue & Call);
      stack.push(v.args, v.state ?? null, ...(v.items ?? []));
    } else if (v.kind === 'set' || v.kind === 'frozenset') stack.push(...v.items);
  }
  return out;
}

/**
 * The indices tensor of a COO rebuild: `_rebuild_sparse_tensor(torch.sparse_coo, (indices, values, size[, coalesced]))`
 * with indices `_rebuild_tensor_v2(persistent('storage', LongStorage, key, loc, numel), offset, (ndim, nnz), stride)`.
 */
function cooIndices(
  call: Call,
): { key: string; offset: number; ndim: number; nnz: number; size: number[] } | undefined {
  const args = call.args;
  if (!Array.isArray(args) || args.length < 2 || !Array.isArray(args[1])) return undefined;
  const [indices, , size] = args[1] as PlainValue[];
  // The size is a torch.Size(...) call (or a plain tuple in older files).
  const shape = isCall(size ?? null)
    ? calleeName((size as Call).callee) === 'torch.Size' && Array.isArray((size as Call).args)
      ? ints(((size as Call).args as PlainValue[])[0] ?? null)
      : undefined
    : ints(size ?? null);
  if (!isCall(indices ?? null) || !shape) return undefined;
  const ia = (indices as Call).args;
  if (!Array.isArray(ia) || ia.length < 4) return undefined;
  const p = ia[0];
  const pid =
    p && typeof p === 'object' && !Array.isArray(p) && !(p instanceof Map) && p.kind === 'persistent'
      ? p.pid
      : undefined;
  const ref = pid !== undefined ? storageRef(pid) : undefined;
  const off = ints([ia[1]!])?.[0];
  const dims = ints(ia[2]!);
  const stride = ints(ia[3]!);
  if (ref?.typeName !== 'torch.LongStorage' || off === undefined || dims?.length !== 2) return undefined;
  // Contiguous (ndim, nnz) layout as torch.save writes it.
  if (!stride || stride[0] !== dims[1] || (stride[1] !== 1 && dims[1]! > 1)) return undefined;
  return { key: ref.key, offset: off, ndim: dims[0]!, nnz: dims[1]!, size: shape };
}

/**
 * Reports sparse tensors (MG940): each COO tensor whose int64 index storage is in the archive has its indices
 * checked against its size (out of range: high); any other sparse tensor (CSR, a layout or storage not
 * resolved) is reported as needing validation (medium).
 */
export async function checkSparseTensors(
  ctx: AnalysisContext,
  value: PlainValue | undefined,
  storageEntry: (key: string) => ZipEntry | undefined,
  member: string,
): Promise<void> {
  if (value === undefined) return;
  const found = findSparse(value);
  if (found.length === 0) return;
  let unchecked = 0;
  for (const call of found) {
    const idx = cooIndices(call);
    const e = idx ? storageEntry(idx.key) : undefined;
    const need = idx ? (idx.offset + idx.ndim * idx.nnz) * 8 : 0;
    if (!idx || !e || need > MAX_INDEX_BYTES || idx.size.length !== idx.ndim) {
      unchecked++;
      continue;
    }
    const bytes = await readPrefix(e, need);
    if (!bytes || bytes.length < need) {
      unchecked++;
      continue;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let bad: { d: number; j: number; v: bigint } | undefined;
    for (let d = 0; d < idx.ndim && !bad; d++)
      for (let j = 0; j < idx.nnz; j++) {
        const v = view.getBigInt64((idx.offset + d * idx.nnz + j) * 8, true);
        if (v < 0n || v >= BigInt(idx.size[d]!)) {
          bad = { d, j, v };
          break;
        }
      }
    if (bad)
      ctx.report(
        'MG940',
        `A sparse COO tensor of size [${idx.size.join(', ')}] has index ${bad.v} in dimension ${bad.d} (entry ${bad.j}, storage data/${idx.key}): out of range. Densifying it or using it in sparse kernels writes out of bounds in loaders that skip torch's invariant checks (off by default since torch 2.8).`,
        { member, symbol: `data/${idx.key}` },
        { severity: 'high', score: 60 },
      );
  }
  if (unchecked > 0)
    ctx.report(
      'MG940',
      `${unchecked} sparse tensor(s) whose indices could not be checked here (layout or index storage not resolved): torch.load(weights_only=True) rebuilds them without validating the indices since torch 2.8; load with torch.sparse.check_sparse_tensor_invariants enabled.`,
      { member, symbol: 'sparse' },
    );
}

async function readPrefix(e: ZipEntry, n: number): Promise<Uint8Array | undefined> {
  const src = e.open();
  if (!src) return undefined;
  const parts: Uint8Array[] = [];
  let got = 0;
  for await (const c of src.stream(0, n)) {
    parts.push(c);
    got += c.length;
    if (got >= n) break;
  }
  return Buffer.concat(parts).subarray(0, n);
}
