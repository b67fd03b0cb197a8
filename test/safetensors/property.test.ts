import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { FIXTURES } from '../helpers.js';
import { analyzeBytes, apply, mutation } from './fuzz-helpers.js';

const SEEDS = ['benign.safetensors', 'benign_metadata_url.safetensors', 'metadata_injection.safetensors'].map(
  (n) => readFileSync(join(FIXTURES, 'safetensors', n)),
);

test('mutated safetensors files never crash the analyzer or hang it (property, fixed seed)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc
        .integer({ min: 0, max: SEEDS.length - 1 })
        .chain((i) =>
          fc.tuple(fc.constant(i), fc.array(mutation(SEEDS[i]!.length), { minLength: 1, maxLength: 4 })),
        ),
      async ([i, muts]) => {
        const bytes = apply(SEEDS[i]!, muts);
        const r = await analyzeBytes('m.safetensors', bytes);
        const internal = r.findings.filter((f) => f.ruleId === 'MG003');
        assert.deepEqual(
          internal,
          [],
          `internal error on mutation ${JSON.stringify(muts, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))}`,
        );
      },
    ),
    { seed: 20261122, numRuns: 400 },
  );
});
