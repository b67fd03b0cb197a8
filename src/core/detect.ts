import { extname } from 'node:path';
import type { Analyzer, Detection, Probe } from './formats/analyzer.js';
import type { ByteSource } from './source.js';
import type { FormatId } from './types.js';

export const PROBE_BYTES = 64 * 1024;

export async function makeProbe(src: ByteSource, name: string): Promise<Probe> {
  const base = name.split(/[/\\!]/).pop() ?? name;
  const ext = extname(base).toLowerCase();
  if (src.random) {
    const size = src.random.size;
    const head = await src.random.read(0, PROBE_BYTES);
    const tail = size <= PROBE_BYTES ? head : await src.random.read(size - PROBE_BYTES, PROBE_BYTES);
    return { head, tail, size, name: base, ext };
  }
  const parts: Uint8Array[] = [];
  let got = 0;
  for await (const chunk of src.stream(0, PROBE_BYTES)) {
    parts.push(chunk);
    got += chunk.length;
    if (got >= PROBE_BYTES) break;
  }
  const head = concat(parts).subarray(0, PROBE_BYTES);
  const size = src.size ?? (head.length < PROBE_BYTES ? head.length : undefined);
  return {
    head,
    tail: size !== undefined && size <= PROBE_BYTES ? head : new Uint8Array(0),
    size,
    name: base,
    ext,
  };
}

export interface Detected {
  analyzer: Analyzer;
  detection: Detection;
}

/** Asks every analyzer; returns all that recognise the content, strongest first (stable order). */
export function detectAll(
  probe: Probe,
  analyzers: readonly Analyzer[],
  onError?: (analyzer: Analyzer, err: unknown) => void,
): Detected[] {
  const found: Detected[] = [];
  for (const analyzer of analyzers) {
    let detection: Detection | undefined;
    try {
      detection = analyzer.detect(probe);
    } catch (err) {
      detection = undefined; // the other detectors still run; the engine reports the error (fail closed)
      onError?.(analyzer, err);
    }
    if (detection) found.push({ analyzer, detection });
  }
  const rank = { magic: 0, structure: 1, name: 2 } as const;
  return found.sort((a, b) => rank[a.detection.strength] - rank[b.detection.strength]);
}

/**
 * True when the first byte after an optional UTF-8 BOM and any bytes that `\s` matches once decoded as latin1
 * (windows-1252: tab, line feed, vertical tab, form feed, carriage return, space, no-break space) is one of
 * `leads`. Text detectors test this before decoding the probe: it never rejects text whose trimmed start is
 * one of those characters, and it spares decoding 64 KiB for every other file of a scan.
 */
export function firstTextByteIs(head: Uint8Array, leads: readonly number[]): boolean {
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length) {
    const b = head[i]!;
    if ((b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0) i++;
    else return leads.includes(b);
  }
  return false;
}

/**
 * Extensions that name a model format, with the formats their content may legitimately have. A file whose
 * content is another format gets MG005; a file with such an extension and no recognised content gets MG004.
 * `.bin`, `.pt` and friends are shared by PyTorch's zip, legacy and raw pickle forms, so those are all fine.
 */
const TORCH: FormatId[] = [
  'torch-package',
  'pytorch-zip',
  'pytorch-legacy',
  'pytorch-legacy-tar',
  'torchscript',
  'pickle',
  'zip',
];
const PICKLE: FormatId[] = ['pickle', 'joblib', 'pytorch-legacy'];
const COMPRESSED: FormatId[] = ['gzip', 'bzip2', 'xz', 'lzma', 'lz4', 'zlib', 'zstd'];
export const MODEL_EXTENSIONS: Record<string, readonly FormatId[]> = {
  '.pt': TORCH,
  '.pth': TORCH,
  '.bin': [...TORCH, 'safetensors', 'gguf', 'ggml'],
  '.ckpt': TORCH,
  '.ptl': ['torchscript', 'pytorch-zip', 'zip'],
  '.pkl': [...PICKLE, 'pytorch-zip', 'zip', ...COMPRESSED],
  '.pickle': [...PICKLE, ...COMPRESSED],
  '.dill': PICKLE,
  '.joblib': ['joblib', 'pickle', ...COMPRESSED],
  '.sav': ['joblib', 'pickle', ...COMPRESSED],
  '.npy': ['numpy'],
  '.npz': ['numpy-npz', 'zip'],
  '.safetensors': ['safetensors'],
  '.onnx': ['onnx'],
  '.gguf': ['gguf'],
  '.ggml': ['gguf', 'ggml'],
  '.h5': ['keras-h5', 'hdf5'],
  '.hdf5': ['keras-h5', 'hdf5'],
  '.keras': ['keras', 'keras-h5', 'zip'],
  '.pb': ['tf-savedmodel', 'tf-keras-metadata', 'onnx', 'onnx-tensor'],
  '.tflite': ['tflite'],
  '.mar': ['torchserve-mar', 'zip'],
  '.nemo': ['nemo', 'tar', ...COMPRESSED],
  // PaddlePaddle paddle.save: a pickle (protocol 4) of numpy arrays (python/paddle/framework/io.py)
  '.pdparams': PICKLE,
  '.pdopt': PICKLE,
  '.pt2': ['zip', 'pytorch-zip'],
};

export function isModelExtension(ext: string): boolean {
  return Object.hasOwn(MODEL_EXTENSIONS, ext);
}

/** True when `format` is acceptable content for a file with extension `ext` (always true for other names). */
export function extensionAccepts(ext: string, format: FormatId): boolean {
  const accepted = MODEL_EXTENSIONS[ext];
  // An LFS pointer stands in for any model file; MG007 already says the content was not scanned.
  return accepted === undefined || accepted.includes(format) || format === 'lfs-pointer';
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
