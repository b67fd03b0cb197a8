// The stream decoders on real files (test/fixtures/archive/generate_codecs.py: the xz, bzip2, zstd, lz4 and
// gzip tools and Python's lzma/zlib/joblib), read fully and after a partial read, and their bounds.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import zlib from 'node:zlib';
import { measureScan } from '../../bench/lib.js';
import { type Codec, decode } from '../../src/core/formats/archive/codecs.js';
import { scanPaths } from '../../src/core/scan.js';
import { FIXTURES, only, ruleIds, symbols, tempDir } from '../helpers.js';

const DIR = join(FIXTURES, 'archive', 'codecs');
const CODEC: Record<string, Codec> = {
  xz: 'xz',
  lzma: 'lzma',
  bz2: 'bzip2',
  zst: 'zstd',
  lz4: 'lz4',
  gz: 'gzip',
  z: 'zlib',
};
const codecOf = (name: string): Codec => CODEC[name.split('.').pop()!]!;

/** The decoded bytes, the reference being node's own gunzip of the .gz variant. */
const CLEAN = zlib.gunzipSync(readFileSync(join(DIR, 'clean.pkl.gz')));
const LATE = zlib.gunzipSync(readFileSync(join(DIR, 'late.pkl.gz')));

async function* chunks(data: Uint8Array, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function decodeAll(codec: Codec, data: Uint8Array): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of decode(codec, chunks(data))) out.push(c);
  return Buffer.concat(out);
}

const variants = readdirSync(DIR).filter((n) => n.startsWith('clean.pkl.') || n.startsWith('late.pkl.'));

test('every codec decodes real files over 64 KiB to the exact bytes, after a partial read of the same stream too', {
  timeout: 120_000,
}, async () => {
  assert.ok(CLEAN.length > 2_000_000 && LATE.length > 2_000_000);
  assert.equal(variants.length, 16);
  for (const name of variants) {
    const data = readFileSync(join(DIR, name));
    const want = name.startsWith('clean') ? CLEAN : LATE;
    // Partly: the first chunk only, then the consumer stops (a format probe does this).
    for await (const c of decode(codecOf(name), chunks(data))) {
      assert.ok(c.length > 0 && c.length <= want.length, name);
      assert.deepEqual(Buffer.from(c), want.subarray(0, c.length), `${name}: first chunk`);
      break;
    }
    // Fully, twice: a stream left half-read must not hold up the next one.
    for (let k = 0; k < 2; k++)
      assert.ok((await decodeAll(codecOf(name), data)).equals(want), `${name} #${k}`);
  }
});

test('several xz streams decode at once (interleaved reads, an xz inside an xz)', {
  timeout: 60_000,
}, async () => {
  const a = readFileSync(join(DIR, 'clean.pkl.xz'));
  const b = readFileSync(join(DIR, 'late.pkl.py.xz'));
  const ia = decode('xz', chunks(a))[Symbol.asyncIterator]();
  const ib = decode('xz', chunks(b))[Symbol.asyncIterator]();
  const got: Uint8Array[][] = [[], []];
  for (let done = [false, false]; !done[0] || !done[1]; ) {
    for (const [k, it] of [ia, ib].entries()) {
      if (done[k]) continue;
      const r = await it.next();
      if (r.done) done[k] = true;
      else got[k]!.push(r.value);
    }
  }
  assert.ok(Buffer.concat(got[0]!).equals(CLEAN));
  assert.ok(Buffer.concat(got[1]!).equals(LATE));

  const dir = tempDir(after);
  const nested = join(dir, 'late.pkl.xz.xz');
  writeFileSync(nested, storedXz(readFileSync(join(DIR, 'late.pkl.xz'))));
  const f = only(await scanPaths([nested]));
  assert.equal(f.format, 'xz');
  assert.ok(symbols(f, 'MG100').includes('os.system'), JSON.stringify(f.findings));
});

test('real xz, bzip2, zstd, lz4, lzma, gzip and zlib files: clean ones pass, the late payload blocks', {
  timeout: 300_000,
}, async () => {
  const report = await scanPaths([DIR]);
  assert.equal(report.files.length, 17);
  for (const f of report.files) {
    const name = f.path.split('/').pop()!;
    if (name.startsWith('clean')) {
      assert.equal(f.verdict, 'pass', `${name}: ${JSON.stringify(f.findings)}`);
    } else {
      assert.equal(f.verdict, 'block', name);
      assert.ok(symbols(f, 'MG100').includes('os.system'), `${name}: ${JSON.stringify(f.findings)}`);
    }
  }
});

test('xz integrity: a flipped check byte, an unsupported filter and trailing junk are malformed, never clean', async () => {
  const dir = tempDir(after);
  const good = readFileSync(join(DIR, 'clean.pkl.xz'));
  const cases: Array<[string, Buffer]> = [
    // the CRC64 of the block sits just before the index (12-byte footer, 12-byte index for one block)
    ['check.pkl.xz', flip(good, good.length - 12 - 12 - 1)],
    ['junk.pkl.xz', Buffer.concat([good, Buffer.from('not an xz stream')])],
    ['x86.pkl.xz', storedXz(CLEAN, 'x86')],
  ];
  for (const [name, data] of cases) {
    const p = join(dir, name);
    writeFileSync(p, data);
    const f = only(await scanPaths([p]));
    assert.equal(f.verdict, 'incomplete', `${name}: ${JSON.stringify(f.findings)}`);
    assert.ok(ruleIds(f).includes('MG002'), name);
  }
});

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}

/** An xz file holding `data` in LZMA2 stored chunks (no compression), check type none. */
function storedXz(data: Buffer, filter: 'lzma2' | 'x86' = 'lzma2'): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    return b;
  };
  const flags = Buffer.from([0, 0]);
  const header = Buffer.concat([
    Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]),
    flags,
    u32(zlib.crc32(flags)),
  ]);
  // block header: size byte (2 -> 12 bytes), flags (one filter), LZMA2 id 0x21, 1 props byte (dict 4 KiB), pad
  // (with 'x86': two filters, the x86 branch converter 0x04 first)
  const bh = Buffer.from(filter === 'x86' ? [2, 1, 0x04, 0, 0x21, 1, 0, 0] : [2, 0, 0x21, 1, 0, 0, 0, 0]);
  const blockHeader = Buffer.concat([bh, u32(zlib.crc32(bh))]);
  const body: Buffer[] = [];
  for (let i = 0; i < data.length; i += 65536) {
    const c = data.subarray(i, i + 65536);
    body.push(Buffer.from([i === 0 ? 1 : 2, (c.length - 1) >> 8, (c.length - 1) & 0xff]), c);
  }
  body.push(Buffer.from([0]));
  const compressed = Buffer.concat(body);
  const pad = Buffer.alloc((4 - (compressed.length % 4)) % 4);
  const unpadded = blockHeader.length + compressed.length;
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
    out.push(n);
    return Buffer.from(out);
  };
  let index = Buffer.concat([Buffer.from([0]), varint(1), varint(unpadded), varint(data.length)]);
  index = Buffer.concat([index, Buffer.alloc((4 - (index.length % 4)) % 4)]);
  index = Buffer.concat([index, u32(zlib.crc32(index))]);
  const back = Buffer.concat([u32(index.length / 4 - 1), flags]);
  const footer = Buffer.concat([u32(zlib.crc32(back)), back, Buffer.from('YZ')]);
  return Buffer.concat([header, blockHeader, compressed, pad, index, footer]);
}

/** A zstd frame (8 MiB window) of `blocks` RLE blocks of `size` zero bytes each. */
function zstdRle(size: number, blocks: number): Buffer {
  const out = Buffer.alloc(6 + 4 * blocks);
  out.set([0x28, 0xb5, 0x2f, 0xfd, 0x00, 13 << 3]);
  for (let k = 0; k < blocks; k++) {
    const v = size * 8 + (1 << 1) + (k === blocks - 1 ? 1 : 0);
    out.writeUIntLE(v, 6 + 4 * k, 3);
    out[6 + 4 * k + 3] = 0;
  }
  return out;
}

test('zstd bombs decode in bounded memory (child process peak RSS) and never pass', {
  timeout: 300_000,
}, async () => {
  const dir = tempDir(after);
  // 8 GiB of zeros: in 128 KiB RLE blocks (what the zstd tool writes, 256 KB), and in 2 MiB RLE blocks
  // (larger than zstd allows, which fzstd decoded anyway: 16 KB).
  for (const [name, size] of [
    ['bomb.pkl.zst', 128 * 1024],
    ['bigblocks.pkl.zst', 2 ** 21 - 1],
  ] as const) {
    const p = join(dir, name);
    writeFileSync(p, zstdRle(size, Math.ceil((8 * 2 ** 30) / size)));
    const r = await measureScan([p]);
    const grown = (r.peakRss - r.baseRss) / 2 ** 20;
    assert.ok(grown < 200, `${name}: peak RSS grew by ${grown.toFixed(0)} MB`);
    assert.notEqual(r.verdict, 'pass', name);
    assert.notEqual(r.verdict, 'warn', name);
    assert.ok(!r.rules.includes('MG003'), `${name}: no internal error (rules ${r.rules})`);
  }
});

test('lzma alone has no magic: a header the decoders reject at once is not lzma, a cut stream still is', async () => {
  const dir = tempDir(after);
  const good = readFileSync(join(DIR, 'clean.pkl.lzma'));
  // The same 13-byte header, then range-coder data whose first symbol is a match: liblzma (and Python's
  // lzma, hence joblib) fail before delivering a byte, so no loader sees an LZMA stream here.
  const rejected = Buffer.concat([
    good.subarray(0, 13),
    Buffer.from([0, 0xff, 0xff, 0xff, 0xf0]),
    Buffer.alloc(64, 0xa5),
  ]);
  const p1 = join(dir, 'rejected.pkl.lzma');
  writeFileSync(p1, rejected);
  const f1 = only(await scanPaths([p1]));
  assert.notEqual(f1.format, 'lzma', JSON.stringify(f1));
  // Cut in half: Python decodes and hands over the first part before the end is noticed.
  const p2 = join(dir, 'cut.pkl.lzma');
  writeFileSync(p2, good.subarray(0, Math.floor(good.length / 2)));
  const f2 = only(await scanPaths([p2]));
  assert.equal(f2.format, 'lzma');
  assert.notEqual(f2.verdict, 'pass');
});
