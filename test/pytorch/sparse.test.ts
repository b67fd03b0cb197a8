import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AnalysisContext, FileState } from '../../src/core/context.js';
import type { PlainValue } from '../../src/core/formats/pickle/values.js';
import { checkSparseTensors } from '../../src/core/formats/pytorch/sparse.js';
import { Budget, DEFAULT_LIMITS } from '../../src/core/limits.js';
import { scanPaths } from '../../src/core/scan.js';
import type { ByteSource } from '../../src/core/source.js';
import { FIXTURES, only, ruleIds, symbols } from '../helpers.js';

const DIR = join(FIXTURES, 'pytorch', 'sparse');

test('sparse tensors made by torch.save pass with no finding: COO (row- and column-major, hybrid, legacy format), CSR (int64, int32, batched), modern CSR/CSC/BSR/BSC', async () => {
  const names = readdirSync(join(DIR, 'benign'));
  assert.ok(names.length >= 8);
  const report = await scanPaths([join(DIR, 'benign')]);
  for (const f of report.files) {
    assert.deepEqual(f.findings, [], f.path);
    assert.equal(f.verdict, 'pass', f.path);
  }
});

test('sparse tensors whose index storage was edited out of range block (MG940, high), naming the storage', async () => {
  const expect: Record<string, { symbol: string; text: RegExp }> = {
    'indices_out_of_range.pt': { symbol: 'data/0', text: /COO .* index 1000000 in dimension 1/ },
    'indices_negative.pt': { symbol: 'data/0', text: /index -5 in dimension 0/ },
    'indices_out_of_range_legacy.pt': { symbol: 'storage ', text: /index 1000000 in dimension 1/ },
    'csr_col_out_of_range.pt': { symbol: 'data/1', text: /CSR .* column index 7/ },
    'csr_crow_overflow.pt': { symbol: 'data/0', text: /compressed index goes from 0 to 1000/ },
    'csr_crow_last.pt': { symbol: 'data/0', text: /ends at 4, not at the 5 stored entries/ },
    'bsc_row_out_of_range.pt': { symbol: 'data/12', text: /BSC .* row-block index 9/ },
  };
  assert.deepEqual(readdirSync(join(DIR, 'malicious')).sort(), Object.keys(expect).sort());
  for (const [name, want] of Object.entries(expect)) {
    const r = only(await scanPaths([join(DIR, 'malicious', name)]));
    assert.deepEqual(ruleIds(r), ['MG940'], name);
    assert.ok(symbols(r, 'MG940')[0]!.startsWith(want.symbol), name);
    assert.match(r.findings[0]!.message, want.text, name);
    assert.equal(r.severity, 'high', name);
    assert.equal(r.verdict, 'block', name);
  }
});

// ---- the checker on hand-built pickled values: chunk boundaries, byte order, what cannot be checked ----

const G = (module: string, name: string): PlainValue => ({ kind: 'global', module, name });
const call = (callee: PlainValue, args: PlainValue[]): PlainValue => ({
  kind: 'call',
  opcode: 'REDUCE',
  callee,
  args,
});
const layout = (name: string) => call(G('torch.serialization', '_get_layout'), [`torch.${name}`]);
const tensor = (key: string, type: string, offset: number, shape: number[], stride: number[]) =>
  call(G('torch._utils', '_rebuild_tensor_v2'), [
    { kind: 'persistent', pid: ['storage', G('torch', type), key, 'cpu', 0] },
    offset,
    shape,
    stride,
    false,
    null,
  ]);
const size = (s: number[]) => call(G('torch', 'Size'), [s]);
const sparse = (lay: string, data: PlainValue[]) =>
  call(G('torch._utils', '_rebuild_sparse_tensor'), [layout(lay), data]);

/** A storage served in 3-byte chunks, so that every int64 straddles a chunk boundary. */
function chunked(values: number[], width: 4 | 8, littleEndian = true): ByteSource {
  const buf = Buffer.alloc(values.length * width);
  values.forEach((v, i) => {
    if (width === 8)
      littleEndian ? buf.writeBigInt64LE(BigInt(v), i * 8) : buf.writeBigInt64BE(BigInt(v), i * 8);
    else littleEndian ? buf.writeInt32LE(v, i * 4) : buf.writeInt32BE(v, i * 4);
  });
  return {
    name: 'storage',
    size: buf.length,
    async *stream(start = 0, end = buf.length) {
      for (let p = start; p < Math.min(end, buf.length); p += 3) yield buf.subarray(p, Math.min(p + 3, end));
    },
  };
}

async function run(value: PlainValue, storages: Record<string, ByteSource>, littleEndian = true) {
  const state = new FileState(
    { limits: DEFAULT_LIMITS, allowGlobals: [] },
    new Budget(DEFAULT_LIMITS),
    undefined,
  );
  const ctx = new AnalysisContext(state, chunked([], 8), [], 0, async () => undefined);
  await checkSparseTensors(ctx, value, (k) => storages[k], {
    location: { member: 'data.pkl' },
    storageLabel: (k) => `data/${k}`,
    littleEndian,
  });
  return state.findings;
}

test('COO indices are streamed across chunk boundaries, from the view offset, in either byte order', async () => {
  // indices [[0, 1, 2], [2, 0, 1]] stored at element offset 2 of storage "i" (two leading junk values).
  const value = (vals: number[], le = true) =>
    run(
      sparse('sparse_coo', [
        tensor('i', 'LongStorage', 2, [2, 3], [3, 1]),
        tensor('v', 'FloatStorage', 0, [3], [1]),
        size([3, 3]),
      ]),
      { i: chunked(vals, 8, le) },
      le,
    );
  assert.deepEqual(await value([99, -7, 0, 1, 2, 2, 0, 1]), []);
  assert.deepEqual(await value([99, -7, 0, 1, 2, 2, 0, 1], false), []);
  const f = await value([0, 0, 0, 1, 2, 2, 0, 2 ** 40]);
  assert.equal(f.length, 1);
  assert.equal(f[0]!.severity, 'high');
  assert.match(f[0]!.message, /index 1099511627776 in dimension 1 \(entry 2\)/);
  // A view reaching past its storage is not read (torch refuses such a view when it rebuilds the tensor).
  const short = await value([0, 1, 2, 2, 0]);
  assert.equal(short.length, 1);
  assert.equal(short[0]!.severity, 'medium');
  assert.match(short[0]!.message, /extends past its 40 bytes/);
});

test('shape contradictions are violations without reading any index; unresolvable tensors are reported once as unchecked', async () => {
  const idx = tensor('i', 'LongStorage', 0, [2, 3], [3, 1]);
  const storages = { i: chunked([0, 1, 2, 2, 0, 1], 8) };
  // 3 indices but 2 values: kernels read values past their end.
  const fewValues = await run(
    sparse('sparse_coo', [idx, tensor('v', 'FloatStorage', 0, [2], [1]), size([3, 3])]),
    storages,
  );
  assert.match(fewValues[0]!.message, /3 indices but 2 values/);
  // CSR whose compressed index has the wrong length for its rows.
  const crow = tensor('c', 'LongStorage', 0, [3], [1]);
  const col = tensor('p', 'LongStorage', 0, [2], [1]);
  const csr = await run(
    sparse('sparse_csr', [crow, col, tensor('v', 'FloatStorage', 0, [2], [1]), size([3, 3])]),
    {
      c: chunked([0, 1, 2], 8),
      p: chunked([0, 1], 8),
    },
  );
  assert.match(csr[0]!.message, /3 entries per batch for 3 rows \(want 4\)/);
  // A layout that is not a constant, a non-contiguous COO view, an index storage missing from the file.
  const unresolved = await run(
    [
      call(G('torch._utils', '_rebuild_sparse_tensor'), [
        { kind: 'unknown', why: 'x' },
        [idx, null, size([3, 3])],
      ]),
      sparse('sparse_coo', [tensor('i', 'LongStorage', 0, [2, 3], [1, 5]), null, size([3, 3])]),
      sparse('sparse_coo', [tensor('gone', 'LongStorage', 0, [2, 3], [3, 1]), null, size([3, 3])]),
    ],
    storages,
  );
  assert.equal(unresolved.length, 1);
  assert.equal(unresolved[0]!.severity, 'medium');
  assert.match(unresolved[0]!.message, /^3 sparse tensor\(s\) whose indices could not be checked/);
});

test('CSR with int32 indices and a batch dimension is checked per batch', async () => {
  const value = (crow: number[], col: number[]) =>
    run(
      sparse('sparse_csr', [
        tensor('c', 'IntStorage', 0, [2, 3], [3, 1]),
        tensor('p', 'IntStorage', 0, [2, 2], [2, 1]),
        tensor('v', 'FloatStorage', 0, [2, 2], [2, 1]),
        size([2, 2, 2]),
      ]),
      { c: chunked(crow, 4), p: chunked(col, 4) },
    );
  assert.deepEqual(await value([0, 1, 2, 0, 2, 2], [0, 1, 0, 1]), []);
  assert.match((await value([0, 1, 2, 1, 2, 2], [0, 1, 0, 1]))[0]!.message, /starts at 1, not 0/);
  assert.match((await value([0, 1, 2, 0, 2, 2], [0, 1, 0, -1]))[0]!.message, /column index -1 \(entry 3\)/);
});
