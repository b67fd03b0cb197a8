// Streaming decoder for the legacy LZMA "alone" format (13-byte header: properties, dictionary size,
// uncompressed size or all-ones for "unknown, end marker follows"), as written by Python's
// lzma.FORMAT_ALONE and joblib's `.lzma` files. A straight port of the reference decoder (LzmaSpec.cpp in
// the LZMA SDK), emitting output in 1 MiB chunks so that the caller's budget can stop a bomb early.
// Memory: the dictionary window (capped at 64 MiB; a larger declared dictionary fails only if a match
// really reaches beyond the cap) plus one output chunk.
import { Pull, u32le } from './pull.js';

const OUT_CHUNK = 1 << 20;
const MAX_WINDOW = 64 * 2 ** 20;
const K_NUM_STATES = 12;
const K_END_POS_MODEL_INDEX = 14;
const K_NUM_FULL_DISTANCES = 128;
const K_MATCH_MIN_LEN = 2;

class RangeDecoder {
  range = 0xffffffff;
  code = 0;
  buf: Uint8Array = new Uint8Array(0);
  i = 0;
  corrupted = false;

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
  decode(rc: RangeDecoder, posState: number): number {
    if (rc.bit(this.choice, 0) === 0) return rc.tree(this.low, posState << 3, 3);
    if (rc.bit(this.choice, 1) === 0) return 8 + rc.tree(this.mid, posState << 3, 3);
    return 16 + rc.tree(this.high, 0, 8);
  }
}

export async function* decodeLzmaAlone(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const p = new Pull(input);
  const hdr = (await p.take(13, 'lzma header')).slice();
  let d = hdr[0]!;
  if (d >= 9 * 5 * 5) throw new Error('lzma: bad properties byte');
  const lc = d % 9;
  d = Math.floor(d / 9);
  const lp = d % 5;
  const pb = Math.floor(d / 5);
  const dictSize = u32le(hdr, 1);
  const lo = u32le(hdr, 5);
  const hi = u32le(hdr, 9);
  const sizeKnown = !(lo === 0xffffffff && hi === 0xffffffff);
  const unpackSize = sizeKnown ? hi * 2 ** 32 + lo : Number.POSITIVE_INFINITY;

  const winSize = Math.max(4096, Math.min(dictSize, MAX_WINDOW));
  const win = new Uint8Array(winSize);
  let wpos = 0;
  let total = 0;
  let out = new Uint8Array(OUT_CHUNK);
  let outLen = 0;

  const litProbs = probs(0x300 << (lc + lp));
  const posSlot = probs(4 << 6);
  const posDecoders = probs(1 + K_NUM_FULL_DISTANCES - K_END_POS_MODEL_INDEX);
  const align = probs(16);
  const isMatch = probs(K_NUM_STATES << 4);
  const isRep = probs(K_NUM_STATES);
  const isRepG0 = probs(K_NUM_STATES);
  const isRepG1 = probs(K_NUM_STATES);
  const isRepG2 = probs(K_NUM_STATES);
  const isRep0Long = probs(K_NUM_STATES << 4);
  const lenDec = new LenDecoder();
  const repLenDec = new LenDecoder();

  const rc = new RangeDecoder();
  const refill = async (): Promise<void> => {
    // Keep at least 64 bytes ahead of the decoder (one symbol uses far fewer) unless the input ends.
    const left = rc.buf.length - rc.i;
    if (left >= 64) return;
    const have = await p.ensure(Math.max(64 * 1024, p.available));
    void have;
    const avail = p.available;
    const tail = rc.buf.subarray(rc.i);
    const fresh = await p.take(avail, 'lzma data');
    const merged = new Uint8Array(tail.length + fresh.length);
    merged.set(tail, 0);
    merged.set(fresh, tail.length);
    rc.buf = merged;
    rc.i = 0;
  };
  await refill();
  rc.init();

  const getByte = (dist: number): number => {
    let i = wpos - dist;
    if (i < 0) i += winSize;
    return win[i]!;
  };
  const put = (b: number): void => {
    win[wpos++] = b;
    if (wpos === winSize) wpos = 0;
    total++;
    out[outLen++] = b;
  };

  let rep0 = 0;
  let rep1 = 0;
  let rep2 = 0;
  let rep3 = 0;
  let state = 0;
  const pbMask = (1 << pb) - 1;
  const lpMask = (1 << lp) - 1;

  for (;;) {
    if (outLen >= OUT_CHUNK - 300) {
      yield out.subarray(0, outLen);
      out = new Uint8Array(OUT_CHUNK);
      outLen = 0;
    }
    if (total >= unpackSize) break;
    if (rc.buf.length - rc.i < 64) await refill();
    const posState = total & pbMask;
    if (rc.bit(isMatch, (state << 4) + posState) === 0) {
      const prev = total > 0 ? getByte(1) : 0;
      const litState = ((total & lpMask) << lc) + (prev >>> (8 - lc));
      const base = 0x300 * litState;
      let sym = 1;
      if (state >= 7) {
        let matchByte = getByte(rep0 + 1);
        do {
          const matchBit = (matchByte >>> 7) & 1;
          matchByte <<= 1;
          const b = rc.bit(litProbs, base + ((1 + matchBit) << 8) + sym);
          sym = (sym << 1) | b;
          if (matchBit !== b) break;
        } while (sym < 0x100);
      }
      while (sym < 0x100) sym = (sym << 1) | rc.bit(litProbs, base + sym);
      put(sym - 0x100);
      state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
      continue;
    }
    let len: number;
    if (rc.bit(isRep, state) !== 0) {
      if (total === 0) throw new Error('lzma: repeated match at the start of the stream');
      if (rc.bit(isRepG0, state) === 0) {
        if (rc.bit(isRep0Long, (state << 4) + posState) === 0) {
          state = state < 7 ? 9 : 11;
          put(getByte(rep0 + 1));
          continue;
        }
      } else {
        let dist: number;
        if (rc.bit(isRepG1, state) === 0) dist = rep1;
        else {
          if (rc.bit(isRepG2, state) === 0) dist = rep2;
          else {
            dist = rep3;
            rep3 = rep2;
          }
          rep2 = rep1;
        }
        rep1 = rep0;
        rep0 = dist;
      }
      len = repLenDec.decode(rc, posState);
      state = state < 7 ? 8 : 11;
    } else {
      rep3 = rep2;
      rep2 = rep1;
      rep1 = rep0;
      len = lenDec.decode(rc, posState);
      state = state < 7 ? 7 : 10;
      // distance
      const lenState = Math.min(len, 3);
      const slot = rc.tree(posSlot, lenState << 6, 6);
      if (slot < 4) rep0 = slot;
      else {
        const numDirect = (slot >>> 1) - 1;
        let dist = ((2 | (slot & 1)) << numDirect) >>> 0;
        if (slot < K_END_POS_MODEL_INDEX)
          dist = (dist + rc.reverse(posDecoders, dist - slot, numDirect)) >>> 0;
        else {
          dist = (dist + ((rc.direct(numDirect - 4) << 4) >>> 0)) >>> 0;
          dist = (dist + rc.reverse(align, 0, 4)) >>> 0;
        }
        rep0 = dist;
      }
      if (rep0 === 0xffffffff) break; // end marker
      if (rep0 >= total || rep0 >= winSize) throw new Error('lzma: match distance outside the window');
    }
    len += K_MATCH_MIN_LEN;
    if (len > unpackSize - total) throw new Error('lzma: match runs past the declared size');
    for (let k = 0; k < len; k++) {
      put(getByte(rep0 + 1));
      if (outLen >= OUT_CHUNK) {
        yield out.subarray(0, outLen);
        out = new Uint8Array(OUT_CHUNK);
        outLen = 0;
      }
    }
  }
  if (outLen > 0) yield out.subarray(0, outLen);
  if (rc.corrupted) throw new Error('lzma: corrupted range coder header');
}
