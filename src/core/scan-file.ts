import type { BigIntStats } from 'node:fs';
import { AnalysisContext, type DiskLocation, FileState, type ScanSettings } from './context.js';
import { isModelExtension } from './detect.js';
import { analyzeSource, scanNested } from './engine.js';
import { rawBlobIsData } from './formats/raw/blob.js';
import { type HashResult, hashPool, INLINE_HASH_BYTES, sha256Bytes } from './hash.js';
import { Budget, BudgetExceededError, type Limits } from './limits.js';
import { type ByteSource, bufferSource, type OpenedFile, openFileSync } from './source.js';
import type { Finding, FormatId } from './types.js';
import type { WalkEntry } from './walk.js';
import { watchdog } from './watchdog.js';

/** What scanning one file on disk produced, before the policy is applied. */
export interface FileScanResult {
  format: FormatId;
  size: number;
  sha256: string;
  findings: Finding[];
  facts: Record<string, unknown>;
}

export interface FileScanOptions {
  settings: ScanSettings;
  /** Analyzer list and nested scanner (tests inject their own); default: every registered analyzer. */
  analyze?: (ctx: AnalysisContext) => Promise<FormatId | undefined>;
  nested?: typeof scanNested;
}

/**
 * Called once before a batch of files is scanned: starts a hashing thread early when some file will need
 * one, so its start-up overlaps the scan of the first files instead of delaying the first large one.
 */
export function prepareScan(entries: Iterable<WalkEntry>): void {
  for (const e of entries)
    if (e.kind === 'file' && (e.size ?? 0) > INLINE_HASH_BYTES) {
      hashPool().warm();
      return;
    }
}

/** Extra time after the cooperative deadline before the watchdog abandons an analysis. */
export function watchdogGraceMs(limits: Readonly<Limits>): number {
  return Math.min(5_000, Math.max(50, Math.round(limits.maxTimeMs / 10)));
}

/**
 * Scans one regular file: opens it once (non-blocking, not following a link swapped in after the walk),
 * hashes it while the analyzers parse it, and enforces the per-file budgets whatever the analyzers do.
 *
 * - Small files (up to INLINE_HASH_BYTES) are read whole in one call, hashed inline and analysed from memory.
 * - Larger files are hashed on a worker thread (`hashPool`) through the same descriptor while the analyzers
 *   read it on the main thread, so hashing and parsing run on two cores at once.
 * - maxFileBytes: a larger file is hashed but not analysed (MG001 maxFileBytes).
 * - maxTimeMs: analyzers call ctx.checkTime() cooperatively; in addition a watchdog timer races the analysis
 *   and, past the deadline plus a grace period, records MG001 maxTimeMs, aborts the budget (every later
 *   checkTime throws) and abandons the analysis: findings it adds afterwards are not reported. This catches
 *   analyzers that await without checkpoints or wait on something that never comes. A synchronous loop
 *   that never yields cannot be interrupted on the main thread by any timer; src/core/watchdog.ts covers
 *   that case from another thread by ending the process (non-zero exit) so the gate cannot hang.
 * - The file vanishing, being swapped for a link/FIFO/other file, changing size or mtime while scanned, or
 *   being unreadable gives MG009 (incomplete); an error never escapes to the caller.
 */
export async function scanFileOnDisk(
  absPath: string,
  relPath: string,
  root: string,
  opts: FileScanOptions,
): Promise<FileScanResult> {
  const { settings } = opts;
  const limits = settings.limits;
  const disk: DiskLocation = { root, absPath, relPath };
  // The budget (and its deadline) is made again once the file is open and any large-file lock is held.
  let budget = new Budget(limits);
  let state = new FileState(settings, budget, disk);
  const nested = opts.nested ?? scanNested;
  const topCtx = (src: ByteSource) => new AnalysisContext(state, src, [], 0, nested);
  const fail = (message: string, size = 0, sha256 = ''): FileScanResult => {
    topCtx(bufferSource(relPath, new Uint8Array(0))).report('MG009', message);
    return { format: 'other', size, sha256, findings: [...state.findings], facts: { ...state.facts } };
  };
  let release: (() => void) | undefined;

  // One synchronous open, fstat and (for a small file) read: see openFileSync for why. The fstat after the
  // analysis (below) notices a file changed since.
  let file: OpenedFile;
  try {
    file = openFileSync(absPath, relPath, { noFollow: true });
  } catch (err) {
    return fail(`The file could not be opened: ${describeError(err)}.`);
  }
  let sha256 = '';
  let size = file.size;
  let findings: Finding[] | undefined;
  let hashing: Promise<HashResult> | undefined;
  try {
    const before = file.openedStat;
    if (!before.isFile()) {
      return fail(
        'The path was replaced by something that is not a regular file after the folder was listed.',
      );
    }
    size = Number(before.size);
    if (size > LARGE_FILE_BYTES) release = await largeFiles.lock();
    budget = new Budget(limits);
    state = new FileState(settings, budget, disk);
    let source: ByteSource = file;
    if (size <= INLINE_HASH_BYTES) {
      // One read of the whole small file (one byte more, to notice a file that grew since fstat; an empty
      // file is still read once for that).
      const data = file.readSync(0, size + 1, Math.max(1, size));
      if (data.length !== size)
        return fail(`The file changed size while it was read (${size} → ${data.length} bytes).`, size);
      sha256 = sha256Bytes(data);
      source = bufferSource(relPath, data);
    } else {
      hashing = hashPool().hashFd(file.fd);
      hashing.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
    }

    findings = await analyzeTopLevel(state, topCtx(guardSource(source, budget)), relPath, size, opts);

    if (hashing) {
      try {
        const h = await hashing;
        sha256 = h.sha256;
        if (h.bytes !== size) {
          topCtx(source).report(
            'MG009',
            `The file changed size while it was scanned (${size} → ${h.bytes} bytes).`,
          );
        }
      } catch (err) {
        topCtx(source).report('MG009', `The file could not be hashed: ${describeError(err)}.`);
      }
    }
    const after = file.statSync();
    const changed = changes(before, after);
    if (changed.length > 0) {
      topCtx(source).report(
        'MG009',
        `The file was modified while it was scanned (${changed.join(', ')} changed); the analysis and the sha256 may describe different contents.`,
      );
    }
  } catch (err) {
    topCtx(bufferSource(relPath, new Uint8Array(0))).report(
      'MG009',
      `The file could not be read: ${describeError(err)}.`,
    );
  } finally {
    // The hashing thread reads through this descriptor: never close it under a running hash.
    if (hashing) await hashing.catch(() => {});
    try {
      file.closeSync();
    } catch {
      // Nothing was left to release.
    }
    release?.();
  }
  if (findings) {
    // Keep the MG009 findings added after the freeze (they are about the file, not the abandoned analysis).
    for (const f of state.findings) if (f.ruleId === 'MG009' && !findings.includes(f)) findings.push(f);
  } else findings = [...state.findings];
  if (state.droppedFindings > 0) {
    findings.push({
      ruleId: 'MG001',
      severity: 'medium',
      score: 0,
      message: `${state.droppedFindings} more findings were not recorded (limit maxFindings).`,
      location: {},
    });
  }
  return { format: state.format ?? 'other', size, sha256, findings, facts: { ...state.facts } };
}

/**
 * The analysis of a top-level source under the per-file budgets: maxFileBytes before anything is read,
 * then detection and analysis raced against the maxTimeMs watchdog, then MG004 for unknown content under a
 * model name. Returns the findings frozen at the moment the watchdog abandoned the analysis, if it did.
 */
async function analyzeTopLevel(
  state: FileState,
  ctx: AnalysisContext,
  relPath: string,
  size: number,
  opts: FileScanOptions,
): Promise<Finding[] | undefined> {
  const limits = state.settings.limits;
  const budget = state.budget;
  if (size > limits.maxFileBytes) {
    ctx.budgetExceeded(new BudgetExceededError('maxFileBytes', `file size ${size} > ${limits.maxFileBytes}`));
    return undefined;
  }
  const analysis = (async () => {
    const format = await (opts.analyze ?? ((c: AnalysisContext) => analyzeSource(c)))(ctx);
    if (format === undefined) {
      const ext = relPath.toLowerCase().match(/\.[^./]+$/)?.[0] ?? '';
      if (isModelExtension(ext) && size > 0) {
        const data = await rawBlobIsData(ctx.source, ext, budget, (message, offset) =>
          ctx.report('MG840', message, { offset }),
        );
        if (data) state.format = 'raw-data';
        else {
          ctx.report('MG004', `Named like a model (${ext}) but the content matches no supported format.`);
          state.format = 'unknown';
        }
      } else state.format = 'other';
    }
  })();
  const leave = watchdog.enter(relPath, limits.maxTimeMs, watchdogGraceMs(limits));
  const outcome = await raceDeadline(analysis, budget, watchdogGraceMs(limits)).finally(leave);
  if (outcome === 'timeout') {
    budget.abort();
    ctx.budgetExceeded(
      new BudgetExceededError(
        'maxTimeMs',
        `analysis did not finish within ${limits.maxTimeMs} ms; it was abandoned by the watchdog`,
      ),
    );
    analysis.catch(() => {});
    // Freeze what was found so far: the abandoned analysis may still add findings to `state`.
    return [...state.findings];
  }
  if (outcome instanceof Error) {
    // analyzeSource never throws; an injected analyze function might.
    ctx.report('MG003', `Analysis failed: ${outcome.name}: ${outcome.message}`);
  }
  return undefined;
}

/**
 * Scans bytes already in memory as a top-level file named `relPath` (no disk location): the same budgets,
 * watchdog and MG004 rule as a file on disk. Used by the fuzzer and by tests.
 */
export async function scanBuffer(
  relPath: string,
  data: Uint8Array,
  opts: FileScanOptions,
): Promise<FileScanResult> {
  const r = await scanSource(bufferSource(relPath, data), relPath, data.length, undefined, opts);
  return { ...r, sha256: sha256Bytes(data) };
}

/**
 * Scans any top-level source (bytes in memory, a remote file read by Range requests) under the same budgets,
 * watchdog and MG004 rule as a file on disk. `disk`, when given, is where analyzers look for the file's
 * neighbours. The caller supplies the sha256 (the source may never be read whole).
 */
export async function scanSource(
  source: ByteSource,
  relPath: string,
  size: number,
  disk: DiskLocation | undefined,
  opts: FileScanOptions,
): Promise<Omit<FileScanResult, 'sha256'>> {
  const state = new FileState(opts.settings, new Budget(opts.settings.limits), disk);
  const guarded = guardSource(source, state.budget);
  const ctx = new AnalysisContext(state, guarded, [], 0, opts.nested ?? scanNested);
  const frozen = await analyzeTopLevel(state, ctx, relPath, size, opts);
  const findings = frozen ?? [...state.findings];
  if (state.droppedFindings > 0) {
    findings.push({
      ruleId: 'MG001',
      severity: 'medium',
      score: 0,
      message: `${state.droppedFindings} more findings were not recorded (limit maxFindings).`,
      location: {},
    });
  }
  return { format: state.format ?? 'other', size, findings, facts: { ...state.facts } };
}

/**
 * The top-level source as analyzers see it: every read first checks that the file's budget has not been
 * aborted by the watchdog, so an abandoned analysis (and every decompressor or nested reader fed from it)
 * fails at its next read instead of running on in the background.
 */
export function guardSource(src: ByteSource, budget: Budget): ByteSource {
  const random = src.random;
  const guarded: ByteSource = {
    name: src.name,
    size: src.size,
    async *stream(start?: number, end?: number) {
      for await (const chunk of src.stream(start, end)) {
        if (budget.aborted) budget.checkTime();
        yield chunk;
      }
    },
  };
  if (random) {
    const guardedRandom: NonNullable<ByteSource['random']> = {
      size: random.size,
      read: (offset, length) => {
        if (budget.aborted) budget.checkTime();
        return random.read(offset, length);
      },
      ...(random.readAhead ? { readAhead: true } : {}),
    };
    if (random.preferredRead) guardedRandom.preferredRead = (offset) => random.preferredRead!(offset);
    (guarded as { random?: ByteSource['random'] }).random = guardedRandom;
  }
  return guarded;
}

/** Resolves 'done', the error the analysis threw, or 'timeout' once the budget's deadline + grace passes. */
async function raceDeadline(
  analysis: Promise<void>,
  budget: Budget,
  graceMs: number,
): Promise<'done' | 'timeout' | Error> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((res) => {
    timer = setTimeout(() => res('timeout'), Math.max(0, budget.remainingMs()) + graceMs);
  });
  try {
    return await Promise.race([
      analysis.then(
        () => 'done' as const,
        (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What differs between two fstat results of one open file. Any write to the file moves its ctime, which no
 * system call can set back (utimes restores mtime only and itself moves ctime), so a same-size rewrite with
 * the mtime restored is still seen; inode and device catch a replaced file. Limit: ctime has the kernel's
 * timestamp granularity (a few ms), so a write in the same tick as the last change before the scan opened
 * the file keeps it; the hash worker and the analyzers reading through one descriptor narrow that window.
 */
function changes(a: BigIntStats, b: BigIntStats): string[] {
  const out: string[] = [];
  if (a.size !== b.size) out.push(`size ${a.size} → ${b.size}`);
  if (a.mtimeNs !== b.mtimeNs) out.push('mtime');
  if (a.ctimeNs !== b.ctimeNs) out.push('ctime');
  if (a.ino !== b.ino) out.push('inode');
  if (a.dev !== b.dev) out.push('device');
  return out;
}

function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = String((err as { code: unknown }).code);
    const why: Record<string, string> = {
      ENOENT: 'it no longer exists (removed after the folder was listed)',
      ELOOP: 'it was replaced by a symbolic link after the folder was listed',
      EACCES: 'permission denied',
      EPERM: 'operation not permitted',
      EISDIR: 'it is a directory',
      EAGAIN: 'it is not a regular file (a read would block)',
    };
    return `${code}: ${why[code] ?? (err instanceof Error ? err.message : code)}`;
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Maps `items` with at most `limit` calls in flight; results keep the input order. Used to scan many small
 * files at once (I/O overlaps parsing); large files take an exclusive slot so memory stays per-file bounded.
 */
export async function mapConcurrent<T, R>(
  items: { readonly length: number; at(i: number): T | undefined },
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items.at(i)!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  return out;
}

/**
 * Files above this size are analysed one at a time (the others wait), so peak memory stays per-file: up to
 * SCAN_CONCURRENCY files under it (whose whole-document parses cost at most a few times their size) run
 * alongside at most one larger file.
 */
export const LARGE_FILE_BYTES = 16 * 2 ** 20;

/** A lock for large files: one large file is analysed at a time whatever the concurrency. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async lock(): Promise<() => void> {
    let release!: () => void;
    const prev = this.tail;
    this.tail = new Promise((r) => {
      release = r;
    });
    await prev;
    return release;
  }
}

const largeFiles = new Mutex();
