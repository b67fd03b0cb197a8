import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { resolvePolicy } from '../../src/core/policy/resolve.js';
import { verifyModelFolder } from '../../src/core/trust/folder.js';
import { tempDir } from '../helpers.js';
import { copyVector, OMS, SIGSTORE_ID, SIGSTORE_ISSUER } from './oms.js';

// Any change to a signature file either leaves what was signed and who signed it (the DSSE payload, its
// signature, the certificates) exactly as it was, or the folder does not verify. Unsigned metadata may change
// freely: the key hint, an unknown JSON field, or a redundant log field (the inclusion proof's rootHash: the
// Merkle path is checked against the signed checkpoint). And no input makes the verifier throw.

function signedParts(text: string): string | undefined {
  try {
    const b = JSON.parse(text);
    const env = b.dsseEnvelope;
    return JSON.stringify([
      Buffer.from(env.payload, 'base64').toString('hex'),
      env.payloadType,
      env.signatures.map((s: { sig: string }) => Buffer.from(s.sig, 'base64').toString('hex')),
      JSON.stringify(
        b.verificationMaterial?.x509CertificateChain ?? b.verificationMaterial?.certificate ?? null,
      ),
    ]);
  } catch {
    return undefined;
  }
}

const CASES = [
  { name: 'v1.1.0-elliptic-key', o: { trustedKeys: [join(OMS, 'v1.1.0-elliptic-key.pub.pem')] }, runs: 150 },
  {
    name: 'v1.1.0-certificate',
    o: { trustedKeys: [join(OMS, 'keys', 'certificate', 'ca-cert.pem')] },
    runs: 150,
  },
  {
    name: 'v1.1.0-sigstore',
    o: { trustedIdentities: [{ identity: SIGSTORE_ID, issuer: SIGSTORE_ISSUER }] },
    runs: 60,
  },
];

for (const { name, o, runs } of CASES) {
  test(`${name}: a flipped bit in model.sig never verifies unless the signed content is unchanged`, async (t) => {
    const dir = copyVector(
      name,
      tempDir((fn) => t.after(fn)),
    );
    const sigPath = join(dir, 'model.sig');
    const original = readFileSync(sigPath);
    const want = signedParts(original.toString('utf8'));
    const trust = (await resolvePolicy(o)).trust;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: original.length - 1 }),
        fc.integer({ min: 0, max: 7 }),
        async (pos, bit) => {
          const bytes = Buffer.from(original);
          bytes[pos] = bytes[pos]! ^ (1 << bit);
          writeFileSync(sigPath, bytes);
          const v = await verifyModelFolder(dir, trust);
          if (v.status === 'verified') {
            assert.equal(
              signedParts(bytes.toString('utf8')),
              want,
              `verified after flipping bit ${bit} at ${pos}`,
            );
          }
        },
      ),
      { numRuns: runs, seed: 20261122 },
    );
    writeFileSync(sigPath, original);
    assert.equal((await verifyModelFolder(dir, trust)).status, 'verified');
  });
}

test('random JSON in model.sig is reported invalid, never thrown', async (t) => {
  const dir = copyVector(
    'v1.1.0-elliptic-key',
    tempDir((fn) => t.after(fn)),
  );
  const trust = (await resolvePolicy({ trustedKeys: [join(OMS, 'v1.1.0-elliptic-key.pub.pem')] })).trust;
  await fc.assert(
    fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (j) => {
      writeFileSync(join(dir, 'model.sig'), JSON.stringify(j));
      const v = await verifyModelFolder(dir, trust);
      assert.equal(v.status, 'invalid');
    }),
    { numRuns: 200, seed: 7 },
  );
});
