import type { Budget } from '../../limits.js';
import { ByteReader } from '../../reader.js';
import type { ByteSource } from '../../source.js';
import { OP, OPCODE_NAMES, VALID_OPCODE } from '../pickle/opcodes.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const LATIN1 = new TextDecoder('latin1');

/**
 * Raw bytes under a model name, decided by what the loaders of that name would do with them. The table
 * lists, per extension, the loaders that take such files and how they treat content that is none of the
 * formats modelgate recognises (every format these loaders read by magic or structure, zip, tar, pickle
 * with a header, compressed streams, numpy, safetensors, GGUF/GGML, was already tried and did not match):
 *
 *  - `pickle`: names shared by pickle-based loaders (torch.load, whose legacy path runs pickle.load on
 *    anything that is neither a zip nor a tar; pickle.load) and by loaders of raw tensor bytes (llama.cpp,
 *    TF.js and ONNX external data, OpenVINO weights, fastText, CTranslate2). Raw weights under these names
 *    are normal; the bytes are data when the unpickler provably stops before anything is imported or
 *    called: see {@link pickleRejects}.
 *  - `keep`: every other model name stays `incomplete` (MG004). Pickle-only names (.pkl, .joblib, .npy
 *    with allow_pickle) never hold raw weights, so non-pickle content there is a cut or renamed file;
 *    header formats (.safetensors, .gguf) without their header are malformed for their own loader; lenient
 *    parsers (ONNX and TF protobufs, HDF5 after a user block, TFLite without its identifier, archives with
 *    code) may accept content modelgate did not recognise.
 */
export const RAW_NAME_LOADERS: Readonly<Record<string, { rule: 'pickle' | 'keep'; loaders: string }>> = {
  '.bin': {
    rule: 'pickle',
    loaders:
      'torch.load (transformers pytorch_model.bin), pickle.load; data only: llama.cpp GGML/GGUF, TF.js shards, ONNX external data, OpenVINO IR weights, fastText, CTranslate2',
  },
  '.pt': { rule: 'pickle', loaders: 'torch.load, torch.jit.load (zip only), pickle.load' },
  '.pth': { rule: 'pickle', loaders: 'torch.load, torch.jit.load (zip only), pickle.load' },
  '.ckpt': {
    rule: 'pickle',
    loaders: 'torch.load (Lightning), pickle.load; TF checkpoints use .index/.data',
  },
  '.ptl': { rule: 'pickle', loaders: 'torch.jit.load / _load_for_lite_interpreter (zip only), torch.load' },
  '.pt2': { rule: 'pickle', loaders: 'torch.export.load (zip only), torch.load' },
  // `.sav` is scikit-learn's documented name for joblib/pickle dumps, but also IDL SAVE files (`SR\0\4`,
  // scipy.io.readsav) and SPSS system files (`$FL2`, pandas.read_spss): data formats of their own.
  '.sav': {
    rule: 'pickle',
    loaders:
      'joblib.load, pickle.load (scikit-learn "finalized_model.sav"); data only: IDL SAVE (scipy.io.readsav), SPSS (pandas.read_spss)',
  },
};

/** Opcodes that import, call or hand a value to persistent_load: past them the unpickler may run code. */
const ACTS = new Set<number>([
  OP.GLOBAL,
  OP.STACK_GLOBAL,
  OP.INST,
  OP.OBJ,
  OP.REDUCE,
  OP.BUILD,
  OP.NEWOBJ,
  OP.NEWOBJ_EX,
  OP.EXT1,
  OP.EXT2,
  OP.EXT4,
  OP.PERSID,
  OP.BINPERSID,
]);
/** Argument of each opcode that has one: a fixed size, a text line, or a 1/4/8-byte length and that many bytes. */
const ARGS: Record<number, number | 'line' | 'len1' | 'len4' | 'len8'> = {
  [OP.PROTO]: 1,
  [OP.FRAME]: 8,
  [OP.BININT]: 4,
  [OP.BININT1]: 1,
  [OP.BININT2]: 2,
  [OP.BINFLOAT]: 8,
  [OP.BINGET]: 1,
  [OP.LONG_BINGET]: 4,
  [OP.BINPUT]: 1,
  [OP.LONG_BINPUT]: 4,
  [OP.INT]: 'line',
  [OP.LONG]: 'line',
  [OP.FLOAT]: 'line',
  [OP.STRING]: 'line',
  [OP.UNICODE]: 'line',
  [OP.GET]: 'line',
  [OP.PUT]: 'line',
  [OP.SHORT_BINSTRING]: 'len1',
  [OP.SHORT_BINBYTES]: 'len1',
  [OP.SHORT_BINUNICODE]: 'len1',
  [OP.LONG1]: 'len1',
  [OP.BINSTRING]: 'len4',
  [OP.BINBYTES]: 'len4',
  [OP.BINUNICODE]: 'len4',
  [OP.LONG4]: 'len4',
  [OP.BINUNICODE8]: 'len8',
  [OP.BINBYTES8]: 'len8',
  [OP.BYTEARRAY8]: 'len8',
};

export type PickleWalk =
  | { rejects: true; why: string; offset: number }
  | { rejects: false; why: string; offset: number };

/**
 * The unpickler's stack as far as failures go: how many objects the current frame holds (objects below the
 * last MARK are out of reach: CPython's C unpickler fences them off, pickle.py keeps them on a metastack),
 * the depths of the frames below, and the memo keys that were set. Values and types are not modelled.
 */
class WalkStack {
  depth = 0;
  private readonly marks: number[] = [];
  /** Memo keys set so far; undefined once a key could not be read (then every lookup may succeed). */
  memo: Set<number> | undefined = new Set();

  /** Whether the current frame holds at least `n` objects. */
  has(n: number): boolean {
    return this.depth >= n;
  }
  mark(): void {
    this.marks.push(this.depth);
    this.depth = 0;
  }
  /** Pops the current frame (its objects and its MARK); false when there is no MARK. */
  popMark(): boolean {
    const outer = this.marks.pop();
    if (outer === undefined) return false;
    this.depth = outer;
    return true;
  }
  get marked(): boolean {
    return this.marks.length > 0;
  }
}

/**
 * What opcode `op` needs from the stack and does to it, as CPython's C unpickler (Modules/_pickle.c) and
 * pickle.py both check it: returns a reason when the opcode fails (underflow, no MARK, odd item count,
 * unknown memo key), else applies the opcode's effect and returns undefined. For an opcode that imports or
 * calls, only the checks that come before the import or call are applied.
 */
function stackStep(st: WalkStack, op: number, memoKey: number | undefined): string | undefined {
  const underflow = 'the stack holds too few objects for it (unpickling stack underflow)';
  switch (op) {
    case OP.MARK:
      st.mark();
      return undefined;
    case OP.POP:
      // An empty frame pops its MARK instead (C load_pop; pickle.py pop_mark).
      if (st.has(1)) st.depth--;
      else if (!st.popMark()) return underflow;
      return undefined;
    case OP.POP_MARK:
      return st.popMark() ? undefined : 'there is no MARK to pop';
    case OP.DUP:
      if (!st.has(1)) return underflow;
      st.depth++;
      return undefined;
    case OP.PUT:
    case OP.BINPUT:
    case OP.LONG_BINPUT:
    case OP.MEMOIZE:
      if (!st.has(1)) return underflow;
      if (op === OP.MEMOIZE) st.memo?.add(st.memo.size);
      else if (memoKey === undefined) st.memo = undefined;
      else st.memo?.add(memoKey);
      return undefined;
    case OP.GET:
    case OP.BINGET:
    case OP.LONG_BINGET:
      // A key the walk could not read (int() also takes "+1", " 1", "1_0") is not decided.
      if (st.memo && memoKey !== undefined && !st.memo.has(memoKey)) return 'it reads a memo key never set';
      st.depth++;
      return undefined;
    case OP.APPEND:
      if (!st.has(2)) return underflow;
      st.depth--;
      return undefined;
    case OP.SETITEM:
      if (!st.has(3)) return underflow;
      st.depth -= 2;
      return undefined;
    case OP.APPENDS:
    case OP.SETITEMS:
    case OP.ADDITEMS: {
      const items = st.depth;
      if (!st.popMark()) return 'there is no MARK before it';
      if (!st.has(1)) return underflow; // the list, dict or set the items go into
      if (op === OP.SETITEMS && items % 2 !== 0) return 'SETITEMS has an odd number of items';
      return undefined;
    }
    case OP.TUPLE:
    case OP.LIST:
    case OP.DICT:
    case OP.FROZENSET: {
      const items = st.depth;
      if (!st.popMark()) return 'there is no MARK before it';
      if (op === OP.DICT && items % 2 !== 0) return 'DICT has an odd number of items';
      st.depth++;
      return undefined;
    }
    case OP.OBJ:
      // The class is the first object after the MARK: pickle.py pops the mark before importing anything.
      if (!st.marked) return 'there is no MARK before it';
      return st.has(1) ? undefined : underflow;
    case OP.TUPLE1:
    case OP.TUPLE2:
    case OP.TUPLE3: {
      const n = op - OP.TUPLE1 + 1;
      if (!st.has(n)) return underflow;
      st.depth -= n - 1;
      return undefined;
    }
    case OP.REDUCE:
    case OP.BUILD:
    case OP.NEWOBJ:
    case OP.STACK_GLOBAL:
      return st.has(2) ? undefined : underflow;
    case OP.NEWOBJ_EX:
      return st.has(3) ? undefined : underflow;
    case OP.BINPERSID:
    case OP.READONLY_BUFFER:
      return st.has(1) ? undefined : underflow;
    case OP.STOP:
      return st.has(1) ? undefined : 'STOP finds no object to return (unpickling stack underflow)';
    case OP.PROTO:
    case OP.FRAME:
      return undefined;
    case OP.GLOBAL:
    case OP.INST:
    case OP.PERSID:
    case OP.EXT1:
    case OP.EXT2:
    case OP.EXT4:
      // Import or call first (pickle.py's INST imports before it looks for the MARK): nothing to check.
      return undefined;
    default:
      // Every other opcode pushes one object (ints, strings, bytes, floats, None, booleans, empty
      // containers, NEXT_BUFFER).
      st.depth++;
      return undefined;
  }
}

/**
 * Whether CPython's unpickler (the C `_pickle.Unpickler.load` and the Python `pickle._Unpickler`) fails on
 * these bytes before it can import or call anything. The walk reads opcodes and their arguments from byte 0
 * and decides only on certainties: an invalid opcode byte ("invalid load key"), an unsupported PROTO
 * version, an unquoted STRING argument, the data ending inside an argument, and the stack discipline both
 * unpicklers enforce (an opcode that needs more objects than the current frame holds, no MARK where one is
 * needed, an odd number of dict items, a memo key never set) are errors raised before the next opcode;
 * reaching an opcode that imports, calls, builds or asks persistent_load (GLOBAL, REDUCE, BUILD, PERSID, ...)
 * with the objects it needs, or a STOP with an object to return (a complete pickle), is not rejected.
 * Everything the walk does not model (value types, argument syntax beyond STRING) only makes Python fail
 * earlier, so skipping those checks can only keep a file `incomplete`, never pass a file that would run code.
 */
export async function pickleRejects(
  src: ByteSource,
  budget: Budget,
  maxOps = 1_000_000,
): Promise<PickleWalk> {
  const r = new ByteReader(src);
  const st = new WalkStack();
  for (let ops = 0; ops < maxOps; ops++) {
    if ((ops & 0xfff) === 0) budget.checkTime();
    const at = r.pos;
    if (!(await r.ensure(1))) return { rejects: true, why: 'the data ends before a STOP opcode', offset: at };
    const op = r.take(1)[0]!;
    if (!VALID_OPCODE[op]) {
      return {
        rejects: true,
        why: `byte 0x${op.toString(16).padStart(2, '0')} is not a pickle opcode`,
        offset: at,
      };
    }
    const arg = await readArgument(r, op);
    if (typeof arg === 'string') return { rejects: arg !== UNDECIDED, why: arg, offset: at };
    const name = OPCODE_NAMES[op] ?? 'an opcode';
    const failure = stackStep(st, op, arg.memoKey);
    if (failure !== undefined) return { rejects: true, why: `${name}: ${failure}`, offset: at };
    if (ACTS.has(op))
      return { rejects: false, why: `${name}, which imports or calls, is reached`, offset: at };
    if (op === OP.STOP) return { rejects: false, why: 'the bytes start with a complete pickle', offset: at };
  }
  return { rejects: false, why: `no decision within ${maxOps} opcodes`, offset: r.pos };
}

const UNDECIDED = 'a text argument longer than 1 MiB';

/**
 * Reads the argument of `op`. Returns the memo key for PUT/GET opcodes (undefined when unreadable), or the
 * reason the unpickler fails inside the argument (UNDECIDED when the walk cannot tell).
 */
async function readArgument(r: ByteReader, op: number): Promise<{ memoKey?: number } | string> {
  const arg = ARGS[op];
  if (arg === undefined) return {};
  if (typeof arg === 'number') {
    if (!(await r.ensure(arg))) return 'the data ends inside an argument';
    const b = r.take(arg);
    if (op === OP.PROTO && b[0]! > 5) return `PROTO ${b[0]} is not a supported protocol`;
    let key = 0;
    for (let i = arg - 1; i >= 0; i--) key = key * 256 + b[i]!;
    return { memoKey: key };
  }
  if (arg === 'line') {
    const max = 1 << 20;
    const line = await r.line(max);
    if (line === undefined) {
      // No newline: either the data ends first (nothing follows, Python stops at the next read) or the line
      // is longer than the walk reads, which it cannot decide.
      return r.available > max ? UNDECIDED : 'the data ends inside a text argument';
    }
    // load_string (C and Python) strips the newline and requires the rest to be quoted: 'x' or "x".
    const q = line[0];
    if (op === OP.STRING && !(line.length >= 2 && (q === 0x22 || q === 0x27) && line[line.length - 1] === q))
      return 'the STRING opcode argument is not quoted';
    const text = LATIN1.decode(line);
    return { memoKey: /^[0-9]{1,15}$/.test(text) ? Number(text) : undefined };
  }
  const width = arg === 'len1' ? 1 : arg === 'len4' ? 4 : 8;
  if (!(await r.ensure(width))) return 'the data ends inside a length';
  const lb = r.take(width);
  let len = 0;
  for (let i = width - 1; i >= 0; i--) len = len * 256 + lb[i]!;
  // BINSTRING's length is signed: a negative one is an error.
  if (op === OP.BINSTRING && lb[3]! >= 0x80) return 'BINSTRING has a negative length';
  const skipped = await r.skip(len);
  if (skipped < len) return 'an argument runs past the end of the data';
  return {};
}

/**
 * For a top-level file under a model name whose content no analyzer recognised: reports MG840 and returns
 * true when every loader of the name rejects the bytes before importing anything (the file is data);
 * returns false when the caller must keep MG004 (some loader might run it, or the walk could not decide).
 */
export async function rawBlobIsData(
  src: ByteSource,
  ext: string,
  budget: Budget,
  report: (message: string, offset: number) => void,
): Promise<boolean> {
  const entry = RAW_NAME_LOADERS[ext];
  if (entry?.rule !== 'pickle') return false;
  const walk = await pickleRejects(src, budget);
  if (!walk.rejects) return false;
  report(
    `Raw bytes named ${ext}: neither a zip, a tar nor a pickle that reaches an import (the unpickler fails first: ${walk.why}, at byte ${walk.offset}), so the pickle-based loaders of the name (${entry.loaders}) reject them before importing anything; treated as data.`,
    walk.offset,
  );
  return true;
}
