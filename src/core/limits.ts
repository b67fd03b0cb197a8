/**
 * Analysis budgets. Every parser checks the ones that apply to it; exceeding one stops that part of the
 * analysis with an `incomplete` finding (MG001) that names the limit. Defaults are documented in the README
 * and can be overridden in the policy file under `limits`.
 */
export interface Limits {
  /** Files larger than this are not analysed (incomplete). */
  maxFileBytes: number;
  /** Bytes produced by decompression, summed over everything nested in one file. */
  maxDecompressedBytes: number;
  /** Decompressed size divided by compressed size, per compressed stream or member. */
  maxCompressionRatio: number;
  /** Containers within containers (zip in zip, gzip in tar, pickle in pickle...). */
  maxDepth: number;
  /** Archive members, summed over one file. */
  maxEntries: number;
  /**
   * Pickle opcodes, summed over one file. The default is no limit a file can reach (more opcodes than the
   * largest analysed file holds): maxTimeMs bounds the work. Set it to stop at a count.
   */
  maxOpcodes: number;
  /** Memory of the pickle memo, in bytes (two bits per entry of plain data, more for values kept). */
  maxMemo: number;
  /** Pickle stack plus mark-stack depth; also JSON/protobuf nesting depth. */
  maxStackDepth: number;
  /** A single string or byte payload kept in memory for analysis; longer ones are skipped by length. */
  maxStringBytes: number;
  /** A JSON, YAML or text document parsed whole (safetensors header, config.json, Keras config, templates). */
  maxDocumentBytes: number;
  /** Wall time per top-level file, in milliseconds. */
  maxTimeMs: number;
  /** Findings kept per file; beyond it one summary finding is kept. */
  maxFindings: number;
  /**
   * Wall time for everything one Hugging Face Hub repository costs (revision, file list, Range reads,
   * downloads), in milliseconds; what is not read by then is incomplete (MG951).
   */
  maxRemoteTimeMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFileBytes: 256 * 2 ** 30,
  maxDecompressedBytes: 8 * 2 ** 30,
  maxCompressionRatio: 200,
  maxDepth: 8,
  maxEntries: 100_000,
  // 2^40: a pickle opcode takes at least one byte and maxFileBytes is 256 GiB, so no file reaches it.
  maxOpcodes: 2 ** 40,
  // 512 MiB: two billion memo entries of plain data; CPython needs tens of bytes per memo entry to load them.
  maxMemo: 512 * 2 ** 20,
  maxStackDepth: 100_000,
  maxStringBytes: 64 * 2 ** 20,
  // 48 MiB: the largest real tokenizer.json files (~34 MB) fit, and parsing one stays under 200 MB of RSS.
  maxDocumentBytes: 48 * 2 ** 20,
  maxTimeMs: 600_000,
  maxFindings: 500,
  // 30 min: a 10 GB pickle checkpoint at 10 MB/s; a server that dribbles bytes ends there, not never.
  maxRemoteTimeMs: 1_800_000,
});

export type LimitName = keyof Limits;

export const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as LimitName[];

/** Raised by a parser when a budget runs out; the engine turns it into an MG001 finding. */
export class BudgetExceededError extends Error {
  constructor(
    readonly limit: LimitName,
    readonly detail: string,
  ) {
    super(`${limit} exceeded: ${detail}`);
    this.name = 'BudgetExceededError';
  }
}

/** Shared counters for one top-level file and everything nested in it. */
export class Budget {
  private readonly counters = new Map<LimitName, number>();
  readonly deadline: number;

  constructor(
    readonly limits: Readonly<Limits>,
    now = Date.now(),
  ) {
    this.deadline = now + limits.maxTimeMs;
  }

  /** Adds `n` to a cumulative counter (decompressed bytes, entries, opcodes) and throws past its limit. */
  consume(limit: 'maxDecompressedBytes' | 'maxEntries' | 'maxOpcodes', n: number): void {
    if (this.abortedBy !== undefined) this.checkTime(); // an abandoned analysis stops at any budget call
    const total = (this.counters.get(limit) ?? 0) + n;
    this.counters.set(limit, total);
    if (total > this.limits[limit]) {
      throw new BudgetExceededError(limit, `${total} > ${this.limits[limit]}`);
    }
  }

  used(limit: LimitName): number {
    return this.counters.get(limit) ?? 0;
  }

  private abortedBy: string | undefined;

  /**
   * Ends the time budget now (the engine's watchdog does this when it abandons a file that overran its
   * time): every later checkTime() throws, so an abandoned analysis stops at its next checkpoint.
   */
  abort(why = 'abandoned by the watchdog'): void {
    this.abortedBy ??= why;
  }

  /** True once abort() was called. */
  get aborted(): boolean {
    return this.abortedBy !== undefined;
  }

  /** Milliseconds left before the deadline (negative once past it). */
  remainingMs(now = Date.now()): number {
    return this.deadline - now;
  }

  /** Throws when the per-file time budget is spent; call it every few thousand steps of any loop. */
  checkTime(): void {
    if (this.abortedBy !== undefined) {
      throw new BudgetExceededError(
        'maxTimeMs',
        `analysis ${this.abortedBy} after ${this.limits.maxTimeMs} ms`,
      );
    }
    if (Date.now() > this.deadline) {
      throw new BudgetExceededError('maxTimeMs', `analysis took longer than ${this.limits.maxTimeMs} ms`);
    }
  }

  /** Throws when `value` exceeds a per-object limit (depth, memo, string length...). */
  check(limit: LimitName, value: number, what: string): void {
    if (this.abortedBy !== undefined) this.checkTime();
    if (value > this.limits[limit]) {
      throw new BudgetExceededError(limit, `${what}: ${value} > ${this.limits[limit]}`);
    }
  }
}
