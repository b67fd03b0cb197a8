// The public scanPickle API that other analyzers (PyTorch zip, legacy torch, TorchScript, npy) build on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AnalysisContext, FileState } from '../../src/core/context.js';
import { scanNested } from '../../src/core/engine.js';
import { type PlainValue, scanPickle } from '../../src/core/formats/pickle/index.js';
import { looksLikePickle } from '../../src/core/formats/pickle/sniff.js';
import { Budget, DEFAULT_LIMITS, type Limits } from '../../src/core/limits.js';
import { ByteReader } from '../../src/core/reader.js';
import { bufferSource } from '../../src/core/source.js';
import { FIXTURES } from '../helpers.js';

function context(
  data: Uint8Array,
  limits: Partial<Limits> = {},
  allow: Array<{ module: string; name: string }> = [],
) {
  const l = { ...DEFAULT_LIMITS, ...limits };
  const state = new FileState({ limits: l, allowGlobals: allow }, new Budget(l), undefined);
  return { state, ctx: new AnalysisContext(state, bufferSource('t.pkl', data), [], 0, scanNested) };
}

const fx = (p: string) => readFileSync(join(FIXTURES, 'pickle', p));

test('torch data.pkl: value, persistent storage ids and a weights-only verdict', async () => {
  const data = fx('benign/torch_state_dict_data.pkl');
  const { ctx, state } = context(data);
  const r = await scanPickle(ctx, new ByteReader(ctx.source), {
    torch: true,
    persistentStorage: true,
    member: 'archive/data.pkl',
  });
  assert.equal(r.broken, undefined);
  assert.equal(r.endOffset, data.length);
  assert.equal(r.weightsOnly.loadable, true, r.weightsOnly.reasons.join('; '));
  assert.ok(r.persistentIds.length >= 4);
  const pid = r.persistentIds[0]!.pid as PlainValue[];
  assert.equal(pid[0], 'storage');
  assert.deepEqual(pid[1], { kind: 'global', module: 'torch', name: 'FloatStorage' });
  assert.equal(pid[3], 'cpu');
  assert.equal(typeof pid[4], 'number');
  // The STOP value: an OrderedDict built by REDUCE with its items set afterwards.
  const v = r.value as { kind: string; callee: unknown; items?: PlainValue[] };
  assert.equal(v.kind, 'call');
  assert.deepEqual(v.callee, { kind: 'global', module: 'collections', name: 'OrderedDict' });
  assert.ok((v.items?.length ?? 0) >= 4);
  assert.ok(r.imports.every((i) => i.classification === 'allowed'));
  assert.ok(r.calls.some((c) => c.callee === 'torch._utils._rebuild_tensor_v2'));
  assert.equal(state.findings.length, 0, JSON.stringify(state.findings));
  assert.ok(state.facts['archive/data.pkl:weightsOnly']);
});

test('one stream at a time: the reader is left just past STOP (legacy torch reads several)', async () => {
  const a = fx('benign/data_p2.pkl');
  const b = fx('malicious/reduce_os_system_p2.pkl');
  const data = Buffer.concat([a, b, Buffer.from('raw storage bytes')]);
  const { ctx, state } = context(data);
  const reader = new ByteReader(ctx.source);
  const r1 = await scanPickle(ctx, reader);
  assert.equal(r1.endOffset, a.length);
  assert.equal(reader.pos, a.length);
  assert.equal(state.findings.length, 0);
  const r2 = await scanPickle(ctx, reader);
  assert.equal(r2.endOffset, a.length + b.length);
  assert.equal(r2.imports[0]?.symbol, 'os.system');
  assert.equal(r2.imports[0]?.classification, 'dangerous');
  assert.ok(state.findings.some((f) => f.ruleId === 'MG100' && f.location.offset! >= a.length));
  assert.equal(r2.calls[0]?.callee, 'os.system');
});

test('allStreams: junk, a second stream and trailing bytes are all reported', async () => {
  const data = fx('malicious/second_stream_after_junk.pkl');
  const { ctx, state } = context(data);
  const r = await scanPickle(ctx, new ByteReader(ctx.source), { allStreams: true });
  assert.equal(r.streams, 2);
  const ids = state.findings.map((f) => f.ruleId).sort();
  assert.deepEqual([...new Set(ids)], ['MG100', 'MG110', 'MG111']);
});

test('joblib: raw array bytes are skipped by the wrapper state and the value keeps the arrays', async () => {
  const data = fx('benign/joblib_arrays.joblib');
  const { ctx, state } = context(data);
  const r = await scanPickle(ctx, new ByteReader(ctx.source), { allStreams: true });
  assert.equal(r.joblib, true);
  assert.equal(r.broken, undefined);
  assert.equal(r.endOffset, data.length);
  assert.equal(state.format, 'joblib');
  assert.equal(state.findings.length, 0, JSON.stringify(state.findings));
});

test('policy allowGlobals allows exact names; the denylist always wins', async () => {
  const unknown = fx('benign/unknown_one_class.pkl');
  const a = context(unknown, {}, [{ module: 'mypkg.models', name: 'Net' }]);
  await scanPickle(a.ctx, new ByteReader(a.ctx.source));
  assert.equal(a.state.findings.length, 0);
  const evil = fx('malicious/reduce_os_system_p4.pkl');
  const b = context(evil, {}, [
    { module: 'os', name: 'system' },
    { module: 'posix', name: 'system' },
  ]);
  await scanPickle(b.ctx, new ByteReader(b.ctx.source));
  assert.ok(b.state.findings.some((f) => f.ruleId === 'MG100'));
});

test('budgets: opcodes, memo and stack depth stop the scan with MG001, findings so far kept', async () => {
  const evil = Buffer.concat([
    fx('malicious/reduce_os_system_p2.pkl').subarray(0, -1),
    Buffer.from('0'.repeat(0)),
    Buffer.from(']'.repeat(20000) + '.'),
  ]);
  const a = context(evil, { maxOpcodes: 5000 });
  const r = await scanPickle(a.ctx, new ByteReader(a.ctx.source));
  assert.ok(r.broken?.reason.startsWith('budget'));
  const ids = a.state.findings.map((f) => f.ruleId);
  assert.ok(ids.includes('MG001') && ids.includes('MG100'), ids.join());

  // A memo index of a billion does not allocate; the memo count limit holds.
  const memo = Buffer.from([
    0x80, 0x02, 0x4e, 0x72, 0x00, 0xca, 0x9a, 0x3b, 0x6a, 0x00, 0xca, 0x9a, 0x3b, 0x2e,
  ]);
  const m = context(memo);
  const rm = await scanPickle(m.ctx, new ByteReader(m.ctx.source));
  assert.equal(rm.broken, undefined);
  const many = Buffer.concat([Buffer.from([0x80, 0x04, 0x4e]), Buffer.alloc(3000, 0x94), Buffer.from('.')]);
  const mm = context(many, { maxMemo: 1000 });
  await scanPickle(mm.ctx, new ByteReader(mm.ctx.source));
  assert.ok(mm.state.findings.some((f) => f.ruleId === 'MG001' && f.message.includes('maxMemo')));
});

test('large payloads are skipped by length, not buffered (and not mistaken for structure)', async () => {
  const big = 3 * 2 ** 20;
  const data = Buffer.concat([
    Buffer.from([0x80, 0x04, 0x8e]),
    Buffer.from(new BigUint64Array([BigInt(big)]).buffer),
    Buffer.alloc(big, 0x63),
    Buffer.from('.'),
  ]);
  const { ctx, state } = context(data, { maxStringBytes: 1024 });
  const r = await scanPickle(ctx, new ByteReader(ctx.source));
  assert.equal(r.broken, undefined);
  assert.deepEqual(r.value, { kind: 'bytes', length: big });
  assert.equal(state.findings.length, 0);
});

test('protocol 0/1 detection is strict on text', () => {
  const texts = [
    '{"a": 1}',
    '[1, 2]',
    'a,b\n1,2\n',
    'import os\n',
    '# x\n',
    '(a) note\n',
    'hello world\n',
    'cat\ndog\nemu\n',
    'V1.0\nBug fixes\n',
    'N',
    '',
  ];
  for (const t of texts) assert.equal(looksLikePickle(Buffer.from(t), { complete: true }), undefined, t);
  assert.equal(looksLikePickle(Buffer.from("cos\nsystem\n(S'x'\ntR."), { complete: true }), 'text');
  assert.equal(looksLikePickle(Buffer.from('(lp0\nI1\na.'), { complete: true }), 'text');
  assert.equal(looksLikePickle(Buffer.from([0x80, 0x02, 0x5d, 0x2e])), 'proto');
});

test('past the retention budget, joblib wrapper states and dtypes are still understood', async () => {
  for (const f of ['benign/joblib_arrays.joblib', 'benign/sk_forest.joblib', 'benign/sk_histgb.joblib']) {
    const data = fx(f);
    const { ctx, state } = context(data);
    const r = await scanPickle(ctx, new ByteReader(ctx.source), { allStreams: true, maxRetained: 500 });
    assert.equal(r.broken, undefined, f);
    assert.equal(r.endOffset, data.length, f);
    assert.deepEqual(state.findings, [], f);
  }
});

test('when even small values are past the hard cap, a joblib wrapper fails closed (MG303), never desyncs', async () => {
  const data = fx('benign/sk_forest.joblib');
  const { ctx, state } = context(data);
  const r = await scanPickle(ctx, new ByteReader(ctx.source), { allStreams: true, maxRetained: 20 });
  assert.ok(r.broken);
  const ids = new Set(state.findings.map((f) => f.ruleId));
  assert.ok(ids.has('MG303'));
  assert.ok(!ids.has('MG107') && !ids.has('MG108'));
});

test('deep or wide structures do not keep unbounded values', async () => {
  // 200k TUPLE2 nodes folded into one tree: the VM keeps at most 8 x maxRetained items.
  const body = Buffer.concat([
    Buffer.from([0x80, 0x02, 0x4e]),
    Buffer.from('N\x86'.replace('\\x86', '\x86').repeat(200_000), 'latin1'),
    Buffer.from('.'),
  ]);
  const { ctx } = context(body);
  const r = await scanPickle(ctx, new ByteReader(ctx.source), { maxRetained: 1000, value: false });
  assert.equal(r.broken, undefined);
});

test('deeply nested values and call chains convert without exhausting the JS stack', async () => {
  const deep = Buffer.concat([
    Buffer.from([0x80, 0x02, 0x4e]),
    Buffer.alloc(100_000, 0x85),
    Buffer.from('.'),
  ]);
  const a = context(deep);
  const r = await scanPickle(a.ctx, new ByteReader(a.ctx.source));
  assert.equal(r.broken, undefined);
  assert.ok(Array.isArray(r.value));
  // A chain of 50k calls on call results: reported once as a computed callable.
  const chain = Buffer.concat([
    Buffer.from([0x80, 0x02]),
    Buffer.from('cmypkg\nf\n'),
    Buffer.from(')R'.repeat(50_000)),
    Buffer.from('.'),
  ]);
  const b = context(chain);
  await scanPickle(b.ctx, new ByteReader(b.ctx.source));
  assert.ok(b.state.findings.some((f) => f.ruleId === 'MG101'));
  assert.ok(b.state.findings.length < 20);
});
