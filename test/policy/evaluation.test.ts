import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  diffPins,
  formatLockfile,
  loadPolicyText,
  PolicyError,
  parseLockfile,
  resolvePolicy,
} from '../../src/core/policy/resolve.js';
import { exitCodeFor, scanPaths } from '../../src/core/scan.js';
import type { FileReport, ScanReport } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';
import { keyPair, signWithKey, writeModel } from '../trust/oms.js';

// Policy behaviour through the real engine (scanPaths) on real files: waivers and their expiry with a fixed
// clock, the strict profile, rule score adjustments, pins and lockfiles.

/** Bytes no analyzer recognises, under a model name whose loader parses leniently (.onnx): MG004, incomplete. */
const JUNK = Buffer.from([0x00, 0x13, 0x37, 0x00, 0xfe, 0xed, 0xfa, 0xce, 0x01, 0x02]);
/** A minimal valid safetensors file (one F32 tensor); `tag` goes into the metadata to vary the bytes. */
function safetensors(tag: string): Buffer {
  const h = Buffer.from(
    JSON.stringify({ __metadata__: { tag }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }),
  );
  const len = Buffer.alloc(8);
  len.writeUInt32LE(h.length);
  return Buffer.concat([len, h, Buffer.alloc(4)]);
}
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function file(r: ScanReport, path: string): FileReport {
  const f = r.files.find((x) => x.path === path);
  assert.ok(f, `${path} in the report`);
  return f;
}

async function policyOf(yaml: string, extra: Parameters<typeof resolvePolicy>[0] = {}) {
  return resolvePolicy({ file: loadPolicyText(yaml, 'p.yml'), ...extra });
}

test('a waiver applies until the end of its expiry day, then stops and is reported (MG620)', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, { 'm/w.onnx': JUNK });
  const before = await scanPaths([dir], { policy: await policyOf('') });
  assert.ok(
    file(before, 'm/w.onnx').findings.some((f) => f.ruleId === 'MG004'),
    'the fixture yields MG004',
  );
  assert.equal(exitCodeFor(before), 2);
  const policy = await policyOf(
    'waivers:\n  - ruleId: MG004\n    path: "m/*.onnx"\n    reason: vendor blob, reviewed\n    expires: 2026-06-30\n',
  );
  const lastDay = await scanPaths([dir], { policy, now: new Date('2026-06-30T23:59:00Z') });
  const w = file(lastDay, 'm/w.onnx');
  assert.equal(w.verdict, 'pass');
  assert.deepEqual(w.findings.find((f) => f.ruleId === 'MG004')?.waived, {
    reason: 'vendor blob, reviewed',
    expires: '2026-06-30',
  });
  assert.equal(exitCodeFor(lastDay), 0);
  const after = await scanPaths([dir], { policy, now: new Date('2026-07-01T00:00:00Z') });
  const x = file(after, 'm/w.onnx');
  assert.equal(x.verdict, 'incomplete');
  assert.ok(!x.findings.find((f) => f.ruleId === 'MG004')?.waived);
  const note = x.findings.find((f) => f.ruleId === 'MG620');
  assert.ok(note, 'the expired waiver is reported');
  assert.match(note.message, /expired on 2026-06-30/);
  assert.equal(note.score, 0);
  assert.equal(exitCodeFor(after), 2);
});

test('a waiver bound to a sha256 covers only those bytes; the path glob must match', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, { 'a/w.onnx': JUNK, 'b/w.onnx': JUNK });
  const now = new Date('2026-01-01T00:00:00Z');
  const bound = await policyOf(
    `waivers:\n  - { ruleId: MG004, path: "a/**", sha256: ${sha(JUNK)}, reason: r, expires: 2027-01-01 }\n`,
  );
  const r = await scanPaths([dir], { policy: bound, now });
  assert.equal(file(r, 'a/w.onnx').verdict, 'pass');
  assert.equal(file(r, 'b/w.onnx').verdict, 'incomplete');
  const other = await policyOf(
    `waivers:\n  - { ruleId: MG004, path: "**", sha256: ${sha('other')}, reason: r, expires: 2027-01-01 }\n`,
  );
  assert.equal(file(await scanPaths([dir], { policy: other, now }), 'a/w.onnx').verdict, 'incomplete');
});

test('strict refuses waivers of high findings (MG621) where the default policy applies them', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const model = join(dir, 'model');
  writeModel(model, { 'w.safetensors': safetensors('w') });
  const k = keyPair('P-256');
  signWithKey(model, k.privateKey);
  writeFileSync(join(model, 'NOTES.md'), 'added after signing');
  const keyFile = join(dir, 'k.pem');
  writeFileSync(keyFile, k.pem);
  const yaml = `signatures: require
trust:
  keys: [{ path: k.pem }]
waivers:
  - { ruleId: MG604, path: "**/NOTES.md", reason: notes are not loaded, expires: 2030-01-01 }
`;
  const file0 = loadPolicyText(yaml, join(dir, 'p.yml'));
  const relaxed = await scanPaths([dir], { policy: await resolvePolicy({ file: file0, baseDir: dir }) });
  const notes = file(relaxed, 'model/NOTES.md');
  assert.ok(notes.findings.find((f) => f.ruleId === 'MG604')?.waived);
  assert.equal(exitCodeFor(relaxed), 0);
  const strict = await scanPaths([dir], {
    policy: await resolvePolicy({ file: file0, baseDir: dir, profile: 'strict' }),
  });
  const s = file(strict, 'model/NOTES.md');
  assert.ok(!s.findings.find((f) => f.ruleId === 'MG604')?.waived);
  assert.ok(s.findings.some((f) => f.ruleId === 'MG621'));
  assert.equal(exitCodeFor(strict), 1);
});

test('strict: max score 0 blocks a finding that the default policy only warns about', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const model = join(dir, 'model');
  writeModel(model, { 'w.safetensors': safetensors('w'), 'config.json': '{}' });
  const k = keyPair('P-256');
  signWithKey(model, k.privateKey, { ignorePaths: ['config.json'] });
  const trustedKeys = [k.pem];
  // MG607 (a signature ignoring config.json) is medium: a warning by default, a block under strict.
  const warn = await scanPaths([dir], { policy: await resolvePolicy({ trustedKeys }) });
  assert.equal(exitCodeFor(warn), 0);
  assert.equal(file(warn, 'model/model.sig').verdict, 'warn');
  const strict = await scanPaths([dir], { policy: await resolvePolicy({ trustedKeys, profile: 'strict' }) });
  assert.equal(file(strict, 'model/model.sig').verdict, 'block');
  assert.equal(exitCodeFor(strict), 1);
});

test('rule score adjustments raise and lower waivable rules', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const model = join(dir, 'model');
  writeModel(model, { 'w.safetensors': safetensors('w'), 'config.json': '{}' });
  const k = keyPair('P-256');
  signWithKey(model, k.privateKey, { ignorePaths: ['config.json'] });
  const raised = await scanPaths([dir], {
    policy: await policyOf('rules:\n  MG607: 80\n', { trustedKeys: [k.pem] }),
  });
  assert.equal(file(raised, 'model/model.sig').score, 80);
  assert.equal(exitCodeFor(raised), 1);
  const lowered = await scanPaths([dir], {
    policy: await policyOf('rules:\n  MG607: 0\n', { trustedKeys: [k.pem] }),
  });
  assert.equal(file(lowered, 'model/model.sig').score, 0);
});

test('pins: a pinned file that changed blocks (MG610); a match passes; size counts', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, { 'models/a.bin': 'approved', 'models/b.bin': 'tampered' });
  const yaml = `pins:
  models/a.bin: ${sha('approved')}
  models/b.bin:
    sha256: ${sha('approved')}
    size: 8
`;
  const r = await scanPaths([dir], { policy: await policyOf(yaml, { pinRoot: dir }) });
  assert.ok(!file(r, 'models/a.bin').findings.some((f) => f.ruleId === 'MG610'));
  const b = file(r, 'models/b.bin');
  assert.equal(b.verdict, 'block');
  assert.match(b.findings.find((f) => f.ruleId === 'MG610')!.message, new RegExp(sha('tampered')));
  assert.equal(exitCodeFor(r), 1);
  assert.deepEqual(
    r.trust?.pins.checked.map((c) => [c.path, c.status]),
    [
      ['models/a.bin', 'match'],
      ['models/b.bin', 'mismatch'],
    ],
  );
  // Same digest, wrong size: still a mismatch.
  const sized = await policyOf(`pins:\n  models/a.bin: { sha256: ${sha('approved')}, size: 9 }\n`, {
    pinRoot: dir,
  });
  assert.equal(file(await scanPaths([dir], { policy: sized }), 'models/a.bin').verdict, 'block');
});

test('pins: a pin changed in the same change is reported (MG611), not blocked', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, { 'models/a.safetensors': safetensors('v2') });
  const base = { 'models/a.safetensors': { sha256: sha(safetensors('v1')) } };
  const head = { 'models/a.safetensors': { sha256: sha(safetensors('v2')) } };
  const changes = diffPins(base, head);
  assert.deepEqual(changes, [
    {
      path: 'models/a.safetensors',
      kind: 'changed',
      from: base['models/a.safetensors'],
      to: head['models/a.safetensors'],
    },
  ]);
  const policy = await policyOf(`pins:\n  models/a.safetensors: ${sha(safetensors('v1'))}\n`, {
    pinRoot: dir,
  });
  const blocked = await scanPaths([dir], { policy });
  assert.equal(exitCodeFor(blocked), 1);
  const r = await scanPaths([dir], { policy: { ...policy, pinChanges: changes } });
  const a = file(r, 'models/a.safetensors');
  assert.equal(a.verdict, 'pass');
  assert.match(
    a.findings.find((f) => f.ruleId === 'MG611')!.message,
    new RegExp(`from ${sha(safetensors('v1'))} to ${sha(safetensors('v2'))}`),
  );
  assert.ok(r.notes?.some((n) => n.includes('pin changed: models/a.safetensors')));
  // A changed pin that does not match the file either still blocks.
  const wrong = diffPins(base, { 'models/a.safetensors': { sha256: sha(safetensors('v3')) } });
  assert.equal(exitCodeFor(await scanPaths([dir], { policy: { ...policy, pinChanges: wrong } })), 1);
});

test('diffPins lists added, removed and changed pins, sorted', () => {
  const a = {
    x: { sha256: 'a'.repeat(64) },
    y: { sha256: 'b'.repeat(64) },
    z: { sha256: 'c'.repeat(64), size: 1 },
  };
  const b = {
    y: { sha256: 'B'.repeat(64) },
    z: { sha256: 'c'.repeat(64), size: 2 },
    w: { sha256: 'd'.repeat(64) },
  };
  assert.deepEqual(
    diffPins(a, b).map((c) => [c.path, c.kind]),
    [
      ['w', 'added'],
      ['x', 'removed'],
      ['z', 'changed'],
    ],
  );
  assert.deepEqual(diffPins(a, a), []);
});

test('lockfile: sha256sum format with optional size comments, round trip, errors with line', async (t) => {
  const text = `# comment\n\n# size: 3\n${sha('abc')}  models/a.bin\n${sha('x')} *models/with space.bin\n`;
  const pins = parseLockfile(text, 'models.lock');
  assert.deepEqual(pins, {
    'models/a.bin': { sha256: sha('abc'), size: 3 },
    'models/with space.bin': { sha256: sha('x') },
  });
  assert.deepEqual(parseLockfile(formatLockfile(pins), 'x'), pins);
  assert.throws(
    () => parseLockfile(`${sha('a')}  a\nnot a line\n`, 'models.lock'),
    (e: unknown) => {
      assert.ok(e instanceof PolicyError);
      assert.equal(e.line, 2);
      return true;
    },
  );
  assert.throws(() => parseLockfile(`${sha('a')}  ../a\n`, 'models.lock'), /relative/);
  assert.throws(() => parseLockfile(`${sha('a')}  a\n${sha('b')}  a\n`, 'models.lock'), /pinned twice/);
  // Through the policy: the lockfile sits next to the policy file.
  const dir = tempDir((fn) => t.after(fn));
  writeModel(dir, {
    'models/a.bin': 'abd',
    'models.lock': `${sha('abc')}  models/a.bin\n`,
    'p.yml': 'lockfile: models.lock\n',
  });
  const policy = await resolvePolicy({ configFile: join(dir, 'p.yml'), baseDir: dir, pinRoot: dir });
  assert.equal(exitCodeFor(await scanPaths([join(dir, 'models')], { policy })), 1);
});
