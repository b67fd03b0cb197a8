import { type ByteSource, CHUNK_SIZE } from './source.js';

/**
 * A forward reader over a ByteSource with a small window: parsers ask for `ensure(n)` bytes, then read them
 * synchronously, so the hot path is plain array access and the awaits happen once per chunk. Skips over
 * random-access sources seek instead of reading, which is how multi-GB raw tensor bytes cost nothing.
 * Memory stays at one chunk plus the largest `ensure` a parser asked for (parsers bound that themselves).
 */
export class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0; // read position inside buf
  private base: number; // absolute position of buf[0]
  private iter: AsyncIterator<Uint8Array> | undefined;
  private done = false;
  /** Where the last chunk read from a random-access source ended, and how many reads in a row were in order. */
  private lastEnd = -1;
  private inOrder = 0;
  /** The next chunk, read ahead once reads have proved sequential (sources that allow it, see RandomAccess). */
  private ahead: { at: number; read: Promise<Uint8Array> } | undefined;

  constructor(
    private readonly src: ByteSource,
    private readonly start = 0,
    private readonly end = src.size ?? Number.POSITIVE_INFINITY,
  ) {
    this.base = start;
  }

  /** Absolute position of the next byte. */
  get pos(): number {
    return this.base + this.off;
  }

  /** Bytes buffered and readable synchronously. */
  get available(): number {
    return this.buf.length - this.off;
  }

  /**
   * Makes n bytes readable synchronously; false when the source ends first. `exact`: on a random-access
   * source read only what is missing instead of a whole chunk, for a small record that is followed by a
   * skip (the 8-byte length before each raw storage of a legacy checkpoint: a chunk read there would copy a
   * megabyte per storage that the skip then throws away).
   */
  async ensure(n: number, exact = false): Promise<boolean> {
    while (this.available < n) {
      if (!(await this.fill(n, exact))) return this.available >= n;
    }
    return true;
  }

  /** True at the end of the source (after trying to read more). */
  async atEnd(): Promise<boolean> {
    return !(await this.ensure(1));
  }

  u8(): number {
    if (this.off >= this.buf.length) throw new RangeError('ByteReader.u8 past the ensured window');
    return this.buf[this.off++]!;
  }

  peekU8(ahead = 0): number | undefined {
    return this.buf[this.off + ahead];
  }

  /** n buffered bytes as a view, without consuming them (valid until the next ensure/skip); ensure(n) first. */
  peek(n: number): Uint8Array {
    if (this.available < n) throw new RangeError(`ByteReader.peek(${n}) past the ensured window`);
    return this.buf.subarray(this.off, this.off + n);
  }

  /** n bytes as a view into the window (valid until the next ensure/skip); call ensure(n) first. */
  take(n: number): Uint8Array {
    if (this.available < n) throw new RangeError(`ByteReader.take(${n}) past the ensured window`);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }

  u16le(): number {
    const b = this.take(2);
    return b[0]! | (b[1]! << 8);
  }

  u32le(): number {
    const b = this.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
  }

  i32le(): number {
    const b = this.take(4);
    return b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
  }

  u64le(): bigint {
    const lo = BigInt(this.u32le());
    const hi = BigInt(this.u32le());
    return (hi << 32n) | lo;
  }

  /** Reads exactly n bytes (copied) or returns undefined at the end of the source. */
  async bytes(n: number): Promise<Uint8Array | undefined> {
    if (!(await this.ensure(n))) return undefined;
    return this.take(n).slice();
  }

  /** Advances n bytes; returns how many were skipped (less than n at the end of the source). */
  async skip(n: number): Promise<number> {
    const inBuf = Math.min(n, this.available);
    this.off += inBuf;
    let left = n - inBuf;
    if (left === 0) return n;
    if (this.src.random) {
      const target = Math.min(this.pos + left, this.end, this.src.random.size);
      const skipped = target - this.pos;
      this.base = target;
      this.buf = new Uint8Array(0);
      this.off = 0;
      this.iter = undefined;
      this.done = target >= Math.min(this.end, this.src.random.size);
      return inBuf + skipped;
    }
    while (left > 0) {
      if (!(await this.fill(1))) break;
      const k = Math.min(left, this.available);
      this.off += k;
      left -= k;
    }
    return n - left;
  }

  /** Reads up to and excluding the next "\n" (consumed), at most `max` bytes; undefined if none found. */
  async line(max: number): Promise<Uint8Array | undefined> {
    for (let scanned = 0; ; ) {
      const idx = this.buf.indexOf(0x0a, this.off + scanned);
      if (idx >= 0 && idx - this.off <= max) {
        const v = this.buf.slice(this.off, idx);
        this.off = idx + 1;
        return v;
      }
      scanned = this.available;
      if (scanned > max) return undefined;
      if (!(await this.fill(scanned + 1))) return undefined;
    }
  }

  private async fill(want: number, exact = false): Promise<boolean> {
    if (this.done) return false;
    if (!this.iter) {
      if (this.src.random) {
        // Random-access sources are read directly at the current position.
        const limit = Math.min(this.end, this.src.random.size);
        const p = this.pos;
        if (p >= limit) {
          this.done = true;
          return false;
        }
        const at = p + this.available;
        const hint = exact ? 0 : (this.src.random.preferredRead?.(at) ?? CHUNK_SIZE);
        const need = Math.max(hint, want - this.available);
        const ahead = this.ahead?.at === at ? this.ahead.read : undefined;
        this.ahead = undefined;
        const chunk = await (ahead ?? this.src.random.read(at, Math.min(need, limit - at)));
        if (chunk.length === 0) {
          this.done = true;
          return false;
        }
        this.append(chunk);
        this.readAhead(at, chunk.length, exact, limit);
        return true;
      }
      this.iter = this.src.stream(this.pos, this.end)[Symbol.asyncIterator]();
    }
    const r = await this.iter.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    this.append(r.value);
    return true;
  }

  /**
   * After the second whole chunk read in order, starts reading the next one, so that the parser's work on
   * this chunk and the copy of the next overlap (a 95 MiB pickle waited 40 ms for its reads). Exact reads
   * (a small record before a skip) and sources where a read is a download never read ahead; a read ahead
   * that the parser skips past is dropped (its failure too: the parser reads again and sees it).
   */
  private readAhead(at: number, got: number, exact: boolean, limit: number): void {
    this.inOrder = !exact && at === this.lastEnd ? this.inOrder + 1 : 0;
    this.lastEnd = at + got;
    const random = this.src.random!;
    if (!random.readAhead || this.inOrder < 1 || this.lastEnd >= limit) return;
    const next = this.lastEnd;
    const read = random.read(next, Math.min(random.preferredRead?.(next) ?? CHUNK_SIZE, limit - next));
    read.catch(() => undefined);
    this.ahead = { at: next, read };
  }

  private append(chunk: Uint8Array): void {
    const rest = this.buf.subarray(this.off);
    if (rest.length === 0) {
      this.base += this.off;
      this.buf = chunk;
    } else {
      const merged = new Uint8Array(rest.length + chunk.length);
      merged.set(rest, 0);
      merged.set(chunk, rest.length);
      this.base += this.off;
      this.buf = merged;
    }
    this.off = 0;
  }

  /** Position where reading started (for relative offsets). */
  get origin(): number {
    return this.start;
  }
}
