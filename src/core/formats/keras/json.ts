import { JsonLimitError, JsonSyntaxError, type JsonValue, parseJson } from '../../json/tokenizer.js';

/**
 * Keras configs are read by Python's `json.loads`: the shared tokenizer in its Python mode (NaN, Infinity,
 * -Infinity; the last of duplicated keys wins), turned into plain objects with a null prototype (keys such
 * as `__proto__` stay data) because the config analysis walks them as records. Duplicate keys are a parser
 * differential (a scanner keeping the first value sees another config than the loader) and are returned.
 */
export interface ParsedJson {
  value: unknown;
  /** Paths of keys that occur twice in one object (first 20), JSON-pointer style (`/config/name`). */
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
  let parsed: ReturnType<typeof parseJson>;
  try {
    parsed = parseJson(src, { python: true, maxDepth });
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new JsonError(err.message, err.offset);
    if (err instanceof JsonLimitError) throw new JsonError(err.message, 0);
    throw err;
  }
  const duplicates = parsed.issues
    .filter((i) => i.kind === 'duplicateKey')
    .slice(0, 20)
    .map((i) => i.path);
  return { value: toPlain(parsed.value), duplicates };
}

function toPlain(v: JsonValue): unknown {
  if (v instanceof Map) {
    const obj: Record<string, unknown> = Object.create(null);
    for (const [k, x] of v) obj[k] = toPlain(x);
    return obj;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  // Python ints have no size limit; the config analysis compares numbers, not exact large values.
  if (typeof v === 'bigint') return Number(v);
  return v;
}
