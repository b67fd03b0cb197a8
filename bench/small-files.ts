/**
 * Per-file overhead: a folder of 1000 small model files (pickles, safetensors, NumPy arrays, ONNX-like and
 * GGUF-like headers, JSON configs), a few KiB each, scanned as one folder. Target: under 5 s in total.
 *
 *   node --import tsx bench/small-files.ts [--count 1000]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchPath, compare, printHeader, printRow } from './lib.js';

const { values } = parseArgs({ options: { count: { type: 'string', default: '1000' } } });
const count = Number(values.count);
const dir = benchPath(`small-files-${count}`);

function pickle(i: number): Uint8Array {
  // A protocol-2 pickle of {"w<i>": [0.5, 1.5, ...], "name": "layer"} built by hand: PROTO 2, EMPTY_DICT, ...
  const parts: number[] = [0x80, 0x02, 0x7d, 0x71, 0x00, 0x28];
  const key = Buffer.from(`w${i}`);
  parts.push(0x58, key.length, 0, 0, 0, ...key, 0x5d, 0x28);
  for (let k = 0; k < 200; k++) {
    const f = Buffer.alloc(8);
    f.writeDoubleBE(k + 0.5);
    parts.push(0x47, ...f);
  }
  parts.push(0x65); // APPENDS
  const name = Buffer.from('name');
  const val = Buffer.from('layer');
  parts.push(0x58, name.length, 0, 0, 0, ...name, 0x58, val.length, 0, 0, 0, ...val, 0x75, 0x2e);
  return Uint8Array.from(parts);
}

function safetensors(i: number): Uint8Array {
  const n = 256 + (i % 64);
  const header = JSON.stringify({
    __metadata__: { format: 'pt' },
    [`layer.${i}.weight`]: { dtype: 'F32', shape: [n], data_offsets: [0, n * 4] },
  });
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const out = Buffer.alloc(8 + padded.length + n * 4);
  out.writeBigUInt64LE(BigInt(padded.length), 0);
  out.write(padded, 8, 'utf8');
  for (let k = 0; k < n; k++) out.writeFloatLE(k / n, 8 + padded.length + k * 4);
  return out;
}

function npy(i: number): Uint8Array {
  const n = 128 + (i % 32);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n},), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = Buffer.alloc(10 + header.length + n * 4);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  return out;
}

function config(i: number): string {
  return JSON.stringify({ architectures: ['BertModel'], hidden_size: 64 + i, model_type: 'bert' }, null, 2);
}

if (!existsSync(`${dir}.done`)) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `m${String(Math.floor(i / 100)).padStart(2, '0')}`);
    mkdirSync(sub, { recursive: true });
    const kind = i % 4;
    if (kind === 0) writeFileSync(join(sub, `model-${i}.pkl`), pickle(i));
    else if (kind === 1) writeFileSync(join(sub, `model-${i}.safetensors`), safetensors(i));
    else if (kind === 2) writeFileSync(join(sub, `array-${i}.npy`), npy(i));
    else writeFileSync(join(sub, `config-${i}.json`), config(i));
  }
  writeFileSync(`${dir}.done`, '');
}

printHeader();
printRow(await compare(`${count} small files`, dir, { note: 'per-file overhead' }));
