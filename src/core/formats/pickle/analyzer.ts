import { ByteReader } from '../../reader.js';
import type { Analyzer } from '../analyzer.js';
import { scanPickle } from './scan.js';
import { isTorchLegacy, looksLikePickle } from './sniff.js';

/**
 * Raw pickle files (.pkl, .pickle, uncompressed joblib, raw-pickle .bin/.pt, training_args.bin...).
 * Protocol 2+ is recognised by PROTO, protocols 0/1 by a strict trial parse. The legacy torch.save
 * format (its magic pickle first) belongs to the PyTorch analyzer, which calls scanPickle per stream.
 */
export const pickleAnalyzer: Analyzer = {
  id: 'pickle',
  detect(probe) {
    if (isTorchLegacy(probe.head)) return undefined;
    const complete = probe.size !== undefined && probe.size <= probe.head.length;
    const kind = looksLikePickle(probe.head, { complete });
    if (kind === 'proto') return { format: 'pickle', strength: 'magic' };
    if (kind === 'text') return { format: 'pickle', strength: 'structure' };
    return undefined;
  },
  async analyze(ctx) {
    const reader = new ByteReader(ctx.source);
    await scanPickle(ctx, reader, { allStreams: true, value: false });
  },
};
