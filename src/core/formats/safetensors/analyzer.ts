import type { AnalysisContext } from '../../context.js';
import { parseJsonWithin } from '../../json/budgeted.js';
import {
  decodeUtf8Strict,
  describeJson,
  isJsonObject,
  type JsonIssue,
  type JsonObject,
  type JsonValue,
} from '../../json/tokenizer.js';
import { ByteReader } from '../../reader.js';
import { type ByteSource, sliceSource, streamSource } from '../../source.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { printable } from './text.js';

/** The reference reader's MAX_HEADER_SIZE. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bit size of every dtype the reference reader knows (`Dtype::bitsize`). */
export const DTYPE_BITS: Readonly<Record<string, number>> = Object.freeze({
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
});

const JSON_WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Content detection: an 8-byte length, then (after optional JSON whitespace, which serde_json accepts) a "{"
 * followed by a key or "}". The length is not trusted here: a hostile length must still be analysed.
 */
export function detectSafetensors(head: Uint8Array): boolean {
  if (head.length < 10) return false;
  // Eight printable bytes are text, not a length: JSON such as `{"data":{"` would otherwise read as a
  // header length of 4e18 followed by "{". No real header is that long (the reference caps it at 100 MB),
  // and under a .safetensors name such a file is still reported as unknown content.
  if (head.subarray(0, 8).every((b) => (b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d)) {
    return false;
  }
  let p = 8;
  while (p < head.length && JSON_WS.has(head[p]!)) p++;
  if (head[p] !== 0x7b) return false;
  p++;
  while (p < head.length && JSON_WS.has(head[p]!)) p++;
  if (p >= head.length) return p - 8 < 64; // a tiny file cut right after "{": still claim it
  return head[p] === 0x22 || head[p] === 0x7d;
}

export const safetensorsAnalyzer: Analyzer = {
  id: 'safetensors',
  detect(probe: Probe): Detection | undefined {
    return detectSafetensors(probe.head) ? { format: 'safetensors', strength: 'magic' } : undefined;
  },
  analyze: analyzeSafetensors,
};

interface TensorEntry {
  name: string;
  /** Undefined when the dtype or shape is invalid (already reported): the layout is still checked. */
  dtype: string | undefined;
  shape: bigint[] | undefined;
  begin: bigint;
  end: bigint;
}

async function analyzeSafetensors(ctx: AnalysisContext): Promise<void> {
  const src = ctx.source;
  const reader = new ByteReader(src);
  if (!(await reader.ensure(8))) {
    ctx.malformed('safetensors file shorter than its 8-byte header length.', { offset: 0 });
    return;
  }
  const n = reader.u64le();
  const size = src.size ?? (await measure(reader, 8));
  const fileLen = BigInt(size);
  ctx.fact('safetensors.headerBytes', n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString());

  if (n > BigInt(MAX_HEADER_BYTES)) {
    ctx.report(
      'MG400',
      `Header length ${n} is above the reference limit of ${MAX_HEADER_BYTES} bytes${n + 8n > fileLen ? ` and beyond the file (${size} bytes)` : ''}; the reference reader rejects it and naive readers allocate it.`,
      { offset: 0 },
    );
    ctx.malformed('safetensors header length out of bounds: the header was not analysed.', { offset: 0 });
    return;
  }
  if (n + 8n > fileLen) {
    ctx.report(
      'MG400',
      `Header length ${n} runs past the end of the file (${size} bytes): truncated or crafted.`,
      { offset: 0 },
      { severity: 'medium', score: 30 },
    );
    ctx.malformed('safetensors header extends beyond the file: truncated, not analysed.', { offset: 0 });
    return;
  }
  const headerLen = Number(n);
  ctx.budget.check('maxDocumentBytes', headerLen, 'safetensors header');
  const bytes = await reader.bytes(headerLen);
  if (!bytes) {
    ctx.malformed('safetensors header could not be read completely.', { offset: 8 });
    return;
  }

  let text: string;
  try {
    text = decodeUtf8Strict(bytes);
  } catch {
    ctx.malformed('safetensors header is not valid UTF-8 (the reference reader rejects it).', { offset: 8 });
    return;
  }
  const tensorCap = ctx.limits.maxEntries;
  const parsed = parseJsonWithin(ctx, text, 'safetensors header', {
    maxDepth: 256,
    maxValues: tensorCap * 16 + 100_000,
    offset: 8,
  });
  if (!parsed) return;

  reportJsonIssues(ctx, parsed.issues, 'safetensors header', 8);
  if (parsed.leadingWhitespace.length > 0) {
    ctx.report(
      'MG403',
      `The JSON header starts with ${parsed.leadingWhitespace.length} whitespace byte(s) instead of "{": accepted by the Rust reader, rejected by strict readers.`,
      { offset: 8 },
    );
  }
  if (/[^ ]/.test(parsed.trailingWhitespace)) {
    ctx.report(
      'MG403',
      'The JSON header is padded with whitespace other than spaces (the specification allows only 0x20).',
      { offset: 8 + headerLen - parsed.trailingWhitespace.length },
      { severity: 'low', score: 10 },
    );
  }

  const header = parsed.value;
  if (!isJsonObject(header)) {
    ctx.malformed(`safetensors header is ${describeJson(header)}, not a JSON object.`, { offset: 8 });
    return;
  }

  const tensors: TensorEntry[] = [];
  let tensorCount = 0;
  const dtypes: Record<string, number> = {};
  for (const [name, entry] of header) {
    if (name === '__metadata__') {
      checkMetadata(ctx, entry);
      continue;
    }
    tensorCount++;
    if ((tensorCount & 0xfff) === 0) ctx.checkTime();
    const t = checkEntry(ctx, name, entry);
    if (t) {
      tensors.push(t);
      if (t.dtype) dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    }
  }
  ctx.budget.consume('maxEntries', tensorCount);
  ctx.fact('safetensors.tensors', tensorCount);
  if (Object.keys(dtypes).length > 0) ctx.fact('safetensors.dtypes', dtypes);

  // Layout: sorted by offsets, contiguous from 0, each span equal to its shape times its dtype size.
  tensors.sort((a, b) =>
    a.begin < b.begin ? -1 : a.begin > b.begin ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0,
  );
  const dataStart = 8 + headerLen;
  const dataLen = fileLen - BigInt(dataStart);
  let prevEnd = 0n;
  let prevName: string | undefined;
  let layoutFindings = 0;
  const layout = (msg: string, t: TensorEntry): void => {
    if (layoutFindings++ < 50)
      ctx.report('MG406', msg, { symbol: printable(t.name, 200), offset: offsetOf(dataStart, t.begin) });
  };
  for (const t of tensors) {
    const nm = printable(t.name, 80);
    if (t.end < t.begin) layout(`Tensor ${nm} ends (${t.end}) before it begins (${t.begin}).`, t);
    else if (t.begin < prevEnd)
      layout(
        `Tensor ${nm} [${t.begin}, ${t.end}) overlaps ${prevName ? printable(prevName, 80) : 'the previous tensor'} (which ends at ${prevEnd}).`,
        t,
      );
    else if (t.begin > prevEnd)
      layout(
        `Tensor ${nm} starts at ${t.begin} but the previous data ends at ${prevEnd}: a hole of ${t.begin - prevEnd} bytes no tensor accounts for.`,
        t,
      );
    if (t.end > dataLen)
      layout(`Tensor ${nm} ends at ${t.end}, beyond the data area (${dataLen} bytes): out of the file.`, t);
    if (t.dtype !== undefined && t.shape !== undefined) checkShape(ctx, t, dataStart);
    if (t.end > prevEnd) {
      prevEnd = t.end;
      prevName = t.name;
    }
  }

  if (prevEnd < dataLen) {
    const start = dataStart + Number(prevEnd);
    const len = size - start;
    const trailing: ByteSource = src.random
      ? sliceSource(`${src.name}[trailing]`, src.random, start, len)
      : streamSource(`${src.name}[trailing]`, () => src.stream(start), len);
    const format = await ctx.scanNested(trailing, `trailing@${start}`);
    if (format) ctx.fact('safetensors.trailingFormat', format);
    ctx.report(
      'MG408',
      format
        ? `${len} byte(s) after the last tensor (from file offset ${start}) are a ${format} file appended to the safetensors data (a polyglot); it was scanned.`
        : `${len} byte(s) follow the last tensor (data ends at file offset ${start}, the file at ${size}); the trailing bytes were scanned by content.`,
      { offset: start },
    );
  }
}

function offsetOf(dataStart: number, rel: bigint): number | undefined {
  const abs = BigInt(dataStart) + rel;
  return abs >= 0n && abs <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(abs) : undefined;
}

async function measure(reader: ByteReader, from: number): Promise<number> {
  // Stream-only source without a known size: count the bytes (bounded by the sources's own length).
  let n = from;
  for (;;) {
    const k = await reader.skip(1 << 24);
    n += k;
    if (k < 1 << 24) return n;
  }
}

function toBig(v: JsonValue | undefined): bigint | undefined {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

function checkEntry(ctx: AnalysisContext, name: string, entry: JsonValue): TensorEntry | undefined {
  const sym = printable(name, 200);
  const nm = printable(name, 80);
  if (!isJsonObject(entry)) {
    ctx.report('MG409', `Entry ${nm} is ${describeJson(entry)}, not a tensor description object.`, {
      symbol: sym,
    });
    return undefined;
  }
  const extra = [...entry.keys()].filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
  if (extra.length > 0) {
    ctx.report(
      'MG414',
      `Tensor ${nm} has unexpected field(s): ${extra
        .slice(0, 5)
        .map((k) => printable(k, 40))
        .join(', ')}.`,
      { symbol: sym },
    );
  }
  const dtype = entry.get('dtype');
  const shape = entry.get('shape');
  const offsets = entry.get('data_offsets');
  let ok = true;
  let dtypeOk = true;
  let shapeOk = true;
  if (typeof dtype !== 'string') {
    ctx.report('MG409', `Tensor ${nm} has dtype ${describeJson(dtype)}, not a string.`, { symbol: sym });
    dtypeOk = false;
  } else if (!Object.hasOwn(DTYPE_BITS, dtype)) {
    ctx.report('MG405', `Tensor ${nm} has unknown dtype ${describeJson(dtype, 40)}.`, { symbol: sym });
    dtypeOk = false;
  }
  const dims: bigint[] = [];
  if (!Array.isArray(shape)) {
    ctx.report('MG409', `Tensor ${nm} has shape ${describeJson(shape)}, not an array.`, { symbol: sym });
    shapeOk = false;
  } else {
    for (const d of shape) {
      const b = toBig(d);
      if (b === undefined || b < 0n) {
        ctx.report('MG407', `Tensor ${nm} has an invalid dimension ${describeJson(d, 40)} in its shape.`, {
          symbol: sym,
        });
        shapeOk = false;
        break;
      }
      dims.push(b);
    }
  }
  let begin = 0n;
  let end = 0n;
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    ctx.report('MG409', `Tensor ${nm} has data_offsets ${describeJson(offsets)}, not a pair of integers.`, {
      symbol: sym,
    });
    ok = false;
  } else {
    const b = toBig(offsets[0]);
    const e = toBig(offsets[1]);
    if (b === undefined || e === undefined || b < 0n || e < 0n) {
      ctx.report(
        'MG406',
        `Tensor ${nm} has data_offsets [${describeJson(offsets[0], 30)}, ${describeJson(offsets[1], 30)}], not non-negative integers.`,
        { symbol: sym },
      );
      ok = false;
    } else {
      begin = b;
      end = e;
    }
  }
  if (!ok) return undefined;
  return {
    name,
    dtype: dtypeOk ? (dtype as string) : undefined,
    shape: shapeOk ? dims : undefined,
    begin,
    end,
  };
}

function checkShape(ctx: AnalysisContext, t: TensorEntry, dataStart: number): void {
  let n = 1n;
  for (const d of t.shape!) n *= d;
  const bits = n * BigInt(DTYPE_BITS[t.dtype!]!);
  const nm = printable(t.name, 80);
  const loc = { symbol: printable(t.name, 200), offset: offsetOf(dataStart, t.begin) };
  if (n > BigInt(Number.MAX_SAFE_INTEGER) * 8n) {
    ctx.report(
      'MG407',
      `Tensor ${nm} has ${n} elements: the size computation overflows 64-bit readers.`,
      loc,
    );
    return;
  }
  if (bits % 8n !== 0n) {
    ctx.report(
      'MG407',
      `Tensor ${nm} (${t.dtype}, ${n} elements) does not fill a whole number of bytes.`,
      loc,
    );
    return;
  }
  const span = t.end - t.begin;
  if (t.end >= t.begin && bits / 8n !== span) {
    ctx.report(
      'MG407',
      `Tensor ${nm} is ${t.dtype} [${t.shape!.join(', ')}] = ${bits / 8n} bytes, but its data_offsets span ${span} bytes.`,
      loc,
    );
  }
}

const URL_RE = /\b(?:https?|ftp|file|data|javascript|vbscript|smb):/i;
const MARKUP_RE =
  /<\s*(?:script|iframe|img|svg|object|embed|a\s|style|link|meta|form|body|html)\b|\bon[a-z]+\s*=|javascript:/i;
const CODE_RE =
  /\b(?:__import__|eval\s*\(|exec\s*\(|os\.system|os\.popen|subprocess|pickle\.loads|marshal\.loads|base64\.b64decode|import\s+(?:os|sys|subprocess|socket)\b)|\$\([^)]*\)|`[^`\n]{1,200}`|\b(?:curl|wget)\s+\S|\brm\s+-rf\b|powershell|\/bin\/(?:sh|bash)|\{\{.*\}\}|\{%.*%\}/i;
const CONTROL_RE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const MAX_METADATA_VALUE = 1 << 20;

function checkMetadata(ctx: AnalysisContext, meta: JsonValue): void {
  if (meta === null) return;
  if (!isJsonObject(meta)) {
    ctx.report('MG410', `__metadata__ is ${describeJson(meta)}, not an object of strings.`, {
      symbol: '__metadata__',
    });
    return;
  }
  ctx.fact('safetensors.metadataKeys', meta.size);
  let flagged = 0;
  for (const [k, v] of meta) {
    const key = printable(k, 80);
    const sym = `__metadata__.${printable(k, 120)}`;
    if (typeof v !== 'string') {
      ctx.report('MG410', `__metadata__ key ${key} holds ${describeJson(v, 40)}, not a string.`, {
        symbol: sym,
      });
      continue;
    }
    if (k === 'format' && ['pt', 'tf', 'flax', 'np', 'mlx', 'paddle'].includes(v)) continue;
    const why =
      suspiciousText(v) ??
      (CONTROL_RE.test(k) ? 'control or bidirectional characters in the key' : undefined);
    if (why && flagged++ < 20) {
      ctx.report('MG411', `__metadata__ key ${key} holds ${why}: ${printable(v, 120)}`, { symbol: sym });
    }
  }
}

/** Why a metadata string is worth a look, or undefined. */
export function suspiciousText(v: string): string | undefined {
  if (v.length > MAX_METADATA_VALUE) return `a very long value (${v.length} characters)`;
  if (CONTROL_RE.test(v)) return 'control or bidirectional characters';
  // Pattern checks look at a bounded prefix, so no value can make them slow.
  const head = v.length > 65536 ? v.slice(0, 65536) : v;
  if (MARKUP_RE.test(head)) return 'markup or script';
  if (CODE_RE.test(head)) return 'code- or shell-like text';
  if (URL_RE.test(head)) return 'a URL';
  return undefined;
}

/** Reports duplicate keys, unsafe integers and lone surrogates found by the JSON tokenizer. */
export function reportJsonIssues(
  ctx: AnalysisContext,
  issues: readonly JsonIssue[],
  what: string,
  baseOffset?: number,
): void {
  const counts = { duplicateKey: 0, unsafeInteger: 0, loneSurrogate: 0 };
  for (const i of issues) {
    if (counts[i.kind]++ >= 20) continue;
    const rule = i.kind === 'duplicateKey' ? 'MG401' : i.kind === 'unsafeInteger' ? 'MG402' : 'MG404';
    ctx.report(rule, `${what}: ${printable(i.detail, 200)} (at ${printable(i.path, 120) || '/'}).`, {
      symbol: printable(i.path, 200) || '/',
      ...(baseOffset !== undefined && i.offset < 1e15 ? { offset: baseOffset + i.offset } : {}),
    });
  }
}

export type { JsonObject };
