import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseLockfile } from '../../src/core/policy/pins.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy/policy.js';
import { HubClient } from '../../src/core/remote/hub.js';
import { parseHfUri } from '../../src/core/remote/ref.js';
import { type RemoteScanResult, scanHubRepo } from '../../src/core/remote/scan-repo.js';
import { FIXTURES } from '../helpers.js';
import { type FakeHub, type FakeRepo, realFile, startFakeHub, virtualSafetensors } from './fake-hub.js';

const SHA = 'a'.repeat(40);
const SHA2 = 'b'.repeat(40);
const GATED_SHA = 'c'.repeat(40);
const MiB = 2 ** 20;
const GiB = 2 ** 30;

const json = (o: unknown) => Buffer.from(JSON.stringify(o, null, 2));
const payload = readFileSync(join(FIXTURES, 'pytorch', 'malicious', 'payload_zip.pt'));
const benignPt = readFileSync(join(FIXTURES, 'pytorch', 'benign', 'state_dict.pt'));

// Two shards of 1 GiB each (2 GiB of weights), their index, a config and a tokenizer config.
const shard1 = virtualSafetensors('model-00001-of-00002.safetensors', 256, MiB);
// The second shard has 4096 tensors: a 363 KB header, read past the first 64 KiB on demand.
const shard2 = virtualSafetensors('model-00002-of-00002.safetensors', 4096, MiB / 16, 'block');
const weightMap: Record<string, string> = {};
for (let i = 0; i < 256; i++) weightMap[`layer.${i}.weight`] = shard1.path;
for (let i = 0; i < 4096; i++) weightMap[`block.${i}.weight`] = shard2.path;
const index = { metadata: { total_size: shard1.size + shard2.size }, weight_map: weightMap };
const bigRepo: FakeRepo = {
  id: 'acme/big',
  refs: { main: SHA, v1: SHA },
  commits: {
    [SHA]: [
      realFile('config.json', json({ architectures: ['LlamaForCausalLM'], model_type: 'llama' })),
      realFile('tokenizer_config.json', json({ model_max_length: 2048 })),
      realFile('README.md', Buffer.from('# big\n')),
      realFile('model.safetensors.index.json', json(index)),
      shard1,
      shard2,
    ],
  },
};

const evilRepo: FakeRepo = {
  id: 'mallory/evil',
  refs: { main: SHA2 },
  commits: {
    [SHA2]: [
      realFile('config.json', json({ model_type: 'bert' })),
      realFile('pytorch_model.bin', payload, true),
    ],
  },
};

const gatedRepo: FakeRepo = {
  id: 'acme/gated',
  refs: { main: GATED_SHA },
  token: 'hf_secret_token',
  commits: {
    [GATED_SHA]: [
      realFile('config.json', json({ model_type: 'bert' })),
      realFile('model.bin', benignPt, true),
    ],
  },
};

const faultSha = (n: number) => n.toString(16).padStart(40, 'd');
const faults = ['status500', 'truncate', 'corrupt', 'ignoreRange', 'wrongRange'] as const;
const faultRepos: FakeRepo[] = faults.flatMap((fault, i) => [
  {
    id: `faults/${fault}-ranged`,
    refs: {},
    commits: {
      [faultSha(i * 3 + 1)]: [{ ...virtualSafetensors('model.safetensors', 4, MiB), fault }],
    },
  },
  {
    id: `faults/${fault}-whole`,
    refs: {},
    commits: { [faultSha(i * 3 + 2)]: [realFile('pytorch_model.bin', benignPt, true, fault)] },
  },
  {
    id: `faults/${fault}-small`,
    refs: {},
    commits: { [faultSha(i * 3 + 3)]: [realFile('config.json', json({ model_type: 'bert' }), false, fault)] },
  },
]);

const GGUF_SHA = 'f'.repeat(40);
const gguf = (p: string) => readFileSync(join(FIXTURES, 'gguf', p));
const ggufRepo: FakeRepo = {
  id: 'acme/gguf',
  refs: {},
  commits: {
    [GGUF_SHA]: [
      realFile('llama3.gguf', gguf('benign/llama3.gguf'), true),
      realFile('ssti.gguf', gguf('malicious/ssti_cve_2024_34359.gguf'), true),
      realFile('trailing.gguf', gguf('malicious/trailing_pickle.gguf'), true),
    ],
  },
};

const DISGUISED_SHA = '9'.repeat(40);
const disguisedRepo: FakeRepo = {
  id: 'acme/disguised',
  refs: {},
  commits: { [DISGUISED_SHA]: [realFile('model.safetensors', payload, true)] },
};
const privateRepo: FakeRepo = { ...gatedRepo, id: 'acme/private', private: true };

let hub: FakeHub;
before(async () => {
  hub = await startFakeHub(
    [bigRepo, evilRepo, gatedRepo, privateRepo, ggufRepo, disguisedRepo, ...faultRepos],
    { pageSize: 2 },
  );
});
after(() => hub.close());

interface ScanOpts {
  token?: string;
  policy?: Policy;
  endpoint?: string;
  wholeBytes?: number;
}
async function scan(uri: string, opts: ScanOpts = {}) {
  const ref = parseHfUri(uri);
  assert.ok(ref, uri);
  const client = new HubClient({
    endpoint: opts.endpoint ?? hub.endpoint,
    ...(opts.token ? { token: opts.token } : {}),
    timeoutMs: 5000,
  });
  return scanHubRepo(ref, {
    hub: client,
    policy: opts.policy ?? DEFAULT_POLICY,
    now: new Date('2026-12-01'),
    ...(opts.wholeBytes !== undefined ? { wholeBytes: opts.wholeBytes } : {}),
  });
}

const verdicts = (r: RemoteScanResult) => r.files.map((f) => `${f.path} ${f.verdict}`);
const rules = (r: RemoteScanResult) => r.files.flatMap((f) => f.findings.map((x) => x.ruleId));

test('a repository with 2 GiB of safetensors weights is judged reading under 8 MiB', async () => {
  const servedBefore = hub.served.cdn + hub.served.hub;
  const r = await scan(`hf://acme/big@${SHA}`);
  const served = hub.served.cdn + hub.served.hub - servedBefore;
  assert.equal(r.sha, SHA);
  assert.ok(r.totalBytes > 2 * GiB, `total ${r.totalBytes}`);
  assert.ok(r.bytesRead < 8 * MiB, `read ${r.bytesRead} bytes`);
  assert.ok(served < 8 * MiB, `served ${served} bytes`);
  assert.equal(r.bytesRead, served, 'the client counts what the servers sent');
  console.log(`2 GiB repository: ${r.bytesRead} bytes read in ${r.requests} requests`);
  const shard = r.files.find((f) => f.path === `hf://acme/big@${SHA}/${shard1.path}`);
  assert.ok(shard);
  assert.equal(shard.format, 'safetensors');
  assert.equal(shard.sha256, shard1.sha256);
  assert.equal(shard.sha256Source, 'hub');
  assert.equal(shard.size, shard1.size);
  const config = r.files.find((f) => f.path.endsWith('/config.json'));
  assert.equal(config?.sha256Source, undefined, 'small files are read whole and hashed');
  for (const f of r.files)
    assert.notEqual(f.verdict, 'incomplete', `${f.path}: ${JSON.stringify(f.findings)}`);
  assert.deepEqual(
    r.files.filter((f) => f.verdict === 'block'),
    [],
  );
});

test('a branch is resolved to its commit and reported as not pinned (warn; strict blocks)', async () => {
  const r = await scan('hf://acme/big@v1');
  const repo = r.files.at(0)!;
  assert.equal(repo.path, `hf://acme/big@${SHA}`);
  assert.equal(repo.format, 'hf-repository');
  const f = repo.findings.find((x) => x.ruleId === 'MG950');
  assert.ok(f, JSON.stringify(repo.findings));
  assert.match(f.message, new RegExp(SHA));
  assert.equal(repo.verdict, 'warn');
  const strict = await scan('hf://acme/big', { policy: { ...DEFAULT_POLICY, maxScore: 0 } });
  assert.equal(strict.files.at(0)!.verdict, 'block');
});

test('a malicious PyTorch checkpoint on the Hub is downloaded, checked against its sha256 and blocks', async () => {
  const r = await scan(`hf://mallory/evil@${SHA2}`);
  const bin = r.files.find((f) => f.path.endsWith('/pytorch_model.bin'));
  assert.ok(bin);
  assert.equal(bin.verdict, 'block', JSON.stringify(bin.findings));
  assert.equal(bin.sha256Source, undefined, 'a pickle-based file is read whole and its sha256 computed');
  assert.ok(r.bytesRead >= payload.length && r.bytesRead < payload.length + 64 * 1024);
});

test('gated and private repositories without a token are incomplete; with one they are scanned, the CDN never sees it', async () => {
  // Gated: the listing is public, every file answers 401 GatedRepo.
  const denied = await scan(`hf://acme/gated@${GATED_SHA}`);
  assert.deepEqual(verdicts(denied), [
    `hf://acme/gated@${GATED_SHA} pass`,
    `hf://acme/gated@${GATED_SHA}/config.json incomplete`,
    `hf://acme/gated@${GATED_SHA}/model.bin incomplete`,
  ]);
  assert.match(denied.files.at(1)!.findings[0]!.message, /401.*GatedRepo.*HF_TOKEN/);
  assert.deepEqual(rules(denied), ['MG951', 'MG951']);
  // Private: nothing answers.
  const hidden = await scan(`hf://acme/private@${GATED_SHA}`);
  assert.deepEqual(verdicts(hidden), [`hf://acme/private@${GATED_SHA} incomplete`]);
  assert.match(hidden.files.at(0)!.findings[0]!.message, /401.*RepoNotFound/);
  const visible = await scan(`hf://acme/private@${GATED_SHA}`, { token: 'hf_secret_token' });
  assert.equal(visible.files.length, 3);
  assert.ok(visible.files.every((f) => f.verdict === 'pass'));
  const granted = await scan(`hf://acme/gated@${GATED_SHA}`, { token: 'hf_secret_token' });
  assert.deepEqual(
    granted.files.map((f) => f.verdict),
    ['pass', 'pass', 'pass'],
    JSON.stringify(granted.files.map((f) => f.findings)),
  );
  assert.ok(
    hub.requests.some((q) => q.startsWith('cdn GET /repos/acme/gated/')),
    'the LFS file came from the CDN',
  );
  assert.deepEqual(hub.cdnAuthorizations, [], 'the token is never sent to the CDN host');
});

test('every failure mode is incomplete, never pass', async () => {
  for (const [i, fault] of faults.entries()) {
    for (const [k, kind] of (['ranged', 'whole', 'small'] as const).entries()) {
      const r = await scan(`hf://faults/${fault}-${kind}@${faultSha(i * 3 + k + 1)}`);
      const file = r.files.at(1);
      assert.ok(file, `${fault}-${kind}: ${JSON.stringify(r.files)}`);
      // A flipped byte inside tensor data that is never read cannot be seen; that is what the Hub's sha256 is for.
      if (fault === 'corrupt' && kind === 'ranged') continue;
      // Whole downloads send no Range: a server that mishandles Range serves them correctly.
      if ((fault === 'ignoreRange' || fault === 'wrongRange') && kind !== 'ranged') {
        assert.equal(file.verdict, 'pass', `${fault}-${kind}`);
        continue;
      }
      assert.equal(file.verdict, 'incomplete', `${fault}-${kind}: ${JSON.stringify(file.findings)}`);
      assert.ok(
        file.findings.some((f) => f.ruleId === 'MG951' || f.ruleId === 'MG952'),
        `${fault}-${kind}: ${JSON.stringify(file.findings)}`,
      );
    }
  }
});

test('missing repository, missing revision and an unreachable Hub are incomplete', async () => {
  for (const uri of [
    'hf://nobody/nothing@main',
    'hf://acme/big@no-such-branch',
    `hf://acme/big@${'e'.repeat(40)}`,
  ]) {
    const r = await scan(uri);
    assert.deepEqual(rules(r), ['MG951'], uri);
    assert.equal(r.files.at(0)!.verdict, 'incomplete');
  }
  const down = await scan(`hf://acme/big@${SHA}`, { endpoint: 'http://127.0.0.1:9' });
  assert.equal(down.files.at(0)!.verdict, 'incomplete');
  assert.match(down.files.at(0)!.findings[0]!.message, /connection/);
});

test('hf:// URIs', () => {
  assert.deepEqual(parseHfUri('hf://acme/big'), { repoId: 'acme/big' });
  assert.deepEqual(parseHfUri('hf://acme/big@refs/pr/1'), { repoId: 'acme/big', revision: 'refs/pr/1' });
  // A name without an organisation is a repository id too (the Hub redirects gpt2 to openai-community/gpt2).
  assert.deepEqual(parseHfUri('hf://gpt2'), { repoId: 'gpt2' });
  assert.equal(parseHfUri('hf://a/b/c'), undefined);
  assert.equal(parseHfUri('hf://../x'), undefined);
  assert.equal(parseHfUri('hf://a/b@x/../y'), undefined);
});

test('models.lock remote entries content-pin a repository at a commit', async () => {
  const base = `hf://acme/big@${SHA}`;
  const config = bigRepo.commits[SHA]!.find((f) => f.path === 'config.json')!;
  const lock = parseLockfile(
    [
      `${shard1.sha256}  ${base}/${shard1.path}`,
      `${config.sha256}  ${base}/config.json`,
      `${'0'.repeat(64)}  ${base}/tokenizer_config.json`,
      `${'0'.repeat(64)}  ${base}/gone.bin`,
    ].join('\n'),
    'models.lock',
  );
  const r = await scan(`hf://acme/big@${SHA}`, { policy: { ...DEFAULT_POLICY, pins: lock } });
  const byPath = new Map(r.files.map((f) => [f.path, f]));
  assert.equal(byPath.get(`${base}/${shard1.path}`)?.verdict, 'pass');
  assert.equal(byPath.get(`${base}/config.json`)?.verdict, 'pass');
  assert.equal(byPath.get(`${base}/tokenizer_config.json`)?.verdict, 'block');
  assert.deepEqual(
    byPath.get(base)?.findings.map((f) => [f.ruleId, f.location.symbol]),
    [['MG610', 'gone.bin']],
  );
  assert.throws(
    () => parseLockfile(`${'0'.repeat(64)}  hf://acme/big@main/x`, 'models.lock'),
    /40-hex commit/,
  );
  assert.throws(
    () => parseLockfile(`${'0'.repeat(64)}  hf://acme/big@${SHA}/../x`, 'models.lock'),
    /40-hex commit/,
  );
});

test('GGUF judged through Range reads: templates and trailing bytes are analysed, the rest is not read', async () => {
  const r = await scan(`hf://acme/gguf@${GGUF_SHA}`, { wholeBytes: 0 });
  const v = Object.fromEntries(
    r.files.slice(1).map((f) => [f.path.split('/').pop(), [f.verdict, f.sha256Source]]),
  );
  assert.deepEqual(v, {
    'llama3.gguf': ['pass', 'hub'],
    'ssti.gguf': ['block', 'hub'],
    'trailing.gguf': ['block', 'hub'],
  });
});

test('a pickle named .safetensors is recognised by its bytes and downloaded whole: it blocks', async () => {
  const r = await scan(`hf://acme/disguised@${DISGUISED_SHA}`, { wholeBytes: 0 });
  const f = r.files.find((x) => x.path.endsWith('/model.safetensors'));
  assert.equal(f?.verdict, 'block', JSON.stringify(f?.findings));
  assert.equal(f?.sha256Source, undefined, 'read whole, sha256 computed');
});

test('the publishers allowlist applies to the repository', async () => {
  const allowed = await scan(`hf://acme/big@${SHA}`, { policy: { ...DEFAULT_POLICY, publishers: ['acme'] } });
  assert.equal(allowed.files.at(0)!.verdict, 'pass');
  const denied = await scan(`hf://mallory/evil@${SHA2}`, {
    policy: { ...DEFAULT_POLICY, publishers: ['acme'] },
  });
  assert.deepEqual(
    denied.files.at(0)!.findings.map((f) => f.ruleId),
    ['MG630'],
  );
  assert.equal(denied.files.at(0)!.verdict, 'block');
});

test('remote code in an hf:// repository is said once for the repository, on config.json', async () => {
  const sha = '7'.repeat(40);
  const repo: FakeRepo = {
    id: 'acme/custom',
    refs: {},
    commits: {
      [sha]: [
        realFile('config.json', json({ model_type: 'x', auto_map: { AutoModel: 'modeling_x.M' } })),
        realFile(
          'tokenizer_config.json',
          json({ tokenizer_class: 'T', auto_map: { AutoTokenizer: ['tokenization_x.T', null] } }),
        ),
        realFile('modeling_x.py', Buffer.from('import torch\n')),
        realFile('tokenization_x.py', Buffer.from('import json\n')),
      ],
    },
  };
  const own = await startFakeHub([repo]);
  try {
    const r = await scan(`hf://acme/custom@${sha}`, { endpoint: own.endpoint });
    const notices = r.files.flatMap((f) =>
      f.findings.filter((x) => x.ruleId === 'MG460').map((x) => ({ path: f.path, x })),
    );
    assert.equal(notices.length, 1, JSON.stringify(notices));
    assert.ok(notices[0]!.path.endsWith('/config.json'));
    assert.match(notices[0]!.x.message, /modeling_x\.py.*tokenization_x\.py/);
    assert.match(notices[0]!.x.message, new RegExp(`hf://acme/custom@${sha}\\)`));
  } finally {
    own.close();
  }
});
