import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import { scanBuffer } from '../../src/core/scan-file.js';
import { FIXTURES, ruleIds } from '../helpers.js';

const DIR = join(FIXTURES, 'ggml');
const settings = { limits: DEFAULT_POLICY.limits, allowGlobals: [] };
const ids = (r: { findings: Array<{ ruleId: string }> }) =>
  [...new Set(r.findings.map((f) => f.ruleId))].sort();

async function scanOne(name: string) {
  return (await scanPaths([join(DIR, name)])).files.at(0)!;
}

test('ggjt v3, ggmf v1 and unversioned ggml llama files are bound-checked to their last byte and pass', async () => {
  for (const [name, tensors, bytes] of [
    ['llama_ggjt_v3.bin', 2, 256 + 144],
    ['llama_ggmf_v1.bin', 1, 256],
    ['llama_ggml.bin', 1, 256],
  ] as const) {
    const f = await scanOne(name);
    assert.equal(f.format, 'ggml', name);
    assert.equal(f.verdict, 'pass', `${name}: ${JSON.stringify(f.findings)}`);
    assert.equal(f.facts?.['ggml.tensors'], tensors, name);
    assert.equal(f.facts?.['ggml.tensorBytes'], bytes, name);
  }
});

test('a whisper.cpp ggml header is recognised with a low note (score 0), not incomplete', async () => {
  const f = await scanOne('whisper_ggml.bin');
  assert.equal(f.format, 'ggml');
  assert.deepEqual(ruleIds(f), ['MG830']);
  assert.equal(f.verdict, 'pass'); // a note: score 0
});

test('truncated data, leftover bytes, unknown types, bad dimension counts and huge lengths are MG831', async () => {
  assert.deepEqual(ruleIds(await scanOne('truncated.bin')), ['MG831']);
  const good = new Uint8Array(readFileSync(join(DIR, 'llama_ggmf_v1.bin')));
  // The tensor header follows the vocabulary: 4 + 4 + 28 + 4 tokens (u32 len + bytes + f32 score).
  const tensorAt = 8 + 28 + [5, 3, 4, 5].reduce((a, n) => a + 8 + n, 0);
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const badType = good.slice();
  dv(badType).setUint32(tensorAt + 8, 4, true); // Q4_2 exists in ggmf v1: 64 elements = 4 blocks of 10 bytes
  assert.deepEqual(ids(await scanBuffer('m.bin', badType, { settings })), ['MG831']); // then 216 bytes are left over
  const unknownType = good.slice();
  dv(unknownType).setUint32(tensorAt + 8, 99, true);
  assert.deepEqual(ids(await scanBuffer('m.bin', unknownType, { settings })), ['MG831']);
  const dims = good.slice();
  dv(dims).setUint32(tensorAt, 9, true);
  assert.deepEqual(ids(await scanBuffer('m.bin', dims, { settings })), ['MG831']);
  const huge = good.slice();
  dv(huge).setUint32(8 + 28, 0xfffffff0, true); // the first vocabulary entry's length
  assert.deepEqual(ids(await scanBuffer('m.bin', huge, { settings })), ['MG831']);
});

test('a versioned magic with a version llama.cpp never wrote is not GGML', async () => {
  const bad = new Uint8Array(readFileSync(join(DIR, 'llama_ggjt_v3.bin')));
  bad[4] = 9; // ggjt v9 does not exist
  const r = await scanBuffer('m.bin', bad, { settings });
  assert.notEqual(r.format, 'ggml');
});
