// Static analysis of serialized TorchScript: the `code/**/*.py` sources of a torch.jit.save archive and the
// operator tables of lite-interpreter bytecode (bytecode.pkl). TorchScript code is Python syntax: sources
// are read with the shared Python parser as a token stream (comments, strings, line continuations and
// arbitrary whitespace between `torch . ops . ns . op` are handled; text the grammar rejects stays in the
// stream), and dotted names are matched as references, not only as calls, so `f = torch.save` then
// `f(x, p)` is caught too.
import type { AnalysisContext } from '../../context.js';
import { type PyToken, parsePython, pythonTokens } from '../../python/syntax.js';

/** Built-in operator namespaces (anything else under torch.ops is a custom, native extension op). */
const BUILTIN_NS = new Set([
  'aten',
  'prim',
  'quantized',
  '_quantized',
  'prepacked',
  'profiler',
  'mkldnn',
  'mkldnn_prepacked',
  'cuda',
  'onednn',
  'sparse',
  'quantized_decomposed',
  '_prims',
  'prims',
  'c10d',
  '_c10d_functional',
  'inductor',
]);

/** aten ops / torch functions that read or write files. */
const FILE_OPS = new Set([
  'save',
  'load',
  'from_file',
  '_load_for_mobile',
  '_save_for_mobile',
  'save_to_buffer',
]);
/** Storage and stride manipulation: memory-corruption primitives. */
const MEMORY_OPS = new Set([
  'set_',
  'as_strided',
  'as_strided_',
  '_unsafe_view',
  'resize_',
  'resize_as_',
  '_set_storage',
  'set_storage_offset',
  'unsafe_split',
  '_reshape_alias',
  'untyped_storage',
  '_unsafe_index',
  '_unsafe_index_put',
]);

export interface CodeHit {
  rule: 'MG322' | 'MG323' | 'MG324' | 'MG325' | 'MG326';
  symbol: string;
  line: number;
  message: string;
}

/** Dotted-name references in a token stream: `a.b.c` (whitespace/comments between parts allowed). */
function dottedNames(
  toks: PyToken[],
): { name: string[]; line: number; called: boolean; afterDot: boolean }[] {
  const out: { name: string[]; line: number; called: boolean; afterDot: boolean }[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind !== 'name') continue;
    const afterDot = i > 0 && toks[i - 1]!.value === '.';
    if (afterDot) continue; // part of an earlier chain
    const parts = [t.value];
    let j = i + 1;
    while (j + 1 < toks.length && toks[j]!.value === '.' && toks[j + 1]!.kind === 'name') {
      parts.push(toks[j + 1]!.value);
      j += 2;
    }
    out.push({ name: parts, line: t.line, called: toks[j]?.value === '(', afterDot: false });
  }
  return out;
}

/** Finds dangerous operations in one TorchScript source file. */
export async function analyzeTorchScriptSource(src: string): Promise<CodeHit[]> {
  const toks = pythonTokens(await parsePython(src));
  const hits: CodeHit[] = [];
  for (const d of dottedNames(toks)) {
    const p = d.name;
    const full = p.join('.');
    // torch.ops.<ns>.<op> / ops.<ns>.<op>
    const opsAt = p[0] === 'ops' ? 0 : p[0] === 'torch' && p[1] === 'ops' ? 1 : -1;
    if (opsAt >= 0 && p.length > opsAt + 1) {
      const ns = p[opsAt + 1]!;
      const op = p[opsAt + 2];
      checkOp(hits, ns, op, full, d.line);
      continue;
    }
    if (p[0] === 'torch' || p[0] === '__torch__') {
      // torch.classes.<ns>.<cls> / __torch__.torch.classes.<ns>.<cls>
      const ci = p.indexOf('classes');
      if (ci >= 1 && p[ci - 1] === 'torch') {
        hits.push({
          rule: 'MG323',
          symbol: full,
          line: d.line,
          message: `uses the custom class ${full} (native code from an extension library)`,
        });
        continue;
      }
      if (p[0] === 'torch') {
        const last = p[p.length - 1]!;
        if (FILE_OPS.has(last) && !(p.length === 2 && p[1] === 'load' && false)) {
          hits.push({
            rule: 'MG322',
            symbol: full,
            line: d.line,
            message: `${d.called ? 'calls' : 'references'} ${full}, which ${last === 'from_file' || last === 'load' || last === '_load_for_mobile' ? 'reads' : 'writes'} files`,
          });
          continue;
        }
        if (MEMORY_OPS.has(last)) {
          hits.push({ rule: 'MG326', symbol: full, line: d.line, message: `uses ${full}` });
          continue;
        }
      }
    }
    // method-style memory primitives: x.set_(...), x.as_strided(...)
    const last = p[p.length - 1]!;
    if (p.length >= 2 && MEMORY_OPS.has(last) && d.called) {
      hits.push({
        rule: 'MG326',
        symbol: `Tensor.${last}`,
        line: d.line,
        message: `calls .${last}() on ${p.slice(0, -1).join('.')}`,
      });
    }
    if (last === 'PythonOp' || last === 'IgnoredPythonOp') {
      hits.push({ rule: 'MG324', symbol: full, line: d.line, message: `calls into Python through ${full}` });
    }
  }
  // def __setstate__
  for (let i = 0; i + 1 < toks.length; i++) {
    if (toks[i]!.kind === 'name' && toks[i]!.value === 'def' && toks[i + 1]!.value === '__setstate__') {
      hits.push({
        rule: 'MG325',
        symbol: '__setstate__',
        line: toks[i]!.line,
        message: 'defines __setstate__, which torch.jit.load runs while loading',
      });
    }
  }
  // `aten::save`-style operator strings (e.g. in string constants handed to ops)
  for (const t of toks) {
    if (t.kind !== 'string') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)/.exec(t.value);
    if (m) checkOp(hits, m[1]!, m[2], t.value, t.line, true);
  }
  return hits;
}

function checkOp(
  hits: CodeHit[],
  ns: string,
  op: string | undefined,
  full: string,
  line: number,
  inString = false,
): void {
  const where = inString ? `names the operator ${full}` : `uses ${full}`;
  if (ns === 'aten' && op && FILE_OPS.has(op)) {
    hits.push({ rule: 'MG322', symbol: `aten::${op}`, line, message: `${where} (file access)` });
  } else if (ns === 'prim' && op && /PythonOp$/.test(op)) {
    hits.push({ rule: 'MG324', symbol: `prim::${op}`, line, message: `${where} (a call into Python)` });
  } else if ((ns === 'aten' || ns === 'prim') && op && MEMORY_OPS.has(op)) {
    hits.push({ rule: 'MG326', symbol: `${ns}::${op}`, line, message: where });
  } else if (!BUILTIN_NS.has(ns) && !inString) {
    hits.push({
      rule: 'MG323',
      symbol: `${ns}::${op ?? '*'}`,
      line,
      message: `${where}, a custom operator namespace (native code from an extension library)`,
    });
  }
}

/** Operator names of a bytecode operator table: `aten::save`, overload ignored. */
export function analyzeOperatorName(name: string): CodeHit[] {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)::([A-Za-z_][A-Za-z0-9_.]*)$/.exec(name);
  const hits: CodeHit[] = [];
  if (!m) {
    hits.push({
      rule: 'MG323',
      symbol: name,
      line: 0,
      message: `has an operator with an unusual name "${name}"`,
    });
    return hits;
  }
  const ns = m[1]!;
  const op = m[2]!.split('.')[0]!;
  if (!BUILTIN_NS.has(ns)) {
    hits.push({
      rule: 'MG323',
      symbol: name,
      line: 0,
      message: `uses operator ${name} from a custom namespace`,
    });
  } else checkOp(hits, ns, op, name, 0);
  return hits;
}

/** Reports hits for one source or bytecode member. */
export function reportHits(ctx: AnalysisContext, member: string, hits: CodeHit[]): void {
  for (const h of hits) {
    const where = h.line > 0 ? ` (line ${h.line})` : '';
    ctx.report(h.rule, `TorchScript ${member}${where} ${h.message}.`, { member, symbol: h.symbol });
  }
}
