// The pickle memo. CPython's pickler memoises every str, bytes, tuple, list, dict and object it writes, so a
// large pickle has tens of millions of memo entries. Here an entry costs two bits (absent / present but not
// kept / an instance not kept / kept) in typed pages; only the values the analysis keeps (see the retention policy in store.ts)
// live in a side table. The memo's memory (pages and kept values, at an estimated size) is the maxMemo
// budget, in bytes: a count of entries is no budget, since a real file can have any number of them.

import { BudgetExceededError } from '../../limits.js';
import { DROPPED, DROPPED_INSTANCE, type PyValue } from './values.js';

const PAGE_BITS = 12;
const PAGE_SLOTS = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SLOTS - 1;
/** Bytes of a page: 4096 two-bit tags. */
const PAGE_BYTES = PAGE_SLOTS >> 2;
/**
 * Indices below this (every index BINPUT/LONG_BINPUT/MEMOIZE can give) are in pages, allocated when first
 * used (a lone PUT at index 2^31 costs one page); the text PUT can name larger ones, kept in a Map.
 */
const PAGED = 2 ** 32;
/** Bytes of a page's side table of kept values (4096 references), allocated at its first kept value. */
const REFS_BYTES = PAGE_SLOTS * 8;
/** Estimated cost of a kept value beyond its reference (a small object), and of an entry past PAGED. */
const KEPT_BYTES = 48;

const ABSENT = 0;
const NOT_KEPT = 1;
const KEPT = 2;
/** Not kept, and the value was an instance (a call's result): fetched again it is still a computed value. */
const INSTANCE_NOT_KEPT = 3;

function droppedAs(v: PyValue): PyValue {
  return typeof v === 'object' && v !== null && v.kind === 'call' ? DROPPED_INSTANCE : DROPPED;
}

export class Memo {
  private readonly pages: Array<Uint8Array | undefined> = [];
  /** Per page, the kept values by slot (dense: the first pages of a stream keep nearly every value). */
  private readonly refs: Array<Array<PyValue | undefined> | undefined> = [];
  /** Entries above PAGED (kept, DROPPED or DROPPED_INSTANCE). */
  private far: Map<number, PyValue> | undefined;
  /** Distinct indices stored: len(memo) in the unpickler, the index MEMOIZE uses. */
  count = 0;
  /** Memory charged to the maxMemo budget. */
  bytes = 0;
  /** Puts to an index already stored (CPython's pickler never makes one; a crafted stream may). */
  overwrites = 0;

  constructor(private readonly maxBytes: number) {}

  private charge(n: number): void {
    this.bytes += n;
    if (this.bytes > this.maxBytes) {
      throw new BudgetExceededError(
        'maxMemo',
        `pickle memo memory ${this.bytes} bytes > ${this.maxBytes} (${this.count} entries)`,
      );
    }
  }

  /** Stores the entry idx (>= 0): its value when `keep`, else only that it exists (a later GET is legal). */
  put(idx: number, v: PyValue, keep: boolean): void {
    if (idx >= PAGED) {
      this.far ??= new Map();
      if (!this.far.has(idx)) {
        this.count++;
        this.charge(KEPT_BYTES);
      }
      this.far.set(idx, keep ? v : droppedAs(v));
      return;
    }
    const pi = idx >>> PAGE_BITS;
    let page = this.pages[pi];
    if (page === undefined) {
      this.charge(PAGE_BYTES);
      page = new Uint8Array(PAGE_BYTES);
      this.pages[pi] = page;
    }
    const slot = idx & PAGE_MASK;
    const byte = slot >>> 2;
    const shift = (slot & 3) << 1;
    const old = (page[byte]! >>> shift) & 3;
    if (old === ABSENT) this.count++;
    else this.overwrites++;
    if (old === KEPT) {
      this.refs[pi]![slot] = undefined;
      this.bytes -= KEPT_BYTES;
    }
    const tag = keep ? KEPT : droppedAs(v) === DROPPED ? NOT_KEPT : INSTANCE_NOT_KEPT;
    page[byte] = (page[byte]! & ~(3 << shift)) | (tag << shift);
    if (keep) {
      let refs = this.refs[pi];
      if (refs === undefined) {
        // Charged as if full; allocated as used (a small pickle keeps a few dozen values, not 4096).
        this.charge(REFS_BYTES);
        refs = [];
        this.refs[pi] = refs;
      }
      refs[slot] = v;
      this.charge(KEPT_BYTES);
    }
  }

  /** Keeps, after all, the value of an entry stored as not kept (a str a STACK_GLOBAL then used as a name). */
  keepDropped(idx: number, v: PyValue): void {
    if (idx >= PAGED) {
      if (this.far?.get(idx) === DROPPED) this.far.set(idx, v);
      return;
    }
    const pi = idx >>> PAGE_BITS;
    const page = this.pages[pi];
    const slot = idx & PAGE_MASK;
    if (page === undefined || ((page[slot >>> 2]! >>> ((slot & 3) << 1)) & 3) !== NOT_KEPT) return;
    this.put(idx, v, true);
    this.overwrites--; // the same value, now kept: not a second store
  }

  /** The entry's value (DROPPED when it was not kept), or undefined when the memo has no such entry. */
  get(idx: number): PyValue | undefined {
    if (idx >= PAGED || idx < 0) return idx < 0 ? undefined : this.far?.get(idx);
    const pi = idx >>> PAGE_BITS;
    const page = this.pages[pi];
    if (page === undefined) return undefined;
    const slot = idx & PAGE_MASK;
    const tag = (page[slot >>> 2]! >>> ((slot & 3) << 1)) & 3;
    return tag === KEPT
      ? this.refs[pi]![slot]
      : tag === NOT_KEPT
        ? DROPPED
        : tag === INSTANCE_NOT_KEPT
          ? DROPPED_INSTANCE
          : undefined;
  }
}
