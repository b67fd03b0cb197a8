import type { AnalysisContext } from '../../context.js';
import { BudgetExceededError } from '../../limits.js';
import {
  isSkipped,
  msgs,
  type PMessage,
  ProtoDecoder,
  ProtoError,
  str,
  text,
  walkFields,
} from '../../protobuf/decode.js';
import { ByteReader } from '../../reader.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { checkLocation, checkOnDisk, EXTERNAL_KEYS, parseExtNumber } from './external.js';
import { GRAPH_FIELD_WIRE, MODEL_FIELD_WIRE, onnxTypes } from './schema.js';

/** Highest IR version and opset versions released (onnx 1.19-1.20 era; newer ones are reported low). */
export const MAX_IR_VERSION = 14;
const MAX_OPSET: Record<string, number> = {
  '': 28,
  'ai.onnx.ml': 5,
  'ai.onnx.training': 1,
  'ai.onnx.preview.training': 1,
  'ai.onnx.preview': 1,
};
const STANDARD_DOMAINS = new Set([
  '',
  'ai.onnx',
  'ai.onnx.ml',
  'ai.onnx.training',
  'ai.onnx.preview',
  'ai.onnx.preview.training',
]);
/** Native contrib domains of well-known runtimes. */
const RUNTIME_DOMAINS = new Set([
  'com.microsoft',
  'com.microsoft.nchwc',
  'com.microsoft.experimental',
  'com.microsoft.mlfeaturizers',
  'com.microsoft.dml',
  'com.ms.internal.nhwc',
  'com.ms.internal',
  'org.pytorch.aten',
  'org.openvinotoolkit',
  'com.amd.quark',
  'com.qualcomm',
]);
/** onnxruntime-extensions domains: native kernels plus Python ops registered with @onnx_op. */
const EXTENSIONS_DOMAINS = new Set(['ai.onnx.contrib', 'com.microsoft.extensions']);
/** Native kernels of onnxruntime-extensions that neither call Python nor touch files or the network. */
const EXTENSIONS_NATIVE = new Set(
  (
    'StringEqual StringHash StringHashFast StringJoin StringRegexReplace StringECMARegexReplace StringSplit ' +
    'StringUpper StringLower StringLength StringConcat StringRegexSplitWithOffsets StringECMARegexSplitWithOffsets ' +
    'StringToVector VectorToString StringMapping StringStrip MaskedFill SegmentExtraction SegmentSum GPT2Tokenizer ' +
    'CLIPTokenizer RobertaTokenizer BpeDecoder SpmTokenizer SentencepieceTokenizer SentencepieceDecoder ' +
    'WordpieceTokenizer BasicTokenizer BertTokenizer BertTokenizerDecoder HfBertTokenizer HfJsonTokenizer ' +
    'TrieTokenizer TrieDetokenizer BlingFireSentenceBreaker Inverse NegPos GaussianBlur DecodeImage EncodeImage ' +
    'DrawBoundingBoxes AudioDecoder StftNorm RaggedTensorToSparse RaggedTensorToDense StringRaggedTensorToDense ' +
    'FastGelu BiasGelu'
  ).split(' '),
);
/** Tensor payload fields, never needed by the analysis. */
export const TENSOR_PAYLOADS: ReadonlySet<string> = new Set(
  ['raw_data', 'float_data', 'int32_data', 'string_data', 'int64_data', 'double_data', 'uint64_data'].map(
    (f) => `Tensor.${f}`,
  ),
);
const PYTHON_OP = /^(Python|Py)(Op|Func|Function)(Grad|V\d+)?$/i;

type OnnxModel = PMessage;

export const onnxAnalyzer: Analyzer = {
  id: 'onnx',
  detect: detectOnnx,
  analyze,
};

/**
 * ONNX has no magic number: a ModelProto is recognised by a bounded trial decode of the probe. Every
 * top-level field must be a ModelProto field number with its wire type, `ir_version` (field 1) must be a
 * varint in 1..1000, and the `graph` (field 7) must be present with a GraphProto-shaped prefix. A TF
 * SavedModel (`08 01 12 …`) has the same first bytes but no field 7 and fields beyond its two; random
 * bytes fail the field/wire-type check almost at once. A probe that ends inside a long field before the
 * graph (a huge doc_string) is accepted only under a `.onnx` name.
 */
export function detectOnnx(probe: Probe): Detection | undefined {
  const head = probe.head;
  const size = probe.size ?? head.length;
  if (head.length < 4 || head[0] === undefined) return undefined;
  let ir = false;
  let graph = false;
  let ok = true;
  let unknown = 0;
  const res = walkFields(head, size, (f, wt, v) => {
    const expected = MODEL_FIELD_WIRE.get(f);
    if (expected === undefined && unknown < 4) {
      // Loaders skip unknown fields; a few are tolerated so that prepending one does not evade detection.
      unknown++;
      return true;
    }
    if (expected !== wt) {
      ok = false;
      return false;
    }
    if (f === 1) {
      if (typeof v !== 'number' || v < 1 || v > 1000 || ir) {
        ok = false;
        return false;
      }
      ir = true;
    } else if (f === 2 || f === 3 || f === 4) {
      const [s, len] = v as [number, number];
      if (s + len <= head.length && !validUtf8(head.subarray(s, s + len))) {
        ok = false;
        return false;
      }
    } else if (f === 7) {
      const [s, len] = v as [number, number];
      const sub = head.subarray(s, Math.min(s + len, head.length));
      const g = walkFields(
        sub,
        len,
        (gf, gwt) => GRAPH_FIELD_WIRE.get(gf) === gwt || (gf > 16 && gwt !== 3 && gwt !== 4),
      );
      if (g === 'bad' || g === 'stop') {
        ok = false;
        return false;
      }
      graph = true;
    }
    return true;
  });
  if (!ok || res === 'bad') {
    // A truncated or damaged .onnx that starts like a model is analysed (and reported malformed) by name.
    if (probe.ext === '.onnx' && head[0] === 0x08 && (head[1] ?? 0) >= 1 && (head[1] ?? 0) <= 0x7f && ir) {
      return { format: 'onnx', strength: 'name' };
    }
    return undefined;
  }
  if (ir && (graph || (res === 'truncated' && probe.ext === '.onnx' && head.length >= 1024)))
    return { format: 'onnx', strength: 'structure' };
  return undefined;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
function validUtf8(b: Uint8Array): boolean {
  try {
    fatalUtf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

async function analyze(ctx: AnalysisContext, _d: Detection): Promise<void> {
  const src = ctx.source;
  const size = src.size;
  if (size !== undefined && size > 2 ** 31) {
    ctx.report('MG510', `The file is ${size} bytes, over the 2 GiB protobuf limit ONNX loaders enforce.`);
  }
  const { Model } = await onnxTypes();
  const reader = new ByteReader(src);
  const dec = new ProtoDecoder(reader, {
    budget: ctx.budget,
    maxStringBytes: Math.min(ctx.limits.maxStringBytes, 4 * 2 ** 20),
    maxDepth: Math.min(ctx.limits.maxStackDepth, 256),
    skipFields: TENSOR_PAYLOADS,
  });
  const model: OnnxModel = { $offset: 0, $end: size ?? Number.POSITIVE_INFINITY };
  let complete = true;
  try {
    await dec.decode(Model, size ?? Number.POSITIVE_INFINITY, model);
  } catch (err) {
    complete = false;
    if (err instanceof ProtoError) {
      ctx.malformed(`ONNX protobuf is malformed: ${err.message}; the rest of the model was not analysed.`, {
        offset: err.offset,
      });
    } else if (err instanceof BudgetExceededError) ctx.budgetExceeded(err);
    else throw err;
  }
  const walker = new OnnxWalker(ctx);
  walker.model(model);
  reportStructure(ctx, model);
  await walker.checkExternal();
  if (complete && !model.graph) ctx.malformed('The ONNX model has no graph.');
}

interface ExternalRef {
  symbol: string;
  offset: number;
  entries: Array<{ key: string; value: string }>;
}

interface Scope {
  /** Opset versions imported by the model or the function being walked. */
  opsets: Map<string, number>;
  /** Key of the function being walked (for call edges), undefined in the main graph. */
  owner?: string;
}

export class OnnxWalker {
  private readonly functions = new Map<string, PMessage>();
  private readonly edges = new Map<string, Set<string>>();
  private readonly external: ExternalRef[] = [];
  private nodes = 0;
  private steps = 0;

  constructor(private readonly ctx: AnalysisContext) {}

  model(m: OnnxModel): void {
    const ctx = this.ctx;
    const ir = m.ir_version;
    ctx.fact('onnx.irVersion', typeof ir === 'bigint' ? ir.toString() : ir);
    const producer = str(m, 'producer_name');
    if (producer !== undefined)
      ctx.fact('onnx.producer', `${producer} ${str(m, 'producer_version') ?? ''}`.trim().slice(0, 200));
    if (ir !== undefined && (typeof ir !== 'number' || ir < 1 || ir > MAX_IR_VERSION)) {
      ctx.report('MG509', `IR version ${String(ir)} is outside the released range 1..${MAX_IR_VERSION}.`, {
        symbol: 'ir_version',
      });
    }
    const opsets = this.opsets(msgs(m, 'opset_import'), 'opset_import');
    ctx.fact('onnx.opsets', Object.fromEntries([...opsets].map(([d, v]) => [d || 'ai.onnx', v])));
    const meta = msgs(m, 'metadata_props');
    if (meta.length > 0) {
      ctx.fact(
        'onnx.metadataKeys',
        meta.slice(0, 50).map((e) => (str(e, 'key') ?? '').slice(0, 100)),
      );
    }
    for (const f of msgs(m, 'functions')) {
      const key = fnKey(str(f, 'domain') ?? '', str(f, 'name') ?? '', str(f, 'overload') ?? '');
      if (this.functions.has(key)) {
        ctx.report('MG509', `Model-local function ${key.replaceAll('\u0000', ':')} is defined twice.`, {
          symbol: `function:${str(f, 'name') ?? ''}`,
          offset: f.$offset,
        });
      }
      this.functions.set(key, f);
    }
    const graph = m.graph as PMessage | undefined;
    if (graph) this.graph(graph, `graph:${clip(str(graph, 'name') ?? '')}`, { opsets }, 0);
    for (const [key, f] of this.functions) {
      const fOpsets = this.opsets(
        msgs(f, 'opset_import'),
        `function:${clip(str(f, 'name') ?? '')}/opset_import`,
      );
      const path = `function:${clip(str(f, 'domain') ?? '')}.${clip(str(f, 'name') ?? '')}`;
      for (const a of msgs(f, 'attribute_proto'))
        this.attribute(
          a,
          `${path}/attribute:${clip(str(a, 'name') ?? '')}`,
          { opsets: fOpsets, owner: key },
          0,
        );
      for (const n of msgs(f, 'node')) this.node(n, path, { opsets: fOpsets, owner: key }, 0);
    }
    msgs(m, 'training_info').forEach((t, i) => {
      for (const part of ['initialization', 'algorithm'] as const) {
        const g = t[part] as PMessage | undefined;
        if (g) this.graph(g, `training_info[${i}].${part}`, { opsets }, 0);
      }
    });
    ctx.fact('onnx.nodes', this.nodes);
    ctx.fact('onnx.functions', this.functions.size);
    this.cycles();
  }

  private opsets(list: PMessage[], where: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const o of list) {
      const raw = str(o, 'domain') ?? '';
      const domain = raw === 'ai.onnx' ? '' : raw;
      const v = o.version;
      const version = typeof v === 'number' ? v : Number.NaN;
      if (out.has(domain)) {
        this.ctx.report('MG509', `Operator set ${raw || 'ai.onnx'} is imported twice.`, {
          symbol: where,
          offset: o.$offset,
        });
      }
      out.set(domain, version);
      const max = MAX_OPSET[domain];
      if (max !== undefined && !(version >= 1 && version <= max)) {
        this.ctx.report(
          'MG509',
          `Operator set ${raw || 'ai.onnx'} version ${String(v)} is outside the released range 1..${max}.`,
          { symbol: where, offset: o.$offset },
        );
      }
    }
    return out;
  }

  private graph(g: PMessage, path: string, scope: Scope, depth: number): void {
    if (depth > 64) throw new BudgetExceededError('maxStackDepth', 'ONNX subgraphs nested deeper than 64');
    for (const t of msgs(g, 'initializer'))
      this.tensor(t, `${path}/initializer:${clip(str(t, 'name') ?? '')}`);
    for (const s of msgs(g, 'sparse_initializer')) this.sparse(s, `${path}/sparse_initializer`);
    for (const n of msgs(g, 'node')) this.node(n, path, scope, depth);
  }

  private node(n: PMessage, parent: string, scope: Scope, depth: number): void {
    if ((++this.steps & 0x3ff) === 0) this.ctx.checkTime();
    this.nodes++;
    const op = str(n, 'op_type') ?? '';
    const rawDomain = str(n, 'domain') ?? '';
    const domain = rawDomain === 'ai.onnx' ? '' : rawDomain;
    const name = str(n, 'name') ?? '';
    const path = `${parent}/node:${clip(name || op)}`;
    const loc = { symbol: path, offset: n.$offset };
    const label = `${rawDomain ? `${clip(rawDomain)}::` : ''}${clip(op)}`;
    const local = this.resolveFunction(domain, op, str(n, 'overload') ?? '');
    if (local !== undefined && scope.owner !== undefined) {
      let set = this.edges.get(scope.owner);
      if (!set) {
        set = new Set();
        this.edges.set(scope.owner, set);
      }
      set.add(local);
    }
    if (PYTHON_OP.test(op)) {
      const fn = attrText(n, 'func_name') ?? attrText(n, 'name') ?? attrText(n, 'callable');
      this.ctx.report(
        'MG504',
        `Node ${clip(name)} runs the Python operator ${label}${fn ? ` (function ${clip(fn)})` : ''}.`,
        loc,
      );
    } else if (op === 'ATen' && !STANDARD_DOMAINS.has(domain)) {
      const aten = attrText(n, 'operator');
      this.ctx.report(
        'MG505',
        `Node ${clip(name)} is an ATen fallback (${label}${aten ? `, operator ${clip(aten)}` : ''}): it runs a PyTorch operator chosen by name.`,
        loc,
      );
    } else if (local === undefined && !STANDARD_DOMAINS.has(domain)) {
      if (EXTENSIONS_DOMAINS.has(domain)) {
        if (EXTENSIONS_NATIVE.has(op)) {
          this.ctx.report(
            'MG507',
            `Node ${clip(name)} uses the onnxruntime-extensions kernel ${label}.`,
            loc,
          );
        } else {
          this.ctx.report(
            'MG505',
            `Node ${clip(name)} uses ${label}, which is not a native onnxruntime-extensions kernel: a custom operator registered from Python (PyOp), or one that reads files or calls a network service.`,
            loc,
          );
        }
      } else if (RUNTIME_DOMAINS.has(domain)) {
        this.ctx.report('MG507', `Node ${clip(name)} uses the runtime contrib operator ${label}.`, loc);
      } else {
        this.ctx.report(
          'MG506',
          `Node ${clip(name)} uses ${label} from the custom domain "${clip(rawDomain)}".`,
          loc,
        );
      }
    }
    if (local === undefined && !scope.opsets.has(domain)) {
      this.ctx.report(
        'MG509',
        `Node ${clip(name)} uses the domain "${clip(rawDomain) || 'ai.onnx'}" that the model does not import.`,
        loc,
      );
    }
    for (const a of msgs(n, 'attribute'))
      this.attribute(a, `${path}/attribute:${clip(str(a, 'name') ?? '')}`, scope, depth);
  }

  private attribute(a: PMessage, path: string, scope: Scope, depth: number): void {
    const t = a.t as PMessage | undefined;
    if (t) this.tensor(t, path);
    for (const [i, x] of msgs(a, 'tensors').entries()) this.tensor(x, `${path}[${i}]`);
    const st = a.sparse_tensor as PMessage | undefined;
    if (st) this.sparse(st, path);
    for (const [i, x] of msgs(a, 'sparse_tensors').entries()) this.sparse(x, `${path}[${i}]`);
    const g = a.g as PMessage | undefined;
    if (g) this.graph(g, `${path}/graph:${clip(str(g, 'name') ?? '')}`, scope, depth + 1);
    for (const [i, x] of msgs(a, 'graphs').entries())
      this.graph(x, `${path}[${i}]/graph:${clip(str(x, 'name') ?? '')}`, scope, depth + 1);
  }

  private sparse(s: PMessage, path: string): void {
    const v = s.values as PMessage | undefined;
    const i = s.indices as PMessage | undefined;
    if (v) this.tensor(v, `${path}.values:${clip(str(v, 'name') ?? '')}`);
    if (i) this.tensor(i, `${path}.indices`);
  }

  /** Records the external data reference of a tensor (checked by checkExternal). */
  tensor(t: PMessage, path: string): void {
    const entries = msgs(t, 'external_data').map((e) => ({
      key: str(e, 'key') ?? '',
      value: str(e, 'value') ?? '',
    }));
    const external = t.data_location === 1;
    if (!external && entries.length === 0) return;
    if (external && !entries.some((e) => e.key === 'location')) {
      this.ctx.report('MG502', 'The tensor is marked EXTERNAL but names no location.', {
        symbol: path,
        offset: t.$offset,
      });
      return;
    }
    this.external.push({ symbol: path, offset: t.$offset, entries });
  }

  private resolveFunction(domain: string, op: string, overload: string): string | undefined {
    const exact = fnKey(domain, op, overload);
    if (this.functions.has(exact)) return exact;
    if (domain === '') {
      const alt = fnKey('ai.onnx', op, overload);
      if (this.functions.has(alt)) return alt;
    }
    return undefined;
  }

  private cycles(): void {
    // Iterative DFS with colours over the call graph of model-local functions.
    const colour = new Map<string, 1 | 2>();
    const reported = new Set<string>();
    for (const start of this.edges.keys()) {
      if (colour.has(start)) continue;
      const stack: Array<{ k: string; it: Iterator<string> }> = [
        { k: start, it: (this.edges.get(start) ?? new Set()).values() },
      ];
      colour.set(start, 1);
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const nx = top.it.next();
        if (nx.done) {
          colour.set(top.k, 2);
          stack.pop();
          continue;
        }
        const c = colour.get(nx.value);
        if (c === 1) {
          const from = stack.findIndex((s) => s.k === nx.value);
          const cycle = [...stack.slice(from).map((s) => s.k), nx.value].map((k) =>
            k.split('\u0000').slice(0, 2).filter(Boolean).join('.'),
          );
          const id = cycle.slice().sort().join(',');
          if (!reported.has(id)) {
            reported.add(id);
            this.ctx.report(
              'MG508',
              `Model-local functions call each other in a cycle: ${cycle.map(clip).join(' -> ')}.`,
              {
                symbol: `function:${cycle[0]}`,
              },
            );
          }
        } else if (c === undefined) {
          colour.set(nx.value, 1);
          stack.push({ k: nx.value, it: (this.edges.get(nx.value) ?? new Set()).values() });
        }
      }
    }
  }

  /** External data checks, lexical then against the model folder on disk. */
  async checkExternal(): Promise<void> {
    const ctx = this.ctx;
    if (this.external.length === 0) return;
    const files = new Set<string>();
    const sizeCache = new Map<string, Promise<Awaited<ReturnType<typeof checkOnDisk>>>>();
    for (const ref of this.external) {
      ctx.checkTime();
      const loc = { symbol: ref.symbol, offset: ref.offset };
      const seen = new Set<string>();
      for (const e of ref.entries) {
        if (seen.has(e.key)) ctx.report('MG502', `External data key "${clip(e.key)}" is given twice.`, loc);
        seen.add(e.key);
        if (!EXTERNAL_KEYS.has(e.key)) {
          ctx.report(
            'MG502',
            `External data has the unknown key "${clip(e.key)}" (attribute injection into the loader).`,
            loc,
          );
        }
      }
      const get = (k: string) => ref.entries.filter((e) => e.key === k).pop()?.value;
      const basepath = get('basepath');
      if (basepath !== undefined && basepath !== '') {
        const b = checkLocation(basepath);
        if (b.sentinel || b.escapes.length > 0) {
          ctx.report(
            'MG500',
            `External data basepath "${clip(basepath)}" ${[...(b.sentinel ? ['is a sentinel'] : []), ...b.escapes].join(', ')}.`,
            loc,
          );
        }
      }
      const location = get('location');
      if (location === undefined) continue;
      let offset = 0n;
      let length: bigint | undefined;
      for (const k of ['offset', 'length'] as const) {
        const v = get(k);
        if (v === undefined) continue;
        const n = parseExtNumber(v);
        if (typeof n === 'string') ctx.report('MG502', `External data ${k} ${n}.`, loc);
        else if (k === 'offset') offset = n;
        else length = n;
      }
      const lex = checkLocation(location);
      if (lex.sentinel) {
        ctx.report(
          'MG501',
          `External data location "${clip(location)}" is the in-memory address sentinel.`,
          loc,
        );
        continue;
      }
      if (lex.escapes.length > 0) {
        ctx.report('MG500', `External data location "${clip(location)}" ${lex.escapes.join(', ')}.`, loc);
        continue;
      }
      if (location === '') {
        ctx.report('MG502', 'External data location is empty.', loc);
        continue;
      }
      files.add(location);
      const disk = ctx.disk;
      if (!disk) continue;
      let check = sizeCache.get(location);
      if (!check) {
        check = checkOnDisk(disk.absPath, location);
        sizeCache.set(location, check);
      }
      const res = await check;
      if (res.escape) ctx.report('MG500', `External data location "${clip(location)}" ${res.escape}.`, loc);
      else if (res.unresolved)
        ctx.report('MG503', `External data file "${clip(location)}" ${res.unresolved}.`, loc);
      if (res.size !== undefined) {
        const need = offset + (length ?? 0n);
        if (offset > BigInt(res.size) || need > BigInt(res.size)) {
          ctx.report(
            'MG502',
            `External data range ${offset}+${length ?? 0n} runs past the end of "${clip(location)}" (${res.size} bytes).`,
            loc,
          );
        }
      }
    }
    ctx.fact('onnx.externalDataFiles', [...files].slice(0, 100).map(clip));
  }
}

/** Merged singular messages anywhere in the model, and unknown top-level fields (MG511). */
export function reportStructure(ctx: AnalysisContext, model: PMessage): void {
  let merged = 0;
  let where = '';
  const stack: Array<[unknown, string, number]> = [[model, 'model', 0]];
  let seen = 0;
  while (stack.length > 0 && seen++ < 5_000_000) {
    const [v, path, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array || depth > 300) continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push([x, path, depth + 1]);
      continue;
    }
    const m = v as PMessage;
    if (m.$merged) {
      merged += m.$merged;
      if (!where) where = path;
    }
    for (const [k, x] of Object.entries(m)) {
      if (!k.startsWith('$') && typeof x === 'object') stack.push([x, `${path}.${k}`, depth + 1]);
    }
  }
  if (merged > 0) {
    ctx.report(
      'MG511',
      `${merged} singular message field(s) occur more than once (first at ${clip(where)}); the loader merges them into one.`,
      { symbol: clip(where) },
    );
  }
  if (model.$unknown) {
    ctx.report('MG511', `The model has ${model.$unknown} top-level field(s) unknown to the ONNX spec.`, {
      symbol: 'model',
    });
  }
}

function fnKey(domain: string, name: string, overload: string): string {
  return `${domain}\u0000${name}\u0000${overload}`;
}

function attrText(n: PMessage, name: string): string | undefined {
  const a = msgs(n, 'attribute').find((x) => str(x, 'name') === name);
  if (!a) return undefined;
  if (a.s !== undefined && !isSkipped(a.s)) return text(a.s);
  return undefined;
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
