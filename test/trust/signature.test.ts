import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type PolicyOverrides, resolvePolicy } from '../../src/core/policy/resolve.js';
import { exitCodeFor, scanPaths } from '../../src/core/scan.js';
import { verifyModelFolder } from '../../src/core/trust/folder.js';
import type { ScanReport } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';
import {
  copyVector,
  keyPair,
  OMS,
  pki,
  SIGSTORE_ID,
  SIGSTORE_ISSUER,
  signWithCertificate,
  signWithKey,
  writeModel,
} from './oms.js';

const EC_PUB = join(OMS, 'v1.1.0-elliptic-key.pub.pem');
const CA = join(OMS, 'keys', 'certificate', 'ca-cert.pem');
const sigstoreId = { identity: SIGSTORE_ID, issuer: SIGSTORE_ISSUER };

/** The vector's own verification parameters, as its README gives them. */
const PARAMS: Record<string, PolicyOverrides> = {
  'v1.1.0-elliptic-key': { trustedKeys: [EC_PUB] },
  'v1.1.0-certificate': { trustedKeys: [CA] },
  'v1.1.0-sigstore': { trustedIdentities: [sigstoreId] },
};

async function trustOf(o: PolicyOverrides) {
  return (await resolvePolicy(o)).trust;
}

async function scan(dir: string, o: PolicyOverrides): Promise<ScanReport> {
  return scanPaths([dir], { policy: await resolvePolicy({ signatures: 'require', ...o }) });
}

function ruleIdsOf(r: ScanReport): string[] {
  return [
    ...new Set(r.files.flatMap((f) => f.findings.filter((x) => !x.waived).map((x) => x.ruleId))),
  ].sort();
}

for (const [name, params] of Object.entries(PARAMS)) {
  test(`reference vector ${name} verifies with its parameters, in verify and in scan`, async () => {
    const v = await verifyModelFolder(join(OMS, name), await trustOf(params));
    assert.equal(v.status, 'verified', v.problems.join('; '));
    assert.deepEqual(v.signedFiles, ['signme-1', 'signme-2']);
    assert.deepEqual(v.check?.covered, ['signme-1', 'signme-2']);
    assert.deepEqual(v.check?.ignored, ['ignore-me']);
    const r = await scan(join(OMS, name), params);
    assert.equal(r.blocked, false, JSON.stringify(r.files.map((f) => f.findings)));
    assert.equal(r.trust?.folders[0]?.status, 'verified');
  });

  test(`reference vector ${name}: a changed signme-1 is rejected`, async (t) => {
    const dir = copyVector(
      name,
      tempDir((fn) => t.after(fn)),
    );
    appendFileSync(join(dir, 'signme-1'), 'x');
    const v = await verifyModelFolder(dir, await trustOf(params));
    assert.equal(v.status, 'tampered');
    assert.deepEqual(v.check?.modified, ['signme-1']);
    const r = await scan(dir, params);
    assert.equal(exitCodeFor(r), 1);
    const f = r.files.find((x) => x.path === 'signme-1')!;
    assert.deepEqual(
      f.findings.map((x) => x.ruleId),
      ['MG603'],
    );
  });

  test(`reference vector ${name}: an added file is rejected and named`, async (t) => {
    const dir = copyVector(
      name,
      tempDir((fn) => t.after(fn)),
    );
    writeFileSync(join(dir, 'extra.py'), 'import os\n');
    const v = await verifyModelFolder(dir, await trustOf(params));
    assert.equal(v.status, 'tampered');
    assert.deepEqual(v.check?.extra, ['extra.py']);
    const r = await scan(dir, params);
    assert.equal(exitCodeFor(r), 1);
    assert.ok(r.files.find((x) => x.path === 'extra.py')!.findings.some((x) => x.ruleId === 'MG604'));
  });

  test(`reference vector ${name}: a removed file is rejected and named`, async (t) => {
    const dir = copyVector(
      name,
      tempDir((fn) => t.after(fn)),
    );
    rmSync(join(dir, 'signme-2'));
    const v = await verifyModelFolder(dir, await trustOf(params));
    assert.equal(v.status, 'tampered');
    assert.deepEqual(v.check?.missing, ['signme-2']);
    const r = await scan(dir, params);
    assert.equal(exitCodeFor(r), 1);
    const sig = r.files.find((x) => x.path === 'model.sig')!;
    assert.ok(sig.findings.some((x) => x.ruleId === 'MG605' && x.location.symbol === 'signme-2'));
  });

  test(`reference vector ${name}: a symbolic link in the folder is rejected`, async (t) => {
    const dir = copyVector(
      name,
      tempDir((fn) => t.after(fn)),
    );
    symlinkSync('signme-1', join(dir, 'link'));
    const v = await verifyModelFolder(dir, await trustOf(params));
    assert.equal(v.status, 'tampered');
    assert.deepEqual(v.check?.symlinks, ['link']);
    assert.ok(ruleIdsOf(await scan(dir, params)).includes('MG606'));
  });

  test(`reference vector ${name}: a changed signature payload is rejected`, async (t) => {
    const dir = copyVector(
      name,
      tempDir((fn) => t.after(fn)),
    );
    const b = JSON.parse(readFileSync(join(dir, 'model.sig'), 'utf8'));
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8'));
    st.predicate.resources[0].digest = 'ab'.repeat(32);
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    writeFileSync(join(dir, 'model.sig'), JSON.stringify(b));
    const v = await verifyModelFolder(dir, await trustOf(params));
    assert.equal(v.status, 'invalid');
    const r = await scan(dir, params);
    assert.equal(exitCodeFor(r), 1);
    assert.ok(ruleIdsOf(r).includes('MG601'));
  });
}

test('elliptic-key vector: another key, a CA, or no key is not trust', async () => {
  const other = keyPair('P-384');
  for (const o of [{ trustedKeys: [other.pem] }, { trustedKeys: [CA] }, {}] as PolicyOverrides[]) {
    const v = await verifyModelFolder(join(OMS, 'v1.1.0-elliptic-key'), await trustOf(o));
    assert.notEqual(v.status, 'verified');
    assert.equal(v.signerTrusted, false);
    const r = await scan(join(OMS, 'v1.1.0-elliptic-key'), o);
    assert.equal(exitCodeFor(r), 1);
    assert.ok(ruleIdsOf(r).includes('MG602'));
  }
});

test('certificate vector: another CA, the signing key alone, or no CA is not trust', async () => {
  for (const o of [
    { trustedKeys: [pki('root-ca.pem')] },
    { trustedKeys: [EC_PUB] },
    {},
  ] as PolicyOverrides[]) {
    const v = await verifyModelFolder(join(OMS, 'v1.1.0-certificate'), await trustOf(o));
    assert.notEqual(v.status, 'verified');
    assert.equal(exitCodeFor(await scan(join(OMS, 'v1.1.0-certificate'), o)), 1);
  }
});

test('sigstore vector: identity and issuer are compared exactly, never as a pattern', async () => {
  const wrong = [
    { identity: 'stefanb@us.ibm.co', issuer: SIGSTORE_ISSUER },
    { identity: 'tefanb@us.ibm.com', issuer: SIGSTORE_ISSUER },
    { identity: 'stefanb@us.ibm.com.*', issuer: SIGSTORE_ISSUER },
    { identity: '.*', issuer: SIGSTORE_ISSUER },
    { identity: 'STEFANB@us.ibm.com', issuer: SIGSTORE_ISSUER },
    { identity: SIGSTORE_ID, issuer: 'https://sigstore.verify.ibm.com' },
    { identity: SIGSTORE_ID, issuer: 'https://accounts.google.com' },
    { identity: SIGSTORE_ID, issuer: `${SIGSTORE_ISSUER}/` },
  ];
  for (const id of wrong) {
    const v = await verifyModelFolder(
      join(OMS, 'v1.1.0-sigstore'),
      await trustOf({ trustedIdentities: [id] }),
    );
    assert.equal(v.status, 'untrusted', `${id.identity} ${id.issuer}`);
    assert.equal(v.signatureValid, true);
  }
  const v = await verifyModelFolder(
    join(OMS, 'v1.1.0-sigstore'),
    await trustOf({ trustedIdentities: [sigstoreId] }),
  );
  assert.equal(v.signer?.identity, SIGSTORE_ID);
  assert.equal(v.signer?.issuer, SIGSTORE_ISSUER);
  assert.equal(v.signedAt, '2025-10-10T02:12:20.000Z');
  assert.equal(v.signedAtSource, 'transparency log');
});

test('sigstore vector: verified only against a trusted root that holds its CA and log', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const root = JSON.parse(readFileSync(join(OMS, 'trusted_root.json'), 'utf8'));
  const noLogs = join(dir, 'no-logs.json');
  writeFileSync(noLogs, JSON.stringify({ ...root, tlogs: [] }));
  const noCas = join(dir, 'no-cas.json');
  writeFileSync(noCas, JSON.stringify({ ...root, certificateAuthorities: [] }));
  for (const trustedRoot of [noLogs, noCas]) {
    const v = await verifyModelFolder(
      join(OMS, 'v1.1.0-sigstore'),
      await trustOf({ trustedIdentities: [sigstoreId], trustedRoot }),
    );
    assert.equal(v.status, 'invalid', trustedRoot);
    assert.match(v.problems[0]!, /Sigstore verification failed/);
  }
  // The same root, given by path, verifies (offline override of the bundled root).
  const same = join(dir, 'same.json');
  writeFileSync(same, JSON.stringify(root));
  const v = await verifyModelFolder(
    join(OMS, 'v1.1.0-sigstore'),
    await trustOf({ trustedIdentities: [sigstoreId], trustedRoot: same }),
  );
  assert.equal(v.status, 'verified');
});

for (const curve of ['P-256', 'P-384', 'P-521', 'ed25519'] as const) {
  test(`key signature made at test time (${curve}) verifies; other keys and changes do not`, async (t) => {
    const dir = join(
      tempDir((fn) => t.after(fn)),
      'model',
    );
    writeModel(dir, {
      'model.safetensors': Buffer.from('weights'),
      'config.json': '{"a":1}',
      'sub/x.bin': 'x',
    });
    const k = keyPair(curve);
    signWithKey(dir, k.privateKey);
    const ok = await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }));
    assert.equal(ok.status, 'verified', ok.problems.join('; '));
    assert.deepEqual(ok.signedFiles, ['config.json', 'model.safetensors', 'sub/x.bin']);
    const other = keyPair(curve);
    assert.equal(
      (await verifyModelFolder(dir, await trustOf({ trustedKeys: [other.pem] }))).status,
      'untrusted',
    );
    writeFileSync(join(dir, 'sub/x.bin'), 'y');
    const bad = await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }));
    assert.equal(bad.status, 'tampered');
    assert.deepEqual(bad.check?.modified, ['sub/x.bin']);
  });
}

test('a P-384 signature made over SHA-256 is rejected (the curve fixes the hash)', async (t) => {
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'model',
  );
  writeModel(dir, { 'a.bin': 'a' });
  const k = keyPair('P-384');
  signWithKey(dir, k.privateKey, { forceHash: 'sha256' });
  const v = await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }));
  assert.equal(v.status, 'invalid');
});

test('a signed statement whose root digest disagrees with its resources is rejected', async (t) => {
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'model',
  );
  writeModel(dir, { 'a.bin': 'a', 'b.bin': 'b' });
  const k = keyPair('P-256');
  signWithKey(dir, k.privateKey, {
    editStatement: (st) => {
      (st.subject as Array<{ digest: { sha256: string } }>)[0]!.digest.sha256 = '00'.repeat(32);
    },
  });
  const v = await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }));
  assert.equal(v.status, 'tampered');
  assert.equal(v.check?.rootDigestOk, false);
  const r = await scan(dir, { trustedKeys: [k.pem] });
  assert.ok(ruleIdsOf(r).includes('MG601'));
  assert.equal(exitCodeFor(r), 1);
});

test('malformed envelopes and statements are invalid: two signatures, other payload or predicate type', async (t) => {
  const k = keyPair('P-256');
  const cases = [
    { extraSignatures: 1 },
    { payloadType: 'application/json' },
    {
      editStatement: (st: Record<string, unknown>) => {
        st.predicateType = 'https://slsa.dev/provenance/v1';
      },
    },
    {
      editStatement: (st: Record<string, unknown>) => {
        (st.predicate as { resources: Array<{ name: string }> }).resources[0]!.name = '../etc/passwd';
      },
    },
  ];
  for (const [i, o] of cases.entries()) {
    const dir = join(
      tempDir((fn) => t.after(fn)),
      `m${i}`,
    );
    writeModel(dir, { 'a.bin': 'a' });
    signWithKey(dir, k.privateKey, o);
    const v = await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }));
    assert.equal(v.status, 'invalid', `case ${i}: ${v.problems.join('; ')}`);
  }
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'garbage',
  );
  writeModel(dir, { 'a.bin': 'a', 'model.sig': 'not json' });
  assert.equal((await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }))).status, 'invalid');
});

test('signed ignore_paths that hide model content, and allow_symlinks, are reported (MG607)', async (t) => {
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'model',
  );
  writeModel(dir, { 'a.safetensors': 'a', 'extra/evil.pkl': 'b', 'notes.txt': 'n' });
  const k = keyPair('P-256');
  signWithKey(dir, k.privateKey, { ignorePaths: ['extra', 'notes.txt'], allowSymlinks: true });
  const v = await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }));
  assert.equal(v.status, 'verified');
  assert.deepEqual(v.check?.ignored, ['extra/evil.pkl', 'notes.txt']);
  const r = await scan(dir, { trustedKeys: [k.pem] });
  const sig = r.files.find((f) => f.path === 'model.sig')!;
  const mg607 = sig.findings.filter((f) => f.ruleId === 'MG607').map((f) => f.message);
  assert.equal(mg607.length, 2);
  assert.match(mg607.join(' '), /extra\/evil\.pkl/);
  assert.doesNotMatch(mg607.join(' '), /notes\.txt/);
});

test('shards serialization verifies, and a change inside one shard is caught', async (t) => {
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'model',
  );
  writeModel(dir, { 'w.bin': Buffer.alloc(2500, 7), 'empty.bin': Buffer.alloc(0), 'c.json': '{}' });
  const k = keyPair('P-256');
  signWithKey(dir, k.privateKey, { method: 'shards', shardSize: 1000 });
  const trust = await trustOf({ trustedKeys: [k.pem] });
  const ok = await verifyModelFolder(dir, trust);
  assert.equal(ok.status, 'verified', ok.problems.join('; '));
  const buf = readFileSync(join(dir, 'w.bin'));
  buf[1500] = 8;
  writeFileSync(join(dir, 'w.bin'), buf);
  const bad = await verifyModelFolder(dir, trust);
  assert.equal(bad.status, 'tampered');
  assert.deepEqual(bad.check?.modified, ['w.bin']);
});

test('blake2b serialization verifies', async (t) => {
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'model',
  );
  writeModel(dir, { 'w.bin': 'abc' });
  const k = keyPair('P-256');
  signWithKey(dir, k.privateKey, { hashType: 'blake2b' });
  assert.equal((await verifyModelFolder(dir, await trustOf({ trustedKeys: [k.pem] }))).status, 'verified');
});

test('certificate chain made with the test PKI: verified to its root, refused to another root or a bad leaf', async (t) => {
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'model',
  );
  writeModel(dir, { 'a.onnx': 'a' });
  signWithCertificate(dir, pki('leaf.key'), [pki('leaf.pem'), pki('int-ca.pem')]);
  const ok = await verifyModelFolder(dir, await trustOf({ trustedKeys: [pki('root-ca.pem')] }));
  assert.equal(ok.status, 'verified', ok.problems.join('; '));
  assert.equal(ok.signer?.identity, 'email:release@example.com');
  // The intermediate itself may be the trust anchor.
  assert.equal(
    (await verifyModelFolder(dir, await trustOf({ trustedKeys: [pki('int-ca.pem')] }))).status,
    'verified',
  );
  assert.equal(
    (await verifyModelFolder(dir, await trustOf({ trustedKeys: [pki('other-ca.pem')] }))).status,
    'untrusted',
  );
  // A chain without its intermediate does not reach the root.
  signWithCertificate(dir, pki('leaf.key'), [pki('leaf.pem')]);
  assert.notEqual(
    (await verifyModelFolder(dir, await trustOf({ trustedKeys: [pki('root-ca.pem')] }))).status,
    'verified',
  );
  // A chain whose order is wrong (intermediate first) fails.
  signWithCertificate(dir, pki('leaf.key'), [pki('int-ca.pem'), pki('leaf.pem')]);
  assert.equal(
    (await verifyModelFolder(dir, await trustOf({ trustedKeys: [pki('root-ca.pem')] }))).status,
    'invalid',
  );
  // A leaf that may not sign.
  signWithCertificate(dir, pki('nosign.key'), [pki('nosign.pem'), pki('int-ca.pem')]);
  const ns = await verifyModelFolder(dir, await trustOf({ trustedKeys: [pki('root-ca.pem')] }));
  assert.equal(ns.status, 'invalid');
  assert.match(ns.problems[0]!, /digitalSignature/);
});

test('a trusted signer scoped to paths is trusted only there', async (t) => {
  const root = tempDir((fn) => t.after(fn));
  const k = keyPair('P-256');
  for (const d of ['vision/m', 'nlp/m']) {
    writeModel(join(root, d), { 'w.safetensors': d });
    signWithKey(join(root, d), k.privateKey);
  }
  const keyFile = join(root, 'k.pem');
  writeFileSync(keyFile, k.pem);
  const policyFile = join(root, 'policy.yml');
  writeFileSync(
    policyFile,
    `signatures: require\ntrust:\n  keys:\n    - path: k.pem\n      paths: ["vision/**"]\n`,
  );
  const r = await scanPaths([root], {
    policy: await resolvePolicy({ configFile: policyFile, baseDir: root }),
  });
  const byFolder = Object.fromEntries(r.trust!.folders.map((f) => [f.folder, f.status]));
  assert.deepEqual(byFolder, { 'nlp/m': 'untrusted', 'vision/m': 'verified' });
  assert.equal(exitCodeFor(r), 1);
  assert.ok(r.files.find((f) => f.path === 'nlp/m/model.sig')!.findings.some((f) => f.ruleId === 'MG602'));
});

test('signatures: require blocks a model file outside any signed folder; warn and off do not', async (t) => {
  const root = tempDir((fn) => t.after(fn));
  writeModel(root, { 'm/model.pkl': Buffer.from([0x80, 0x04, 0x4b, 0x01, 0x2e]), 'README.md': '# hi' });
  const req = await scanPaths([root], { policy: await resolvePolicy({ signatures: 'require' }) });
  assert.deepEqual(req.trust?.unsignedFolders, ['m']);
  const f = req.files.find((x) => x.path === 'm/model.pkl')!;
  assert.ok(f.findings.some((x) => x.ruleId === 'MG600'));
  assert.equal(exitCodeFor(req), 1);
  assert.ok(!req.files.find((x) => x.path === 'README.md')!.findings.some((x) => x.ruleId === 'MG600'));
  for (const signatures of ['warn', 'off'] as const) {
    const r = await scanPaths([root], { policy: await resolvePolicy({ signatures }) });
    assert.ok(!r.files.some((x) => x.findings.some((y) => y.ruleId === 'MG600')), signatures);
  }
});

test('signatures: warn reports a tampered folder without blocking; off does not check', async (t) => {
  const dir = copyVector(
    'v1.1.0-elliptic-key',
    tempDir((fn) => t.after(fn)),
  );
  appendFileSync(join(dir, 'signme-1'), 'x');
  const warn = await scanPaths([dir], { policy: await resolvePolicy({ trustedKeys: [EC_PUB] }) });
  const f = warn.files.find((x) => x.path === 'signme-1')!;
  assert.equal(f.verdict, 'warn');
  assert.ok(f.findings.some((x) => x.ruleId === 'MG603'));
  assert.equal(exitCodeFor(warn), 0);
  const off = await scanPaths([dir], {
    policy: await resolvePolicy({ signatures: 'off', trustedKeys: [EC_PUB] }),
  });
  assert.ok(!off.files.some((x) => x.findings.some((y) => y.ruleId.startsWith('MG60'))));
  assert.deepEqual(off.trust?.folders, []);
});

test('the model.sig report entry is added when the scan covers only some files of a signed folder', async (t) => {
  const root = tempDir((fn) => t.after(fn));
  const dir = copyVector('v1.1.0-elliptic-key', root);
  rmSync(join(dir, 'signme-2'));
  const { scanFiles } = await import('../../src/core/scan.js');
  const r = await scanFiles(root, ['v1.1.0-elliptic-key/signme-1'], {
    policy: await resolvePolicy({ signatures: 'require', trustedKeys: [EC_PUB] }),
  });
  const sig = r.files.find((f) => f.path === 'v1.1.0-elliptic-key/model.sig');
  assert.ok(sig, 'model.sig added to the report');
  assert.ok(sig.findings.some((f) => f.ruleId === 'MG605'));
  assert.equal(exitCodeFor(r), 1);
});

test('a scanned model.sig at a signed folder root is reported with format model-signature', async () => {
  const r = await scanPaths([join(OMS, 'v1.1.0-elliptic-key')], {
    policy: await resolvePolicy({ trustedKeys: [EC_PUB] }),
  });
  assert.equal(r.files.find((f) => f.path === 'model.sig')?.format, 'model-signature');
});

test('the root digest is recomputed in the order the statement lists its resources (as model_signing does)', async (t) => {
  const dir = join(
    tempDir((fn) => t.after(fn)),
    'model',
  );
  writeModel(dir, { 'a-c.bin': 'x', 'a/b.bin': 'y', 'b.bin': 'z' });
  const k = keyPair('P-256');
  const trust = await trustOf({ trustedKeys: [k.pem] });
  // model_signing order: by path components, so a/b.bin (component "a") comes before a-c.bin.
  signWithKey(dir, k.privateKey);
  const v = await verifyModelFolder(dir, trust);
  assert.equal(v.status, 'verified', v.problems.join('; '));
  assert.deepEqual(v.signedFiles, ['a/b.bin', 'a-c.bin', 'b.bin']);
  // A producer that lists resources in another order and digests them in that order is consistent too.
  signWithKey(dir, k.privateKey, {
    editStatement: (st) => {
      const p = st.predicate as { resources: Array<{ digest: string }> };
      p.resources.reverse();
      const h = createHash('sha256');
      for (const r of p.resources) h.update(Buffer.from(r.digest, 'hex'));
      (st.subject as Array<{ digest: { sha256: string } }>)[0]!.digest.sha256 = h.digest('hex');
    },
  });
  assert.equal((await verifyModelFolder(dir, trust)).status, 'verified');
  // Reordered after the digest was computed: inconsistent.
  signWithKey(dir, k.privateKey, {
    editStatement: (st) => {
      (st.predicate as { resources: unknown[] }).resources.reverse();
    },
  });
  const bad = await verifyModelFolder(dir, trust);
  assert.equal(bad.status, 'tampered');
  assert.equal(bad.check?.rootDigestOk, false);
});
