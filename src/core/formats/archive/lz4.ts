// Streaming LZ4 frame decoder (lz4 frame format 1.6: magic 04 22 4D 18, linked or independent blocks,
// optional block and content checksums which are skipped, skippable frames, concatenated frames). Memory:
// one block (at most 4 MiB, the format's maximum) plus a 64 KiB history window.
import { Pull, u32le } from './pull.js';

const MAGIC = 0x184d2204;
const WINDOW = 64 * 1024;
const BLOCK_MAX = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];

export async function* decodeLz4Frame(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const p = new Pull(input);
  let frames = 0;
  while (!(await p.atEnd())) {
    const magic = u32le(await p.take(4, 'lz4 magic'), 0);
    if (magic >>> 4 === 0x184d2a5) {
      const n = u32le(await p.take(4, 'lz4 skippable size'), 0);
      await p.take(n, 'lz4 skippable frame');
      continue;
    }
    if (magic !== MAGIC) {
      if (frames > 0) throw new Error(`lz4: ${p.consumed - 4} bytes of trailing data after the last frame`);
      throw new Error('lz4: bad frame magic');
    }
    frames++;
    const hdr = await p.take(2, 'lz4 frame descriptor');
    const flg = hdr[0]!;
    const bd = hdr[1]!;
    if (flg >> 6 !== 1) throw new Error('lz4: unsupported frame version');
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictId = (flg & 0x01) !== 0;
    const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
    if (blockMax === 0) throw new Error('lz4: bad block maximum size');
    await p.take((contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1, 'lz4 frame descriptor');
    let history = new Uint8Array(0);
    for (;;) {
      const raw = u32le(await p.take(4, 'lz4 block size'), 0);
      if (raw === 0) break;
      const stored = raw >= 0x80000000;
      const size = raw & 0x7fffffff;
      if (size > blockMax)
        throw new Error(`lz4: block of ${size} bytes exceeds the frame's maximum ${blockMax}`);
      const data = (await p.take(size, 'lz4 block')).slice();
      if (blockChecksum) await p.take(4, 'lz4 block checksum');
      const out = stored ? data : decodeBlock(data, history, blockMax);
      yield out;
      // Keep the last 64 KiB of output for linked blocks.
      if (out.length >= WINDOW) history = out.slice(out.length - WINDOW);
      else {
        const h = new Uint8Array(Math.min(WINDOW, history.length + out.length));
        const keep = h.length - out.length;
        h.set(history.subarray(history.length - keep), 0);
        h.set(out, keep);
        history = h;
      }
    }
    if (contentChecksum) await p.take(4, 'lz4 content checksum');
  }
}

function decodeBlock(src: Uint8Array, history: Uint8Array, max: number): Uint8Array {
  const out = new Uint8Array(max);
  let o = 0;
  let i = 0;
  const h = history.length;
  while (i < src.length) {
    const token = src[i++]!;
    let lit = token >> 4;
    if (lit === 15) {
      for (;;) {
        if (i >= src.length) throw new Error('lz4: truncated literal length');
        const b = src[i++]!;
        lit += b;
        if (b !== 255) break;
      }
    }
    if (i + lit > src.length || o + lit > max) throw new Error('lz4: literal run out of bounds');
    out.set(src.subarray(i, i + lit), o);
    i += lit;
    o += lit;
    if (i >= src.length) break; // last sequence: literals only
    if (i + 2 > src.length) throw new Error('lz4: truncated match offset');
    const off = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (off === 0) throw new Error('lz4: zero match offset');
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      for (;;) {
        if (i >= src.length) throw new Error('lz4: truncated match length');
        const b = src[i++]!;
        len += b;
        if (b !== 255) break;
      }
    }
    if (off > o + h) throw new Error('lz4: match offset before the start of the window');
    if (o + len > max) throw new Error('lz4: match run out of bounds');
    for (let k = 0; k < len; k++) {
      const from = o - off;
      out[o] = from >= 0 ? out[from]! : history[h + from]!;
      o++;
    }
  }
  return out.subarray(0, o);
}
