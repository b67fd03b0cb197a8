import assert from 'node:assert/strict';
import {
  copyFileSync,
  linkSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { detectOnnx } from '../../src/core/formats/onnx/analyzer.js';
import { detectSavedModel } from '../../src/core/formats/tensorflow/analyzer.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, tempDir } from '../helpers.js';

const DIR = join(FIXTURES, 'onnx');

async function scan(path: string): Promise<FileReport> {
  return only(await scanPaths([path]));
}

function lowOnly(f: FileReport): void {
  const high = f.findings.filter((x) => !['none', 'low'].includes(x.severity));
  assert.deepEqual(high, [], `${f.path}: ${JSON.stringify(f.findings, null, 1)}`);
  assert.ok(f.verdict === 'pass' || f.verdict === 'warn', f.verdict);
}

function finding(f: FileReport, ruleId: string, symbolPart?: string) {
  const x = f.findings.find(
    (y) =>
      y.ruleId === ruleId && (symbolPart === undefined || (y.location.symbol ?? '').includes(symbolPart)),
  );
  assert.ok(
    x,
    `${f.path}: expected ${ruleId}${symbolPart ? ` at ${symbolPart}` : ''}, got ${JSON.stringify(f.findings)}`,
  );
  return x;
}

for (const name of ['mlp.onnx', 'control_flow.onnx', 'if_loop.onnx', 'local_function.onnx']) {
  test(`benign ONNX ${name} passes with nothing above low`, async () => {
    const f = await scan(join(DIR, name));
    assert.equal(f.format, 'onnx');
    lowOnly(f);
    assert.deepEqual(f.findings, []);
  });
}

test('torch export facts: IR version, opsets, node count', async () => {
  const f = await scan(join(DIR, 'mlp.onnx'));
  assert.equal(typeof f.facts?.['onnx.irVersion'], 'number');
  assert.ok((f.facts?.['onnx.nodes'] as number) >= 3);
  assert.deepEqual(Object.keys(f.facts?.['onnx.opsets'] as object), ['ai.onnx']);
});

test('subgraphs of If/Loop are walked (torch.jit.script export)', async () => {
  const f = await scan(join(DIR, 'control_flow.onnx'));
  // If has two branches and Loop a body: nodes inside them are counted.
  const top = 7;
  assert.ok((f.facts?.['onnx.nodes'] as number) > top, String(f.facts?.['onnx.nodes']));
});

test('external data written by onnx.save_model next to the model passes', async () => {
  const f = await scan(join(DIR, 'external_ok', 'model.onnx'));
  lowOnly(f);
  assert.deepEqual(f.facts?.['onnx.externalDataFiles'], ['weights.data']);
});

const EXTERNAL_CASES: Array<[string, string, string, string]> = [
  ['ext_traversal.onnx', 'MG500', 'graph:g/initializer:w', '".." segment'],
  ['ext_absolute.onnx', 'MG500', 'graph:g/initializer:w', 'absolute'],
  ['ext_drive.onnx', 'MG500', 'graph:g/initializer:w', 'drive letter'],
  ['ext_unc.onnx', 'MG500', 'graph:g/initializer:w', 'UNC'],
  ['ext_bypass.onnx', 'MG500', 'graph:g/initializer:w', '".." segment'],
  ['ext_mem_addr.onnx', 'MG501', 'graph:g/initializer:w', 'sentinel'],
  [
    'ext_in_subgraph.onnx',
    'MG500',
    'node:if_leak/attribute:then_branch/graph:then_bad/node:leak_const/attribute:value',
    '/etc/shadow',
  ],
  ['ext_in_training_info.onnx', 'MG500', 'training_info[0].initialization/initializer:w0', 'id_rsa'],
];
for (const [name, rule, symbol, text] of EXTERNAL_CASES) {
  test(`malicious ONNX ${name} blocks with ${rule} at ${symbol}`, async () => {
    const f = await scan(join(DIR, name));
    assert.equal(f.verdict, 'block');
    const x = finding(f, rule, symbol);
    assert.match(x.message, new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });
}

test('bad offsets, lengths, unknown and duplicate keys are reported', async () => {
  const f = await scan(join(DIR, 'ext_bad_fields.onnx'));
  const msgs = f.findings.filter((x) => x.ruleId === 'MG502').map((x) => x.message);
  assert.ok(msgs.some((m) => m.includes('negative')));
  assert.ok(msgs.some((m) => m.includes('overflows')));
  assert.ok(msgs.some((m) => m.includes('__class__')));
  assert.ok(msgs.some((m) => m.includes('given twice')));
  finding(f, 'MG503'); // w.bin is missing
});

test('operators that run Python or arbitrary kernels', async () => {
  const py = await scan(join(DIR, 'python_op.onnx'));
  assert.equal(py.verdict, 'block');
  assert.match(finding(py, 'MG504', 'node:py0').message, /os\.system/);
  const contrib = await scan(join(DIR, 'contrib_pyop.onnx'));
  assert.equal(contrib.verdict, 'block');
  finding(contrib, 'MG505', 'node:pyop0');
  const aten = await scan(join(DIR, 'aten.onnx'));
  assert.equal(aten.verdict, 'block');
  assert.match(finding(aten, 'MG505', 'node:aten0').message, /index_put/);
  const custom = await scan(join(DIR, 'custom_domain.onnx'));
  assert.match(finding(custom, 'MG506', 'node:evil0').message, /com\.evil\.ops/);
});

test('a graph split into two graph fields is merged as the loader does', async () => {
  const f = await scan(join(DIR, 'split_graph.onnx'));
  assert.equal(f.verdict, 'block');
  finding(f, 'MG504', 'node:hidden_py');
  finding(f, 'MG511');
});

test('an unknown leading field does not evade ONNX detection', async () => {
  const f = await scan(join(DIR, 'unknown_prefix.onnx'));
  assert.equal(f.format, 'onnx');
  finding(f, 'MG504', 'node:py0');
  finding(f, 'MG511');
});

test('local function call cycles are detected', async () => {
  const f = await scan(join(DIR, 'function_cycle.onnx'));
  assert.equal(f.verdict, 'block');
  assert.match(finding(f, 'MG508').message, /cyc\.F -> cyc\.G -> cyc\.F/);
});

test('unknown IR and opset versions are reported low', async () => {
  const f = await scan(join(DIR, 'unknown_version.onnx'));
  assert.deepEqual(ruleIds(f), ['MG509']);
  assert.ok(f.findings.every((x) => x.severity === 'low'));
});

test('external data through a symlink that leaves the folder is an escape; hard links and short files are flagged', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const model = join(dir, 'model.onnx');
  copyFileSync(join(DIR, 'external_ok', 'model.onnx'), model);
  symlinkSync('/etc/hostname', join(dir, 'weights.data'));
  let f = await scan(model);
  assert.equal(f.verdict, 'block');
  assert.match(finding(f, 'MG500').message, /outside the model folder/);

  const dir2 = tempDir((fn) => t.after(fn));
  const model2 = join(dir2, 'model.onnx');
  copyFileSync(join(DIR, 'external_ok', 'model.onnx'), model2);
  writeFileSync(join(dir2, 'real.data'), readFileSync(join(DIR, 'external_ok', 'weights.data')));
  symlinkSync('real.data', join(dir2, 'weights.data'));
  f = await scan(model2);
  assert.match(finding(f, 'MG503').message, /symbolic link/);

  const dir3 = tempDir((fn) => t.after(fn));
  const model3 = join(dir3, 'model.onnx');
  copyFileSync(join(DIR, 'external_ok', 'model.onnx'), model3);
  copyFileSync(join(DIR, 'external_ok', 'weights.data'), join(dir3, 'weights.data'));
  linkSync(join(dir3, 'weights.data'), join(dir3, 'other.data'));
  truncateSync(join(dir3, 'weights.data'), 100);
  f = await scan(model3);
  assert.match(finding(f, 'MG503').message, /hard links/);
  assert.match(finding(f, 'MG502').message, /past the end/);
});

test('a symlinked parent directory cannot smuggle the data out of the folder', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const outside = tempDir((fn) => t.after(fn));
  writeFileSync(join(outside, 'weights.data'), Buffer.alloc(16384));
  copyFileSync(join(DIR, 'ext_subdir.onnx'), join(dir, 'model.onnx'));
  symlinkSync(outside, join(dir, 'sub'));
  const f = await scan(join(dir, 'model.onnx'));
  assert.equal(f.verdict, 'block');
  assert.match(finding(f, 'MG500').message, /outside the model folder/);
  // The same reference with a real sub/ folder is fine.
  const ok = tempDir((fn) => t.after(fn));
  copyFileSync(join(DIR, 'ext_subdir.onnx'), join(ok, 'model.onnx'));
  mkdirSync(join(ok, 'sub'));
  writeFileSync(join(ok, 'sub', 'weights.data'), Buffer.alloc(16));
  lowOnly(await scan(join(ok, 'model.onnx')));
});

test('detection: ONNX vs SavedModel vs random bytes', () => {
  const probe = (head: Uint8Array, name = 'x.bin') => ({
    head,
    tail: head,
    size: head.length,
    name,
    ext: name.slice(name.lastIndexOf('.')),
  });
  const mlp = new Uint8Array(readFileSync(join(DIR, 'mlp.onnx')));
  assert.equal(detectOnnx(probe(mlp))?.format, 'onnx');
  assert.equal(detectSavedModel(probe(mlp)), undefined);
  const sm = new Uint8Array(
    readFileSync(join(FIXTURES, 'tensorflow', 'cases', 'benign_tf2', 'saved_model.pb')),
  );
  assert.equal(detectOnnx(probe(sm)), undefined);
  assert.equal(detectSavedModel(probe(sm))?.format, 'tf-savedmodel');
  // Random bytes that happen to start with 08 01: no graph, invalid tags.
  let seed = 7;
  const rnd = new Uint8Array(4096).map(() => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed & 0xff;
  });
  rnd[0] = 0x08;
  rnd[1] = 0x07;
  assert.equal(detectOnnx(probe(rnd)), undefined);
  assert.equal(detectSavedModel(probe(rnd)), undefined);
});

test('a truncated ONNX file is incomplete, never clean', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'cut.onnx');
  writeFileSync(p, readFileSync(join(DIR, 'mlp.onnx')).subarray(0, 300));
  const f = await scan(p);
  assert.equal(f.verdict, 'incomplete');
  finding(f, 'MG002');
});
