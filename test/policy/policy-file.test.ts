import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  chooseProfile,
  loadPolicyText,
  PolicyError,
  type PolicyFile,
  resolvePolicy,
} from '../../src/core/policy/resolve.js';
import { FIXTURES, ROOT } from '../helpers.js';

const DIR = join(FIXTURES, 'trust', 'policy');
const FULL = join(DIR, 'full.yml');

function load(text: string): PolicyFile {
  return loadPolicyText(text, 'p.yml');
}

/** Asserts that loading `text` fails with a PolicyError naming `key` at `line`. */
function rejects(text: string, key: string, line: number, message?: RegExp): void {
  assert.throws(
    () => load(text),
    (err: unknown) => {
      assert.ok(err instanceof PolicyError, String(err));
      assert.equal(err.line, line, err.message);
      assert.ok(err.message.startsWith(`p.yml:${line}: `), err.message);
      assert.ok(err.message.includes(key), `${err.message} should name ${key}`);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

test('the documented full policy loads, every key resolves', async () => {
  const file = load(readFileSync(FULL, 'utf8'));
  const p = await resolvePolicy({ file, baseDir: DIR });
  assert.equal(p.maxScore, 49);
  assert.equal(p.failOnIncomplete, true);
  assert.equal(p.warnOnly, false);
  assert.equal(p.signatures, 'warn');
  assert.equal(p.maxWaivedSeverity, 'high');
  assert.deepEqual(p.ruleScores, { MG005: 10, MG607: 60 });
  assert.deepEqual(
    p.allow.map((a) => `${a.module}.${a.name}`),
    ['ourlab.layers.GatedResidual'],
  );
  assert.equal(p.waivers.length, 2);
  assert.equal(p.waivers[1]!.sha256, '3f2a8c0e4b1d9e7f6a5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5');
  assert.deepEqual(Object.keys(p.pins).sort(), [
    'models/bert/model.safetensors',
    'models/small.bin',
    'models/tiny/model.onnx',
  ]);
  assert.equal(p.pins['models/small.bin']!.size, 5);
  assert.equal(p.pins['models/bert/model.safetensors']!.size, 438000000);
  assert.deepEqual(
    p.trust.keys.map((k) => [k.name, k.paths]),
    [
      ['release key', undefined],
      ['model CA', ['models/vision/**']],
    ],
  );
  assert.equal(p.trust.identities[0]!.issuer, 'https://token.actions.githubusercontent.com');
  assert.deepEqual(p.publishers, [
    'google',
    'meta-llama',
    'sentence-transformers/all-*',
    'github.com/ourlab',
  ]);
  assert.deepEqual(p.sbom?.licenses, ['Apache-2.0', 'MIT', 'BSD-3-Clause', 'CC-BY-4.0']);
  assert.equal(p.sbom?.denySensitiveData, true);
  assert.equal(p.limits.maxTimeMs, 300000);
  assert.equal(p.limits.maxFileBytes, 68719476736);
  assert.equal(p.profile, undefined);
});

test('the README shows the tested policy file verbatim', () => {
  const docs = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /```yaml\n(# \.github\/modelgate\.yml[\s\S]*?)```/.exec(docs);
  assert.ok(block, 'the README has the annotated policy example');
  assert.equal(block[1], readFileSync(FULL, 'utf8'));
});

test('branches choose a profile by glob, first match wins; the explicit profile wins over the branch', async () => {
  const file = load(readFileSync(FULL, 'utf8'));
  assert.equal(chooseProfile(file, 'release/2.0'), 'strict');
  assert.equal(chooseProfile(file, 'release/2.0/hotfix'), 'strict');
  assert.equal(chooseProfile(file, 'refs/heads/release/1'), 'strict');
  assert.equal(chooseProfile(file, 'main'), 'release');
  assert.equal(chooseProfile(file, 'mainline'), undefined);
  assert.equal(chooseProfile(file, 'exp/a/b'), 'experiments');
  assert.equal(chooseProfile(file, 'feature/x'), undefined);
  assert.equal(chooseProfile(undefined, 'main'), undefined);
  assert.equal(chooseProfile(file, undefined), undefined);
  const first = load(
    'branches:\n  "release/*": strict\n  "**": relaxed\nprofiles:\n  relaxed:\n    maxScore: 80\n',
  );
  assert.equal(chooseProfile(first, 'release/1'), 'strict');
  assert.equal(chooseProfile(first, 'dev'), 'relaxed');

  const main = await resolvePolicy({ file, baseDir: DIR, branch: 'main' });
  assert.equal(main.profile, 'release');
  assert.equal(main.maxScore, 19);
  assert.equal(main.signatures, 'require');
  const exp = await resolvePolicy({ file, baseDir: DIR, branch: 'exp/1' });
  assert.equal(exp.signatures, 'off');
  assert.equal(exp.warnOnly, true);
  const explicit = await resolvePolicy({ file, baseDir: DIR, branch: 'main', profile: 'experiments' });
  assert.equal(explicit.profile, 'experiments');
});

test('the built-in strict profile: signatures required, max score 0, no waivers of high or critical', async () => {
  const p = await resolvePolicy({ profile: 'strict' });
  assert.equal(p.signatures, 'require');
  assert.equal(p.maxScore, 0);
  assert.equal(p.maxWaivedSeverity, 'medium');
  // A policy file's own strict adds to the built-in one.
  const own = await resolvePolicy({
    file: load('profiles:\n  strict:\n    warnOnly: true\n'),
    profile: 'strict',
  });
  assert.equal(own.signatures, 'require');
  assert.equal(own.warnOnly, true);
  // CLI overrides still win.
  assert.equal((await resolvePolicy({ profile: 'strict', maxScore: 10 })).maxScore, 10);
  await assert.rejects(resolvePolicy({ profile: 'nope' }), /unknown profile 'nope'/);
});

test('profiles: scalars replace, rules merge, lists add up', async () => {
  const file = load(`rules:
  MG005: 5
waivers:
  - { ruleId: MG005, path: "a/**", reason: r, expires: 2030-01-01 }
profiles:
  p:
    rules:
      MG006: 70
    waivers:
      - { ruleId: MG006, path: "b/**", reason: r, expires: 2030-01-01 }
    limits:
      maxDepth: 3
`);
  const p = await resolvePolicy({ file, profile: 'p' });
  assert.deepEqual(p.ruleScores, { MG005: 5, MG006: 70 });
  assert.deepEqual(
    p.waivers.map((w) => w.ruleId),
    ['MG005', 'MG006'],
  );
  assert.equal(p.limits.maxDepth, 3);
  assert.equal(p.limits.maxOpcodes, 2 ** 40);
});

test('invalid policy files: the error names the key and the line', () => {
  rejects('maxScore: 40\nmaxScor: 3\n', 'maxScor', 2, /unknown key/);
  rejects('maxScore: 300\n', 'maxScore', 1, /100/);
  rejects('maxScore: "high"\n', 'maxScore', 1);
  rejects('maxScore: 1.5\n', 'maxScore', 1);
  rejects('failOnIncomplete: maybe\n', 'failOnIncomplete', 1);
  rejects('signatures: always\n', 'signatures', 1);
  rejects('maxWaivedSeverity: severe\n', 'maxWaivedSeverity', 1);
  rejects('rules:\n  MG005: 10\n  MG999: 3\n', 'rules.MG999', 3, /unknown rule id/);
  rejects('rules:\n  mg5: 3\n', 'rules.mg5', 2, /rule id/);
  rejects('rules:\n  MG005: { score: 10, note: x }\n', 'note', 2, /unknown key/);
  // Non-waivable rules cannot go below their catalogue score, nor be waived.
  rejects('rules:\n  MG601: 0\n', 'rules.MG601', 2, /not waivable/);
  rejects(
    'waivers:\n  - ruleId: MG603\n    path: x\n    reason: r\n    expires: 2030-01-01\n',
    'waivers[0].ruleId',
    2,
    /not waivable/,
  );
  rejects(
    'waivers:\n  - ruleId: MG005\n    path: x\n    expires: 2026-01-01\n',
    'waivers[0].reason',
    2,
    /required/,
  );
  rejects('waivers:\n  - ruleId: MG005\n    path: x\n    reason: r\n', 'waivers[0].expires', 2, /required/);
  rejects(
    'waivers:\n  - ruleId: MG005\n    path: x\n    reason: r\n    expires: 2026-02-30\n',
    'expires',
    5,
    /calendar/,
  );
  rejects('waivers:\n  - ruleId: MG005\n    path: x\n    reason: r\n    expires: next year\n', 'expires', 5);
  rejects(
    'waivers:\n  - ruleId: MG005\n    path: x\n    reason: "  "\n    expires: 2026-01-01\n',
    'reason',
    4,
  );
  rejects(
    'waivers:\n  - ruleId: MG005\n    path: x\n    sha256: abc\n    reason: r\n    expires: 2026-01-01\n',
    'sha256',
    4,
  );
  rejects(
    'waivers:\n  - ruleId: MG777\n    path: x\n    reason: r\n    expires: 2026-01-01\n',
    'ruleId',
    2,
    /unknown rule/,
  );
  rejects('allow:\n  - module: os\n    name: system\n', 'allow[0].reason', 2, /required/);
  rejects('pins:\n  a.bin: 1234\n', 'pins.a.bin', 2);
  rejects('pins:\n  a.bin:\n    sha256: zz\n', 'sha256', 3);
  rejects('trust:\n  keys:\n    - name: k\n', 'trust.keys[0]', 3, /path.*pem/);
  rejects('trust:\n  identities:\n    - identity: a@b.c\n', 'issuer', 3, /required/);
  rejects('trust:\n  identities:\n    - identity: a@b.c\n      issuer: not a url\n', 'issuer', 4);
  rejects('trust:\n  fingerprints: []\n', 'fingerprints', 2, /unknown key/);
  rejects('sbom:\n  licences: [MIT]\n', 'licences', 2, /unknown key/);
  rejects('limits:\n  maxBytes: 3\n', 'maxBytes', 2, /unknown key/);
  rejects('limits:\n  maxDepth: -1\n', 'limits.maxDepth', 2);
  rejects(
    'profiles:\n  release:\n    maxScore: 10\n    profiles: {}\n',
    'profiles.release.profiles',
    4,
    /unknown key/,
  );
  rejects('branches:\n  main: nope\n', 'branches.main', 2, /not defined/);
  rejects('publishers: google\n', 'publishers', 1);
  rejects('maxScore: [\n', '', 2, /invalid YAML/);
  rejects('maxScore: 1\nmaxScore: 2\n', '', 2, /invalid YAML/);
  rejects('- a\n- b\n', 'top level', 1);
});

test('resolvePolicy: unreadable key files, bad PEM and a bad lockfile are policy errors', async () => {
  await assert.rejects(
    resolvePolicy({ file: load('trust:\n  keys:\n    - path: missing.pem\n'), baseDir: DIR }),
    /trust\.keys: cannot read missing\.pem/,
  );
  await assert.rejects(
    resolvePolicy({
      file: load(
        'trust:\n  keys:\n    - pem: "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n"\n',
      ),
    }),
    /not a PEM public key or certificate/,
  );
  await assert.rejects(resolvePolicy({ trustedKeys: ['/nonexistent.pem'] }), /--trusted-key/);
  await assert.rejects(
    resolvePolicy({ trustedIdentities: [{ identity: 'a', issuer: '' }] }),
    /--trusted-identity and --trusted-issuer/,
  );
});

test('the action can read the policy-referenced files through its own reader (base branch)', async () => {
  const seen: string[] = [];
  const p = await resolvePolicy({
    file: load('trust:\n  keys:\n    - path: keys/release.pub.pem\nlockfile: models.lock\n'),
    baseDir: '/base',
    readFile: async (path) => {
      seen.push(path);
      return readFileSync(join(DIR, path.slice('/base/'.length)), 'utf8');
    },
  });
  assert.deepEqual(seen.sort(), ['/base/keys/release.pub.pem', '/base/models.lock']);
  assert.equal(p.trust.keys.length, 1);
  assert.equal(Object.keys(p.pins).length, 1);
});

test('YAML 1.1 booleans are not read into signatures: off stays the string off', async () => {
  assert.equal((await resolvePolicy({ file: load('signatures: off\n') })).signatures, 'off');
  rejects('signatures: no\n', 'signatures', 1);
});

test('a policy file on disk is read by path (the CLI --config)', async (t) => {
  const { tempDir } = await import('../helpers.js');
  const dir = tempDir((fn) => t.after(fn));
  const path = join(dir, 'p.yml');
  writeFileSync(path, 'maxScore: 5\nprofiles:\n  x:\n    maxScore: 6\n');
  assert.equal((await resolvePolicy({ configFile: path })).maxScore, 5);
  assert.equal((await resolvePolicy({ configFile: path, profile: 'x' })).maxScore, 6);
  writeFileSync(path, 'maxScore: 5\nwaivers:\n  - ruleId: MG005\n');
  await assert.rejects(resolvePolicy({ configFile: path }), (e: unknown) => {
    assert.ok(e instanceof PolicyError);
    assert.match(
      e.message,
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: waivers\\[0\\]\\.path`),
    );
    return true;
  });
});

test('a trusted key file may be a CA bundle (several certificates); a private key is refused', async (t) => {
  const { tempDir } = await import('../helpers.js');
  const dir = tempDir((fn) => t.after(fn));
  const pki = join(FIXTURES, 'trust', 'pki');
  const bundle = join(dir, 'cas.pem');
  writeFileSync(
    bundle,
    readFileSync(join(pki, 'other-ca.pem'), 'utf8') + readFileSync(join(pki, 'root-ca.pem'), 'utf8'),
  );
  const p = await resolvePolicy({ trustedKeys: [bundle] });
  assert.equal(p.trust.keys.length, 2);
  assert.match(p.trust.keys[1]!.name, /#2$/);
  await assert.rejects(resolvePolicy({ trustedKeys: [join(pki, 'leaf.key')] }), /private key/);
});
