import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import { ByteReader } from '../../reader.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { printable } from '../safetensors/text.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const UTF8 = new TextDecoder();

/**
 * Legacy GGML model files, the formats llama.cpp and the ggml examples used before GGUF (August 2023):
 * `ggml` (unversioned), `ggmf` v1 (adds vocabulary scores), `ggjt` v1-v3 (adds 32-byte alignment of tensor
 * data; v2 and v3 changed quantization block layouts) and `ggla` v1 (LoRA adapters). All are read by C/C++
 * loaders that copy or mmap tensor bytes: nothing in them is code, so the risks are a parser's (lengths and
 * offsets past the end, allocation sizes) and the check is a bound check of the whole layout, exactly as
 * llama.cpp's llama_file_loader reads it (read_magic, read_hparams, read_vocab, read_tensor_metadata):
 *
 *   u32 magic ['ggml' | 'ggmf' | 'ggjt' | 'ggla'], u32 version (not for 'ggml')
 *   llama hparams: u32 n_vocab, n_embd, n_mult, n_head, n_layer, n_rot, ftype   (ggla: u32 r, alpha)
 *   vocab: n_vocab × (u32 len, len bytes, f32 score [ggmf and later])
 *   tensors until EOF: u32 n_dims, u32 name_len, u32 type, u32 ne[n_dims], name, [ggjt/ggla: pad to 32],
 *                      data of ggml_type_size(type) × Π ne / ggml_blck_size(type) bytes
 *
 * The unversioned `ggml` magic is also used by whisper.cpp and the ggml examples with model-specific
 * hyper-parameters: when the header is not a llama layout, the file is recognised and reported with a low
 * note (its tensors cannot be located without the program that wrote it).
 */

const MAGICS: Record<number, string> = {
  1734831468: 'ggml',
  1734831462: 'ggmf',
  1734830708: 'ggjt',
  1734831201: 'ggla',
};
/** Versions llama.cpp's read_magic accepts per magic. */
const VERSIONS: Record<string, readonly number[]> = { ggmf: [1], ggjt: [1, 2, 3], ggla: [1] };

/**
 * [bytes per block, elements per block] of each ggml_type as ggml.c defined them for a file version:
 * ggjt v3 moved Q4_0/Q4_1/Q8_0 scales to fp16 (18/20/34 bytes per 32) and added the k-quants (QK_K = 256);
 * earlier files use fp32 scales (20/24/36) and may hold Q4_2/Q4_3 (removed with ggjt v2).
 */
function blockLayout(kind: string, version: number, type: number): [number, number] | undefined {
  const v3 = kind === 'ggjt' && version >= 3;
  const beforeV2 = kind !== 'ggjt' || version < 2;
  switch (type) {
    case 0:
      return [4, 1];
    case 1:
      return [2, 1];
    case 2:
      return v3 ? [18, 32] : [20, 32];
    case 3:
      return v3 ? [20, 32] : [24, 32];
    case 4:
      return beforeV2 ? [10, 16] : undefined;
    case 5:
      return beforeV2 ? [12, 16] : undefined;
    case 6:
      return [22, 32];
    case 7:
      return [24, 32];
    case 8:
      return v3 ? [34, 32] : [36, 32];
    case 10:
      return v3 ? [84, 256] : undefined;
    case 11:
      return v3 ? [110, 256] : undefined;
    case 12:
      return v3 ? [144, 256] : undefined;
    case 13:
      return v3 ? [176, 256] : undefined;
    case 14:
      return v3 ? [210, 256] : undefined;
    default:
      return undefined;
  }
}

const MAX_NAME = 4096;
const MAX_TOKEN = 1 << 20;

export const ggmlAnalyzer: Analyzer = {
  id: 'ggml',
  detect(probe: Probe): Detection | undefined {
    const h = probe.head;
    if (h.length < 8) return undefined;
    const magic = new DataView(h.buffer, h.byteOffset, 4).getUint32(0, true);
    const kind = MAGICS[magic];
    if (!kind) return undefined;
    if (kind !== 'ggml') {
      const version = new DataView(h.buffer, h.byteOffset + 4, 4).getUint32(0, true);
      if (!VERSIONS[kind]!.includes(version)) return undefined;
    }
    return { format: 'ggml', strength: 'magic' };
  },
  analyze,
};

class Malformed extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

async function analyze(ctx: AnalysisContext, _d: Detection): Promise<void> {
  const size = ctx.source.size;
  const r = new ByteReader(ctx.source);
  const u32 = async (): Promise<number> => {
    if (!(await r.ensure(4))) throw new Malformed('the file ends inside a header field', r.pos);
    const b = r.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 2 ** 24;
  };
  const skip = async (n: number, what: string) => {
    if (size !== undefined && r.pos + n > size)
      throw new Malformed(`${what} (${n} bytes) runs past the end of the file`, r.pos);
    await r.skip(n);
  };
  const magic = await u32();
  const kind = MAGICS[magic]!;
  const version = kind === 'ggml' ? 0 : await u32();
  ctx.fact('ggml.magic', kind);
  if (kind !== 'ggml') ctx.fact('ggml.version', version);
  try {
    if (kind === 'ggla') {
      ctx.fact('ggml.lora', { r: await u32(), alpha: await u32() });
    } else {
      const [nVocab, nEmbd, nMult, nHead, nLayer, nRot, ftype] = [
        await u32(),
        await u32(),
        await u32(),
        await u32(),
        await u32(),
        await u32(),
        await u32(),
      ] as [number, number, number, number, number, number, number];
      const llama =
        nVocab >= 1 &&
        nVocab <= 1 << 22 &&
        nEmbd >= 1 &&
        nEmbd <= 1 << 17 &&
        nMult >= 1 &&
        nMult <= 1 << 17 &&
        nHead >= 1 &&
        nHead <= 4096 &&
        nLayer >= 1 &&
        nLayer <= 4096 &&
        nRot <= nEmbd &&
        ftype % 1000 <= 30;
      if (!llama) {
        if (kind === 'ggml') {
          ctx.report(
            'MG830',
            'GGML file with model-specific hyper-parameters (whisper.cpp and the ggml examples use this magic); the header is recognised, its tensors were not located.',
          );
          return;
        }
        throw new Malformed(
          `the ${kind} hyper-parameters are not those of a llama.cpp model (n_vocab ${nVocab}, n_embd ${nEmbd}, n_head ${nHead}, n_layer ${nLayer}, ftype ${ftype})`,
          r.pos,
        );
      }
      ctx.fact('ggml.hparams', { nVocab, nEmbd, nMult, nHead, nLayer, nRot, ftype });
      for (let i = 0; i < nVocab; i++) {
        if ((i & 0xfff) === 0) ctx.checkTime();
        const len = await u32();
        if (len > MAX_TOKEN) throw new Malformed(`vocabulary entry ${i} claims ${len} bytes`, r.pos - 4);
        await skip(len + (kind === 'ggml' ? 0 : 4), `vocabulary entry ${i}`);
      }
    }
    await tensors(ctx, r, kind, version, u32, skip);
  } catch (err) {
    if (err instanceof Malformed) {
      ctx.report('MG831', `The ${kind} file is malformed: ${err.message}.`, { offset: err.offset });
    } else if (err instanceof BudgetExceededError) ctx.budgetExceeded(err);
    else throw err;
  }
}

async function tensors(
  ctx: AnalysisContext,
  r: ByteReader,
  kind: string,
  version: number,
  u32: () => Promise<number>,
  skip: (n: number, what: string) => Promise<void>,
): Promise<void> {
  const names = new Set<string>();
  let count = 0;
  let bytes = 0;
  while (!(await r.atEnd())) {
    ctx.checkTime();
    const at = r.pos;
    const nDims = await u32();
    const nameLen = await u32();
    const type = await u32();
    if (nDims < 1 || nDims > 4) throw new Malformed(`tensor ${count} has ${nDims} dimensions`, at);
    if (nameLen > MAX_NAME) throw new Malformed(`tensor ${count} has a ${nameLen}-byte name`, at);
    const ne: number[] = [];
    for (let d = 0; d < nDims; d++) ne.push(await u32());
    if (!(await r.ensure(nameLen)))
      throw new Malformed(`the name of tensor ${count} runs past the end`, r.pos);
    const name = UTF8.decode(r.take(nameLen));
    if (names.has(name)) throw new Malformed(`tensor "${printable(name, 80)}" is defined twice`, at);
    names.add(name);
    const layout = blockLayout(kind, version, type);
    if (!layout)
      throw new Malformed(
        `tensor "${printable(name, 80)}" has the type ${type}, unknown to ${kind} v${version}`,
        at,
      );
    const elements = ne.reduce((a, b) => a * b, 1);
    if (elements % layout[1] !== 0)
      throw new Malformed(
        `tensor "${printable(name, 80)}" has ${elements} elements, not whole blocks of ${layout[1]}`,
        at,
      );
    const nbytes = (elements / layout[1]) * layout[0];
    if (!Number.isSafeInteger(nbytes))
      throw new Malformed(`tensor "${printable(name, 80)}" is too large`, at);
    // ggjt and ggla align tensor data to 32 bytes from the start of the file.
    if (kind === 'ggjt' || kind === 'ggla')
      await skip((32 - (r.pos % 32)) % 32, `the padding of tensor "${printable(name, 80)}"`);
    await skip(nbytes, `the data of tensor "${printable(name, 80)}"`);
    bytes += nbytes;
    count++;
    if (count > 1_000_000) throw new BudgetExceededError('maxEntries', 'more than 1000000 GGML tensors');
  }
  ctx.fact('ggml.tensors', count);
  ctx.fact('ggml.tensorBytes', bytes);
}
