// Bounded YAML reading for package manifests (NeMo model_config.yaml, MLflow MLmodel). The document is
// walked as a syntax tree, not converted to plain objects, so that every duplicate key and every anchor's
// source is seen (PyYAML keeps the last duplicate, OmegaConf refuses them: a checker must look at all).
import { isAlias, isMap, isPair, isScalar, isSeq, type Node, parseDocument } from 'yaml';
import type { AnalysisContext } from '../../context.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const UTF8 = new TextDecoder('utf-8');

export interface YamlEntry {
  /** Keys from the root, e.g. ["encoder", "_target_"]. */
  path: string[];
  key: string;
  /** The scalar value as written (undefined for collections and aliases). */
  value: string | undefined;
  /** Plain (string -> scalar) siblings of this entry's mapping, for `params`-style lookups. */
  siblings: ReadonlySet<string>;
}

/** Reads the whole source as text, bounded by maxDocumentBytes; undefined (MG001 reported) when larger. */
export async function readDocumentText(ctx: AnalysisContext, what: string): Promise<string | undefined> {
  const max = ctx.limits.maxDocumentBytes;
  if ((ctx.source.size ?? 0) > max) {
    ctx.report('MG001', `${what} is larger than maxDocumentBytes (${max}); it was not analysed.`);
    return undefined;
  }
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of ctx.source.stream()) {
    n += c.length;
    if (n > max) {
      ctx.report('MG001', `${what} exceeds maxDocumentBytes (${max}); it was not analysed.`);
      return undefined;
    }
    parts.push(c);
  }
  return UTF8.decode(Buffer.concat(parts));
}

export interface ParsedYaml {
  entries: YamlEntry[];
  /** `!!python/...` (or other python tags) found, with where. */
  pythonTags: Array<{ tag: string; path: string[] }>;
  /** The document as plain data (last duplicate wins, as PyYAML's safe_load). */
  data: unknown;
}

/** Parses YAML text; on a syntax error reports MG002 (malformed) and returns undefined. */
export function parseYaml(ctx: AnalysisContext, text: string, what: string): ParsedYaml | undefined {
  const doc = parseDocument(text, { uniqueKeys: false, strict: false });
  if (doc.errors.length > 0) {
    ctx.malformed(`${what} is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    return undefined;
  }
  const entries: YamlEntry[] = [];
  const pythonTags: ParsedYaml['pythonTags'] = [];
  const budget = { nodes: 0 };
  walk(doc.contents as Node | null, [], entries, pythonTags, budget, 0);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    ctx.malformed(`${what} could not be read: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
  return { entries, pythonTags, data };
}

const MAX_NODES = 1_000_000;
const MAX_DEPTH = 500;

function walk(
  node: Node | null,
  path: string[],
  out: YamlEntry[],
  tags: ParsedYaml['pythonTags'],
  budget: { nodes: number },
  depth: number,
): void {
  if (!node || depth > MAX_DEPTH || ++budget.nodes > MAX_NODES) return;
  const tag = (node as { tag?: string }).tag;
  if (tag && /python/i.test(tag)) tags.push({ tag, path });
  if (isAlias(node)) return; // its anchor's source is walked where it is defined
  if (isMap(node)) {
    const siblings = new Set<string>();
    for (const item of node.items)
      if (isPair(item) && isScalar(item.key)) siblings.add(String(item.key.value));
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const keyNode = item.key as Node | null;
      if (keyNode && !isScalar(keyNode)) walk(keyNode, path, out, tags, budget, depth + 1);
      const key = isScalar(keyNode) ? String(keyNode.value) : '?';
      const ktag = (keyNode as { tag?: string } | null)?.tag;
      if (ktag && /python/i.test(ktag)) tags.push({ tag: ktag, path: [...path, key] });
      const v = item.value as Node | null;
      out.push({
        path: [...path, key],
        key,
        value: isScalar(v) && v.value !== null ? String(v.value) : undefined,
        siblings,
      });
      walk(v, [...path, key], out, tags, budget, depth + 1);
    }
    return;
  }
  if (isSeq(node)) {
    let i = 0;
    for (const x of node.items) walk(x as Node, [...path, String(i++)], out, tags, budget, depth + 1);
  }
}

export function reportPythonTags(ctx: AnalysisContext, parsed: ParsedYaml, what: string): void {
  for (const t of parsed.pythonTags.slice(0, 20)) {
    ctx.report(
      'MG854',
      `${what} uses the YAML tag ${t.tag} at ${t.path.join('.') || '(root)'}: an unsafe YAML loader imports and calls it.`,
      { symbol: t.tag },
    );
  }
}
