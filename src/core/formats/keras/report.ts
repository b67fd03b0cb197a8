import type { AnalysisContext } from '../../context.js';
import { bufferSource } from '../../source.js';
import { analyzeKerasConfig, type ConfigOrigin } from './config.js';
import { JsonError, parsePythonJson } from './json.js';

/**
 * Parses a config text and reports the config analysis through ctx (shared by .keras, H5 and
 * keras_metadata.pb). Embedded blobs (TorchModuleWrapper pickles) are scanned as nested content.
 */
export function analyzeConfigText(
  ctx: AnalysisContext,
  text: string,
  origin: ConfigOrigin,
  where: { member?: string; offset?: number; rootPath?: string },
): Promise<void> {
  let value: unknown;
  try {
    const parsed = parsePythonJson(text);
    value = parsed.value;
    for (const d of parsed.duplicates) {
      ctx.report('MG528', `The config repeats the key ${clip(d)}; the loader keeps the last value.`, {
        member: where.member,
        symbol: d,
      });
    }
  } catch (err) {
    const msg = err instanceof JsonError ? err.message : String(err);
    ctx.report('MG527', `The model config is not valid JSON (${msg}), so its layers were not analysed.`, {
      member: where.member,
      offset: where.offset,
    });
    return Promise.resolve();
  }
  return reportConfig(ctx, value, origin, where);
}

export async function reportConfig(
  ctx: AnalysisContext,
  value: unknown,
  origin: ConfigOrigin,
  where: { member?: string; offset?: number; rootPath?: string },
): Promise<void> {
  const res = analyzeKerasConfig(value, origin, { rootPath: where.rootPath });
  for (const i of res.issues) {
    ctx.report(
      i.ruleId,
      i.message,
      { member: where.member, offset: where.offset, symbol: i.symbol },
      {
        severity: i.severity,
        score: i.score,
      },
    );
  }
  const prev = (ctx.file.facts['keras.classes'] as string[] | undefined) ?? [];
  ctx.fact('keras.classes', [...new Set([...prev, ...res.classes])].slice(0, 200));
  for (const b of res.blobs) {
    const member = `${where.member ? `${where.member}#` : ''}${b.name}`;
    await ctx.scanNested(bufferSource(member, b.data), member);
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
