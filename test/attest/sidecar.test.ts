import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { resolvePolicy } from '../../src/core/policy/resolve.js';
import { exitCodeFor, scanPaths } from '../../src/core/scan.js';
import { verifyModelFolder } from '../../src/core/trust/folder.js';
import { isSidecar } from '../../src/core/trust/manifest.js';
import { ROOT, tempDir } from '../helpers.js';
import { copyVector, OMS } from '../trust/oms.js';

// Model signing and attestations together: attestations and detached signatures written next to a signed
// model after it was signed are not "files the signature does not cover" (MG604), yet they are scanned by
// content like every other file.

const EC_PUB = join(OMS, 'v1.1.0-elliptic-key.pub.pem');
const SIDECARS = [
  'model.intoto.json',
  'model.sigstore.json',
  'provenance.intoto.jsonl',
  'nested/model.sig',
  `sha256:${'a'.repeat(64)}.jsonl`,
];

test('isSidecar: attestation and signature names, nothing a loader reads', () => {
  for (const n of [
    ...SIDECARS,
    'x.sigstore',
    'build.attestation.json',
    'a/b.attestation.jsonl',
    'weights.SIG',
  ]) {
    assert.ok(isSidecar(n), n);
  }
  for (const n of [
    'model.safetensors',
    'config.json',
    'model.signature',
    'sig',
    'intoto.json.bin',
    'a.sig/x.py',
  ]) {
    assert.ok(!isSidecar(n), n);
  }
});

test('a signed folder with attestations beside the model still verifies; other additions are still MG604', async (t) => {
  const dir = copyVector(
    'v1.1.0-elliptic-key',
    tempDir((fn) => t.after(fn)),
  );
  const trust = (await resolvePolicy({ trustedKeys: [EC_PUB] })).trust;
  mkdirSync(join(dir, 'nested'));
  for (const n of SIDECARS) writeFileSync(join(dir, n), '{"payloadType": "application/vnd.in-toto+json"}\n');
  const v = await verifyModelFolder(dir, trust);
  assert.equal(v.status, 'verified', v.problems.join('; '));
  assert.deepEqual(v.check?.extra, []);
  assert.deepEqual(v.check?.sidecars.sort(), [...SIDECARS].sort());
});

test("scan: modelgate's own attestation and a detached signature in a signed folder are no MG604", async (t) => {
  const dir = copyVector(
    'v1.1.0-elliptic-key',
    tempDir((fn) => t.after(fn)),
  );
  // The attestation modelgate itself writes, in the folder it attests, and a detached signature.
  let err = '';
  const code = await main(['scan', join(dir, 'signme-1'), '--attest', join(dir, 'scan.intoto.json')], {
    stdout: () => {},
    stderr: (s) => {
      err += s;
    },
  });
  assert.equal(code, 0, err);
  writeFileSync(join(dir, 'signme-1.sig'), Buffer.from('3045022100', 'hex'));
  const policy = await resolvePolicy({ trustedKeys: [EC_PUB], signatures: 'require' });
  const r = await scanPaths([dir], { policy });
  assert.equal(exitCodeFor(r), 0, JSON.stringify(r.files.map((f) => [f.path, f.findings])));
  assert.deepEqual(r.trust?.folders[0]?.sidecarFiles, ['scan.intoto.json', 'signme-1.sig']);

  // Anything else added after signing is still uncovered.
  writeFileSync(join(dir, 'extra.py'), 'import os\n');
  const r2 = await scanPaths([dir], { policy });
  assert.equal(exitCodeFor(r2), 1);
  assert.ok(r2.files.find((f) => f.path === 'extra.py')?.findings.some((f) => f.ruleId === 'MG604'));
});

test('a sidecar name exempts from signature coverage, never from the scan: a pickle named x.sig blocks', async (t) => {
  const dir = copyVector(
    'v1.1.0-elliptic-key',
    tempDir((fn) => t.after(fn)),
  );
  copyFileSync(join(ROOT, 'examples', 'malicious', 'dotted_name.pkl'), join(dir, 'evil.sig'));
  const r = await scanPaths([dir], {
    policy: await resolvePolicy({ trustedKeys: [EC_PUB], signatures: 'require' }),
  });
  const f = r.files.find((x) => x.path === 'evil.sig');
  assert.equal(f?.verdict, 'block');
  assert.ok(!f.findings.some((x) => x.ruleId === 'MG604'));
  assert.equal(exitCodeFor(r), 1);
});
