import type { SyntaxNode, Tree } from '@lezer/common';
import { lezerPython } from '../lazy.js';
import { stringLiteral } from './escapes.js';

/**
 * Python source as a syntax tree, parsed with @lezer/python (pure JavaScript, error recovery: it never
 * throws, and marks what it could not parse with error nodes). The one Python parser of modelgate: the
 * repository-code analysis (formats/python) parses with it, and the reference finder (remote/python-refs.ts)
 * and the TorchScript code analysis (formats/pytorch/torchscript-code.ts) read Python through these helpers,
 * so a construct is understood the same way everywhere (line continuations, nested brackets, every string
 * prefix and escape, comments) instead of by hand-written tokenizers that disagree at the edges.
 */
export interface PySource {
  readonly src: string;
  readonly tree: Tree;
  /** Number of error nodes (0 for a file that parsed cleanly). */
  readonly errors: number;
  /** 1-based line of an offset. */
  line(offset: number): number;
  text(n: SyntaxNode): string;
}

/** Parses `src`; the first call loads the parser (src/core/lazy.ts). */
export async function parsePython(src: string): Promise<PySource> {
  const tree = (await lezerPython()).parser.parse(src);
  let errors = 0;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) errors++;
    },
  });
  let starts: number[] | undefined;
  return {
    src,
    tree,
    errors,
    line(offset) {
      if (!starts) {
        starts = [0];
        for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) starts.push(i + 1);
      }
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      return lo + 1;
    },
    text: (n) => src.slice(n.from, n.to),
  };
}

export function children(n: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/**
 * The value of a constant string expression: one literal or adjacent literals (`"a" "b"`); undefined for
 * f-strings and anything else. Bytes literals count (their text, latin-1).
 */
export function constantString(py: PySource, n: SyntaxNode): string | undefined {
  if (n.name === 'String') return stringLiteral(py.text(n))?.value;
  if (n.name === 'ContinuedString') {
    let out = '';
    for (const c of children(n)) {
      const v = constantString(py, c);
      if (v === undefined) return undefined;
      out += v;
    }
    return out;
  }
  return undefined;
}

/** `a.b.c` as ['a', 'b', 'c'] for a name or an attribute chain on a name; undefined otherwise. */
export function dottedName(py: PySource, n: SyntaxNode): string[] | undefined {
  if (n.name === 'VariableName') return [py.text(n)];
  if (n.name !== 'MemberExpression') return undefined;
  const [obj, dot, prop] = children(n);
  if (!obj || dot?.name !== '.' || prop?.name !== 'PropertyName') return undefined;
  const head = dottedName(py, obj);
  return head ? [...head, py.text(prop)] : undefined;
}

/** The last name of a callee: `from_pretrained` in `transformers.AutoModel.from_pretrained(...)`. */
export function calleeName(py: PySource, callee: SyntaxNode): string | undefined {
  if (callee.name === 'VariableName') return py.text(callee);
  if (callee.name === 'MemberExpression') {
    const last = callee.lastChild;
    return last?.name === 'PropertyName' ? py.text(last) : undefined;
  }
  return undefined;
}

export interface PyArg {
  /** Keyword name; undefined for a positional argument. */
  keyword?: string;
  /** `*args` or `**kwargs`. */
  star?: '*' | '**';
  value: SyntaxNode;
}

/** The arguments of a call's ArgList, split at its top-level commas. */
export function callArgs(py: PySource, argList: SyntaxNode): PyArg[] {
  const out: PyArg[] = [];
  let cur: SyntaxNode[] = [];
  const flush = () => {
    if (cur.length === 0) return;
    const [a, b, c] = cur;
    if (cur.length >= 3 && a!.name === 'VariableName' && b!.name === 'AssignOp' && py.text(b!) === '=')
      out.push({ keyword: py.text(a!), value: c! });
    else if ((a!.name === '*' || a!.name === '**') && b) out.push({ star: a!.name, value: b });
    else out.push({ value: cur[cur.length - 1]! });
    cur = [];
  };
  for (const c of children(argList)) {
    if (c.name === '(' || c.name === ')') continue;
    if (c.name === ',') flush();
    else cur.push(c);
  }
  flush();
  return out;
}

export interface PyToken {
  kind: 'name' | 'string' | 'number' | 'op';
  /** A name, an operator or a number as written; a string's decoded value (an f-string's raw body). */
  value: string;
  line: number;
}

/**
 * The source as a flat token stream, read off the syntax tree's leaves: comments dropped, strings decoded
 * (adjacent literals stay separate tokens, an f-string is one string token followed by the tokens of its
 * replacement fields), every other leaf as written. Text the parser could not fit in the grammar stays in
 * the stream (an error leaf is classified by its text), so a token scan sees everything the source holds.
 */
export function pythonTokens(py: PySource, maxTokens = 5_000_000): PyToken[] {
  const out: PyToken[] = [];
  const cur = py.tree.cursor();
  const push = (kind: PyToken['kind'], value: string, from: number) =>
    out.push({ kind, value, line: py.line(from) });
  for (;;) {
    if (out.length >= maxTokens) return out;
    const { name, from, to } = cur;
    let enter = name !== 'Comment';
    if (name === 'String') {
      const raw = py.src.slice(from, to);
      push('string', stringLiteral(raw)?.value ?? stringBody(raw), from);
      enter = false;
    } else if (name === 'FormatString') push('string', stringBody(py.src.slice(from, to)), from);
    if (enter && cur.firstChild()) continue;
    if (enter && name !== 'FormatString' && to > from) {
      const text = py.src.slice(from, to);
      const oneToken = /^[^\W\d]\w*$|^[rRbBuUfF]{0,2}['"]|^.$/su.test(text);
      if (cur.type.isError && !oneToken) {
        // Recovery skipped text as one piece: its names still count.
        for (const m of text.matchAll(/[^\W\d]\w*|\S/gu))
          push(/^\w/u.test(m[0]) ? 'name' : 'op', m[0], from + m.index);
      } else if (/^[^\W\d]\w*$/u.test(text)) push('name', text, from);
      else if (/^\d/.test(text) || /^\.\d/.test(text)) push('number', text, from);
      else if (/^[rRbBuUfF]{0,2}['"]/.test(text)) push('string', stringBody(text), from);
      else push('op', text, from);
    }
    while (!cur.nextSibling()) if (!cur.parent()) return out;
  }
}

/** A string token's text without its prefix and quotes (unterminated strings: to the end). */
function stringBody(raw: string): string {
  const m = /^[rRbBuUfF]{0,2}('''|"""|'|")/.exec(raw);
  if (!m) return raw;
  const q = m[1]!;
  const body = raw.slice(m[0].length);
  return body.endsWith(q) ? body.slice(0, body.length - q.length) : body;
}
