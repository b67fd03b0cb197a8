// Compressed wrappers (gzip, zlib, bzip2, xz, lzma-alone, lz4 frame, zstd) and the archive formats modelgate
// detects but does not decode (7z, rar). A compressed stream is decoded on the fly (./codecs.ts), charged to
// the decompression budget, checked for bombs, and its content goes through ctx.scanNested as a stream-only
// source, so a `.joblib.z`, `.pkl.xz` or `.tar.gz` is analysed by whatever its content is.
import type { AnalysisContext } from '../../context.js';
import { sliceSource, streamSource } from '../../source.js';
import type { FormatId } from '../../types.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { rawBlobIsData } from '../raw/blob.js';
import { isArchiveFormat } from '../zip/analyzer.js';
import { bounded, type Codec, counting, decode, tracked } from './codecs.js';
import { lzmaAloneRejectedAtOnce } from './lzma.js';

interface CodecInfo {
  codec: Codec;
  format: FormatId;
  /** Extensions stripped to name the decoded content. */
  exts: string[];
}

const CODECS: Record<string, CodecInfo> = {
  gzip: { codec: 'gzip', format: 'gzip', exts: ['.gz', '.gzip', '.tgz'] },
  zlib: { codec: 'zlib', format: 'zlib', exts: ['.z', '.zlib'] },
  bzip2: { codec: 'bzip2', format: 'bzip2', exts: ['.bz2', '.tbz2', '.tbz'] },
  xz: { codec: 'xz', format: 'xz', exts: ['.xz', '.txz'] },
  lzma: { codec: 'lzma', format: 'lzma', exts: ['.lzma'] },
  lz4: { codec: 'lz4', format: 'lz4', exts: ['.lz4'] },
  zstd: { codec: 'zstd', format: 'zstd', exts: ['.zst', '.zstd'] },
};

function at(h: Uint8Array, bytes: number[], off = 0): boolean {
  if (h.length < off + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (h[off + i] !== bytes[i]) return false;
  return true;
}

/** Recognises a compressed stream by its header. Exported for tests and the tar analyzer. */
export function detectCodec(h: Uint8Array): CodecInfo | undefined {
  if (at(h, [0x1f, 0x8b, 0x08])) return CODECS.gzip;
  if (at(h, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return CODECS.xz;
  if (at(h, [0x04, 0x22, 0x4d, 0x18])) return CODECS.lz4;
  if (at(h, [0x28, 0xb5, 0x2f, 0xfd])) return CODECS.zstd;
  if (at(h, [0x42, 0x5a, 0x68]) && h.length >= 10 && h[3]! >= 0x31 && h[3]! <= 0x39) {
    if (at(h, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59], 4) || at(h, [0x17, 0x72, 0x45, 0x38, 0x50, 0x90], 4))
      return CODECS.bzip2;
  }
  // zlib: CMF 0x78 (deflate, 32 KiB window: what zlib, Python and joblib write), FCHECK valid, no preset
  // dictionary, and a valid first block (type 3 is invalid; a stored block has LEN == ~NLEN). Other window
  // sizes are legal but rare, and a weaker test matches ordinary binary headers (a safetensors length).
  if (h.length >= 7 && h[0] === 0x78 && ((h[0]! << 8) | h[1]!) % 31 === 0 && !(h[1]! & 0x20)) {
    const btype = (h[2]! >> 1) & 3;
    const storedOk = btype !== 0 || ((h[3]! | (h[4]! << 8)) ^ (h[5]! | (h[6]! << 8))) === 0xffff;
    if (btype !== 3 && storedOk) return CODECS.zlib;
  }
  // lzma alone: properties < 225, dictionary size a power of two (or 2^n + 2^(n-1)), size known or -1,
  // and the range coder's first byte is zero.
  // (liblzma also requires lc + lp <= 4 for this format.)
  const lc = h[0]! % 9;
  const lp = Math.floor(h[0]! / 9) % 5;
  if (h.length >= 14 && h[0]! < 225 && lc + lp <= 4 && h[13] === 0) {
    const dict = (h[1]! | (h[2]! << 8) | (h[3]! << 16)) + h[4]! * 0x1000000;
    const pow2 = dict > 0 && (dict & (dict - 1)) === 0;
    const pow2b = dict > 0 && (dict / 3) * 2 === 2 ** Math.round(Math.log2((dict / 3) * 2));
    const unknown = h.subarray(5, 13).every((b) => b === 0xff);
    const sizeHi = h[11]! | h[12]!;
    // Without a magic number, a header of another format can fit; a stream the decoders reject before
    // delivering a byte is not LZMA for any loader (MATLAB v4 .mat files start like this).
    if ((pow2 || pow2b) && dict >= 4096 && (unknown || sizeHi === 0) && !lzmaAloneRejectedAtOnce(h))
      return CODECS.lzma;
  }
  return undefined;
}

/** The name of the decoded content: `model.pkl.gz` → `model.pkl`; otherwise `<name>:decoded`. */
function innerName(name: string, info: CodecInfo): string {
  const base = name.split(/[/\\!]/).pop() ?? name;
  const lower = base.toLowerCase();
  for (const ext of info.exts) {
    if (lower.endsWith(ext) && lower.length > ext.length) {
      const stem = base.slice(0, base.length - ext.length);
      return ['.tgz', '.tbz2', '.tbz', '.txz'].includes(ext) ? `${stem}.tar` : stem;
    }
  }
  return `${base}:${info.format}`;
}

export const compressedAnalyzer: Analyzer = {
  id: 'compressed',
  detect(probe: Probe): Detection | undefined {
    const info = detectCodec(probe.head);
    if (!info) return undefined;
    const strength = info.codec === 'zlib' || info.codec === 'lzma' ? 'structure' : 'magic';
    return { format: info.format, strength };
  },
  async analyze(ctx: AnalysisContext, detection: Detection): Promise<void> {
    const info = Object.values(CODECS).find((c) => c.format === detection.format);
    if (!info) return;
    const src = ctx.source;
    const name = innerName(src.name, info);
    let trailing: number | undefined;
    const onTrailing = (off: number) => {
      trailing = off;
    };
    const inner0 = streamSource(name, () => {
      const counter = { n: 0 };
      return bounded(ctx, decode(info.codec, counting(src.stream(), counter), { onTrailing }), {
        counter,
        member: undefined,
      });
    });
    ctx.fact(`${info.format}.compressedBytes`, src.size);
    const t = tracked(inner0);
    const fmt = await ctx.scanNested(t.source, name);
    await t.drain(ctx, name);
    if (trailing !== undefined && trailing < (src.size ?? Number.POSITIVE_INFINITY)) {
      const at = trailing;
      ctx.report(
        'MG213',
        `Data follows the end of the ${info.format} stream at offset ${at}; decoders stop there. It was scanned by content.`,
        { offset: at },
      );
      const rest = src.random
        ? sliceSource(`${info.format}-trailing-data`, src.random, at, src.random.size - at)
        : streamSource(`${info.format}-trailing-data`, () => src.stream(at));
      await ctx.scanNested(rest, `${info.format}-trailing-data@${at}`);
    }
    if (fmt === undefined) {
      // Decoded content no analyzer recognised: under a model name this is unknown content (fail closed).
      const ext = name.toLowerCase().match(/\.[^./\\]+$/)?.[0] ?? '';
      if (['.pkl', '.pickle', '.joblib', '.pt', '.pth', '.bin', '.ckpt', '.npy', '.sav'].includes(ext)) {
        // The same judgement as for a file on disk: bytes every loader of the name rejects are data.
        const data = await rawBlobIsData(t.source, ext, ctx.budget, (message, offset) =>
          ctx.report('MG840', message, { member: name, offset }),
        );
        if (data) return;
        ctx.report(
          'MG004',
          `The decoded content of this ${info.format} stream matches no supported format.`,
          {
            member: name,
          },
        );
      }
    } else if (isArchiveFormat(fmt) && fmt !== 'tar' && fmt !== 'pytorch-legacy-tar') {
      ctx.report(
        'MG214',
        `The ${info.format} stream holds another archive (${fmt}); it was unpacked and scanned.`,
        {
          member: name,
        },
      );
    }
  },
};

/** 7z and rar: detected, not decoded (MG211, incomplete). */
export const unsupportedArchiveAnalyzer: Analyzer = {
  id: 'archive-unsupported',
  detect(probe: Probe): Detection | undefined {
    if (at(probe.head, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return { format: '7z', strength: 'magic' };
    if (at(probe.head, [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07])) return { format: 'rar', strength: 'magic' };
    return undefined;
  },
  async analyze(ctx: AnalysisContext, detection: Detection): Promise<void> {
    ctx.report(
      'MG211',
      `The content is a ${detection.format} archive, which modelgate does not unpack; its members were not analysed.`,
    );
  },
};
