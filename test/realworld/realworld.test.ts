import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { ROOT } from '../helpers.js';

/**
 * A small committed sample of the real-world benign run (scripts/realworld/fetch.mjs): unmodified files from
 * npm and Debian packages, copied by test/realworld/samples/collect.sh (provenance and hashes in
 * samples/SOURCES.md). Every one of them is loaded by its library without running code, so each must pass.
 */
const SAMPLES = join(ROOT, 'test', 'realworld', 'samples');

async function scan(sub: string): Promise<Map<string, FileReport>> {
  const r = await scanPaths([join(SAMPLES, sub)]);
  return new Map(r.files.map((f) => [f.path, f]));
}

function assertAllPass(files: Map<string, FileReport>): void {
  for (const f of files.values()) {
    assert.equal(f.verdict, 'pass', `${f.path}: ${JSON.stringify(f.findings)}`);
  }
}

test('libonnx-testdata (Debian): models and their TensorProto/SequenceProto/OptionalProto inputs pass', async () => {
  const files = await scan('onnx-testdata');
  assertAllPass(files);
  assert.equal(files.get('test_abs/model.onnx')?.format, 'onnx');
  assert.equal(files.get('test_abs/test_data_set_0/input_0.pb')?.format, 'onnx-tensor');
  assert.deepEqual(
    files.get('test_sequence_map_add_2_sequences/test_data_set_0/input_0.pb')?.facts?.['onnx.valueKinds'],
    ['SequenceProto'],
  );
  const pbs = [...files.values()].filter((f) => f.path.endsWith('.pb'));
  assert.equal(pbs.length, 7);
  for (const f of pbs) assert.equal(f.format, 'onnx-tensor', f.path);
});

test('a stock Hugging Face tokenizer_config.json (gpt-oss, model_max_length = int(1e30)) passes', async () => {
  const files = await scan('tokenizer-gptoss');
  assertAllPass(files);
  const cfg = files.get('tokenizer_config.json')!;
  assert.equal(cfg.format, 'hf-tokenizer-config');
  assert.deepEqual(cfg.findings, []);
});

test('a TF.js weights manifest of @vladmandic/face-api and its shard pass', async () => {
  const files = await scan('face-api');
  assertAllPass(files);
  assert.equal(files.get('face_landmark_68_tiny_model-weights_manifest.json')?.format, 'tfjs-model');
  assert.equal(files.get('face_landmark_68_tiny_model.bin')?.format, 'tfjs-weights');
});

test('a MediaPipe TFLite model (face_detection_short_range) passes', async () => {
  const files = await scan('mediapipe');
  assertAllPass(files);
  assert.equal(files.get('face_detection_short_range.tflite')?.format, 'tflite');
});

test('scipy test data: MATLAB v4 files (an LZMA-like header) and IDL SAVE files named .sav pass', async () => {
  const files = await scan('scipy');
  assertAllPass(files);
  for (const f of ['test_mat4_le_floats.mat', 'testvec_4_GLNX86.mat'])
    assert.equal(files.get(f)?.format, 'other', f);
  for (const f of ['scalar_byte.sav', 'various_compressed.sav']) {
    assert.equal(files.get(f)?.format, 'raw-data', f);
    assert.deepEqual(
      files.get(f)?.findings.map((x) => x.ruleId),
      ['MG840'],
    );
  }
});

test('nibabel test data: raw bytes gzipped under .bin and a DICOM volume that gzips 400:1 pass', async () => {
  const files = await scan('nibabel');
  assertAllPass(files);
  assert.deepEqual(
    files.get('csa2_zero_len.bin.gz')?.findings.map((x) => x.ruleId),
    ['MG840'],
  );
  assert.deepEqual(files.get('philips_mprage.dcm.gz')?.findings, []);
});

test('statsmodels: record arrays pickled by an old NumPy (numpy.core.records) in object arrays only warn', async () => {
  const files = await scan('statsmodels');
  const f = files.get('vars_results.npz')!;
  assert.equal(f.verdict, 'warn', JSON.stringify(f.findings));
  assert.deepEqual([...new Set(f.findings.map((x) => x.ruleId))], ['MG301']);
});

test('HTML report templates of libraries (MNE .html.jinja, dask .html.j2) are not chat templates', async () => {
  const files = await scan('templates');
  assertAllPass(files);
  for (const f of files.values()) assert.equal(f.format, 'other', f.path);
});

test('a netCDF-4 file of sunpy (HDF5, root links stored densely) is walked and passes', async () => {
  const files = await scan('sunpy');
  assertAllPass(files);
  const f = files.get('goes_13_leap_second.nc')!;
  assert.equal(f.format, 'hdf5');
  assert.deepEqual(f.findings, []);
});
