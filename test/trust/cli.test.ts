import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../helpers.js';
import { copyVector, OMS, SIGSTORE_ID, SIGSTORE_ISSUER } from './oms.js';

// The CLI's trust flags and `modelgate verify`, run in-process through main() (same code as dist/cli.js).

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
  });
  return { code, stdout, stderr };
}

const EC_PUB = join(OMS, 'v1.1.0-elliptic-key.pub.pem');
const CA = join(OMS, 'keys', 'certificate', 'ca-cert.pem');
const ID = ['--trusted-identity', SIGSTORE_ID, '--trusted-issuer', SIGSTORE_ISSUER];

test('verify: exit 0 for each reference vector with its parameters, and prints who, when, what', async () => {
  const key = await cli(['verify', join(OMS, 'v1.1.0-elliptic-key'), '--trusted-key', EC_PUB]);
  assert.equal(key.code, 0, key.stdout + key.stderr);
  assert.match(key.stdout, /VERIFIED/);
  assert.match(key.stdout, /method: +public key/);
  assert.match(key.stdout, /key: +sha256:[0-9a-f]{64}/);
  assert.match(key.stdout, /covers: +2 files: signme-1, signme-2/);
  const cert = await cli(['verify', join(OMS, 'v1.1.0-certificate'), '--trusted-key', CA]);
  assert.equal(cert.code, 0, cert.stdout);
  const sig = await cli(['verify', join(OMS, 'v1.1.0-sigstore'), ...ID]);
  assert.equal(sig.code, 0, sig.stdout);
  assert.match(sig.stdout, /signer: +stefanb@us\.ibm\.com/);
  assert.match(sig.stdout, /issuer: +https:\/\/sigstore\.verify\.ibm\.com\/oauth2/);
  assert.match(sig.stdout, /signed at: +2025-10-10T02:12:20\.000Z \(transparency log\)/);
});

test('verify --format json carries the same details', async () => {
  const r = await cli(['verify', join(OMS, 'v1.1.0-sigstore'), ...ID, '--format', 'json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.stdout);
  assert.equal(j.status, 'verified');
  assert.equal(j.signer.identity, SIGSTORE_ID);
  assert.deepEqual(j.coveredFiles, ['signme-1', 'signme-2']);
  assert.deepEqual(j.ignoredFiles, ['ignore-me']);
});

test('verify: exit 1 for an untrusted signer, an unanchored identity, or a tampered folder', async (t) => {
  const wrongId = await cli([
    'verify',
    join(OMS, 'v1.1.0-sigstore'),
    '--trusted-identity',
    'stefanb@us.ibm.co',
    '--trusted-issuer',
    SIGSTORE_ISSUER,
  ]);
  assert.equal(wrongId.code, 1);
  assert.match(wrongId.stdout, /UNTRUSTED/);
  assert.equal((await cli(['verify', join(OMS, 'v1.1.0-elliptic-key')])).code, 1);
  const dir = copyVector(
    'v1.1.0-elliptic-key',
    tempDir((fn) => t.after(fn)),
  );
  appendFileSync(join(dir, 'signme-2'), '!');
  writeFileSync(join(dir, 'added.bin'), 'x');
  const r = await cli(['verify', dir, '--trusted-key', EC_PUB]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /TAMPERED/);
  assert.match(r.stdout, /modified: +signme-2/);
  assert.match(r.stdout, /unsigned: +added\.bin/);
  const none = tempDir((fn) => t.after(fn));
  const u = await cli(['verify', none]);
  assert.equal(u.code, 1);
  assert.match(u.stdout, /UNSIGNED/);
});

test('verify and scan: usage errors exit 3', async () => {
  assert.equal((await cli(['verify'])).code, 3);
  assert.equal((await cli(['verify', '/nonexistent/dir'])).code, 3);
  assert.equal((await cli(['verify', OMS, '--format', 'xml'])).code, 3);
  const unpaired = await cli(['verify', OMS, '--trusted-identity', 'a@b.c']);
  assert.equal(unpaired.code, 3);
  assert.match(unpaired.stderr, /pairs/);
  assert.equal((await cli(['scan', OMS, '--trusted-issuer', 'https://x'])).code, 3);
  assert.equal((await cli(['scan', OMS, '--trusted-key', '/nonexistent.pem'])).code, 3);
  assert.equal((await cli(['scan', OMS, '--profile', 'nope'])).code, 3);
});

test('scan --require-signature: exit 0 when every folder is signed by a trusted signer, 1 otherwise', async (t) => {
  const all = ['--trusted-key', EC_PUB, '--trusted-key', CA, ...ID];
  const ok = await cli(['scan', OMS, '--require-signature', ...all, '--format', 'json']);
  assert.equal(ok.code, 0, ok.stdout);
  const report = JSON.parse(ok.stdout);
  assert.deepEqual(
    report.trust.folders.map((f: { folder: string; status: string }) => [f.folder, f.status]),
    [
      ['v1.1.0-certificate', 'verified'],
      ['v1.1.0-elliptic-key', 'verified'],
      ['v1.1.0-sigstore', 'verified'],
    ],
  );
  // Missing one signer: that folder blocks.
  const partial = await cli([
    'scan',
    OMS,
    '--require-signature',
    '--trusted-key',
    EC_PUB,
    '--trusted-key',
    CA,
  ]);
  assert.equal(partial.code, 1);
  // Tampered folder blocks even with all signers trusted.
  const dir = copyVector(
    'v1.1.0-certificate',
    tempDir((fn) => t.after(fn)),
  );
  writeFileSync(join(dir, 'signme-1'), 'changed');
  assert.equal((await cli(['scan', dir, '--require-signature', ...all])).code, 1);
});

test('scan --config with a bad policy file: exit 3 with the file, line and key', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'modelgate.yml');
  writeFileSync(p, 'maxScore: 10\nwaivers:\n  - ruleId: MG005\n    path: "**"\n    expires: 2030-01-01\n');
  const r = await cli(['scan', dir, '--config', p]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /modelgate\.yml:3: waivers\[0\]\.reason: is required/);
});

test('scan --config --profile strict requires signatures', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const p = join(dir, 'modelgate.yml');
  writeFileSync(p, `trust:\n  keys:\n    - path: ${EC_PUB}\n`);
  const vec = join(OMS, 'v1.1.0-elliptic-key');
  assert.equal((await cli(['scan', vec, '--config', p, '--profile', 'strict'])).code, 0);
  const other = join(OMS, 'v1.1.0-certificate');
  assert.equal((await cli(['scan', other, '--config', p, '--profile', 'strict'])).code, 1);
  assert.equal((await cli(['scan', other, '--config', p])).code, 0);
});
