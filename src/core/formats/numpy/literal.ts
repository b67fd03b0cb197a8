// A tiny parser for the Python literal that a .npy header holds: dicts, lists, tuples, strings, ints,
// True/False/None. Nothing is evaluated; anything else is a parse error.

export type PyLiteral =
  | string
  | number
  | bigint
  | boolean
  | null
  | PyLiteral[]
  | { tuple: PyLiteral[] }
  | Map<PyLiteral, PyLiteral>;

export class LiteralError extends Error {}

export function parseLiteral(text: string, maxDepth = 32): PyLiteral {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (msg: string): never => {
    throw new LiteralError(`${msg} at ${i}`);
  };
  const value = (depth: number): PyLiteral => {
    if (depth > maxDepth) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === undefined) return fail('unexpected end');
    if (c === '{') {
      i++;
      const m = new Map<PyLiteral, PyLiteral>();
      for (;;) {
        ws();
        if (text[i] === '}') {
          i++;
          return m;
        }
        const k = value(depth + 1);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const v = value(depth + 1);
        if (typeof k === 'string' && [...m.keys()].includes(k)) fail(`duplicate key ${k}`);
        m.set(k, v);
        ws();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '[' || c === '(') {
      const close = c === '[' ? ']' : ')';
      i++;
      const items: PyLiteral[] = [];
      let comma = false;
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          if (c === '[') return items;
          return { tuple: items.length === 1 && !comma ? items : items };
        }
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          comma = true;
          i++;
        } else if (text[i] !== close) fail(`expected ',' or '${close}'`);
        else if (c === '(' && items.length === 1 && !comma) {
          // (x) is just x in Python
          i++;
          return items[0]!;
        }
      }
    }
    if (c === "'" || c === '"') {
      i++;
      let s = '';
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') {
          const d = text[i + 1];
          if (d === undefined) fail('bad escape');
          s += d === 'n' ? '\n' : d === 't' ? '\t' : d;
          i += 2;
        } else s += text[i++];
      }
      if (text[i] !== c) fail('unterminated string');
      i++;
      return s;
    }
    const m = /^-?\d+L?/.exec(text.slice(i, i + 40));
    if (m) {
      i += m[0].length;
      const t = m[0].replace('L', '');
      const b = BigInt(t);
      return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
    }
    for (const [word, v] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail(`unexpected ${JSON.stringify(c)}`);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
