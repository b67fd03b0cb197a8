// Streaming decoders for the compression formats modelgate unwraps, and the budget wrapper every decoded
// stream goes through. Each decoder takes the compressed bytes as an async iterable and yields the decoded
// bytes chunk by chunk, so nothing is held whole in memory.
//
// Codec choices (Node 20 has deflate/zlib/gzip/brotli only):
//   - deflate, zlib, gzip: node:zlib streaming transforms.
//   - bzip2: `unbzip2-stream` (pure JS, streaming; the de-facto bzip2 stream decoder on npm).
//   - xz: our own streaming decoder in ./xz.ts (the container around LZMA2, on the LZMA decoder of ./lzma.ts).
//   - lzma (the legacy "alone" format Python's lzma.FORMAT_ALONE and joblib's `.lzma` write): our own
//     streaming LZMA decoder in ./lzma.ts (no well-kept streaming package exists; the ones on npm decode a
//     whole buffer, which a bomb turns into an out-of-memory crash).
//   - lz4 frame: our own streaming decoder in ./lz4.ts (the format is a few dozen lines; the npm
//     packages are either native or whole-buffer).
//   - zstd: `fzstd` (pure JS, by the author of fflate), given one block at a time by ./zstd.ts.
import { Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
// Static imports (bundled into dist/ by esbuild): the action runs from dist/ alone, with no node_modules.
import bitIterator from 'unbzip2-stream/lib/bit_iterator.js';
import bz2 from 'unbzip2-stream/lib/bzip2.js';
import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import type { ByteSource } from '../../source.js';
import { decodeGzip, decodeZlib, type FramedOptions } from './framed.js';
import { decodeLz4Frame } from './lz4.js';
import { decodeLzmaAlone } from './lzma.js';
import { decodeXz } from './xz.js';
import { decodeZstd } from './zstd.js';

export type Codec = 'deflate-raw' | 'zlib' | 'gzip' | 'bzip2' | 'xz' | 'lzma' | 'lz4' | 'zstd';

/** Decodes `input` with `codec`, yielding decoded chunks. */
export function decode(
  codec: Codec,
  input: AsyncIterable<Uint8Array>,
  opts: FramedOptions = {},
): AsyncIterable<Uint8Array> {
  switch (codec) {
    case 'deflate-raw':
      return viaTransform(input, zlib.createInflateRaw());
    case 'zlib':
      return decodeZlib(input, opts);
    case 'gzip':
      return decodeGzip(input, opts);
    case 'bzip2':
      return bunzip2(input);
    case 'xz':
      return decodeXz(input);
    case 'lzma':
      return decodeLzmaAlone(input);
    case 'lz4':
      return decodeLz4Frame(input);
    case 'zstd':
      return decodeZstd(input);
  }
}

async function* viaTransform(input: AsyncIterable<Uint8Array>, t: Transform): AsyncIterable<Uint8Array> {
  // Output is collected from 'data' events so that what was decoded before an error (trailing garbage
  // after a gzip member, a truncated stream) is still delivered before the error is raised.
  const queue: Uint8Array[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  t.on('data', (c: Uint8Array) => {
    queue.push(c);
    if (queue.length > 4) t.pause();
    signal();
  });
  t.on('error', (e: unknown) => {
    failure = e;
    signal();
  });
  t.on('end', () => {
    ended = true;
    signal();
  });
  const src = Readable.from(input, { objectMode: false });
  src.on('error', (e) => t.destroy(e));
  src.pipe(t);
  try {
    for (;;) {
      if (queue.length > 0) {
        yield queue.shift()!;
        if (queue.length === 0 && t.isPaused()) t.resume();
        continue;
      }
      if (failure) throw failure;
      if (ended) return;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
  } finally {
    src.destroy();
    t.destroy();
  }
}

async function* bunzip2(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  // The block decoder of unbzip2-stream (lib/bzip2.js), driven here: its own stream wrapper collects each
  // block's output as an array of JS numbers (8 bytes per output byte, up to ~45 MB of output per block),
  // so we collect into byte chunks instead and yield after every block, where the budget is checked.
  const it = input[Symbol.asyncIterator]();
  const queue: Uint8Array[] = [];
  let buffered = 0;
  let ended = false;
  let reader: ReturnType<typeof bitIterator> | undefined;
  const read = () => reader?.bytesRead ?? 0;
  const fill = async (need: number) => {
    while (!ended && buffered - read() < need) {
      const r = await it.next();
      if (r.done) ended = true;
      else if (r.value.length > 0) {
        queue.push(r.value);
        buffered += r.value.length;
      }
    }
  };
  let blockSize = 0;
  let crc = 0;
  let buf = new Int32Array(0);
  for (;;) {
    // A whole compressed block must be buffered: at most ~1.01 x the block size plus a margin.
    await fill(blockSize ? 25_000 + 101_000 * blockSize : 4);
    if (blockSize === 0 && buffered - read() <= 0 && ended) return;
    // The bit reader takes its first buffer when it is created.
    reader ??= bitIterator(() => {
      const b = queue.shift();
      if (!b) throw new Error('bzip2: unexpected end of data');
      return b;
    });
    const bits = reader;
    if (blockSize === 0) {
      blockSize = bz2.header(bits);
      if (buf.length !== 100_000 * blockSize) buf = new Int32Array(100_000 * blockSize);
      crc = 0;
      continue;
    }
    const chunks: Uint8Array[] = [];
    let cur = new Uint8Array(1 << 16);
    let n = 0;
    const next = bz2.decompress(
      bits,
      (b) => {
        cur[n++] = b;
        if (n === cur.length) {
          chunks.push(cur);
          cur = new Uint8Array(1 << 16);
          n = 0;
        }
      },
      buf,
      buf.length,
      crc,
    );
    if (n > 0) chunks.push(cur.subarray(0, n));
    yield* chunks;
    if (next === null) {
      blockSize = 0; // end of this bzip2 stream; another may follow (pbzip2)
      if (ended && buffered - read() <= 0) return;
    } else crc = next;
  }
}

/**
 * Past this many decoded bytes the ratio check applies: small, highly compressible data is fine (a 16.8 MB
 * DICOM volume of nibabel's test data gzips 400:1), and the total stays charged to maxDecompressedBytes.
 */
export const RATIO_FLOOR = 32 * 2 ** 20;

export interface BoundOptions {
  /** Where the stream sits, for the bomb finding (relative to ctx). */
  member?: string;
  /** Compressed size when known upfront (zip members); otherwise the bytes read from `counter`. */
  compressedSize?: number;
  /** Live count of compressed bytes consumed so far (for streams whose size is unknown). */
  counter?: { n: number };
  /** Called with the decoded byte count at the end. */
  onEnd?: (decoded: number) => void;
  /** Called with each decoded chunk (CRC checks). */
  onChunk?: (chunk: Uint8Array) => void;
}

/**
 * Charges decoded bytes to the file's maxDecompressedBytes budget and enforces maxCompressionRatio. A bomb
 * is reported (MG210) and stops this stream with a BudgetExceededError (the engine's MG001, incomplete).
 */
export async function* bounded(
  ctx: AnalysisContext,
  input: AsyncIterable<Uint8Array>,
  opts: BoundOptions,
): AsyncIterable<Uint8Array> {
  let out = 0;
  const ratio = ctx.limits.maxCompressionRatio;
  const loc = opts.member ? { member: opts.member } : {};
  const it = input[Symbol.asyncIterator]();
  try {
    for (;;) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await it.next();
      } catch (err) {
        if (err instanceof BudgetExceededError) throw err;
        const msg = err instanceof Error ? err.message : String(err);
        ctx.malformed(
          `Corrupt compressed data${opts.member ? ` in "${opts.member}"` : ''}: ${msg}. Decoding stopped there; the rest was not analysed.`,
          loc,
        );
        return;
      }
      if (r.done) break;
      const chunk = r.value;
      out += chunk.length;
      const compressed = opts.compressedSize ?? opts.counter?.n ?? 0;
      if (out > RATIO_FLOOR && out > Math.max(1, compressed) * ratio) {
        const msg = `Decompression bomb: ${out} bytes decoded from ${compressed} compressed bytes (ratio over ${ratio}); decoding stopped.`;
        ctx.report('MG210', msg, loc);
        throw new BudgetExceededError('maxCompressionRatio', `${out} / ${compressed} > ${ratio}`);
      }
      try {
        ctx.budget.consume('maxDecompressedBytes', chunk.length);
      } catch (err) {
        ctx.report(
          'MG210',
          `Decompressed content exceeds the budget of ${ctx.limits.maxDecompressedBytes} bytes; decoding stopped.`,
          opts.member ? { member: opts.member } : {},
        );
        throw err;
      }
      ctx.budget.checkTime();
      opts.onChunk?.(chunk);
      yield chunk;
    }
  } finally {
    // Close the decoder when the consumer stops early (a probe, a budget stop).
    await it.return?.();
  }
  opts.onEnd?.(out);
}

/** Wraps an input iterable, counting the bytes that pass. */
export async function* counting(
  input: AsyncIterable<Uint8Array>,
  counter: { n: number },
): AsyncIterable<Uint8Array> {
  for await (const c of input) {
    counter.n += c.length;
    yield c;
  }
}

/**
 * Wraps a decoded, stream-only source to remember whether some reader consumed it to the end. After the
 * nested scan, `drain()` decodes whatever nobody read (discarding it) so that a bomb is found even when
 * no analyzer wanted the content: the loader would decode all of it.
 */
export function tracked(src: ByteSource): {
  source: ByteSource;
  drain(ctx: AnalysisContext, member?: string): Promise<void>;
} {
  let complete = false;
  const source: ByteSource = {
    name: src.name,
    size: src.size,
    random: src.random,
    async *stream(start?: number, end?: number) {
      for await (const c of src.stream(start, end)) yield c;
      if ((start ?? 0) === 0 && (end === undefined || end >= (src.size ?? Number.POSITIVE_INFINITY)))
        complete = true;
    },
  };
  return {
    source,
    async drain(ctx, member) {
      if (complete || src.random) return;
      try {
        for await (const _ of src.stream()) {
          // decoded and discarded; `bounded` charges the budget and checks the ratio
        }
      } catch (err) {
        if (err instanceof BudgetExceededError) ctx.budgetExceeded(err, member ? { member } : {});
        else throw err;
      }
    },
  };
}
