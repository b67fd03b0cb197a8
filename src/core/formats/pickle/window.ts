// The pickle VM's input: a window on the reader's buffer, protocol-4 frames (obeyed the way the Python and
// the C unpicklers obey them), and the decoding of opcode arguments (fixed-size integers, lines, strings).
// The machine (vm.ts) extends this class so that the hot loop reads `buf`/`p`/`lim` as plain fields.

import type { Budget } from '../../limits.js';
import type { ByteReader } from '../../reader.js';
import { OPCODE_NAMES } from './opcodes.js';
import type { PyCall, PyGlobal, PyPersistent, PyValue } from './values.js';

/** The stream cannot be read further the way the unpickler would read it (it would raise here). */
export class BrokenStreamError extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at offset ${offset}`);
    this.name = 'BrokenStreamError';
  }
}

/** A joblib NumpyArrayWrapper whose raw bytes cannot be located: the rest of the stream is not analysable. */
export class JoblibArrayError extends BrokenStreamError {
  constructor(reason: string, offset: number) {
    super(reason, offset);
    this.name = 'JoblibArrayError';
  }
}

export type AnomalyKind =
  | 'frame-straddle'
  | 'frame-nested'
  | 'frame-overrun'
  | 'protocol-unsupported'
  | 'protocol-misplaced'
  | 'memo-overwrite';

/** Receives what the VM finds. Called on rare events only (imports, calls, payloads), never per opcode. */
export interface VmSink {
  onImport(g: PyGlobal): void;
  /** REDUCE, NEWOBJ, NEWOBJ_EX, OBJ, INST (after onImport of the class). */
  onCall(c: PyCall): void;
  /** BUILD: `target.__setstate__(state)` or attribute updates. */
  onBuild(target: PyValue, state: PyValue, offset: number): void;
  /** APPEND(S), SETITEM(S), ADDITEMS on something that is not a plain list/dict/set built by the pickle. */
  onMutate(target: PyValue, op: 'APPEND' | 'SETITEM' | 'ADDITEMS', offset: number): void;
  /** Returns what the loader's persistent_load hands back, when it is known (else the reference itself). */
  onPersistent(p: PyPersistent, opcode: 'PERSID' | 'BINPERSID'): PyValue | undefined;
  /**
   * A str/bytes payload worth a look for nested pickles. `data` is the payload (a copy) when it was read;
   * for payloads too large to buffer it is undefined and `head` holds the first bytes.
   */
  onPayload(p: { offset: number; length: number; data?: Uint8Array; text?: string; head: Uint8Array }): void;
  onAnomaly(kind: AnomalyKind, message: string, offset: number): void;
  /** A joblib NumpyArrayWrapper's raw data was skipped, or its object array scanned inline. */
  onJoblibArray?(info: {
    offset: number;
    bytes: number;
    dtype: string;
    shape: number[];
    object: boolean;
  }): void;
}

export interface VmOptions {
  budget: Budget;
  maxStringBytes: number;
  /** Memory the memo may use, in bytes (see memo.ts). */
  maxMemo: number;
  maxStackDepth: number;
  /** Values kept in containers and the memo before further ones are dropped (security-relevant ones stay). */
  maxRetained?: number;
  /**
   * `linear`: read every opcode argument contiguously, as pickle.loads(bytes) and pickletools do (frames are
   * checked, not obeyed). `cfile`: model CPython's C unpickler reading a file without peek() (io.BytesIO, as
   * torch.load does): a read that runs past the end of the current frame drops the rest of the frame and
   * reads fresh bytes after it.
   */
  mode?: 'linear' | 'cfile';
  /** Known end of the data (for frame-overrun checks). */
  dataEnd?: number;
  /** Follow joblib's NumpyArrayWrapper convention (raw array bytes after its BUILD). Default true. */
  joblib?: boolean;
  /** Minimum payload length passed to onPayload. */
  minPayload?: number;
}

const EMPTY = new Uint8Array(0);
const MAX_LINE = 1 << 20;
const latin1 = new TextDecoder('latin1');
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lax = new TextDecoder('utf-8');

/** Little-endian unsigned 32-bit integer at b[at]. */
export function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
}

/** Little-endian signed 32-bit integer at b[at]. */
export function i32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

export class PickleWindow {
  // Input window (a view of the reader's buffer, not yet consumed from the reader).
  protected buf: Uint8Array = EMPTY;
  /** The same bytes as `buf`, for multi-byte numbers (one bounds check instead of one per byte). */
  protected view: DataView = new DataView(EMPTY.buffer);
  protected p = 0;
  protected bufAbs: number;
  /** End of what may be read without frame bookkeeping: min(buffer end, frame end). */
  protected lim = 0;
  protected frameEnd = -1;
  protected readonly mode: 'linear' | 'cfile';
  /** Absolute offset of the opcode being executed (for errors and findings). */
  protected opStart = 0;
  /** The opcode the general loop is executing (its byte may have left the window by the time it is named). */
  protected opByte = -1;
  /** Set once a frame straddle or nested frame was seen (the C file reading may differ). */
  frameDivergence = false;

  constructor(
    protected readonly reader: ByteReader,
    protected readonly sink: VmSink,
    protected readonly opts: VmOptions,
  ) {
    this.bufAbs = reader.pos;
    this.mode = opts.mode ?? 'linear';
  }

  /** Absolute offset of the next byte. */
  get pos(): number {
    return this.bufAbs + this.p;
  }

  /**
   * Called before the window moves (its bytes may then be reused): whatever still refers to the window by
   * index must be made independent of it (the stack's unresolved texts, store.ts).
   */
  protected settle(): void {}

  /** Hands the consumed bytes back to the reader (its position becomes this.pos). */
  commit(): void {
    if (this.p > 0) {
      this.settle();
      this.reader.take(this.p);
      this.p = 0;
      this.rewindow();
    }
  }

  /** Re-reads the window from the reader's current position (after the reader was moved). */
  protected rewindow(): void {
    this.buf = this.reader.available > 0 ? this.reader.peek(this.reader.available) : EMPTY;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.p = 0;
    this.bufAbs = this.reader.pos;
    this.updateLim();
  }

  protected updateLim(): void {
    this.lim = this.frameEnd >= 0 ? Math.min(this.buf.length, this.frameEnd - this.bufAbs) : this.buf.length;
    if (this.lim < this.p) this.lim = this.p;
  }

  protected async refill(n: number): Promise<boolean> {
    this.settle();
    this.reader.take(this.p);
    this.p = 0;
    const ok = await this.reader.ensure(n);
    this.rewindow();
    return ok;
  }

  protected broken(reason: string, at = this.opStart): never {
    throw new BrokenStreamError(reason, at);
  }

  /** Frame bookkeeping for a read of n bytes starting at the current position that passes the frame end. */
  protected async crossFrame(n: number): Promise<void> {
    const abs = this.pos;
    if (abs >= this.frameEnd) {
      this.frameEnd = -1; // the frame was consumed exactly
      this.updateLim();
      return;
    }
    if (abs + n <= this.frameEnd) return;
    this.frameDivergence = true;
    this.sink.onAnomaly(
      'frame-straddle',
      `${OPCODE_NAMES[this.opByte] ?? 'an opcode'} reads ${n} bytes across the end of its frame (frame ends at ${this.frameEnd})`,
      this.opStart,
    );
    if (this.mode === 'cfile') {
      // The C unpickler drops what is left of the frame buffer and reads n fresh bytes after it.
      await this.skipRaw(this.frameEnd - abs);
    }
    this.frameEnd = -1;
    this.updateLim();
  }

  /** Consumes n bytes known to be in the window; returns where they start. */
  protected adv(n: number): number {
    const at = this.p;
    this.p = at + n;
    return at;
  }

  /** Makes n bytes readable at this.p (handling frames); returns the index in this.buf and advances. */
  protected async need(n: number): Promise<number> {
    if (this.frameEnd >= 0 && this.pos + n > this.frameEnd) await this.crossFrame(n);
    if (this.p + n > this.buf.length) {
      if (!(await this.refill(n))) this.broken(`pickle data was truncated (needed ${n} bytes)`);
    }
    this.updateLim();
    const at = this.p;
    this.p += n;
    return at;
  }

  /** The n argument bytes of the current opcode: from the window when they are there, else via need(). */
  protected arg(n: number): number | Promise<number> {
    return this.p + n <= this.lim ? this.adv(n) : this.need(n);
  }

  /** A one-byte argument's value. */
  protected async u8Arg(): Promise<number> {
    const a = this.arg(1);
    const at = typeof a === 'number' ? a : await a;
    return this.buf[at]!;
  }

  /** A four-byte little-endian argument's value (signed as CPython reads it for BININT, LONG4, BINSTRING). */
  protected async u32Arg(signed: boolean): Promise<number> {
    const a = this.arg(4);
    const at = typeof a === 'number' ? a : await a;
    return signed ? i32(this.buf, at) : u32(this.buf, at);
  }

  /** Skips n bytes without frame handling. Throws a broken stream at the end of the data. */
  protected async skipRaw(n: number): Promise<void> {
    if (this.p + n <= this.buf.length) {
      this.p += n;
      return;
    }
    this.settle();
    this.reader.take(this.p);
    const got = await this.reader.skip(n);
    this.rewindow();
    if (got < n) this.broken(`pickle data was truncated (payload of ${n} bytes)`);
  }

  /** Skips a payload of n bytes (frame-aware). */
  protected async skipPayload(n: number): Promise<void> {
    if (this.frameEnd >= 0 && this.pos + n > this.frameEnd) await this.crossFrame(n);
    await this.skipRaw(n);
  }

  /** Reads a "\n"-terminated argument; returns [start, end) in this.buf (end excludes the newline). */
  protected async line(): Promise<[number, number]> {
    for (;;) {
      const cfileFrame = this.mode === 'cfile' && this.frameEnd >= 0;
      const limit = cfileFrame ? Math.min(this.buf.length, this.frameEnd - this.bufAbs) : this.buf.length;
      const idx = this.buf.subarray(0, limit).indexOf(0x0a, this.p);
      if (idx >= 0) {
        if (this.frameEnd >= 0 && this.bufAbs + idx + 1 > this.frameEnd) {
          if (this.pos >= this.frameEnd) this.frameEnd = -1;
          else await this.crossFrame(idx + 1 - this.p);
          if (this.mode === 'cfile') continue;
        }
        const s = this.p;
        this.p = idx + 1;
        this.updateLim();
        return [s, idx];
      }
      if (cfileFrame && this.frameEnd - this.bufAbs <= this.buf.length) {
        // Newline not within the frame: the C unpickler drops the frame rest and reads a fresh line.
        if (this.pos < this.frameEnd) await this.crossFrame(this.frameEnd - this.pos + 1);
        else this.frameEnd = -1;
        this.updateLim();
        continue;
      }
      if (this.buf.length - this.p > MAX_LINE) this.broken('text opcode argument longer than 1 MiB');
      if (!(await this.refill(this.buf.length - this.p + 1))) this.broken('pickle data was truncated (line)');
    }
  }

  protected async lineText(): Promise<string> {
    const [s, e] = await this.line();
    return this.str(s, e - s, 'latin1');
  }

  protected async u64(): Promise<bigint> {
    const at = await this.need(8);
    return (BigInt(u32(this.buf, at + 4)) << 32n) | BigInt(u32(this.buf, at));
  }

  /** Decodes n bytes at buf[at] (short ASCII strings, the common case, without a TextDecoder call). */
  protected str(at: number, n: number, enc: 'utf8' | 'latin1'): string {
    const b = this.buf;
    if (n <= 8) {
      // Short strings (dict keys, names, labels): fromCharCode is a builtin V8 inlines, latin1Slice a call.
      let x = 0;
      for (let i = at; i < at + n; i++) x |= b[i]!;
      if (x < 0x80) {
        switch (n) {
          case 0:
            return '';
          case 1:
            return String.fromCharCode(b[at]!);
          case 2:
            return String.fromCharCode(b[at]!, b[at + 1]!);
          case 3:
            return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!);
          case 4:
            return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
          case 5:
            return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!);
          case 6:
            return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!, b[at + 4]!, b[at + 5]!);
          case 7:
            return String.fromCharCode(
              b[at]!,
              b[at + 1]!,
              b[at + 2]!,
              b[at + 3]!,
              b[at + 4]!,
              b[at + 5]!,
              b[at + 6]!,
            );
          default:
            return String.fromCharCode(
              b[at]!,
              b[at + 1]!,
              b[at + 2]!,
              b[at + 3]!,
              b[at + 4]!,
              b[at + 5]!,
              b[at + 6]!,
              b[at + 7]!,
            );
        }
      }
    }
    if (n <= 32) {
      let ascii = true;
      for (let i = at; i < at + n; i++) {
        if (b[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) {
        const slice = (b as { latin1Slice?: (s: number, e: number) => string }).latin1Slice;
        if (slice !== undefined) return slice.call(b, at, at + n);
        let out = '';
        for (let i = at; i < at + n; i++) out += String.fromCharCode(b[i]!);
        return out;
      }
    }
    const view = b.subarray(at, at + n);
    if (enc === 'latin1') return latin1.decode(view);
    try {
      return utf8Fatal.decode(view);
    } catch {
      return utf8Lax.decode(view); // CPython uses surrogatepass; keep analysing rather than stop
    }
  }

  protected checkLen(n: number | bigint, what: string): number {
    if (typeof n === 'bigint') {
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.broken(`${what} length ${n} is impossible`);
      n = Number(n);
    }
    if (this.opts.dataEnd !== undefined && this.pos + n > this.opts.dataEnd) {
      this.broken(`pickle data was truncated (${what} of ${n} bytes past the end of the data)`);
    }
    return n;
  }
}
