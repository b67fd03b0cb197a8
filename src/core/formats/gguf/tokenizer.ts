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
  /** BPE merges ("a b", each cut to 2 x MAX_TOKEN_TEXT + 1 bytes), when that array is an array of strings. */
  merges?: Array<string | undefined>;
}

/** Merge lists longer than this are not kept (the largest real vocabularies have a few hundred thousand). */
export const MAX_MERGES = 4_000_000;
/** llama.cpp's llama_token_type: UNDEFINED 0, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE 6. */
const TOKEN_TYPE_MAX = 6;

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
  checkTokenTypes(ctx, tok);
  checkMerges(ctx, tok);
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

/**
 * Token types outside llama.cpp's enum (MG941): its loader maps them to UNDEFINED, but no converter writes
 * them, and readers that index per-type tables or switch without a default (older llama.cpp asserted) do not.
 */
function checkTokenTypes(ctx: AnalysisContext, tok: TokenizerArrays): void {
  if (!tok.types) return;
  let bad = 0;
  let first = -1;
  for (let i = 0; i < tok.types.length; i++) {
    const t = tok.types[i]!;
    if (t < 0 || t > TOKEN_TYPE_MAX) {
      bad++;
      if (first < 0) first = i;
    }
  }
  if (bad > 0)
    ctx.report(
      'MG941',
      `tokenizer.ggml.token_type[${first}] is ${tok.types[first]}${bad > 1 ? ` (and ${bad - 1} more)` : ''}, outside llama.cpp's token types 0-6 (UNDEFINED..BYTE).`,
      {
        offset: tok.arrays.get('tokenizer.ggml.token_type')?.offset,
        symbol: `tokenizer.ggml.token_type[${first}]`,
      },
    );
}

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * BPE merges that do not join two tokens into a third (MG941). Hugging Face tokenizers refuses such a
 * tokenizer.json (MergeTokenNotFound / MergeTokenOutOfVocabulary), so converters never write one; llama.cpp
 * splits each merge at the first space after its first character and looks the result up at tokenization time.
 * Every space is tried as the split (tokens may hold spaces); texts past MAX_TOKEN_TEXT were not kept and are
 * not judged.
 */
function checkMerges(ctx: AnalysisContext, tok: TokenizerArrays): void {
  if (!tok.merges || !tok.tokens) return;
  const vocab = new Set<string>();
  for (const t of tok.tokens) if (t !== undefined) vocab.add(t);
  const joins = (m: string): boolean => {
    for (let p = m.indexOf(' ', 1); p > 0; p = m.indexOf(' ', p + 1)) {
      const a = m.slice(0, p);
      const b = m.slice(p + 1);
      if (utf8Length(a) + utf8Length(b) > MAX_TOKEN_TEXT) return true;
      if (vocab.has(a) && vocab.has(b) && vocab.has(a + b)) return true;
    }
    return false;
  };
  let bad = 0;
  let first = -1;
  for (let i = 0; i < tok.merges.length; i++) {
    if ((i & 0xffff) === 0) ctx.checkTime();
    const m = tok.merges[i];
    if (m === undefined || joins(m)) continue;
    bad++;
    if (first < 0) first = i;
  }
  if (bad > 0)
    ctx.report(
      'MG941',
      `tokenizer.ggml.merges[${first}] ${JSON.stringify(printable(tok.merges[first]!, 60))}${bad > 1 ? ` (and ${bad - 1} more)` : ''} does not join two tokens of the vocabulary into a third.`,
      { offset: tok.arrays.get('tokenizer.ggml.merges')?.offset, symbol: `tokenizer.ggml.merges[${first}]` },
    );
}
