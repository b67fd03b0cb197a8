import type { AnalysisContext } from '../../context.js';
import { printable } from '../safetensors/text.js';
import { GGUF_TYPE_NAMES, GGUF_VALUE } from './types.js';

/**
 * Tokenizer metadata as llama.cpp's vocabulary loader reads it (llama-vocab.cpp): it indexes the arrays by
 * token id and trusts their element types and lengths, so values no converter writes corrupt memory at load
 * time, before any inference (2025-2026 heap bugs: arrays declared UINT8 but read as float/int32, special
 * token ids past the vocabulary, byte tokens spelled "<0x-1>" that index bytes_[-1]).
 */

/** What the GGUF reader collected about the tokenizer arrays while reading the metadata. */
export interface TokenizerArrays {
  /** Key -> element type, length and offset of every `tokenizer.ggml.*` array. */
  arrays: Map<string, { elemType: number; count: number; offset: number }>;
  /** Token texts (each cut to MAX_TOKEN_TEXT bytes), when the tokens array is an array of strings. */
  tokens?: Array<string | undefined>;
  /** token_type values, when that array is INT32. */
  types?: Int32Array;
}

/** Token texts longer than this are not kept (byte tokens are 6 bytes, special tokens a few dozen). */
export const MAX_TOKEN_TEXT = 256;

/** The element type llama.cpp reads each tokenizer array as. */
const EXPECTED: Record<string, number> = {
  'tokenizer.ggml.tokens': GGUF_VALUE.STRING,
  'tokenizer.ggml.scores': GGUF_VALUE.FLOAT32,
  'tokenizer.ggml.token_type': GGUF_VALUE.INT32,
  'tokenizer.ggml.merges': GGUF_VALUE.STRING,
  'tokenizer.ggml.added_tokens': GGUF_VALUE.STRING,
};
/** Arrays indexed by token id: they must be as long as the vocabulary. */
const PER_TOKEN = ['tokenizer.ggml.scores', 'tokenizer.ggml.token_type'];
const TOKEN_TYPE_BYTE = 6;
const BYTE_TOKEN = /^<0x[0-9A-Fa-f]{2}>$/;

export interface KvLike {
  type: number;
  value: bigint | number | boolean | string | undefined;
  offset: number;
}

/**
 * Checks the tokenizer metadata (MG930) and returns the text of the special tokens the chat template is
 * rendered with (bos_token, eos_token), for the template analysis to fold.
 */
export function checkTokenizer(
  ctx: AnalysisContext,
  kv: ReadonlyMap<string, KvLike>,
  tok: TokenizerArrays,
): Map<string, string> {
  const vars = new Map<string, string>();
  const typeName = (t: number): string => GGUF_TYPE_NAMES[t] ?? `type ${t}`;
  for (const [key, a] of tok.arrays) {
    const want = EXPECTED[key];
    if (want !== undefined && a.elemType !== want)
      ctx.report(
        'MG930',
        `${key} is an array of ${typeName(a.elemType)}; llama.cpp reads it as ${typeName(want)}, past the end of the array's memory.`,
        { offset: a.offset, symbol: key },
      );
  }
  const tokens = tok.arrays.get('tokenizer.ggml.tokens');
  const nVocab = tokens?.count;
  if (nVocab === undefined) return vars;
  for (const key of PER_TOKEN) {
    const a = tok.arrays.get(key);
    if (a && a.count !== nVocab)
      ctx.report(
        'MG930',
        `${key} has ${a.count} entries for ${nVocab} tokens; llama.cpp reads one per token id${a.count < nVocab ? ', past its end' : ''}.`,
        { offset: a.offset, symbol: key },
      );
  }
  for (const [key, v] of kv) {
    const m = /^tokenizer\.ggml\.(\w+)_token_id$/.exec(key);
    if (!m) continue;
    if (typeof v.value !== 'number' && typeof v.value !== 'bigint') {
      ctx.report('MG930', `${key} is a ${typeName(v.type)}, not a token id.`, {
        offset: v.offset,
        symbol: key,
      });
      continue;
    }
    const id = BigInt(v.value);
    // -1 (INT32) and 0xFFFFFFFF (UINT32) mean "no such token" to llama.cpp.
    if (id === -1n || (v.type === GGUF_VALUE.UINT32 && id === 0xffffffffn)) continue;
    if (id < 0n || id >= BigInt(nVocab)) {
      ctx.report(
        'MG930',
        `${key} is ${id}, outside the vocabulary of ${nVocab} tokens: loaders that index the token table with it read or write out of bounds.`,
        { offset: v.offset, symbol: key },
      );
      continue;
    }
    const text = tok.tokens?.[Number(id)];
    if (text !== undefined && (m[1] === 'bos' || m[1] === 'eos')) vars.set(`${m[1]}_token`, text);
  }
  if (tok.tokens) {
    let reported = 0;
    for (let i = 0; i < tok.tokens.length && reported < 5; i++) {
      const t = tok.tokens[i];
      if (t === undefined) continue;
      const isByteType = tok.types?.[i] === TOKEN_TYPE_BYTE;
      const looksByte = t.startsWith('<0x') && t.endsWith('>');
      if ((isByteType || looksByte) && !BYTE_TOKEN.test(t)) {
        reported++;
        ctx.report(
          'MG930',
          `Token ${i} ${JSON.stringify(printable(t, 40))} is ${isByteType ? 'a byte token' : 'spelled like a byte token'} but not "<0xHH>": byte-token parsers turn it into an out-of-range byte index.`,
          { offset: tokens!.offset, symbol: `tokenizer.ggml.tokens[${i}]` },
        );
      }
    }
  }
  return vars;
}
