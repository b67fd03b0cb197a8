// LZMA decoding: the range decoder and the LZMA decoder proper (a straight port of the reference decoder,
// LzmaSpec.cpp in the LZMA SDK), shared by the legacy LZMA "alone" format below (13-byte header: properties,
// dictionary size, uncompressed size or all-ones for "unknown, end marker follows", as written by Python's
// lzma.FORMAT_ALONE and joblib's `.lzma` files) and by the LZMA2 chunks of xz (./xz.ts).
// The decoder is synchronous and decodes into 1 MiB output chunks; the async drivers feed it input and
// yield each chunk, so that the caller's budget can stop a bomb early.
// Memory: the dictionary window (grown as output arrives up to the declared dictionary size, capped at
// 64 MiB; a larger declared dictionary fails only if a match really reaches beyond the cap) plus one
// output chunk.
import { Pull, u32le } from './pull.js';

export const OUT_CHUNK = 1 << 20;
const MAX_WINDOW = 64 * 2 ** 20;
const K_NUM_STATES = 12;
const K_END_POS_MODEL_INDEX = 14;
const K_NUM_FULL_DISTANCES = 128;
const K_MATCH_MIN_LEN = 2;
/** Longest match (2 + 271): the decoder stops while this much room is left in the output chunk. */
const K_MATCH_MAX_LEN = 273;
/** Input kept ahead of the range decoder when more may follow (one symbol reads far fewer bytes). */
const INPUT_MARGIN = 64;

export class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  buf: Uint8Array = new Uint8Array(0);
  i = 0;
  corrupted = false;

  /** Starts decoding `buf` (LZMA2 restarts the range coder for each chunk). */
  reset(buf: Uint8Array): void {
    this.range = 0xffffffff;
    this.code = 0;
    this.buf = buf;
    this.i = 0;
  }

  get left(): number {
    return this.buf.length - this.i;
  }

  next(): number {
    if (this.i >= this.buf.length) throw new Error('lzma: truncated stream');
    return this.buf[this.i++]!;
  }
  init(): void {
    if (this.next() !== 0) this.corrupted = true;
    for (let k = 0; k < 4; k++) this.code = ((this.code << 8) | this.next()) >>> 0;
    if (this.code === this.range) this.corrupted = true;
  }

  private normalize(): void {
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
  }

  bit(probs: Uint16Array, idx: number): number {
    const p = probs[idx]!;
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      probs[idx] = p + ((2048 - p) >>> 5);
      this.range = bound >>> 0;
      b = 0;
    } else {
      probs[idx] = p - (p >>> 5);
      this.code = (this.code - bound) >>> 0;
      this.range = (this.range - bound) >>> 0;
      b = 1;
    }
    this.normalize();
    return b;
  }

  direct(n: number): number {
    let res = 0;
    for (; n > 0; n--) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      res = ((res << 1) | b) >>> 0;
      this.normalize();
    }
    return res;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let k = 0; k < bits; k++) m = (m << 1) + this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverse(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let k = 0; k < bits; k++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) + b;
      sym |= b << k;
    }
    return sym;
  }
}

function probs(n: number): Uint16Array {
  return new Uint16Array(n).fill(1024);
}

class LenDecoder {
  choice = probs(2);
  low = probs(16 << 3);
  mid = probs(16 << 3);
  high = probs(256);
  reset(): void {
    for (const p of [this.choice, this.low, this.mid, this.high]) p.fill(1024);
  }
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

/** Decodes the properties byte (lc, lp, pb) of LZMA and LZMA2. */
export function lzmaProps(d: number): { lc: number; lp: number; pb: number } {
  if (d >= 9 * 5 * 5) throw new Error('lzma: bad properties byte');
  return { lc: d % 9, lp: Math.floor(d / 9) % 5, pb: Math.floor(d / 45) };
}

/**
 * The LZMA decoder state: dictionary window, probabilities, state and repeat distances. `run` decodes
 * symbols into the current output chunk; the owner takes full chunks with `take`.
 */
export class LzmaDecoder {
  private win: Uint8Array;
  private wpos = 0;
  /** Bytes decoded since the last dictionary reset (the LZMA "position"). */
  total = 0;
  private readonly maxWin: number;
  private lc = 0;
  private lp = 0;
  private pb = 0;
  private litProbs = probs(0x300);
  private readonly posSlot = probs(4 << 6);
  private readonly posDecoders = probs(1 + K_NUM_FULL_DISTANCES - K_END_POS_MODEL_INDEX);
  private readonly align = probs(16);
  private readonly isMatch = probs(K_NUM_STATES << 4);
  private readonly isRep = probs(K_NUM_STATES);
  private readonly isRepG0 = probs(K_NUM_STATES);
  private readonly isRepG1 = probs(K_NUM_STATES);
  private readonly isRepG2 = probs(K_NUM_STATES);
  private readonly isRep0Long = probs(K_NUM_STATES << 4);
  private readonly lenDec = new LenDecoder();
  private readonly repLenDec = new LenDecoder();
  private state = 0;
  private rep0 = 0;
  private rep1 = 0;
  private rep2 = 0;
  private rep3 = 0;
  /** The current output chunk and how much of it is filled. */
  out = new Uint8Array(OUT_CHUNK);
  outLen = 0;
  /** Set when `run` met the end marker. */
  ended = false;

  constructor(dictSize: number) {
    this.maxWin = Math.max(4096, Math.min(dictSize, MAX_WINDOW));
    // The window grows with the output (up to maxWin), so a small stream never allocates its whole dictionary.
    this.win = new Uint8Array(Math.min(this.maxWin, 1 << 16));
  }

  setProps(d: number): void {
    const { lc, lp, pb } = lzmaProps(d);
    this.lc = lc;
    this.lp = lp;
    this.pb = pb;
    if (this.litProbs.length !== 0x300 << (lc + lp)) this.litProbs = probs(0x300 << (lc + lp));
  }

  /** Resets probabilities, state and repeat distances (not the dictionary). */
  resetState(): void {
    for (const p of [
      this.litProbs,
      this.posSlot,
      this.posDecoders,
      this.align,
      this.isMatch,
      this.isRep,
      this.isRepG0,
      this.isRepG1,
      this.isRepG2,
      this.isRep0Long,
    ])
      p.fill(1024);
    this.lenDec.reset();
    this.repLenDec.reset();
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  resetDict(): void {
    this.wpos = 0;
    this.total = 0;
  }

  /** True when the output chunk cannot take another match: take it before running again. */
  get full(): boolean {
    return this.outLen > OUT_CHUNK - K_MATCH_MAX_LEN - 1;
  }

  /** The filled part of the output chunk; a fresh chunk is started (the returned one is not reused). */
  take(): Uint8Array {
    const o = this.out.subarray(0, this.outLen);
    this.out = new Uint8Array(OUT_CHUNK);
    this.outLen = 0;
    return o;
  }

  /** Appends uncompressed bytes (an LZMA2 uncompressed chunk) to the window and the output; returns how many. */
  copy(data: Uint8Array): number {
    const n = Math.min(data.length, OUT_CHUNK - this.outLen);
    for (let k = 0; k < n; k++) this.put(data[k]!);
    return n;
  }

  private put(b: number): void {
    this.win[this.wpos++] = b;
    if (this.wpos === this.win.length) this.wrap();
    this.total++;
    this.out[this.outLen++] = b;
  }

  /** At the end of the window: grow it while under the dictionary size (nothing has wrapped yet), else wrap. */
  private wrap(): void {
    if (this.win.length < this.maxWin && this.total + 1 === this.wpos) {
      const grown = new Uint8Array(Math.min(this.maxWin, this.win.length * 2));
      grown.set(this.win);
      this.win = grown;
    } else this.wpos = 0;
  }

  private byteAt(dist: number): number {
    let i = this.wpos - dist;
    if (i < 0) i += this.win.length;
    return this.win[i]!;
  }

  /**
   * Decodes symbols until `limit` bytes were produced, the output chunk is full, the end marker is met
   * (`ended`), or, unless `final`, fewer than INPUT_MARGIN input bytes are left. Returns the bytes produced.
   */
  run(rc: RangeDecoder, limit: number, final: boolean): number {
    const start = this.total;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    const litProbs = this.litProbs;
    const isMatch = this.isMatch;
    let state = this.state;
    try {
      while (this.total - start < limit && !this.full && (final || rc.left >= INPUT_MARGIN)) {
        const total = this.total;
        const posState = total & pbMask;
        if (rc.bit(isMatch, (state << 4) + posState) === 0) {
          const prev = total > 0 ? this.byteAt(1) : 0;
          const base = 0x300 * (((total & lpMask) << lc) + (prev >>> (8 - lc)));
          let sym = 1;
          if (state >= 7) {
            let matchByte = this.byteAt(this.rep0 + 1);
            do {
              const matchBit = (matchByte >>> 7) & 1;
              matchByte <<= 1;
              const b = rc.bit(litProbs, base + ((1 + matchBit) << 8) + sym);
              sym = (sym << 1) | b;
              if (matchBit !== b) break;
            } while (sym < 0x100);
          }
          while (sym < 0x100) sym = (sym << 1) | rc.bit(litProbs, base + sym);
          this.put(sym - 0x100);
          state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
          continue;
        }
        let len: number;
        if (rc.bit(this.isRep, state) !== 0) {
          if (total === 0) throw new Error('lzma: repeated match at the start of the stream');
          if (rc.bit(this.isRepG0, state) === 0) {
            if (rc.bit(this.isRep0Long, (state << 4) + posState) === 0) {
              state = state < 7 ? 9 : 11;
              this.put(this.byteAt(this.rep0 + 1));
              continue;
            }
          } else {
            let dist: number;
            if (rc.bit(this.isRepG1, state) === 0) dist = this.rep1;
            else {
              if (rc.bit(this.isRepG2, state) === 0) dist = this.rep2;
              else {
                dist = this.rep3;
                this.rep3 = this.rep2;
              }
              this.rep2 = this.rep1;
            }
            this.rep1 = this.rep0;
            this.rep0 = dist;
          }
          len = this.repLenDec.decode(rc, posState);
          state = state < 7 ? 8 : 11;
        } else {
          this.rep3 = this.rep2;
          this.rep2 = this.rep1;
          this.rep1 = this.rep0;
          len = this.lenDec.decode(rc, posState);
          state = state < 7 ? 7 : 10;
          const slot = rc.tree(this.posSlot, Math.min(len, 3) << 6, 6);
          if (slot < 4) this.rep0 = slot;
          else {
            const numDirect = (slot >>> 1) - 1;
            let dist = ((2 | (slot & 1)) << numDirect) >>> 0;
            if (slot < K_END_POS_MODEL_INDEX)
              dist = (dist + rc.reverse(this.posDecoders, dist - slot, numDirect)) >>> 0;
            else {
              dist = (dist + ((rc.direct(numDirect - 4) << 4) >>> 0)) >>> 0;
              dist = (dist + rc.reverse(this.align, 0, 4)) >>> 0;
            }
            this.rep0 = dist;
          }
          if (this.rep0 === 0xffffffff) {
            this.ended = true; // end marker
            break;
          }
          if (this.rep0 >= total || this.rep0 >= this.win.length)
            throw new Error('lzma: match distance outside the window');
        }
        len += K_MATCH_MIN_LEN;
        if (len > limit - (total - start)) throw new Error('lzma: match runs past the declared size');
        const d = this.rep0 + 1;
        for (let k = 0; k < len; k++) this.put(this.byteAt(d));
      }
    } finally {
      this.state = state;
    }
    return this.total - start;
  }
}

export async function* decodeLzmaAlone(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const p = new Pull(input);
  const hdr = (await p.take(13, 'lzma header')).slice();
  const dictSize = u32le(hdr, 1);
  const lo = u32le(hdr, 5);
  const hi = u32le(hdr, 9);
  const sizeKnown = !(lo === 0xffffffff && hi === 0xffffffff);
  const unpackSize = sizeKnown ? hi * 2 ** 32 + lo : Number.POSITIVE_INFINITY;
  const dec = new LzmaDecoder(dictSize);
  dec.setProps(hdr[0]!);
  dec.resetState();

  const rc = new RangeDecoder();
  let final = false;
  const refill = async (): Promise<void> => {
    // Keep INPUT_MARGIN bytes ahead of the decoder unless the input ends.
    if (final || rc.left >= INPUT_MARGIN) return;
    if (!(await p.ensure(Math.max(64 * 1024, p.available)))) final = true;
    const fresh = p.available > 0 ? await p.take(p.available, 'lzma data') : new Uint8Array(0);
    const tail = rc.buf.subarray(rc.i);
    const merged = new Uint8Array(tail.length + fresh.length);
    merged.set(tail, 0);
    merged.set(fresh, tail.length);
    rc.buf = merged;
    rc.i = 0;
  };
  await refill();
  rc.init();

  while (!dec.ended && dec.total < unpackSize) {
    await refill();
    dec.run(rc, unpackSize - dec.total, final);
    if (dec.full) yield dec.take();
  }
  if (dec.outLen > 0) yield dec.take();
  if (rc.corrupted) throw new Error('lzma: corrupted range coder header');
}

/**
 * Python reads an LZMA file in 8 KiB input blocks (LZMAFile: io.DEFAULT_BUFFER_SIZE) and asks for at most
 * 8 KiB of output per call; a call whose input is corrupt raises and hands back nothing.
 */
const PY_FIRST_BLOCK = 8192;

/**
 * True when `file` (the start of a file whose 13-byte header looks like the LZMA "alone" format) holds data
 * that LZMA decoders reject inside the first 8 KiB block, before 8 KiB were decoded: no reader of the
 * stream (Python's lzma, hence joblib; liblzma decodes the same symbols as this port of the reference
 * decoder) hands a single byte to its consumer, so the file is not an LZMA stream for any loader. The
 * alone format has no magic number, so ordinary binary headers (MATLAB v4 .mat files) fit the header test.
 * Truncation is never a rejection here: a cut stream delivers what it decoded before the end.
 */
export function lzmaAloneRejectedAtOnce(file: Uint8Array): boolean {
  if (file.length < 18) return false;
  const final = file.length <= PY_FIRST_BLOCK;
  const lo = u32le(file, 5);
  const hi = u32le(file, 9);
  const unpackSize = lo === 0xffffffff && hi === 0xffffffff ? Number.POSITIVE_INFINITY : hi * 2 ** 32 + lo;
  const dec = new LzmaDecoder(u32le(file, 1));
  const rc = new RangeDecoder();
  try {
    dec.setProps(file[0]!);
    dec.resetState();
    rc.reset(file.subarray(13, Math.min(file.length, PY_FIRST_BLOCK)));
    rc.init();
    dec.run(rc, unpackSize, final);
    return false;
  } catch (err) {
    const truncated = err instanceof Error && err.message.includes('truncated');
    return !truncated && dec.total < PY_FIRST_BLOCK;
  }
}
