// Model packages (test/fixtures/packages/generate.py): PaddlePaddle and Lightning pickles under their own
// names, NeMo archives, MLflow model folders, TorchServe archives and torch.package archives.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { judgeTarget } from '../../src/core/formats/packages/nemo.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, symbols, tempDir } from '../helpers.js';

const P = join(FIXTURES, 'packages');

async function scan(...parts: string[]): Promise<FileReport> {
  return only(await scanPaths([join(P, ...parts)]));
}

test('Paddle .pdparams/.pdopt and Lightning .ckpt are pickles by content: data passes, a payload blocks', async () => {
  for (const f of [
    await scan('paddle', 'model.pdparams'),
    await scan('paddle', 'model.pdopt'),
    await scan('lightning', 'epoch=2-step=120.ckpt'),
  ]) {
    assert.equal(f.verdict, 'pass', `${f.path}: ${JSON.stringify(f.findings)}`);
  }
  assert.equal((await scan('paddle', 'model.pdparams')).format, 'pickle');
  assert.equal((await scan('lightning', 'epoch=2-step=120.ckpt')).format, 'pytorch-zip');
  for (const f of [await scan('paddle', 'payload.pdparams'), await scan('lightning', 'payload.ckpt')]) {
    assert.equal(f.verdict, 'block', f.path);
    assert.ok(symbols(f, 'MG100').includes('os.system'), f.path);
  }
});

test('a .pdparams that is not a pickle is reported, not passed as an unknown file', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(join(dir, 'x.pdparams'), Buffer.from('not a pickle at all, just bytes'));
  const f = only(await scanPaths([join(dir, 'x.pdparams')]));
  assert.ok(ruleIds(f).includes('MG004'), JSON.stringify(f.findings));
});

test('NeMo: the layout is recognised, its checkpoint is no nested-archive noise, its config targets are checked', async () => {
  const ok = await scan('nemo', 'QuartzNet5x1.nemo');
  assert.equal(ok.format, 'nemo');
  assert.equal(ok.verdict, 'pass', JSON.stringify(ok.findings));
  assert.ok((ok.facts?.['./model_config.yaml:nemo.targets'] as number) >= 4, JSON.stringify(ok.facts));

  const os = await scan('nemo', 'hydra_target.nemo');
  const hit = os.findings.find((x) => x.ruleId === 'MG852');
  assert.equal(hit?.location.symbol, 'os.system');
  assert.equal(hit?.severity, 'critical');
  assert.match(hit!.message, /spec_augment\._target_/);

  const foreign = await scan('nemo', 'foreign_target.nemo');
  assert.equal(foreign.findings.find((x) => x.ruleId === 'MG852')?.severity, 'high');
  assert.equal(foreign.verdict, 'block');

  const computed = await scan('nemo', 'computed_target.nemo');
  assert.ok(ruleIds(computed).includes('MG853'));

  // extractall keeps the last model_config.yaml (the os.system one): both copies are scanned and the
  // duplicate itself is reported
  const dup = await scan('nemo', 'duplicate_config.nemo');
  assert.ok(ruleIds(dup).includes('MG850'));
  assert.ok(symbols(dup, 'MG852').includes('os.system'));
});

test('Hydra target judgement: NeMo/PyTorch classes only, denylisted callables critical, computed names', () => {
  assert.equal(judgeTarget('nemo.collections.asr.modules.ConvASREncoder').verdict, 'allowed');
  assert.equal(judgeTarget('torch.optim.AdamW').verdict, 'allowed');
  assert.equal(judgeTarget('torch.load').verdict, 'denied');
  assert.equal(judgeTarget('subprocess.Popen').verdict, 'denied');
  assert.equal(judgeTarget('builtins.eval').verdict, 'denied');
  assert.equal(
    judgeTarget('nemo.utils.app_state.some_function').verdict,
    'unknown',
    'functions are not classes',
  );
  assert.equal(judgeTarget('torch.nn.functional.relu').verdict, 'unknown');
  assert.equal(judgeTarget('$'.concat('{oc.env:X}')).verdict, 'computed'); // an OmegaConf interpolation
});

test('a .nemo without the NeMo layout is reported', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  // any tar: the pytorch legacy tar fixture is one
  cpSync(join(FIXTURES, 'pytorch', 'malicious', 'legacy_tar.pt'), join(dir, 'model.nemo'));
  const f = only(await scanPaths([join(dir, 'model.nemo')]));
  assert.ok(ruleIds(f).includes('MG851'), JSON.stringify(f.findings));
});

test('MLflow: flavours read, pickles scanned and named, loader and code named, paths checked', async () => {
  const sk = await scan('mlflow', 'sklearn_model', 'MLmodel');
  assert.equal(sk.format, 'mlflow-model');
  assert.equal(sk.verdict, 'pass', JSON.stringify(sk.findings));
  assert.deepEqual(sk.facts?.['mlflow.flavors'], ['python_function', 'sklearn']);
  const art = sk.findings.find((x) => x.ruleId === 'MG862');
  assert.match(art!.message, /pickled_model "model\.pkl".*cloudpickle.*mlflow\.sklearn/);

  const evil = await scan('mlflow', 'payload_pickle', 'MLmodel');
  assert.equal(evil.verdict, 'block');
  assert.ok(evil.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'model.pkl'));

  // cloudpickle stores the notebook's class by value: code, reported by the pickle engine
  const py = await scan('mlflow', 'pyfunc_model', 'MLmodel');
  assert.ok(py.findings.some((x) => x.ruleId === 'MG862' && /python_model.*cloudpickle/.test(x.message)));
  assert.ok(py.findings.some((x) => x.ruleId === 'MG861' && /code\/preprocess\.py/.test(x.message)));
  assert.ok(py.findings.some((x) => x.ruleId === 'MG461' && x.location.member === 'code/preprocess.py'));
  assert.equal(py.verdict, 'block');

  const loader = await scan('mlflow', 'custom_loader', 'MLmodel');
  assert.deepEqual(symbols(loader, 'MG860'), ['my_loader']);
  assert.ok(loader.findings.some((x) => x.ruleId === 'MG462' && x.location.member === 'code/my_loader.py'));
  assert.equal(loader.verdict, 'block');

  const outside = await scan('mlflow', 'path_escape', 'MLmodel');
  assert.deepEqual(symbols(outside, 'MG863'), ['../../../etc/model.pkl']);
});

test('MLflow: a named artifact that is missing makes the model incomplete', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(
    join(dir, 'MLmodel'),
    'flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n',
  );
  const f = only(await scanPaths([join(dir, 'MLmodel')]));
  assert.equal(f.verdict, 'incomplete', JSON.stringify(f.findings));
  assert.ok(ruleIds(f).includes('MG864'));
  writeFileSync(join(dir, 'MLmodel'), 'flavors: !!python/object/apply:os.system ["id"]\n');
  const tagged = only(await scanPaths([join(dir, 'MLmodel')]));
  assert.ok(ruleIds(tagged).includes('MG854'), JSON.stringify(tagged.findings));
});

test('TorchServe .mar: handler and model file analysed as repository code, the serialized model is no noise', async () => {
  const mnist = await scan('torchserve', 'mnist.mar');
  assert.equal(mnist.format, 'torchserve-mar');
  assert.equal(mnist.verdict, 'warn', JSON.stringify(mnist.findings));
  assert.ok(!ruleIds(mnist).includes('MG214'));
  assert.match(mnist.findings.find((x) => x.ruleId === 'MG870')!.message, /mnist_handler\.py and mnist\.py/);
  assert.ok(mnist.findings.some((x) => x.ruleId === 'MG461' && x.location.member === 'mnist_handler.py'));

  const builtin = await scan('torchserve', 'builtin_handler.mar');
  assert.equal(builtin.verdict, 'pass', JSON.stringify(builtin.findings));

  const evil = await scan('torchserve', 'evil_handler.mar');
  assert.equal(evil.verdict, 'block');
  assert.ok(evil.findings.some((x) => x.ruleId === 'MG462' && x.location.member === 'handler.py'));
  assert.match(evil.findings.find((x) => x.ruleId === 'MG872')!.message, /git\+https/);

  const env = await scan('torchserve', 'env_handler.mar');
  assert.deepEqual(symbols(env, 'MG871'), ['os']);
});

test('torch.package: modules flagged and analysed as repository code; a module that runs a command blocks', async () => {
  const ok = await scan('torch_package', 'tinynet.pt');
  assert.equal(ok.format, 'torch-package');
  assert.ok(ruleIds(ok).includes('MG327'));
  assert.ok(ok.findings.some((x) => x.ruleId === 'MG461' && x.location.member === 'tinynet/tinynet.py'));
  assert.ok(!ruleIds(ok).includes('MG106'), 'the pickle names the packaged class, analysed as code');
  assert.equal(ok.verdict, 'warn', JSON.stringify(ok.findings));
  const evil = await scan('torch_package', 'import_payload.pt');
  assert.equal(evil.verdict, 'block');
  assert.ok(evil.findings.some((x) => x.ruleId === 'MG462' && /os\.system/.test(x.message)));
});
