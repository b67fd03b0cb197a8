import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only } from '../helpers.js';

const DIR = join(FIXTURES, 'tensorflow', 'cases');

async function scan(c: string, file = 'saved_model.pb'): Promise<FileReport> {
  return only(await scanPaths([join(DIR, c, file)]));
}

function finding(f: FileReport, ruleId: string, symbolPart?: string) {
  const x = f.findings.find(
    (y) =>
      y.ruleId === ruleId && (symbolPart === undefined || (y.location.symbol ?? '').includes(symbolPart)),
  );
  assert.ok(
    x,
    `${f.path}: expected ${ruleId}${symbolPart ? ` at ${symbolPart}` : ''}, got ${JSON.stringify(f.findings, null, 1)}`,
  );
  return x;
}

for (const c of ['benign_tf2', 'benign_tf1', 'benign_assets']) {
  test(`benign SavedModel ${c} (normal Save/Restore ops) passes with no finding`, async () => {
    const f = await scan(c);
    assert.equal(f.format, 'tf-savedmodel');
    assert.deepEqual(f.findings, []);
    const ops = f.facts?.['tf.ops'] as string[];
    assert.ok(ops.includes('SaveV2') && ops.includes('RestoreV2'), ops.join(','));
  });
}

test('benign keras_metadata.pb passes', async () => {
  const f = await scan('keras_benign', 'keras_metadata.pb');
  assert.equal(f.format, 'tf-keras-metadata');
  assert.deepEqual(f.findings, []);
  assert.equal(f.facts?.['keras.metadataLayers'], 2);
});

const CASES: Array<[string, string, string, RegExp]> = [
  ['read_file', 'MG561', 'graph/node:leak (ReadFile)', /\/etc\/passwd/],
  [
    'write_file_in_function',
    'MG562',
    'function:__inference_serving_default_30/node:drop (WriteFile)',
    /modelgate-owned/,
  ],
  ['eager_py_func', 'MG560', 'node:py (EagerPyFunc)', /pyfunc_0/],
  ['print_to_file', 'MG562', 'node:print (PrintV2)', /\/tmp\/leak\.txt/],
  ['save_constant_path', 'MG563', 'node:evil_save (SaveV2)', /\/tmp\/evil\/ckpt/],
  ['restore_traversal', 'MG563', 'function:__inference__traced_restore_71/node:RestoreV2', /\.\.\/\.\./],
  ['text_line_dataset', 'MG561', 'node:ds (TextLineDataset)', /\/etc\/shadow/],
  ['rpc', 'MG564', 'node:call (RpcCall)', /network/],
  ['asset_traversal', 'MG566', 'asset:', /etc\/passwd/],
];
for (const [c, rule, symbol, msg] of CASES) {
  test(`malicious SavedModel ${c} blocks with ${rule} at ${symbol}`, async () => {
    const f = await scan(c);
    assert.equal(f.verdict, 'block', JSON.stringify(f.findings, null, 1));
    assert.match(finding(f, rule, symbol).message, msg);
  });
}

test('Abort is medium (denial of service)', async () => {
  const f = await scan('abort');
  assert.equal(finding(f, 'MG565', 'node:die').severity, 'medium');
});

test('keras_metadata.pb with a Lambda layer blocks', async () => {
  const f = await scan('keras_lambda', 'keras_metadata.pb');
  assert.equal(f.verdict, 'block');
  assert.match(finding(f, 'MG520', 'root.layer-1/lambda(Lambda):config.function[0]').message, /system/);
});

test('a truncated saved_model.pb is incomplete', async () => {
  const f = await scan('truncated');
  assert.equal(f.verdict, 'incomplete');
  finding(f, 'MG002');
});

test('fingerprint.pb next to a SavedModel is recognised, not unknown content', async () => {
  const f = await scan('benign_tf2', 'fingerprint.pb');
  assert.equal(f.format, 'tf-savedmodel');
  assert.deepEqual(f.findings, []);
});

test('saved_model.pbtxt (text format the loader falls back to) is analysed like the binary form', async () => {
  const ok = await scan('text_benign', 'saved_model.pbtxt');
  assert.equal(ok.format, 'tf-savedmodel');
  assert.deepEqual(ok.findings, []);
  const bad = await scan('text_read_file', 'saved_model.pbtxt');
  assert.equal(bad.verdict, 'block');
  // The octal escape \160 in the text literal decodes to "p".
  assert.match(
    finding(bad, 'MG561', 'function:__inference_serving_default_9/node:leak (ReadFile)').message,
    /\/etc\/passwd/,
  );
});
