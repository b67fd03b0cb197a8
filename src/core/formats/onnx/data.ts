import type { AnalysisContext } from '../../context.js';
import { PROBE_BYTES } from '../../detect.js';
import { BudgetExceededError } from '../../limits.js';
import { type PMessage, ProtoDecoder, ProtoError, walkFields } from '../../protobuf/decode.js';
import { ByteReader } from '../../reader.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { OnnxWalker, reportStructure, TENSOR_PAYLOADS } from './analyzer.js';
import { onnxTypes } from './schema.js';

/**
 * Serialized ONNX values: the `TensorProto`, `SequenceProto`, `MapProto` and `OptionalProto` files of the
 * ONNX backend test data (`test_data_set_N/input_M.pb`, `output_M.pb`) and of every project that stores
 * test inputs the same way (onnx/backend/test/runner reads them with `ParseFromString` into the type the
 * model's graph input declares). They carry no operators and no code: numbers, strings and, for tensors,
 * possibly an external data reference, which the ONNX loader follows exactly as for a model's initializer
 * (onnx.load_tensor → load_external_data_for_tensor), so that reference is checked the same way.
 *
 * A value proto has no magic number and its type is not recorded in the file, so detection is a strict
 * trial decode of the probe against each of the four messages (onnx/onnx-ml.proto): every field must be a
 * field of that message with its wire type, nested messages must decode as their declared message, strings
 * must be UTF-8, and the type field must hold a defined enum value (TensorProto.data_type 1..MAX_DATA_TYPE;
 * SequenceProto.elem_type 1..5; OptionalProto.elem_type 0..5). Text never passes (the type field's tag byte
 * is 0x10, a control character); every reading that passes is analysed, as a loader may take any of them.
 */

export type ValueKind = 'Tensor' | 'Sequence' | 'MapValue' | 'OptionalValue';

/** TensorProto.DataType values defined by onnx.proto (FLOAT=1 … INT2=26 as of onnx 1.20). */
const MAX_DATA_TYPE = 26;

/** Bits per element of each fixed-size TensorProto.DataType (STRING=8 is variable, absent here). */
// biome-ignore format: a table
const DATA_TYPE_BITS: Record<number, number> = {
  1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64, 15: 128,
  16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2,
};

interface FieldSpec {
  /** Accepted wire types (a packed repeated scalar is 2, an unpacked one its scalar wire type). */
  wire: readonly number[];
  /** Nested message spec, or 'string' for UTF-8 text. */
  nested?: string;
}
type MessageSpec = Record<number, FieldSpec>;

const MSG: FieldSpec = { wire: [2] };
const STR: FieldSpec = { wire: [2], nested: 'string' };
const VARINT: FieldSpec = { wire: [0] };
const PACKED_VARINT: FieldSpec = { wire: [0, 2] };

/** Field numbers and wire types from onnx/onnx-ml.proto (ONNX 1.20). */
const SPECS: Record<string, MessageSpec> = {
  Tensor: {
    1: PACKED_VARINT, // dims
    2: VARINT, // data_type
    3: { ...MSG, nested: 'Segment' },
    4: { wire: [2, 5] }, // float_data
    5: PACKED_VARINT, // int32_data
    6: MSG, // string_data (bytes)
    7: PACKED_VARINT, // int64_data
    8: STR, // name
    9: MSG, // raw_data
    10: { wire: [1, 2] }, // double_data
    11: PACKED_VARINT, // uint64_data
    12: STR, // doc_string
    13: { ...MSG, nested: 'Entry' }, // external_data
    14: VARINT, // data_location
    16: { ...MSG, nested: 'Entry' }, // metadata_props
  },
  Segment: { 1: VARINT, 2: VARINT },
  Entry: { 1: STR, 2: STR },
  SparseTensor: { 1: { ...MSG, nested: 'Tensor' }, 2: { ...MSG, nested: 'Tensor' }, 3: PACKED_VARINT },
  Sequence: {
    1: STR,
    2: VARINT,
    3: { ...MSG, nested: 'Tensor' },
    4: { ...MSG, nested: 'SparseTensor' },
    5: { ...MSG, nested: 'Sequence' },
    6: { ...MSG, nested: 'MapValue' },
    7: { ...MSG, nested: 'OptionalValue' },
  },
  MapValue: {
    1: STR,
    2: VARINT, // key_type
    3: PACKED_VARINT, // keys
    4: MSG, // string_keys
    5: { ...MSG, nested: 'Sequence' },
  },
  OptionalValue: {
    1: STR,
    2: VARINT,
    3: { ...MSG, nested: 'Tensor' },
    4: { ...MSG, nested: 'SparseTensor' },
    5: { ...MSG, nested: 'Sequence' },
    6: { ...MSG, nested: 'MapValue' },
    7: { ...MSG, nested: 'OptionalValue' },
  },
};

const KINDS: readonly ValueKind[] = ['Tensor', 'Sequence', 'MapValue', 'OptionalValue'];
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Whether `buf` (the first bytes of a message of `total` bytes) is a valid prefix of message `spec`: known
 * fields with their wire types, singular fields once, nested messages valid, strings UTF-8, the type enum
 * defined and, for sequences and optionals, values only in the field that the elem_type names.
 */
function validPrefix(buf: Uint8Array, total: number, spec: string, depth: number, typed: boolean): boolean {
  if (depth > 16) return false;
  const fields = SPECS[spec]!;
  const seen = new Map<number, number>();
  let type: number | undefined;
  // A false from the visitor stops the walk ('stop'); every field fits in 2+ bytes, so the field cap is
  // never what stops it (proto2 `dims` and `string_data` are unpacked: one tag per element).
  const res = walkFields(
    buf,
    total,
    (f, wt, v) => {
      const fs = fields[f];
      if (!fs?.wire.includes(wt)) return false;
      const n = (seen.get(f) ?? 0) + 1;
      if (n > 1 && SINGULAR[spec]?.includes(f)) return false;
      seen.set(f, n);
      const types = TYPES[spec];
      if (f === 2 && types) {
        if (typeof v !== 'number' || !types.has(v)) return false;
        type = v;
      }
      if (wt !== 2 || !fs.nested) return true;
      const [s, len] = v as [number, number];
      const sub = buf.subarray(s, Math.min(s + len, buf.length));
      if (fs.nested === 'string') return sub.length < len || utf8(sub);
      return validPrefix(sub, len, fs.nested, depth + 1, fs.nested === 'Tensor');
    },
    buf.length,
  );
  if (res === 'bad' || res === 'stop') return false;
  // The type field is required where it identifies the value (writers put it first or right after dims).
  if (typed && type === undefined) return false;
  if ((spec === 'Sequence' || spec === 'OptionalValue') && type !== undefined) {
    // SequenceProto/OptionalProto.DataType: TENSOR=1 SPARSE_TENSOR=2 SEQUENCE=3 MAP=4 OPTIONAL=5 → field 2+N.
    for (const f of seen.keys()) if (f >= 3 && f !== type + 2) return false;
  }
  return true;
}

/** Singular fields per message (a second occurrence is a merge no writer produces). */
const SINGULAR: Record<string, readonly number[]> = {
  Tensor: [2, 3, 8, 9, 12, 14],
  Segment: [1, 2],
  Entry: [1, 2],
  SparseTensor: [1, 2],
  Sequence: [1, 2],
  MapValue: [1, 2, 5],
  OptionalValue: [1, 2, 3, 4, 5, 6, 7],
};

const range = (a: number, b: number) => new Set(Array.from({ length: b - a + 1 }, (_, i) => a + i));
/** Defined values of each message's type field (field 2). Map keys are integers or strings only. */
const TYPES: Record<string, ReadonlySet<number>> = {
  Tensor: range(1, MAX_DATA_TYPE),
  Sequence: range(1, 5),
  MapValue: new Set([2, 3, 4, 5, 6, 7, 8, 12, 13]),
  OptionalValue: range(0, 5),
};

function utf8(b: Uint8Array): boolean {
  try {
    fatalUtf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

/** The value proto kinds the probe is a valid prefix of (usually one). */
export function valueKinds(head: Uint8Array, size: number): ValueKind[] {
  if (head.length < 2) return [];
  return KINDS.filter((k) => validPrefix(head, size, k, 0, true));
}

export const onnxValueAnalyzer: Analyzer = {
  id: 'onnx-value',
  detect(probe: Probe): Detection | undefined {
    const size = probe.size ?? probe.head.length;
    if (valueKinds(probe.head, size).length === 0) return undefined;
    return { format: 'onnx-tensor', strength: 'structure' };
  },
  analyze,
};

async function analyze(ctx: AnalysisContext, _d: Detection): Promise<void> {
  const src = ctx.source;
  const size = src.size ?? Number.POSITIVE_INFINITY;
  const probe = new ByteReader(src);
  await probe.ensure(Math.min(PROBE_BYTES, size));
  const head = probe.peek(Math.min(probe.available, PROBE_BYTES));
  const kinds = valueKinds(head, Number.isFinite(size) ? size : head.length);
  ctx.fact(
    'onnx.valueKinds',
    kinds.map((k) => `${k.replace('Value', '')}Proto`),
  );
  const types = await onnxTypes();
  for (const kind of kinds) {
    const dec = new ProtoDecoder(new ByteReader(src), {
      budget: ctx.budget,
      maxStringBytes: Math.min(ctx.limits.maxStringBytes, 4 * 2 ** 20),
      maxDepth: Math.min(ctx.limits.maxStackDepth, 256),
      skipFields: TENSOR_PAYLOADS,
    });
    const value: PMessage = { $offset: 0, $end: size };
    try {
      await dec.decode(types[kind], size, value);
    } catch (err) {
      if (err instanceof ProtoError) {
        ctx.malformed(`The ONNX ${kind} value is malformed: ${err.message}.`, { offset: err.offset });
      } else if (err instanceof BudgetExceededError) ctx.budgetExceeded(err);
      else throw err;
      continue;
    }
    const walker = new OnnxWalker(ctx);
    visitTensors(
      value,
      kind,
      kind === 'Tensor' ? 'tensor' : kind.replace('Value', '').toLowerCase(),
      0,
      (t, p) => {
        walker.tensor(t, p);
        // Several readings of one file are possible (protobuf carries no type); the payload check is only
        // meaningful when the file can only be a tensor.
        if (kinds.length === 1) checkPayload(ctx, t, p);
      },
    );
    if (kind === 'Tensor' && kinds.length === 1) {
      const dims = numbers(value.dims);
      ctx.fact('onnx.tensor', { dataType: value.data_type, dims: dims.slice(0, 8) });
    }
    reportStructure(ctx, value);
    await walker.checkExternal();
  }
}

/** Calls `fn` for every TensorProto inside a value (nested sequences, maps, optionals, sparse tensors). */
function visitTensors(
  m: PMessage,
  kind: string,
  path: string,
  depth: number,
  fn: (t: PMessage, path: string) => void,
): void {
  if (depth > 64) throw new BudgetExceededError('maxStackDepth', 'ONNX values nested deeper than 64');
  const one = (v: unknown, k: string, p: string) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) visitTensors(v as PMessage, k, p, depth + 1, fn);
  };
  switch (kind) {
    case 'Tensor':
      fn(m, path);
      return;
    case 'SparseTensor':
      one(m.values, 'Tensor', `${path}.values`);
      one(m.indices, 'Tensor', `${path}.indices`);
      return;
    case 'Sequence':
    case 'OptionalValue': {
      const fields: Array<[string, string]> = [
        ['tensor_values', 'Tensor'],
        ['sparse_tensor_values', 'SparseTensor'],
        ['sequence_values', 'Sequence'],
        ['map_values', 'MapValue'],
        ['optional_values', 'OptionalValue'],
        ['tensor_value', 'Tensor'],
        ['sparse_tensor_value', 'SparseTensor'],
        ['sequence_value', 'Sequence'],
        ['map_value', 'MapValue'],
        ['optional_value', 'OptionalValue'],
      ];
      for (const [f, k] of fields) {
        const v = m[f];
        if (Array.isArray(v)) for (const [i, x] of v.entries()) one(x, k, `${path}.${f}[${i}]`);
        else one(v, k, `${path}.${f}`);
      }
      return;
    }
    case 'MapValue':
      one(m.values, 'Sequence', `${path}.values`);
      return;
  }
}

/**
 * raw_data must hold exactly the elements the dims and data type describe (numpy_helper.to_array and the
 * runtimes reject anything else): a mismatch is not dangerous, but no writer produces it.
 */
function checkPayload(ctx: AnalysisContext, t: PMessage, path: string): void {
  // The decoder skips payloads by length and counts their bytes (`raw_data:bytes`).
  const have = t.$counts?.['raw_data:bytes'];
  const bits = typeof t.data_type === 'number' ? DATA_TYPE_BITS[t.data_type] : undefined;
  if (have === undefined || bits === undefined || t.data_location === 1) return;
  const dims = numbers(t.dims);
  const counted = t.$counts?.dims;
  if (dims.length !== (Array.isArray(t.dims) ? t.dims.length : 0) || (counted ?? 0) > dims.length) return;
  if (dims.some((d) => d < 0)) {
    ctx.report('MG800', `Tensor ${path} has a negative dimension (${dims.join('×')}).`, { symbol: path });
    return;
  }
  const elements = dims.reduce((a, b) => a * b, 1);
  const need = Math.ceil((elements * bits) / 8);
  if (Number.isSafeInteger(need) && need !== have) {
    ctx.report(
      'MG800',
      `Tensor ${path} holds ${have} bytes of raw_data, but its shape [${dims.join(', ')}] and data type ${t.data_type} need ${need}.`,
      { symbol: path, offset: t.$offset },
    );
  }
}

function numbers(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is number => typeof x === 'number') : [];
}
