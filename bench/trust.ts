// Signed model folder: the cost of the trust phase. A 2 GiB safetensors file plus a config, signed with a P-256
// key in model_signing's format (statement → DSSE → bundle, as test/trust/oms.ts builds it).
//  1. `scan` (default policy: the signature is checked, the folder compared with it; the scan's own sha256 of
//     each file is reused, so the weights are read once) against `openssl dgst -sha256`.
//  2. `verify` alone (verifyModelFolder: hashes every file itself, as `modelgate verify DIR` does), timed in this
//     process against openssl on the same file.
//   node --import tsx bench/trust.ts [--gib N]
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyModelFolder } from '../src/core/trust/folder.js';
import { benchPath, compare, ensureFile, opensslSha256, printHeader, printRow, writeRandom } from './lib.js';

const gib = Number(process.argv[process.argv.indexOf('--gib') + 1] ?? 2) || 2;
const dir = benchPath(`signed-model-${gib}g`);
mkdirSync(dir, { recursive: true });
const weights = await ensureFile(join(dir, 'model.safetensors'), async (write) => {
  const size = gib * 2 ** 30;
  const header = Buffer.from(
    JSON.stringify({ w: { dtype: 'U8', shape: [size], data_offsets: [0, size] } }).padEnd(120, ' '),
  );
  const len = Buffer.alloc(8);
  len.writeUInt32LE(header.length);
  await write(len);
  await write(header);
  await writeRandom(write, size);
});
writeFileSync(join(dir, 'config.json'), '{"model_type":"bench"}');

const keyFile = join(dir, '..', `signed-model-${gib}g.key.pem`);
if (!existsSync(join(dir, 'model.sig')) || !existsSync(keyFile)) {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const digest = async (f: string) => {
    const h = createHash('sha256');
    for await (const c of createReadStream(f)) h.update(c as Buffer);
    return h.digest('hex');
  };
  const resources = [
    { name: 'config.json', algorithm: 'sha256', digest: await digest(join(dir, 'config.json')) },
    { name: 'model.safetensors', algorithm: 'sha256', digest: await digest(weights) },
  ];
  const root = createHash('sha256');
  for (const r of resources) root.update(Buffer.from(r.digest, 'hex'));
  const payload = Buffer.from(
    JSON.stringify({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'signed-model', digest: { sha256: root.digest('hex') } }],
      predicateType: 'https://model_signing/signature/v1.0',
      predicate: {
        serialization: {
          method: 'files',
          hash_type: 'sha256',
          allow_symlinks: false,
          ignore_paths: ['model.sig'],
        },
        resources,
      },
    }),
  );
  const type = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const pub = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
  writeFileSync(
    join(dir, 'model.sig'),
    JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: {
        publicKey: { hint: createHash('sha256').update(pub).digest('hex') },
        tlogEntries: [],
      },
      dsseEnvelope: {
        payload: payload.toString('base64'),
        payloadType: type,
        signatures: [{ sig: sign('sha256', pae, privateKey).toString('base64'), keyid: '' }],
      },
    }),
  );
}
const pub = createPublicKey(readFileSync(keyFile, 'utf8')).export({ type: 'spki', format: 'pem' }) as string;

printHeader();
printRow(await compare(`signed folder ${gib} GiB: scan + signature`, dir, { note: 'default policy (warn)' }));

opensslSha256(weights); // warm
let best = Number.POSITIVE_INFINITY;
let ssl = Number.POSITIVE_INFINITY;
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  const v = await verifyModelFolder(dir, { keys: [{ name: 'bench', pem: pub }], identities: [] });
  best = Math.min(best, (performance.now() - t0) / 1000);
  if (v.status !== 'verified') throw new Error(`bench folder did not verify: ${v.problems.join('; ')}`);
  ssl = Math.min(ssl, opensslSha256(weights).seconds);
}
const mb = (gib * 2 ** 30) / 2 ** 20;
console.log(
  `\nverify alone (${gib} GiB): ${best.toFixed(2)} s, ${(mb / best).toFixed(0)} MB/s; openssl dgst -sha256 ${ssl.toFixed(2)} s (${(mb / ssl).toFixed(0)} MB/s); ratio ${(best / ssl).toFixed(2)}x`,
);
