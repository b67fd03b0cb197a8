import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { filterRepoPath } from '../../src/core/remote/patterns.js';
import { isRepoId } from '../../src/core/remote/ref.js';
import { extractReferences, type ModelReference, referenceReads } from '../../src/core/remote/references.js';
import type { ScanReportJson } from '../../src/core/types.js';
import { FIXTURES, runCli, tempDir } from '../helpers.js';
import { type FakeHub, realFile, startFakeHub, virtualSafetensors } from './fake-hub.js';

const REFS = join(FIXTURES, 'references');
const source = (name: string) => readFileSync(join(REFS, name), 'utf8');
const brief = (refs: ModelReference[]) =>
  refs.map((r) => [r.line, r.kind, r.repoId, r.revision].filter((x) => x !== undefined));

test('Python data flow: constants, f-strings, concatenation, format, %, conditionals, loops, attributes', async () => {
  const refs = await extractReferences('dataflow.py', source('dataflow.py'));
  assert.deepEqual(brief(refs), [
    [16, 'hf', 'acme/bert', '0123456789abcdef0123456789abcdef01234567'],
    [17, 'hf', 'acme/base', 'v1.0'],
    [18, 'hf', 'acme/fmt'],
    [19, 'hf', 'acme/pct'],
    [20, 'hf', 'acme/small'],
    [20, 'hf', 'acme/large'],
    [23, 'hf', 'acme/one'],
    [23, 'hf', 'acme/two'],
    // pipeline(model=model, tokenizer=tok) passes loaded objects: nothing to resolve.
    [29, 'unresolved'], // a parameter
    [32, 'unresolved'], // os.environ
    [33, 'unresolved', 'acme/pinned'], // the revision comes from the environment
    [34, 'unresolved'], // an f-string with a computed field
    [35, 'unresolved'], // **kwargs
    [47, 'hf', 'acme/encoder'], // a class attribute
    [48, 'hf', 'acme/decoder'], // an attribute assigned a constant
    [49, 'unresolved'], // an attribute never assigned in the file (argparse)
  ]);
  // Reviewers see what the code computes the name from.
  assert.match(refs.find((r) => r.line === 32)!.note!, /os\.environ\["MODEL_ID"\]/);
  assert.match(refs.find((r) => r.line === 33)!.note!, /revision=os\.getenv\("REV", "main"\)/);
});

test('names without an organisation are Hub repositories; local folders are not', async () => {
  const isLocal = (p: string) => p === 'checkpoints';
  const refs = await extractReferences('canonical.py', source('canonical.py'), isLocal);
  assert.deepEqual(brief(refs), [
    [5, 'hf', 'distilgpt2'],
    [6, 'hf', 'gpt2'],
    [7, 'hf', 'bert-base-uncased'],
    [15, 'hf', 'all-MiniLM-L6-v2'],
  ]);
  // huggingface_hub's downloads never look for a folder: a same-named folder does not hide them.
  assert.deepEqual(
    brief(
      await extractReferences(
        'get.py',
        'snapshot_download("checkpoints")\nAutoModel.from_pretrained("checkpoints")',
        isLocal,
      ),
    ),
    [[1, 'hf', 'checkpoints']],
  );
  // huggingface_hub's validate_repo_id, case by case.
  for (const ok of ['gpt2', 'acme/bert', 'Foo-BAR_foo.bar123', 'a/b.c', '123'])
    assert.equal(isRepoId(ok), true, ok);
  for (const bad of [
    './x',
    '/abs/x',
    'a/b/c',
    '.repo',
    'repo-',
    'a--b',
    'a..b',
    'x.git',
    'a/',
    '',
    `${'a'.repeat(97)}`,
  ])
    assert.equal(isRepoId(bad), false, bad);
});

test('what each call reads: one file, a subfolder, allow/ignore patterns, a glob; datasets and Spaces', async () => {
  const refs = await extractReferences('selection.py', source('selection.py'));
  const by = (line: number) => refs.find((r) => r.line === line)!;
  assert.deepEqual(
    refs.map((r) => [r.line, r.kind, r.repoId]),
    [
      [9, 'hf', 'acme/pipe'],
      [10, 'hf', 'acme/all'],
      [11, 'hf', 'acme/gguf'],
      [12, 'hf', 'acme/sd'],
      [13, 'hf', 'acme/llama-GGUF'],
      [14, 'hf', 'acme/lora'], // PeftModel.from_pretrained(model, model_id): the adapter is second
      [15, 'hf', 'acme/vit'], // timm hf-hub: prefix; a timm architecture name is not a reference
      [17, 'unsupported', 'acme/corpus'],
      [18, 'unsupported', 'acme/demo'],
      [19, 'hf', 'acme/llava-GGUF'],
    ],
  );
  // llama-cpp: positional glob, additional_files globs, and no revision (its revision= goes to Llama()).
  assert.deepEqual([by(19).allow, by(19).revision], [['*Q8_0.gguf', '*mmproj*'], undefined]);
  const pipe = by(9);
  const reads = (r: ModelReference, paths: string[]) => paths.filter((p) => referenceReads(r, p));
  const repo = [
    'model_index.json',
    'unet/config.json',
    'unet/diffusion_pytorch_model.safetensors',
    'unet/diffusion_pytorch_model.bin',
    'text_encoder/pytorch_model.bin',
    'vae/diffusion_pytorch_model.safetensors',
  ];
  assert.deepEqual(reads(pipe, repo), [
    'model_index.json',
    'unet/config.json',
    'unet/diffusion_pytorch_model.safetensors',
  ]);
  assert.deepEqual(reads(by(10), repo), repo);
  assert.deepEqual(reads(by(11), ['q4.gguf', 'quant/q4.gguf']), ['quant/q4.gguf']);
  assert.deepEqual(reads(by(12), repo), [
    'unet/config.json',
    'unet/diffusion_pytorch_model.safetensors',
    'unet/diffusion_pytorch_model.bin',
  ]);
  assert.deepEqual(reads(by(13), ['llama-Q4_K_M.gguf', 'sub/llama-Q4_K_M.gguf', 'llama-Q8_0.gguf']), [
    'llama-Q4_K_M.gguf',
    'sub/llama-Q4_K_M.gguf',
  ]);
  assert.match(by(17).note!, /dataset repository acme\/corpus/);
});

test('configs: *_name_or_path and base_model, names without an organisation, interpolation', async () => {
  const yaml = [
    'base_model: acme/llama',
    'model_name_or_path: gpt2',
    'tokenizer_name_or_path: null',
    `adapter_name_or_path: \${oc.env:ADAPTER}`,
    'output_dir: out/run',
  ].join('\n');
  assert.deepEqual(brief(await extractReferences('train.yaml', yaml)), [
    [1, 'hf', 'acme/llama'],
    [2, 'hf', 'gpt2'],
    [4, 'unresolved'],
  ]);
  // Saved configs record where they came from (`_name_or_path` in config.json, `name_or_path` in
  // tokenizer_config.json): provenance, not a load.
  assert.deepEqual(await extractReferences('config.json', '{"_name_or_path": "acme/x"}'), []);
  assert.deepEqual(
    await extractReferences('tokenizer_config.json', '{"name_or_path": "bert-base-uncased"}'),
    [],
  );
});

test("fnmatch as huggingface_hub's filter_repo_objects uses it", () => {
  const allow = (pattern: string, path: string) => filterRepoPath(path, { allow: [pattern] });
  assert.equal(allow('*.json', 'a/b/config.json'), true); // * crosses /
  assert.equal(allow('*.JSON', 'config.json'), false); // case-sensitive
  assert.equal(allow('unet/', 'unet/x/y.bin'), true); // a folder pattern gets *
  assert.equal(allow('unet', 'unet/x.bin'), false);
  assert.equal(allow('model-0000?-of-00002.safetensors', 'model-00001-of-00002.safetensors'), true);
  assert.equal(allow('[!a]*.bin', 'a.bin'), false);
  assert.equal(allow('[!a]*.bin', 'b.bin'), true);
  assert.equal(allow('[]]x', ']x'), true);
  assert.equal(allow('[x', '[x'), true); // an unclosed [ is literal
  assert.equal(allow('a.b', 'axb'), false); // . is literal
  assert.equal(allow('sub\\*.bin', 'sub/x.bin'), true); // backslashes are separators
  assert.equal(filterRepoPath('x.bin', { allow: ['*'], ignore: ['*.bin'] }), false);
  assert.equal(filterRepoPath('x.bin', {}), true);
});

const EVIL_SHA = '3'.repeat(40);
const PIPE_SHA = '4'.repeat(40);
const GPT2_SHA = '5'.repeat(40);
const MiB = 2 ** 20;
let hub: FakeHub;
before(async () => {
  const evilPt = readFileSync(join(FIXTURES, 'pytorch', 'malicious', 'payload_zip.pt'));
  hub = await startFakeHub(
    [
      {
        id: 'mallory/evil',
        refs: { main: EVIL_SHA },
        commits: {
          [EVIL_SHA]: [
            realFile('config.json', Buffer.from('{"model_type": "bert"}')),
            realFile('pytorch_model.bin', evilPt, true),
          ],
        },
      },
      {
        id: 'acme/pipe',
        refs: { main: PIPE_SHA },
        commits: {
          [PIPE_SHA]: [
            realFile('model_index.json', Buffer.from('{"_class_name": "StableDiffusionPipeline"}')),
            realFile('unet/config.json', Buffer.from('{"_class_name": "UNet2DConditionModel"}')),
            virtualSafetensors('unet/diffusion_pytorch_model.safetensors', 16, 4 * MiB),
            realFile('text_encoder/pytorch_model.bin', evilPt, true),
          ],
        },
      },
      {
        id: 'openai-community/gpt2',
        refs: { main: GPT2_SHA },
        commits: {
          [GPT2_SHA]: [
            realFile('config.json', Buffer.from('{"model_type": "gpt2"}')),
            virtualSafetensors('model.safetensors', 8, MiB),
          ],
        },
      },
    ],
    { renamed: { gpt2: 'openai-community/gpt2' } },
  );
});
after(() => hub.close());

async function scanRefs(dir: string): Promise<{ code: number; report: ScanReportJson; stderr: string }> {
  const r = await runCli(['scan', '--references', dir, '--format', 'json'], {
    env: { HF_ENDPOINT: hub.endpoint, HF_TOKEN: '' },
  });
  return { code: r.code, report: JSON.parse(r.stdout) as ScanReportJson, stderr: r.stderr };
}

test('CLI: a constant naming a malicious repository blocks; computed names are reported at their line', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(
    join(dir, 'serve.py'),
    [
      'import os',
      'from transformers import AutoModel',
      'ORG = "mallory"',
      `REV = "${EVIL_SHA}"`,
      'MODEL = f"{ORG}/evil"',
      'model = AutoModel.from_pretrained(MODEL, revision=REV)',
      'other = AutoModel.from_pretrained(os.environ["MODEL"])',
    ].join('\n'),
  );
  const { code, report, stderr } = await scanRefs(dir);
  assert.equal(code, 1, stderr);
  const evil = report.files.find((f) => f.path === `hf://mallory/evil@${EVIL_SHA}/pytorch_model.bin`);
  assert.equal(evil?.verdict, 'block');
  const serve = report.files.find((f) => f.path === 'serve.py')!;
  assert.deepEqual(
    serve.findings.map((f) => [f.ruleId, f.location.line]),
    [['MG953', 7]],
  );
  assert.match(serve.findings[0]!.message, /os\.environ\["MODEL"\]/);
});

test('CLI: snapshot_download scans only what its patterns download', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(
    join(dir, 'fetch.py'),
    [
      'from huggingface_hub import snapshot_download',
      `snapshot_download("acme/pipe", revision="${PIPE_SHA}", allow_patterns=["*.json", "unet/"])`,
    ].join('\n'),
  );
  const narrow = await scanRefs(dir);
  assert.equal(narrow.code, 0, narrow.stderr);
  const paths = narrow.report.files.map((f) => f.path).filter((p) => p.startsWith('hf://'));
  assert.deepEqual(paths.sort(), [
    `hf://acme/pipe@${PIPE_SHA}`,
    `hf://acme/pipe@${PIPE_SHA}/model_index.json`,
    `hf://acme/pipe@${PIPE_SHA}/unet/config.json`,
    `hf://acme/pipe@${PIPE_SHA}/unet/diffusion_pytorch_model.safetensors`,
  ]);

  // Without patterns the call downloads the malicious text encoder too.
  writeFileSync(join(dir, 'fetch.py'), `snapshot_download("acme/pipe", revision="${PIPE_SHA}")\n`);
  const all = await scanRefs(dir);
  assert.equal(all.code, 1, all.stderr);
  const bin = all.report.files.find((f) => f.path.endsWith('text_encoder/pytorch_model.bin'));
  assert.equal(bin?.verdict, 'block');
});

test('CLI: a name without an organisation follows the Hub redirect; a folder of the repository is local', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  execFileSync('git', ['init', '-q', dir]);
  mkdirSync(join(dir, 'mallory', 'evil'), { recursive: true });
  copyFileSync(join(REFS, 'canonical.py'), join(dir, 'app.py'));
  writeFileSync(
    join(dir, 'local.py'),
    'from transformers import AutoModel\nAutoModel.from_pretrained("mallory/evil")  # the vendored folder\n',
  );
  writeFileSync(join(dir, 'mallory', 'evil', 'config.json'), '{"model_type": "bert"}');
  const { report, stderr } = await scanRefs(dir);
  const gpt2 = report.files.find((f) => f.path === `hf://gpt2@${GPT2_SHA}/model.safetensors`);
  assert.equal(gpt2?.verdict, 'pass', stderr);
  const app = report.files.find((f) => f.path === 'app.py')!;
  const unpinned = app.findings.filter((f) => f.ruleId === 'MG950').map((f) => f.location.line);
  assert.ok(unpinned.includes(6), JSON.stringify(app.findings));
  // distilgpt2 and the others are not on the fake Hub: not readable, so incomplete, never pass.
  assert.ok(report.files.some((f) => f.path.startsWith('hf://distilgpt2') && f.verdict === 'incomplete'));
  assert.equal(
    report.files.some((f) => f.path.startsWith('hf://mallory/evil')),
    false,
  );
});
