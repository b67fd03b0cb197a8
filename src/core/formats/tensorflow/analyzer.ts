import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import {
  isSkipped,
  msgs,
  type PMessage,
  ProtoDecoder,
  ProtoError,
  str,
  strs,
  text,
  walkFields,
} from '../../protobuf/decode.js';
import { ByteReader } from '../../reader.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { parsePythonJson } from '../keras/json.js';
import { reportConfig } from '../keras/report.js';
import { parseTextFormat, TextFormatError } from './pbtxt.js';
import { tfTypes } from './schema.js';

const PY_OPS = new Set(['PyFunc', 'PyFuncStateless', 'EagerPyFunc']);
const READ_OPS = new Set(
  (
    'ReadFile MatchingFiles ImmutableConst TextLineDataset TextLineDatasetV2 TFRecordDataset TFRecordDatasetV2 ' +
    'FixedLengthRecordDataset FixedLengthRecordDatasetV2 WholeFileReader WholeFileReaderV2 TextLineReader ' +
    'TextLineReaderV2 TFRecordReader TFRecordReaderV2 FixedLengthRecordReader FixedLengthRecordReaderV2 LMDBReader ' +
    'LMDBDataset ExperimentalLMDBDataset SqlDataset ExperimentalSqlDataset CSVDataset CSVDatasetV2 ' +
    'ExperimentalCSVDataset LoadDataset InitializeTableFromTextFile InitializeTableFromTextFileV2 LoadAndRemapMatrix ' +
    'GenerateVocabRemapping DecodeProtoV2'
  ).split(' '),
);
const WRITE_OPS = new Set(
  (
    'WriteFile SaveDataset SaveDatasetV2 DatasetToTFRecord ExperimentalDatasetToTFRecord SnapshotDataset ' +
    'SnapshotDatasetV2 SnapshotDatasetReader CreateSummaryFileWriter CreateSummaryDbWriter WriteSummary ' +
    'WriteScalarSummary WriteHistogramSummary WriteImageSummary WriteAudioSummary WriteGraphSummary ' +
    'WriteRawProtoSummary ImportEvent DebugIdentityV2 DebugIdentityV3'
  ).split(' '),
);
const DEBUG_URL_OPS = new Set([
  'DebugIdentity',
  'DebugNanCount',
  'DebugNumericSummary',
  'DebugNumericSummaryV2',
]);
const RPC_OPS =
  /^(Rpc|TryRpc|RpcCall|RpcCheckStatus|RpcClient|RpcServer\w*|RpcGetValue|DeleteRpcFutureResource)$/;
/** Save/Restore family and the input index of their file prefix(es). */
const CHECKPOINT_OPS: Record<string, number[]> = {
  Save: [0],
  SaveV2: [0],
  SaveSlices: [0],
  Restore: [0],
  RestoreV2: [0],
  RestoreSlice: [0],
  MergeV2Checkpoints: [0, 1],
};
const DT_STRING = 7;

/**
 * The rule for a TensorFlow op that acts on the host whatever its inputs (Python calls, file reads and
 * writes, RPC, Abort), or undefined. For graphs read outside a SavedModel (TF.js graph models).
 */
export function hostOpRule(op: string): string | undefined {
  if (PY_OPS.has(op)) return 'MG560';
  if (READ_OPS.has(op) && op !== 'DecodeProtoV2') return 'MG561';
  if (WRITE_OPS.has(op)) return 'MG562';
  if (RPC_OPS.test(op)) return 'MG564';
  if (op === 'Abort') return 'MG565';
  return undefined;
}

export const savedModelAnalyzer: Analyzer = {
  id: 'tf-savedmodel',
  detect: detectSavedModel,
  analyze: analyzeSavedModel,
};

export const kerasMetadataAnalyzer: Analyzer = {
  id: 'tf-keras-metadata',
  detect: detectKerasMetadata,
  analyze: analyzeKerasMetadata,
};

/**
 * A SavedModel proto has only fields 1 (schema version, a small varint) and 2 (MetaGraphDefs); the first
 * MetaGraphDef must look like one (length-delimited fields 1-7 or 9). ONNX's ModelProto also starts with
 * `08 xx 12`, but it always has field 7 (graph) at the top level, which a SavedModel never has.
 */
export function detectSavedModel(probe: Probe): Detection | undefined {
  const head = probe.head;
  const size = probe.size ?? head.length;
  let metas = 0;
  let ok = true;
  const res = walkFields(head, size, (f, wt, v) => {
    if (f === 1 && wt === 0 && typeof v === 'number' && v >= 0 && v <= 16) return true;
    if (f === 2 && wt === 2) {
      const [s, len] = v as [number, number];
      const sub = head.subarray(s, Math.min(s + len, head.length));
      const r = walkFields(sub, len, (mf, mwt) => mwt === 2 && mf >= 1 && mf <= 9);
      if (r === 'bad' || r === 'stop') {
        ok = false;
        return false;
      }
      metas++;
      return true;
    }
    ok = false;
    return false;
  });
  if (!ok || res === 'bad' || metas === 0) {
    // A truncated or damaged saved_model.pb still gets analysed (and reported malformed) under its name.
    if (probe.name === 'saved_model.pb' && head[0] === 0x08 && head[2] === 0x12) {
      return { format: 'tf-savedmodel', strength: 'name' };
    }
    return undefined;
  }
  return { format: 'tf-savedmodel', strength: 'structure' };
}

/**
 * `fingerprint.pb` (TF >= 2.12 writes it next to saved_model.pb): FingerprintDef, five uint64 hashes and a
 * VersionDef. Recognised so that it is not reported as unknown content under a .pb name; it holds no graph.
 */
export const fingerprintAnalyzer: Analyzer = {
  id: 'tf-fingerprint',
  detect(probe: Probe): Detection | undefined {
    if (probe.name !== 'fingerprint.pb' || probe.size === undefined || probe.size > 4096) return undefined;
    let ok = true;
    const res = walkFields(probe.head, probe.size, (f, wt) => {
      ok = (f >= 1 && f <= 5 && wt === 0) || (f === 6 && wt === 2);
      return ok;
    });
    return ok && res === 'ok' ? { format: 'tf-savedmodel', strength: 'structure' } : undefined;
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    ctx.fact('tf.fingerprint', true);
  },
};

const TF_KERAS = new TextEncoder().encode('_tf_keras_');

/** keras_metadata.pb: only field 1 (SavedObject) at the top level, each naming a `_tf_keras_*` identifier. */
export function detectKerasMetadata(probe: Probe): Detection | undefined {
  const head = probe.head;
  const size = probe.size ?? head.length;
  let nodes = 0;
  let ok = true;
  const res = walkFields(head, size, (f, wt, v) => {
    if (f !== 1 || wt !== 2) {
      ok = false;
      return false;
    }
    const [s, len] = v as [number, number];
    const sub = head.subarray(s, Math.min(s + len, head.length));
    const r = walkFields(sub, len, (mf, mwt) => (mf === 2 && mwt === 0) || (mf >= 3 && mf <= 6 && mwt === 2));
    if (r === 'bad' || r === 'stop') {
      ok = false;
      return false;
    }
    nodes++;
    return true;
  });
  if (!ok || res === 'bad' || nodes === 0) return undefined;
  if (Buffer.from(head.buffer, head.byteOffset, head.length).indexOf(Buffer.from(TF_KERAS)) < 0)
    return undefined;
  return { format: 'tf-keras-metadata', strength: 'structure' };
}

async function decodeTop(ctx: AnalysisContext, type: 'SavedModel' | 'SavedMetadata'): Promise<PMessage> {
  const types = await tfTypes();
  const size = ctx.source.size ?? Number.POSITIVE_INFINITY;
  const dec = new ProtoDecoder(new ByteReader(ctx.source), {
    budget: ctx.budget,
    maxStringBytes: Math.min(ctx.limits.maxDocumentBytes, 64 * 2 ** 20),
    maxDepth: Math.min(ctx.limits.maxStackDepth, 256),
    skipFields: new Set(['TensorProto.tensor_content']),
  });
  const out: PMessage = { $offset: 0, $end: size };
  try {
    await dec.decode(types[type], size, out);
  } catch (err) {
    if (err instanceof ProtoError) {
      ctx.malformed(`The ${type} protobuf is malformed: ${err.message}; the rest was not analysed.`, {
        offset: err.offset,
      });
    } else if (err instanceof BudgetExceededError) ctx.budgetExceeded(err);
    else throw err;
  }
  return out;
}

async function analyzeSavedModel(ctx: AnalysisContext): Promise<void> {
  analyzeSavedModelMessage(ctx, await decodeTop(ctx, 'SavedModel'));
}

/**
 * `saved_model.pbtxt`: the text form TensorFlow loads when saved_model.pb is absent. Parsed with the same
 * schema into the same message shape, then analysed exactly like the binary form.
 */
export const savedModelTextAnalyzer: Analyzer = {
  id: 'tf-savedmodel-text',
  detect(probe: Probe): Detection | undefined {
    if (probe.ext !== '.pbtxt') return undefined;
    const head = Buffer.from(probe.head.buffer, probe.head.byteOffset, probe.head.length).toString('latin1');
    if (!/^\s*(#[^\n]*\n\s*)*(saved_model_schema_version|meta_graphs)\b/.test(head)) return undefined;
    return { format: 'tf-savedmodel', strength: 'structure' };
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    const max = ctx.limits.maxDocumentBytes;
    const size = ctx.source.size;
    if (size !== undefined && size > max) {
      ctx.budgetExceeded(
        new BudgetExceededError('maxDocumentBytes', `saved_model.pbtxt of ${size} bytes > ${max}`),
      );
      return;
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const c of ctx.source.stream()) {
      total += c.length;
      if (total > max) {
        ctx.budgetExceeded(
          new BudgetExceededError('maxDocumentBytes', `saved_model.pbtxt larger than ${max} bytes`),
        );
        return;
      }
      parts.push(c);
    }
    const { SavedModel } = await tfTypes();
    let sm: PMessage;
    try {
      sm = parseTextFormat(Buffer.concat(parts).toString('utf8'), SavedModel, {
        maxDepth: Math.min(ctx.limits.maxStackDepth, 256),
      });
    } catch (err) {
      if (!(err instanceof TextFormatError)) throw err;
      ctx.malformed(`The SavedModel text is malformed: ${err.message}.`, { offset: err.offset });
      return;
    }
    analyzeSavedModelMessage(ctx, sm);
  },
};

function analyzeSavedModelMessage(ctx: AnalysisContext, sm: PMessage): void {
  const metas = msgs(sm, 'meta_graphs');
  let nodes = 0;
  let functions = 0;
  const ops = new Set<string>();
  for (const [mi, meta] of metas.entries()) {
    const info = meta.meta_info_def as PMessage | undefined;
    if (info) {
      ctx.fact(`tf.metaGraph${mi}`, {
        tags: strs(info, 'tags').slice(0, 20),
        tensorflowVersion: (str(info, 'tensorflow_version') ?? '').slice(0, 40),
      });
    }
    const prefix = metas.length > 1 ? `meta_graph[${mi}]/` : '';
    for (const a of msgs(meta, 'asset_file_def')) {
      const fn = str(a, 'filename') ?? '';
      if (
        fn.startsWith('/') ||
        /^[A-Za-z]:/.test(fn) ||
        fn.includes('\\') ||
        fn.split('/').includes('..') ||
        fn.includes('://')
      ) {
        ctx.report('MG566', `Asset file name "${clip(fn)}" points outside assets/.`, {
          symbol: `${prefix}asset:${clip(fn)}`,
          offset: a.$offset,
        });
      }
    }
    const graph = meta.graph_def as PMessage | undefined;
    if (!graph) continue;
    // The saver's filename tensor is fed by the loader with the model's variables/ prefix.
    const saverFile = str(meta.saver_def as PMessage | undefined, 'filename_tensor_name')?.split(':')[0];
    const fed = new Set<string>(saverFile ? [saverFile] : []);
    const scopes: Scope[] = [{ label: `${prefix}graph`, nodes: msgs(graph, 'node'), args: fed }];
    const lib = graph.library as PMessage | undefined;
    for (const f of msgs(lib, 'function')) {
      const sig = f.signature as PMessage | undefined;
      scopes.push({
        label: `${prefix}function:${clip(str(sig, 'name') ?? '?')}`,
        nodes: msgs(f, 'node_def'),
        args: new Set(msgs(sig, 'input_arg').map((a) => str(a, 'name') ?? '')),
      });
      functions++;
    }
    for (const s of scopes) {
      nodes += s.nodes.length;
      analyzeScope(ctx, s, ops);
    }
  }
  ctx.fact('tf.nodes', nodes);
  ctx.fact('tf.functions', functions);
  ctx.fact('tf.ops', [...ops].sort().slice(0, 300));
}

interface Scope {
  label: string;
  nodes: PMessage[];
  /** Function argument names (values fed at run time). */
  args: Set<string>;
}

function analyzeScope(ctx: AnalysisContext, scope: Scope, ops: Set<string>): void {
  const byName = new Map<string, PMessage>();
  for (const n of scope.nodes) byName.set(str(n, 'name') ?? '', n);
  let steps = 0;
  for (const n of scope.nodes) {
    if ((++steps & 0x3ff) === 0) ctx.checkTime();
    const op = str(n, 'op') ?? '';
    ops.add(op);
    const name = str(n, 'name') ?? '';
    const loc = { symbol: `${scope.label}/node:${clip(name)} (${clip(op)})`, offset: n.$offset };
    const inputs = strs(n, 'input');
    const target = () => describePath(traceStrings(scope, byName, inputs[0]));
    if (PY_OPS.has(op)) {
      const token = attrString(n, 'token');
      ctx.report(
        'MG560',
        `Node ${clip(name)} is ${op}${token ? ` (token ${clip(token)})` : ''}: it calls a Python function of the loading process.`,
        loc,
      );
    } else if (READ_OPS.has(op)) {
      const extra = op === 'DecodeProtoV2' ? attrString(n, 'descriptor_source') : undefined;
      if (op === 'DecodeProtoV2' && (!extra || extra.startsWith('bytes://') || extra === 'local://'))
        continue;
      ctx.report(
        'MG561',
        `Node ${clip(name)} (${op}) reads files${extra ? ` (${clip(extra)})` : `: ${target()}`}.`,
        loc,
      );
    } else if (WRITE_OPS.has(op)) {
      ctx.report('MG562', `Node ${clip(name)} (${op}) writes files: ${target()}.`, loc);
    } else if (op === 'PrintV2') {
      const stream = attrString(n, 'output_stream') ?? '';
      if (stream.startsWith('file://')) {
        ctx.report('MG562', `Node ${clip(name)} prints to the file ${clip(stream.slice(7))}.`, loc);
      }
    } else if (DEBUG_URL_OPS.has(op)) {
      const urls = attrStrings(n, 'debug_urls');
      if (urls.length > 0)
        ctx.report('MG562', `Node ${clip(name)} (${op}) sends tensors to ${urls.map(clip).join(', ')}.`, loc);
    } else if (RPC_OPS.test(op)) {
      ctx.report('MG564', `Node ${clip(name)} (${op}) makes network calls.`, loc);
    } else if (op === 'Abort') {
      ctx.report('MG565', `Node ${clip(name)} aborts the process when it runs.`, loc);
    } else if (CHECKPOINT_OPS[op]) {
      for (const idx of CHECKPOINT_OPS[op]!) {
        const t = traceStrings(scope, byName, inputs[idx]);
        const bad = t.consts.filter(suspiciousPath);
        if (bad.length > 0) {
          ctx.report(
            'MG563',
            `Node ${clip(name)} (${op}) uses the path component(s) ${bad.map((s) => JSON.stringify(clip(s))).join(', ')}.`,
            loc,
          );
        } else if (!t.runtime && t.consts.length > 0) {
          ctx.report(
            'MG563',
            `Node ${clip(name)} (${op}) uses a checkpoint path fixed in the graph: ${describePath(t)}.`,
            loc,
          );
        } else if (!t.runtime && t.unknown === 0 && t.consts.length === 0) {
          ctx.report('MG563', `Node ${clip(name)} (${op}) has no file prefix fed at run time.`, loc);
        }
      }
    }
  }
}

interface Trace {
  consts: string[];
  /** A placeholder or function argument (fed by the loader) contributes to the value. */
  runtime: boolean;
  /** Leaves that are neither (ops whose output the trace does not model, cut-offs). */
  unknown: number;
}

/** Follows the data inputs of `input` back to constants and run-time values (bounded). */
function traceStrings(scope: Scope, byName: Map<string, PMessage>, input: string | undefined): Trace {
  const t: Trace = { consts: [], runtime: false, unknown: 0 };
  if (input === undefined) return t;
  const stack: Array<{ name: string; depth: number }> = [{ name: input, depth: 0 }];
  const seen = new Set<string>();
  let budget = 256;
  while (stack.length > 0 && budget-- > 0) {
    const { name, depth } = stack.pop()!;
    if (name.startsWith('^')) continue;
    const base = name.split(':')[0]!;
    if (seen.has(base)) continue;
    seen.add(base);
    if (scope.args.has(base)) {
      t.runtime = true;
      continue;
    }
    const n = byName.get(base);
    if (!n) {
      t.unknown++;
      continue;
    }
    const op = str(n, 'op') ?? '';
    if (op === 'Placeholder' || op === '_Arg' || op === 'PlaceholderV2') {
      t.runtime = true;
      continue;
    }
    // A placeholder with a default is fed by the loader (TF1 savers' `save/Const`); its default is still checked.
    if (op === 'PlaceholderWithDefault') t.runtime = true;
    if (op === 'Const' || op === 'HostConst') {
      const tensor = attr(n, 'value')?.tensor as PMessage | undefined;
      if (tensor && tensor.dtype === DT_STRING) {
        for (const v of (tensor.string_val as unknown[] | undefined) ?? []) {
          if (!isSkipped(v)) t.consts.push(text(v) ?? '');
        }
      }
      continue;
    }
    if (depth > 16) {
      t.unknown++;
      continue;
    }
    const ins = strs(n, 'input').filter((i) => !i.startsWith('^'));
    if (ins.length === 0) t.unknown++;
    for (const i of ins) stack.push({ name: i, depth: depth + 1 });
  }
  return t;
}

function suspiciousPath(s: string): boolean {
  return (
    s.startsWith('/') ||
    s.startsWith('\\') ||
    /^[A-Za-z]:/.test(s) ||
    /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s) ||
    s.split(/[\\/]/).includes('..') ||
    s.startsWith('~')
  );
}

function describePath(t: Trace): string {
  if (t.consts.length === 0) return t.runtime ? 'a path fed at run time' : 'a path computed in the graph';
  const c = t.consts
    .slice(0, 4)
    .map((s) => JSON.stringify(clip(s)))
    .join(' + ');
  return t.runtime ? `a run-time value joined with ${c}` : c;
}

function attr(n: PMessage, key: string): PMessage | undefined {
  const e = msgs(n, 'attr').find((a) => str(a, 'key') === key);
  return e?.value as PMessage | undefined;
}

function attrString(n: PMessage, key: string): string | undefined {
  const v = attr(n, key);
  return v && v.s !== undefined && !isSkipped(v.s) ? text(v.s) : undefined;
}

function attrStrings(n: PMessage, key: string): string[] {
  const list = attr(n, key)?.list as PMessage | undefined;
  const s = list?.s as unknown[] | undefined;
  return (s ?? []).map((x) => (isSkipped(x) ? '' : (text(x) ?? ''))).filter(Boolean);
}

async function analyzeKerasMetadata(ctx: AnalysisContext): Promise<void> {
  const md = await decodeTop(ctx, 'SavedMetadata');
  let layers = 0;
  for (const node of msgs(md, 'nodes')) {
    const id = str(node, 'identifier') ?? '';
    if (!id.startsWith('_tf_keras')) continue;
    layers++;
    const meta = node.metadata;
    const path = str(node, 'node_path') ?? `node${String(node.node_id ?? '?')}`;
    if (typeof meta !== 'string') {
      if (isSkipped(meta))
        ctx.report('MG527', `The metadata of ${clip(path)} is too large to analyse.`, {
          symbol: path,
          offset: node.$offset,
        });
      continue;
    }
    let value: unknown;
    try {
      value = parsePythonJson(meta).value;
    } catch (err) {
      ctx.report('MG527', `The metadata of ${clip(path)} is not valid JSON (${(err as Error).message}).`, {
        symbol: path,
        offset: node.$offset,
      });
      continue;
    }
    await reportConfig(ctx, value, 'tf-metadata', { offset: node.$offset, rootPath: clip(path) });
  }
  ctx.fact('keras.metadataLayers', layers);
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
