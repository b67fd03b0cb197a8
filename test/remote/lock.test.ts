// `modelgate lock`: Hub repositories (named or referenced) resolved to their commit, scanned, and written into
// models.lock with per-file sha256; the lock then content-pins scans. The CLI runs in-process against the
// fake Hub on 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mergeLock } from '../../src/cli/lock.js';
import { main } from '../../src/cli/main.js';
import { parseLockfile } from '../../src/core/policy/pins.js';
import { FIXTURES, tempDir } from '../helpers.js';
import { type FakeHub, realFile, startFakeHub, virtualSafetensors } from './fake-hub.js';

const GOOD = '8'.repeat(40);
const GOOD_OLD = '9'.repeat(40);
const EVIL = 'a1'.repeat(20);
const config = realFile('config.json', Buffer.from('{"model_type": "bert"}\n'));
const weights = virtualSafetensors('model.safetensors', 8, 2 ** 20);

let hub: FakeHub;
const saved = process.env.HF_ENDPOINT;
before(async () => {
  hub = await startFakeHub([
    {
      id: 'acme/good',
      refs: { main: GOOD },
      commits: { [GOOD]: [config, weights], [GOOD_OLD]: [config] },
    },
    {
      id: 'mallory/evil',
      refs: { main: EVIL },
      commits: {
        [EVIL]: [
          realFile(
            'pytorch_model.bin',
            readFileSync(join(FIXTURES, 'pytorch', 'malicious', 'payload_zip.pt')),
            true,
          ),
        ],
      },
    },
  ]);
  process.env.HF_ENDPOINT = hub.endpoint;
});
after(async () => {
  if (saved === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = saved;
  await hub.close();
});

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

test('lock hf://OWNER/NAME@BRANCH writes the commit with every file sha256 and size; the lock then pins scans', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const lock = join(dir, 'models.lock');
  const r = await cli('lock', 'hf://acme/good', '--lockfile', lock);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`main resolved to ${GOOD}: pin the code to it`));
  const text = readFileSync(lock, 'utf8');
  const pins = parseLockfile(text, lock);
  assert.deepEqual(pins, {
    [`hf://acme/good@${GOOD}/config.json`]: { sha256: config.sha256, size: config.size },
    [`hf://acme/good@${GOOD}/model.safetensors`]: { sha256: weights.sha256, size: weights.size },
  });

  // The policy names the lock: the scan of the pinned commit matches it; an altered entry blocks (MG610).
  writeFileSync(join(dir, 'policy.yml'), `lockfile: ${lock}\n`);
  const ok = await cli('scan', `hf://acme/good@${GOOD}`, '--config', join(dir, 'policy.yml'), '-f', 'json');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  writeFileSync(lock, text.replace(config.sha256, '0'.repeat(64)));
  const bad = await cli('scan', `hf://acme/good@${GOOD}`, '--config', join(dir, 'policy.yml'), '-f', 'json');
  assert.equal(bad.code, 1);
  const cfg = JSON.parse(bad.stdout).files.find((f: { path: string }) => f.path.endsWith('/config.json'));
  assert.deepEqual(
    cfg.findings.map((f: { ruleId: string }) => f.ruleId),
    ['MG610'],
  );
});

test('lock --references: every referenced repository at its commit; a malicious one blocks and nothing is written', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'load.py'),
    'from transformers import AutoModel\nm = AutoModel.from_pretrained("acme/good")\n',
  );
  const lock = join(dir, 'models.lock');
  const before = '# ours\n' + `${'1'.repeat(64)}  models/local.onnx\n`;
  writeFileSync(lock, before);
  const ok = await cli('lock', '--references', app, '--lockfile', lock);
  assert.equal(ok.code, 0, ok.stderr);
  const text = readFileSync(lock, 'utf8');
  assert.ok(text.startsWith(before), 'the lines of other files are kept as they were');
  assert.equal(Object.keys(parseLockfile(text, lock)).length, 3);

  // A name computed at run time cannot be locked: said, and the rest is locked.
  writeFileSync(
    join(app, 'dyn.py'),
    'import os\nfrom transformers import AutoModel\nAutoModel.from_pretrained(os.environ["M"])\n',
  );
  const dyn = await cli('lock', '--references', app, '--lockfile', lock);
  assert.equal(dyn.code, 0, dyn.stderr);
  assert.match(dyn.stderr, /dyn.py:3: not locked \(unresolved/);
  assert.equal(readFileSync(lock, 'utf8'), text);
  writeFileSync(
    join(app, 'evil.py'),
    `from huggingface_hub import snapshot_download\nsnapshot_download("mallory/evil", revision="${EVIL}")\n`,
  );
  const blocked = await cli('lock', '--references', app, '--lockfile', lock);
  assert.equal(blocked.code, 1);
  assert.match(
    blocked.stderr,
    new RegExp(`hf://mallory/evil@${EVIL} not locked: .*pytorch_model.bin: blocked`),
  );
  assert.equal(readFileSync(lock, 'utf8'), text, 'nothing written when a repository blocks');
});

test('a repository locked again replaces its entries at any older commit; a cache dir spares the second scan', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const lock = join(dir, 'models.lock');
  writeFileSync(
    lock,
    [
      '# size: 10',
      `${'2'.repeat(64)}  hf://acme/good@${GOOD_OLD}/config.json`,
      `${'3'.repeat(64)}  hf://other/repo@${GOOD_OLD}/x.bin`,
      '',
    ].join('\n'),
  );
  const cache = join(dir, 'cache');
  const first = await cli('lock', `hf://acme/good@${GOOD}`, '--lockfile', lock, '--cache-dir', cache);
  assert.equal(first.code, 0, first.stderr);
  const pins = parseLockfile(readFileSync(lock, 'utf8'), lock);
  assert.deepEqual(Object.keys(pins).sort(), [
    `hf://acme/good@${GOOD}/config.json`,
    `hf://acme/good@${GOOD}/model.safetensors`,
    `hf://other/repo@${GOOD_OLD}/x.bin`,
  ]);
  const n = hub.requests.length;
  const again = await cli('lock', `hf://acme/good@${GOOD}`, '--lockfile', lock, '--cache-dir', cache);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(hub.requests.length, n, 'a pinned commit already judged: no request');
  assert.deepEqual(parseLockfile(readFileSync(lock, 'utf8'), lock), pins);
});

test('lock: usage errors', async () => {
  assert.equal((await cli('lock')).code, 3);
  assert.match((await cli('lock', 'models/')).stderr, /--references models\//);
  assert.equal((await cli('lock', 'hf://../x')).code, 3);
  assert.equal((await cli('lock', '--help')).code, 0);
});

test('mergeLock keeps every other line and drops the old entries with their size lines', () => {
  const repos = new Set(['acme/good']);
  const old = [
    '# header',
    '# size: 5',
    `${'4'.repeat(64)}  hf://acme/good@${GOOD_OLD}/a`,
    `${'5'.repeat(64)} *local.bin`,
    '',
  ].join('\n');
  assert.equal(
    mergeLock(old, ['# size: 1', `${'6'.repeat(64)}  hf://acme/good@${GOOD}/a`], repos),
    [
      '# header',
      `${'5'.repeat(64)} *local.bin`,
      '# size: 1',
      `${'6'.repeat(64)}  hf://acme/good@${GOOD}/a`,
      '',
    ].join('\n'),
  );
  assert.match(mergeLock('', [], repos), /^# modelgate lockfile/);
  // A repository without an organisation (gpt2) is a repository too.
  const gpt2 = `${'7'.repeat(64)}  hf://gpt2@${GOOD_OLD}/config.json\n`;
  assert.equal(mergeLock(gpt2, [], new Set(['gpt2'])).includes('gpt2@'), false);
  assert.ok(parseLockfile(gpt2, 'models.lock')[`hf://gpt2@${GOOD_OLD}/config.json`]);
});
