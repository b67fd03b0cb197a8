// Static analysis of serialized TorchScript: the `code/**/*.py` sources of a torch.jit.save archive and the
// operator tables of lite-interpreter bytecode (bytecode.pkl). Sources are tokenized (comments, strings,
// line continuations and arbitrary whitespace between `torch . ops . ns . op` are handled), and dotted
// names are matched as references, not only as calls, so `f = torch.save` then `f(x, p)` is caught too.
import type { AnalysisContext } from '../../context.js';

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

interface Token {
  t: 'id' | 'op' | 'str' | 'num';
  v: string;
  line: number;
}

/** Tokenizes Python/TorchScript source enough to find dotted names and `def` statements. */
export function tokenize(src: string, maxTokens = 5_000_000): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n && out.length < maxTokens) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\\') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    // strings, with optional prefixes (r, b, u, f and combinations)
    const pm = /^[rRbBuUfF]{0,2}(['"])/.exec(src.slice(i, i + 3));
    if (pm && (pm[0].length === 1 || /^[rRbBuUfF]/.test(c))) {
      const q = pm[1]!;
      let j = i + pm[0].length - 1;
      const triple = src.startsWith(q.repeat(3), j);
      const delim = triple ? q.repeat(3) : q;
      j += delim.length;
      const startLine = line;
      let val = '';
      while (j < n && !src.startsWith(delim, j)) {
        if (src[j] === '\\' && j + 1 < n) {
          val += src[j + 1];
          j += 2;
          continue;
        }
        if (src[j] === '\n') {
          line++;
          if (!triple) break;
        }
        val += src[j];
        j++;
      }
      out.push({ t: 'str', v: val, line: startLine });
      i = j + delim.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ t: 'id', v: src.slice(i, j), line });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9A-Za-z_.]/.test(src[j]!)) j++;
      out.push({ t: 'num', v: src.slice(i, j), line });
      i = j;
      continue;
    }
    if (c === ':' && src[i + 1] === ':') {
      out.push({ t: 'op', v: '::', line });
      i += 2;
      continue;
    }
    out.push({ t: 'op', v: c, line });
    i++;
  }
  return out;
}

export interface CodeHit {
  rule: 'MG322' | 'MG323' | 'MG324' | 'MG325' | 'MG326';
  symbol: string;
  line: number;
  message: string;
}

/** Dotted-name references in a token stream: `a.b.c` (whitespace/comments between parts allowed). */
function dottedNames(toks: Token[]): { name: string[]; line: number; called: boolean; afterDot: boolean }[] {
  const out: { name: string[]; line: number; called: boolean; afterDot: boolean }[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.t !== 'id') continue;
    const afterDot = i > 0 && toks[i - 1]!.v === '.';
    if (afterDot) continue; // part of an earlier chain
    const parts = [t.v];
    let j = i + 1;
    while (j + 1 < toks.length && toks[j]!.v === '.' && toks[j + 1]!.t === 'id') {
      parts.push(toks[j + 1]!.v);
      j += 2;
    }
    out.push({ name: parts, line: t.line, called: toks[j]?.v === '(', afterDot: false });
  }
  return out;
}

/** Finds dangerous operations in one TorchScript source file. */
export function analyzeTorchScriptSource(src: string): CodeHit[] {
  const toks = tokenize(src);
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
    if (toks[i]!.t === 'id' && toks[i]!.v === 'def' && toks[i + 1]!.v === '__setstate__') {
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
    if (t.t !== 'str') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)::([A-Za-z_][A-Za-z0-9_]*)/.exec(t.v);
    if (m) checkOp(hits, m[1]!, m[2], t.v, t.line, true);
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
