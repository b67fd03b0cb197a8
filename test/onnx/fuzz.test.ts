// Property tests: mutated real fixtures (ONNX, HDF5/Keras H5, SavedModel and keras_metadata protobufs) never
// crash or hang the analyzers: every run ends with findings, never an internal error (MG003), within a bound.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { AnalysisContext, FileState } from '../../src/core/context.js';
import { analyzeSource, scanNested } from '../../src/core/engine.js';
import { Budget, DEFAULT_LIMITS } from '../../src/core/limits.js';
import { bufferSource } from '../../src/core/source.js';
import { FIXTURES } from '../helpers.js';

const SEEDS = [
  ['onnx', join(FIXTURES, 'onnx', 'control_flow.onnx'), 'model.onnx'],
  ['onnx', join(FIXTURES, 'onnx', 'if_loop.onnx'), 'model.onnx'],
  ['onnx', join(FIXTURES, 'onnx', 'function_cycle.onnx'), 'model.onnx'],
  ['h5', join(FIXTURES, 'keras', 'lambda.h5'), 'model.h5'],
  ['h5', join(FIXTURES, 'keras', 'lambda_dense_attrs.h5'), 'model.h5'],
  ['h5', join(FIXTURES, 'keras', 'dense_latest.h5'), 'model.h5'],
  ['pb', join(FIXTURES, 'tensorflow', 'cases', 'benign_tf2', 'saved_model.pb'), 'saved_model.pb'],
  ['pb', join(FIXTURES, 'tensorflow', 'cases', 'keras_lambda', 'keras_metadata.pb'), 'keras_metadata.pb'],
  [
    'pbtxt',
    join(FIXTURES, 'tensorflow', 'cases', 'text_read_file', 'saved_model.pbtxt'),
    'saved_model.pbtxt',
  ],
] as const;

const LIMITS = { ...DEFAULT_LIMITS, maxTimeMs: 5_000 };

async function analyse(name: string, data: Uint8Array): Promise<string[]> {
  const state = new FileState({ limits: LIMITS, allowGlobals: [] }, new Budget(LIMITS), undefined);
  const ctx = new AnalysisContext(state, bufferSource(name, data), [], 0, scanNested);
  await analyzeSource(ctx);
  return state.findings.map((f) => `${f.ruleId}: ${f.message}`);
}

/** A mutation of a byte array: flips, overwrites with boundary values, truncation, duplication, insertion. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    v: fc.constantFrom(0x00, 0x7f, 0x80, 0xff, 0x01, 0x08, 0x12, 0x3a),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(data: Uint8Array, ms: Mutation[]): Uint8Array {
  let b = Buffer.from(data);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'flip':
        b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        b[at] = m.v;
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'dup':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + m.len), b.subarray(at)]);
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
    }
  }
  return new Uint8Array(b);
}

for (const [kind, path, name] of SEEDS) {
  test(`mutated ${kind} fixture ${path.split('/').slice(-2).join('/')} never crashes or hangs`, async () => {
    const original = new Uint8Array(readFileSync(path));
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (ms) => {
        const data = apply(original, ms);
        const started = Date.now();
        const findings = await analyse(name, data);
        const internal = findings.filter((f) => f.startsWith('MG003'));
        assert.deepEqual(internal, [], `internal error on mutation ${JSON.stringify(ms)}`);
        assert.ok(Date.now() - started < 6_000, 'analysis took too long');
      }),
      { seed: 20261122, numRuns: 150 },
    );
  });
}

test('the unmutated seeds analyse without internal errors', async () => {
  for (const [, path, name] of SEEDS) {
    const findings = await analyse(name, new Uint8Array(readFileSync(path)));
    assert.deepEqual(
      findings.filter((f) => f.startsWith('MG003')),
      [],
    );
  }
});
