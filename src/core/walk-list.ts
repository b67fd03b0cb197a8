import { join } from 'node:path';
import type { WalkEntry } from './walk.js';

/** Entries to scan, in order: an array, or a compact `WalkList`. */
export interface EntryList extends Iterable<WalkEntry> {
  readonly length: number;
  at(i: number): WalkEntry | undefined;
}

/**
 * Walked entries held compactly until the scan ends (the trust checks need every file's place). As objects, a
 * folder of 100,000 files held about 30 MB of entries for the whole scan, which the garbage collector's
 * headroom multiplies; here a plain file (absolute path = root + relative path, no link) is its relative
 * path, an index into the table of roots and its size: about 70 bytes. Other entries (links, streams,
 * skipped paths: few) are kept as they are. `at` builds an entry object on each call.
 */
export class WalkList implements EntryList {
  #roots: string[] = [];
  readonly #rootIndex = new Map<string, number>();
  #rel: string[] = [];
  #root = new Uint32Array(16);
  /** NaN: no size was listed. */
  #size = new Float64Array(16);
  readonly #whole = new Map<number, WalkEntry>();

  static from(entries: Iterable<WalkEntry>): WalkList {
    const list = new WalkList();
    for (const e of entries) list.push(e);
    return list;
  }

  get length(): number {
    return this.#rel.length;
  }

  push(e: WalkEntry): void {
    const i = this.#rel.length;
    if (i === this.#root.length) {
      const root = new Uint32Array(i * 2);
      root.set(this.#root);
      this.#root = root;
      const size = new Float64Array(i * 2);
      size.set(this.#size);
      this.#size = size;
    }
    this.#rel.push(e.relPath);
    if (e.kind !== 'file' || e.linkTarget !== undefined || join(e.root, e.relPath) !== e.absPath) {
      this.#whole.set(i, e);
      return;
    }
    let r = this.#rootIndex.get(e.root);
    if (r === undefined) {
      r = this.#roots.push(e.root) - 1;
      this.#rootIndex.set(e.root, r);
    }
    this.#root[i] = r;
    this.#size[i] = e.size ?? Number.NaN;
  }

  at(i: number): WalkEntry | undefined {
    const k = i < 0 ? this.length + i : i;
    if (!Number.isInteger(k) || k < 0 || k >= this.length) return undefined;
    const whole = this.#whole.get(k);
    if (whole) return whole;
    const root = this.#roots[this.#root[k]!]!;
    const relPath = this.#rel[k]!;
    const size = this.#size[k]!;
    return {
      kind: 'file',
      absPath: join(root, relPath),
      relPath,
      root,
      ...(Number.isNaN(size) ? {} : { size }),
    };
  }

  /** The entries this keeps, as a new list. */
  filter(keep: (e: WalkEntry) => boolean): WalkList {
    const out = new WalkList();
    for (const e of this) if (keep(e)) out.push(e);
    return out;
  }

  *[Symbol.iterator](): Iterator<WalkEntry> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }
}
