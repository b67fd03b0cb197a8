import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import type { RandomAccess } from '../../source.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { readWhole } from '../huggingface/json-doc.js';
import { printable } from '../safetensors/text.js';
import { hostOpRule } from '../tensorflow/analyzer.js';
import { FlatBuffer, FlatBufferError, type Table } from './flatbuffer.js';

/**
 * TensorFlow Lite models: a FlatBuffer with the file identifier `TFL3` (tensorflow/lite/schema/schema.fbs,
 * `root_type Model`). The interpreter (InterpreterBuilder) resolves each operator code to a kernel compiled
 * into the application: builtin codes to TFLite's own kernels, `CUSTOM` codes by their `custom_code` name
 * through the application's op resolver, and names starting with `Flex` to TensorFlow kernels through the
 * Flex delegate (tensorflow/lite/delegates/flex). The file holds no code; what it can make run is the set
 * of kernels it names. So the analysis verifies the FlatBuffer (offsets, vtables, vectors, strings, buffer
 * ranges, as flatbuffers' Verifier and the interpreter's checks do), lists the operators, and reports custom
 * operators and Flex ops by name (Flex ops that reach the host, such as FlexReadFile, by the TensorFlow rule
 * of that op).
 *
 * Field indices below are those of schema.fbs (a union takes two: its type, then its value):
 *   Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4, metadata_buffer 5,
 *          metadata 6, signature_defs 7
 *   OperatorCode: deprecated_builtin_code 0 (byte), custom_code 1, version 2, builtin_code 3 (int)
 *   SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4
 *   Tensor: shape 0, type 1, buffer 2, name 3
 *   Operator: opcode_index 0, inputs 1, outputs 2, builtin_options 3-4, custom_options 5, ...,
 *             large_custom_options_offset 9, large_custom_options_size 10
 *   Buffer: data 0, offset 1, size 2 (offset/size locate data stored after the FlatBuffer, > 2 GB models)
 *   Metadata: name 0, buffer 1
 */

/** BuiltinOperator names 0..161 (schema.fbs); newer codes are reported by number. */
const BUILTIN = (
  'ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP FLOOR ' +
  'FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC ' +
  'LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX ' +
  'SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD ' +
  'UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE ' +
  'UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE ' +
  'BIDIRECTIONAL_SEQUENCE_LSTM CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL ' +
  'LESS_EQUAL SELECT SLICE SIN TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT ' +
  'RSQRT SHAPE POW ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT ' +
  'UNPACK REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR ' +
  'LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ' +
  'ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 ' +
  'NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES ' +
  'CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT ' +
  'HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS ' +
  'RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 ' +
  'UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST ' +
  'BITWISE_XOR RIGHT_SHIFT'
).split(' ');
const CUSTOM = 32;

/**
 * Custom operators whose kernels ship with the runtimes that load such models (TFLite's own
 * TFLite_Detection_PostProcess; MediaPipe's MediaPipeBuiltinOpResolver in
 * mediapipe/tasks/cc/core/mediapipe_builtin_op_resolver.cc). Pure tensor computations: listed, not reported.
 */
const KNOWN_CUSTOM = new Set([
  'TFLite_Detection_PostProcess',
  'MaxPoolingWithArgmax2D',
  'MaxUnpooling2D',
  'Convolution2DTransposeBias',
  'TransformTensorBilinear',
  'TransformLandmarks',
  'Landmarks2TransformMatrix',
  'NGramHash',
  'KmeansEmbeddingLookup',
  'TFSentencepieceTokenizeOp',
  'RaggedTensorToTensor',
  'Resampler',
]);

/** Tables visited in one model (operator codes, subgraphs, tensors, operators, buffers, metadata). */
const MAX_TABLES = 2_000_000;

export const tfliteAnalyzer: Analyzer = {
  id: 'tflite',
  detect(probe: Probe): Detection | undefined {
    const h = probe.head;
    if (h.length < 8 || h[4] !== 0x54 || h[5] !== 0x46 || h[6] !== 0x4c || h[7] !== 0x33) return undefined;
    const root = h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24);
    const size = probe.size ?? h.length;
    if (root < 8 || root >= size) return undefined;
    return { format: 'tflite', strength: 'magic' };
  },
  analyze,
};

async function analyze(ctx: AnalysisContext, _d: Detection): Promise<void> {
  let random: RandomAccess | undefined = ctx.source.random;
  if (!random) {
    // A stream-only source (a compressed archive member): read it whole, within the document budget.
    const whole = await readWhole(ctx, 'TFLite model');
    random = { size: whole.length, read: async (o, n) => whole.subarray(o, o + n) };
  }
  const fb = new FlatBuffer(random, random.size);
  const state = { tables: 0 };
  try {
    await walkModel(ctx, fb, state);
  } catch (err) {
    if (err instanceof FlatBufferError) {
      ctx.report(
        'MG822',
        `The TFLite FlatBuffer is invalid: ${err.message}; the rest of the model was not analysed.`,
        { offset: err.offset },
      );
    } else if (err instanceof BudgetExceededError) ctx.budgetExceeded(err);
    else throw err;
  }
}

async function walkModel(ctx: AnalysisContext, fb: FlatBuffer, state: { tables: number }): Promise<void> {
  const count = (n = 1) => {
    state.tables += n;
    if (state.tables > MAX_TABLES)
      throw new BudgetExceededError('maxEntries', `more than ${MAX_TABLES} FlatBuffer tables`);
    if ((state.tables & 0x3ff) === 0) ctx.checkTime();
  };
  const model = await fb.table(await fb.deref(0));
  ctx.fact('tflite.schemaVersion', await model.u32(0));
  const description = await model.string(3, 200);
  if (description) ctx.fact('tflite.description', printable(description, 120));

  // Operator codes: the kernels the model names.
  const codes: Array<{ name: string; custom?: string }> = [];
  await model.tables(
    1,
    async (t) => {
      count();
      codes.push(await operatorCode(t));
    },
    MAX_TABLES,
  );

  // Buffers: inline data (verified by the vector read) or an offset/size range after the FlatBuffer.
  const nBuffers = await model.tables(
    4,
    async (b, i) => {
      count();
      await b.vector(0, 1);
      const offset = await b.u64(1);
      const size = await b.u64(2);
      if (offset > 1n && offset + size > BigInt(fb.size)) {
        ctx.report(
          'MG822',
          `Buffer ${i} points to ${offset}+${size}, past the end of the ${fb.size}-byte file.`,
          {
            symbol: `buffers[${i}]`,
          },
        );
      }
    },
    MAX_TABLES,
  );

  // Subgraphs: tensors name buffers, operators name operator codes.
  const used = new Map<number, number>();
  let operators = 0;
  const nSubgraphs = await model.tables(
    2,
    async (sg, si) => {
      count();
      await sg.tables(
        0,
        async (t, ti) => {
          count();
          const buffer = await t.u32(2);
          if (buffer >= nBuffers && !(buffer === 0 && nBuffers === 0)) {
            ctx.report('MG822', `Tensor ${ti} of subgraph ${si} names buffer ${buffer} of ${nBuffers}.`, {
              symbol: `subgraphs[${si}].tensors[${ti}]`,
            });
          }
        },
        MAX_TABLES,
      );
      await sg.tables(
        3,
        async (op, oi) => {
          count();
          operators++;
          const index = await op.u32(0);
          const sym = `subgraphs[${si}].operators[${oi}]`;
          if (index >= codes.length) {
            ctx.report(
              'MG822',
              `Operator ${oi} of subgraph ${si} names operator code ${index} of ${codes.length}.`,
              {
                symbol: sym,
              },
            );
          } else used.set(index, (used.get(index) ?? 0) + 1);
          await op.vector(5, 1); // custom_options, bounds only
          const lo = await op.u64(9);
          const ls = await op.u64(10);
          if (lo > 1n && lo + ls > BigInt(fb.size)) {
            ctx.report(
              'MG822',
              `Operator ${oi} of subgraph ${si} has custom options at ${lo}+${ls}, past the end of the file.`,
              {
                symbol: sym,
              },
            );
          }
        },
        MAX_TABLES,
      );
    },
    MAX_TABLES,
  );

  const metadata: string[] = [];
  await model.tables(
    6,
    async (m, mi) => {
      count();
      metadata.push(printable((await m.string(0, 200)) ?? '', 80));
      const buffer = await m.u32(1);
      if (buffer >= nBuffers) {
        ctx.report('MG822', `Metadata ${mi} names buffer ${buffer} of ${nBuffers}.`, {
          symbol: `metadata[${mi}]`,
        });
      }
    },
    MAX_TABLES,
  );

  reportOperators(ctx, codes, used);
  ctx.fact('tflite.subgraphs', nSubgraphs);
  ctx.fact('tflite.operators', operators);
  if (metadata.length > 0) ctx.fact('tflite.metadata', metadata.slice(0, 50));
}

/** The kernel an operator code names: builtin code as schema_utils.cc GetBuiltinCode computes it. */
async function operatorCode(t: Table): Promise<{ name: string; custom?: string }> {
  const deprecated = await t.i8(0);
  const builtin = await t.i32(3);
  // Codes above 127 live in builtin_code; older writers set only deprecated_builtin_code.
  const code = Math.max(builtin, deprecated);
  if (code === CUSTOM) {
    const custom = await t.string(1, 512);
    return { name: `CUSTOM:${custom ?? ''}`, custom: custom ?? '' };
  }
  return { name: BUILTIN[code] ?? `BUILTIN_${code}` };
}

function reportOperators(
  ctx: AnalysisContext,
  codes: Array<{ name: string; custom?: string }>,
  used: Map<number, number>,
): void {
  const names = new Set<string>();
  codes.forEach((c, i) => {
    const uses = used.get(i) ?? 0;
    names.add(c.custom !== undefined ? `CUSTOM:${printable(c.custom, 80)}` : c.name);
    if (c.custom === undefined) return;
    const sym = `operator_codes[${i}]:${printable(c.custom, 120)}`;
    const where = `${uses} operator(s) use it`;
    if (c.custom.startsWith('Flex')) {
      const tfOp = c.custom.slice(4);
      ctx.report(
        'MG821',
        `Flex op ${printable(c.custom, 120)} runs the TensorFlow kernel ${printable(tfOp, 120)} through the Flex delegate (${where}).`,
        { symbol: sym },
      );
      const host = hostOpRule(tfOp);
      if (host) {
        ctx.report(
          host,
          `Flex op ${printable(c.custom, 120)} runs the TensorFlow op ${printable(tfOp, 120)}, which acts on the host.`,
          {
            symbol: sym,
          },
        );
      }
    } else if (!KNOWN_CUSTOM.has(c.custom)) {
      ctx.report(
        'MG820',
        `Custom operator "${printable(c.custom, 120)}" (${where}) runs whatever kernel the loading application registered under that name.`,
        { symbol: sym },
      );
    }
  });
  ctx.fact('tflite.operatorCodes', [...names].sort().slice(0, 300));
}
