import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, tempDir } from '../helpers.js';

const dir = tempDir(after);

// The same model with its external data file renamed to weights.ckpt (same length as weights.data, so the
// protobuf stays valid): a model-like name with raw bytes inside.
function modelWithData(folder: string, dataName: string): void {
  mkdirSync(folder, { recursive: true });
  const model = readFileSync(join(FIXTURES, 'onnx', 'external_ok', 'model.onnx'));
  const renamed = Buffer.from(model.toString('latin1').replace('weights.data', dataName), 'latin1');
  writeFileSync(join(folder, 'model.onnx'), renamed);
  copyFileSync(join(FIXTURES, 'onnx', 'external_ok', 'weights.data'), join(folder, dataName));
}

test('raw tensor bytes named like a model are ONNX external data when the model in the scan names them', async () => {
  const folder = join(dir, 'm');
  modelWithData(folder, 'weights.ckpt');
  const r = await scanPaths([folder]);
  const data = r.files.find((f) => f.path === 'weights.ckpt')!;
  assert.equal(data.format, 'onnx-external-data', JSON.stringify(data));
  assert.equal(data.verdict, 'pass');
  assert.equal(data.facts?.['onnx.externalDataOf'], 'model.onnx');
  assert.equal(r.verdict, 'pass');
});

test('the same bytes with no model naming them are raw data: torch.load and pickle.load reject them first', async () => {
  const folder = join(dir, 'alone');
  mkdirSync(folder);
  copyFileSync(join(FIXTURES, 'onnx', 'external_ok', 'weights.data'), join(folder, 'weights.ckpt'));
  const r = await scanPaths([folder]);
  assert.equal(r.files.at(0)!.format, 'raw-data');
  assert.deepEqual(
    r.files.at(0)!.findings.map((f) => f.ruleId),
    ['MG840'],
  );
  assert.equal(r.files.at(0)!.verdict, 'pass');
});
