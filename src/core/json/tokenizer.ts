/**
 * A strict, bounded JSON parser (RFC 8259, the subset serde_json and Python's json both accept) that reports
 * what `JSON.parse` hides: duplicate keys (readers disagree on which one wins), integers beyond 2^53 (JS
 * loses precision where Rust and Python do not), lone surrogate escapes (serde_json rejects them, Python
 * accepts them) and leading/trailing whitespace. Depth, input size and the number of values are bounded
 * before anything is built, so a hostile document cannot exhaust the stack or the heap.
 *
 * Objects are returned as `JsonObject` (a Map in source order; for a duplicate key the last value wins, as
 * in Python and serde's maps), so keys such as `__proto__` are plain data.
 */

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export interface JsonIssue {
  kind: 'duplicateKey' | 'unsafeInteger' | 'loneSurrogate';
  /** JSON-pointer-like path of the value, e.g. `/weight/shape/0`. */
  path: string;
  /** Character offset in the decoded text. */
  offset: number;
  detail: string;
}

export interface JsonOptions {
  /** Maximum nesting depth of arrays and objects (default 512). */
  maxDepth?: number;
  /** Maximum number of values (scalars, arrays, objects) in the document (default 10 million). */
  maxValues?: number;
  /** Maximum length of the text in characters (default 128 MiB). */
  maxChars?: number;
  /** Called every few thousand values (e.g. a time budget check that throws). */
  onProgress?: () => void;
  /**
   * Also accept what Python's `json.loads` accepts beyond RFC 8259: `NaN`, `Infinity` and `-Infinity`
   * (for documents that Python code reads, such as Keras configs). Off for formats read by strict parsers.
   */
  python?: boolean;
}

export interface JsonResult {
  value: JsonValue;
  issues: JsonIssue[];
  /** Whitespace characters before the first token. */
  leadingWhitespace: string;
  /** Whitespace characters after the last token. */
  trailingWhitespace: string;
}

/** A syntax error, with the character offset where it was found. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at character ${offset}`);
    this.name = 'JsonSyntaxError';
  }
}

/** A bound of JsonOptions was hit. */
export class JsonLimitError extends Error {
  constructor(
    readonly limit: 'maxDepth' | 'maxValues' | 'maxChars',
    readonly detail: string,
  ) {
    super(`JSON ${limit} exceeded: ${detail}`);
    this.name = 'JsonLimitError';
  }
}

const MAX_ISSUES = 1000;

/** Shared by every call: constructing a decoder cost more than decoding a small document. */
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly (no BOM stripping, no replacement characters); throws JsonSyntaxError. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return UTF8_STRICT.decode(bytes);
  } catch {
    throw new JsonSyntaxError('invalid UTF-8', 0);
  }
}

export function parseJson(text: string, opts: JsonOptions = {}): JsonResult {
  return new Parser(text, opts).run();
}

class Parser {
  private pos = 0;
  private values = 0;
  private readonly issues: JsonIssue[] = [];
  private readonly maxDepth: number;
  private readonly maxValues: number;

  constructor(
    private readonly s: string,
    private readonly opts: JsonOptions,
  ) {
    this.maxDepth = opts.maxDepth ?? 512;
    this.maxValues = opts.maxValues ?? 10_000_000;
    const maxChars = opts.maxChars ?? 128 * 2 ** 20;
    if (s.length > maxChars) throw new JsonLimitError('maxChars', `${s.length} > ${maxChars}`);
  }

  run(): JsonResult {
    const lead = this.ws();
    const leadingWhitespace = this.s.slice(0, lead);
    if (this.pos >= this.s.length) throw new JsonSyntaxError('empty document', this.pos);
    const value = this.value('', 0);
    const tStart = this.pos;
    this.ws();
    const trailingWhitespace = this.s.slice(tStart, this.pos);
    if (this.pos < this.s.length) throw new JsonSyntaxError('unexpected data after the document', this.pos);
    return { value, issues: this.issues, leadingWhitespace, trailingWhitespace };
  }

  private issue(i: JsonIssue): void {
    if (this.issues.length < MAX_ISSUES) this.issues.push(i);
  }

  /** Skips JSON whitespace; returns the new position. */
  private ws(): number {
    const s = this.s;
    let p = this.pos;
    while (p < s.length) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
    return p;
  }

  private count(): void {
    this.values++;
    if (this.values > this.maxValues)
      throw new JsonLimitError('maxValues', `more than ${this.maxValues} values`);
    if ((this.values & 0xfff) === 0) this.opts.onProgress?.();
  }

  private value(path: string, depth: number): JsonValue {
    this.count();
    const c = this.s[this.pos];
    switch (c) {
      case '{':
        return this.object(path, depth + 1);
      case '[':
        return this.array(path, depth + 1);
      case '"':
        return this.string(path);
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      case 'N':
        if (this.opts.python) return this.literal('NaN', Number.NaN);
        break;
      case 'I':
        if (this.opts.python) return this.literal('Infinity', Number.POSITIVE_INFINITY);
        break;
      default:
        if (this.opts.python && this.s.startsWith('-Infinity', this.pos))
          return this.literal('-Infinity', Number.NEGATIVE_INFINITY);
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number(path);
    }
    throw new JsonSyntaxError(
      c === undefined ? 'unexpected end' : `unexpected character ${JSON.stringify(c)}`,
      this.pos,
    );
  }

  private literal<T>(word: string, v: T): T {
    if (this.s.startsWith(word, this.pos)) {
      this.pos += word.length;
      return v;
    }
    throw new JsonSyntaxError('invalid literal', this.pos);
  }

  private object(path: string, depth: number): JsonObject {
    if (depth > this.maxDepth) throw new JsonLimitError('maxDepth', `nesting deeper than ${this.maxDepth}`);
    this.pos++; // {
    const out: JsonObject = new Map();
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') throw new JsonSyntaxError('expected a string key', this.pos);
      const keyOffset = this.pos;
      const key = this.string(path);
      this.ws();
      if (this.s[this.pos] !== ':') throw new JsonSyntaxError("expected ':'", this.pos);
      this.pos++;
      this.ws();
      const childPath = `${path}/${escapePointer(key)}`;
      const v = this.value(childPath, depth);
      if (out.has(key)) {
        this.issue({
          kind: 'duplicateKey',
          path: childPath,
          offset: keyOffset,
          detail: `key ${JSON.stringify(key.slice(0, 200))} appears more than once`,
        });
        out.delete(key); // the last one wins, at its own position
      }
      out.set(key, v);
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === '}') {
        this.pos++;
        return out;
      }
      throw new JsonSyntaxError("expected ',' or '}'", this.pos);
    }
  }

  private array(path: string, depth: number): JsonValue[] {
    if (depth > this.maxDepth) throw new JsonLimitError('maxDepth', `nesting deeper than ${this.maxDepth}`);
    this.pos++; // [
    const out: JsonValue[] = [];
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value(`${path}/${out.length}`, depth));
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        continue;
      }
      if (c === ']') {
        this.pos++;
        return out;
      }
      throw new JsonSyntaxError("expected ',' or ']'", this.pos);
    }
  }

  private string(path: string): string {
    const s = this.s;
    const start = this.pos;
    let p = this.pos + 1;
    let out = '';
    let chunkStart = p;
    for (;;) {
      if (p >= s.length) throw new JsonSyntaxError('unterminated string', start);
      const c = s.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) throw new JsonSyntaxError('control character in string', p);
      if (c !== 0x5c) {
        p++;
        continue;
      }
      out += s.slice(chunkStart, p);
      const e = s[p + 1];
      p += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
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
          const code = this.hex4(p);
          p += 4;
          if (code >= 0xd800 && code <= 0xdbff) {
            // A high surrogate must be followed by an escaped low surrogate.
            if (s[p] === '\\' && s[p + 1] === 'u') {
              const low = this.hex4(p + 2);
              if (low >= 0xdc00 && low <= 0xdfff) {
                out += String.fromCharCode(code, low);
                p += 6;
                break;
              }
            }
            this.loneSurrogate(path, p - 6);
            out += String.fromCharCode(code);
          } else if (code >= 0xdc00 && code <= 0xdfff) {
            this.loneSurrogate(path, p - 6);
            out += String.fromCharCode(code);
          } else out += String.fromCharCode(code);
          break;
        }
        default:
          throw new JsonSyntaxError('invalid escape', p - 2);
      }
      chunkStart = p;
    }
    out += s.slice(chunkStart, p);
    this.pos = p + 1;
    return out;
  }

  private loneSurrogate(path: string, offset: number): void {
    this.issue({
      kind: 'loneSurrogate',
      path,
      offset,
      detail: 'a \\u escape encodes a lone UTF-16 surrogate (serde_json rejects it; Python accepts it)',
    });
  }

  private hex4(p: number): number {
    const h = this.s.slice(p, p + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new JsonSyntaxError('invalid \\u escape', p);
    return Number.parseInt(h, 16);
  }

  private number(path: string): number | bigint {
    const s = this.s;
    const start = this.pos;
    let p = start;
    if (s[p] === '-') p++;
    if (s[p] === '0') p++;
    else if (s[p] !== undefined && s[p]! >= '1' && s[p]! <= '9') {
      while (s[p] !== undefined && s[p]! >= '0' && s[p]! <= '9') p++;
    } else throw new JsonSyntaxError('invalid number', p);
    let integer = true;
    if (s[p] === '.') {
      integer = false;
      p++;
      const d = p;
      while (s[p] !== undefined && s[p]! >= '0' && s[p]! <= '9') p++;
      if (p === d) throw new JsonSyntaxError('invalid number', p);
    }
    if (s[p] === 'e' || s[p] === 'E') {
      integer = false;
      p++;
      if (s[p] === '+' || s[p] === '-') p++;
      const d = p;
      while (s[p] !== undefined && s[p]! >= '0' && s[p]! <= '9') p++;
      if (p === d) throw new JsonSyntaxError('invalid number', p);
    }
    this.pos = p;
    const raw = s.slice(start, p);
    if (integer) {
      const n = Number(raw);
      if (Number.isSafeInteger(n)) return n;
      this.issue({
        kind: 'unsafeInteger',
        path,
        offset: start,
        detail: `integer ${raw.length > 60 ? `${raw.slice(0, 60)}…` : raw} is beyond 2^53 (JavaScript readers lose precision)`,
      });
      return BigInt(raw);
    }
    return Number(raw);
  }
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof Map;
}

/** A short, printable rendering of a JSON value for messages (no control characters). */
export function describeJson(v: JsonValue | undefined, max = 80): string {
  const text =
    v === undefined
      ? 'missing'
      : typeof v === 'bigint'
        ? v.toString()
        : v instanceof Map
          ? 'an object'
          : Array.isArray(v)
            ? `an array of ${v.length}`
            : JSON.stringify(v);
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
