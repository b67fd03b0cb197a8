// A streaming, symbolic pickle virtual machine. It walks one pickle stream the way CPython's unpickler
// does (stack, mark stack, memo, frames, every opcode of protocols 0-5) but never imports or calls
// anything: imports become PyGlobal nodes, calls become PyCall nodes, and each is reported to a sink with
// its byte offset. Memory is bounded: large payloads are skipped by length, containers and the memo keep
// values only within a retention budget (store.ts, memo.ts), and every count is checked against the
// scan's limits. The input window and frames are in window.ts.
//
// Every opcode has one implementation. Opcodes with a fixed-size argument (or none) whose semantics are
// synchronous run in `exec`, called from the hot loop (`fast`: while the opcode and its argument are in
// the window and the current frame) and from the general loop in `run` (which first awaits the argument
// bytes); the others (lines, payloads, frames, STOP, BUILD) are in `run` alone, and their value-building
// parts (`textAt`, `bytesAt`) are shared with the hot loop.

import { BudgetExceededError } from '../../limits.js';
import { describeWrapper } from './dtype.js';
import { STORE_OPS } from './opcodes.js';
import { PickleStore } from './store.js';
import { decodeLong, parseSpecialFloat, pyEscapeDecode, rawUnicodeEscape, utf8Text } from './text.js';
import {
  type CallOpcode,
  DROPPED,
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
} from './values.js';
import { i32, JoblibArrayError, u32 } from './window.js';

export {
  type AnomalyKind,
  BrokenStreamError,
  JoblibArrayError,
  type VmOptions,
  type VmSink,
} from './window.js';

export interface StreamResult {
  /** Absolute offset just past STOP. */
  end: number;
  value: PyValue;
  protocol: number;
  opcodes: number;
  /** opcode byte → 1 when used in this stream. */
  used: Uint8Array;
}

/** Retention budget units an instance costs (a PyCall and its argument tuple, about four small values). */
const INSTANCE_COST = 4;
/** Opcodes between budget checks (opcode count, time, stack depth). */
const OP_BATCH = 4096;

/** Argument size of the opcodes `exec` runs (-1: the opcode is run by `run` alone). */
const ARG_SIZE = new Int8Array(256).fill(-1);
for (const [op, n] of STORE_OPS) ARG_SIZE[op] = n;

/**
 * The payload opcodes the hot loop runs when the payload is in the window: the size of their length field,
 * and what the payload is (the general loop reads the same opcodes through `payload`).
 */
const PAYLOAD_LEN = new Int8Array(256);
const PAYLOAD_KIND: Array<'utf8' | 'latin1' | 'bytes' | undefined> = new Array(256).fill(undefined);
for (const [op, len, kind] of [
  [0x8c, 1, 'utf8'], // SHORT_BINUNICODE
  [0x58, 4, 'utf8'], // BINUNICODE
  [0x55, 1, 'latin1'], // SHORT_BINSTRING
  [0x54, 4, 'latin1'], // BINSTRING
  [0x43, 1, 'bytes'], // SHORT_BINBYTES
  [0x42, 4, 'bytes'], // BINBYTES
] as const) {
  PAYLOAD_LEN[op] = len;
  PAYLOAD_KIND[op] = kind;
}

/** Names that joblib uses for the wrapper whose BUILD is followed by raw array bytes. */
const ARRAY_WRAPPERS = new Set([
  'joblib.numpy_pickle.NumpyArrayWrapper',
  'sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper',
]);

function ascii(b: Uint8Array, at: number, n: number): boolean {
  let x = 0;
  for (let i = at; i < at + n; i++) x |= b[i]!;
  return x < 0x80;
}

export class PickleVM extends PickleStore {
  protocol = 0;
  private ops = 0;
  readonly used = new Uint8Array(256);

  get opcodeCount(): number {
    return this.ops;
  }

  /**
   * Prepares the VM for the next stream of the same data after the reader was moved (findNextStream):
   * stack, marks and frames reset; the memo is kept, as an Unpickler object that is asked to load() again
   * keeps it (a second stream can GET what the first PUT).
   */
  resetForNextStream(): void {
    this.clearStack();
    this.marks = [];
    this.fence = 0;
    this.frameEnd = -1;
    this.protocol = 0;
    this.rewindow();
  }

  /** Runs one stream from the current reader position to STOP. Throws BrokenStreamError / budget errors. */
  async run(): Promise<StreamResult> {
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
      this.opByte = op;
      this.used[op] = 1;
      if (++batch >= OP_BATCH) {
        this.chargeBatch(batch);
        batch = 0;
      }
      const wasFirst = first;
      first = false;
      const size = ARG_SIZE[op]!;
      if (size >= 0) {
        const a = size === 0 ? this.p : this.arg(size);
        this.exec(op, typeof a === 'number' ? a : await a);
        continue;
      }
      switch (op) {
        case 0x2e: {
          // STOP
          const value = this.pop();
          this.opts.budget.consume('maxOpcodes', batch);
          this.ops += batch;
          this.commit();
          return { end: this.pos, value, protocol: this.protocol, opcodes: this.ops, used: this.used };
        }
        case 0x46: {
          // FLOAT
          const t = (await this.lineText()).trim();
          const f = Number(t);
          if (t === '' || (Number.isNaN(f) && !/^[+-]?(nan|inf|infinity)$/i.test(t)))
            this.broken('could not convert string to float');
          this.push(Number.isNaN(f) ? parseSpecialFloat(t) : f);
          break;
        }
        case 0x49: {
          // INT
          const t = await this.lineText();
          if (t === '00') this.push(false);
          else if (t === '01') this.push(true);
          else this.push(this.parseInt(t));
          break;
        }
        case 0x4c: {
          // LONG
          let t = await this.lineText();
          if (t.endsWith('L')) t = t.slice(0, -1);
          this.push(this.parseInt(t));
          break;
        }
        case 0x8a: {
          // LONG1
          const n = await this.u8Arg();
          const s = await this.need(n);
          this.push(decodeLong(this.buf, s, n));
          break;
        }
        case 0x8b: {
          // LONG4
          const n = await this.u32Arg(true);
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
        case 0x53: // STRING
          this.push(this.parseStringLiteral(await this.lineText()));
          break;
        case 0x56: {
          // UNICODE
          const [s, e] = await this.line();
          const text = rawUnicodeEscape(this.str(s, e - s, 'latin1'));
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
          const n = await this.u32Arg(true);
          if (n < 0) this.broken('BINSTRING pickle has negative byte count');
          this.push(await this.payload(this.checkLen(n, 'BINSTRING'), 'latin1'));
          break;
        }
        case 0x55: // SHORT_BINSTRING
          this.push(await this.payload(await this.u8Arg(), 'latin1'));
          break;
        case 0x58: // BINUNICODE
          this.push(await this.payload(this.checkLen(await this.u32Arg(false), 'BINUNICODE'), 'utf8'));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.push(await this.payload(await this.u8Arg(), 'utf8'));
          break;
        case 0x8d: // BINUNICODE8
          this.push(await this.payload(this.checkLen(await this.u64(), 'BINUNICODE8'), 'utf8'));
          break;
        case 0x42: // BINBYTES
          this.push(await this.payload(this.checkLen(await this.u32Arg(false), 'BINBYTES'), 'bytes'));
          break;
        case 0x43: // SHORT_BINBYTES
          this.push(await this.payload(await this.u8Arg(), 'bytes'));
          break;
        case 0x8e: // BINBYTES8
          this.push(await this.payload(this.checkLen(await this.u64(), 'BINBYTES8'), 'bytes'));
          break;
        case 0x96: // BYTEARRAY8
          this.push(await this.payload(this.checkLen(await this.u64(), 'BYTEARRAY8'), 'bytes', true));
          break;
        case 0x67: // GET
          this.push(this.memoGet(this.parseIndex(await this.lineText())));
          break;
        case 0x70: // PUT
          this.memoPut(this.parseIndex(await this.lineText()), this.top());
          break;
        case 0x63: {
          // GLOBAL
          const at = this.opStart;
          const module = await this.lineText();
          const name = await this.lineText();
          const g = new PyGlobal(utf8Text(module), utf8Text(name), at, 'GLOBAL');
          this.sink.onImport(g);
          this.push(g);
          break;
        }
        case 0x69: {
          // INST
          const at = this.opStart;
          const module = await this.lineText();
          const name = await this.lineText();
          const g = new PyGlobal(utf8Text(module), utf8Text(name), at, 'INST');
          this.sink.onImport(g);
          const args = this.popMark();
          this.call(g, this.retainTuple(args), 'INST', at);
          break;
        }
        case 0x62: {
          // BUILD (in the hot loop too, unless raw joblib array bytes follow it)
          const at = this.opStart;
          const readsArray = this.readsArray();
          const state = this.build();
          if (readsArray) await this.joblibArray(state, at);
          break;
        }
        case 0x50: {
          // PERSID
          const p = new PyPersistent(await this.lineText(), this.opStart);
          this.push(this.sink.onPersistent(p, 'PERSID') ?? p);
          break;
        }
        case 0x80: {
          // PROTO
          const v = await this.u8Arg();
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
        case 0x95:
          await this.frame();
          break;
        default:
          this.broken(`invalid load key 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  }

  /**
   * The hot path: opcodes whose bytes are all in the window (and the current frame), run without an await.
   * Returns the opcode count not yet charged to the budget.
   */
  private fast(batch: number): number {
    const lim = this.lim;
    const used = this.used;
    const maxString = this.opts.maxStringBytes;
    const minPayload = this.opts.minPayload ?? 16;
    const b = this.buf;
    let p = this.p;
    while (p < lim) {
      const op = b[p]!;
      const size = ARG_SIZE[op]!;
      let at: number;
      let n = 0;
      if (size >= 0) {
        at = p + 1;
        if (at + size > lim) break;
      } else if (op === 0x62) {
        // BUILD
        if (this.readsArray()) break;
        at = p + 1;
      } else if (PAYLOAD_LEN[op]! > 0) {
        // str and bytes payloads, when the whole payload is in the window (a negative BINSTRING length read
        // unsigned is over maxString: the general loop reports it)
        const k = PAYLOAD_LEN[op]!;
        if (p + 1 + k > lim) break;
        n = k === 1 ? b[p + 1]! : u32(b, p + 1);
        at = p + 1 + k;
        if (at + n > lim || n > maxString) break;
      } else break;
      used[op] = 1;
      this.opStart = this.bufAbs + p;
      if (++batch >= OP_BATCH) {
        this.p = p + 1; // as in run(): the opcode byte is consumed when the budget is charged
        this.chargeBatch(batch);
        batch = 0;
      }
      if (size >= 0) {
        this.p = at + size;
        this.exec(op, at);
      } else if (op === 0x62) {
        this.p = at;
        this.build();
      } else {
        this.p = at + n;
        const kind = PAYLOAD_KIND[op]!;
        if (kind === 'bytes') this.push(this.bytesAt(at, n, this.bufAbs + at, false));
        // Past the retention budget a short ASCII str is pushed undecoded (store.ts, pushText).
        else if (n < minPayload && this.retained > this.maxRetained * 4 && ascii(b, at, n))
          this.pushText(at, n);
        else this.push(this.textAt(at, n, kind));
      }
      p = this.p;
    }
    this.p = p;
    return batch;
  }

  /**
   * The opcodes of STORE_OPS (argument bytes at buf[at], already consumed). The per-item opcodes that make up
   * nearly all of a large pickle (scalars, memo, small tuples) are here, first; the others are in execOther.
   */
  private exec(op: number, at: number): void {
    const b = this.buf;
    switch (op) {
      case 0x28: // MARK
        this.mark();
        return;
      case 0x4e: // NONE
        this.push(null);
        return;
      case 0x4a: // BININT
        this.push(this.view.getInt32(at, true));
        return;
      case 0x4b: // BININT1
        this.push(b[at]!);
        return;
      case 0x4d: // BININT2
        this.push(b[at]! | (b[at + 1]! << 8));
        return;
      case 0x47: // BINFLOAT (big-endian)
        this.push(this.view.getFloat64(at, false));
        return;
      case 0x68: // BINGET
        this.push(this.memoGet(b[at]!));
        return;
      case 0x6a: // LONG_BINGET
        this.push(this.memoGet(this.view.getUint32(at, true)));
        return;
      case 0x71: // BINPUT
        this.memoTop(b[at]!);
        return;
      case 0x72: // LONG_BINPUT
        this.memoTop(this.view.getUint32(at, true));
        return;
      case 0x94: // MEMOIZE
        this.memoTop(this.memo.count);
        return;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: // TUPLE3
        this.tupleTop(op - 0x84);
        return;
      default:
        this.execOther(op, at);
    }
  }

  /** BUILD: the state (popped) is set on the object below it (its __setstate__ runs). Returns the state. */
  private build(): PyValue {
    const state = this.pop();
    const inst = this.top();
    if (inst instanceof PyCall) inst.state = state;
    this.sink.onBuild(inst, state, this.opStart);
    return state;
  }

  /** Whether the BUILD about to run is joblib's NumpyArrayWrapper, whose raw array bytes follow it. */
  private readsArray(): boolean {
    if (this.opts.joblib === false || this.sp - 2 < this.fence) return false;
    const inst = this.stack[this.sp - 2];
    return (
      inst instanceof PyCall &&
      inst.callee instanceof PyGlobal &&
      inst.callee.name === 'NumpyArrayWrapper' &&
      ARRAY_WRAPPERS.has(`${inst.callee.module}.${inst.callee.name}`)
    );
  }

  /**
   * The other STORE_OPS opcodes: containers (one or two opcodes per container, against several per item),
   * stack shuffles, imports, calls and buffers.
   */
  private execOther(op: number, at: number): void {
    const b = this.buf;
    switch (op) {
      case 0x30: // POP
        this.popOne();
        return;
      case 0x31: // POP_MARK
        this.popMark();
        return;
      case 0x32: // DUP
        this.push(this.top());
        return;
      case 0x88: // NEWTRUE
        this.push(true);
        return;
      case 0x89: // NEWFALSE
        this.push(false);
        return;
      case 0x5d: // EMPTY_LIST
        this.push(new PyList());
        return;
      case 0x7d: // EMPTY_DICT
        this.push(new PyDict());
        return;
      case 0x61: // APPEND
      case 0x65: // APPENDS
      case 0x73: // SETITEM
      case 0x75: // SETITEMS
      case 0x74: // TUPLE
      case 0x6c: // LIST
      case 0x64: // DICT
      case 0x91: // FROZENSET
      case 0x90: // ADDITEMS
        this.shape(op);
        return;
      case 0x97: // NEXT_BUFFER
        // pickle.loads without buffers= raises here; with buffers the loader supplies the object.
        this.push(OUT_OF_BAND);
        return;
      case 0x98: // READONLY_BUFFER
        this.top();
        return;
      case 0x29: // EMPTY_TUPLE
        this.push(new PyTuple([]));
        return;
      case 0x8f: // EMPTY_SET
        this.push(new PySet('set'));
        return;
      case 0x93: {
        // STACK_GLOBAL
        this.keepNames();
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
        return;
      }
      case 0x6f: {
        // OBJ
        const items = this.popMark();
        if (items.length < 1) this.broken('unpickling stack underflow (OBJ without class)');
        const cls = items.shift() as PyValue;
        this.call(cls, this.retainTuple(items), 'OBJ', this.opStart);
        return;
      }
      case 0x52: {
        // REDUCE
        const args = this.pop();
        const fn = this.pop();
        this.call(fn, args, 'REDUCE', this.opStart);
        return;
      }
      case 0x81: {
        // NEWOBJ
        const args = this.pop();
        const cls = this.pop();
        this.call(cls, args, 'NEWOBJ', this.opStart);
        return;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        this.call(cls, args, 'NEWOBJ_EX', this.opStart, kwargs);
        return;
      }
      case 0x51: {
        // BINPERSID
        const pid = this.pop();
        const p = new PyPersistent(pid, this.opStart);
        this.push(this.sink.onPersistent(p, 'BINPERSID') ?? p);
        return;
      }
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: {
        // EXT4
        const n = op === 0x82 ? 1 : op === 0x83 ? 2 : 4;
        const code = n === 1 ? b[at]! : n === 2 ? b[at]! | (b[at + 1]! << 8) : i32(b, at);
        if (code <= 0) this.broken('EXT specifies code <= 0');
        const g = new PyGlobal(undefined, undefined, this.opStart, `EXT${n}:${code}`);
        this.sink.onImport(g);
        this.push(g);
        return;
      }
      default:
        throw new Error(`opcode 0x${op.toString(16)} has no synchronous implementation`);
    }
  }

  private chargeBatch(batch: number): void {
    this.opts.budget.consume('maxOpcodes', batch);
    this.ops += batch;
    this.opts.budget.checkTime();
    if (this.sp + this.marks.length > this.opts.maxStackDepth) {
      throw new BudgetExceededError('maxStackDepth', `pickle stack depth ${this.sp + this.marks.length}`);
    }
  }

  private call(callee: PyValue, args: PyValue, opcode: CallOpcode, at: number, kwargs?: PyValue): void {
    const c = new PyCall(callee, args, opcode, at, kwargs);
    // The retention budget counts small values; an instance (with its argument tuple) costs several.
    this.retained += INSTANCE_COST;
    this.sink.onCall(c);
    this.push(c);
  }

  // -------------------------------------------------------------------------------------------------
  // payloads

  /** A str of n bytes at buf[at], reported to the sink when long enough to hide a nested pickle. */
  private textAt(at: number, n: number, enc: 'utf8' | 'latin1'): string {
    const s = this.str(at, n, enc);
    if (n >= (this.opts.minPayload ?? 16)) {
      this.sink.onPayload({
        offset: this.bufAbs + at,
        length: n,
        text: s,
        head: this.buf.subarray(at, at + Math.min(64, n)),
      });
    }
    return s;
  }

  /** A bytes object of n bytes at buf[at] (absolute offset `start` of its opcode's payload). */
  private bytesAt(at: number, n: number, start: number, bytearray: boolean): PyBytes {
    // Bytes are checked from 8 bytes on: `cos\nabort\n)R.` is a complete payload in 14. Shorter ones past
    // the retention budget are not kept, like any value there (the 4-byte state of each of a million dates).
    const sniffed = n >= Math.min(this.opts.minPayload ?? 16, 8);
    if (!sniffed && this.retained > this.maxRetained * 4) return new PyBytes(n, undefined, start, bytearray);
    let data: Uint8Array | undefined = this.buf.slice(at, at + n);
    if (sniffed) {
      this.sink.onPayload({ offset: this.bufAbs + at, length: n, data, head: data.subarray(0, 64) });
      if (n > 4096 && !this.keep()) data = undefined;
    }
    return new PyBytes(n, data, start, bytearray);
  }

  /** Reads (or skips) a str/bytes payload of n bytes. */
  private async payload(n: number, kind: 'utf8' | 'latin1' | 'bytes', bytearray = false): Promise<PyValue> {
    const start = this.pos;
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
    const a = this.arg(n);
    const at = typeof a === 'number' ? a : await a;
    return kind === 'bytes' ? this.bytesAt(at, n, start, bytearray) : this.textAt(at, n, kind);
  }

  // -------------------------------------------------------------------------------------------------
  // frames and text arguments

  private async frame(): Promise<void> {
    const at = this.opStart;
    const len = await this.u64();
    if (len > BigInt(Number.MAX_SAFE_INTEGER)) this.broken(`FRAME length ${len} is impossible`);
    const n = Number(len);
    if (this.frameEnd >= 0 && this.pos < this.frameEnd) {
      this.frameDivergence = true;
      this.sink.onAnomaly(
        'frame-nested',
        `FRAME at ${at} starts inside the previous frame (ends at ${this.frameEnd})`,
        at,
      );
      if (this.mode === 'cfile') {
        if (this.pos + n <= this.frameEnd) return; // fits in the current buffer: C only rewinds
        await this.skipRaw(this.frameEnd - this.pos);
      }
    }
    if (this.opts.dataEnd !== undefined && this.pos + n > this.opts.dataEnd) {
      this.sink.onAnomaly(
        'frame-overrun',
        `FRAME declares ${n} bytes but only ${this.opts.dataEnd - this.pos} remain`,
        at,
      );
      if (this.mode === 'cfile') this.broken('pickle data was truncated (FRAME longer than the data)', at);
    }
    this.frameEnd = this.pos + n;
    this.updateLim();
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
    // CPython load_string: requires matching quotes, then escape-decodes.
    const q = t[0];
    if (t.length < 2 || (q !== "'" && q !== '"') || t[t.length - 1] !== q) {
      this.broken('the STRING opcode argument must be quoted');
    }
    return pyEscapeDecode(t.slice(1, -1));
  }

  // -------------------------------------------------------------------------------------------------
  // joblib: raw array bytes follow the BUILD of a NumpyArrayWrapper

  private async joblibArray(state: PyValue, at: number): Promise<void> {
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
      this.rewindow();
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
      const pad = await this.u8Arg();
      if (pad > 0) await this.skipPayload(pad);
    }
    const bytes = info.bytes;
    if (bytes > Number.MAX_SAFE_INTEGER) throw new JoblibArrayError('joblib array size is impossible', at);
    this.checkLen(bytes, 'joblib array');
    await this.skipPayload(bytes);
    this.sink.onJoblibArray?.({ offset: at, bytes, dtype: info.dtype, shape: info.shape, object: false });
  }
}
