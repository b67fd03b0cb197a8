// The bundles as a runner runs them: dist/cli.js (the CLI: its launcher holding the bundle) and dist/index.js
// copied alone into an empty temp folder with no node_modules anywhere above it (a runner checks out the action
// without node_modules). One fixture of every format and codec is scanned there, and the verdicts and findings
// must equal the in-repo core's (scanPaths in this process). A dependency loaded at run time (createRequire, a
// computed require) instead of bundled works in the repository and fails only here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { before, test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport, ScanReportJson } from '../../src/core/types.js';
import { buildDist, DIST, DIST_CLI, DIST_DIR, FakeGitHub, makeRepo, runAction } from '../action/harness.js';
import { FIXTURES, tempDir } from '../helpers.js';

/** One or two fixtures per format, and every codec (clean and with a late payload). */
const PICKED = [
  ...readdirSync(join(FIXTURES, 'archive', 'codecs')).map((n) => `archive/codecs/${n}`),
  'archive/benign/arrays.npz',
  'archive/benign/weights.tar',
  'archive/benign/plain.zip',
  'archive/benign/state_dict.pt.gz',
  'archive/malicious/model.7z',
  'archive/malicious/model.joblib.bz2',
  'archive/malicious/model.joblib.xz',
  'archive/malicious/model.joblib.lz4',
  'archive/malicious/model.pkl.zst',
  'archive/malicious/nested.zip',
  'archive/malicious/checkpoint.tar.gz',
  'pickle/benign/data_p4.pkl',
  'pickle/benign/sk_tree.joblib',
  'pickle/malicious/build_attr_injection.pkl',
  'pytorch/benign/state_dict.pt',
  'pytorch/benign/state_dict_legacy.pt',
  'pytorch/benign/scripted.pt',
  'pytorch/malicious/legacy_payload_after_storages.pt',
  'numpy/float32.npy',
  'numpy/object_malicious.npy',
  'safetensors/benign.safetensors',
  'safetensors/trailing_pickle.safetensors',
  'gguf/benign/llama3.gguf',
  'gguf/malicious/bad_alignment.gguf',
  'onnx/mlp.onnx',
  'onnx/python_op.onnx',
  'keras/benign.keras',
  'keras/lambda.h5',
  'tensorflow/cases/benign_tf2/saved_model.pb',
  'tensorflow/cases/eager_py_func/saved_model.pb',
  'huggingface/plain_model/config.json',
  'huggingface/remote_code_evil/config.json',
  'template/llama3.jinja',
  'template/malicious/cve_2024_34359.jinja',
];

/**
 * The comparable part of each file report (verdict, score, format, sha256, findings), keyed by path with
 * `prefix` removed (the core reports paths relative to the folder scanned, the action relative to the
 * workspace); files outside `prefix` are left out.
 */
function summary(files: Iterable<FileReport>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    out[f.path.slice(prefix.length)] = {
      verdict: f.verdict,
      score: f.score,
      format: f.format,
      sha256: f.sha256,
      findings: f.findings
        .map((x) => `${x.ruleId} ${x.severity} ${JSON.stringify(x.location)} ${x.message}`)
        .sort(),
    };
  }
  return out;
}

function noNodeModulesAbove(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    assert.ok(!existsSync(join(d, 'node_modules')), `${d} has a node_modules folder`);
    if (dirname(d) === d) break;
  }
}

before(() => buildDist(), { timeout: 180_000 });

test('dist/cli.js run alone in an empty folder: same verdicts and findings as the in-repo core', {
  timeout: 600_000,
}, async (t) => {
  const tmp = tempDir((fn) => t.after(fn), 'mg-isolated-');
  const models = join(tmp, 'models');
  for (const rel of PICKED) {
    mkdirSync(join(models, dirname(rel)), { recursive: true });
    copyFileSync(join(FIXTURES, rel), join(models, rel));
  }
  // The bundle's own folder (os.tmpdir()) and the scan's working folder: nothing to resolve a package from.
  assert.ok(DIST_DIR.startsWith(tmpdir()));
  noNodeModulesAbove(DIST_DIR);
  noNodeModulesAbove(tmp);
  // The CLI is one file (the launcher holds its bundle); the action's bundle is the other.
  assert.deepEqual(readdirSync(DIST_DIR).sort(), [parse(DIST_CLI).base, parse(DIST).base].sort());

  const cwd = join(tmp, 'cwd');
  mkdirSync(cwd);
  const env = { PATH: process.env.PATH ?? '', HOME: tmp };
  const cli = await new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
    execFile(
      process.execPath,
      [DIST_CLI, 'scan', models, '--format', 'json'],
      { cwd, env, maxBuffer: 256 * 2 ** 20 },
      (err, stdout, stderr) => res({ code: err ? Number(err.code ?? 99) : 0, stdout, stderr }),
    ),
  );
  assert.equal(cli.code, 1, `blocked (exit 1): ${cli.stderr}`);
  // The code cache went where it goes by default (CI is not set in this environment), and nowhere else.
  assert.equal(readdirSync(join(tmp, '.cache', 'modelgate')).filter((n) => n.endsWith('.v8cache')).length, 1);
  assert.deepEqual(readdirSync(DIST_DIR).sort(), [parse(DIST_CLI).base, parse(DIST).base].sort());
  const bundled = JSON.parse(cli.stdout) as ScanReportJson;
  const inRepo = await scanPaths([models]);
  const got = summary(bundled.files);
  const want = summary(inRepo.files);
  assert.equal(Object.keys(want).length, PICKED.length);
  assert.deepEqual(got, want);
  // Not vacuous: every codec's clean file passes and every late payload blocks, in the bundle.
  for (const [rel, s] of Object.entries(got)) {
    if (rel.includes('codecs/clean')) assert.equal((s as { verdict: string }).verdict, 'pass', rel);
    if (rel.includes('codecs/late')) assert.equal((s as { verdict: string }).verdict, 'block', rel);
  }
});

test('dist/index.js (the action) run alone: same verdicts and findings as the in-repo core', {
  timeout: 600_000,
}, async (t) => {
  const tmp = tempDir((fn) => t.after(fn), 'mg-isolated-action-');
  const api = new FakeGitHub();
  await api.start();
  t.after(() => api.stop());
  const files: Record<string, Buffer> = {};
  for (const rel of PICKED) files[`models/${rel}`] = readFileSync(join(FIXTURES, rel));
  const { ws } = makeRepo(tmp, files);
  noNodeModulesAbove(DIST_DIR);
  noNodeModulesAbove(ws);
  const r = await runAction({
    ws,
    tmp,
    api,
    event: 'schedule',
    payload: { schedule: '0 3 * * *', repository: { full_name: 'octo/models' } },
    inputs: { lfs: 'off', cache: 'false', comment: 'never' },
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(r.report, r.stdout + r.stderr);
  const inRepo = await scanPaths([join(ws, 'models')]);
  const got = summary(r.report!.files as unknown as Iterable<FileReport>, 'models/');
  const want = summary(inRepo.files);
  assert.equal(Object.keys(want).length, PICKED.length);
  assert.deepEqual(got, want);
});
