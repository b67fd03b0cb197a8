import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileReport, FormatId, Verdict } from '../types.js';
import { VERDICTS, verdictRank } from '../types.js';

/**
 * The file reports of one scan. A scan of tens of thousands of files must not hold every report as objects
 * until the end (about 0.5 KB each, and the garbage collector lets the heap grow to a multiple of what is
 * live: 357 MB peak for 100,000 small files): each report is written as one line of JSON when it is stored
 * and parsed again when it is read, so what stays in memory per file is its head (verdict, score, format,
 * size, digest and number of findings, in typed arrays), about 60 bytes. The JSON is kept in memory up to
 * `memoryBytes`, then in a private temporary file that is removed as soon as it is opened (on systems that
 * cannot remove an open file, when the store is closed or the process exits).
 *
 * A report read back is a fresh object: changing it changes nothing stored (store it again with `set`). It is
 * the report as JSON writes it, which is how every face writes it (`undefined` members are absent).
 */
export class FileReports implements Iterable<FileReport> {
  #length = 0;
  #verdict = new Uint8Array(16);
  #score = new Float64Array(16);
  #size = new Float64Array(16);
  #findings = new Uint32Array(16);
  /** Where each report's JSON is in the log, and its length in bytes (0: no report stored at this index). */
  #at = new Float64Array(16);
  #bytes = new Uint32Array(16);
  /** Digests as 32 bytes each; `#hasDigest` says which are set (a file not read has none). */
  #digest = new Uint8Array(16 * 32);
  #hasDigest = new Uint8Array(16);
  #format: FormatId[] = [];
  readonly #log: SpillLog;

  constructor(opts: { memoryBytes?: number } = {}) {
    this.#log = new SpillLog(opts.memoryBytes ?? MEMORY_BYTES);
  }

  /** A store holding these reports, in this order. */
  static from(files: Iterable<FileReport>, opts: { memoryBytes?: number } = {}): FileReports {
    const store = new FileReports(opts);
    for (const f of files) store.push(f);
    return store;
  }

  get length(): number {
    return this.#length;
  }

  push(report: FileReport): void {
    this.set(this.#length, report);
  }

  /** Stores the report of index `i` (any order: concurrent scans finish out of order; a later call replaces). */
  set(i: number, report: FileReport): void {
    if (!Number.isInteger(i) || i < 0) throw new RangeError(`a report index is a natural number, not ${i}`);
    this.#reserve(i + 1);
    const { at, bytes } = this.#log.append(`${JSON.stringify(report)}\n`);
    this.#at[i] = at;
    this.#bytes[i] = bytes;
    this.#verdict[i] = VERDICTS.indexOf(report.verdict);
    this.#score[i] = report.score;
    this.#size[i] = report.size;
    this.#findings[i] = report.findings.length;
    this.#format[i] = report.format;
    const digest = /^[0-9a-f]{64}$/.test(report.sha256);
    this.#hasDigest[i] = digest ? 1 : 0;
    if (digest) this.#digest.set(Buffer.from(report.sha256, 'hex'), i * 32);
    if (i >= this.#length) this.#length = i + 1;
  }

  /** The report at index `i` (a fresh object), or undefined past the end; negative indices count from it. */
  at(i: number): FileReport | undefined {
    const k = i < 0 ? this.#length + i : i;
    if (!Number.isInteger(k) || k < 0 || k >= this.#length) return undefined;
    if (this.#bytes[k] === 0) throw new Error(`file report ${k} of ${this.#length} was never stored`);
    return JSON.parse(this.#log.read(this.#at[k]!, this.#bytes[k]!)) as FileReport;
  }

  /** What is known of a report without reading it. */
  head(i: number): FileHead {
    this.#check(i);
    return {
      verdict: VERDICTS[this.#verdict[i]!]!,
      score: this.#score[i]!,
      format: this.#format[i]!,
      size: this.#size[i]!,
      sha256: this.#hasDigest[i]
        ? Buffer.from(this.#digest.subarray(i * 32, i * 32 + 32)).toString('hex')
        : '',
      findings: this.#findings[i]!,
    };
  }

  /** The worst verdict, the highest score and the count per verdict, from the heads. */
  summary(): { verdict: Verdict; maxScore: number; counts: Record<Verdict, number> } {
    const counts: Record<Verdict, number> = { pass: 0, warn: 0, block: 0, incomplete: 0 };
    let worst: Verdict = 'pass';
    let maxScore = 0;
    for (let i = 0; i < this.#length; i++) {
      this.#check(i);
      const v = VERDICTS[this.#verdict[i]!]!;
      counts[v]++;
      if (verdictRank(v) > verdictRank(worst)) worst = v;
      if (this.#score[i]! > maxScore) maxScore = this.#score[i]!;
    }
    return { verdict: worst, maxScore, counts };
  }

  *[Symbol.iterator](): Iterator<FileReport> {
    for (let i = 0; i < this.#length; i++) yield this.at(i)!;
  }

  find(pred: (f: FileReport) => boolean): FileReport | undefined {
    for (const f of this) if (pred(f)) return f;
    return undefined;
  }

  some(pred: (f: FileReport) => boolean): boolean {
    return this.find(pred) !== undefined;
  }

  every(pred: (f: FileReport) => boolean): boolean {
    return !this.some((f) => !pred(f));
  }

  filter(pred: (f: FileReport) => boolean): FileReport[] {
    const out: FileReport[] = [];
    for (const f of this) if (pred(f)) out.push(f);
    return out;
  }

  map<T>(fn: (f: FileReport, i: number) => T): T[] {
    const out: T[] = [];
    let i = 0;
    for (const f of this) out.push(fn(f, i++));
    return out;
  }

  flatMap<T>(fn: (f: FileReport) => readonly T[]): T[] {
    const out: T[] = [];
    for (const f of this) out.push(...fn(f));
    return out;
  }

  /** A new store with the same reports ordered by path (code-unit order, as the walk orders its entries). */
  sortedByPath(): FileReports {
    const paths = this.map((f) => f.path);
    const order = paths.map((_, i) => i);
    order.sort((a, b) => (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : a - b));
    const out = new FileReports({ memoryBytes: this.#log.memoryBytes });
    for (const i of order) out.push(this.at(i)!);
    return out;
  }

  /** The reports as an array (what JSON.stringify of a report writes). */
  toJSON(): FileReport[] {
    return [...this];
  }

  /** Removes the temporary file now rather than at exit (the store can no longer be read). */
  close(): void {
    this.#log.close();
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.#length)
      throw new RangeError(`no file report ${i}: the store holds ${this.#length}`);
    if (this.#bytes[i] === 0) throw new Error(`file report ${i} of ${this.#length} was never stored`);
  }

  #reserve(n: number): void {
    if (n <= this.#verdict.length) return;
    const cap = Math.max(n, this.#verdict.length * 2);
    const grow = <T extends Uint8Array | Uint32Array | Float64Array>(a: T, per = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(cap * per);
      b.set(a);
      return b;
    };
    this.#verdict = grow(this.#verdict);
    this.#score = grow(this.#score);
    this.#size = grow(this.#size);
    this.#findings = grow(this.#findings);
    this.#at = grow(this.#at);
    this.#bytes = grow(this.#bytes);
    this.#digest = grow(this.#digest, 32);
    this.#hasDigest = grow(this.#hasDigest);
  }
}

/** What the store keeps of each report in memory. */
export interface FileHead {
  verdict: Verdict;
  score: number;
  format: FormatId;
  size: number;
  /** Hex, or '' when the file was not read. */
  sha256: string;
  /** The number of findings (waived ones and notes included). */
  findings: number;
}

/** JSON held in memory before a store moves it to a temporary file: small scans never touch the disk. */
const MEMORY_BYTES = 4 * 2 ** 20;
/** Writes are gathered into pieces of this size; reads fetch this much ahead (reports are read in order). */
const BLOCK = 1 << 18;

/**
 * An append-only log of text: in memory up to a size, then in a temporary file. Its descriptor is closed
 * when the log is closed or collected.
 */
class SpillLog {
  #mem: Buffer;
  /** Bytes in `#mem`: the whole log while in memory, the tail not yet written once in the file. */
  #memUsed = 0;
  #file: { fd: number; dir: string | undefined } | undefined;
  /** Bytes in the file (the log's offset of `#mem`'s first byte once spilled). */
  #fileBytes = 0;
  /** Set when the file could not be made or written: from then on the log grows in memory. */
  #memoryOnly = false;
  /** The last block read from the file. */
  #window = Buffer.alloc(0);
  #windowAt = 0;
  #windowLen = 0;

  constructor(readonly memoryBytes: number) {
    this.#mem = Buffer.allocUnsafe(Math.min(BLOCK, memoryBytes));
  }

  append(text: string): { at: number; bytes: number } {
    const bytes = Buffer.byteLength(text);
    const at = this.#fileBytes + this.#memUsed;
    if (this.#memUsed + bytes > this.#mem.length) this.#makeRoom(bytes);
    this.#mem.write(text, this.#memUsed);
    this.#memUsed += bytes;
    return { at, bytes };
  }

  read(at: number, bytes: number): string {
    if (at >= this.#fileBytes)
      return this.#mem.toString('utf8', at - this.#fileBytes, at - this.#fileBytes + bytes);
    if (at < this.#windowAt || at + bytes > this.#windowAt + this.#windowLen) {
      const want = Math.max(bytes, BLOCK);
      if (this.#window.length < want) this.#window = Buffer.allocUnsafe(want);
      this.#windowLen = readFully(this.#file!.fd, this.#window, Math.min(want, this.#fileBytes - at), at);
      this.#windowAt = at;
    }
    const from = at - this.#windowAt;
    return this.#window.toString('utf8', from, from + bytes);
  }

  close(): void {
    if (!this.#file) return;
    const { fd, dir } = this.#file;
    this.#file = undefined;
    releaseLog({ fd, dir });
    CLOSE.unregister(this);
  }

  /** Grows the memory buffer while under `memoryBytes`; past it, moves what it holds to the file. */
  #makeRoom(bytes: number): void {
    if (this.#memoryOnly || (!this.#file && this.#memUsed + bytes <= this.memoryBytes)) {
      const want = Math.max(this.#mem.length * 2, this.#memUsed + bytes);
      const bigger = Buffer.allocUnsafe(this.#memoryOnly ? want : Math.min(this.memoryBytes, want));
      this.#mem.copy(bigger, 0, 0, this.#memUsed);
      this.#mem = bigger;
      return;
    }
    try {
      this.#file ??= this.#open();
      writeFully(this.#file.fd, this.#mem, this.#memUsed, this.#fileBytes);
    } catch {
      // No temporary file to be had (no writable temporary folder, a full disk): the reports stay in memory,
      // as they did before this store existed, rather than the scan failing. What was written stays readable.
      this.#memoryOnly = true;
      this.#makeRoom(bytes);
      return;
    }
    this.#fileBytes += this.#memUsed;
    this.#memUsed = 0;
    // From now on the memory buffer only gathers writes: one block, or one report if larger.
    if (this.#mem.length > BLOCK || this.#mem.length < bytes)
      this.#mem = Buffer.allocUnsafe(Math.max(BLOCK, bytes));
  }

  #open(): { fd: number; dir: string | undefined } {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-reports-'));
    const path = join(dir, 'reports.jsonl');
    const fd = openSync(path, 'wx+', 0o600);
    const file: { fd: number; dir: string | undefined } = { fd, dir };
    try {
      unlinkSync(path);
      rmSync(dir, { recursive: true, force: true });
      file.dir = undefined;
    } catch {
      // Windows keeps an open file: it is removed when the log is closed or the process exits.
      UNREMOVED.set(dir, fd);
    }
    CLOSE.register(this, { fd, dir: file.dir }, this);
    return file;
  }
}

/** Folders of logs that could not be removed while open (folder → descriptor), removed at exit. */
const UNREMOVED = new Map<string, number>();
process.once('exit', () => {
  for (const [dir, fd] of UNREMOVED) releaseLog({ fd, dir });
});

function releaseLog({ fd, dir }: { fd: number; dir: string | undefined }): void {
  closeSync(fd);
  if (dir !== undefined) {
    UNREMOVED.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A log dropped without close() gives its descriptor back when collected. */
const CLOSE = new FinalizationRegistry<{ fd: number; dir: string | undefined }>(releaseLog);

function writeFully(fd: number, buf: Buffer, length: number, position: number): void {
  for (let done = 0; done < length; ) done += writeSync(fd, buf, done, length - done, position + done);
}

function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0)
      throw new Error(`the report log ended at byte ${position + done}, ${length - done} bytes early`);
    done += n;
  }
  return done;
}
