import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { getRule, hasRule } from '../rules/catalogue.js';
import { BUILTIN_PROFILES } from './builtin.js';
import { PolicyError } from './errors.js';
import { type PolicyFileData, policyFileSchema } from './schema.js';

/** A parsed, validated policy file. `data` follows the schema in schema.ts; `source` names it in messages. */
export interface PolicyFile {
  source: string;
  data: PolicyFileData;
  /** SHA-256 of the file's bytes, hex: the digest an attestation names the policy by (core/attest). */
  sha256: string;
}

type PathKey = string | number;

/**
 * Parses and validates a policy file's text. Throws a PolicyError that names the source, the line and the
 * key for YAML syntax errors, unknown keys, bad values, unknown rule ids, lowered non-waivable rules, and
 * branches that name a profile that does not exist.
 */
export function loadPolicyText(text: string, source: string, sha256?: string): PolicyFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lineCounter.linePos(e.pos[0]).line;
    throw new PolicyError(`${source}:${line}: invalid YAML: ${e.message.split('\n')[0]}`, { source, line });
  }
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const locate = (path: readonly PathKey[], key?: string): number | undefined => {
    let node: unknown = doc.contents;
    for (const p of path) {
      if (!isMap(node) && !isSeq(node)) break;
      const next: unknown = node.get(p, true);
      if (next === undefined) break;
      node = next;
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === key);
      if (pair && isScalar(pair.key)) return lineOf(pair.key);
    }
    return node && typeof node === 'object' && 'range' in node ? lineOf(node as Node) : undefined;
  };
  const lineOf = (n: Node): number | undefined =>
    n.range ? lineCounter.linePos(n.range[0]).line : undefined;
  const fail = (path: readonly PathKey[], message: string, key?: string): never => {
    const line = locate(path, key) ?? 1;
    const name = [...path, ...(key !== undefined ? [key] : [])]
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
      .join('');
    throw new PolicyError(`${source}:${line}: ${name || '(top level)'}: ${message}`, {
      source,
      line,
      key: name,
    });
  };

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    fail([], 'the policy file must be a mapping of keys (maxScore, waivers, ...)');
  }
  const parsed = policyFileSchema().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.filter((p): p is PathKey => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      fail(path, `unknown key '${key}'${suggest(path)}`, key);
    }
    if (issue.code === 'invalid_key') {
      // A record key (rule id, profile name) that fails its pattern: point at the key itself.
      const bad = path[path.length - 1];
      fail(path.slice(0, -1), issue.issues[0]?.message ?? issue.message, String(bad));
    }
    const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
    fail(path, missing ? 'is required' : issue.message);
  }
  const data = parsed.data as PolicyFileData;

  // Semantic checks the schema cannot express: rule ids, non-waivable rules, profile references.
  const checkOverrides = (o: PolicyFileData, at: PathKey[]) => {
    for (const [id, adj] of Object.entries(o.rules ?? {})) {
      if (!hasRule(id)) fail([...at, 'rules'], `unknown rule id ${id}`, id);
      const rule = getRule(id);
      const points = typeof adj === 'number' ? adj : adj.score;
      if (!rule.waivable && points < rule.score) {
        fail(
          [...at, 'rules'],
          `${id} (${rule.title}) is not waivable: its score cannot go below ${rule.score}`,
          id,
        );
      }
    }
    (o.waivers ?? []).forEach((w, i) => {
      if (!hasRule(w.ruleId)) fail([...at, 'waivers', i, 'ruleId'], `unknown rule id ${w.ruleId}`);
      else if (!getRule(w.ruleId).waivable) {
        fail([...at, 'waivers', i, 'ruleId'], `${w.ruleId} (${getRule(w.ruleId).title}) is not waivable`);
      }
    });
  };
  checkOverrides(data, []);
  for (const [name, p] of Object.entries(data.profiles ?? {})) checkOverrides(p, ['profiles', name]);
  for (const [glob, profile] of Object.entries(data.branches ?? {})) {
    if (!data.profiles?.[profile] && !BUILTIN_PROFILES[profile]) {
      fail(['branches'], `profile '${profile}' is not defined (profiles: or built-in strict)`, glob);
    }
  }
  return { source, data, sha256: sha256 ?? createHash('sha256').update(text, 'utf8').digest('hex') };
}

/** Reads a policy file from disk (the CLI's --config). */
export async function loadPolicyFile(path: string): Promise<PolicyFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new PolicyError(`cannot read policy file ${path}: ${(err as Error).message}`, { source: path });
  }
  // The digest of the bytes as they are on disk, whatever their text decoding does.
  return loadPolicyText(bytes.toString('utf8'), path, createHash('sha256').update(bytes).digest('hex'));
}

function suggest(path: readonly PathKey[]): string {
  if (path.length === 0 || (path[0] === 'profiles' && path.length === 2)) {
    return ' (known keys: maxScore, failOnIncomplete, warnOnly, signatures, maxWaivedSeverity, rules, allow, waivers, pins, lockfile, trust, publishers, sbom, limits, profiles, branches)';
  }
  return '';
}
