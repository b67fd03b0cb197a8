import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createPublicKey, sign } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { decodeBase64, parseEnvelope, verifyEnvelope } from '../../src/core/attest/dsse.js';
import {
  BUILTIN_POLICY_URI,
  builtinPolicyDigest,
  type Statement,
  VSA_PREDICATE_TYPE,
} from '../../src/core/attest/vsa.js';
import { pae } from '../../src/core/trust/signature.js';
import { VERSION } from '../../src/core/version.js';
import { FIXTURES, ROOT, runCli, tempDir } from '../helpers.js';

// Attestations end to end: `scan --attest` with openssl-made keys (test/fixtures/attest/generate.sh),
// `verify-attestation` as a deployment step runs it, and every kind of tampering it must refuse.

const KEYS = join(FIXTURES, 'attest');
const CLEAN = join(ROOT, 'examples', 'clean', 'model.safetensors');
const BAD = join(ROOT, 'examples', 'malicious', 'checkpoint.pt');
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

async function cli(args: string[]) {
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

/** A model folder with a clean model and a config beside it. */
function modelDir(dir: string): string {
  const m = join(dir, 'model');
  mkdirSync(m, { recursive: true });
  copyFileSync(CLEAN, join(m, 'model.safetensors'));
  writeFileSync(join(m, 'config.json'), '{"architectures": ["BertModel"]}\n');
  return m;
}

function statementOf(file: string): { env: ReturnType<typeof parseEnvelope>; st: Statement } {
  const env = parseEnvelope(readFileSync(file, 'utf8'));
  return { env, st: JSON.parse(env.payload.toString('utf8')) as Statement };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

test('DSSE: the PAE and the ECDSA test vector of the DSSE v1.0.2 protocol verify', () => {
  const body = Buffer.from('hello world');
  assert.equal(
    pae('http://example.com/HelloWorld', body).toString(),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
  // protocol.md "Test Vectors": P-256 key by its coordinates, signature as raw r||s.
  const coord = (n: string) =>
    Buffer.from(BigInt(n).toString(16).padStart(64, '0'), 'hex').toString('base64url');
  const key = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: coord('46950820868899156662930047687818585632848591499744589407958293238635476079160'),
      y: coord('5640078356564379163099075877009565129882514886557779369047442380624545832820'),
    },
    format: 'jwk',
  });
  const { envelope, payload } = parseEnvelope(
    '{"payload": "aGVsbG8gd29ybGQ=", "payloadType": "http://example.com/HelloWorld", "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}]}',
  );
  assert.equal(verifyEnvelope(envelope, payload, [key]).signature, 0);
  const other = createPublicKey(readFileSync(join(KEYS, 'p256.pub.pem'), 'utf8'));
  assert.match(verifyEnvelope(envelope, payload, [other]).problem ?? '', /no signature verifies/);
  // Standard and URL-safe base64 are both accepted; anything else is refused, not skipped over.
  assert.deepEqual(decodeBase64('-_8'), Buffer.from([0xfb, 0xff]));
  assert.equal(decodeBase64('aGVs!bG8='), undefined);
});

for (const alg of ['p256', 'ed25519'] as const) {
  test(`scan --attest --attest-key (${alg}): a signed VSA that verify-attestation accepts`, async (t) => {
    const dir = tempDir((fn) => t.after(fn));
    const m = modelDir(dir);
    const att = join(dir, 'model.vsa.json');
    const before = Date.now();
    const scan = await cli(['scan', m, '--attest', att, '--attest-key', join(KEYS, `${alg}.key`)]);
    assert.equal(scan.code, 0, scan.stderr);
    const { env, st } = statementOf(att);
    assert.equal(env.envelope.payloadType, 'application/vnd.in-toto+json');
    assert.equal(env.envelope.signatures.length, 1);
    const pub = readFileSync(join(KEYS, `${alg}.pub.pem`), 'utf8');
    const der = createPublicKey(pub).export({ type: 'spki', format: 'der' });
    assert.equal(env.envelope.signatures[0]!.keyid, sha256(der));
    assert.equal(st._type, 'https://in-toto.io/Statement/v1');
    assert.equal(st.predicateType, VSA_PREDICATE_TYPE);
    assert.deepEqual(
      st.subject.map((s) => [s.name, s.digest?.sha256]),
      [
        ['config.json', sha256(readFileSync(join(m, 'config.json')))],
        ['model.safetensors', sha256(readFileSync(CLEAN))],
      ],
    );
    const p = st.predicate;
    assert.deepEqual(p.verifier, {
      id: 'https://github.com/modelgate/modelgate',
      version: { modelgate: VERSION },
    });
    assert.match(p.timeVerified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Date.parse(p.timeVerified) >= before - 1000 && Date.parse(p.timeVerified) <= Date.now());
    assert.equal(p.resourceUri, `file://${m}`);
    assert.deepEqual(p.policy, { uri: BUILTIN_POLICY_URI, digest: { sha256: builtinPolicyDigest() } });
    assert.equal(p.verificationResult, 'PASSED');
    assert.deepEqual(p.verifiedLevels, ['MODELGATE_POLICY_PASSED']);

    const ok = await cli(['verify-attestation', att, '--trusted-key', join(KEYS, `${alg}.pub.pem`), m]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /VERIFIED/);
    assert.match(ok.stdout, /ok {3}subject .*model\.safetensors/);
    // The built-in policy by its digest, a single file, and the resource it names.
    const pinned = await cli([
      'verify-attestation',
      att,
      '--trusted-key',
      join(KEYS, 'other-p256.pub.pem'),
      '--trusted-key',
      join(KEYS, `${alg}.pub.pem`),
      '--policy-digest',
      builtinPolicyDigest(),
      '--resource-uri',
      `file://${m}`,
      join(m, 'model.safetensors'),
    ]);
    assert.equal(pinned.code, 0, pinned.stdout);

    // An independent implementation agrees: openssl verifies the signature over the PAE.
    if (hasOpenssl) {
      const paeFile = join(dir, 'pae.bin');
      const sigFile = join(dir, 'sig.bin');
      const pubFile = join(KEYS, `${alg}.pub.pem`);
      writeFileSync(paeFile, pae(env.envelope.payloadType, env.payload));
      writeFileSync(sigFile, Buffer.from(env.envelope.signatures[0]!.sig, 'base64'));
      const args =
        alg === 'p256'
          ? ['dgst', '-sha256', '-verify', pubFile, '-signature', sigFile, paeFile]
          : [
              'pkeyutl',
              '-verify',
              '-pubin',
              '-inkey',
              pubFile,
              '-rawin',
              '-in',
              paeFile,
              '-sigfile',
              sigFile,
            ];
      assert.match(execFileSync('openssl', args).toString(), /Verified OK|Signature Verified Successfully/);
    }
  });
}

test('verify-attestation refuses tampering, naming what failed', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const m = modelDir(dir);
  const att = join(dir, 'a.json');
  const key = join(KEYS, 'p256.key');
  const pub = join(KEYS, 'p256.pub.pem');
  assert.equal((await cli(['scan', m, '--attest', att, '--attest-key', key])).code, 0);
  const original = JSON.parse(readFileSync(att, 'utf8'));
  const st = JSON.parse(Buffer.from(original.payload, 'base64').toString('utf8'));
  const verify = async (file: string, ...more: string[]) =>
    cli(['verify-attestation', file, '--trusted-key', pub, ...more, m]);
  const variant = (name: string, env: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(env));
    return f;
  };
  const resign = (statement: unknown) => {
    const payload = Buffer.from(JSON.stringify(statement));
    const sig = sign('sha256', pae('application/vnd.in-toto+json', payload), readFileSync(key, 'utf8'));
    return {
      ...original,
      payload: payload.toString('base64'),
      signatures: [{ sig: sig.toString('base64') }],
    };
  };

  // 1. The payload edited (a FAILED result turned PASSED would look the same), the old signature kept.
  const edited = structuredClone(st);
  edited.subject.push({ name: 'evil.pkl', digest: { sha256: 'ab'.repeat(32) } });
  const r1 = await verify(
    variant('edited.json', { ...original, payload: Buffer.from(JSON.stringify(edited)).toString('base64') }),
  );
  assert.equal(r1.code, 1);
  assert.match(r1.stdout, /FAIL signature: no signature verifies/);
  assert.doesNotMatch(r1.stdout, /subject/, 'nothing in an unauthenticated payload is checked');

  // 2. Signed by another key.
  const other = join(dir, 'other.json');
  assert.equal(
    (await cli(['scan', m, '--attest', other, '--attest-key', join(KEYS, 'other-p256.key')])).code,
    0,
  );
  const r2 = await verify(other);
  assert.equal(r2.code, 1);
  assert.match(r2.stdout, /FAIL signature/);

  // 3. Unsigned.
  const unsigned = join(dir, 'unsigned.json');
  assert.equal((await cli(['scan', m, '--attest', unsigned])).code, 0);
  assert.deepEqual(JSON.parse(readFileSync(unsigned, 'utf8')).signatures, []);
  const r3 = await verify(unsigned);
  assert.equal(r3.code, 1);
  assert.match(r3.stdout, /FAIL signature: the envelope is unsigned/);

  // 4. A model byte changed after the scan.
  const changed = join(dir, 'changed');
  mkdirSync(changed);
  const bytes = readFileSync(join(m, 'model.safetensors'));
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
  writeFileSync(join(changed, 'model.safetensors'), bytes);
  const r4 = await cli(['verify-attestation', att, '--trusted-key', pub, join(changed, 'model.safetensors')]);
  assert.equal(r4.code, 1);
  assert.match(r4.stdout, /FAIL subject .*model\.safetensors: sha256:[0-9a-f]{64} is not a subject/);

  // 5. A FAILED result, properly signed.
  const failedDir = join(dir, 'failed');
  mkdirSync(failedDir);
  copyFileSync(BAD, join(failedDir, 'checkpoint.pt'));
  const failed = join(dir, 'failed.json');
  assert.equal((await cli(['scan', failedDir, '--attest', failed, '--attest-key', key])).code, 1);
  assert.equal(statementOf(failed).st.predicate.verificationResult, 'FAILED');
  assert.deepEqual(statementOf(failed).st.predicate.verifiedLevels, ['FAILED']);
  const r5 = await cli(['verify-attestation', failed, '--trusted-key', pub, failedDir]);
  assert.equal(r5.code, 1);
  assert.match(r5.stdout, /FAIL verification result: verificationResult "FAILED"/);

  // 6. Another predicate type (say SLSA provenance), validly signed by the trusted key.
  const r6 = await verify(
    variant('provenance.json', resign({ ...st, predicateType: 'https://slsa.dev/provenance/v1' })),
  );
  assert.equal(r6.code, 1);
  assert.match(r6.stdout, /FAIL predicate type/);
  assert.match(r6.stdout, /ok {3}signature/);

  // 7. Another statement type, or another verifier, validly signed.
  const r7 = await verify(variant('v01.json', resign({ ...st, _type: 'https://in-toto.io/Statement/v0.1' })));
  assert.match(r7.stdout, /FAIL statement type/);
  const r8 = await verify(
    variant(
      'verifier.json',
      resign({ ...st, predicate: { ...st.predicate, verifier: { id: 'https://example.com/x' } } }),
    ),
  );
  assert.equal(r8.code, 1);
  assert.match(r8.stdout, /FAIL verifier/);

  // 8. A file the attestation does not cover.
  writeFileSync(join(m, 'extra.bin'), 'not scanned');
  const r9 = await verify(att);
  assert.equal(r9.code, 1);
  assert.match(r9.stdout, /FAIL subject .*extra\.bin/);

  // 9. Policy digest, resource and levels that differ.
  const r10 = await cli([
    'verify-attestation',
    att,
    '--trusted-key',
    pub,
    '--policy-digest',
    'cd'.repeat(32),
    join(m, 'config.json'),
  ]);
  assert.equal(r10.code, 1);
  assert.match(r10.stdout, /FAIL policy: policy digest sha256:[0-9a-f]{64} \(expected sha256:(cd){32}\)/);
  const r11 = await cli([
    'verify-attestation',
    att,
    '--trusted-key',
    pub,
    '--resource-uri',
    'git+https://github.com/o/r@abc',
    '--verified-level',
    'MODELGATE_PROFILE_STRICT',
    join(m, 'config.json'),
  ]);
  assert.equal(r11.code, 1);
  assert.match(r11.stdout, /FAIL resource/);
  assert.match(
    r11.stdout,
    /FAIL verified levels: \[MODELGATE_POLICY_PASSED\] lacks MODELGATE_PROFILE_STRICT/,
  );
  const json = await cli(['verify-attestation', att, '--format', 'json', '--trusted-key', pub, m]);
  assert.deepEqual(JSON.parse(json.stdout).failed, ['subject model/extra.bin'.replace('model/', `${m}/`)]);
});

test('the policy file applied: its bytes digest, its profile as a level, and overrides that void the match', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const m = modelDir(dir);
  const policyFile = join(dir, 'modelgate.yml');
  const text = 'maxScore: 40\nprofiles:\n  release:\n    maxScore: 10\n';
  writeFileSync(policyFile, text);
  const key = join(KEYS, 'ed25519.key');
  const pub = join(KEYS, 'ed25519.pub.pem');
  const att = join(dir, 'a.json');
  const scan = await cli([
    'scan',
    m,
    '--config',
    policyFile,
    '--profile',
    'release',
    '--attest',
    att,
    '--attest-key',
    key,
    '--resource-uri',
    'git+https://github.com/acme/models@0123456789abcdef0123456789abcdef01234567',
  ]);
  assert.equal(scan.code, 0, scan.stderr);
  const p = statementOf(att).st.predicate;
  assert.deepEqual(p.policy, {
    uri: `file://${policyFile}`,
    digest: { sha256: sha256(text) },
    annotations: { modelgateProfile: 'release' },
  });
  assert.deepEqual(p.verifiedLevels, ['MODELGATE_POLICY_PASSED', 'MODELGATE_PROFILE_RELEASE']);
  assert.equal(p.resourceUri, 'git+https://github.com/acme/models@0123456789abcdef0123456789abcdef01234567');
  const ok = await cli([
    'verify-attestation',
    att,
    '--trusted-key',
    pub,
    '--config',
    policyFile,
    '--verified-level',
    'MODELGATE_PROFILE_RELEASE',
    m,
  ]);
  assert.equal(ok.code, 0, ok.stdout);

  // The same file, edited by one byte: another policy.
  const edited = join(dir, 'edited.yml');
  writeFileSync(edited, text.replace('40', '41'));
  const r1 = await cli(['verify-attestation', att, '--trusted-key', pub, '--config', edited, m]);
  assert.equal(r1.code, 1);
  assert.match(r1.stdout, /FAIL policy/);

  // A scan that raised the maximum score on the command line did not apply the file as it is.
  const loose = join(dir, 'loose.json');
  await cli([
    'scan',
    m,
    '--config',
    policyFile,
    '--max-score',
    '100',
    '--attest',
    loose,
    '--attest-key',
    key,
  ]);
  assert.deepEqual(statementOf(loose).st.predicate.policy.annotations, {
    modelgateOverrides: { maxScore: 100 },
  });
  const r2 = await cli(['verify-attestation', loose, '--trusted-key', pub, '--config', policyFile, m]);
  assert.equal(r2.code, 1);
  assert.match(
    r2.stdout,
    /FAIL policy overrides: the scan replaced settings of that policy: \{"maxScore":100\}/,
  );
});

test('usage errors exit 3', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const m = modelDir(dir);
  const att = join(dir, 'a.json');
  const pub = join(KEYS, 'p256.pub.pem');
  assert.equal((await cli(['scan', m, '--attest', att, '--attest-key', join(KEYS, 'p256.key')])).code, 0);
  const cases: Array<[string[], RegExp]> = [
    [['verify-attestation', att, m], /--trusted-key/],
    [['verify-attestation', att, '--trusted-key', pub], /PATH/],
    [['verify-attestation', join(dir, 'none.json'), '--trusted-key', pub, m], /cannot read/],
    [['verify-attestation', att, '--trusted-key', pub, join(dir, 'nothing')], /no such file/],
    [['verify-attestation', att, '--trusted-key', join(KEYS, 'generate.sh'), m], /not a usable public key/],
    [['verify-attestation', att, '--trusted-key', pub, '--policy-digest', 'xyz', m], /64 hex/],
    [['scan', m, '--attest', att, '--attest-key', pub], /--attest-key .*not a PEM private key/],
    [['scan', m, '--attest-key', join(KEYS, 'p256.key')], /go with --attest/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const help = await cli(['verify-attestation', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit codes: 0/);
});

test('the bundled CLI (dist/cli.js) signs and verifies as the sources do', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  const m = modelDir(dir);
  const att = join(dir, 'a.json');
  const scan = await runCli(['scan', m, '--attest', att, '--attest-key', join(KEYS, 'p256.key')]);
  assert.equal(scan.code, 0, scan.stderr);
  const ok = await runCli(['verify-attestation', att, '--trusted-key', join(KEYS, 'p256.pub.pem'), m]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const bad = await runCli(['verify-attestation', att, '--trusted-key', join(KEYS, 'ed25519.pub.pem'), m]);
  assert.equal(bad.code, 1, bad.stdout);
});
