// Every budget in src/core/limits.ts, hit through a real format with a small override: the file is
// `incomplete` (never pass or warn) with an MG001 finding that names the limit. (maxFileBytes, maxTimeMs via
// the watchdog, maxDocumentBytes, maxDecompressedBytes, maxCompressionRatio, maxDepth and maxMemo are also
// covered in filesystem, fail-closed and resource-attacks tests.)
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_LIMITS, LIMIT_NAMES, type LimitName, type Limits } from '../../src/core/limits.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';
import { pk, zip } from './writers.js';

async function scan(name: string, data: Uint8Array, limits: Partial<Limits>): Promise<FileReport> {
  const dir = tempDir(after);
  writeFileSync(join(dir, name), data);
  const policy = { ...structuredClone(DEFAULT_POLICY), limits: { ...DEFAULT_LIMITS, ...limits } } as Policy;
  const r = await scanPaths([join(dir, name)], { policy });
  return r.files.at(0)!;
}

function assertLimit(f: FileReport, limit: LimitName): void {
  const show = `${f.verdict}: ${f.findings.map((x) => `${x.ruleId} ${x.message}`).join(' | ')}`;
  assert.ok(!f.findings.some((x) => x.ruleId === 'MG003'), `no internal error: ${show}`);
  assert.ok(f.verdict === 'incomplete' || f.verdict === 'block', show);
  assert.ok(
    f.findings.some((x) => x.ruleId === 'MG001' && x.message.includes(limit)),
    `MG001 naming ${limit}: ${show}`,
  );
}

test('every limit has a positive finite default', () => {
  for (const name of LIMIT_NAMES) {
    const v = DEFAULT_LIMITS[name];
    assert.ok(Number.isFinite(v) && v > 0, `${name} = ${v}`);
  }
});

test('maxEntries: a zip with more members than allowed', async () => {
  const members = Array.from({ length: 40 }, (_, i) => ({
    name: `m${i}.txt`,
    data: Buffer.from(`member ${i}`),
  }));
  assertLimit(await scan('many.zip', zip(members), { maxEntries: 10 }), 'maxEntries');
});

test('maxOpcodes: a pickle with more opcodes than allowed', async () => {
  const parts: Buffer[] = [pk.proto(2), pk.emptyList, pk.mark];
  for (let i = 0; i < 5000; i++) parts.push(pk.binint1(i & 0xff));
  parts.push(pk.appends, pk.stop);
  assertLimit(await scan('ops.pkl', Buffer.concat(parts), { maxOpcodes: 1000 }), 'maxOpcodes');
});

test('maxStackDepth: a pickle that nests marks deeper than allowed', async () => {
  const parts: Buffer[] = [pk.proto(2)];
  for (let i = 0; i < 3000; i++) parts.push(pk.mark);
  parts.push(pk.stop);
  assertLimit(await scan('deep.pkl', Buffer.concat(parts), { maxStackDepth: 100 }), 'maxStackDepth');
});

test('maxStringBytes: a GGUF chat template (kept in memory for analysis) longer than allowed', async () => {
  const kv = (key: string, value: string) => {
    const k = Buffer.from(key);
    const v = Buffer.from(value);
    const b = Buffer.alloc(8 + k.length + 4 + 8 + v.length);
    let o = b.writeBigUInt64LE(BigInt(k.length), 0);
    o += k.copy(b, o);
    o = b.writeUInt32LE(8, o); // GGUF_TYPE_STRING
    o = b.writeBigUInt64LE(BigInt(v.length), o);
    v.copy(b, o);
    return b;
  };
  const h = Buffer.alloc(24);
  h.write('GGUF', 0, 'latin1');
  h.writeUInt32LE(3, 4);
  h.writeBigUInt64LE(0n, 8);
  h.writeBigUInt64LE(2n, 16);
  const file = Buffer.concat([
    h,
    kv('general.architecture', 'llama'),
    kv('tokenizer.chat_template', `{{ bos_token }}${'x'.repeat(64 << 10)}`),
  ]);
  assertLimit(await scan('long.gguf', file, { maxStringBytes: 4096 }), 'maxStringBytes');
});

test('maxTimeMs: a real analysis (a large opcode-dense pickle) over a 1 ms budget', async () => {
  const parts: Buffer[] = [pk.proto(2), pk.emptyList, pk.mark];
  for (let i = 0; i < 400_000; i++) parts.push(pk.binint1(i & 0xff));
  parts.push(pk.appends, pk.stop);
  assertLimit(await scan('slow.pkl', Buffer.concat(parts), { maxTimeMs: 1 }), 'maxTimeMs');
});

test('maxFindings: findings past the limit are counted in one MG001 finding', async () => {
  // 200 different unknown classes, each imported and instantiated: one finding each.
  const parts: Buffer[] = [pk.proto(2), pk.emptyList, pk.mark];
  for (let i = 0; i < 200; i++)
    parts.push(pk.global(`pkg${i}.mod`, `Thing${i}`), Buffer.from(')'), Buffer.from([0x81]));
  parts.push(pk.appends, pk.stop);
  const f = await scan('many-findings.pkl', Buffer.concat(parts), { maxFindings: 10 });
  assertLimit(f, 'maxFindings');
  assert.ok(f.findings.length <= 11, `at most maxFindings + 1 findings kept (${f.findings.length})`);
});
