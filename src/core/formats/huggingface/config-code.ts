import { isJsonObject, type JsonObject, type JsonValue } from '../../json/tokenizer.js';

/**
 * Everything in a transformers config that makes the loader fetch or run code, found at any depth: nested
 * sub-configs (text_config, vision_config, ...) are loaded with the same machinery as the root, so an
 * auto_map or trust_remote_code inside one counts (CVE-2026-5241: a nested trust_remote_code overrides the
 * caller's False); attention-implementation and kernel fields that name Hub repositories whose kernel code
 * is downloaded and run (CVE-2026-4372: `_attn_implementation_internal`); and values that point the loader at
 * other repositories or URLs.
 */

export interface ConfigFinding {
  /** Dotted path of the key in the config (`vision_config.auto_map.AutoModel`). */
  path: string;
  value: string;
}

export interface ConfigCode {
  /** auto_map and custom_pipelines references, with where they were found. */
  refs: ConfigFinding[];
  /** trust_remote_code: true below the root. */
  nestedTrust: string[];
  rootTrust: boolean;
  /** Attention implementations and kernels that name Hub repositories or are not built in. */
  kernels: Array<ConfigFinding & { repo: boolean; internal: boolean }>;
  /** Other repositories and URLs the loader follows. */
  external: ConfigFinding[];
}

const MAX_DEPTH = 64;
const MAX_NODES = 200_000;

/** Attention implementations transformers ships (anything else is a Hub kernel or custom code). */
const BUILTIN_ATTN = new Set([
  'eager',
  'sdpa',
  'flash_attention_2',
  'flash_attention_3',
  'flex_attention',
  'paged_attention',
  'sdpa_paged',
  'eager_paged',
  'flash_paged',
  'paged|sdpa',
  'paged|eager',
  'paged|flash_attention_2',
]);
const ATTN_KEYS = new Set(['_attn_implementation_internal', '_attn_implementation', 'attn_implementation']);
/** Keys whose values are repositories the loader downloads models or code from. */
const FOLLOWED_KEYS = new Set([
  'vision_tower',
  'mm_vision_tower',
  'audio_tower',
  'speech_tower',
  'image_tower',
]);
const REPO_RE = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}(?:@[\w./-]+)?(?::[\w./-]+)?$/;
const URL_RE = /^(?:https?|s3|gs|hf):\/\//i;

export function findConfigCode(root: JsonObject): ConfigCode {
  const out: ConfigCode = { refs: [], nestedTrust: [], rootTrust: false, kernels: [], external: [] };
  let nodes = 0;
  const addRefs = (path: string, v: JsonValue | undefined): void => {
    if (typeof v === 'string') out.refs.push({ path, value: v });
    else if (Array.isArray(v)) for (const x of v) addRefs(path, x);
  };
  const visit = (v: JsonValue, path: string, depth: number): void => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) return;
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) visit(x, `${path}[${i}]`, depth + 1);
      return;
    }
    if (!isJsonObject(v)) return;
    for (const [k, val] of v) {
      const p = path ? `${path}.${k}` : k;
      if (k === 'auto_map') {
        if (isJsonObject(val)) for (const [name, ref] of val) addRefs(`${p}.${name}`, ref);
        else addRefs(p, val);
      } else if (k === 'custom_pipelines' && isJsonObject(val)) {
        for (const [task, pipe] of val) if (isJsonObject(pipe)) addRefs(`${p}.${task}`, pipe.get('impl'));
      } else if (k === 'trust_remote_code' && val === true) {
        if (depth === 0) out.rootTrust = true;
        else out.nestedTrust.push(p);
      } else if (ATTN_KEYS.has(k) && typeof val === 'string') {
        const repo = val.includes('/');
        if (repo || k === '_attn_implementation_internal' || !BUILTIN_ATTN.has(val))
          out.kernels.push({ path: p, value: val, repo, internal: k === '_attn_implementation_internal' });
      } else if (/kernel/i.test(k) && typeof val === 'string' && REPO_RE.test(val)) {
        out.kernels.push({ path: p, value: val, repo: true, internal: false });
      } else if (k === 'use_kernels' && val === true) {
        out.kernels.push({ path: p, value: 'true', repo: false, internal: false });
      } else if (
        typeof val === 'string' &&
        (URL_RE.test(val) || (FOLLOWED_KEYS.has(k) && REPO_RE.test(val)))
      ) {
        out.external.push({ path: p, value: val });
      }
      if (typeof val === 'object' && val !== null) visit(val, p, depth + 1);
    }
  };
  visit(root, '', 0);
  return out;
}
