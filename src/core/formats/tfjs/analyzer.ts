import type { AnalysisContext } from '../../context.js';
import { firstTextByteIs } from '../../detect.js';
import { decodeUtf8Strict, JsonSyntaxError } from '../../json/tokenizer.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { readWhole, topLevelKeys } from '../huggingface/json-doc.js';
import { JsonError, parsePythonJson } from '../keras/json.js';
import { reportConfig } from '../keras/report.js';
import { checkLocation, checkOnDisk } from '../onnx/external.js';
import { printable } from '../safetensors/text.js';
import { hostOpRule } from '../tensorflow/analyzer.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const LATIN1 = new TextDecoder('latin1');

/**
 * TensorFlow.js models (tfjs-core src/io/types.ts, `ModelJSON`): a `model.json` with `modelTopology` (a
 * Keras model config for `layers-model`, a GraphDef in JSON for `graph-model`) and `weightsManifest`, a
 * list of groups `{paths, weights}` whose binary shards hold the weights of the group concatenated in
 * order; or the older bare manifest (`*-weights_manifest.json`, face-api), a JSON array of those groups.
 *
 * What a loader does with them: tf.loadLayersModel / tf.loadGraphModel fetch every path relative to the
 * manifest's URL, concatenate each group's shards and slice the weights out by dtype × shape
 * (io_utils.ts decodeWeights); nothing in the files is code. Layers are instantiated from classes the
 * JavaScript program registered (TF.js has no Lambda layer: an unknown class_name is an error), graph
 * nodes run TF.js kernels (an op TF.js does not implement is an error). The code paths are outside the
 * browser: tensorflowjs' Python converter turns a layers model back into Keras with model_from_json (a
 * Lambda layer's marshalled bytecode then runs as in an H5 model) and a graph model back into a
 * SavedModel (TensorFlow then runs its ops, PyFunc and ReadFile included). So the topology is analysed as
 * a Keras config and as a TensorFlow graph, and the shards are checked like ONNX external data: plain
 * relative paths inside the folder, present, and exactly as long as the declared weights need.
 */

/**
 * Bytes per element (tfjs-core io/types.ts DTYPE_VALUE_SIZE_MAP) of the dtypes decodeWeight accepts
 * unquantized (strings are length-prefixed), and of the quantization dtypes it accepts.
 */
const PLAIN_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2, float16: 2 };
const MODEL_KEYS = ['modelTopology', 'weightsManifest'];

export const tfjsAnalyzer: Analyzer = {
  id: 'tfjs',
  detect(probe: Probe): Detection | undefined {
    const keys = topLevelKeys(probe.head);
    if (keys.some((k) => MODEL_KEYS.includes(k))) return { format: 'tfjs-model', strength: 'structure' };
    if (isBareManifest(probe.head)) return { format: 'tfjs-model', strength: 'structure' };
    return undefined;
  },
  analyze,
};

/**
 * `[{"paths": [...], "weights": [...]}, ...]`: the first group opens with one of its two lists, and the
 * weight entries' keys appear in the probe (a list of weights can be longer than the probe, so "paths"
 * may come after it).
 */
function isBareManifest(head: Uint8Array): boolean {
  // The list's `[` comes first (after blank space): tested on the bytes before decoding the whole probe.
  if (!firstTextByteIs(head, [0x5b])) return false;
  const text = LATIN1.decode(head);
  const m = /^\s*\[\s*\{\s*"(paths|weights)"\s*:\s*\[/.exec(text);
  if (!m) return false;
  return m[1] === 'paths'
    ? /"weights"\s*:\s*\[/.test(text)
    : /"dtype"\s*:/.test(text) && /"shape"\s*:/.test(text);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

async function analyze(ctx: AnalysisContext, _d: Detection): Promise<void> {
  const bytes = await readWhole(ctx, 'TF.js model JSON');
  let root: unknown;
  try {
    const parsed = parsePythonJson(decodeUtf8Strict(bytes));
    root = parsed.value;
    for (const d of parsed.duplicates.slice(0, 20)) {
      ctx.report('MG401', `TF.js model JSON: the key ${printable(d)} is given twice.`, { symbol: d });
    }
  } catch (err) {
    if (!(err instanceof JsonError || err instanceof JsonSyntaxError)) throw err;
    ctx.malformed(`The TF.js model JSON is not valid JSON: ${err.message}.`);
    return;
  }
  let manifest: unknown;
  if (Array.isArray(root)) manifest = root;
  else if (isObject(root)) {
    manifest = root.weightsManifest;
    const format = typeof root.format === 'string' ? root.format : undefined;
    if (format) ctx.fact('tfjs.format', printable(format, 40));
    await analyzeTopology(ctx, root, format);
  } else {
    ctx.malformed('The TF.js model JSON is neither an object nor a weights manifest array.');
    return;
  }
  if (manifest !== undefined) await checkManifest(ctx, manifest);
}

/** The topology: a GraphDef (graph-model) or a Keras model config (layers-model). */
async function analyzeTopology(ctx: AnalysisContext, root: Json, format: string | undefined): Promise<void> {
  const graphs: Array<[string, unknown]> = [
    ['modelTopology', root.modelTopology],
    ['modelInitializer', root.modelInitializer],
  ];
  let nodes = 0;
  for (const [where, g] of graphs) {
    if (!isObject(g)) continue;
    if (Array.isArray(g.node) || isObject(g.library)) {
      nodes += graphOps(ctx, g, where);
    } else if (format !== 'graph-model') {
      // A Keras config ({class_name, config} or {model_config, training_config}): the Python converter
      // rebuilds it with keras model_from_json, so every class_name is checked as in an H5 model.
      await reportConfig(ctx, g, 'h5', { rootPath: where });
    }
  }
  if (isObject(root.trainingConfig))
    await reportConfig(ctx, root.trainingConfig, 'h5', { rootPath: 'trainingConfig' });
  if (nodes > 0) ctx.fact('tfjs.nodes', nodes);
}

/** Checks the ops of a GraphDef in JSON (node[] and library.function[].nodeDef[]); returns the node count. */
function graphOps(ctx: AnalysisContext, graph: Json, where: string): number {
  const lists: Array<[string, unknown]> = [[where, graph.node]];
  const lib = graph.library;
  if (isObject(lib) && Array.isArray(lib.function)) {
    for (const f of lib.function) {
      if (!isObject(f)) continue;
      const sig = isObject(f.signature) ? f.signature : {};
      lists.push([`${where}/function:${printable(String(sig.name ?? ''), 80)}`, f.nodeDef]);
    }
  }
  let count = 0;
  const ops = new Set<string>();
  for (const [path, list] of lists) {
    if (!Array.isArray(list)) continue;
    for (const n of list) {
      if ((++count & 0x3ff) === 0) ctx.checkTime();
      if (!isObject(n) || typeof n.op !== 'string') continue;
      ops.add(n.op);
      const rule = hostOpRule(n.op);
      if (!rule) continue;
      const name = printable(String(n.name ?? ''), 120);
      ctx.report(
        rule,
        `Graph node ${name} is the TensorFlow op ${printable(n.op, 60)}, which acts on the host. TF.js refuses it, but tensorflowjs' converter back to a SavedModel keeps it and TensorFlow runs it.`,
        { symbol: `${path}/node:${name}` },
      );
    }
  }
  if (ops.size > 0)
    ctx.fact(
      'tfjs.ops',
      [...ops]
        .sort()
        .slice(0, 200)
        .map((o) => printable(o, 60)),
    );
  return count;
}

/**
 * The weights manifest: each group's paths (lexically, then on disk next to the JSON) and the byte length
 * its weights need against the shards' total size. Files that pass are recorded in `tfjs.weightFiles`, so
 * the scan knows the shards as this model's weight data.
 */
async function checkManifest(ctx: AnalysisContext, manifest: unknown): Promise<void> {
  if (!Array.isArray(manifest)) {
    ctx.report('MG814', 'weightsManifest is not a list of weight groups.', { symbol: 'weightsManifest' });
    return;
  }
  const files: string[] = [];
  let weights = 0;
  for (const [gi, group] of manifest.entries()) {
    ctx.checkTime();
    const sym = `weightsManifest[${gi}]`;
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      ctx.report('MG814', `${sym} is not a {paths, weights} group.`, { symbol: sym });
      continue;
    }
    const need = groupBytes(ctx, group.weights, sym);
    weights += group.weights.length;
    let have = 0;
    let sized = true;
    for (const [pi, p] of group.paths.entries()) {
      const psym = `${sym}.paths[${pi}]`;
      if (typeof p !== 'string' || p === '') {
        ctx.report('MG814', `${psym} is not a file name.`, { symbol: psym });
        sized = false;
        continue;
      }
      const lex = checkLocation(p);
      if (lex.sentinel || lex.escapes.length > 0) {
        ctx.report(
          'MG810',
          `Weight shard path "${printable(p)}" ${[...(lex.sentinel ? ['is not a file name'] : []), ...lex.escapes].join(', ')}.`,
          { symbol: psym },
        );
        sized = false;
        continue;
      }
      const disk = ctx.disk;
      if (!disk) {
        sized = false;
        continue;
      }
      const res = await checkOnDisk(disk.absPath, p);
      if (res.escape) {
        ctx.report('MG810', `Weight shard "${printable(p)}" ${res.escape}.`, { symbol: psym });
        sized = false;
        continue;
      }
      if (res.unresolved) {
        ctx.report('MG811', `Weight shard "${printable(p)}" ${res.unresolved}.`, { symbol: psym });
      }
      if (res.size === undefined) sized = false;
      else {
        have += res.size;
        if (!res.unresolved) files.push(p);
      }
    }
    if (sized && need !== undefined) {
      const short = need.strings ? have < need.bytes : have !== need.bytes;
      if (short) {
        ctx.report(
          'MG812',
          `The shards of ${sym} hold ${have} bytes, but its ${group.weights.length} weights need ${need.strings ? 'at least ' : ''}${need.bytes} (dtype sizes × shapes).`,
          { symbol: sym },
        );
      }
    }
  }
  ctx.fact('tfjs.weights', weights);
  ctx.fact(
    'tfjs.weightFiles',
    files.slice(0, 1000).map((f) => printable(f, 200)),
  );
}

/**
 * Bytes a group's weights occupy, as tfjs-core getWeightBytelength computes them: elements × the size of
 * the quantization dtype or the dtype; a string weight is 4 length bytes per element plus its bytes, of
 * which only the length prefixes are known here (`strings`: the result is a lower bound).
 */
function groupBytes(
  ctx: AnalysisContext,
  weights: unknown[],
  sym: string,
): { bytes: number; strings: boolean } | undefined {
  let bytes = 0;
  let strings = false;
  let ok = true;
  for (const [wi, w] of weights.entries()) {
    const wsym = `${sym}.weights[${wi}]`;
    if (!isObject(w) || !Array.isArray(w.shape) || typeof w.dtype !== 'string') {
      ctx.report('MG814', `${wsym} has no shape or dtype.`, { symbol: wsym });
      ok = false;
      continue;
    }
    if (!w.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      ctx.report('MG814', `${wsym} has an invalid shape ${printable(JSON.stringify(w.shape), 80)}.`, {
        symbol: wsym,
      });
      ok = false;
      continue;
    }
    const elements = (w.shape as number[]).reduce((a, b) => a * b, 1);
    const q = w.quantization;
    let size: number | undefined;
    if (q !== undefined) {
      const qd = isObject(q) && typeof q.dtype === 'string' ? q.dtype : '';
      size = Object.hasOwn(QUANTIZED_BYTES, qd) ? QUANTIZED_BYTES[qd] : undefined;
    } else if (w.dtype === 'string') {
      strings = true;
      size = 4;
    } else size = Object.hasOwn(PLAIN_BYTES, w.dtype) ? PLAIN_BYTES[w.dtype] : undefined;
    if (size === undefined) {
      const what = q === undefined ? `the dtype ${printable(w.dtype, 40)}` : 'a quantization';
      ctx.report('MG814', `${wsym} has ${what} that TF.js cannot decode.`, { symbol: wsym });
      ok = false;
      continue;
    }
    bytes += elements * size;
  }
  return ok && Number.isSafeInteger(bytes) ? { bytes, strings } : undefined;
}
