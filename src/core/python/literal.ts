/**
 * Python's `ast.literal_eval`, statically: the exact grammar CPython 3 parses in `eval` mode, restricted to
 * the nodes literal_eval converts (Lib/ast.py). Nothing is evaluated; anything literal_eval refuses is a
 * LiteralError. numpy reads `.npy` headers with it (numpy.lib.format._read_array_header -> safe_eval), so
 * any difference between this parser and CPython is a parser differential: keep it exact.
 *
 * Accepted, as CPython does:
 *   - strings with every prefix (u, r, b, rb, br; any case), single, double and triple quotes, all escapes
 *     (\\n, \\x41, \\101, \\u00e9, \\U0001F600, backslash-newline; unknown escapes stay as written), and adjacent
 *     literals concatenated (`'a' "b"`; str and bytes cannot mix; f-strings are not literals);
 *   - integers (decimal, 0x, 0o, 0b, underscores), floats, imaginary numbers, a sign on a number, and
 *     `real +/- imaginary` (literal_eval's only binary operation);
 *   - tuples (parentheses are grouping: `(5)` is 5, `(5,)` a tuple), lists, sets, `set()`, dicts with any
 *     hashable literal keys (duplicates: the first key object stays, the last value wins; `1`, `1.0` and
 *     `True` are one key);
 *   - True, False, None, `...`; comments; line breaks inside brackets and after a backslash.
 * Refused: names, calls (but `set()`), attribute access, other operators, `**` in dicts, `--1`, `-True`.
 * Not supported (a LiteralError, so callers fail closed): `\N{NAME}` escapes (they need the Unicode name
 * table).
 *
 * Python 2 long suffixes (`3L`) are accepted only with `longSuffix`: numpy strips them (format._filter_header)
 * from version 1.0 and 2.0 headers before literal_eval.
 */

export type PyValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | PyValue[]
  | PyTuple
  | PyFloat
  | PyComplex
  | PyBytes
  | PySet
  | PyEllipsis
  | PyDict;

export interface PyTuple {
  tuple: PyValue[];
}
export interface PyFloat {
  float: number;
}
export interface PyComplex {
  complex: [number, number];
}
export interface PyBytes {
  bytes: Uint8Array;
}
export interface PySet {
  set: PyValue[];
}
export interface PyEllipsis {
  ellipsis: true;
}
/** A dict in insertion order; string keys are plain strings, so `d.get('shape')` works. */
export type PyDict = Map<PyValue, PyValue>;

export class LiteralError extends Error {}

export interface LiteralOptions {
  /** Deepest bracket nesting accepted (CPython's tokenizer stops at 200; literal_eval recursion at ~1000). */
  maxDepth?: number;
  /** Accept Python 2 `L` suffixes after numbers (numpy's _filter_header for format 1.0 / 2.0). */
  longSuffix?: boolean;
}

export function isTuple(v: PyValue | undefined): v is PyTuple {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && 'tuple' in v;
}

/** An int (bool counts, as isinstance(x, int) says in Python) as a JS number, or undefined. */
export function asInt(v: PyValue | undefined): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v >= -(2n ** 63n) && v < 2n ** 63n ? Number(v) : undefined;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Syntax tree of the expression subset we parse (anything else stops the parse).

type Node =
  | { k: 'const'; v: PyValue; num?: 'int' | 'float' | 'complex' }
  | { k: 'tuple' | 'list' | 'set'; items: Node[] }
  | { k: 'dict'; keys: Node[]; values: Node[] }
  | { k: 'unary'; op: '+' | '-'; operand: Node }
  | { k: 'binary'; op: '+' | '-'; left: Node; right: Node }
  | { k: 'setcall' };

const PREFIXES = new Set(['', 'r', 'u', 'b', 'br', 'rb']);
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

class Parser {
  i = 0;
  depth = 0;
  constructor(
    readonly s: string,
    readonly opts: Required<LiteralOptions>,
  ) {}

  fail(msg: string): never {
    throw new LiteralError(`${msg} at ${this.i}`);
  }

  /** Skips spaces, tabs, form feeds, comments; newlines and backslash continuations only inside brackets. */
  ws(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t' || c === '\f') this.i++;
      else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n' && s[this.i] !== '\r') this.i++;
      } else if (c === '\\' && (s[this.i + 1] === '\n' || s[this.i + 1] === '\r')) {
        this.i += s[this.i + 1] === '\r' && s[this.i + 2] === '\n' ? 3 : 2;
        if (this.i >= s.length) this.fail('unexpected end after line continuation');
      } else if ((c === '\n' || c === '\r') && this.depth > 0) this.i++;
      else return;
    }
  }

  peek(): string | undefined {
    this.ws();
    return this.s[this.i];
  }

  expr(): Node {
    let left = this.unary();
    for (;;) {
      const c = this.peek();
      if (c !== '+' && c !== '-') return left;
      this.i++;
      left = { k: 'binary', op: c, left, right: this.unary() };
    }
  }

  unary(): Node {
    const c = this.peek();
    if (c === '+' || c === '-') {
      this.i++;
      return { k: 'unary', op: c, operand: this.unary() };
    }
    if (c === '~') this.fail('operator ~ is not a literal');
    return this.atom();
  }

  open(): void {
    this.i++;
    if (++this.depth > this.opts.maxDepth) this.fail('nesting too deep');
  }

  close(): void {
    this.i++;
    this.depth--;
  }

  atom(): Node {
    const s = this.s;
    const c = this.peek();
    if (c === undefined) this.fail('unexpected end');
    if (c === '(') {
      this.open();
      if (this.peek() === ')') {
        this.close();
        return { k: 'tuple', items: [] };
      }
      const first = this.expr();
      if (this.peek() === ')') {
        this.close();
        return first; // grouping, not a tuple
      }
      const items = this.rest(first, ')');
      return { k: 'tuple', items };
    }
    if (c === '[') {
      this.open();
      if (this.peek() === ']') {
        this.close();
        return { k: 'list', items: [] };
      }
      return { k: 'list', items: this.rest(this.expr(), ']') };
    }
    if (c === '{') return this.braces();
    if (c === '.' && s.startsWith('...', this.i)) {
      this.i += 3;
      return { k: 'const', v: { ellipsis: true } };
    }
    if (/[0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i, this.i + 64))?.[0];
    if (word !== undefined) {
      const after = s[this.i + word.length];
      if ((after === "'" || after === '"') && PREFIXES.has(word.toLowerCase())) return this.strings();
      if ((after === "'" || after === '"') && /^(f|fr|rf)$/i.test(word))
        this.fail('f-strings are not literals');
      this.i += word.length;
      if (word === 'True') return { k: 'const', v: true };
      if (word === 'False') return { k: 'const', v: false };
      if (word === 'None') return { k: 'const', v: null };
      if (word === 'set') {
        if (this.peek() === '(') {
          this.open();
          if (this.peek() === ')') {
            this.close();
            return { k: 'setcall' };
          }
        }
      }
      this.fail(`name ${word} is not a literal`);
    }
    if (c === "'" || c === '"') return this.strings();
    this.fail(`unexpected ${JSON.stringify(c)}`);
  }

  /** After the first item of a tuple or list: `, item`* with an optional trailing comma, then `close`. */
  rest(first: Node, close: string): Node[] {
    const items = [first];
    for (;;) {
      const c = this.peek();
      if (c === close) {
        this.close();
        return items;
      }
      if (c !== ',') this.fail(`expected ',' or '${close}'`);
      this.i++;
      if (this.peek() === close) {
        this.close();
        return items;
      }
      items.push(this.expr());
    }
  }

  braces(): Node {
    this.open();
    if (this.peek() === '}') {
      this.close();
      return { k: 'dict', keys: [], values: [] };
    }
    if (this.s.startsWith('**', this.i)) this.fail('** in a dict is not a literal');
    const first = this.expr();
    if (this.peek() !== ':') return { k: 'set', items: this.rest(first, '}') };
    const keys: Node[] = [];
    const values: Node[] = [];
    let key = first;
    for (;;) {
      this.i++; // ':'
      keys.push(key);
      values.push(this.expr());
      const c = this.peek();
      if (c === '}') {
        this.close();
        return { k: 'dict', keys, values };
      }
      if (c !== ',') this.fail("expected ',' or '}'");
      this.i++;
      if (this.peek() === '}') {
        this.close();
        return { k: 'dict', keys, values };
      }
      if (this.s.startsWith('**', this.i)) this.fail('** in a dict is not a literal');
      key = this.expr();
      if (this.peek() !== ':') this.fail("expected ':'");
    }
  }

  number(): Node {
    const s = this.s.slice(this.i, this.i + 5000);
    const digits = '[0-9](?:_?[0-9])*';
    const exp = `[eE][+-]?${digits}`;
    const point = `(?:(?:${digits})?\\.${digits}|${digits}\\.)`;
    const tail = (len: number) => {
      const next = s[len];
      // `1if`, `0x1g`, `1_`: the tokenizer refuses a number run into a name character
      if (next !== undefined && /[A-Za-z0-9_]/.test(next)) {
        if (!(this.opts.longSuffix && next === 'L' && !/[A-Za-z0-9_]/.test(s[len + 1] ?? ' ')))
          this.fail('invalid number literal');
        return len + 1;
      }
      return len;
    };
    const forms: Array<[RegExp, (t: string) => Node]> = [
      [
        new RegExp(`^(?:${point}(?:${exp})?|${digits}${exp}|${digits})[jJ]`),
        (t) => ({
          k: 'const',
          v: { complex: [0, Number(t.slice(0, -1).replace(/_/g, ''))] },
          num: 'complex',
        }),
      ],
      [
        new RegExp(`^(?:${point}(?:${exp})?|${digits}${exp})`),
        (t) => ({ k: 'const', v: { float: Number(t.replace(/_/g, '')) }, num: 'float' }),
      ],
      [
        /^0[xX](?:_?[0-9a-fA-F])+|^0[oO](?:_?[0-7])+|^0[bB](?:_?[01])+/,
        (t) => ({ k: 'const', v: intValue(BigInt(t.replace(/_/g, ''))), num: 'int' }),
      ],
      [
        /^(?:[1-9](?:_?[0-9])*|0(?:_?0)*)/,
        (t) => {
          const d = t.replace(/_/g, '');
          if (d.length > 4300) this.fail('integer literal exceeds 4300 digits');
          return { k: 'const', v: intValue(BigInt(d)), num: 'int' };
        },
      ],
    ];
    for (const [re, build] of forms) {
      const m = re.exec(s);
      if (!m) continue;
      const node = build(m[0]);
      this.i += tail(m[0].length);
      return node;
    }
    this.fail('invalid number literal');
  }

  /** One or more adjacent string literals, concatenated. */
  strings(): Node {
    let text: string | undefined;
    let bytes: number[] | undefined;
    for (;;) {
      const word = /^[A-Za-z]{0,2}(?=['"])/.exec(this.s.slice(this.i, this.i + 3))?.[0];
      if (word === undefined || !PREFIXES.has(word.toLowerCase())) break;
      const lower = word.toLowerCase();
      this.i += word.length;
      const raw = lower.includes('r');
      const isBytes = lower.includes('b');
      const v = this.string(raw, isBytes);
      if (isBytes) {
        if (text !== undefined) this.fail('cannot mix bytes and nonbytes literals');
        bytes = [...(bytes ?? []), ...(v as number[])];
      } else {
        if (bytes !== undefined) this.fail('cannot mix bytes and nonbytes literals');
        text = (text ?? '') + (v as string);
      }
      const c = this.peek();
      if (c === undefined || !/[A-Za-z'"]/.test(c)) break;
    }
    if (bytes !== undefined) return { k: 'const', v: { bytes: Uint8Array.from(bytes) } };
    return { k: 'const', v: text ?? '' };
  }

  /** One quoted literal starting at a quote; returns the decoded text (or byte values for bytes). */
  string(raw: boolean, isBytes: boolean): string | number[] {
    const s = this.s;
    const q = s[this.i]!;
    const triple = s.startsWith(q.repeat(3), this.i);
    const delim = triple ? q.repeat(3) : q;
    this.i += delim.length;
    let out = '';
    for (;;) {
      if (this.i >= s.length) this.fail('unterminated string literal');
      if (s.startsWith(delim, this.i)) {
        this.i += delim.length;
        break;
      }
      const c = s[this.i]!;
      if ((c === '\n' || c === '\r') && !triple) this.fail('unterminated string literal');
      if (isBytes && c.charCodeAt(0) > 0x7f) this.fail('bytes can only contain ASCII literal characters');
      if (c !== '\\') {
        // newlines in triple-quoted strings are normalised to \n, as the tokenizer does
        if (c === '\r') {
          out += '\n';
          this.i += s[this.i + 1] === '\n' ? 2 : 1;
        } else {
          out += c;
          this.i++;
        }
        continue;
      }
      const d = s[this.i + 1];
      if (d === undefined) this.fail('unterminated string literal');
      if (raw) {
        // a backslash keeps the next character (even a quote) and itself
        if (d === '\r' || d === '\n') {
          const n = d === '\r' && s[this.i + 2] === '\n' ? 3 : 2;
          out += '\\\n';
          this.i += n;
        } else {
          out += `\\${d}`;
          this.i += 2;
        }
        continue;
      }
      this.i += 2;
      if (d === '\n') continue;
      if (d === '\r') {
        if (s[this.i] === '\n') this.i++;
        continue;
      }
      const simple = SIMPLE_ESCAPES[d];
      if (simple !== undefined) {
        out += simple;
        continue;
      }
      if (/[0-7]/.test(d)) {
        const oct = /^[0-7]{1,3}/.exec(s.slice(this.i - 1, this.i + 2))![0];
        this.i += oct.length - 1;
        const v = Number.parseInt(oct, 8);
        if (isBytes && v > 0xff) this.fail('invalid octal escape in bytes');
        out += String.fromCharCode(v);
        continue;
      }
      const hexLen = d === 'x' ? 2 : !isBytes && d === 'u' ? 4 : !isBytes && d === 'U' ? 8 : 0;
      if (hexLen > 0) {
        const h = s.slice(this.i, this.i + hexLen);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(h)) this.fail(`truncated \\${d} escape`);
        const v = Number.parseInt(h, 16);
        if (v > 0x10ffff) this.fail('illegal Unicode character');
        out += String.fromCodePoint(v);
        this.i += hexLen;
        continue;
      }
      if (!isBytes && d === 'N') this.fail('\\N{...} escapes are not supported');
      out += `\\${d}`; // unknown escape: kept as written (a DeprecationWarning in CPython)
    }
    if (!isBytes) return out;
    return [...out].map((ch) => ch.charCodeAt(0));
  }
}

function intValue(b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b;
}

/** Python's equality for hashable literal keys, as a string; undefined for unhashable values. */
function hashKey(v: PyValue): string | undefined {
  if (v === null) return 'N';
  if (typeof v === 'boolean') return `n${v ? 1 : 0}`;
  if (typeof v === 'number' || typeof v === 'bigint') return `n${String(v)}`;
  if (typeof v === 'string') return `s${v}`;
  if (Array.isArray(v) || v instanceof Map) return undefined;
  if ('float' in v) return Number.isInteger(v.float) ? `n${BigInt(v.float)}` : `f${v.float}`;
  if ('complex' in v)
    return v.complex[1] === 0 ? hashKey({ float: v.complex[0] }) : `c${v.complex.join(',')}`;
  if ('bytes' in v) return `b${[...v.bytes].join(',')}`;
  if ('ellipsis' in v) return 'E';
  if ('tuple' in v) {
    const parts = v.tuple.map(hashKey);
    return parts.some((p) => p === undefined) ? undefined : `t(${parts.join('|')})`;
  }
  return undefined; // set
}

function num(n: Node): PyValue {
  if (n.k !== 'const' || n.num === undefined) throw new LiteralError('malformed node: not a number');
  return n.v;
}

function signedNum(n: Node): PyValue {
  if (n.k === 'unary') {
    const v = num(n.operand);
    return n.op === '+' ? v : negate(v);
  }
  return num(n);
}

function negate(v: PyValue): PyValue {
  if (typeof v === 'number') return v === 0 ? 0 : -v;
  if (typeof v === 'bigint') return intValue(-v);
  if (typeof v === 'object' && v !== null && 'float' in v) return { float: -v.float };
  if (typeof v === 'object' && v !== null && 'complex' in v)
    return { complex: [-v.complex[0], -v.complex[1]] };
  throw new LiteralError('malformed node: not a number');
}

function toFloat(v: PyValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null && 'float' in v) return v.float;
  throw new LiteralError('malformed node: not a real number');
}

/** literal_eval's _convert. */
function convert(n: Node): PyValue {
  switch (n.k) {
    case 'const':
      return n.v;
    case 'tuple':
      return { tuple: n.items.map(convert) };
    case 'list':
      return n.items.map(convert);
    case 'set':
    case 'setcall': {
      const items = n.k === 'set' ? n.items.map(convert) : [];
      if (items.some((x) => hashKey(x) === undefined)) throw new LiteralError('unhashable set element');
      return { set: items };
    }
    case 'dict': {
      const out: PyDict = new Map();
      const byHash = new Map<string, PyValue>();
      for (let k = 0; k < n.keys.length; k++) {
        const key = convert(n.keys[k]!);
        const value = convert(n.values[k]!);
        const h = hashKey(key);
        if (h === undefined) throw new LiteralError('unhashable dict key');
        const existing = byHash.get(h);
        if (existing !== undefined || byHash.has(h)) out.set(existing as PyValue, value);
        else {
          byHash.set(h, key);
          out.set(key, value);
        }
      }
      return out;
    }
    case 'binary': {
      const left = signedNum(n.left);
      const right = num(n.right);
      if (typeof right === 'object' && right !== null && 'complex' in right) {
        const isComplexLeft = typeof left === 'object' && left !== null && 'complex' in left;
        if (!isComplexLeft) {
          const l = toFloat(left);
          const sign = n.op === '+' ? 1 : -1;
          return { complex: [l + sign * right.complex[0], sign * right.complex[1]] };
        }
      }
      throw new LiteralError('malformed node: only real +/- imaginary is a literal');
    }
    case 'unary':
      return signedNum(n);
  }
}

/** Parses `text` exactly as `ast.literal_eval(text)` would, without evaluating anything. */
export function parsePythonLiteral(text: string, options: LiteralOptions = {}): PyValue {
  if (text.includes('\0')) throw new LiteralError('source code string cannot contain null bytes');
  const p = new Parser(text.replace(/^[ \t]+/, ''), {
    maxDepth: options.maxDepth ?? 64,
    longSuffix: options.longSuffix ?? false,
  });
  // eval mode: blank and comment-only lines may come first; an indented first expression is an error
  for (;;) {
    const line = /^[ \t\f]*(#[^\r\n]*)?(\r\n|\r|\n)/.exec(p.s.slice(p.i));
    if (!line) break;
    p.i += line[0].length;
  }
  if (p.i > 0 && /^[ \t]/.test(p.s.slice(p.i))) p.fail('unexpected indent');
  let node = p.expr();
  // `1, 2` at the top level is a tuple too (eval mode's `expressions`)
  if (p.peek() === ',') {
    const items = [node];
    for (;;) {
      if (p.peek() !== ',') break;
      p.i++;
      const c = p.peek();
      if (c === undefined || c === '\n' || c === '\r') break;
      items.push(p.expr());
    }
    node = { k: 'tuple', items };
  }
  // then only whitespace, comments and newlines
  for (;;) {
    p.ws();
    const c = p.s[p.i];
    if (c === undefined) break;
    if (c === '\n' || c === '\r') {
      p.i++;
      continue;
    }
    p.fail('unexpected text after the literal');
  }
  return convert(node);
}
