// A streaming, symbolic pickle virtual machine. It walks one pickle stream the way CPython's unpickler
// does (stack, mark stack, memo, frames, every opcode of protocols 0-5) but never imports or calls
// anything: imports become PyGlobal nodes, calls become PyCall nodes, and each is reported to a sink with
// its byte offset. Memory is bounded: large payloads are skipped by length, containers and the memo keep
// values only within a retention budget, and every count is checked against the scan's limits.

import type { Budget } from '../../limits.js';
import { BudgetExceededError } from '../../limits.js';
import type { ByteReader } from '../../reader.js';
import { describeWrapper } from './dtype.js';
import { OP, OPCODE_NAMES, VALID_OPCODE } from './opcodes.js';
import { decodeLong, parseSpecialFloat, pyEscapeDecode, rawUnicodeEscape, utf8Text } from './text.js';
import {
  type CallOpcode,
  DROPPED,
  NO_ITEMS,
  OUT_OF_BAND,
  PyBytes,
  PyCall,
  PyDict,
  PyGlobal,
  PyList,
  PyPersistent,
  PySet,
  PyTuple,
  PyUnknown,
  type PyValue,
  weight,
} from './values.js';

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

export interface StreamResult {
  /** Absolute offset just past STOP. */
  end: number;
  value: PyValue;
  protocol: number;
  opcodes: number;
  /** opcode byte → 1 when used in this stream. */
  used: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const OP_BATCH = 4096;
const MEMO_PAGE_BITS = 12;
const MEMO_PAGE_MASK = (1 << MEMO_PAGE_BITS) - 1;
const MEMO_PAGED = 1 << 26;
const MAX_LINE = 1 << 20;
const latin1 = new TextDecoder('latin1');
const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lax = new TextDecoder('utf-8');

/** Names that joblib uses for the wrapper whose BUILD is followed by raw array bytes. */
const ARRAY_WRAPPERS = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);

export class PickleVM {
  // Input window (a view of the reader's buffer, not yet consumed from the reader).
  private buf: Uint8Array = EMPTY;
  private p = 0;
  private bufAbs: number;
  private lim = 0;
  private frameEnd = -1;

  private stack: PyValue[] = [];
  private marks: number[] = [];
  private fence = 0;
  /** The memo in pages of 4096 slots (indices below 2^26), a Map above: a huge index allocates nothing. */
  private memoPages: Array<Array<PyValue | undefined> | undefined> = [];
  private memoBits: Array<Uint8Array | undefined> = [];
  private memoMap: Map<number, PyValue> | undefined;
  private memoCount = 0;
  private retained = 0;
  private readonly maxRetained: number;
  private readonly mode: 'linear' | 'cfile';
  protocol = 0;
  private opStart = 0;
  private ops = 0;
  readonly used = new Uint8Array(256);
  /** Largest expanded container size seen (shared references counted each time). */
  maxWeight = 0;
  /** Set once a frame straddle or nested frame was seen (the C file reading may differ). */
  frameDivergence = false;

  constructor(
    private readonly reader: ByteReader,
    private readonly sink: VmSink,
    private readonly opts: VmOptions,
  ) {
    this.bufAbs = reader.pos;
    this.maxRetained = opts.maxRetained ?? 300_000;
    this.mode = opts.mode ?? 'linear';
  }

  /** Absolute offset of the next byte. */
  get pos(): number {
    return this.bufAbs + this.p;
  }

  get opcodeCount(): number {
    return this.ops;
  }

  /**
   * Prepares the VM for the next stream of the same data after the reader was moved (findNextStream):
   * stack, marks and frames reset; the memo is kept, as an Unpickler object that is asked to load() again
   * keeps it (a second stream can GET what the first PUT).
   */
  resetForNextStream(): void {
    this.stack = [];
    this.marks = [];
    this.fence = 0;
    this.frameEnd = -1;
    this.protocol = 0;
    this.buf = this.reader.available > 0 ? this.reader.peek(this.reader.available) : EMPTY;
    this.p = 0;
    this.bufAbs = this.reader.pos;
    this.updateLim();
  }

  /** Hands the consumed bytes back to the reader (its position becomes this.pos). */
  commit(): void {
    if (this.p > 0) {
      this.reader.take(this.p);
      this.p = 0;
      this.buf = this.reader.available > 0 ? this.reader.peek(this.reader.available) : EMPTY;
      this.bufAbs = this.reader.pos;
      this.updateLim();
    }
  }

  private updateLim(): void {
    this.lim = this.frameEnd >= 0 ? Math.min(this.buf.length, this.frameEnd - this.bufAbs) : this.buf.length;
    if (this.lim < this.p) this.lim = this.p;
  }

  private async refill(n: number): Promise<boolean> {
    this.reader.take(this.p);
    this.p = 0;
    const ok = await this.reader.ensure(n);
    this.buf = this.reader.available > 0 ? this.reader.peek(this.reader.available) : EMPTY;
    this.bufAbs = this.reader.pos;
    this.updateLim();
    return ok;
  }

  private broken(reason: string, at = this.opStart): never {
    throw new BrokenStreamError(reason, at);
  }

  /** Frame bookkeeping for a read of n bytes starting at the current position that passes the frame end. */
  private async crossFrame(n: number): Promise<void> {
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
      `${OPCODE_NAMES[this.buf[this.opStart - this.bufAbs] ?? -1] ?? 'an opcode'} reads ${n} bytes across the end of its frame (frame ends at ${this.frameEnd})`,
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
  private adv(n: number): number {
    const at = this.p;
    this.p = at + n;
    return at;
  }

  /** Makes n bytes readable at this.p (handling frames); returns the index in this.buf and advances. */
  private async need(n: number): Promise<number> {
    if (this.frameEnd >= 0 && this.pos + n > this.frameEnd) await this.crossFrame(n);
    if (this.p + n > this.buf.length) {
      if (!(await this.refill(n))) this.broken(`pickle data was truncated (needed ${n} bytes)`);
    }
    this.updateLim();
    const at = this.p;
    this.p += n;
    return at;
  }

  /** Skips n bytes without frame handling. Throws a broken stream at the end of the data. */
  private async skipRaw(n: number): Promise<void> {
    if (this.p + n <= this.buf.length) {
      this.p += n;
      return;
    }
    this.reader.take(this.p);
    const got = await this.reader.skip(n - 0);
    this.p = 0;
    this.buf = this.reader.available > 0 ? this.reader.peek(this.reader.available) : EMPTY;
    this.bufAbs = this.reader.pos;
    this.updateLim();
    if (got < n) this.broken(`pickle data was truncated (payload of ${n} bytes)`);
  }

  /** Skips a payload of n bytes (frame-aware). */
  private async skipPayload(n: number): Promise<void> {
    if (this.frameEnd >= 0 && this.pos + n > this.frameEnd) await this.crossFrame(n);
    await this.skipRaw(n);
  }

  /** Reads a "\n"-terminated argument; returns [start, end) in this.buf (end excludes the newline). */
  private async line(): Promise<[number, number]> {
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

  // -------------------------------------------------------------------------------------------------
  // stack and memo

  private push(v: PyValue): void {
    this.stack.push(v);
  }

  private pop(): PyValue {
    if (this.stack.length <= this.fence) this.broken('unpickling stack underflow');
    return this.stack.pop() as PyValue;
  }

  private top(): PyValue {
    if (this.stack.length <= this.fence) this.broken('unpickling stack underflow');
    return this.stack[this.stack.length - 1] as PyValue;
  }

  private popMark(): PyValue[] {
    if (this.marks.length === 0) this.broken('could not find MARK');
    const m = this.marks.pop() as number;
    this.fence = this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0;
    const items = this.stack.splice(m);
    return items;
  }

  private keep(): boolean {
    return ++this.retained <= this.maxRetained;
  }

  /** Items of small containers (joblib wrapper states, dtype tuples) are kept up to a hard cap. */
  private keepSmall(n: number): boolean {
    this.retained += n;
    return this.retained <= this.maxRetained * 4;
  }

  private memoPut(idx: number, v: PyValue): void {
    if (idx < 0) this.broken('negative PUT argument');
    let stored = v;
    if (this.retained > this.maxRetained) {
      // Past the retention budget only security-relevant values stay (globals, calls, persistent refs),
      // and, up to a hard cap, short strings and small containers (names, dict keys, shapes, dtypes that
      // later GETs feed to STACK_GLOBAL or to a joblib wrapper).
      if (typeof v === 'string') {
        if (v.length > 64 || !this.keepSmall(1)) stored = DROPPED;
      } else if (typeof v !== 'object' || v === null) {
        this.retained++;
      } else {
        const k = v.kind;
        if (k === 'global' || k === 'call' || k === 'persistent') {
          if (++this.retained > this.maxRetained * 16) {
            throw new BudgetExceededError('maxMemo', `retained pickle values: ${this.retained}`);
          }
        } else if (k === 'tuple') {
          // Small tuples (shapes, dtype arguments) that later GETs hand to a joblib wrapper or a call.
          const w = (v as PyTuple).w;
          if (w > 64 || !this.keepSmall(w)) stored = DROPPED;
        } else stored = DROPPED;
      }
    } else this.retained++;
    if (idx < MEMO_PAGED) {
      const pi = idx >>> MEMO_PAGE_BITS;
      const slot = idx & MEMO_PAGE_MASK;
      let page = this.memoPages[pi];
      let bits = this.memoBits[pi];
      const had =
        (page !== undefined && page[slot] !== undefined) ||
        (bits !== undefined && (bits[slot >>> 3]! & (1 << (slot & 7))) !== 0);
      if (!had) this.memoCount++;
      if (stored === DROPPED) {
        // Values not retained only need to exist (a GET of them is legal): one bit each.
        if (bits === undefined) {
          bits = new Uint8Array(1 << (MEMO_PAGE_BITS - 3));
          this.memoBits[pi] = bits;
        }
        bits[slot >>> 3]! |= 1 << (slot & 7);
        if (page !== undefined) page[slot] = undefined;
      } else {
        if (page === undefined) {
          page = new Array(1 << MEMO_PAGE_BITS);
          this.memoPages[pi] = page;
        }
        page[slot] = stored;
        if (bits !== undefined) bits[slot >>> 3]! &= ~(1 << (slot & 7));
      }
    } else {
      this.memoMap ??= new Map();
      if (!this.memoMap.has(idx)) this.memoCount++;
      this.memoMap.set(idx, stored);
    }
    if (this.memoCount > this.opts.maxMemo) {
      throw new BudgetExceededError(
        'maxMemo',
        `pickle memo entries: ${this.memoCount} > ${this.opts.maxMemo}`,
      );
    }
  }

  private memoGet(idx: number): PyValue {
    let v: PyValue | undefined;
    if (idx >= 0 && idx < MEMO_PAGED) {
      const pi = idx >>> MEMO_PAGE_BITS;
      const slot = idx & MEMO_PAGE_MASK;
      v = this.memoPages[pi]?.[slot];
      if (v === undefined) {
        const bits = this.memoBits[pi];
        if (bits !== undefined && (bits[slot >>> 3]! & (1 << (slot & 7))) !== 0) v = DROPPED;
      }
    } else v = this.memoMap?.get(idx);
    if (v === undefined) this.broken(`memo value not found at index ${idx}`);
    return v;
  }

  // -------------------------------------------------------------------------------------------------
  // argument decoding helpers

  private str(at: number, n: number, enc: 'utf8' | 'latin1'): string {
    const b = this.buf;
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

  private lineText(s: number, e: number): string {
    return this.str(s, e - s, 'latin1');
  }

  private checkLen(n: number | bigint, what: string): number {
    if (typeof n === 'bigint') {
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.broken(`${what} length ${n} is impossible`);
      n = Number(n);
    }
    if (this.opts.dataEnd !== undefined && this.pos + n > this.opts.dataEnd) {
      this.broken(`pickle data was truncated (${what} of ${n} bytes past the end of the data)`);
    }
    return n;
  }

  /** Reads (or skips) a str/bytes payload of n bytes. */
  private async payload(n: number, kind: 'utf8' | 'latin1' | 'bytes', bytearray = false): Promise<PyValue> {
    const start = this.pos;
    const minPayload = this.opts.minPayload ?? 16;
    if (n > this.opts.maxStringBytes) {
      // Too large to buffer: look at its head, then skip it by length.
      if (this.frameEnd >= 0 && this.pos + n > this.frameEnd) await this.crossFrame(n);
      const headLen = Math.min(64, n);
      if (this.p + headLen > this.buf.length) await this.refill(headLen);
      const head = this.buf.slice(this.p, this.p + Math.min(headLen, this.buf.length - this.p));
      this.sink.onPayload({ offset: this.pos, length: n, head });
      await this.skipRaw(n);
      return kind === 'bytes'
        ? new PyBytes(n, undefined, start, bytearray)
        : new PyUnknown('str payload not retained (larger than maxStringBytes)');
    }
    const at = this.p + n <= this.lim ? this.adv(n) : await this.need(n);
    if (kind === 'bytes') {
      let data: Uint8Array | undefined;
      // Bytes are checked from 8 bytes on: `cos\nabort\n)R.` is a complete payload in 14.
      if (n >= Math.min(minPayload, 8)) {
        data = this.buf.slice(at, at + n);
        this.sink.onPayload({ offset: this.bufAbs + at, length: n, data, head: data.subarray(0, 64) });
        if (n > 4096 && !this.keep()) data = undefined;
      } else data = this.buf.slice(at, at + n);
      return new PyBytes(n, data, start, bytearray);
    }
    const s = this.str(at, n, kind);
    if (n >= minPayload) {
      this.sink.onPayload({
        offset: this.bufAbs + at,
        length: n,
        text: s,
        head: this.buf.subarray(at, at + Math.min(64, n)),
      });
    }
    return s;
  }

  // -------------------------------------------------------------------------------------------------
  // the interpreter loop

  /** Runs one stream from the current reader position to STOP. Throws BrokenStreamError / budget errors. */
  async run(): Promise<StreamResult> {
    const budget = this.opts.budget;
    let batch = 0;
    let first = true;
    for (;;) {
      // The common opcodes run in a small synchronous loop; it returns at the first opcode it does not
      // handle, or whose bytes are not all in the window/frame, and the general code below runs that one.
      if (!first && this.p < this.lim) batch = this.fast(batch);
      // Fetch the opcode byte.
      if (this.p >= this.lim) {
        if (this.frameEnd >= 0 && this.pos >= this.frameEnd) {
          this.frameEnd = -1;
          this.updateLim();
        }
        if (this.p >= this.buf.length && !(await this.refill(1))) {
          this.opStart = this.pos;
          this.broken(first ? 'empty pickle stream' : 'pickle data was truncated (no STOP)');
        }
      }
      this.opStart = this.bufAbs + this.p;
      const op = this.buf[this.p++]!;
      this.used[op] = 1;
      if (++batch >= OP_BATCH) {
        budget.consume('maxOpcodes', batch);
        this.ops += batch;
        batch = 0;
        budget.checkTime();
        if (this.stack.length + this.marks.length > this.opts.maxStackDepth) {
          throw new BudgetExceededError(
            'maxStackDepth',
            `pickle stack depth ${this.stack.length + this.marks.length}`,
          );
        }
      }
      const wasFirst = first;
      first = false;
      switch (op) {
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          this.fence = this.stack.length;
          if (this.marks.length > this.opts.maxStackDepth) {
            throw new BudgetExceededError('maxStackDepth', `pickle mark stack depth ${this.marks.length}`);
          }
          break;
        case 0x2e: {
          // STOP
          const value = this.pop();
          budget.consume('maxOpcodes', batch);
          this.ops += batch;
          this.commit();
          return { end: this.pos, value, protocol: this.protocol, opcodes: this.ops, used: this.used };
        }
        case 0x30: // POP
          if (this.marks.length > 0 && this.marks[this.marks.length - 1] === this.stack.length) {
            this.marks.pop();
            this.fence = this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0;
          } else this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.push(this.top());
          break;
        case 0x46: {
          // FLOAT
          const [s, e] = await this.line();
          const t = this.lineText(s, e).trim();
          const f = Number(t);
          if (t === '' || (Number.isNaN(f) && !/^[+-]?(nan|inf|infinity)$/i.test(t)))
            this.broken('could not convert string to float');
          this.push(Number.isNaN(f) ? parseSpecialFloat(t) : f);
          break;
        }
        case 0x49: {
          // INT
          const [s, e] = await this.line();
          const t = this.lineText(s, e);
          if (t === '00') this.push(false);
          else if (t === '01') this.push(true);
          else this.push(this.parseInt(t));
          break;
        }
        case 0x4c: {
          // LONG
          const [s, e] = await this.line();
          let t = this.lineText(s, e);
          if (t.endsWith('L')) t = t.slice(0, -1);
          this.push(this.parseInt(t));
          break;
        }
        case 0x4a: {
          // BININT
          const at = this.p + 4 <= this.lim ? this.adv(4) : await this.need(4);
          const b = this.buf;
          this.push(b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24));
          break;
        }
        case 0x4b: {
          // BININT1
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          this.push(this.buf[at]!);
          break;
        }
        case 0x4d: {
          // BININT2
          const at = this.p + 2 <= this.lim ? this.adv(2) : await this.need(2);
          this.push(this.buf[at]! | (this.buf[at + 1]! << 8));
          break;
        }
        case 0x4e: // NONE
          this.push(null);
          break;
        case 0x88: // NEWTRUE
          this.push(true);
          break;
        case 0x89: // NEWFALSE
          this.push(false);
          break;
        case 0x47: {
          // BINFLOAT
          const at = this.p + 8 <= this.lim ? this.adv(8) : await this.need(8);
          const b = this.buf;
          for (let i = 0; i < 8; i++) F64_BYTES[i] = b[at + 7 - i]!;
          this.push(F64[0]!);
          break;
        }
        case 0x8a: {
          // LONG1
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          const n = this.buf[at]!;
          const s = await this.need(n);
          this.push(decodeLong(this.buf, s, n));
          break;
        }
        case 0x8b: {
          // LONG4
          const at = await this.need(4);
          const b = this.buf;
          const n = b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
          if (n < 0) this.broken('LONG pickle has negative byte count');
          this.checkLen(n, 'LONG4');
          if (n > 4096) {
            await this.skipPayload(n);
            this.push(new PyUnknown(`integer of ${n} bytes`));
          } else {
            const s = await this.need(n);
            this.push(decodeLong(this.buf, s, n));
          }
          break;
        }
        case 0x53: {
          // STRING
          const [s, e] = await this.line();
          this.push(this.parseStringLiteral(this.lineText(s, e)));
          break;
        }
        case 0x56: {
          // UNICODE
          const [s, e] = await this.line();
          const text = rawUnicodeEscape(this.lineText(s, e));
          if (text.length >= (this.opts.minPayload ?? 16)) {
            this.sink.onPayload({
              offset: this.bufAbs + s,
              length: text.length,
              text,
              head: this.buf.slice(s, Math.min(e, s + 64)),
            });
          }
          this.push(text);
          break;
        }
        case 0x54: {
          // BINSTRING
          const at = await this.need(4);
          const b = this.buf;
          const n = b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
          if (n < 0) this.broken('BINSTRING pickle has negative byte count');
          this.push(await this.payload(this.checkLen(n, 'BINSTRING'), 'latin1'));
          break;
        }
        case 0x55: {
          // SHORT_BINSTRING
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          this.push(await this.payload(this.buf[at]!, 'latin1'));
          break;
        }
        case 0x58: {
          // BINUNICODE
          const at = this.p + 4 <= this.lim ? this.adv(4) : await this.need(4);
          const b = this.buf;
          const n = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
          this.push(await this.payload(this.checkLen(n, 'BINUNICODE'), 'utf8'));
          break;
        }
        case 0x8c: {
          // SHORT_BINUNICODE
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          const n = this.buf[at]!;
          if (n < (this.opts.minPayload ?? 16) && this.p + n <= this.lim) {
            this.push(this.str(this.p, n, 'utf8'));
            this.p += n;
          } else this.push(await this.payload(n, 'utf8'));
          break;
        }
        case 0x8d: {
          // BINUNICODE8
          const n = await this.u64();
          this.push(await this.payload(this.checkLen(n, 'BINUNICODE8'), 'utf8'));
          break;
        }
        case 0x42: {
          // BINBYTES
          const at = await this.need(4);
          const b = this.buf;
          const n = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
          this.push(await this.payload(this.checkLen(n, 'BINBYTES'), 'bytes'));
          break;
        }
        case 0x43: {
          // SHORT_BINBYTES
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          this.push(await this.payload(this.buf[at]!, 'bytes'));
          break;
        }
        case 0x8e: {
          // BINBYTES8
          const n = await this.u64();
          this.push(await this.payload(this.checkLen(n, 'BINBYTES8'), 'bytes'));
          break;
        }
        case 0x96: {
          // BYTEARRAY8
          const n = await this.u64();
          this.push(await this.payload(this.checkLen(n, 'BYTEARRAY8'), 'bytes', true));
          break;
        }
        case 0x97: // NEXT_BUFFER
          // pickle.loads without buffers= raises here; with buffers the loader supplies the object.
          this.push(OUT_OF_BAND);
          break;
        case 0x98: // READONLY_BUFFER
          this.top();
          break;
        case 0x29: // EMPTY_TUPLE
          this.push(new PyTuple([]));
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: // TUPLE3
        case 0x74: // TUPLE
        case 0x6c: // LIST
        case 0x64: // DICT
        case 0x61: // APPEND
        case 0x65: // APPENDS
        case 0x73: // SETITEM
        case 0x75: // SETITEMS
          this.shape(op);
          break;
        case 0x5d: // EMPTY_LIST
          this.push(new PyList());
          break;
        case 0x7d: // EMPTY_DICT
          this.push(new PyDict());
          break;
        case 0x8f: // EMPTY_SET
          this.push(new PySet('set'));
          break;
        case 0x91: {
          // FROZENSET
          const items = this.popMark();
          const s = new PySet('frozenset');
          this.fill(s, items);
          this.push(s);
          break;
        }
        case 0x90: {
          // ADDITEMS
          const items = this.popMark();
          this.appendTo(this.top(), items, 'ADDITEMS');
          break;
        }
        case 0x68: {
          // BINGET
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          this.push(this.memoGet(this.buf[at]!));
          break;
        }
        case 0x6a: {
          // LONG_BINGET
          const at = this.p + 4 <= this.lim ? this.adv(4) : await this.need(4);
          const b = this.buf;
          this.push(this.memoGet((b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000));
          break;
        }
        case 0x67: {
          // GET
          const [s, e] = await this.line();
          this.push(this.memoGet(this.parseIndex(this.lineText(s, e))));
          break;
        }
        case 0x71: {
          // BINPUT
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          this.memoPut(this.buf[at]!, this.top());
          break;
        }
        case 0x72: {
          // LONG_BINPUT
          const at = this.p + 4 <= this.lim ? this.adv(4) : await this.need(4);
          const b = this.buf;
          this.memoPut(
            (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000,
            this.top(),
          );
          break;
        }
        case 0x70: {
          // PUT
          const [s, e] = await this.line();
          this.memoPut(this.parseIndex(this.lineText(s, e)), this.top());
          break;
        }
        case 0x94: // MEMOIZE
          this.memoPut(this.memoCount, this.top());
          break;
        case 0x63: {
          // GLOBAL
          const at = this.opStart;
          const [ms, me] = await this.line();
          const module = this.lineText(ms, me);
          const [ns, ne] = await this.line();
          const name = this.lineText(ns, ne);
          const g = new PyGlobal(utf8Text(module), utf8Text(name), at, 'GLOBAL');
          this.sink.onImport(g);
          this.push(g);
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          const constant = (v: PyValue) => typeof v === 'string';
          const computed = (v: PyValue) =>
            v instanceof PyCall || v instanceof PyUnknown || v instanceof PyPersistent;
          if ((!constant(module) && !computed(module)) || (!constant(name) && !computed(name))) {
            this.broken('STACK_GLOBAL requires str');
          }
          const g = new PyGlobal(
            typeof module === 'string' ? module : undefined,
            typeof name === 'string' ? name : undefined,
            this.opStart,
            module === DROPPED || name === DROPPED ? 'STACK_GLOBAL:dropped' : 'STACK_GLOBAL',
          );
          this.sink.onImport(g);
          this.push(g);
          break;
        }
        case 0x69: {
          // INST
          const at = this.opStart;
          const [ms, me] = await this.line();
          const module = this.lineText(ms, me);
          const [ns, ne] = await this.line();
          const name = this.lineText(ns, ne);
          const g = new PyGlobal(utf8Text(module), utf8Text(name), at, 'INST');
          this.sink.onImport(g);
          const args = this.popMark();
          this.call(g, this.retainTuple(args), 'INST', at);
          break;
        }
        case 0x6f: {
          // OBJ
          const items = this.popMark();
          if (items.length < 1) this.broken('unpickling stack underflow (OBJ without class)');
          const cls = items.shift() as PyValue;
          this.call(cls, this.retainTuple(items), 'OBJ', this.opStart);
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.pop();
          const fn = this.pop();
          this.call(fn, args, 'REDUCE', this.opStart);
          break;
        }
        case 0x81: {
          // NEWOBJ
          const args = this.pop();
          const cls = this.pop();
          this.call(cls, args, 'NEWOBJ', this.opStart);
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = this.pop();
          const args = this.pop();
          const cls = this.pop();
          this.call(cls, args, 'NEWOBJ_EX', this.opStart, kwargs);
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          const inst = this.top();
          const at = this.opStart;
          if (inst instanceof PyCall) inst.state = state;
          this.sink.onBuild(inst, state, at);
          if (
            this.opts.joblib !== false &&
            inst instanceof PyCall &&
            inst.callee instanceof PyGlobal &&
            ARRAY_WRAPPERS.has(`${inst.callee.module}.${inst.callee.name}`)
          ) {
            await this.joblibArray(inst, state, at);
          }
          break;
        }
        case 0x50: {
          // PERSID
          const [s, e] = await this.line();
          const p = new PyPersistent(this.lineText(s, e), this.opStart);
          this.push(this.sink.onPersistent(p, 'PERSID') ?? p);
          break;
        }
        case 0x51: {
          // BINPERSID
          const pid = this.pop();
          const p = new PyPersistent(pid, this.opStart);
          this.push(this.sink.onPersistent(p, 'BINPERSID') ?? p);
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: {
          // EXT4
          const n = op === OP.EXT1 ? 1 : op === OP.EXT2 ? 2 : 4;
          const at = await this.need(n);
          const b = this.buf;
          const code =
            n === 1
              ? b[at]!
              : n === 2
                ? b[at]! | (b[at + 1]! << 8)
                : b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
          if (code <= 0) this.broken('EXT specifies code <= 0');
          const g = new PyGlobal(undefined, undefined, this.opStart, `EXT${n}:${code}`);
          this.sink.onImport(g);
          this.push(g);
          break;
        }
        case 0x80: {
          // PROTO
          const at = this.p + 1 <= this.lim ? this.adv(1) : await this.need(1);
          const v = this.buf[at]!;
          if (!wasFirst) {
            this.sink.onAnomaly('protocol-misplaced', `PROTO ${v} in the middle of the stream`, this.opStart);
          }
          if (v > 5) {
            this.sink.onAnomaly(
              'protocol-unsupported',
              `pickle protocol ${v} is higher than any Python supports (5); current CPython refuses it, a future one may not`,
              this.opStart,
            );
          }
          this.protocol = v;
          break;
        }
        case 0x95: {
          // FRAME
          const at = this.opStart;
          const n = this.checkFrameLen(await this.u64());
          if (this.frameEnd >= 0 && this.pos < this.frameEnd) {
            this.frameDivergence = true;
            this.sink.onAnomaly(
              'frame-nested',
              `FRAME at ${at} starts inside the previous frame (ends at ${this.frameEnd})`,
              at,
            );
            if (this.mode === 'cfile') {
              if (this.pos + n <= this.frameEnd) break; // fits in the current buffer: C only rewinds
              await this.skipRaw(this.frameEnd - this.pos);
            }
          }
          if (this.opts.dataEnd !== undefined && this.pos + n > this.opts.dataEnd) {
            this.sink.onAnomaly(
              'frame-overrun',
              `FRAME declares ${n} bytes but only ${this.opts.dataEnd - this.pos} remain`,
              at,
            );
            if (this.mode === 'cfile')
              this.broken('pickle data was truncated (FRAME longer than the data)', at);
          }
          this.frameEnd = this.pos + n;
          this.updateLim();
          break;
        }
        default:
          this.broken(`invalid load key 0x${op.toString(16).padStart(2, '0')}`);
      }
      void VALID_OPCODE;
    }
  }

  /**
   * The hot path: data-building opcodes whose arguments are already in the window (and the current frame).
   * Semantics are identical to the general switch in run(); anything else is left to it. Returns the
   * opcode count not yet charged to the budget.
   */
  private fast(batch: number): number {
    const b = this.buf;
    const lim = this.lim;
    const st = this.stack;
    const used = this.used;
    const minPayload = this.opts.minPayload ?? 16;
    let p = this.p;
    while (p < lim) {
      const os = p;
      const op = b[p++]!;
      switch (op) {
        case 0x4e: // NONE
          st.push(null);
          break;
        case 0x88: // NEWTRUE
          st.push(true);
          break;
        case 0x89: // NEWFALSE
          st.push(false);
          break;
        case 0x28: // MARK
          if (this.marks.length >= this.opts.maxStackDepth) {
            this.p = os;
            return batch;
          }
          this.marks.push(st.length);
          this.fence = st.length;
          break;
        case 0x30: // POP
          if (this.marks.length > 0 && this.marks[this.marks.length - 1] === st.length) {
            this.marks.pop();
            this.fence = this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0;
          } else {
            this.p = p;
            this.opStart = this.bufAbs + os;
            this.pop();
          }
          break;
        case 0x4b: // BININT1
          if (p + 1 > lim) {
            this.p = os;
            return batch;
          }
          st.push(b[p++]!);
          break;
        case 0x4d: // BININT2
          if (p + 2 > lim) {
            this.p = os;
            return batch;
          }
          st.push(b[p]! | (b[p + 1]! << 8));
          p += 2;
          break;
        case 0x4a: // BININT
          if (p + 4 > lim) {
            this.p = os;
            return batch;
          }
          st.push(b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24));
          p += 4;
          break;
        case 0x47: // BINFLOAT
          if (p + 8 > lim) {
            this.p = os;
            return batch;
          }
          for (let i = 0; i < 8; i++) F64_BYTES[i] = b[p + 7 - i]!;
          st.push(F64[0]!);
          p += 8;
          break;
        case 0x8c: // SHORT_BINUNICODE
        case 0x58: {
          // BINUNICODE (when the whole string is in the window)
          const k = op === 0x8c ? 1 : 4;
          if (p + k > lim) {
            this.p = os;
            return batch;
          }
          const n = k === 1 ? b[p]! : (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
          if (p + k + n > lim || n > this.opts.maxStringBytes) {
            this.p = os;
            return batch;
          }
          const text = this.str(p + k, n, 'utf8');
          if (n >= minPayload) {
            this.sink.onPayload({
              offset: this.bufAbs + p + k,
              length: n,
              text,
              head: b.subarray(p + k, p + k + Math.min(64, n)),
            });
          }
          st.push(text);
          p += k + n;
          break;
        }
        case 0x7d: // EMPTY_DICT
          st.push(new PyDict());
          break;
        case 0x5d: // EMPTY_LIST
          st.push(new PyList());
          break;
        case 0x29: // EMPTY_TUPLE
          st.push(new PyTuple([]));
          break;
        case 0x68: // BINGET
          if (p + 1 > lim) {
            this.p = os;
            return batch;
          }
          this.p = p;
          this.opStart = this.bufAbs + os;
          st.push(this.memoGet(b[p++]!));
          break;
        case 0x6a: // LONG_BINGET
          if (p + 4 > lim) {
            this.p = os;
            return batch;
          }
          this.p = p;
          this.opStart = this.bufAbs + os;
          st.push(this.memoGet((b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000));
          p += 4;
          break;
        case 0x71: // BINPUT
        case 0x72: // LONG_BINPUT
        case 0x94: {
          // MEMOIZE
          const k = op === 0x71 ? 1 : op === 0x72 ? 4 : 0;
          if (p + k > lim || st.length <= this.fence) {
            this.p = os;
            return batch;
          }
          const idx =
            op === 0x94
              ? this.memoCount
              : k === 1
                ? b[p]!
                : (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
          p += k;
          this.opStart = this.bufAbs + os;
          this.memoPut(idx, st[st.length - 1] as PyValue);
          break;
        }
        case 0x61: // APPEND
        case 0x73: // SETITEM
        case 0x65: // APPENDS
        case 0x75: // SETITEMS
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: // TUPLE3
        case 0x74: // TUPLE
        case 0x6c: // LIST
        case 0x64: // DICT
          // Stack-shaping opcodes: the general code is exact; run it here without the async round trip.
          this.p = p;
          this.opStart = this.bufAbs + os;
          this.shape(op);
          p = this.p;
          break;
        default:
          this.p = os;
          return batch;
      }
      used[op] = 1;
      if (++batch >= OP_BATCH) {
        this.p = p;
        this.opStart = this.bufAbs + os;
        this.chargeBatch(batch);
        batch = 0;
      }
    }
    this.p = p;
    return batch;
  }

  private chargeBatch(batch: number): void {
    this.opts.budget.consume('maxOpcodes', batch);
    this.ops += batch;
    this.opts.budget.checkTime();
    if (this.stack.length + this.marks.length > this.opts.maxStackDepth) {
      throw new BudgetExceededError(
        'maxStackDepth',
        `pickle stack depth ${this.stack.length + this.marks.length}`,
      );
    }
  }

  /** Container-building opcodes (no arguments): the one implementation, for the hot loop and the general step. */
  private shape(op: number): void {
    switch (op) {
      case 0x61: {
        const item = this.pop();
        this.appendTo(this.top(), [item], 'APPEND');
        return;
      }
      case 0x65: {
        if (this.bulkInPlace(0x65)) return;
        const items = this.popMark();
        this.appendTo(this.top(), items, 'APPEND');
        return;
      }
      case 0x73: {
        const v = this.pop();
        const k = this.pop();
        this.setItemsOn(this.top(), [k, v]);
        return;
      }
      case 0x75: {
        if (this.bulkInPlace(0x75)) return;
        const items = this.popMark();
        if (items.length % 2 !== 0) this.broken('odd number of items for SETITEMS');
        this.setItemsOn(this.top(), items);
        return;
      }
      case 0x85:
        this.push(this.retainTuple([this.pop()]));
        return;
      case 0x86: {
        const b = this.pop();
        const a = this.pop();
        this.push(this.retainTuple([a, b]));
        return;
      }
      case 0x87: {
        const c = this.pop();
        const b = this.pop();
        const a = this.pop();
        this.push(this.retainTuple([a, b, c]));
        return;
      }
      case 0x74:
        this.push(this.retainTuple(this.popMark()));
        return;
      case 0x6c: {
        const items = this.popMark();
        const l = new PyList();
        this.fill(l, items);
        this.push(l);
        return;
      }
      case 0x64: {
        const items = this.popMark();
        if (items.length % 2 !== 0) this.broken('odd number of items for DICT');
        const d = new PyDict();
        this.setItems(d, items);
        this.push(d);
        return;
      }
    }
  }

  private checkFrameLen(n: bigint): number {
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) this.broken(`FRAME length ${n} is impossible`);
    return Number(n);
  }

  private async u64(): Promise<bigint> {
    const at = await this.need(8);
    const b = this.buf;
    const lo = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000;
    const hi = (b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16)) + b[at + 7]! * 0x1000000;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  private parseInt(t: string): number | bigint {
    const s = t.trim();
    if (!/^[+-]?\d+$/.test(s)) this.broken(`invalid literal for int(): ${JSON.stringify(t.slice(0, 40))}`);
    if (s.length < 16) return Number(s);
    const b = BigInt(s);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }

  private parseIndex(t: string): number {
    const v = this.parseInt(t);
    if (typeof v === 'bigint') this.broken('memo index out of range');
    if (v < 0) this.broken('negative memo index');
    return v;
  }

  private parseStringLiteral(t: string): string {
    // CPython load_string: strip trailing whitespace? No: requires matching quotes, then escape-decodes.
    const q = t[0];
    if (t.length < 2 || (q !== "'" && q !== '"') || t[t.length - 1] !== q) {
      this.broken('the STRING opcode argument must be quoted');
    }
    return pyEscapeDecode(t.slice(1, -1));
  }

  private retainTuple(items: PyValue[]): PyTuple {
    let t: PyTuple;
    if (items.length <= 8 ? this.keepSmall(items.length) : this.retained + items.length <= this.maxRetained) {
      if (items.length > 8) this.retained += items.length;
      t = new PyTuple(items);
    } else {
      const keep = this.retained <= this.maxRetained * 4 ? 8 : 0;
      t = new PyTuple(items.slice(0, keep), items.length - keep);
      for (let i = keep; i < items.length; i++) t.w += weight(items[i]!);
    }
    if (t.w > this.maxWeight) this.maxWeight = t.w;
    return t;
  }

  private grow(c: PyList | PySet | PyDict, w: number): void {
    c.w += w;
    if (c.w > this.maxWeight) this.maxWeight = c.w;
  }

  private fill(c: PyList | PySet, items: PyValue[], start = 0, end = items.length): void {
    let w = 0;
    for (let i = start; i < end; i++) w += weight(items[i]!);
    this.grow(c, w);
    const small = c.items.length + c.dropped + (end - start) <= 32;
    if (this.retained >= this.maxRetained && (!small || this.retained >= this.maxRetained * 4)) {
      this.retained += end - start;
      c.dropped += end - start;
      return;
    }
    for (let i = start; i < end; i++) {
      if (small ? this.keepSmall(1) : this.keep()) {
        if (c.items === NO_ITEMS) (c as { items: PyValue[] }).items = [];
        c.items.push(items[i]!);
      } else c.dropped++;
    }
  }

  private setItems(d: PyDict, items: PyValue[], start = 0, end = items.length): void {
    let w = 0;
    for (let i = start; i < end; i++) w += weight(items[i]!);
    this.grow(d, w);
    const small = d.keys.length + d.dropped + ((end - start) >> 1) <= 32;
    if (this.retained >= this.maxRetained && (!small || this.retained >= this.maxRetained * 4)) {
      this.retained += (end - start) >> 1;
      d.dropped += (end - start) >> 1;
      return;
    }
    for (let i = start; i + 1 < end; i += 2) {
      if (small ? this.keepSmall(1) : this.keep()) {
        if (d.keys === NO_ITEMS) {
          (d as { keys: PyValue[] }).keys = [];
          (d as { values: PyValue[] }).values = [];
        }
        d.keys.push(items[i]!);
        d.values.push(items[i + 1]!);
      } else d.dropped++;
    }
  }

  /** SETITEMS / APPENDS onto a plain dict / list: reads the items in place on the stack (no copy). */
  private bulkInPlace(op: 0x65 | 0x75): boolean {
    if (this.marks.length === 0) return false;
    const m = this.marks[this.marks.length - 1] as number;
    const prevFence = this.marks.length > 1 ? (this.marks[this.marks.length - 2] as number) : 0;
    // The target must sit above the previous mark, or the unpickler underflows (the general path reports it).
    if (m <= prevFence) return false;
    const target = this.stack[m - 1];
    const st = this.stack;
    if (op === 0x75) {
      if (!(target instanceof PyDict) || (st.length - m) % 2 !== 0) return false;
      this.setItems(target, st, m, st.length);
    } else {
      if (!(target instanceof PyList)) return false;
      this.fill(target, st, m, st.length);
    }
    while (st.length > m) st.pop();
    this.marks.pop();
    this.fence = prevFence;
    return true;
  }

  private appendTo(target: PyValue, items: PyValue[], op: 'APPEND' | 'ADDITEMS'): void {
    if (op === 'APPEND' ? target instanceof PyList : target instanceof PySet && target.kind === 'set') {
      this.fill(target as PyList | PySet, items);
      return;
    }
    this.sink.onMutate(target, op, this.opStart);
    if (target instanceof PyCall) for (const it of items) if (this.keep()) target.items.push(it);
  }

  private setItemsOn(target: PyValue, items: PyValue[]): void {
    if (target instanceof PyDict) {
      this.setItems(target, items);
      return;
    }
    this.sink.onMutate(target, 'SETITEM', this.opStart);
    if (target instanceof PyCall) {
      for (let i = 0; i + 1 < items.length; i += 2) {
        if (this.keep()) target.items.push(new PyTuple([items[i]!, items[i + 1]!]));
      }
    }
  }

  private call(callee: PyValue, args: PyValue, opcode: CallOpcode, at: number, kwargs?: PyValue): void {
    const c = new PyCall(callee, args, opcode, at, kwargs);
    this.sink.onCall(c);
    this.push(c);
  }

  // -------------------------------------------------------------------------------------------------
  // joblib: raw array bytes follow the BUILD of a NumpyArrayWrapper

  private async joblibArray(wrapper: PyCall, state: PyValue, at: number): Promise<void> {
    const info = describeWrapper(state);
    if (!info)
      throw new JoblibArrayError(
        'joblib NumpyArrayWrapper state is not understood (cannot find its array bytes)',
        at,
      );
    if (info.object) {
      // Object arrays are pickled inline as a complete protocol-2 pickle stream.
      this.commit();
      const sub = new PickleVM(this.reader, this.sink, { ...this.opts, dataEnd: this.opts.dataEnd });
      const r = await sub.run();
      this.ops += sub.opcodeCount;
      this.buf = this.reader.available > 0 ? this.reader.peek(this.reader.available) : EMPTY;
      this.p = 0;
      this.bufAbs = this.reader.pos;
      this.updateLim();
      this.sink.onJoblibArray?.({
        offset: at,
        bytes: r.end - at,
        dtype: info.dtype,
        shape: info.shape,
        object: true,
      });
      return;
    }
    if (info.aligned) {
      const a = await this.need(1);
      const pad = this.buf[a]!;
      if (pad > 0) await this.skipPayload(pad);
    }
    const bytes = info.bytes;
    if (bytes > Number.MAX_SAFE_INTEGER) throw new JoblibArrayError('joblib array size is impossible', at);
    this.checkLen(bytes, 'joblib array');
    await this.skipPayload(bytes);
    void wrapper;
    this.sink.onJoblibArray?.({ offset: at, bytes, dtype: info.dtype, shape: info.shape, object: false });
  }
}
