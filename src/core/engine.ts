import { type AnalysisContext, BudgetExceededError, type NestedScanner } from './context.js';
import { type Detected, detectAll, extensionAccepts, makeProbe } from './detect.js';
import type { Analyzer } from './formats/analyzer.js';
import { ANALYZERS } from './formats/registry.js';
import type { FormatId } from './types.js';

/**
 * Detects what `ctx.source` is and runs every analyzer that recognises it. Two strong detections from
 * different analyzers make a polyglot (MG006), and each reading is analysed. Errors never escape: a budget
 * becomes MG001 and any other exception MG003, both `incomplete`, so one hostile file cannot stop a scan.
 */
export async function analyzeSource(
  ctx: AnalysisContext,
  analyzers: readonly Analyzer[] = ANALYZERS,
): Promise<FormatId | undefined> {
  let detected: Detected[];
  let ext = '';
  try {
    const probe = await makeProbe(ctx.source, ctx.source.name);
    ext = probe.ext;
    // A detector that throws on this content is a scanner error, never a silent "not this format".
    detected = detectAll(probe, analyzers, (a, err) => recordError(ctx, err, `${a.id} detector`));
  } catch (err) {
    recordError(ctx, err);
    return undefined;
  }
  if (detected.length === 0) return undefined;

  const strong = uniqueByAnalyzer(detected.filter((d) => d.detection.strength !== 'name'));
  const chosen = strong.length > 0 ? strong : [detected[0]!];
  if (strong.length > 1) {
    ctx.report(
      'MG006',
      `The content is valid as ${strong.map((d) => d.detection.format).join(' and ')}; each reading was scanned.`,
    );
  }
  const primary = chosen[0]!.detection.format;
  ctx.setFormat(primary);
  for (const d of chosen) {
    try {
      await d.analyzer.analyze(ctx, d.detection);
    } catch (err) {
      recordError(ctx, err, d.analyzer.id);
    }
  }
  const format = ctx.isTopLevel ? (ctx.file.format ?? primary) : primary;
  if (!extensionAccepts(ext, format)) {
    ctx.report('MG005', `The name ends in ${ext} but the content is ${format}.`);
  }
  return format;
}

/** The engine's implementation of ctx.scanNested over a given analyzer list: depth check, then analysis. */
export function nestedScanner(analyzers: readonly Analyzer[] = ANALYZERS): NestedScanner {
  return async (parent, source, member) => {
    const ctx = parent.child(source, member);
    if (ctx.depth > parent.limits.maxDepth) {
      ctx.budgetExceeded(
        new BudgetExceededError('maxDepth', `nesting depth ${ctx.depth} > ${parent.limits.maxDepth}`),
      );
      return undefined;
    }
    return analyzeSource(ctx, analyzers);
  };
}

/** ctx.scanNested with every registered analyzer. */
export const scanNested: NestedScanner = nestedScanner();

function recordError(ctx: AnalysisContext, err: unknown, analyzerId?: string): void {
  if (err instanceof BudgetExceededError) {
    ctx.budgetExceeded(err);
    return;
  }
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const who =
    analyzerId === undefined
      ? 'Detection'
      : analyzerId.endsWith(' detector')
        ? analyzerId
        : `${analyzerId} analyzer`;
  ctx.report('MG003', `${who} failed: ${msg}`);
}

function uniqueByAnalyzer(ds: Detected[]): Detected[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    if (seen.has(d.analyzer.id)) return false;
    seen.add(d.analyzer.id);
    return true;
  });
}
