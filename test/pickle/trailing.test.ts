// Bytes after the last pickle stream are searched for another stream to their end: a pickle behind more
// padding than any fixed window must still be found (pickle.load called again in a loop would run it).
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import { scanPaths } from '../../src/core/scan.js';
import { only, ruleIds, symbols, tempDir } from '../helpers.js';

// protocol 2: {} and os.system('echo modelgate-payload-ran')
const BENIGN = Buffer.from('\x80\x02}q\x00.', 'latin1');
const EVIL = Buffer.from(
  '\x80\x02cposix\nsystem\nq\x00X\x1a\x00\x00\x00echo modelgate-payload-ranq\x01\x85q\x02Rq\x03.',
  'latin1',
);

const dir = tempDir(after, 'modelgate-trailing-');

test('a pickle stream after 64 MiB (file) or 16 MiB (gzip stream) of padding is found and blocks', {
  timeout: 300_000,
}, async () => {
  const pad = 64 * 2 ** 20;
  // A sparse file: the padding costs no disk.
  const p = join(dir, 'padded.pkl');
  const fd = openSync(p, 'w');
  writeSync(fd, BENIGN, 0, BENIGN.length, 0);
  writeSync(fd, EVIL, 0, EVIL.length, BENIGN.length + pad);
  closeSync(fd);
  const f = only(await scanPaths([p]));
  assert.equal(f.verdict, 'block', JSON.stringify(f.findings));
  assert.ok(symbols(f, 'MG100').includes('os.system'), JSON.stringify(f.findings));
  assert.ok(ruleIds(f).includes('MG110'), 'the second stream is named');

  const g = join(dir, 'padded.pkl.gz');
  const gz = zlib.createGzip();
  const chunks: Buffer[] = [];
  gz.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => gz.on('end', r));
  gz.write(BENIGN);
  // Incompressible padding (zeros would trip the ratio budget), with no byte a stream could start with.
  const noise = Buffer.alloc(2 ** 20);
  for (let k = 0; k < 16; k++) {
    randomFillSync(noise);
    for (let i = 0; i < noise.length; i++) noise[i] = 0xa0 | (noise[i]! & 0x3f);
    gz.write(Buffer.from(noise));
  }
  gz.end(EVIL);
  await done;
  writeFileSync(g, Buffer.concat(chunks));
  const h = only(await scanPaths([g]));
  assert.equal(h.verdict, 'block', JSON.stringify(h.findings));
  assert.ok(symbols(h, 'MG100').includes('os.system'), JSON.stringify(h.findings));
});

test('padding with no stream after it is reported as data (MG111), not a finding that blocks', async () => {
  const p = join(dir, 'tail.pkl');
  const fd = openSync(p, 'w');
  writeSync(fd, BENIGN, 0, BENIGN.length, 0);
  writeSync(fd, Buffer.from([1]), 0, 1, BENIGN.length + 4 * 2 ** 20);
  closeSync(fd);
  const f = only(await scanPaths([p]));
  assert.ok(ruleIds(f).includes('MG111'), JSON.stringify(f.findings));
  assert.ok(!ruleIds(f).includes('MG100'));
  assert.ok(
    f.findings.some((x) => x.ruleId === 'MG111' && x.message.includes(`${4 * 2 ** 20 + 1} bytes`)),
    JSON.stringify(f.findings),
  );
});
