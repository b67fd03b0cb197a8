// The one place where the PyTorch analyzers call the pickle engine (../pickle): scan one pickle stream
// from a reader's position, get its STOP value and persistent ids as plain data. Errors never escape:
// budgets become MG001 and anything else MG003 on the member's context.
import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import type { ByteReader } from '../../reader.js';
import { type PickleScanOptions, scanPickle } from '../pickle/index.js';
import type { PlainValue } from '../pickle/values.js';
import { SPARSE_REBUILDERS } from './sparse.js';

export interface PickleOutcome {
  /** False when the stream could not be scanned to its STOP (malformed, budget). */
  ok: boolean;
  value: PlainValue | undefined;
  persistentIds: PlainValue[];
  /** REDUCE calls of the sparse-tensor rebuilders (counted even where the plain value dropped them). */
  sparseCalls: number;
  /** Absolute offset just past the STOP opcode (or where scanning stopped). */
  endOffset: number;
}

/** Scans one pickle stream at the reader's position; `ctx` is the context findings belong to. */
export async function scanOnePickle(
  ctx: AnalysisContext,
  reader: ByteReader,
  opts: PickleScanOptions = {},
): Promise<PickleOutcome> {
  const start = reader.pos;
  try {
    // One stream: the options as given unless they ask for all (a copy per stream was this function's cost).
    const r = await scanPickle(ctx, reader, opts.allStreams ? { ...opts, allStreams: false } : opts);
    return {
      ok: r.broken === undefined,
      value: r.value,
      persistentIds: r.persistentIds.map((p) => p.pid),
      sparseCalls: r.calls.filter((c) => c.callee !== undefined && SPARSE_REBUILDERS.has(c.callee)).length,
      endOffset: r.endOffset,
    };
  } catch (err) {
    if (err instanceof BudgetExceededError) ctx.budgetExceeded(err, { offset: start });
    else {
      const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      ctx.report('MG003', `pickle analysis failed: ${msg}`, { offset: start });
    }
    return { ok: false, value: undefined, persistentIds: [], sparseCalls: 0, endOffset: reader.pos };
  }
}
