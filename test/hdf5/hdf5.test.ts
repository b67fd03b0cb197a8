import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readHdf5 } from '../../src/core/formats/hdf5/reader.js';
import { scanPaths } from '../../src/core/scan.js';
import { fileSource } from '../../src/core/source.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only } from '../helpers.js';

const DIR = join(FIXTURES, 'keras');

async function scan(name: string): Promise<FileReport> {
  return only(await scanPaths([join(DIR, name)]));
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

const BENIGN = [
  'dense.h5',
  'dense_vlen.h5',
  'dense_latest.h5',
  'dense_userblock.h5',
  'dense_big_config.h5',
  'dense_links.h5',
];
for (const name of BENIGN) {
  test(`benign Keras H5 ${name} passes; its config was read`, async () => {
    const f = await scan(name);
    assert.equal(f.format, 'keras-h5');
    assert.deepEqual(f.findings, []);
    assert.equal(f.verdict, 'pass');
    assert.ok(((f.facts?.['keras.classes'] as string[] | undefined) ?? []).includes('Dense'));
    if (name !== 'dense_big_config.h5') assert.equal(f.facts?.['keras.version'], '2.12.0');
  });
}

test('plain HDF5 without model_config is format hdf5 and passes', async () => {
  const f = await scan('plain.h5');
  assert.equal(f.format, 'hdf5');
  assert.equal(f.verdict, 'pass');
});

test('reader: superblock versions, user block, string kinds, the group tree', async () => {
  const read = async (name: string) => {
    const src = await fileSource(join(DIR, name));
    try {
      const sb = name.includes('userblock') ? 512 : 0;
      return await readHdf5(src.random!, sb, { maxValueBytes: 2 ** 26, maxObjects: 1000 });
    } finally {
      await src.close();
    }
  };
  const v0 = await read('dense.h5');
  assert.equal(v0.superblockVersion, 0);
  const names = v0.rootAttributes.map((a) => a.name).sort();
  assert.deepEqual(names, ['backend', 'keras_version', 'model_config', 'training_config']);
  assert.ok(v0.objects >= 6, String(v0.objects)); // root, model_weights, 2 layers, their datasets
  const latest = await read('dense_latest.h5');
  assert.equal(latest.superblockVersion, 3);
  const ub = await read('dense_userblock.h5');
  assert.equal(ub.superblockOffset, 512);
  const dense = await read('lambda_dense_attrs.h5');
  assert.equal(dense.rootAttributes.length, 16);
  assert.match(String(dense.rootAttributes.find((a) => a.name === 'model_config')?.value), /Lambda/);
  // 124 attributes: the v2 B-tree name index has an internal node above its leaves.
  const deep = await read('lambda_btree_attrs.h5');
  assert.equal(deep.rootAttributes.length, 124);
  assert.deepEqual(deep.issues, []);
  // 24 datasets under a group whose links are stored densely are all walked.
  const links = await read('dense_links.h5');
  assert.deepEqual(links.issues, []);
  assert.ok(links.objects >= 1 + 1 + 2 + 4 + 1 + 24, String(links.objects));
});

const MALICIOUS: Array<[string, string, string, RegExp]> = [
  [
    'lambda.h5',
    'MG520',
    'model_config/sequential(Sequential)/lambda(Lambda):config.function[0]',
    /__import__/,
  ],
  ['lambda_vlen_latest.h5', 'MG520', 'lambda(Lambda)', /system/],
  ['lambda_nested.h5', 'MG520', 'td(TimeDistributed)/lambda(Lambda)', /Lambda carries/],
  ['lambda_dense_attrs.h5', 'MG520', 'lambda(Lambda)', /Lambda carries/],
  ['lambda_btree_attrs.h5', 'MG520', 'lambda(Lambda)', /Lambda carries/],
  ['lambda_named_function.h5', 'MG521', 'named_fn(Lambda):config.function', /os\.system/],
  ['tfoplambda_write_file.h5', 'MG523', '(TFOpLambda):config.function', /io\.write_file/],
  ['external_link.h5', 'MG540', '/model_weights/leak', /secret_weights/],
  ['external_storage.h5', 'MG540', '/leak', /external files/],
  // The link sits among 25 links of a group stored densely (fractal heap + v2 B-tree link name index).
  ['external_link_dense.h5', 'MG540', '/extras/leak', /secret_weights/],
];
for (const [name, rule, symbol, msg] of MALICIOUS) {
  test(`malicious H5 ${name} blocks with ${rule}`, async () => {
    const f = await scan(name);
    assert.equal(f.verdict, 'block', JSON.stringify(f.findings, null, 1));
    assert.match(finding(f, rule, symbol).message, msg);
  });
}

test('two root attributes named model_config: both are analysed', async () => {
  const f = await scan('duplicate_model_config.h5');
  finding(f, 'MG528', 'model_config');
  finding(f, 'MG520', 'lambda(Lambda)');
  assert.equal(f.verdict, 'block');
});

test('an unregistered custom layer in H5 is medium', async () => {
  const f = await scan('custom_layer.h5');
  assert.equal(finding(f, 'MG525', 'custom(MyCustomLayer)').severity, 'medium');
  assert.equal(f.verdict, 'warn');
});

test('a truncated H5 file is incomplete', async () => {
  const f = await scan('truncated.h5');
  assert.equal(f.verdict, 'incomplete');
  finding(f, 'MG541');
});
