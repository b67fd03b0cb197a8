// Resource attacks against the format parsers, through the real engine on real files: each must end
// quickly, in bounded memory, and never as a clean pass: `incomplete` naming the limit (MG001 ...), or
// malformed (MG002), or blocked. An internal error (MG003) is a parser bug and fails these tests.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { measureScan } from '../../bench/lib.js';
import { DEFAULT_LIMITS, type LimitName, type Limits } from '../../src/core/limits.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';
import { noise, pbBytes, pbVarint, pk, zip } from './writers.js';

function policy(limits: Partial<Limits> = {}): Policy {
  return { ...structuredClone(DEFAULT_POLICY), limits: { ...DEFAULT_LIMITS, ...limits } } as Policy;
}

async function scanOne(
  dir: string,
  name: string,
  data: Uint8Array,
  limits: Partial<Limits> = {},
): Promise<FileReport> {
  const p = join(dir, name);
  writeFileSync(p, data);
  const t0 = Date.now();
  const report = await scanPaths([p], { policy: policy(limits) });
  const ms = Date.now() - t0;
  assert.ok(ms < 30_000, `${name} scanned in ${ms} ms`);
  assert.equal(report.files.length, 1);
  return report.files.at(0)!;
}

const summary = (f: FileReport) =>
  `${f.path}: ${f.verdict} ${f.format} [${f.findings.map((x) => `${x.ruleId} ${x.message}`).join(' | ')}]`;

/** Not a pass, no internal error, and stopped by one of `limits` (MG001 naming it) or, if allowed, as malformed. */
function assertStopped(
  f: FileReport,
  limits: LimitName[],
  opts: { malformedOk?: boolean; blockOk?: boolean } = {},
): void {
  assert.ok(!f.findings.some((x) => x.ruleId === 'MG003'), `no internal error: ${summary(f)}`);
  assert.notEqual(f.verdict, 'pass', summary(f));
  assert.notEqual(f.verdict, 'warn', summary(f));
  const byLimit = f.findings.some((x) => x.ruleId === 'MG001' && limits.some((l) => x.message.includes(l)));
  const malformed =
    opts.malformedOk &&
    f.findings.some((x) => /^MG\d+$/.test(x.ruleId) && x.ruleId !== 'MG001' && f.verdict === 'incomplete');
  const blocked = opts.blockOk && f.verdict === 'block';
  assert.ok(byLimit || malformed || blocked, `stopped by ${limits.join('/')}: ${summary(f)}`);
}

test('zip bomb by ratio: a member that inflates 1000x is stopped at maxCompressionRatio', async () => {
  const dir = tempDir(after);
  const bomb = zip([{ name: 'weights.bin', data: Buffer.alloc(50 << 20) }]); // 50 MiB of zeros -> ~50 KiB
  assert.ok(bomb.length < 200 << 10);
  const f = await scanOne(dir, 'bomb.zip', bomb);
  assertStopped(f, ['maxCompressionRatio']);
});

test('zip bomb by total size: many members each under the ratio limit stop at maxDecompressedBytes', async () => {
  const dir = tempDir(after);
  const members = Array.from({ length: 8 }, (_, i) => ({
    name: `part${i}.dat`,
    data: noise(1 << 20, i + 1),
  }));
  const f = await scanOne(dir, 'parts.zip', zip(members), { maxDecompressedBytes: 3 << 20 });
  assertStopped(f, ['maxDecompressedBytes']);
});

test('a gzip stream that inflates past maxDecompressedBytes is stopped, whatever its ratio', async () => {
  const dir = tempDir(after);
  const f = await scanOne(dir, 'model.pkl.gz', gzipSync(noise(4 << 20, 3)), {
    maxDecompressedBytes: 1 << 20,
  });
  assertStopped(f, ['maxDecompressedBytes']);
});

test('nested archives past maxDepth: gzip in gzip ... (12 levels) and zip in zip (12 levels)', async () => {
  const dir = tempDir(after);
  let gz: Buffer = Buffer.concat([pk.proto(2), pk.binint1(1), pk.stop]);
  for (let i = 0; i < 12; i++) gz = gzipSync(gz);
  assertStopped(await scanOne(dir, 'deep.gz', gz), ['maxDepth']);
  let z: Buffer = Buffer.from('innermost');
  for (let i = 0; i < 12; i++) z = zip([{ name: `level${i}.zip`, data: z, method: 0 }]);
  assertStopped(await scanOne(dir, 'deep.zip', z), ['maxDepth']);
});

test('a payload hidden below maxDepth is not a pass: the depth limit makes the file incomplete', async () => {
  const dir = tempDir(after);
  const evil = Buffer.concat([
    pk.proto(2),
    pk.global('os', 'system'),
    pk.short('echo hi'),
    pk.tuple1,
    pk.reduce,
    pk.stop,
  ]);
  let z: Buffer = evil;
  for (let i = 0; i < 10; i++) z = zip([{ name: i === 0 ? 'data.pkl' : `l${i}.zip`, data: z, method: 0 }]);
  const f = await scanOne(dir, 'hidden.zip', z);
  assertStopped(f, ['maxDepth'], { blockOk: true });
});

test('pickle with a billion-element memo index: no allocation by index, the memo round trip still resolves', async () => {
  const dir = tempDir(after);
  // Benign: BININT1 1, LONG_BINPUT 1e9, POP, LONG_BINGET 1e9, STOP. Python's memo is a dict: this loads.
  const benign = Buffer.concat([
    pk.proto(2),
    pk.binint1(1),
    pk.longBinput(1e9),
    pk.pop,
    pk.longBinget(1e9),
    pk.stop,
  ]);
  const f = await scanOne(dir, 'memo.pkl', benign);
  assert.ok(!f.findings.some((x) => x.ruleId === 'MG003'), summary(f));
  assert.notEqual(f.verdict, 'block', summary(f));
  // Malicious: os.system stored at index 4294967295 and fetched back before the call.
  const evil = Buffer.concat([
    pk.proto(4),
    pk.short('os'),
    pk.short('system'),
    pk.stackGlobal,
    pk.longBinput(0xffffffff),
    pk.pop,
    pk.longBinget(0xffffffff),
    pk.short('echo hi'),
    pk.tuple1,
    pk.reduce,
    pk.stop,
  ]);
  const g = await scanOne(dir, 'memo-evil.pkl', evil);
  assert.equal(g.verdict, 'block', summary(g));
  assert.ok(
    g.findings.some((x) => x.location.symbol === 'os.system'),
    summary(g),
  );
});

test('pickle memo growth past maxMemo is stopped with the limit name', async () => {
  const dir = tempDir(after);
  const parts: Buffer[] = [pk.proto(2), pk.emptyList, pk.mark];
  for (let i = 0; i < 5000; i++) parts.push(pk.binint1(i & 0xff), pk.longBinput(i));
  parts.push(pk.appends, pk.stop);
  assertStopped(await scanOne(dir, 'memo-many.pkl', Buffer.concat(parts), { maxMemo: 1000 }), ['maxMemo']);
});

test('GGUF claiming 2^63 tensors and 2^63 metadata entries: no allocation, not a pass', async () => {
  const dir = tempDir(after);
  for (const [tensors, kvs] of [
    [2n ** 63n, 0n],
    [0n, 2n ** 63n],
    [2n ** 64n - 1n, 2n ** 64n - 1n],
  ] as const) {
    const h = Buffer.alloc(24);
    h.write('GGUF', 0, 'latin1');
    h.writeUInt32LE(3, 4);
    h.writeBigUInt64LE(tensors, 8);
    h.writeBigUInt64LE(kvs, 16);
    const f = await scanOne(dir, 'huge.gguf', Buffer.concat([h, Buffer.alloc(64)]));
    assertStopped(f, ['maxEntries'], { malformedOk: true, blockOk: true });
  }
});

test('safetensors header length 2^64-1 (and 2^63, and just past the file) is rejected without allocating', async () => {
  const dir = tempDir(after);
  for (const len of [2n ** 64n - 1n, 2n ** 63n, 1000n]) {
    const h = Buffer.alloc(8);
    h.writeBigUInt64LE(len, 0);
    const f = await scanOne(dir, 'model.safetensors', Buffer.concat([h, Buffer.from('{"a":1}')]));
    assertStopped(f, ['maxDocumentBytes'], { malformedOk: true, blockOk: true });
  }
});

test('deeply nested JSON (a 200000-deep array) in config.json and a safetensors header: no stack overflow', async () => {
  const dir = tempDir(after);
  const deep = `{"architectures":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
  assertStopped(await scanOne(dir, 'config.json', Buffer.from(deep)), ['maxStackDepth', 'maxDepth'], {
    malformedOk: true,
  });
  const header = `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"__metadata__":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
  const h = Buffer.alloc(8);
  h.writeBigUInt64LE(BigInt(header.length), 0);
  const st = await scanOne(dir, 'deep.safetensors', Buffer.concat([h, Buffer.from(header), Buffer.alloc(4)]));
  assertStopped(st, ['maxStackDepth', 'maxDepth'], { malformedOk: true });
});

test('deeply nested protobuf (ONNX graph in attribute in node in graph, 3000 levels): no stack overflow', async () => {
  const dir = tempDir(after);
  // GraphProto { node: NodeProto { op_type: "If", attribute: AttributeProto { name: "g", type: GRAPH, g: GraphProto {...} } } }
  let graph: Buffer = pbBytes(2, Buffer.from('leaf')); // GraphProto.name
  for (let i = 0; i < 3000; i++) {
    const attr = Buffer.concat([pbBytes(1, Buffer.from('then_branch')), pbVarint(20, 5), pbBytes(6, graph)]);
    const node = Buffer.concat([pbBytes(4, Buffer.from('If')), pbBytes(5, attr)]);
    graph = pbBytes(1, node);
  }
  const model = Buffer.concat([
    pbVarint(1, 8),
    pbBytes(8, Buffer.concat([pbBytes(1, Buffer.from('')), pbVarint(2, 17)])),
    pbBytes(7, graph),
  ]);
  const f = await scanOne(dir, 'deep.onnx', model);
  assertStopped(f, ['maxStackDepth', 'maxDepth'], { malformedOk: true });
});

test('a 100 MB single-line JSON is handled in bounded memory (child process peak RSS) and never passes unread', async () => {
  const dir = tempDir(after);
  const p = join(dir, 'config.json');
  // {"model_type":"bert","vocab":"xxxx...100 MB...xxxx"}: one line, one huge string.
  const body = Buffer.alloc(100 << 20, 0x78);
  writeFileSync(p, Buffer.concat([Buffer.from('{"model_type":"bert","vocab":"'), body, Buffer.from('"}')]));
  const r = await measureScan([p]);
  const grown = (r.peakRss - r.baseRss) / 2 ** 20;
  assert.ok(grown < 200, `peak RSS grew by ${grown.toFixed(0)} MB over the process at rest`);
  assert.ok(!r.rules.includes('MG003'), `no internal error (rules ${r.rules})`);
  // Over the default maxDocumentBytes (48 MiB): incomplete, naming the limit, not read into memory.
  assert.equal(r.verdict, 'incomplete');
  assert.ok(r.rules.includes('MG001'), `MG001 (rules ${r.rules})`);
  // A document over maxDocumentBytes must not be silently skipped as clean.
  const f = await scanOne(
    dir,
    'config.json',
    Buffer.concat([
      Buffer.from('{"model_type":"bert","vocab":"'),
      Buffer.alloc(2 << 20, 0x78),
      Buffer.from('"}'),
    ]),
    { maxDocumentBytes: 1 << 20 },
  );
  assertStopped(f, ['maxDocumentBytes']);
});

// Found by fuzz/run.ts (a 31-byte splice): a zstd frame header whose window descriptor claims a 1 GiB window
// made the decoder (fzstd) allocate the whole window up front: 2.2 GB of RSS for 31 bytes of input
// (fixed in codecs.ts: windows over 128 MiB are refused).
test('a zstd frame claiming a 1 GiB window does not allocate it (bounded RSS), and is not a pass', async () => {
  const dir = tempDir(after);
  const p = join(dir, 'model.pkl.zst');
  // Magic, frame header descriptor 0x00 (no single segment), window descriptor 0xa0: 2^(10+20) bytes.
  writeFileSync(p, Buffer.from('28b52ffd00a0400000c0400000e04000000041000010410000204100003041', 'hex'));
  const r = await measureScan([p]);
  const grown = (r.peakRss - r.baseRss) / 2 ** 20;
  assert.ok(grown < 200, `peak RSS grew by ${grown.toFixed(0)} MB for a 31-byte file`);
  assert.notEqual(r.verdict, 'pass');
  assert.ok(!r.rules.includes('MG003'), `no internal error (rules ${r.rules})`);
});
