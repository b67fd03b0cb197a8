/**
 * GGUF: a multi-GiB file (default 3 GiB) laid out like a Llama-3-8B Q4_K_M conversion: 128,256-token vocabulary
 * (tokens, scores, token types), 128,000 merges, the Llama 3.1 tools chat template, ~290 tensors; the tensor
 * data is a hole (ftruncate, sparse, in /tmp). Measures
 *   1. metadata validation alone (detection + the GGUF analyzer incl. the chat template, no hashing), in ms;
 *   2. the full scan (scanPaths: analysis + sha256 of every byte) against `openssl dgst -sha256`, same run.
 *
 *   node --import tsx bench/gguf.ts [--gib 3] [--repeat 2]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GGML_TYPES } from '../src/core/formats/gguf/types.js';
import { analyzeOnly, benchPath, compare, printHeader, printRow, REPO } from './lib.js';

const { values } = parseArgs({
  options: { gib: { type: 'string', default: '3' }, repeat: { type: 'string', default: '2' } },
});
const gib = Number(values.gib);
const target = Math.round(gib * 2 ** 30);
console.error(execFileSync('df', ['-h', '/tmp'], { encoding: 'utf8' }).trim());

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const u64 = (v: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string): Buffer => {
  const b = Buffer.from(s);
  return Buffer.concat([u64(b.length), b]);
};
const STRING = 8;
const ARRAY = 9;

function build(): { meta: Buffer; total: number } {
  const template = readFileSync(join(REPO, 'test/fixtures/template/llama31_tools.jinja'), 'utf8');
  const kvs: Buffer[] = [];
  const kv = (key: string, type: number, value: Buffer): void => {
    kvs.push(Buffer.concat([str(key), u32(type), value]));
  };
  kv('general.architecture', STRING, str('llama'));
  kv('general.name', STRING, str('bench-llama'));
  kv('general.alignment', 4, u32(32));
  kv('llama.block_count', 4, u32(32));
  kv('llama.context_length', 4, u32(8192));
  kv('tokenizer.ggml.model', STRING, str('gpt2'));
  const nTok = 128256;
  const toks: Buffer[] = [u32(STRING), u64(nTok)];
  for (let i = 0; i < nTok; i++) toks.push(str(`tok${i.toString(36)}`));
  kv('tokenizer.ggml.tokens', ARRAY, Buffer.concat(toks));
  kv('tokenizer.ggml.scores', ARRAY, Buffer.concat([u32(6), u64(nTok), Buffer.alloc(nTok * 4)]));
  kv('tokenizer.ggml.token_type', ARRAY, Buffer.concat([u32(5), u64(nTok), Buffer.alloc(nTok * 4, 1)]));
  const nMerges = 128000;
  const merges: Buffer[] = [u32(STRING), u64(nMerges)];
  for (let i = 0; i < nMerges; i++) merges.push(str(`${(i % 977).toString(36)} ${i.toString(36)}`));
  kv('tokenizer.ggml.merges', ARRAY, Buffer.concat(merges));
  kv('tokenizer.chat_template', STRING, str(template));

  // Tensors: Q4_K (256-element blocks, 144 bytes), 4096 hidden, 14336 FFN; layers as many as fit the size.
  const Q4K = 12;
  const F32 = 0;
  const bytes = (type: number, dims: number[]): number => {
    const t = GGML_TYPES.get(type)!;
    return (dims.reduce((a, b) => a * b, 1) / t.blockSize) * t.typeSize;
  };
  const tensors: Array<[string, number[], number]> = [['token_embd.weight', [4096, nTok], Q4K]];
  const perLayer =
    bytes(Q4K, [4096, 4096]) * 2 +
    bytes(Q4K, [4096, 1024]) * 2 +
    bytes(Q4K, [4096, 14336]) * 3 +
    2 * 4096 * 4;
  const nLayers = Math.max(1, Math.floor((target - 2 * bytes(Q4K, [4096, nTok])) / perLayer));
  for (let i = 0; i < nLayers; i++) {
    const p = `blk.${i}`;
    tensors.push(
      [`${p}.attn_norm.weight`, [4096], F32],
      [`${p}.attn_q.weight`, [4096, 4096], Q4K],
      [`${p}.attn_k.weight`, [4096, 1024], Q4K],
      [`${p}.attn_v.weight`, [4096, 1024], Q4K],
      [`${p}.attn_output.weight`, [4096, 4096], Q4K],
      [`${p}.ffn_norm.weight`, [4096], F32],
      [`${p}.ffn_gate.weight`, [4096, 14336], Q4K],
      [`${p}.ffn_up.weight`, [4096, 14336], Q4K],
      [`${p}.ffn_down.weight`, [14336, 4096], Q4K],
    );
  }
  tensors.push(['output_norm.weight', [4096], F32], ['output.weight', [4096, nTok], Q4K]);
  const infos: Buffer[] = [];
  let off = 0;
  for (const [name, dims, type] of tensors) {
    infos.push(Buffer.concat([str(name), u32(dims.length), ...dims.map((d) => u64(d)), u32(type), u64(off)]));
    off += Math.ceil(bytes(type, dims) / 32) * 32;
  }
  const head = Buffer.concat([Buffer.from('GGUF'), u32(3), u64(tensors.length), u64(kvs.length)]);
  let meta = Buffer.concat([head, ...kvs, ...infos]);
  meta = Buffer.concat([meta, Buffer.alloc((32 - (meta.length % 32)) % 32)]);
  return { meta, total: meta.length + off };
}

const path = benchPath(`sparse-${gib}g.gguf`);
if (!existsSync(path)) {
  const { meta, total } = build();
  const fd = openSync(path, 'w');
  writeSync(fd, meta);
  ftruncateSync(fd, total);
  closeSync(fd);
  console.error(`metadata ${meta.length} bytes`);
}
const st = statSync(path);
console.error(
  `generated ${path}: ${st.size} bytes (${((st.blocks * 512) / 2 ** 20).toFixed(1)} MiB on disk)`,
);

const { times, findings, peakRss: rss } = await analyzeOnly(path, 'model.gguf', 10);
console.log(
  `gguf ${gib} GiB metadata validation: median ${times[5]!.toFixed(1)} ms, min ${times[0]!.toFixed(1)} ms (10 runs, ${findings} findings, RSS ${(rss / 2 ** 20).toFixed(0)} MiB)`,
);
printHeader();
printRow(await compare(`gguf ${gib} GiB sparse (full scan)`, path, { repeat: Number(values.repeat) }));
