import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { valueKinds } from '../../src/core/formats/onnx/data.js';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, ruleIds } from '../helpers.js';

const DIR = join(FIXTURES, 'onnx', 'values');

test('serialized ONNX tensors, sequences, maps and optionals (backend test data layout) are data and pass', async () => {
  const r = await scanPaths([join(DIR, 'ok')]);
  assert.equal(r.files.length, 5);
  for (const f of r.files) {
    assert.equal(f.format, 'onnx-tensor', f.path);
    assert.equal(f.verdict, 'pass', JSON.stringify(f));
  }
  const byPath = new Map(r.files.map((f) => [f.path, f]));
  assert.deepEqual(byPath.get('test_data_set_0/input_0.pb')?.facts?.['onnx.tensor'], {
    dataType: 1,
    dims: [2, 3],
  });
  assert.deepEqual(byPath.get('test_data_set_0/input_2.pb')?.facts?.['onnx.valueKinds'], ['SequenceProto']);
  assert.deepEqual(byPath.get('test_data_set_0/input_3.pb')?.facts?.['onnx.valueKinds'], ['MapProto']);
});

test('a tensor file with external data: the reference is checked like a model initializer and the data file is known', async () => {
  const r = await scanPaths([join(DIR, 'external')]);
  const pb = r.files.find((f) => f.path.endsWith('input_0.pb'))!;
  assert.equal(pb.verdict, 'pass');
  assert.deepEqual(pb.facts?.['onnx.externalDataFiles'], ['input_0.data']);
  const trav = await scanPaths([join(DIR, 'traversal')]);
  assert.deepEqual(ruleIds(trav.files.at(0)!), ['MG500']);
  assert.equal(trav.verdict, 'block');
});

test('a tensor whose raw_data does not match its shape is a low anomaly (MG800), not a block', async () => {
  const r = await scanPaths([join(DIR, 'bad_payload')]);
  assert.deepEqual(ruleIds(r.files.at(0)!), ['MG800']);
  assert.equal(r.files.at(0)!.verdict, 'warn');
});

test('value detection is strict: the type field must hold a defined enum, text and models are not values', () => {
  const ok = new Uint8Array(readFileSync(join(DIR, 'ok', 'test_data_set_0', 'input_0.pb')));
  assert.deepEqual(valueKinds(ok, ok.length), ['Tensor']);
  // data_type 99 is not a TensorProto.DataType.
  assert.deepEqual(valueKinds(Uint8Array.from([0x08, 0x02, 0x10, 99]), 4), []);
  const text = new TextEncoder().encode('import os\nos.system("x")\n');
  assert.deepEqual(valueKinds(text, text.length), []);
  const model = new Uint8Array(readFileSync(join(FIXTURES, 'onnx', 'mlp.onnx')));
  assert.deepEqual(valueKinds(model.subarray(0, 65536), model.length), []);
  // A singular field twice (a merge no writer produces) is not a value either.
  assert.deepEqual(valueKinds(Uint8Array.from([0x10, 0x01, 0x10, 0x01]), 4), []);
});
