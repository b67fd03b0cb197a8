// Compressed wrappers, tar, 7z, zip-in-zip and npz (test/fixtures/archive/generate.py, real numpy/joblib/
// torch/tar/7z files), plus bombs and deep nesting generated here.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only, ruleIds, symbols, tempDir } from '../helpers.js';
import { makeZip } from '../zip/zipwriter.js';

const B = join(FIXTURES, 'archive', 'benign');
const M = join(FIXTURES, 'archive', 'malicious');

async function scan(path: string, limits: Partial<typeof DEFAULT_POLICY.limits> = {}): Promise<FileReport> {
  const policy = { ...DEFAULT_POLICY, limits: { ...DEFAULT_POLICY.limits, ...limits } };
  return only(await scanPaths([path], { policy }));
}

function lowOnly(f: FileReport): boolean {
  return f.findings.every((x) => x.severity === 'low' || x.severity === 'none');
}

const PAYLOAD = Buffer.from(
  // protocol-2 pickle: os.system('echo modelgate-payload-ran')
  '\x80\x02cposix\nsystem\nq\x00X\x1a\x00\x00\x00echo modelgate-payload-ranq\x01\x85q\x02Rq\x03.',
  'latin1',
);

test('benign npz, gzip-wrapped checkpoint, tar and plain zip have nothing above low', async () => {
  for (const [name, format] of [
    ['arrays.npz', 'numpy-npz'],
    ['arrays_compressed.npz', 'numpy-npz'],
    ['state_dict.pt.gz', 'gzip'],
    ['weights.tar', 'tar'],
    ['plain.zip', 'zip'],
  ] as const) {
    const f = await scan(join(B, name));
    assert.equal(f.format, format, name);
    assert.ok(lowOnly(f), `${name}: ${JSON.stringify(f.findings)}`);
    assert.notEqual(f.verdict, 'incomplete', name);
  }
});

test('compressed joblib with a payload is decoded and scanned, for every codec', async () => {
  for (const [name, format] of [
    ['model.joblib.z', 'zlib'],
    ['model.joblib.gz', 'gzip'],
    ['model.joblib.bz2', 'bzip2'],
    ['model.joblib.xz', 'xz'],
    ['model.joblib.lzma', 'lzma'],
    ['model.joblib.lz4', 'lz4'],
    ['model.pkl.zst', 'zstd'],
  ] as const) {
    const f = await scan(join(M, name));
    assert.equal(f.format, format, name);
    assert.ok(symbols(f, 'MG100').includes('os.system'), `${name}: ${JSON.stringify(f.findings)}`);
    assert.equal(f.verdict, 'block');
  }
});

test('tar: wrapped pickle, tar.gz of a malicious checkpoint, links and traversal names, trailing data', async () => {
  const b = await scan(join(M, 'bundle.tar'));
  assert.equal(b.format, 'tar');
  assert.ok(b.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'bundle/model.pkl'));

  const c = await scan(join(M, 'checkpoint.tar.gz'));
  assert.ok(
    c.findings.some(
      (x) =>
        x.ruleId === 'MG100' &&
        x.location.member === 'checkpoint.tar!ckpt/pytorch_model.bin!archive/data.pkl',
    ),
    JSON.stringify(c.findings),
  );

  const l = await scan(join(M, 'links.tar'));
  assert.ok(l.findings.some((x) => x.ruleId === 'MG208' && x.location.member === '../../etc/evil.pkl'));
  assert.ok(l.findings.some((x) => x.ruleId === 'MG208' && x.location.member === '/abs/path.txt'));
  assert.equal(l.findings.filter((x) => x.ruleId === 'MG209').length, 2, 'symlink and hard link');
  assert.ok(symbols(l, 'MG100').includes('os.system'));

  const t = await scan(join(M, 'tar_then_pickle.tar'));
  assert.ok(ruleIds(t).includes('MG213'));
  assert.ok(symbols(t, 'MG100').includes('os.system'));
});

test('7z is detected and reported incomplete', async () => {
  const f = await scan(join(M, 'model.7z'));
  assert.equal(f.format, '7z');
  assert.ok(ruleIds(f).includes('MG211'));
  assert.equal(f.verdict, 'incomplete');
});

test('zip in zip in zip, names and symlinks in a plain zip', async () => {
  const n = await scan(join(M, 'nested.zip'));
  assert.ok(
    n.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'mid.zip!inner.zip!payload.pkl'),
  );
  assert.ok(ruleIds(n).includes('MG214'));

  const z = await scan(join(M, 'zip_names.zip'));
  const names = z.findings.filter((x) => x.ruleId === 'MG208').map((x) => x.location.member);
  assert.deepEqual(names.sort(), ['../../evil.pkl', 'C:/Windows/x.txt', 'dir\\file.txt']);
  assert.ok(z.findings.some((x) => x.ruleId === 'MG209' && x.location.member === 'link'));
  assert.ok(
    z.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'notes.txt'),
    'pickle named .txt',
  );
});

test('npz: object array payload, raw pickle member', async () => {
  const o = await scan(join(M, 'object_array.npz'));
  assert.equal(o.format, 'numpy-npz');
  assert.ok(o.findings.some((x) => x.ruleId === 'MG100' && x.location.member === 'obj.npy'));
  const p = await scan(join(M, 'pickle_member.npz'));
  assert.ok(p.findings.some((x) => x.ruleId === 'MG330' && x.location.member === 'c.pkl'));
  assert.ok(symbols(p, 'MG100').includes('os.system'));
});

const dir = tempDir(after, 'modelgate-archive-');

test('a deflate bomb in a zip is a finding and stops as incomplete', async () => {
  const zeros = Buffer.alloc(64 * 2 ** 20);
  const path = join(dir, 'bomb.zip');
  writeFileSync(path, makeZip([{ name: 'payload.bin', data: zeros, method: 8 }]));
  const f = await scan(path);
  assert.ok(ruleIds(f).includes('MG210'), JSON.stringify(f.findings));
  assert.ok(ruleIds(f).includes('MG001'));
  assert.equal(f.verdict, 'block');
});

test('a gzip bomb and the total decompression budget', async () => {
  const path = join(dir, 'bomb.pkl.gz');
  writeFileSync(path, zlib.gzipSync(Buffer.alloc(64 * 2 ** 20)));
  const f = await scan(path);
  assert.ok(ruleIds(f).includes('MG210'));
  assert.ok(f.findings.some((x) => x.ruleId === 'MG001' && x.message.includes('maxCompressionRatio')));

  // within the ratio, but over a small total budget
  const p2 = join(dir, 'big.pkl.gz');
  writeFileSync(p2, zlib.gzipSync(Buffer.concat([PAYLOAD, Buffer.alloc(2 * 2 ** 20, 7)])));
  const g = await scan(p2, { maxDecompressedBytes: 2 ** 20 });
  assert.ok(g.findings.some((x) => x.ruleId === 'MG001' && x.message.includes('maxDecompressedBytes')));
  assert.ok(symbols(g, 'MG100').includes('os.system'), 'what was decoded before the stop is scanned');
});

test('nesting past maxDepth stops as incomplete; within it, the payload is found', async () => {
  let data: Buffer = Buffer.from(PAYLOAD);
  let name = 'payload.pkl';
  for (let i = 0; i < 12; i++) {
    data = i % 2 === 0 ? makeZip([{ name, data, method: 8 }]) : zlib.gzipSync(data);
    name = i % 2 === 0 ? `level${i}.zip` : `level${i}.zip.gz`;
  }
  const path = join(dir, 'deep.zip.gz');
  writeFileSync(path, data);
  const f = await scan(path);
  assert.ok(
    f.findings.some((x) => x.ruleId === 'MG001' && x.message.includes('maxDepth')),
    JSON.stringify(f.findings),
  );
  assert.notEqual(f.verdict, 'pass');
  const shallow = await scan(path, { maxDepth: 20 });
  assert.ok(symbols(shallow, 'MG100').includes('os.system'));
});

test('entry budget: an archive over maxEntries is incomplete', async () => {
  const members = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from('x') }));
  const path = join(dir, 'many.zip');
  writeFileSync(path, makeZip(members));
  const f = await scan(path, { maxEntries: 10 });
  assert.ok(f.findings.some((x) => x.ruleId === 'MG001' && x.message.includes('maxEntries')));
  assert.equal(f.verdict, 'incomplete');
});

test('data after the end of a gzip or zlib stream is reported and scanned; gzip members are all decoded', async () => {
  const benign = Buffer.from('\x80\x02}q\x00.', 'latin1');
  const g = join(dir, 'trail.pkl.gz');
  writeFileSync(g, Buffer.concat([zlib.gzipSync(benign), PAYLOAD]));
  const f = await scan(g);
  assert.ok(ruleIds(f).includes('MG213'), JSON.stringify(f.findings));
  assert.ok(
    f.findings.some((x) => x.ruleId === 'MG100' && x.location.member?.startsWith('gzip-trailing-data@')),
  );

  const z = join(dir, 'trail.joblib.z');
  writeFileSync(z, Buffer.concat([zlib.deflateSync(benign), PAYLOAD]));
  const zf = await scan(z);
  assert.ok(ruleIds(zf).includes('MG213'));
  assert.ok(symbols(zf, 'MG100').includes('os.system'));

  const m = join(dir, 'multi.pkl.gz');
  writeFileSync(m, Buffer.concat([zlib.gzipSync(benign), zlib.gzipSync(PAYLOAD)]));
  const mf = await scan(m);
  assert.ok(!ruleIds(mf).includes('MG213'), 'a second gzip member is not trailing data');
  assert.ok(symbols(mf, 'MG100').includes('os.system'), 'the second member is decoded too');
});
