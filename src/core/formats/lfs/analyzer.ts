import type { AnalysisContext } from '../../context.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { printable } from '../safetensors/text.js';
import { LFS_MAX_POINTER_BYTES, looksLikeLfsPointer, parseLfsPointer } from './pointer.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const UTF8_FATAL = new TextDecoder('utf-8', { fatal: true });

/**
 * A Git LFS pointer in place of a model: the content was not scanned, so the file is incomplete (MG007) with
 * the oid and size the action needs to fetch the real object. Pointer-like text that git-lfs would not read
 * as a pointer is malformed (MG002): Git would check it out as-is, and it is not what it claims to be.
 */
export const lfsAnalyzer: Analyzer = {
  id: 'lfs',
  detect(probe: Probe): Detection | undefined {
    const kind = looksLikeLfsPointer(probe.head, probe.size);
    if (kind === 'pointer') return { format: 'lfs-pointer', strength: 'magic' };
    if (kind === 'pointer-like') return { format: 'lfs-pointer', strength: 'structure' };
    return undefined;
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const c of ctx.source.stream(0, 4 * LFS_MAX_POINTER_BYTES + 1)) {
      chunks.push(c);
      total += c.length;
      if (total > 4 * LFS_MAX_POINTER_BYTES) break;
    }
    const bytes = Buffer.concat(chunks).subarray(0, 4 * LFS_MAX_POINTER_BYTES + 1);
    let text: string;
    try {
      text = UTF8_FATAL.decode(bytes);
    } catch {
      ctx.malformed(
        'Looks like a Git LFS pointer but is not valid UTF-8 text; the content was not scanned as a model.',
      );
      return;
    }
    const r = parseLfsPointer(text);
    if (!r.ok) {
      ctx.malformed(
        `Looks like a Git LFS pointer but git-lfs would not read it as one (${printable(r.reason, 120)}); nothing model-like was scanned.`,
      );
      return;
    }
    const p = r.pointer;
    ctx.fact('lfs.oid', `sha256:${p.oid}`);
    ctx.fact('lfs.size', p.size);
    ctx.report(
      'MG007',
      `Git LFS pointer to object sha256:${p.oid} (${p.size} bytes): the model content is not in the checkout and was not scanned.`,
      { symbol: `sha256:${p.oid}` },
    );
  },
};
