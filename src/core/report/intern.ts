/**
 * Shared copies of the fact values that many file reports repeat. A scan keeps every file's report until the
 * end (the report lists every file), and most of a small file's report is its facts: `weightsOnly`
 * verdicts, dtype tables, class lists, zip flavours, nearly always one of a few values, each held by its own
 * objects and strings (about 0.9 KB per file before this, three quarters of the report). Values equal as
 * JSON (the form every report is written in) share one deep-frozen object, so the memory a report holds per
 * file is its path, digest, verdict and its few distinct facts.
 *
 * The table is bounded (MAX_ENTRIES values of up to MAX_JSON characters); when full it starts again, which only
 * stops sharing, never changes a value. Values JSON cannot write exactly (BigInt, cycles) are kept as they are.
 */
const MAX_ENTRIES = 20_000;
const MAX_JSON = 4096;

let table = new Map<string, unknown>();

/** The facts with each value replaced by the shared copy of an equal value (a new object; input untouched). */
export function internFacts(facts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(facts)) out[key] = internValue(facts[key]);
  return out;
}

function internValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    return v;
  }
  if (json === undefined || json.length > MAX_JSON) return v;
  const shared = table.get(json);
  if (shared !== undefined) return shared;
  if (table.size >= MAX_ENTRIES) table = new Map();
  // A copy made from the JSON: exactly what the report will say, with no link to analyzer state.
  const copy = deepFreeze(JSON.parse(json) as object);
  table.set(json, copy);
  return copy;
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v !== null && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
