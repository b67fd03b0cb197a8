import type { AnalysisContext } from '../../context.js';
import { parseJsonWithin } from '../../json/budgeted.js';
import { decodeUtf8Strict, type JsonResult, JsonSyntaxError } from '../../json/tokenizer.js';
import { ByteReader } from '../../reader.js';

const latin1 = new TextDecoder('latin1');

/** First non-whitespace byte is "{" (no BOM: Python's json and serde_json both reject one). */
export function looksLikeJsonObject(head: Uint8Array): boolean {
  let p = 0;
  while (p < head.length && (head[p] === 0x20 || head[p] === 0x0a || head[p] === 0x0d || head[p] === 0x09))
    p++;
  return head[p] === 0x7b;
}

/** Whether the probe looks like a JSON object that has `"key":` somewhere in its first 64 KiB. */
export function jsonHeadHasKey(head: Uint8Array, ...keys: string[]): boolean {
  if (!looksLikeJsonObject(head)) return false;
  const text = latin1.decode(head);
  return keys.some((k) => new RegExp(`"${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:`).test(text));
}

/** The top-level keys of the JSON object in the probe (a cheap scan; strings and depth tracked). */
export function topLevelKeys(head: Uint8Array, max = 200): string[] {
  const keys: string[] = [];
  if (!looksLikeJsonObject(head)) return keys;
  const s = latin1.decode(head);
  let depth = 0;
  let i = 0;
  while (i < s.length && keys.length < max) {
    const c = s[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (k < s.length && /\s/.test(s[k]!)) k++;
        if (s[k] === ':') keys.push(s.slice(i + 1, j));
      }
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    i++;
  }
  return keys;
}

/** Reads the whole source (bounded by maxDocumentBytes) and parses it as JSON; undefined after a finding. */
export async function readJsonDocument(ctx: AnalysisContext, what: string): Promise<JsonResult | undefined> {
  const bytes = await readWhole(ctx, what);
  let text: string;
  try {
    text = decodeUtf8Strict(bytes);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    ctx.malformed(`${what} is not valid JSON: ${err.message}.`);
    return undefined;
  }
  return parseJsonWithin(ctx, text, what, {
    maxDepth: 512,
    maxValues: Math.max(1_000_000, ctx.limits.maxEntries * 16),
  });
}

/** The whole source as bytes, at most maxDocumentBytes (else MG001). */
export async function readWhole(ctx: AnalysisContext, what: string): Promise<Uint8Array> {
  const size = ctx.source.size;
  if (size !== undefined) ctx.budget.check('maxDocumentBytes', size, what);
  const reader = new ByteReader(ctx.source);
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    if (!(await reader.ensure(1))) break;
    const n = reader.available;
    total += n;
    ctx.budget.check('maxDocumentBytes', total, what);
    parts.push(reader.take(n).slice());
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
