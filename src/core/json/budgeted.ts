import type { AnalysisContext } from '../context.js';
import { BudgetExceededError } from '../limits.js';
import { JsonLimitError, type JsonResult, JsonSyntaxError, parseJson } from './tokenizer.js';

/**
 * Parses a JSON document under the file's budgets: depth, value count and size come from ctx.limits, the
 * time budget is checked as it goes, and a JSON bound that is hit becomes the matching budget (MG001).
 * Invalid JSON is reported as malformed (MG002) at `offset` and gives undefined.
 */
export function parseJsonWithin(
  ctx: AnalysisContext,
  text: string,
  what: string,
  bounds: { maxDepth: number; maxValues: number; offset?: number },
): JsonResult | undefined {
  try {
    return parseJson(text, {
      maxDepth: Math.min(ctx.limits.maxStackDepth, bounds.maxDepth),
      maxValues: bounds.maxValues,
      maxChars: ctx.limits.maxDocumentBytes,
      onProgress: () => ctx.checkTime(),
    });
  } catch (err) {
    if (err instanceof JsonLimitError) {
      const limit =
        err.limit === 'maxDepth'
          ? 'maxStackDepth'
          : err.limit === 'maxChars'
            ? 'maxDocumentBytes'
            : 'maxEntries';
      throw new BudgetExceededError(limit, `${what}: ${err.detail}`);
    }
    if (err instanceof JsonSyntaxError) {
      ctx.malformed(
        `${what} is not valid JSON: ${err.message}.`,
        bounds.offset !== undefined ? { offset: bounds.offset } : {},
      );
      return undefined;
    }
    throw err;
  }
}
