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
  // Said once for the config (remote code is code execution by design), naming every file.
  assert.deepEqual(symbols(cfg, 'MG460'), ['auto_map']);
  const msg = cfg.findings[0]!.message;
  assert.ok(msg.includes('configuration_custom.py') && msg.includes('modeling_custom.py'), msg);
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
  const local = cfg.findings.find((x) => x.location.symbol === 'auto_map')!.message;
  assert.ok(local.includes('modeling_evil.py'), local);
  assert.ok(local.includes('pipeline_evil.py'), local);
  assert.ok(syms.includes('someone/other-repo--modeling_other.py'));
  const evil = files.get('modeling_evil.py')!;
  assert.ok(ruleIds(evil).includes('MG462'));
  assert.ok(symbols(evil, 'MG462').includes('os.system'));
  assert.ok(symbols(evil, 'MG462').includes('subprocess.run'), 'import subprocess as sp is resolved');
  assert.equal(evil.verdict, 'block');
  const tok = files.get('tokenizer_config.json')!;
  assert.equal(tok.format, 'hf-tokenizer-config');
  assert.ok(tok.findings.some((x) => x.ruleId === 'MG460' && x.message.includes('tokenization_custom.py')));
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

test('configs that load code from nested sub-configs, Hub kernels and other repositories (2026 CVEs)', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const scan = async (cfg: unknown) => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg, null, 2));
    const [f] = (await scanPaths([join(dir, 'config.json')])).files;
    return f!;
  };
  // CVE-2026-5241: trust_remote_code inside a sub-config.
  const nested = await scan({
    model_type: 'lightglue',
    keypoint_detector_config: { model_type: 'x', trust_remote_code: true },
  });
  assert.deepEqual(ruleIds(nested), ['MG920']);
  assert.equal(nested.verdict, 'block');
  // auto_map and repo--module references in a nested config.
  const nestedMap = await scan({
    model_type: 'llava',
    vision_config: { auto_map: { AutoModel: 'evil/repo--modeling_v.VisionModel' } },
  });
  assert.ok(symbols(nestedMap, 'MG460').includes('evil/repo--modeling_v.py'));
  // CVE-2026-4372: _attn_implementation_internal naming a Hub repository.
  const kernel = await scan({ model_type: 'llama', _attn_implementation_internal: 'attacker/flash-kernels' });
  assert.deepEqual(ruleIds(kernel), ['MG921']);
  assert.equal(kernel.severity, 'critical');
  const kernel2 = await scan({
    model_type: 'llama',
    text_config: { attn_implementation: 'kernels-community/flash-attn' },
  });
  assert.equal(kernel2.severity, 'critical');
  // Ordinary attention implementations and configs pass.
  const ok = await scan({
    model_type: 'llama',
    _attn_implementation_autoset: true,
    attn_implementation: 'sdpa',
    text_config: { model_type: 'llama', attn_implementation: 'flash_attention_2' },
    vision_config: { model_type: 'siglip' },
    architectures: ['LlamaForCausalLM'],
  });
  assert.deepEqual(ok.findings, []);
  // Other repositories and URLs the loader fetches.
  const ext = await scan({
    model_type: 'llava',
    mm_vision_tower: 'openai/clip-vit-large-patch14',
    weights_url: 'https://example.com/w.bin',
  });
  assert.deepEqual(symbols(ext, 'MG922').sort(), ['mm_vision_tower', 'weights_url']);
});
