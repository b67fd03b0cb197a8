// gzip (RFC 1952, multi-member) and zlib (RFC 1950) framing around node:zlib's raw inflater, so that the
// exact end of the compressed data is known: bytes after the last member are not "corrupt data" but a
// hiding place, reported through `onTrailing(offset)` and scanned by the caller.
import zlib from 'node:zlib';
import { Pull } from './pull.js';

export interface FramedOptions {
  /** Called with the input offset where non-compressed trailing data starts. */
  onTrailing?: (offset: number) => void;
}

/** Inflates one raw deflate stream from `p`, leaving `p` just after it. */
async function* inflateOne(p: Pull): AsyncIterable<Uint8Array> {
  const t = zlib.createInflateRaw();
  const q: Uint8Array[] = [];
  let failure: unknown;
  let ended = false;
  t.on('data', (c: Uint8Array) => q.push(c));
  t.on('error', (e: unknown) => {
    failure = e;
  });
  t.on('end', () => {
    ended = true;
  });
  let fed = 0;
  // A write's (or end's) callback is not called once the inflater has failed: wait for either.
  let closed = false;
  const waiters = new Set<() => void>();
  const release = () => {
    for (const w of waiters) w();
    waiters.clear();
  };
  t.on('error', () => {
    closed = true;
    release();
  });
  t.on('close', () => {
    closed = true;
    release();
  });
  const settle = (start: (done: () => void) => void) =>
    new Promise<void>((resolve) => {
      if (closed) return resolve();
      const done = () => {
        waiters.delete(done);
        resolve();
      };
      waiters.add(done);
      start(done);
    });
  try {
    for (;;) {
      const chunk = await p.some(64 * 1024);
      if (!chunk) {
        await settle((d) => t.end(d));
        while (q.length > 0) yield q.shift()!;
        if (failure) throw failure;
        if (!ended && t.bytesWritten === fed) throw new Error('unexpected end of file');
        return;
      }
      fed += chunk.length;
      await settle((d) => t.write(Buffer.from(chunk), () => d()));
      while (q.length > 0) yield q.shift()!;
      if (failure) throw failure;
      if (t.bytesWritten < fed || ended) {
        // The deflate stream ended inside this chunk: give back what it did not consume.
        p.unread(fed - t.bytesWritten);
        await settle((d) => t.end(d));
        while (q.length > 0) yield q.shift()!;
        return;
      }
    }
  } finally {
    t.destroy();
  }
}

async function skipGzipHeader(p: Pull): Promise<void> {
  const h = await p.take(10, 'gzip header');
  if (h[0] !== 0x1f || h[1] !== 0x8b || h[2] !== 8) throw new Error('bad gzip header');
  const flg = h[3]!;
  if (flg & 0x04) {
    const x = await p.take(2, 'gzip extra length');
    await p.take(x[0]! | (x[1]! << 8), 'gzip extra field');
  }
  for (const bit of [0x08, 0x10]) {
    if (flg & bit) {
      for (;;) {
        const b = await p.byte();
        if (b === undefined) throw new Error('truncated gzip header');
        if (b === 0) break;
      }
    }
  }
  if (flg & 0x02) await p.take(2, 'gzip header crc');
}

export async function* decodeGzip(
  input: AsyncIterable<Uint8Array>,
  opts: FramedOptions = {},
): AsyncIterable<Uint8Array> {
  const p = new Pull(input);
  for (;;) {
    await skipGzipHeader(p);
    yield* inflateOne(p);
    await p.take(8, 'gzip trailer');
    // Python's gzip reader skips zero padding between members.
    while ((await p.ensure(1)) && (await peekZero(p))) await p.byte();
    if (await p.atEnd()) return;
    const two = await p.ensure(2);
    const head = two ? await p.take(2, 'gzip magic') : new Uint8Array(0);
    if (head[0] === 0x1f && head[1] === 0x8b) {
      p.unread(2);
      continue;
    }
    p.unread(head.length);
    opts.onTrailing?.(p.consumed);
    return;
  }
}

async function peekZero(p: Pull): Promise<boolean> {
  const b = await p.take(1, 'byte');
  p.unread(1);
  return b[0] === 0;
}

export async function* decodeZlib(
  input: AsyncIterable<Uint8Array>,
  opts: FramedOptions = {},
): AsyncIterable<Uint8Array> {
  const p = new Pull(input);
  const h = await p.take(2, 'zlib header');
  if ((h[0]! & 0x0f) !== 8 || ((h[0]! << 8) | h[1]!) % 31 !== 0) throw new Error('bad zlib header');
  if (h[1]! & 0x20) throw new Error('zlib preset dictionary');
  yield* inflateOne(p);
  await p.take(4, 'zlib checksum');
  if (!(await p.atEnd())) opts.onTrailing?.(p.consumed);
}
