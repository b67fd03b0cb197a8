import fc from 'fast-check';
import { AnalysisContext, FileState } from '../../src/core/context.js';
import { analyzeSource, scanNested } from '../../src/core/engine.js';
import { Budget, DEFAULT_LIMITS } from '../../src/core/limits.js';
import { bufferSource } from '../../src/core/source.js';
import type { Finding } from '../../src/core/types.js';

/** Runs detection and analysis on bytes in memory, as the engine does for a file. */
export async function analyzeBytes(
  name: string,
  bytes: Uint8Array,
): Promise<{ format: string | undefined; findings: Finding[] }> {
  const limits = { ...DEFAULT_LIMITS, maxTimeMs: 10_000 };
  const state = new FileState({ limits, allowGlobals: [] }, new Budget(limits), undefined);
  const ctx = new AnalysisContext(state, bufferSource(name, bytes), [], 0, scanNested);
  const format = await analyzeSource(ctx);
  return { format, findings: state.findings };
}

/** Mutations that target parsers: byte flips, truncation, length fields set to extremes, splices. */
export function mutation(size: number) {
  return fc.oneof(
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(size - 1),
      value: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(size) }),
    fc.record({
      kind: fc.constant('u64' as const),
      at: fc.nat(Math.max(0, size - 8)),
      value: fc.constantFrom(0n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n),
    }),
    fc.record({
      kind: fc.constant('splice' as const),
      at: fc.nat(size),
      bytes: fc.uint8Array({ maxLength: 16 }),
    }),
  );
}

export function apply(
  src: Uint8Array,
  muts: ReadonlyArray<{ kind: string; at: number; value?: number | bigint; bytes?: Uint8Array }>,
): Uint8Array {
  let b = Buffer.from(src);
  for (const m of muts) {
    if (m.kind === 'flip' && m.at < b.length) b[m.at] = m.value as number;
    else if (m.kind === 'truncate') b = b.subarray(0, m.at);
    else if (m.kind === 'u64' && m.at + 8 <= b.length) b.writeBigUInt64LE(m.value as bigint, m.at);
    else if (m.kind === 'splice') b = Buffer.concat([b.subarray(0, m.at), m.bytes!, b.subarray(m.at)]);
  }
  return b;
}
