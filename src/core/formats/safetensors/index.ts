import { open, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AnalysisContext } from '../../context.js';
import { decodeUtf8Strict, isJsonObject, parseJson } from '../../json/tokenizer.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { jsonHeadHasKey, readJsonDocument } from '../huggingface/json-doc.js';
import { MAX_HEADER_BYTES, reportJsonIssues } from './analyzer.js';
import { printable } from './text.js';

/**
 * Why a relative path taken from a model file would leave the model folder when a loader joins it to the
 * folder (absolute, `..`, drive letter, UNC, backslashes, NUL), or undefined when it stays inside.
 */
export function pathEscape(p: string): string | undefined {
  if (p.length === 0) return 'an empty path';
  if (p.includes('\u0000')) return 'a NUL byte';
  if (/^[\\/]{2}/.test(p)) return 'a UNC or network path';
  if (p.startsWith('/')) return 'an absolute path';
  if (/^[A-Za-z]:/.test(p)) return 'a drive letter';
  if (p.includes('\\')) return 'backslashes (a Windows path separator)';
  if (p.split('/').some((seg) => seg === '..')) return 'a ".." segment';
  if (/^~/.test(p)) return 'a home-directory path';
  if (/^[a-z][a-z0-9+.-]*:/i.test(p)) return 'a URL scheme';
  return undefined;
}

/** `*.safetensors.index.json` (and the same layout for `pytorch_model.bin.index.json`). */
export const safetensorsIndexAnalyzer: Analyzer = {
  id: 'safetensors-index',
  detect(probe: Probe): Detection | undefined {
    if (jsonHeadHasKey(probe.head, 'weight_map'))
      return { format: 'safetensors-index', strength: 'structure' };
    if (/\.(safetensors|bin)\.index\.json$/i.test(probe.name))
      return { format: 'safetensors-index', strength: 'name' };
    return undefined;
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    const doc = await readJsonDocument(ctx, 'sharded checkpoint index');
    if (!doc) return;
    reportJsonIssues(ctx, doc.issues, 'index');
    const root = doc.value;
    const map = isJsonObject(root) ? root.get('weight_map') : undefined;
    if (!isJsonObject(map)) {
      ctx.malformed('Sharded checkpoint index without a weight_map object.');
      return;
    }
    const shards = new Map<string, number>();
    const byShard = new Map<string, string[]>();
    for (const [tensor, target] of map) {
      if (typeof target !== 'string') {
        ctx.malformed(`weight_map entry ${printable(tensor, 80)} is not a file name.`, {
          symbol: printable(tensor, 200),
        });
        continue;
      }
      shards.set(target, (shards.get(target) ?? 0) + 1);
      const list = byShard.get(target) ?? [];
      list.push(tensor);
      byShard.set(target, list);
    }
    ctx.fact('index.tensors', map.size);
    ctx.fact(
      'index.shards',
      [...shards.keys()].slice(0, 100).map((s) => printable(s, 200)),
    );
    const disk = ctx.disk;
    for (const [shard, count] of shards) {
      const why = pathEscape(shard);
      if (why) {
        ctx.report(
          'MG412',
          `weight_map names shard ${printable(shard, 160)} (${count} tensor(s)), which has ${why}: it resolves outside the model folder.`,
          { symbol: printable(shard, 200) },
        );
        continue;
      }
      if (disk) {
        const target = join(dirname(disk.absPath), shard);
        const ok = await stat(target).then(
          (s) => s.isFile(),
          () => false,
        );
        if (!ok) {
          ctx.report(
            'MG413',
            `weight_map names shard ${printable(shard, 160)} (${count} tensor(s)), which is not next to the index.`,
            { symbol: printable(shard, 200) },
          );
        } else if (shard.endsWith('.safetensors')) {
          await checkShardTensors(ctx, target, shard, byShard.get(shard) ?? []);
        }
      }
    }
  },
};

/**
 * Reads the header of a shard next to the index (bounded; the shard itself is scanned on its own) and checks
 * that every tensor the index maps to it is there. A shard whose header cannot be read is left to its own
 * scan, which reports why.
 */
async function checkShardTensors(
  ctx: AnalysisContext,
  path: string,
  shard: string,
  tensors: string[],
): Promise<void> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    const { size } = await fh.stat();
    const lenBuf = Buffer.alloc(8);
    if ((await fh.read(lenBuf, 0, 8, 0)).bytesRead < 8) return;
    const n = lenBuf.readBigUInt64LE();
    if (n > BigInt(Math.min(MAX_HEADER_BYTES, ctx.limits.maxDocumentBytes)) || n + 8n > BigInt(size)) return;
    const hb = Buffer.alloc(Number(n));
    await fh.read(hb, 0, hb.length, 8);
    let header: ReturnType<typeof parseJson>['value'];
    try {
      header = parseJson(decodeUtf8Strict(hb), { maxDepth: 64, onProgress: () => ctx.checkTime() }).value;
    } catch {
      return;
    }
    if (!isJsonObject(header)) return;
    const missing = tensors.filter((t) => t === '__metadata__' || !header.has(t));
    for (const t of missing.slice(0, 20)) {
      ctx.report(
        'MG415',
        `weight_map maps tensor ${printable(t, 80)} to ${printable(shard, 120)}, whose header has no such tensor.`,
        { symbol: printable(t, 200) },
      );
    }
  } finally {
    await fh.close();
  }
}
