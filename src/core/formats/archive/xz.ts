// Streaming xz decoder: the .xz container (stream header, blocks, index, footer, stream padding, concatenated
// streams) around LZMA2 chunks, decoded by the LZMA decoder of ./lzma.ts. Written against the .xz file
// format specification 1.2.1 and xz-embedded's behaviour (what liblzma, hence Python's lzma module and
// joblib's `.xz`, accept).
//
// Why our own: the npm package used before (xz-decompress, xz-embedded compiled to WASM) serialises every
// decoder in the process behind one global lock that only a stream read to its end (or cancelled) releases,
// so a second xz stream (the same file read again after a probe, or an xz inside an xz) waited forever.
//
// Bounds: input is buffered one LZMA2 chunk at a time (at most 64 KiB compressed, 2 MiB decoded), output is
// yielded in 1 MiB chunks (the caller's budget stops a bomb), the window is capped by ./lzma.ts.
// Filters: LZMA2, optionally preceded by delta. The branch/call/jump filters (x86, ARM, ...) are refused (the
// stream is then malformed, which makes the file incomplete, never clean).
// Integrity checks (CRC32, CRC64, SHA-256) and header CRCs are verified, like liblzma.
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { LzmaDecoder, RangeDecoder } from './lzma.js';
import { Pull, u32le } from './pull.js';

const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FILTER_DELTA = 0x03;
const FILTER_LZMA2 = 0x21;
/** Check field sizes by check id (the spec reserves ids 2-3, 5-6, 7-9, 11-15 with these sizes). */
const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

export async function* decodeXz(input: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  const p = new Pull(input);
  for (let first = true; ; first = false) {
    if (!first) {
      // Stream padding (null bytes, a multiple of four), then the end of the data or another stream.
      let pad = 0;
      let b = await p.byte();
      while (b === 0) {
        pad++;
        b = await p.byte();
      }
      if (b === undefined) {
        if (pad % 4 !== 0) throw new Error('xz: stream padding is not a multiple of four bytes');
        return;
      }
      p.unread(1);
      if (pad % 4 !== 0 || !(await startsWithMagic(p)))
        throw new Error(`xz: ${pad > 0 ? 'unexpected ' : ''}data after the end of the xz stream`);
    }
    yield* decodeStream(p);
  }
}

async function startsWithMagic(p: Pull): Promise<boolean> {
  if (!(await p.ensure(6))) return false;
  const h = await p.take(6, 'xz magic');
  p.unread(6);
  return MAGIC.every((m, i) => h[i] === m);
}

async function* decodeStream(p: Pull): AsyncIterable<Uint8Array> {
  const header = (await p.take(12, 'xz stream header')).slice();
  if (!MAGIC.every((m, i) => header[i] === m)) throw new Error('xz: bad magic');
  if (zlib.crc32(header.subarray(6, 8)) !== u32le(header, 8))
    throw new Error('xz: stream header CRC mismatch');
  if (header[6] !== 0 || header[7]! > 0x0f) throw new Error('xz: unsupported stream flags');
  const checkId = header[7]!;
  if (![0, 1, 4, 10].includes(checkId)) throw new Error(`xz: unsupported integrity check ${checkId}`);
  let blocks = 0;
  let sumUnpadded = 0;
  let sumUncompressed = 0;
  for (;;) {
    const sizeByte = await p.byte();
    if (sizeByte === undefined) throw new Error('xz: truncated stream (no index)');
    if (sizeByte === 0) break; // the index indicator
    const block = yield* decodeBlock(p, sizeByte, checkId);
    blocks++;
    sumUnpadded += block.unpadded;
    sumUncompressed += block.uncompressed;
  }
  // Index: number of records, (unpadded size, uncompressed size) per block, padding, CRC32.
  const idx = new IndexReader(p);
  if ((await idx.varint()) !== blocks) throw new Error('xz: index does not match the blocks');
  let unpadded = 0;
  let uncompressed = 0;
  for (let k = 0; k < blocks; k++) {
    unpadded += await idx.varint();
    uncompressed += await idx.varint();
  }
  if (unpadded !== sumUnpadded || uncompressed !== sumUncompressed)
    throw new Error('xz: index does not match the blocks');
  while (idx.size % 4 !== 0) if ((await idx.byte()) !== 0) throw new Error('xz: bad index padding');
  const indexSize = idx.size;
  if (u32le(await p.take(4, 'xz index CRC'), 0) !== idx.crc >>> 0) throw new Error('xz: index CRC mismatch');
  const footer = (await p.take(12, 'xz stream footer')).slice();
  if (footer[10] !== 0x59 || footer[11] !== 0x5a) throw new Error('xz: bad stream footer magic');
  if (zlib.crc32(footer.subarray(4, 10)) !== u32le(footer, 0))
    throw new Error('xz: stream footer CRC mismatch');
  if (footer[8] !== header[6] || footer[9] !== header[7])
    throw new Error('xz: footer flags differ from the header');
  if ((u32le(footer, 4) + 1) * 4 !== indexSize + 4)
    throw new Error('xz: backward size does not match the index');
}

/** Reads index bytes, keeping their CRC32 and count (the indicator byte, already read, included). */
class IndexReader {
  crc = zlib.crc32(new Uint8Array([0]));
  size = 1;
  constructor(private readonly p: Pull) {}
  async byte(): Promise<number> {
    const b = await this.p.byte();
    if (b === undefined) throw new Error('xz: truncated index');
    this.crc = zlib.crc32(new Uint8Array([b]), this.crc);
    this.size++;
    return b;
  }
  async varint(): Promise<number> {
    let v = 0;
    for (let k = 0; k < 9; k++) {
      const b = await this.byte();
      v += (b & 0x7f) * 2 ** (7 * k);
      if ((b & 0x80) === 0) {
        if (b === 0 && k > 0) throw new Error('xz: non-minimal integer');
        return v;
      }
    }
    throw new Error('xz: integer too long');
  }
}

interface Filters {
  dictSize: number;
  delta?: number;
  compressedSize?: number;
  uncompressedSize?: number;
}

function parseBlockHeader(h: Uint8Array): Filters {
  // h: the whole block header (size byte first, CRC32 last)
  if (zlib.crc32(h.subarray(0, h.length - 4)) !== u32le(h, h.length - 4))
    throw new Error('xz: block header CRC mismatch');
  const flags = h[1]!;
  if (flags & 0x3c) throw new Error('xz: unsupported block flags');
  let pos = 2;
  const end = h.length - 4;
  const varint = (): number => {
    let v = 0;
    for (let k = 0; k < 9 && pos < end; k++) {
      const b = h[pos++]!;
      v += (b & 0x7f) * 2 ** (7 * k);
      if ((b & 0x80) === 0) {
        if (b === 0 && k > 0) throw new Error('xz: non-minimal integer');
        return v;
      }
    }
    throw new Error('xz: bad integer in the block header');
  };
  const out: Filters = { dictSize: 0 };
  if (flags & 0x40) out.compressedSize = varint();
  if (flags & 0x80) out.uncompressedSize = varint();
  const n = (flags & 3) + 1;
  for (let k = 0; k < n; k++) {
    const id = varint();
    const size = varint();
    if (pos + size > end) throw new Error('xz: filter properties overrun the block header');
    const props = h.subarray(pos, pos + size);
    pos += size;
    const last = k === n - 1;
    if (id === FILTER_LZMA2 && last && size === 1) {
      const d = props[0]!;
      if (d > 40) throw new Error('xz: bad LZMA2 dictionary size');
      out.dictSize = d === 40 ? 0xffffffff : (2 | (d & 1)) * 2 ** (Math.floor(d / 2) + 11);
    } else if (id === FILTER_DELTA && !last && size === 1 && out.delta === undefined) {
      out.delta = props[0]! + 1;
    } else {
      throw new Error(
        `xz: filter 0x${id.toString(16)} ${last ? 'as the last filter ' : ''}is not supported (only LZMA2, with delta)`,
      );
    }
  }
  for (; pos < end; pos++) if (h[pos] !== 0) throw new Error('xz: bad block header padding');
  return out;
}

/** The integrity check of a block's uncompressed data. */
function checker(id: number): { update(c: Uint8Array): void; digest(): Uint8Array } {
  if (id === 1) {
    let crc = 0;
    return {
      update: (c) => {
        crc = zlib.crc32(c, crc);
      },
      digest: () => new Uint8Array([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]),
    };
  }
  if (id === 4) return new Crc64();
  if (id === 10) {
    const h = createHash('sha256');
    return { update: (c) => h.update(c), digest: () => new Uint8Array(h.digest()) };
  }
  return { update: () => {}, digest: () => new Uint8Array(0) };
}

async function* decodeBlock(
  p: Pull,
  sizeByte: number,
  checkId: number,
): AsyncGenerator<Uint8Array, { unpadded: number; uncompressed: number }> {
  const headerSize = (sizeByte + 1) * 4;
  const h = new Uint8Array(headerSize);
  h[0] = sizeByte;
  h.set(await p.take(headerSize - 1, 'xz block header'), 1);
  const f = parseBlockHeader(h);
  const check = checker(checkId);
  const delta = f.delta ? new Delta(f.delta) : undefined;
  const start = p.consumed;
  let uncompressed = 0;
  for await (const chunk of decodeLzma2(p, f.dictSize)) {
    delta?.apply(chunk);
    check.update(chunk);
    uncompressed += chunk.length;
    yield chunk;
  }
  const compressed = p.consumed - start;
  if (f.compressedSize !== undefined && f.compressedSize !== compressed)
    throw new Error('xz: compressed size differs from the block header');
  if (f.uncompressedSize !== undefined && f.uncompressedSize !== uncompressed)
    throw new Error('xz: uncompressed size differs from the block header');
  for (let k = (headerSize + compressed) % 4; k % 4 !== 0; k++)
    if ((await p.byte()) !== 0) throw new Error('xz: bad block padding');
  const size = CHECK_SIZE[checkId]!;
  const want = await p.take(size, 'xz block check');
  const got = check.digest();
  if (got.length === size && !got.every((b, i) => b === want[i]))
    throw new Error('xz: integrity check mismatch');
  return { unpadded: headerSize + compressed + size, uncompressed };
}

/** LZMA2: a sequence of chunks (LZMA-compressed or stored), each at most 64 KiB in and 2 MiB out. */
async function* decodeLzma2(p: Pull, dictSize: number): AsyncIterable<Uint8Array> {
  const dec = new LzmaDecoder(dictSize);
  const rc = new RangeDecoder();
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    const control = await p.byte();
    if (control === undefined) throw new Error('xz: truncated LZMA2 data');
    if (control === 0x00) break;
    if (control >= 0xe0 || control === 0x01) {
      needProps = true;
      needDictReset = false;
      dec.resetDict();
    } else if (needDictReset) throw new Error('xz: LZMA2 data does not start with a dictionary reset');
    if (control >= 0x80) {
      const s = await p.take(4, 'LZMA2 chunk header');
      const unpacked = (control & 0x1f) * 65536 + ((s[0]! << 8) | s[1]!) + 1;
      const packed = ((s[2]! << 8) | s[3]!) + 1;
      const reset = (control >> 5) & 3;
      if (reset >= 2) {
        dec.setProps((await p.take(1, 'LZMA2 properties'))[0]!);
        needProps = false;
      } else if (needProps) throw new Error('xz: LZMA2 chunk without properties');
      if (reset >= 1) dec.resetState();
      rc.reset((await p.take(packed, 'LZMA2 chunk')).slice());
      rc.init();
      if (rc.corrupted) throw new Error('xz: corrupted LZMA2 chunk');
      let left = unpacked;
      while (left > 0) {
        left -= dec.run(rc, left, true);
        if (dec.ended) throw new Error('xz: end marker inside an LZMA2 chunk');
        if (dec.full || left === 0) yield dec.take();
      }
    } else {
      if (control > 0x02) throw new Error(`xz: bad LZMA2 control byte 0x${control.toString(16)}`);
      const s = await p.take(2, 'LZMA2 chunk header');
      let left = ((s[0]! << 8) | s[1]!) + 1;
      while (left > 0) {
        const data = await p.some(left);
        if (!data) throw new Error('xz: truncated LZMA2 stored chunk');
        for (let k = 0; k < data.length; ) {
          k += dec.copy(data.subarray(k));
          if (dec.full) yield dec.take();
        }
        left -= data.length;
      }
      if (dec.outLen > 0) yield dec.take();
    }
  }
}

/** The delta filter: each byte is added to the byte `distance` positions earlier in the output. */
class Delta {
  private readonly hist = new Uint8Array(256);
  private pos = 0;
  constructor(private readonly distance: number) {}
  apply(c: Uint8Array): void {
    for (let i = 0; i < c.length; i++) {
      const v = (c[i]! + this.hist[(this.distance + this.pos) & 0xff]!) & 0xff;
      c[i] = v;
      this.hist[this.pos] = v;
      this.pos = (this.pos - 1) & 0xff;
    }
  }
}

// CRC-64/XZ (ECMA-182 polynomial, reflected), table-driven on two 32-bit halves.
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const T_LO = new Uint32Array(256);
const T_HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let lo = i;
  let hi = 0;
  for (let k = 0; k < 8; k++) {
    const bit = lo & 1;
    lo = ((lo >>> 1) | (hi << 31)) >>> 0;
    hi >>>= 1;
    if (bit) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  T_LO[i] = lo;
  T_HI[i] = hi;
}

class Crc64 {
  private lo = 0xffffffff;
  private hi = 0xffffffff;
  update(c: Uint8Array): void {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < c.length; i++) {
      const t = (lo ^ c[i]!) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ T_LO[t]!;
      hi = (hi >>> 8) ^ T_HI[t]!;
    }
    this.lo = lo;
    this.hi = hi;
  }
  digest(): Uint8Array {
    const out = new Uint8Array(8);
    const lo = ~this.lo >>> 0;
    const hi = ~this.hi >>> 0;
    for (let k = 0; k < 4; k++) {
      out[k] = (lo >>> (8 * k)) & 0xff;
      out[k + 4] = (hi >>> (8 * k)) & 0xff;
    }
    return out;
  }
}
