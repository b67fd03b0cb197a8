import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteReader } from '../../src/core/reader.js';
import { type ByteSource, rangeStream } from '../../src/core/source.js';

const DATA = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);

/** A random-access source of DATA read in chunks of 100 bytes, logging where each read starts. */
function source(readAhead: boolean, failAt?: number) {
  const reads: number[] = [];
  const random = {
    size: DATA.length,
    readAhead,
    preferredRead: () => 100,
    read: async (offset: number, length: number) => {
      reads.push(offset);
      if (offset === failAt) throw new Error(`disk error at ${offset}`);
      return DATA.slice(offset, offset + length);
    },
  };
  const src: ByteSource = {
    name: 'ra',
    size: DATA.length,
    random,
    stream: (s = 0, e = DATA.length) => rangeStream(random, s, e),
  };
  return { src, reads };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('a reader reads the next chunk ahead once two reads were in order, on sources that allow it', async () => {
  const { src, reads } = source(true);
  const r = new ByteReader(src);
  assert.ok(await r.ensure(100));
  assert.equal(hex(r.take(100)), hex(DATA.subarray(0, 100)));
  assert.deepEqual(reads, [0]);
  assert.ok(await r.ensure(100));
  // The second read in order starts the third before it is asked for.
  assert.deepEqual(reads, [0, 100, 200]);
  assert.equal(hex(r.take(100)), hex(DATA.subarray(100, 200)));
  assert.ok(await r.ensure(100));
  assert.deepEqual(reads, [0, 100, 200, 300], 'the chunk read ahead is used, the next one started');
  assert.equal(hex(r.take(100)), hex(DATA.subarray(200, 300)));
  // A skip drops the chunk read ahead and starts over: no read ahead until reads are in order again.
  assert.equal(await r.skip(250), 250);
  assert.ok(await r.ensure(10));
  assert.deepEqual(reads, [0, 100, 200, 300, 550]);
  assert.equal(hex(r.take(10)), hex(DATA.subarray(550, 560)));
  assert.ok(await r.ensure(200));
  assert.equal(hex(r.take(200)), hex(DATA.subarray(560, 760)));
  // 90 bytes were in the window: the missing 110 are read (in order again), and the chunk after them ahead.
  assert.deepEqual(reads, [0, 100, 200, 300, 550, 650, 760]);
  // To the end: nothing is read past it.
  assert.equal(await r.skip(1000), 240);
  assert.equal(await r.ensure(1), false);
  assert.ok(reads.every((o) => o < DATA.length));
});

test('no read ahead where a read is a download, nor after exact reads', async () => {
  const plain = source(false);
  const r = new ByteReader(plain.src);
  for (let p = 0; p < 500; p += 100) {
    assert.ok(await r.ensure(100));
    r.take(100);
  }
  assert.deepEqual(plain.reads, [0, 100, 200, 300, 400]);
  const exact = source(true);
  const e = new ByteReader(exact.src);
  for (let p = 0; p < 500; p += 8) {
    assert.ok(await e.ensure(8, true));
    assert.equal(hex(e.take(8)), hex(DATA.subarray(p, p + 8)));
  }
  assert.ok(exact.reads.every((o, i) => o === i * 8));
});

test('a failed read ahead is seen only if the reader gets there', async () => {
  // Skipped past: dropped without an unhandled rejection.
  const skipped = source(true, 200);
  const r = new ByteReader(skipped.src);
  await r.ensure(100);
  r.take(100);
  await r.ensure(100);
  assert.deepEqual(skipped.reads, [0, 100, 200]);
  await r.skip(300);
  assert.ok(await r.ensure(10));
  assert.equal(hex(r.take(10)), hex(DATA.subarray(400, 410)));
  // Reached: the error is the read's.
  const reached = source(true, 200);
  const q = new ByteReader(reached.src);
  await q.ensure(100);
  q.take(100);
  await q.ensure(100);
  q.take(100);
  await assert.rejects(q.ensure(1), /disk error at 200/);
});
