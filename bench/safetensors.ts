/**
 * safetensors: a 10 GiB file whose tensor data is a hole (sparse, generated with ftruncate into /tmp), with a
 * realistic header (a 7B-style layout: ~290 tensors, BF16, __metadata__). Measures
 *   1. header validation alone (detection + the safetensors analyzer, no hashing), in milliseconds: only the
 *      8-byte length and the JSON header are read, whatever the file size;
 *   2. the full scan (scanPaths: analysis + sha256 of every byte) against `openssl dgst -sha256`, same run.
 *
 *   node --import tsx bench/safetensors.ts [--gib 10] [--repeat 2]
 * Free disk is checked first (the file is sparse, but its size must fit in the file system's limits).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { analyzeOnly, benchPath, compare, printHeader, printRow } from './lib.js';

const { values } = parseArgs({
  options: { gib: { type: 'string', default: '10' }, repeat: { type: 'string', default: '2' } },
});
const gib = Number(values.gib);
const target = Math.round(gib * 2 ** 30);

console.error(execFileSync('df', ['-h', '/tmp'], { encoding: 'utf8' }).trim());

/** A 7B-like tensor list scaled so the data adds up to `target` bytes (BF16). */
function header(): { json: Buffer; dataBytes: number } {
  const hidden = 4096;
  const inter = 11008;
  const layers: Array<[string, number[]]> = [['model.embed_tokens.weight', [32000, hidden]]];
  // A decoder layer is ~386 MiB in BF16: as many as fit (at most 32, as in a 7B model), then a filler.
  const perLayer = (2 * hidden + 3 * hidden * inter + 4 * hidden * hidden) * 2;
  const nLayers = Math.max(1, Math.min(32, Math.floor((target - 32000 * hidden * 2) / perLayer)));
  for (let i = 0; i < nLayers; i++) {
    const p = `model.layers.${i}`;
    layers.push(
      [`${p}.input_layernorm.weight`, [hidden]],
      [`${p}.mlp.down_proj.weight`, [hidden, inter]],
      [`${p}.mlp.gate_proj.weight`, [inter, hidden]],
      [`${p}.mlp.up_proj.weight`, [inter, hidden]],
      [`${p}.post_attention_layernorm.weight`, [hidden]],
      [`${p}.self_attn.k_proj.weight`, [hidden, hidden]],
      [`${p}.self_attn.o_proj.weight`, [hidden, hidden]],
      [`${p}.self_attn.q_proj.weight`, [hidden, hidden]],
      [`${p}.self_attn.v_proj.weight`, [hidden, hidden]],
    );
  }
  layers.push(['model.norm.weight', [hidden]]);
  const natural = layers.reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1) * 2, 0);
  // Pad with one filler tensor so the total matches the requested size exactly.
  const filler = Math.max(0, Math.floor((target - natural) / 2));
  if (filler > 0) layers.push(['zz.filler', [filler]]);
  const h: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, shape] of layers) {
    const n = shape.reduce((a, b) => a * b, 1) * 2;
    h[name] = { dtype: 'BF16', shape, data_offsets: [off, off + n] };
    off += n;
  }
  let text = JSON.stringify(h);
  while (Buffer.byteLength(text) % 8 !== 0) text += ' ';
  return { json: Buffer.from(text), dataBytes: off };
}

const path = benchPath(`sparse-${gib}g.safetensors`);
if (!existsSync(path)) {
  const { json, dataBytes } = header();
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(path, 'w');
  writeSync(fd, len);
  writeSync(fd, json);
  ftruncateSync(fd, 8 + json.length + dataBytes);
  closeSync(fd);
}
const size = statSync(path).size;
console.error(`generated ${path}: ${size} bytes (${(statSync(path).blocks * 512) / 2 ** 20} MiB on disk)`);

// 1. Header validation alone, in process (no hashing).
const { times, findings } = await analyzeOnly(path, 'model.safetensors', 20);
console.log(
  `safetensors ${gib} GiB header validation: median ${times[10]!.toFixed(2)} ms, min ${times[0]!.toFixed(2)} ms (20 runs, ${findings} findings)`,
);

// 2. Full scan vs openssl.
printHeader();
printRow(await compare(`safetensors ${gib} GiB sparse (full scan)`, path, { repeat: Number(values.repeat) }));
