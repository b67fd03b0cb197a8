import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AnalysisContext } from '../../context.js';
import { decodeUtf8Strict, isJsonObject, type JsonObject, parseJson } from '../../json/tokenizer.js';
import type { Folded } from '../template/fold.js';

/**
 * The variables transformers passes to a chat template from the tokenizer's own files: apply_chat_template
 * renders with `**special_tokens_map` (bos_token, eos_token, unk_token, sep_token, pad_token, cls_token,
 * mask_token, additional_special_tokens) plus extra_special_tokens. Their text is chosen by whoever wrote the
 * files, so the template analysis folds names built from them like literals. Every top-level string (or
 * AddedToken `{content}`) is taken: a key transformers does not pass only makes the analysis see a constant
 * where the renderer would see an undefined value, never miss one.
 */

const MAX_VARS = 256;
const MAX_VALUE = 4096;
const NEIGHBOURS = ['tokenizer_config.json', 'special_tokens_map.json'];
const MAX_NEIGHBOUR_BYTES = 4 << 20;

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length <= MAX_VALUE ? v : undefined;
  if (isJsonObject(v as JsonObject)) {
    const c = (v as JsonObject).get('content');
    return typeof c === 'string' && c.length <= MAX_VALUE ? c : undefined;
  }
  return undefined;
}

/** Template variables from one tokenizer_config.json / special_tokens_map.json object. */
export function templateVars(root: JsonObject, into = new Map<string, Folded>()): Map<string, Folded> {
  for (const [k, v] of root) {
    if (into.size >= MAX_VARS) break;
    if (k === 'chat_template' || k === 'added_tokens_decoder') continue;
    const t = tokenText(v);
    if (t !== undefined) into.set(k, t);
    else if (Array.isArray(v)) {
      const items = v.slice(0, 1024).map(tokenText);
      if (items.every((x) => x !== undefined)) into.set(k, items as string[]);
    } else if (k === 'extra_special_tokens' && isJsonObject(v)) {
      for (const [name, tok] of v) {
        const s = tokenText(tok);
        if (s !== undefined && into.size < MAX_VARS) into.set(name, s);
      }
    }
  }
  return into;
}

/**
 * Variables from the tokenizer files next to a template file (chat_template.json, chat_template.jinja), which
 * transformers loads together with it. The scanned file itself is skipped (its own keys are added by the
 * caller). Unreadable or malformed neighbours contribute nothing: they are scanned on their own.
 */
export async function neighbourTemplateVars(ctx: AnalysisContext): Promise<Map<string, Folded>> {
  const vars = new Map<string, Folded>();
  if (!ctx.disk || !ctx.isTopLevel) return vars;
  const dir = dirname(ctx.disk.absPath);
  for (const name of NEIGHBOURS) {
    if (name === basename(ctx.disk.absPath)) continue;
    const path = join(dir, name);
    // Usually absent: a synchronous stat that does not throw for a missing file costs microseconds, where a
    // rejected fs/promises stat builds an error with its stack on the way back from the thread pool.
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      continue; // unreadable directory, a component that is not a directory...
    }
    if (!st?.isFile() || st.size > MAX_NEIGHBOUR_BYTES) continue;
    try {
      const r = parseJson(decodeUtf8Strict(await readFile(path)));
      if (isJsonObject(r.value)) templateVars(r.value, vars);
    } catch {
      // scanned (and reported) as a file of its own
    }
  }
  return vars;
}
