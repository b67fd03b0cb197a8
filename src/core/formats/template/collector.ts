import type { Severity } from '../../types.js';

/** One finding of the template analysis, before it is reported on a file. */
export interface TemplateFinding {
  ruleId: 'MG440' | 'MG441' | 'MG442' | 'MG443' | 'MG444' | 'MG445' | 'MG900' | 'MG901';
  severity?: Severity;
  message: string;
  /** The name or construct found (e.g. `__globals__`, `attr`, `lipsum`). */
  symbol: string;
}

export const MAX_FINDINGS = 40;

/** Drops "built string" findings for the pieces of a string that is itself reported (`__init` of `__init__`). */
export function prune(findings: TemplateFinding[]): TemplateFinding[] {
  return findings.filter(
    (f) =>
      f.ruleId !== 'MG441' ||
      !findings.some(
        (o) =>
          o !== f &&
          (o.ruleId === 'MG441' || o.ruleId === 'MG440') &&
          o.symbol.length > f.symbol.length &&
          o.symbol.includes(f.symbol),
      ),
  );
}

export class Collector {
  readonly findings: TemplateFinding[] = [];
  private readonly seen = new Set<string>();
  constructor(readonly where: string) {}
  add(f: TemplateFinding): void {
    const key = `${f.ruleId}\u0000${f.symbol}`;
    if (this.seen.has(key) || this.findings.length >= MAX_FINDINGS) return;
    // A critical finding on a symbol makes weaker ones on the same symbol noise.
    this.seen.add(key);
    this.findings.push(f);
  }
  hasSymbol(symbol: string): boolean {
    return this.findings.some((f) => f.symbol === symbol);
  }
}
