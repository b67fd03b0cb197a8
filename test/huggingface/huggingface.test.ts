import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveClassReference } from '../../src/core/formats/huggingface/analyzer.js';
import { scanPython } from '../../src/core/formats/huggingface/python.js';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, symbols, tempDir } from '../helpers.js';

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

test('auto_map names the Python files trust_remote_code would run (a warning: the files are analysed), and they are python-source', async () => {
  const files = await scanDir('remote_code_clean');
  const cfg = files.get('config.json')!;
  assert.deepEqual(ruleIds(cfg), ['MG460']);
  // Said once for the config (remote code is code execution by design), naming every file.
  assert.deepEqual(symbols(cfg, 'MG460'), ['auto_map']);
  const msg = cfg.findings[0]!.message;
  assert.ok(msg.includes('configuration_custom.py') && msg.includes('modeling_custom.py'), msg);
  assert.ok(cfg.findings.every((x) => x.severity === 'medium'));
  assert.equal(cfg.verdict, 'warn');
  const mod = files.get('modeling_custom.py')!;
  assert.equal(mod.format, 'python-source');
  // Only "code next to a model": the docstring and comment mentioning os.system/eval are not calls.
  assert.deepEqual(ruleIds(mod), ['MG461']);
});

test('remote code that runs commands, code from another repository, custom pipelines, tokenizer auto_map', async () => {
  const files = await scanDir('remote_code_evil');
  const cfg = files.get('config.json')!;
  const syms = symbols(cfg, 'MG460');
  // One notice for the repository, on config.json, naming the files of both configs.
  const notices = cfg.findings.filter((x) => x.location.symbol === 'auto_map');
  assert.equal(notices.length, 1);
  const local = notices[0]!.message;
  assert.ok(local.includes('modeling_evil.py'), local);
  assert.ok(local.includes('pipeline_evil.py'), local);
  assert.ok(local.includes('tokenization_custom.py') && local.includes('tokenizer_config.json'), local);
  assert.ok(syms.includes('someone/other-repo--modeling_other.py'));
  const evil = files.get('modeling_evil.py')!;
  assert.ok(ruleIds(evil).includes('MG462'));
  assert.ok(symbols(evil, 'MG462').includes('os.system'));
  assert.ok(symbols(evil, 'MG462').includes('subprocess.run'), 'import subprocess as sp is resolved');
  assert.equal(evil.verdict, 'block');
  const tok = files.get('tokenizer_config.json')!;
  assert.equal(tok.format, 'hf-tokenizer-config');
  assert.ok(!tok.findings.some((x) => x.ruleId === 'MG460'));
  assert.equal(tok.facts?.['hf.remoteCodeNoticeIn'], 'config.json');
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
  assert.deepEqual(ruleIds(cfg), ['MG942']);
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

test('python scanner: aliases, from-imports, strings and comments', async () => {
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
  const hits = (await scanPython(src)).map((h) => `${h.line}:${h.name}`);
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
  assert.deepEqual(symbols(b!, 'MG460'), ['custom_module.Evil']);
  assert.deepEqual(symbols(b!, 'MG942'), ['../../x']);
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

test('remote code is said once per repository (the nearest folder holding config.json), and the policy decides whether it blocks', async (t) => {
  const root = tempDir((fn) => t.after(fn));
  const model = (dir: string, prefix: string) => {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(
      join(root, dir, 'config.json'),
      JSON.stringify({
        model_type: 'x',
        auto_map: { AutoModel: `${prefix}_model.M`, AutoConfig: `${prefix}_config.C` },
      }),
    );
    writeFileSync(
      join(root, dir, 'tokenizer_config.json'),
      JSON.stringify({ tokenizer_class: 'T', auto_map: { AutoTokenizer: [`${prefix}_tok.T`, null] } }),
    );
    for (const m of ['model', 'config', 'tok'])
      writeFileSync(join(root, dir, `${prefix}_${m}.py`), 'import torch\n');
  };
  model('a', 'a');
  model('b', 'b');
  // A config in a subfolder of model b without its own config.json beside it belongs to b.
  mkdirSync(join(root, 'b', 'sub'));
  writeFileSync(
    join(root, 'b', 'sub', 'tokenizer_config.json'),
    JSON.stringify({ tokenizer_class: 'T', auto_map: { AutoTokenizer: ['b_tok.T', null] } }),
  );
  const report = await scanPaths([root]);
  const notices = report.files.flatMap((f) =>
    f.findings.filter((x) => x.ruleId === 'MG460').map((x) => [f.path, x.message] as const),
  );
  assert.deepEqual(notices.map(([p]) => p).sort(), ['a/config.json', 'b/config.json']);
  const b = notices.find(([p]) => p === 'b/config.json')![1];
  assert.match(b, /b_model\.py \(present\), b_config\.py \(present\), b_tok\.py/);
  assert.match(b, /Named by b\/config\.json, b\/sub\/tokenizer_config\.json, b\/tokenizer_config\.json/);
  for (const p of ['a/tokenizer_config.json', 'b/tokenizer_config.json', 'b/sub/tokenizer_config.json']) {
    const f = report.files.find((x) => x.path === p)!;
    assert.deepEqual(f.findings, [], p);
    assert.equal(f.verdict, 'pass', p);
  }
  assert.equal(report.files.find((x) => x.path === 'a/config.json')!.verdict, 'warn');
  // The policy decides: remote code that blocks; an escape from the folder stays critical whatever it says.
  const blocking = await scanPaths([join(root, 'b')], {
    policy: { ...DEFAULT_POLICY, ruleScores: { MG460: 60 } },
  });
  assert.equal(blocking.files.find((x) => x.path === 'config.json')!.verdict, 'block');
  writeFileSync(
    join(root, 'a', 'config.json'),
    JSON.stringify({ model_type: 'x', auto_map: { AutoModel: 'a_model.M', AutoConfig: '../../evil.C' } }),
  );
  const policy = { ...DEFAULT_POLICY, ruleScores: { MG460: 30 } };
  const warned = await scanPaths([join(root, 'b')], { policy });
  assert.equal(warned.files.find((x) => x.path === 'config.json')!.verdict, 'warn');
  const esc = only(
    await scanPaths([join(root, 'a', 'config.json')], {
      policy: { ...DEFAULT_POLICY, ruleScores: { MG460: 0, MG942: 0 } },
    }),
  );
  assert.deepEqual(ruleIds(esc).sort(), ['MG460', 'MG942']);
  assert.equal(esc.verdict, 'block');
});
