// Remote scans across runs: the whole-commit cache, the per-file cache, what may and may not be cached, and
// the whole-repository deadline, against the fake Hub on 127.0.0.1 (requests and bytes asserted).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy/policy.js';
import { directoryCache, type RemoteCache } from '../../src/core/remote/cache.js';
import { HubClient } from '../../src/core/remote/hub.js';
import { parseHfUri } from '../../src/core/remote/ref.js';
import { scanHubRepo } from '../../src/core/remote/scan-repo.js';
import { FIXTURES, tempDir } from '../helpers.js';
import { type FakeHub, type FakeRepo, realFile, startFakeHub, virtualSafetensors } from './fake-hub.js';

const EVIL = '1'.repeat(40);
const EVIL2 = '2'.repeat(40);
const BIG = '5'.repeat(40);
const GATED = '6'.repeat(40);
const SLOW = '7'.repeat(40);
const MiB = 2 ** 20;

const payload = readFileSync(join(FIXTURES, 'pytorch', 'malicious', 'payload_zip.pt'));
const config = realFile('config.json', Buffer.from('{"model_type": "bert"}\n'));
const evilBin = realFile('pytorch_model.bin', payload, true);
const shard = virtualSafetensors('model.safetensors', 64, MiB);

const repos: FakeRepo[] = [
  {
    id: 'mallory/evil',
    refs: { main: EVIL2, old: EVIL },
    // The second commit changes only the README: the checkpoint is the same bytes.
    commits: {
      [EVIL]: [config, evilBin],
      [EVIL2]: [config, evilBin, realFile('README.md', Buffer.from('x'))],
    },
  },
  { id: 'acme/big', refs: { main: BIG }, commits: { [BIG]: [config, shard] } },
  {
    id: 'acme/gated',
    refs: { main: GATED },
    token: 'hf_token',
    commits: { [GATED]: [config, realFile('model.bin', payload, true)] },
  },
  {
    id: 'acme/slow',
    refs: { main: SLOW },
    commits: { [SLOW]: [{ ...realFile('pytorch_model.bin', payload, true), fault: 'drip' }] },
  },
];

let hub: FakeHub;
before(async () => {
  hub = await startFakeHub(repos);
});
after(() => hub.close());

/** A RemoteCache over a Map that records what it was asked. */
function memory() {
  const store = new Map<string, unknown>();
  const gets: string[] = [];
  const cache: RemoteCache = {
    get: async (k) => {
      gets.push(k);
      return structuredClone(store.get(k));
    },
    put: async (k, v) => {
      store.set(k, structuredClone(v));
    },
  };
  return { store, gets, cache };
}

async function scan(
  uri: string,
  cache: RemoteCache | undefined,
  opts: { policy?: Policy; token?: string; endpoint?: string } = {},
) {
  const before = { requests: hub.requests.length, bytes: hub.served.hub + hub.served.cdn };
  const r = await scanHubRepo(parseHfUri(uri)!, {
    hub: new HubClient({
      endpoint: opts.endpoint ?? hub.endpoint,
      timeoutMs: 5000,
      ...(opts.token ? { token: opts.token } : {}),
    }),
    policy: opts.policy ?? DEFAULT_POLICY,
    now: new Date('2026-12-01'),
    ...(cache ? { cache } : {}),
  });
  const served = {
    requests: hub.requests.length - before.requests,
    bytes: hub.served.hub + hub.served.cdn - before.bytes,
  };
  assert.equal(r.requests, served.requests, 'the client counts the requests the servers saw');
  // Bodies of refused requests and bytes in flight at the deadline are sent but not read.
  assert.ok(r.bytesRead <= served.bytes, 'the client counts no more than the servers sent');
  return r;
}

const verdicts = (r: Awaited<ReturnType<typeof scan>>) =>
  Object.fromEntries(r.files.map((f) => [f.path, f.verdict]));

test('a pinned commit already judged costs no request; a branch costs its resolution', async () => {
  const { store, cache } = memory();
  const first = await scan(`hf://mallory/evil@${EVIL}`, cache);
  // revision + tree + config (Hub) + checkpoint (Hub redirect, CDN).
  assert.equal(first.requests, 5);
  assert.ok(first.bytesRead > payload.length);
  assert.equal(first.fromCache, false);
  const commits = [...store.keys()].filter((k) => k.startsWith('modelgate-hf-commit-'));
  assert.equal(commits.length, 1, [...store.keys()].join(' '));

  const again = await scan(`hf://mallory/evil@${EVIL}`, cache);
  assert.equal(again.requests, 0);
  assert.equal(again.bytesRead, 0);
  assert.equal(again.fromCache, true);
  assert.deepEqual(verdicts(again), verdicts(first));
  assert.equal(again.files.at(0)!.facts?.['hf.cached'], true);
  const bin = again.files.find((f) => f.path.endsWith('/pytorch_model.bin'))!;
  assert.equal(bin.verdict, 'block', 'a cached analysis of a malicious checkpoint still blocks');

  // A branch that points at the same commit: one request (the resolution), then the commit's analysis.
  const branch = await scan('hf://mallory/evil@old', cache);
  assert.equal(branch.requests, 1);
  assert.equal(branch.fromCache, true);
  assert.ok(branch.bytesRead < 1024, `${branch.bytesRead}`);
  assert.deepEqual(
    branch.files.at(0)!.findings.map((f) => f.ruleId),
    ['MG950'],
    'the not-pinned finding comes from the reference, not the cache',
  );
  console.log(
    `commit cache: first scan ${first.requests} requests / ${first.bytesRead} bytes; pinned again 0 / 0; branch ${branch.requests} / ${branch.bytesRead}`,
  );
});

test('the policy of each run applies to a restored analysis (findings are cached, not verdicts)', async () => {
  const { cache } = memory();
  const path = `hf://mallory/evil@${EVIL}/pytorch_model.bin`;
  await scan(`hf://mallory/evil@${EVIL}`, cache);
  // A waiver (reviewed, unexpired) applies to the restored findings.
  const first = await scan(`hf://mallory/evil@${EVIL}`, cache);
  const waived: Policy = {
    ...DEFAULT_POLICY,
    waivers: first.files
      .find((f) => f.path === path)!
      .findings.map((f) => ({ ruleId: f.ruleId, path, reason: 'test', expires: '2099-01-01' })),
  };
  const w = await scan(`hf://mallory/evil@${EVIL}`, cache, { policy: waived });
  assert.equal(w.requests, 0);
  const bin = w.files.find((f) => f.path === path)!;
  // Non-waivable findings keep blocking; every waivable one is marked waived.
  assert.ok(bin.findings.every((f) => f.waived || f.score === 0 || bin.verdict === 'block'));
  // A pin and the publishers allowlist are checked against the restored commit.
  const pinned: Policy = {
    ...DEFAULT_POLICY,
    publishers: ['acme'],
    pins: {
      [`hf://mallory/evil@${EVIL}/config.json`]: { sha256: '0'.repeat(64) },
      [`hf://mallory/evil@${EVIL}/gone.bin`]: { sha256: '0'.repeat(64) },
    },
  };
  const p = await scan(`hf://mallory/evil@${EVIL}`, cache, { policy: pinned });
  assert.equal(p.requests, 0);
  assert.deepEqual(
    p.files.at(0)!.findings.map((f) => [f.ruleId, f.location.symbol]),
    [
      ['MG630', 'mallory/evil'],
      ['MG610', 'gone.bin'],
    ],
  );
  assert.ok(p.files.find((f) => f.path.endsWith('/config.json'))!.findings.some((f) => f.ruleId === 'MG610'));
});

test('the commit key holds the endpoint, the analysis settings and the files selected', async () => {
  const { store, cache } = memory();
  await scan(`hf://acme/big@${BIG}`, cache);
  // The commit, and the shard by its sha256 (the config is not an LFS file: no entry of its own).
  assert.deepEqual([...store.keys()].map((k) => k.split('-').slice(0, 3).join('-')).sort(), [
    'modelgate-hf-commit',
    'modelgate-hf-file',
  ]);
  // Other limits: another analysis, another key.
  const limits = { ...DEFAULT_POLICY, limits: { ...DEFAULT_POLICY.limits, maxStringBytes: MiB } };
  store.clear();
  await scan(`hf://acme/big@${BIG}`, cache);
  const l = await scan(`hf://acme/big@${BIG}`, cache, { policy: limits });
  assert.equal(l.fromCache, false);
  assert.ok(l.requests > 0);
  // An allowed pickle global changes what is found: another key too.
  const allow = { ...DEFAULT_POLICY, allow: [{ module: 'x', name: 'y', reason: 'test' }] };
  assert.equal((await scan(`hf://acme/big@${BIG}`, cache, { policy: allow })).fromCache, false);
  // Another endpoint (a mirror) under the same name: not the same content.
  const other = await scan(`hf://acme/big@${BIG}`, cache, { endpoint: `${hub.endpoint}/` });
  assert.equal(other.fromCache, true, 'a trailing slash is the same endpoint');
  const mirror = await scan(`hf://acme/big@${BIG}`, cache, {
    endpoint: hub.endpoint.replace('127.0.0.1', 'localhost'),
  });
  assert.equal(mirror.fromCache, false);
  // Policy settings that do not change the analysis (maxScore, waivers, pins) keep the key.
  const strict = await scan(`hf://acme/big@${BIG}`, cache, { policy: { ...DEFAULT_POLICY, maxScore: 0 } });
  assert.equal(strict.fromCache, true);
  assert.equal(strict.requests, 0);
});

test('a selection by patterns is cached under its text; a filter without one is not cached by commit', async () => {
  const { store, cache } = memory();
  const run = (includeKey?: string) =>
    scanHubRepo(parseHfUri(`hf://mallory/evil@${EVIL}`)!, {
      hub: new HubClient({ endpoint: hub.endpoint, timeoutMs: 5000 }),
      policy: DEFAULT_POLICY,
      now: new Date('2026-12-01'),
      cache,
      include: (p) => p.endsWith('.json'),
      ...(includeKey !== undefined ? { includeKey } : {}),
    });
  const anonymous = await run();
  assert.equal(anonymous.files.length, 2, 'the repository and config.json');
  assert.ok(![...store.keys()].some((k) => k.startsWith('modelgate-hf-commit-')));
  await run('["*.json"]');
  assert.equal((await run('["*.json"]')).requests, 0);
  const other = await run('["*.bin"]');
  assert.equal(other.fromCache, false, 'other patterns, another key');
});

test('incomplete results are never cached', async () => {
  const { store, cache } = memory();
  const denied = await scan(`hf://acme/gated@${GATED}`, cache);
  assert.ok(denied.files.some((f) => f.verdict === 'incomplete'));
  assert.equal(store.size, 0);
  const missing = await scan(`hf://acme/big@${'e'.repeat(40)}`, cache);
  assert.equal(missing.files.at(0)!.verdict, 'incomplete');
  assert.equal(store.size, 0);
  // With the token the same commit is complete and cached; a run without a token then restores it (the
  // bytes of a commit cannot change; a loader without access fails on its own).
  const granted = await scan(`hf://acme/gated@${GATED}`, cache, { token: 'hf_token' });
  assert.ok(granted.files.every((f) => f.verdict !== 'incomplete'));
  assert.ok(store.size > 0);
  const restored = await scan(`hf://acme/gated@${GATED}`, cache);
  assert.equal(restored.requests, 0);
  assert.deepEqual(verdicts(restored), verdicts(granted));
});

test('a tampered or misplaced commit entry is a miss, and the commit is judged again', async () => {
  const { store, cache } = memory();
  await scan(`hf://mallory/evil@${EVIL}`, cache);
  const key = [...store.keys()].find((k) => k.startsWith('modelgate-hf-commit-'))!;
  const good = store.get(key) as { files: Array<{ path: string; findings: unknown[]; sha256: string }> };
  const tamper = async (edit: (e: typeof good) => void, why: string) => {
    const e = structuredClone(good);
    edit(e);
    store.set(key, e);
    const r = await scan(`hf://mallory/evil@${EVIL}`, cache);
    assert.equal(r.fromCache, false, why);
    assert.equal(verdicts(r)[`hf://mallory/evil@${EVIL}/pytorch_model.bin`], 'block', why);
  };
  await tamper((e) => {
    (e as unknown as { key: string }).key = 'modelgate-hf-commit-v1-other';
  }, 'an entry copied under another key');
  await tamper((e) => {
    e.files.at(0)!.path = 'elsewhere.json';
  }, 'a file the listing does not have');
  await tamper((e) => {
    (e.files.at(1)!.findings as Array<{ ruleId: string }>).push({
      ruleId: 'MG999',
      severity: 'low',
      score: 0,
      message: 'x',
      location: {},
    } as never);
  }, 'an unknown rule');
  await tamper((e) => {
    e.files
      .at(1)!
      .findings.push({ ruleId: 'MG951', severity: 'medium', score: 0, message: 'x', location: {} });
  }, 'an incomplete finding (never saved, so never restored)');
  // A well-formed entry that says "clean" cannot be told from a true one: whoever can write the store can
  // whitewash a commit. That is why the action believes only stores its untrusted runs cannot write
  // (src/action/cache.ts cacheScopeTrusted), and why saves happen on trusted events only.
  const forged = structuredClone(good);
  for (const f of forged.files) f.findings = [];
  store.set(key, forged);
  const r = await scan(`hf://mallory/evil@${EVIL}`, cache);
  assert.equal(r.fromCache, true);
  assert.equal(verdicts(r)[`hf://mallory/evil@${EVIL}/pytorch_model.bin`], 'pass');
});

test('a checkpoint judged in one commit is not downloaded again in another (per-file cache)', async () => {
  const { cache } = memory();
  const cdn = () => hub.requests.filter((q) => q.startsWith('cdn GET /repos/mallory/evil/')).length;
  const before = cdn();
  await scan(`hf://mallory/evil@${EVIL}`, cache);
  assert.equal(cdn(), before + 1);
  const next = await scan(`hf://mallory/evil@${EVIL2}`, cache);
  assert.equal(cdn(), before + 1, 'the checkpoint of the next commit is the same sha256: not downloaded');
  assert.equal(next.fromCache, false);
  assert.ok(next.bytesRead < payload.length, `${next.bytesRead}`);
  assert.equal(verdicts(next)[`hf://mallory/evil@${EVIL2}/pytorch_model.bin`], 'block');
});

test('a directory cache keeps entries between processes (JSON files named by key)', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const first = await scan(`hf://mallory/evil@${EVIL}`, directoryCache(dir));
  assert.ok(first.requests > 0);
  const again = await scan(`hf://mallory/evil@${EVIL}`, directoryCache(dir));
  assert.equal(again.requests, 0);
  assert.deepEqual(verdicts(again), verdicts(first));
});

test('a server that dribbles bytes ends as incomplete at the repository deadline (maxRemoteTimeMs)', async () => {
  const { store, cache } = memory();
  // 823 bytes at one per 20 ms would take 16 s; the per-request timeout (5 s of silence) never fires.
  const policy = { ...DEFAULT_POLICY, limits: { ...DEFAULT_POLICY.limits, maxRemoteTimeMs: 500 } };
  const r = await scan(`hf://acme/slow@${SLOW}`, cache, { policy });
  const bin = r.files.find((f) => f.path.endsWith('/pytorch_model.bin'))!;
  assert.equal(bin.verdict, 'incomplete', JSON.stringify(bin.findings));
  assert.deepEqual(
    bin.findings.map((f) => f.ruleId),
    ['MG951'],
  );
  assert.match(bin.findings[0]!.message, /maxRemoteTimeMs/);
  assert.ok(r.bytesRead < 400 + payload.length / 2, `${r.bytesRead} bytes`);
  assert.equal(store.size, 0, 'an incomplete result is not cached');
});
