import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import { scanBuffer } from '../../src/core/scan-file.js';
import { FIXTURES, ROOT, ruleIds } from '../helpers.js';

const DIR = join(FIXTURES, 'tflite');
const REAL = join(ROOT, 'test', 'realworld', 'samples', 'mediapipe', 'face_detection_short_range.tflite');
const settings = { limits: DEFAULT_POLICY.limits, allowGlobals: [] };
const ids = (r: { findings: Array<{ ruleId: string }> }) =>
  [...new Set(r.findings.map((f) => f.ruleId))].sort();

async function scanOne(name: string) {
  const r = await scanPaths([join(DIR, name)]);
  return r.files.at(0)!;
}

test('a real MediaPipe TFLite model: verified, operators listed, passes', async () => {
  const r = await scanPaths([REAL]);
  const f = r.files.at(0)!;
  assert.equal(f.format, 'tflite');
  assert.equal(f.verdict, 'pass', JSON.stringify(f.findings));
  assert.deepEqual(f.facts?.['tflite.operatorCodes'], [
    'ADD',
    'CONCATENATION',
    'CONV_2D',
    'DEPTHWISE_CONV_2D',
    'DEQUANTIZE',
    'MAX_POOL_2D',
    'PAD',
    'RELU',
    'RESHAPE',
  ]);
  assert.equal(f.facts?.['tflite.operators'], 164);
});

test('custom operators are reported by name; MediaPipe and TFLite built-in custom kernels are only listed', async () => {
  const custom = await scanOne('custom_op.tflite');
  assert.deepEqual(ruleIds(custom), ['MG820']);
  assert.match(custom.findings[0]!.message, /EvilNativeOp/);
  const mp = await scanOne('mediapipe_custom.tflite');
  assert.deepEqual(mp.findings, []);
  assert.deepEqual(mp.facts?.['tflite.operatorCodes'], ['CUSTOM:Convolution2DTransposeBias']);
});

test('Flex ops are reported, and a Flex op that reads files also by the TensorFlow rule', async () => {
  const f = await scanOne('flex_readfile.tflite');
  assert.deepEqual(ruleIds(f), ['MG561', 'MG821']);
  assert.equal(f.verdict, 'block');
});

test('builtin codes above 127 are read from builtin_code (deprecated_builtin_code holds the placeholder 127)', async () => {
  const f = await scanOne('builtin_127.tflite');
  assert.deepEqual(f.facts?.['tflite.operatorCodes'], ['BROADCAST_TO']);
});

test('indices to buffers and operator codes that do not exist are MG822', async () => {
  const f = await scanOne('bad_indices.tflite');
  assert.deepEqual(ruleIds(f), ['MG822']);
  assert.equal(f.findings.length, 2);
});

test('truncated or corrupted FlatBuffers are MG822, never an exception or a read out of bounds', async () => {
  const real = new Uint8Array(readFileSync(REAL));
  const truncated = await scanBuffer('m.tflite', real.subarray(0, 4096), { settings });
  assert.deepEqual(ids(truncated), ['MG822']);
  // Root offset pointing into the last bytes of the file.
  const bent = real.slice();
  new DataView(bent.buffer).setUint32(0, bent.length - 2, true);
  const r = await scanBuffer('m.tflite', bent, { settings });
  assert.deepEqual(ids(r), ['MG822']);
  // Single-byte corruptions across the first 2 KiB give findings or nothing, never MG003 (a crash).
  for (let i = 0; i < 2048; i += 61) {
    const c = real.slice();
    c[i] = c[i]! ^ 0xa5;
    const res = await scanBuffer('m.tflite', c, { settings });
    assert.ok(!res.findings.some((x) => x.ruleId === 'MG003'), `byte ${i}: ${JSON.stringify(res.findings)}`);
  }
});
