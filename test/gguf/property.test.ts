import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { FIXTURES } from '../helpers.js';
import { analyzeBytes, apply, mutation } from '../safetensors/fuzz-helpers.js';

const SEEDS = [
  'benign/llama3.gguf',
  'benign/qwen25_tools.gguf',
  'benign/big_endian.gguf',
  'benign/v1.gguf',
].map((n) => readFileSync(join(FIXTURES, 'gguf', n)));

test('mutated GGUF files never crash the analyzer or hang it (property, fixed seed)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .integer({ min: 0, max: SEEDS.length - 1 })
        .chain((i) =>
          fc.tuple(fc.constant(i), fc.array(mutation(SEEDS[i]!.length), { minLength: 1, maxLength: 4 })),
        ),
      async ([i, muts]) => {
        const r = await analyzeBytes('m.gguf', apply(SEEDS[i]!, muts));
        const internal = r.findings.filter((f) => f.ruleId === 'MG003');
        assert.deepEqual(
          internal,
          [],
          JSON.stringify(muts, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        );
      },
    ),
    { seed: 20261122, numRuns: 400 },
  );
});

test('length fields of a real GGUF set to extremes fail fast with a finding, never an allocation', async () => {
  const src = SEEDS[0]!;
  // Offsets of the tensor count, metadata count and first key length in a v3 file.
  for (const at of [8, 16, 24]) {
    for (const v of [2n ** 63n, 2n ** 64n - 1n, 2n ** 40n]) {
      const b = Buffer.from(src);
      b.writeBigUInt64LE(v, at);
      const r = await analyzeBytes('x.gguf', b);
      assert.ok(
        r.findings.some((f) => f.ruleId === 'MG420'),
        `offset ${at} = ${v}`,
      );
    }
  }
});
