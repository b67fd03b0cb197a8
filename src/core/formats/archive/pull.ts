/** Pulls exact byte counts out of an async iterable of chunks (for the hand-written stream decoders). */
export class Pull {
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;
  private readonly it: AsyncIterator<Uint8Array>;
  private ended = false;
  /** Bytes consumed so far. */
  consumed = 0;

  constructor(input: AsyncIterable<Uint8Array>) {
    this.it = input[Symbol.asyncIterator]();
  }

  get available(): number {
    return this.buf.length - this.off;
  }

  /** Makes n bytes available; false when the input ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.available < n) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      const rest = this.buf.subarray(this.off);
      const merged = new Uint8Array(rest.length + r.value.length);
      merged.set(rest, 0);
      merged.set(r.value, rest.length);
      this.buf = merged;
      this.off = 0;
    }
    return true;
  }

  /** n bytes (a view valid until the next ensure); throws when the input ends first. */
  async take(n: number, what: string): Promise<Uint8Array> {
    if (!(await this.ensure(n))) throw new Error(`truncated stream: ${what}`);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    this.consumed += n;
    return v;
  }

  /** Up to `max` bytes that are available now (reading one chunk if none is); undefined at the end. */
  async some(max: number): Promise<Uint8Array | undefined> {
    if (!(await this.ensure(1))) return undefined;
    const n = Math.min(max, this.available);
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    this.consumed += n;
    return v;
  }

  /** Puts back the last `n` bytes taken (they must still be in the window). */
  unread(n: number): void {
    if (n > this.off) throw new Error('Pull.unread past the window');
    this.off -= n;
    this.consumed -= n;
  }

  /** The next byte, or undefined at the end. */
  async byte(): Promise<number | undefined> {
    if (!(await this.ensure(1))) return undefined;
    this.consumed++;
    return this.buf[this.off++];
  }

  async atEnd(): Promise<boolean> {
    return !(await this.ensure(1));
  }

  /** Everything left (the caller bounds it). */
  async *rest(): AsyncIterable<Uint8Array> {
    if (this.available > 0) {
      const v = this.buf.subarray(this.off);
      this.off = this.buf.length;
      this.consumed += v.length;
      yield v;
    }
    if (this.ended) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      this.consumed += r.value.length;
      yield r.value;
    }
  }
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}
