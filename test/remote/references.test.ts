import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { extractReferences } from '../../src/core/remote/references.js';
import type { ScanReportJson } from '../../src/core/types.js';
import { FIXTURES, runCli, tempDir } from '../helpers.js';
import { type FakeHub, realFile, startFakeHub, virtualSafetensors } from './fake-hub.js';

const EVIL_SHA = '1'.repeat(40);
const GOOD_SHA = '2'.repeat(40);
const MiB = 2 ** 20;

test('Python: the loading calls, their literal arguments and revisions', async () => {
  const src = [
    'from transformers import AutoModel, pipeline',
    'm = AutoModel.from_pretrained("acme/bert", revision="0123456789abcdef0123456789abcdef01234567")',
    "tok = AutoTokenizer.from_pretrained('acme/bert')  # unpinned",
    'p = hf_hub_download(repo_id="acme/gguf", filename="q4.gguf", subfolder="quant", revision="v1.0")',
    'snapshot_download("acme/data", repo_type="dataset")',
    'snapshot_download(',
    '    repo_id="acme/snap",',
    '    revision="main",',
    ')',
    'clf = pipeline("text-classification", model="acme/clf")',
    'x = AutoModel.from_pretrained(name)',
    'y = AutoModel.from_pretrained(f"acme/{v}")',
    'z = AutoModel.from_pretrained("./local/model")',
    'w = AutoModel.from_pretrained("acme/r", revision=rev)',
    's = "AutoModel.from_pretrained(\\"acme/in-a-string\\")"',
    '# AutoModel.from_pretrained("acme/in-a-comment")',
    'def from_pretrained(self, name): pass',
    'e = SentenceTransformer("sentence-transformers/all-MiniLM-L6-v2")',
  ].join('\n');
  const refs = await extractReferences('train.py', src);
  const short = refs.map((r) => [r.line, r.kind, r.repoId, r.revision, r.filename, r.via]);
  assert.deepEqual(short, [
    [2, 'hf', 'acme/bert', '0123456789abcdef0123456789abcdef01234567', undefined, 'from_pretrained'],
    [3, 'hf', 'acme/bert', undefined, undefined, 'from_pretrained'],
    [4, 'hf', 'acme/gguf', 'v1.0', 'quant/q4.gguf', 'hf_hub_download'],
    [5, 'unsupported', 'acme/data', undefined, undefined, 'snapshot_download'], // a dataset: a note
    [6, 'hf', 'acme/snap', 'main', undefined, 'snapshot_download'],
    [10, 'hf', 'acme/clf', undefined, undefined, 'pipeline'],
    [11, 'unresolved', undefined, undefined, undefined, 'from_pretrained'],
    [12, 'unresolved', undefined, undefined, undefined, 'from_pretrained'],
    [14, 'unresolved', 'acme/r', undefined, undefined, 'from_pretrained'],
    [18, 'hf', 'sentence-transformers/all-MiniLM-L6-v2', undefined, undefined, 'SentenceTransformer'],
  ]);
  // A name that is a folder of the repository is a local model.
  assert.deepEqual(
    await extractReferences('a.py', 'AutoModel.from_pretrained("models/bert")', (p) => p === 'models/bert'),
    [],
  );
});

test('configs, Ollama Modelfiles and DVC files', async () => {
  const yaml =
    'model_name_or_path: acme/llama\nmodel_revision: 0123456789abcdef0123456789abcdef01234567\nlr: 1e-4\n';
  assert.deepEqual(
    (await extractReferences('train.yaml', yaml)).map((r) => [r.line, r.repoId, r.revision, r.via]),
    [[1, 'acme/llama', '0123456789abcdef0123456789abcdef01234567', 'model_name_or_path']],
  );
  const json = '{\n  "tokenizer_name_or_path": "acme/tok",\n  "output_dir": "out/x"\n}\n';
  assert.deepEqual(
    (await extractReferences('args.json', json)).map((r) => [r.line, r.repoId, r.revision]),
    [[2, 'acme/tok', undefined]],
  );
  const modelfile = 'FROM hf.co/acme/model-GGUF:Q4_K_M\nPARAMETER temperature 0.2\n';
  assert.deepEqual(
    (await extractReferences('Modelfile', modelfile)).map((r) => [r.line, r.kind, r.repoId]),
    [[1, 'hf', 'acme/model-GGUF']],
  );
  assert.deepEqual(
    (await extractReferences('Modelfile', 'FROM llama3.2\n')).map((r) => r.kind),
    ['unsupported'],
  );
  assert.deepEqual(await extractReferences('Modelfile', 'FROM ./model.gguf\n'), []);
  const dvc = 'outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 123\n  path: model.pt\n';
  assert.deepEqual(
    (await extractReferences('model.pt.dvc', dvc)).map((r) => [r.line, r.kind]),
    [[4, 'unsupported']],
  );
});

let hub: FakeHub;
before(async () => {
  hub = await startFakeHub([
    {
      id: 'mallory/evil',
      refs: { main: EVIL_SHA },
      commits: {
        [EVIL_SHA]: [
          realFile('config.json', Buffer.from('{"model_type": "bert"}')),
          realFile(
            'pytorch_model.bin',
            readFileSync(join(FIXTURES, 'pytorch', 'malicious', 'payload_zip.pt')),
            true,
          ),
        ],
      },
    },
    {
      id: 'acme/good',
      refs: { main: GOOD_SHA },
      commits: {
        [GOOD_SHA]: [
          realFile('config.json', Buffer.from('{"model_type": "bert"}')),
          virtualSafetensors('model.safetensors', 64, 4 * MiB),
        ],
      },
    },
  ]);
});
after(() => hub.close());

test('CLI: a malicious checkpoint behind a pinned reference blocks; an unpinned one is flagged at its line', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  mkdirSync(join(dir, 'src'));
  writeFileSync(
    join(dir, 'src', 'train.py'),
    [
      'from transformers import AutoModel',
      'base = AutoModel.from_pretrained("acme/good")',
      `evil = AutoModel.from_pretrained("mallory/evil", revision="${EVIL_SHA}")`,
    ].join('\n'),
  );
  const env = { HF_ENDPOINT: hub.endpoint, HF_TOKEN: '' };
  const r = await runCli(['scan', '--references', dir, '--format', 'json'], { env });
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as ScanReportJson;
  const evil = report.files.find((f) => f.path === `hf://mallory/evil@${EVIL_SHA}/pytorch_model.bin`);
  assert.equal(evil?.verdict, 'block');
  const train = report.files.find((f) => f.path === 'src/train.py');
  assert.ok(train);
  const unpinned = train.findings.filter((f) => f.ruleId === 'MG950');
  assert.deepEqual(
    unpinned.map((f) => [f.location.line, f.location.symbol]),
    [[2, 'acme/good@main']],
  );
  assert.match(unpinned[0]!.message, new RegExp(GOOD_SHA));
  const good = report.files.find((f) => f.path === `hf://acme/good@${GOOD_SHA}/model.safetensors`);
  assert.equal(good?.verdict, 'pass');
  assert.equal(good?.sha256Source, 'hub');
  assert.match(r.stderr, /judged reading \d+ bytes/);

  // Without --references the same folder passes: the references are what the gate adds.
  const plain = await runCli(['scan', dir, '--format', 'json'], { env });
  assert.equal(plain.code, 0, plain.stderr);
});

test('CLI: hf:// on the command line, SARIF places the reference finding at its line', async (t) => {
  const env = { HF_ENDPOINT: hub.endpoint };
  const r = await runCli(['scan', 'hf://acme/good', '--format', 'json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as ScanReportJson;
  assert.equal(report.verdict, 'warn');
  assert.equal(report.files.at(0)!.path, `hf://acme/good@${GOOD_SHA}`);
  assert.deepEqual(
    report.files.at(0)!.findings.map((f) => f.ruleId),
    ['MG950'],
  );
  const strict = await runCli(['scan', 'hf://acme/good', '--profile', 'strict', '--format', 'json'], { env });
  assert.equal(strict.code, 1, strict.stderr);

  const dir = tempDir((fn) => t.after(fn));
  writeFileSync(join(dir, 'app.py'), '\n\nm = AutoModel.from_pretrained("acme/good")\n');
  const sarif = await runCli(['scan', '--references', dir, '--format', 'sarif'], { env });
  const doc = JSON.parse(sarif.stdout);
  const result = doc.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'MG950');
  assert.equal(result.locations[0].physicalLocation.artifactLocation.uri, 'app.py');
  assert.deepEqual(result.locations[0].physicalLocation.region, { startLine: 3 });

  const bad = await runCli(['scan', 'hf://not a repo'], { env });
  assert.equal(bad.code, 3);
});
