// The pickle VM's data: the stack, the mark stack, the memo, and the retention policy that decides which
// values are kept whole. The analysis looks at imports, calls and what flows into them; the bulk of a large
// pickle (numbers, short strings, tuples and lists of them) only needs to exist, with its type and expanded
// size. So values are kept whole up to a retention budget (maxRetained values, a memory bound: the first
// few hundred thousand values of a stream, and small ones a little longer); past it, containers record how
// many items they dropped, the memo keeps two bits per entry (memo.ts), and a tuple of plain values is a
// shared summary node of its size, so the steady state of a huge pickle allocates nothing that survives.

import { BudgetExceededError } from '../../limits.js';
import type { ByteReader } from '../../reader.js';
import { Memo } from './memo.js';
import {
  NO_ITEMS,
  PyCall,
  PyDict,
  PyList,
  PySet,
  PyTuple,
  PyUnknown,
  type PyValue,
  weight,
} from './values.js';
import { PickleWindow, type VmOptions, type VmSink } from './window.js';

/** Largest expanded size of a shared summary tuple (larger ones are allocated, which is rare). */
const SUMMARY_MAX_W = 512;
const SUMMARY_MAX_ITEMS = 8;
const summaries: Array<PyTuple | null> = new Array((SUMMARY_MAX_ITEMS + 1) * SUMMARY_MAX_W).fill(null);

/**
 * A tuple of n items whose values were not kept, of expanded size w. Small ones are shared: a tuple is never
 * mutated after it is built, and nothing tells two summaries of the same size apart.
 */
function summaryTuple(n: number, w: number): PyTuple {
  if (n <= SUMMARY_MAX_ITEMS && w < SUMMARY_MAX_W) {
    const k = n * SUMMARY_MAX_W + w;
    let t = summaries[k]!;
    if (t === null) {
      t = new PyTuple([], n);
      t.w = w;
      summaries[k] = t;
    }
    return t;
  }
  const t = new PyTuple([], n);
  t.w = w;
  return t;
}

/**
 * A stack slot holding a short ASCII str not decoded yet: its bytes are at textPos[slot] in the window, its
 * length textLen[slot]. Only the stack accessors below see it; they decode it for any reader of the value.
 */
const UNDECODED = new PyUnknown('str not decoded yet');

/** Dropped strs remembered for a following STACK_GLOBAL (module and name, with room for a PUT between). */
const DROP_RING = 4;

/**
 * A value the effect analysis follows through a call's arguments (a global, an instance, a persistent
 * object, or a tuple kept because it holds one): a tuple holding one is kept whole even past the retention
 * budget (it is consumed by the call that follows and collected), so that `_reconstruct(cls, ...)` or
 * `_rebuild_tensor_v2(storage, ...)` still names its class or storage.
 */
function isFollowed(v: PyValue): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const k = v.kind;
  return (
    k === 'global' || k === 'call' || k === 'persistent' || (k === 'tuple' && (v as PyTuple).items.length > 0)
  );
}

export class PickleStore extends PickleWindow {
  /**
   * The stack is stack[0, sp). Slots at sp and above are dead: they are overwritten as the stack grows again
   * (never read), so popping is a decrement instead of an array resize. What they still reference was
   * already live at the stack's high-water mark, which maxStackDepth bounds.
   */
  protected stack: PyValue[] = [];
  protected sp = 0;
  /**
   * Past the retention budget a short str is nearly always dropped unread (memoised but not kept, an item of
   * a summary tuple or a dropped list item), so the hot loop pushes it undecoded (pushText); it is decoded
   * when something reads it (STACK_GLOBAL, a call, BUILD...) or before the window moves (settle).
   */
  private textPos = new Int32Array(64);
  private textLen = new Uint8Array(64);
  /** Lowest stack slot that may hold an undecoded str. */
  private textLow = Number.MAX_SAFE_INTEGER;
  protected marks: number[] = [];
  /** Stack index below which the current mark forbids popping. */
  protected fence = 0;
  protected readonly memo: Memo;
  /** Values kept so far (the retention budget's counter). */
  protected retained = 0;
  protected readonly maxRetained: number;
  /** Largest expanded container size seen (shared references counted each time). */
  maxWeight = 0;

  constructor(reader: ByteReader, sink: VmSink, opts: VmOptions) {
    super(reader, sink, opts);
    this.maxRetained = opts.maxRetained ?? 300_000;
    this.memo = new Memo(opts.maxMemo);
  }

  // -------------------------------------------------------------------------------------------------
  // stack

  protected push(v: PyValue): void {
    this.stack[this.sp++] = v;
  }

  protected clearStack(): void {
    this.stack = [];
    this.sp = 0;
    this.textLow = Number.MAX_SAFE_INTEGER;
  }

  /** Pushes the short ASCII str (n < 256 bytes) at buf[at] without decoding it yet (see textPos). */
  protected pushText(at: number, n: number): void {
    const slot = this.sp;
    if (slot >= this.textPos.length) {
      const a = new Int32Array(slot * 2);
      a.set(this.textPos);
      this.textPos = a;
      const l = new Uint8Array(slot * 2);
      l.set(this.textLen);
      this.textLen = l;
    }
    this.textPos[slot] = at;
    this.textLen[slot] = n;
    if (slot < this.textLow) this.textLow = slot;
    this.stack[this.sp++] = UNDECODED;
  }

  /** The value in a live stack slot, decoding an undecoded str in place. */
  private slot(i: number): PyValue {
    const v = this.stack[i] as PyValue;
    if (v !== UNDECODED) return v;
    const s = this.str(this.textPos[i]!, this.textLen[i]!, 'utf8');
    this.stack[i] = s;
    // A dropped memo entry remembered by position is now remembered by text (the window may move).
    const abs = this.bufAbs + this.textPos[i]!;
    for (let k = 0; k < DROP_RING; k++) {
      if (this.dropAbs[k] === abs) {
        this.dropAbs[k] = -1;
        this.dropText[k] = s;
      }
    }
    return s;
  }

  /** Decodes every undecoded str on the stack (before the window they point into moves). */
  protected override settle(): void {
    for (let i = this.textLow; i < this.sp; i++) this.slot(i);
    this.textLow = Number.MAX_SAFE_INTEGER;
  }

  protected pop(): PyValue {
    if (this.sp <= this.fence) this.broken('unpickling stack underflow');
    return this.slot(--this.sp);
  }

  protected top(): PyValue {
    if (this.sp <= this.fence) this.broken('unpickling stack underflow');
    return this.slot(this.sp - 1);
  }

  /** Memoises the top value (BINPUT, LONG_BINPUT, MEMOIZE): an undecoded str is decoded only if kept. */
  protected memoTop(idx: number): void {
    if (this.sp <= this.fence) this.broken('unpickling stack underflow');
    const top = this.sp - 1;
    const v = this.stack[top] as PyValue;
    if (v !== UNDECODED) this.memoPut(idx, v);
    else if (this.keepsStr(this.textLen[top]!)) this.memo.put(idx, this.slot(top), true);
    else {
      this.memo.put(idx, v, false);
      this.noteDropped(idx, undefined, this.bufAbs + this.textPos[top]!, this.textLen[top]!);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // names past the retention budget

  /**
   * The last strs the memo did not keep: their memo index, and their text (or, undecoded, the absolute
   * offset and length of their bytes). CPython memoises a global's module and name strs as it writes them
   * (`module MEMOIZE name MEMOIZE STACK_GLOBAL`) and fetches the same str object again for the next global of
   * that module (`BINGET module`, `name`, STACK_GLOBAL): a STACK_GLOBAL past the retention budget keeps the
   * memo entries of its operands (keepNames), so that the next one can name its import.
   */
  private readonly dropIdx = new Float64Array(DROP_RING);
  private readonly dropAbs = new Float64Array(DROP_RING).fill(-1);
  private readonly dropLen = new Float64Array(DROP_RING);
  private readonly dropText: Array<string | undefined> = new Array(DROP_RING).fill(undefined);
  private readonly dropVersion = new Float64Array(DROP_RING);
  private dropNext = 0;

  private noteDropped(idx: number, text: string | undefined, abs: number, len: number): void {
    const i = this.dropNext;
    this.dropNext = (i + 1) % DROP_RING;
    this.dropIdx[i] = idx;
    this.dropText[i] = text;
    this.dropAbs[i] = abs;
    this.dropLen[i] = len;
    this.dropVersion[i] = this.memo.overwrites;
  }

  /** STACK_GLOBAL: keeps the memo entries its two str operands were just stored under (see dropIdx). */
  protected keepNames(): void {
    for (let s = Math.max(this.fence, this.sp - 2); s < this.sp; s++) {
      const v = this.stack[s] as PyValue;
      const abs = v === UNDECODED ? this.bufAbs + this.textPos[s]! : -1;
      if (abs < 0 && typeof v !== 'string') continue;
      for (let i = 0; i < DROP_RING; i++) {
        // The entry holds this very text (same bytes, or equal decoded text) and was not stored again since.
        const same =
          abs >= 0 ? this.dropAbs[i] === abs && this.dropLen[i] === this.textLen[s] : this.dropText[i] === v;
        if (same && this.dropVersion[i] === this.memo.overwrites) {
          this.memo.keepDropped(this.dropIdx[i]!, this.slot(s));
          this.dropAbs[i] = -1;
          this.dropText[i] = undefined;
          break;
        }
      }
    }
  }

  protected mark(): void {
    this.marks.push(this.sp);
    this.fence = this.sp;
    if (this.marks.length > this.opts.maxStackDepth) {
      throw new BudgetExceededError('maxStackDepth', `pickle mark stack depth ${this.marks.length}`);
    }
  }

  /** POP: drops the top value, or the mark just pushed (CPython pops a mark with nothing above it). */
  protected popOne(): void {
    if (this.marks.length > 0 && this.marks[this.marks.length - 1] === this.sp) {
      this.marks.pop();
      this.fence = this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0;
    } else this.pop();
  }

  protected popMark(): PyValue[] {
    if (this.marks.length === 0) this.broken('could not find MARK');
    const m = this.marks.pop() as number;
    this.fence = this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0;
    for (let i = Math.max(m, this.textLow); i < this.sp; i++) this.slot(i);
    const items = this.stack.slice(m, this.sp);
    this.sp = m;
    return items;
  }

  // -------------------------------------------------------------------------------------------------
  // retention

  protected keep(): boolean {
    return ++this.retained <= this.maxRetained;
  }

  /** Items of small containers (joblib wrapper states, dtype tuples) are kept up to a hard cap. */
  protected keepSmall(n: number): boolean {
    this.retained += n;
    return this.retained <= this.maxRetained * 4;
  }

  // -------------------------------------------------------------------------------------------------
  // memo

  protected memoPut(idx: number, v: PyValue): void {
    if (idx < 0) this.broken('negative PUT argument');
    let keep = true;
    if (typeof v === 'string') {
      keep = this.keepsStr(v.length);
      if (!keep) this.noteDropped(idx, v, -1, v.length);
    } else if (this.retained > this.maxRetained) {
      // Past the retention budget only globals and persistent refs stay (a few per import or storage,
      // bounded by the memo's memory budget), and, up to a hard cap, call results (instances), short strings
      // (keepsStr) and small tuples (names, dict keys, shapes, dtypes that later GETs feed to STACK_GLOBAL
      // or a joblib wrapper). An instance not kept is DROPPED when fetched: called, it is a computed call
      // (MG101) as it would be kept; as data or a BUILD target it marks the analysis as not followed, which
      // is conservative. Keeping every instance would cost a JavaScript object per Python object: a pickle
      // of millions of small objects (dates, records, numpy scalars) would need gigabytes.
      if (typeof v !== 'object' || v === null) {
        this.retained++;
      } else {
        const k = v.kind;
        if (k === 'global' || k === 'persistent') this.retained++;
        else if (k === 'call') keep = this.keep();
        else if (k === 'tuple') {
          const w = (v as PyTuple).w;
          if (w > 64 || !this.keepSmall(w)) keep = false;
        } else keep = false;
      }
    } else this.retained++;
    this.memo.put(idx, v, keep);
  }

  /** Whether the memo keeps a str of this length (counted against the retention budget when kept). */
  private keepsStr(length: number): boolean {
    if (this.retained <= this.maxRetained) {
      this.retained++;
      return true;
    }
    return length <= 64 && this.keepSmall(1);
  }

  protected memoGet(idx: number): PyValue {
    const v = this.memo.get(idx);
    if (v === undefined) this.broken(`memo value not found at index ${idx}`);
    return v;
  }

  // -------------------------------------------------------------------------------------------------
  // containers

  /** TUPLE1/2/3: the n top values become one tuple, built from the stack in place. */
  protected tupleTop(n: number): void {
    const st = this.stack;
    const base = this.sp - n;
    if (base < this.fence) this.broken('unpickling stack underflow');
    let t: PyTuple | undefined;
    if (!this.keepSmall(n)) {
      // Past the budget: a summary, unless an item is one the analysis follows (isFollowed).
      let w = 1;
      for (let i = base; i < this.sp; i++) {
        const v = st[i]!;
        if (typeof v !== 'object' || v === null) w++;
        else if (isFollowed(v)) {
          w = -1;
          break;
        } else w += weight(v);
      }
      if (w > 0) t = summaryTuple(n, w);
    }
    t ??= new PyTuple(
      n === 1
        ? [this.slot(base)]
        : n === 2
          ? [this.slot(base), this.slot(base + 1)]
          : [this.slot(base), this.slot(base + 1), this.slot(base + 2)],
    );
    if (t.w > this.maxWeight) this.maxWeight = t.w;
    st[base] = t;
    this.sp = base + 1;
  }

  protected retainTuple(items: PyValue[]): PyTuple {
    let t: PyTuple;
    const small = items.length <= 8;
    const followed = items.length <= SUMMARY_MAX_W && items.some(isFollowed);
    if (
      (small ? this.keepSmall(items.length) : this.retained + items.length <= this.maxRetained) ||
      followed
    ) {
      if (!small) this.retained += items.length;
      t = new PyTuple(items);
    } else {
      const keep = this.retained <= this.maxRetained * 4 ? 8 : 0;
      let w = 1;
      for (let i = 0; i < items.length; i++) w += weight(items[i]!);
      if (keep === 0) t = summaryTuple(items.length, w);
      else {
        t = new PyTuple(items.slice(0, keep), items.length - keep);
        t.w = w;
      }
    }
    if (t.w > this.maxWeight) this.maxWeight = t.w;
    return t;
  }

  private grow(c: PyList | PySet | PyDict, w: number): void {
    c.w += w;
    if (c.w > this.maxWeight) this.maxWeight = c.w;
  }

  protected fill(c: PyList | PySet, items: PyValue[], start = 0, end = items.length): void {
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

  protected setItems(d: PyDict, items: PyValue[], start = 0, end = items.length): void {
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
    // Items that may be kept are decoded first (undecoded ones exist only once everything is dropped).
    if (this.retained < this.maxRetained * 4)
      for (let i = Math.max(m, this.textLow); i < this.sp; i++) this.slot(i);
    if (op === 0x75) {
      if (!(target instanceof PyDict) || (this.sp - m) % 2 !== 0) return false;
      this.setItems(target, st, m, this.sp);
    } else {
      if (!(target instanceof PyList)) return false;
      this.fill(target, st, m, this.sp);
    }
    this.sp = m;
    this.marks.pop();
    this.fence = prevFence;
    return true;
  }

  protected appendTo(target: PyValue, items: PyValue[], op: 'APPEND' | 'ADDITEMS'): void {
    if (op === 'APPEND' ? target instanceof PyList : target instanceof PySet && target.kind === 'set') {
      this.fill(target as PyList | PySet, items);
      return;
    }
    this.sink.onMutate(target, op, this.opStart);
    if (target instanceof PyCall) for (const it of items) if (this.keep()) target.addItem(it);
  }

  private setItemsOn(target: PyValue, items: PyValue[]): void {
    if (target instanceof PyDict) {
      this.setItems(target, items);
      return;
    }
    this.sink.onMutate(target, 'SETITEM', this.opStart);
    if (target instanceof PyCall) {
      for (let i = 0; i + 1 < items.length; i += 2) {
        if (this.keep()) target.addItem(new PyTuple([items[i]!, items[i + 1]!]));
      }
    }
  }

  /** Container-building opcodes without arguments (TUPLE1/2/3: tupleTop). */
  protected shape(op: number): void {
    switch (op) {
      case 0x61: {
        // APPEND
        const item = this.pop();
        this.appendTo(this.top(), [item], 'APPEND');
        return;
      }
      case 0x65: {
        // APPENDS
        if (this.bulkInPlace(0x65)) return;
        const items = this.popMark();
        this.appendTo(this.top(), items, 'APPEND');
        return;
      }
      case 0x73: {
        // SETITEM
        const v = this.pop();
        const k = this.pop();
        this.setItemsOn(this.top(), [k, v]);
        return;
      }
      case 0x75: {
        // SETITEMS
        if (this.bulkInPlace(0x75)) return;
        const items = this.popMark();
        if (items.length % 2 !== 0) this.broken('odd number of items for SETITEMS');
        this.setItemsOn(this.top(), items);
        return;
      }
      case 0x74: // TUPLE
        this.push(this.retainTuple(this.popMark()));
        return;
      case 0x6c: {
        // LIST
        const items = this.popMark();
        const l = new PyList();
        this.fill(l, items);
        this.push(l);
        return;
      }
      case 0x64: {
        // DICT
        const items = this.popMark();
        if (items.length % 2 !== 0) this.broken('odd number of items for DICT');
        const d = new PyDict();
        this.setItems(d, items);
        this.push(d);
        return;
      }
      case 0x91: {
        // FROZENSET
        const items = this.popMark();
        const s = new PySet('frozenset');
        this.fill(s, items);
        this.push(s);
        return;
      }
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        this.appendTo(this.top(), items, 'ADDITEMS');
        return;
      }
    }
  }
}
