import type { RandomAccess } from '../../source.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const UTF8 = new TextDecoder();

/**
 * A bounded FlatBuffers reader over a random-access source, with the checks of flatbuffers' Verifier
 * (flatbuffers/verifier.h): every offset is followed only after its target is proven inside the buffer,
 * tables' vtables are inside the buffer, even-sized and no shorter than 4 bytes, a field lies inside its
 * table's inline size, vectors (length × element size) and strings (with their NUL terminator) end inside
 * the buffer, and all scalars are aligned to their size. Bytes are read in pages kept in a small LRU cache,
 * so a multi-GB model costs a few pages of memory. Reads are async (one await per page miss); every
 * accessor checks before reading, so a hostile offset is a FlatBufferError, never a read out of bounds.
 */

export class FlatBufferError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'FlatBufferError';
  }
}

const PAGE = 64 * 1024;
const MAX_PAGES = 64;

export class FlatBuffer {
  private readonly pages = new Map<number, Uint8Array>();

  constructor(
    private readonly src: RandomAccess,
    /** Bytes of the flatbuffer: the file size (data after it, such as appended archives, is outside). */
    readonly size: number,
  ) {}

  private async page(n: number): Promise<Uint8Array> {
    let p = this.pages.get(n);
    if (p) {
      this.pages.delete(n); // LRU: re-insert as newest
      this.pages.set(n, p);
      return p;
    }
    p = await this.src.read(n * PAGE, Math.min(PAGE, this.size - n * PAGE));
    if (this.pages.size >= MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(n, p);
    return p;
  }

  /** `len` bytes at `off`, after checking they are inside the buffer. */
  async bytes(off: number, len: number): Promise<Uint8Array> {
    this.check(off, len);
    const first = Math.floor(off / PAGE);
    const last = Math.floor((off + len - 1) / PAGE);
    if (len === 0) return new Uint8Array(0);
    if (first === last) {
      const p = await this.page(first);
      return p.subarray(off - first * PAGE, off - first * PAGE + len);
    }
    const out = new Uint8Array(len);
    for (let n = first, o = 0; n <= last; n++) {
      const p = await this.page(n);
      const from = n === first ? off - n * PAGE : 0;
      const to = n === last ? off + len - n * PAGE : PAGE;
      out.set(p.subarray(from, to), o);
      o += to - from;
    }
    return out;
  }

  check(off: number, len: number): void {
    if (!Number.isSafeInteger(off) || off < 0 || len < 0 || off + len > this.size) {
      throw new FlatBufferError(`range ${off}+${len} is outside the ${this.size}-byte buffer`, off);
    }
  }

  private aligned(off: number, n: number): void {
    if (off % n !== 0) throw new FlatBufferError(`unaligned ${n}-byte scalar at ${off}`, off);
  }

  async u8(off: number): Promise<number> {
    return (await this.bytes(off, 1))[0]!;
  }
  async i8(off: number): Promise<number> {
    const v = await this.u8(off);
    return v > 127 ? v - 256 : v;
  }
  async u16(off: number): Promise<number> {
    this.aligned(off, 2);
    const b = await this.bytes(off, 2);
    return b[0]! | (b[1]! << 8);
  }
  async u32(off: number): Promise<number> {
    this.aligned(off, 4);
    const b = await this.bytes(off, 4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 2 ** 24;
  }
  async i32(off: number): Promise<number> {
    const v = await this.u32(off);
    return v >= 2 ** 31 ? v - 2 ** 32 : v;
  }
  async u64(off: number): Promise<bigint> {
    this.aligned(off, 8);
    const b = await this.bytes(off, 8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  /** The target of the uoffset stored at `off`. */
  async deref(off: number): Promise<number> {
    const target = off + (await this.u32(off));
    this.check(target, 4);
    return target;
  }

  /** The table whose position is `pos`: its vtable checked and read. */
  async table(pos: number): Promise<Table> {
    const soff = await this.i32(pos);
    const vt = pos - soff;
    const vtSize = await this.u16(vt);
    const tableSize = await this.u16(vt + 2);
    if (vtSize < 4 || vtSize % 2 !== 0) throw new FlatBufferError(`vtable size ${vtSize} is invalid`, vt);
    this.check(vt, vtSize);
    this.check(pos, tableSize);
    const fields: number[] = [];
    const raw = await this.bytes(vt + 4, vtSize - 4);
    for (let i = 0; i + 1 < raw.length; i += 2) fields.push(raw[i]! | (raw[i + 1]! << 8));
    return new Table(this, pos, fields);
  }

  /** A vector at `pos`: its length, checked with the element size. */
  async vectorLength(pos: number, elemSize: number): Promise<number> {
    const n = await this.u32(pos);
    this.check(pos + 4, n * elemSize);
    return n;
  }
}

/** A verified table: field positions (absolute) by field index, 0 when the field is absent. */
export class Table {
  constructor(
    readonly fb: FlatBuffer,
    readonly pos: number,
    private readonly fields: number[],
  ) {}

  /**
   * Absolute position of field `i` with `size` inline bytes, or undefined when absent. As in the Verifier,
   * the field must lie inside the buffer (the reads check it) and be aligned; the table's declared inline
   * size is checked to be inside the buffer but fields are not held to it.
   */
  at(i: number, size: number): number | undefined {
    const o = this.fields[i] ?? 0;
    if (o === 0) return undefined;
    this.fb.check(this.pos + o, size);
    return this.pos + o;
  }

  async u8(i: number, dflt = 0): Promise<number> {
    const p = this.at(i, 1);
    return p === undefined ? dflt : this.fb.u8(p);
  }
  async i8(i: number, dflt = 0): Promise<number> {
    const p = this.at(i, 1);
    return p === undefined ? dflt : this.fb.i8(p);
  }
  async u32(i: number, dflt = 0): Promise<number> {
    const p = this.at(i, 4);
    return p === undefined ? dflt : this.fb.u32(p);
  }
  async i32(i: number, dflt = 0): Promise<number> {
    const p = this.at(i, 4);
    return p === undefined ? dflt : this.fb.i32(p);
  }
  async u64(i: number): Promise<bigint> {
    const p = this.at(i, 8);
    return p === undefined ? 0n : this.fb.u64(p);
  }

  /** A sub-table, or undefined. */
  async table(i: number): Promise<Table | undefined> {
    const p = this.at(i, 4);
    return p === undefined ? undefined : this.fb.table(await this.fb.deref(p));
  }

  /** A string (UTF-8, NUL-terminated in the buffer), or undefined; longer than `max` bytes is cut. */
  async string(i: number, max = 4096): Promise<string | undefined> {
    const p = this.at(i, 4);
    if (p === undefined) return undefined;
    const v = await this.fb.deref(p);
    const n = await this.fb.vectorLength(v, 1);
    this.fb.check(v + 4 + n, 1); // the terminator
    return UTF8.decode(await this.fb.bytes(v + 4, Math.min(n, max)));
  }

  /** A vector of `elemSize`-byte scalars: its position (of the length) and length, or undefined. */
  async vector(i: number, elemSize: number): Promise<{ start: number; length: number } | undefined> {
    const p = this.at(i, 4);
    if (p === undefined) return undefined;
    const v = await this.fb.deref(p);
    const length = await this.fb.vectorLength(v, elemSize);
    return { start: v + 4, length };
  }

  /** Calls `fn` for each table of a vector of tables (at most `max`; the count is returned). */
  async tables(i: number, fn: (t: Table, index: number) => Promise<void>, max: number): Promise<number> {
    const vec = await this.vector(i, 4);
    if (!vec) return 0;
    if (vec.length > max)
      throw new FlatBufferError(`a vector of ${vec.length} tables exceeds ${max}`, vec.start);
    for (let k = 0; k < vec.length; k++) {
      const slot = vec.start + 4 * k;
      await fn(await this.fb.table(await this.fb.deref(slot)), k);
    }
    return vec.length;
  }
}
