import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveClassReference } from '../../src/core/formats/huggingface/analyzer.js';
import { scanPython } from '../../src/core/formats/huggingface/python.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, ruleIds, symbols, tempDir } from '../helpers.js';

const DIR = join(FIXTURES, 'huggingface');

async function scanDir(name: string): Promise<Map<string, FileReport>> {
  const r = await scanPaths([join(DIR, name)]);
  return new Map(r.files.map((f) => [f.path, f]));
}

test('a plain model folder: configs and templates are recognised by content and clean; other JSON is "other"', async () => {
  const files = await scanDir('plain_model');
  assert.equal(files.get('config.json')?.format, 'hf-config');
  assert.equal(files.get('tokenizer_config.json')?.format, 'hf-tokenizer-config');
  assert.equal(files.get('chat_template.jinja')?.format, 'jinja-template');
  assert.equal(files.get('model.safetensors')?.format, 'safetensors');
  assert.equal(files.get('notes.json')?.format, 'other');
  for (const f of files.values()) assert.deepEqual(f.findings, [], f.path);
});

test('auto_map names the Python files trust_remote_code would run (high), and they are python-source', async () => {
  const files = await scanDir('remote_code_clean');
  const cfg = files.get('config.json')!;
  assert.deepEqual(ruleIds(cfg), ['MG460']);
  assert.deepEqual(symbols(cfg, 'MG460').sort(), ['configuration_custom.py', 'modeling_custom.py']);
  assert.ok(cfg.findings.every((x) => x.severity === 'high'));
  const mod = files.get('modeling_custom.py')!;
  assert.equal(mod.format, 'python-source');
  // Only "code next to a model": the docstring and comment mentioning os.system/eval are not calls.
  assert.deepEqual(ruleIds(mod), ['MG461']);
});

test('remote code that runs commands, code from another repository, custom pipelines, tokenizer auto_map', async () => {
  const files = await scanDir('remote_code_evil');
  const cfg = files.get('config.json')!;
  const syms = symbols(cfg, 'MG460');
  assert.ok(syms.includes('modeling_evil.py'));
  assert.ok(syms.includes('pipeline_evil.py'));
  assert.ok(syms.includes('someone/other-repo--modeling_other.py'));
  const evil = files.get('modeling_evil.py')!;
  assert.ok(ruleIds(evil).includes('MG462'));
  assert.ok(symbols(evil, 'MG462').includes('os.system'));
  assert.ok(symbols(evil, 'MG462').includes('subprocess.run'), 'import subprocess as sp is resolved');
  assert.equal(evil.verdict, 'block');
  const tok = files.get('tokenizer_config.json')!;
  assert.equal(tok.format, 'hf-tokenizer-config');
  assert.ok(symbols(tok, 'MG460').includes('tokenization_custom.py'));
  assert.equal(tok.severity, 'critical');
  assert.ok(tok.findings.some((x) => x.location.symbol?.startsWith('chat_template.tool_use:')));
  assert.ok(!tok.findings.some((x) => x.location.symbol?.startsWith('chat_template.default:')));
});

test('a standalone malicious chat_template.jinja is critical', async () => {
  const files = await scanDir('evil_template');
  const t = files.get('chat_template.jinja')!;
  assert.equal(t.severity, 'critical');
  assert.equal(t.verdict, 'block');
});

test('auto_map references that leave the folder are critical', async () => {
  const files = await scanDir('auto_map_traversal');
  const cfg = files.get('config.json')!;
  assert.deepEqual(ruleIds(cfg), ['MG460']);
  assert.equal(cfg.findings[0]!.severity, 'critical');
});

test('Python with no model next to it is ordinary code: no finding', async () => {
  const files = await scanDir('plain_code');
  const f = files.get('util.py')!;
  assert.equal(f.format, 'python-source');
  assert.deepEqual(f.findings, []);
});

test('class references resolve to files', () => {
  assert.deepEqual(resolveClassReference('modeling_x.XModel'), { file: 'modeling_x.py' });
  assert.deepEqual(resolveClassReference('org/repo--modeling_x.XModel'), {
    repo: 'org/repo',
    file: 'modeling_x.py',
  });
  assert.ok(resolveClassReference('NoDot').problem);
  assert.ok(resolveClassReference('../x.Y').problem);
});

test('python scanner: aliases, from-imports, strings and comments', () => {
  const src = [
    'from os import system as run_it',
    'import importlib',
    'x = \'os.system("no")\'  # eval(1)',
    'run_it("echo hi")',
    "importlib.import_module('socket')",
    '"""',
    'exec(not_code)',
    '"""',
    'y = exec(compile(src, "f", "exec"))',
  ].join('\n');
  const hits = scanPython(src).map((h) => `${h.line}:${h.name}`);
  assert.deepEqual(hits, ['4:os.system', '5:importlib.import_module(socket)', '9:exec', '9:compile']);
});

test('config JSON with duplicate keys or trust_remote_code set', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(
    join(dir, 'config.json'),
    '{"model_type": "llama", "auto_map": {}, "auto_map": {"AutoModel": "m.M"}}',
  );
  const [f] = (await scanPaths([join(dir, 'config.json')])).files;
  assert.ok(ruleIds(f!).includes('MG401'));
  assert.ok(ruleIds(f!).includes('MG460'));
  writeFileSync(join(dir, 'config.json'), '{"model_type": "x", "trust_remote_code": true}');
  const [g] = (await scanPaths([join(dir, 'config.json')])).files;
  assert.deepEqual(ruleIds(g!), ['MG460']);
});

test('sentence-transformers modules.json: library modules pass, custom module types are named', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const ok = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(ok, null, 2));
  const [a] = (await scanPaths([join(dir, 'modules.json')])).files;
  assert.equal(a!.format, 'hf-config');
  assert.deepEqual(a!.findings, []);
  const bad = [...ok, { idx: 2, name: '2', path: '../../x', type: 'custom_module.Evil' }];
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(bad, null, 2));
  const [b] = (await scanPaths([join(dir, 'modules.json')])).files;
  assert.deepEqual(symbols(b!, 'MG460').sort(), ['../../x', 'custom_module.Evil']);
  assert.equal(b!.verdict, 'block');
});
