import type protobuf from 'protobufjs';
import { protobufjs } from '../../lazy.js';
import type { PMessage } from '../../protobuf/decode.js';

/**
 * A bounded parser of the protobuf text format (what `saved_model.pbtxt` holds; TensorFlow loads it when
 * saved_model.pb is absent, so it is an evasion route around binary-only scanners). It produces the same
 * message shape as the binary decoder, driven by the same schema: repeated fields become arrays, `bytes`
 * fields Uint8Array, enum names (DT_STRING) their numbers. Unknown fields are counted in `$unknown`.
 */

export class TextFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TextFormatError';
  }
}

/** TensorFlow DataType names the analysis needs as numbers. */
const DTYPES: Record<string, number> = {
  DT_FLOAT: 1,
  DT_DOUBLE: 2,
  DT_INT32: 3,
  DT_STRING: 7,
  DT_INT64: 9,
  DT_BOOL: 10,
};

type Tok = { t: 'id' | 'str' | 'num' | 'p'; v: string; b?: Uint8Array; at: number };

function tokenize(src: string, maxTokens: number): Tok[] {
  const out: Tok[] = [];
  let p = 0;
  while (p < src.length) {
    const c = src[p]!;
    if (c === '#') {
      const nl = src.indexOf('\n', p);
      p = nl < 0 ? src.length : nl + 1;
      continue;
    }
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === ',' || c === ';') {
      p++;
      continue;
    }
    if (out.length >= maxTokens) throw new TextFormatError('too many tokens', p);
    if ('{}<>:[]'.includes(c)) {
      out.push({ t: 'p', v: c, at: p });
      p++;
      continue;
    }
    if (c === '"' || c === "'") {
      const at = p;
      const bytes: number[] = [];
      p++;
      for (;;) {
        if (p >= src.length) throw new TextFormatError('unterminated string', at);
        const ch = src[p]!;
        if (ch === c) {
          p++;
          break;
        }
        if (ch === '\n') throw new TextFormatError('newline in string', p);
        if (ch === '\\') {
          const e = src[p + 1] ?? '';
          p += 2;
          const simple: Record<string, number> = {
            n: 10,
            r: 13,
            t: 9,
            '"': 34,
            "'": 39,
            '\\': 92,
            a: 7,
            b: 8,
            f: 12,
            v: 11,
            '?': 63,
          };
          if (e in simple) bytes.push(simple[e]!);
          else if (/[0-7]/.test(e)) {
            let v = Number.parseInt(e, 8);
            for (let k = 0; k < 2 && /[0-7]/.test(src[p] ?? ''); k++)
              v = v * 8 + Number.parseInt(src[p++]!, 8);
            bytes.push(v & 0xff);
          } else if (e === 'x') {
            const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(p, p + 2));
            if (!m) throw new TextFormatError('bad \\x escape', p);
            bytes.push(Number.parseInt(m[0], 16));
            p += m[0].length;
          } else throw new TextFormatError(`bad escape \\${e}`, p);
          continue;
        }
        const code = src.codePointAt(p)!;
        const enc = Buffer.from(String.fromCodePoint(code), 'utf8');
        for (const b of enc) bytes.push(b);
        p += code > 0xffff ? 2 : 1;
      }
      const b = new Uint8Array(bytes);
      // Adjacent string literals concatenate.
      const prev = out[out.length - 1];
      if (prev?.t === 'str' && prev.b) {
        const merged = new Uint8Array(prev.b.length + b.length);
        merged.set(prev.b);
        merged.set(b, prev.b.length);
        prev.b = merged;
      } else out.push({ t: 'str', v: '', b, at });
      continue;
    }
    const m = /^[A-Za-z_][\w.]*|^[-+]?[\w.+-]+/.exec(src.slice(p, p + 256));
    if (!m) throw new TextFormatError(`unexpected character ${JSON.stringify(c)}`, p);
    out.push({ t: /^[A-Za-z_]/.test(m[0]) ? 'id' : 'num', v: m[0], at: p });
    p += m[0].length;
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Parses `src` as a text-format message of `type`. */
export function parseTextFormat(
  src: string,
  type: protobuf.Type,
  opts: { maxDepth?: number; maxTokens?: number } = {},
): PMessage {
  // `type` came from loadSchema, which loaded protobufjs.
  const pb = protobufjs.loaded();
  const toks = tokenize(src, opts.maxTokens ?? 20_000_000);
  const maxDepth = opts.maxDepth ?? 200;
  let i = 0;
  const parseMessage = (
    t: protobuf.Type | undefined,
    close: string | undefined,
    depth: number,
    at: number,
  ): PMessage => {
    if (depth > maxDepth) throw new TextFormatError('nesting too deep', at);
    const out: PMessage = { $offset: at, $end: at };
    for (;;) {
      const tok = toks[i];
      if (!tok) {
        if (close) throw new TextFormatError('unterminated message', at);
        return out;
      }
      if (tok.t === 'p' && tok.v === close) {
        i++;
        out.$end = tok.at;
        return out;
      }
      if (tok.t !== 'id')
        throw new TextFormatError(`expected a field name, got ${JSON.stringify(tok.v)}`, tok.at);
      i++;
      const field = t?.fields[tok.v];
      if (toks[i]?.t === 'p' && toks[i]!.v === ':') i++;
      const values: unknown[] = [];
      const one = (): unknown => {
        const v = toks[i];
        if (!v) throw new TextFormatError('missing value', tok.at);
        if (v.t === 'p' && (v.v === '{' || v.v === '<')) {
          i++;
          const sub = field?.resolvedType instanceof pb.Type ? field.resolvedType : undefined;
          return parseMessage(sub, v.v === '{' ? '}' : '>', depth + 1, v.at);
        }
        i++;
        if (v.t === 'str') return field?.type === 'bytes' ? v.b : utf8.decode(v.b);
        if (v.t === 'id' && DTYPES[v.v] !== undefined) return DTYPES[v.v];
        if (v.t === 'id' && (v.v === 'true' || v.v === 'false')) return v.v === 'true';
        const n = Number(v.v);
        return Number.isNaN(n) ? v.v : n;
      };
      if (toks[i]?.t === 'p' && toks[i]!.v === '[') {
        i++;
        while (!(toks[i]?.t === 'p' && toks[i]!.v === ']')) {
          if (!toks[i]) throw new TextFormatError('unterminated list', tok.at);
          values.push(one());
        }
        i++;
      } else values.push(one());
      if (!field) {
        out.$unknown = (out.$unknown ?? 0) + 1;
        continue;
      }
      if (field.repeated) {
        const arr = (out[field.name] as unknown[] | undefined) ?? [];
        arr.push(...values);
        out[field.name] = arr;
      } else {
        const prev = out[field.name];
        for (const v of values) {
          if (isMsg(prev) && isMsg(v)) mergeInto(prev, v);
          else out[field.name] = v;
        }
      }
    }
  };
  return parseMessage(type, undefined, 0, 0);
}

function isMsg(v: unknown): v is PMessage {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && '$offset' in v
  );
}

/** Merges a repeated occurrence of a singular message (repeated fields append, others are replaced). */
function mergeInto(a: PMessage, b: PMessage): void {
  for (const [k, v] of Object.entries(b)) {
    if (k.startsWith('$')) continue;
    const prev = a[k];
    if (Array.isArray(prev) && Array.isArray(v)) prev.push(...v);
    else if (isMsg(prev) && isMsg(v)) mergeInto(prev, v);
    else a[k] = v;
  }
}
