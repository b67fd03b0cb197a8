import { type Budget, BudgetExceededError, type Limits } from './limits.js';
import { getRule } from './rules/catalogue.js';
import type { ByteSource } from './source.js';
import type { Finding, FormatId, Location, Severity } from './types.js';

/** Settings that reach every analyzer: the limits and the policy's extra allowlist. */
export interface ScanSettings {
  limits: Readonly<Limits>;
  /** Extra exact pickle globals the policy allows (module + qualified name). */
  allowGlobals: ReadonlyArray<{ module: string; name: string }>;
}

/** Where a top-level file lives on disk, for analyzers that look at its neighbours (index files, signatures). */
export interface DiskLocation {
  /** Absolute path of the scanned root folder. */
  root: string;
  /** Absolute path of the file. */
  absPath: string;
  /** Path relative to the root, with forward slashes. */
  relPath: string;
}

/** Everything collected about one top-level file while it and its nested content are analysed. */
export class FileState {
  readonly findings: Finding[] = [];
  readonly facts: Record<string, unknown> = {};
  format: FormatId | undefined;
  private readonly seen = new Set<string>();
  private dropped = 0;

  constructor(
    readonly settings: ScanSettings,
    readonly budget: Budget,
    readonly disk: DiskLocation | undefined,
  ) {}

  add(f: Finding): void {
    const key = `${f.ruleId}\u0000${f.message}\u0000${f.location.member ?? ''}\u0000${f.location.offset ?? ''}\u0000${f.location.symbol ?? ''}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.findings.length >= this.settings.limits.maxFindings) {
      this.dropped++;
      return;
    }
    this.findings.push(f);
  }

  /** Findings dropped past maxFindings (reported once by the engine). */
  get droppedFindings(): number {
    return this.dropped;
  }
}

export interface ReportOptions {
  severity?: Severity;
  score?: number;
}

/** Runs nested content through detection and analysis; provided by the engine. */
export type NestedScanner = (
  parent: AnalysisContext,
  source: ByteSource,
  member: string,
) => Promise<FormatId | undefined>;

/**
 * The view of a scan an analyzer works with: the source it analyses, where that source sits (the chain of
 * archive members above it), the budgets, and the sinks for findings, facts and nested content.
 */
export class AnalysisContext {
  constructor(
    readonly file: FileState,
    readonly source: ByteSource,
    /** Members from the top-level file down to this source, e.g. ["model.zip", "archive/data.pkl"]. */
    readonly memberChain: readonly string[],
    readonly depth: number,
    private readonly nested: NestedScanner,
  ) {}

  get budget(): Budget {
    return this.file.budget;
  }

  get limits(): Readonly<Limits> {
    return this.file.settings.limits;
  }

  get settings(): ScanSettings {
    return this.file.settings;
  }

  /** Only set for the top-level file of a scan on disk. */
  get disk(): DiskLocation | undefined {
    return this.depth === 0 ? this.file.disk : undefined;
  }

  /** True for the top-level file (not nested content). */
  get isTopLevel(): boolean {
    return this.depth === 0;
  }

  /** Records a finding. `location.member` is relative to this source; the chain above it is prepended. */
  report(ruleId: string, message: string, location: Location = {}, opts: ReportOptions = {}): void {
    const rule = getRule(ruleId);
    const chain = [...this.memberChain, ...(location.member ? [location.member] : [])];
    const loc: Location = {};
    if (chain.length > 0) loc.member = chain.join('!');
    if (location.offset !== undefined) loc.offset = location.offset;
    if (location.symbol !== undefined) loc.symbol = location.symbol;
    this.file.add({
      ruleId,
      severity: opts.severity ?? rule.severity,
      score: opts.score ?? rule.score,
      message,
      location: loc,
    });
  }

  /** Records that a budget stopped the analysis (MG001), naming the limit. */
  budgetExceeded(err: BudgetExceededError, location: Location = {}): void {
    this.report(
      'MG001',
      `Analysis stopped: limit ${err.limit} (${err.detail}). The rest was not analysed.`,
      location,
    );
  }

  /** Records that the content is malformed where the analysis needed it to be well formed (MG002). */
  malformed(message: string, location: Location = {}): void {
    this.report('MG002', message, location);
  }

  /** Records a fact about the file (reported under `facts`); nested sources prefix their member chain. */
  fact(key: string, value: unknown): void {
    const k = this.memberChain.length > 0 ? `${this.memberChain.join('!')}:${key}` : key;
    this.file.facts[k] = value;
  }

  /** Refines the format of the top-level file (e.g. a zip that turns out to be a PyTorch checkpoint). */
  setFormat(format: FormatId): void {
    if (this.depth === 0) this.file.format = format;
  }

  /**
   * Detects and analyses nested content (an archive member, a decompressed stream, an embedded pickle).
   * Returns the format found, or undefined when no analyzer recognised it. Depth is checked here.
   */
  scanNested(source: ByteSource, member: string): Promise<FormatId | undefined> {
    return this.nested(this, source, member);
  }

  /** A context for the same file one level deeper (used by the engine). */
  child(source: ByteSource, member: string): AnalysisContext {
    return new AnalysisContext(this.file, source, [...this.memberChain, member], this.depth + 1, this.nested);
  }

  /** Throws BudgetExceededError when the time budget is spent. */
  checkTime(): void {
    this.budget.checkTime();
  }
}

export { BudgetExceededError };
