/**
 * A JSON parser that accepts what Python's `json.loads` accepts (NaN, Infinity, -Infinity; the last of
 * duplicated keys wins) and reports what the loader silently resolves: duplicate keys (a parser
 * differential: a scanner keeping the first value sees another config than the loader). Objects have a
 * null prototype so that keys such as `__proto__` are plain data. Depth and size are bounded.
 */

export interface ParsedJson {
  value: unknown;
  /** Paths of keys that occur twice in one object (first 20). */
  duplicates: string[];
}

export class JsonError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonError';
  }
}

export function parsePythonJson(src: string, maxDepth = 1000): ParsedJson {
  let p = 0;
  const duplicates: string[] = [];
  const ws = () => {
    for (;;) {
      const c = src.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else return;
    }
  };
  const fail = (msg: string): never => {
    throw new JsonError(`${msg} at offset ${p}`, p);
  };
  const str = (): string => {
    // p at opening quote
    p++;
    let out = '';
    let start = p;
    for (;;) {
      if (p >= src.length) fail('unterminated string');
      const c = src.charCodeAt(p);
      if (c === 0x22) {
        out += src.slice(start, p);
        p++;
        return out;
      }
      if (c === 0x5c) {
        out += src.slice(start, p);
        const e = src[p + 1];
        p += 2;
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const h = src.slice(p, p + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
            out += String.fromCharCode(Number.parseInt(h, 16));
            p += 4;
            break;
          }
          default:
            fail('bad escape');
        }
        start = p;
        continue;
      }
      if (c < 0x20) fail('control character in string');
      p++;
    }
  };
  const value = (depth: number, path: string): unknown => {
    if (depth > maxDepth) fail('nesting too deep');
    ws();
    const c = src[p];
    if (c === '{') {
      p++;
      const obj: Record<string, unknown> = Object.create(null);
      ws();
      if (src[p] === '}') {
        p++;
        return obj;
      }
      for (;;) {
        ws();
        if (src[p] !== '"') fail('expected a key');
        const k = str();
        ws();
        if (src[p] !== ':') fail('expected ":"');
        p++;
        const v = value(depth + 1, `${path}.${k}`);
        if (Object.hasOwn(obj, k) && duplicates.length < 20) duplicates.push(`${path}.${k}`);
        obj[k] = v;
        ws();
        if (src[p] === ',') {
          p++;
          continue;
        }
        if (src[p] === '}') {
          p++;
          return obj;
        }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      p++;
      const arr: unknown[] = [];
      ws();
      if (src[p] === ']') {
        p++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1, `${path}[${arr.length}]`));
        ws();
        if (src[p] === ',') {
          p++;
          continue;
        }
        if (src[p] === ']') {
          p++;
          return arr;
        }
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
    ] as const) {
      if (src.startsWith(lit, p)) {
        p += lit.length;
        return v;
      }
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(p, p + 400));
    if (!m) fail('unexpected character');
    p += m![0].length;
    return Number(m![0]);
  };
  const v = value(0, '$');
  ws();
  if (p !== src.length) fail('trailing data after the JSON value');
  return { value: v, duplicates };
}
