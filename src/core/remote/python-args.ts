/**
 * Just enough of Python's lexer to read the literal arguments of calls: names, string literals (all prefixes,
 * triple quotes, escapes, implicit concatenation), brackets and commas, with line numbers; comments skipped.
 * It does not parse Python: it finds `name(` and splits the argument list at top-level commas, which is
 * what naming a model in code looks like (`AutoModel.from_pretrained("org/name", revision="...")`).
 */

export interface Token {
  kind: 'name' | 'string' | 'op' | 'other';
  value: string;
  line: number;
  /** Strings only: false for f-strings (computed at run time). */
  literal?: boolean;
}

export function tokenize(text: string, maxTokens = 2_000_000): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n && out.length < maxTokens) {
    const c = text[i]!;
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
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const prefix = /[rRbBuUfF]{0,2}(?=['"])/y;
    prefix.lastIndex = i;
    const pm = prefix.exec(text);
    if (pm && /^[rRbBuUfF]{0,2}$/.test(pm[0])) {
      const start = line;
      const p = pm[0].toLowerCase();
      let j = i + pm[0].length;
      const q = text[j]!;
      const triple = text.startsWith(q.repeat(3), j);
      const close = triple ? q.repeat(3) : q;
      j += close.length;
      let value = '';
      while (j < n && !text.startsWith(close, j)) {
        const ch = text[j]!;
        if (ch === '\n') {
          line++;
          if (!triple) break; // unterminated single-quoted string: stop at the line's end
        }
        if (ch === '\\' && !p.includes('r')) {
          const next = text[j + 1];
          if (next === '\n') line++;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : (next ?? '');
          j += 2;
          continue;
        }
        value += ch;
        j++;
      }
      out.push({ kind: 'string', value, line: start, literal: !p.includes('f') });
      i = Math.min(n, j + close.length);
      continue;
    }
    const name = /[A-Za-z_][A-Za-z0-9_]*/y;
    name.lastIndex = i;
    const nm = name.exec(text);
    if (nm) {
      out.push({ kind: 'name', value: nm[0], line });
      i += nm[0].length;
      continue;
    }
    if ('()[]{},.'.includes(c)) {
      out.push({ kind: 'op', value: c, line });
      i++;
      continue;
    }
    if (c === '=' && text[i + 1] !== '=') {
      out.push({ kind: 'op', value: '=', line });
      i++;
      continue;
    }
    // Any other operator or number: one token per run, enough to make an argument non-literal.
    const other = /[^\sA-Za-z_'"#()[\]{},.=\\]+|==/y;
    other.lastIndex = i;
    const om = other.exec(text);
    const v = om ? om[0] : c;
    out.push({ kind: 'other', value: v, line });
    i += v.length;
  }
  return out;
}

export interface CallArg {
  /** Keyword name, or undefined for a positional argument. */
  keyword?: string;
  /** The value when it is one or more adjacent string literals (not f-strings); undefined otherwise. */
  literal?: string;
  /** The argument's source text, shortened, for messages. */
  text: string;
  line: number;
}

export interface Call {
  name: string;
  /** The name before a `.`, e.g. `AutoModel` in AutoModel.from_pretrained. */
  receiver?: string;
  line: number;
  args: CallArg[];
}

/** Every call `name(...)` (or `x.name(...)`) whose name is in `names`. */
export function findCalls(tokens: readonly Token[], names: ReadonlySet<string>): Call[] {
  const calls: Call[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'name' || !names.has(t.value) || tokens[i + 1]!.value !== '(') continue;
    // `def from_pretrained(` defines, it does not call.
    if (tokens[i - 1]?.value === 'def') continue;
    const receiver =
      tokens[i - 1]?.value === '.' && tokens[i - 2]?.kind === 'name' ? tokens[i - 2]!.value : undefined;
    const args: CallArg[] = [];
    let depth = 0;
    let cur: Token[] = [];
    let j = i + 2;
    for (; j < tokens.length; j++) {
      const u = tokens[j]!;
      if (u.kind === 'op' && '([{'.includes(u.value)) depth++;
      if (u.kind === 'op' && ')]}'.includes(u.value)) {
        if (depth === 0) break;
        depth--;
      }
      if (depth === 0 && u.kind === 'op' && u.value === ',') {
        if (cur.length > 0) args.push(toArg(cur));
        cur = [];
        continue;
      }
      cur.push(u);
    }
    if (cur.length > 0) args.push(toArg(cur));
    calls.push({ name: t.value, ...(receiver ? { receiver } : {}), line: t.line, args });
  }
  return calls;
}

function toArg(ts: Token[]): CallArg {
  let keyword: string | undefined;
  let value = ts;
  if (ts.length >= 2 && ts[0]!.kind === 'name' && ts[1]!.kind === 'op' && ts[1]!.value === '=') {
    keyword = ts[0]!.value;
    value = ts.slice(2);
  }
  const literal =
    value.length > 0 && value.every((t) => t.kind === 'string' && t.literal)
      ? value.map((t) => t.value).join('')
      : undefined;
  const text = value
    .map((t) => (t.kind === 'string' ? JSON.stringify(t.value) : t.value))
    .join(' ')
    .slice(0, 120);
  return {
    ...(keyword ? { keyword } : {}),
    ...(literal !== undefined ? { literal } : {}),
    text,
    line: ts[0]!.line,
  };
}
