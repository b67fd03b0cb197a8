import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AnalysisContext } from '../../context.js';
import { isModelExtension } from '../../detect.js';
import { decodeUtf8Strict, isJsonObject, type JsonObject, type JsonValue } from '../../json/tokenizer.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { reportJsonIssues } from '../safetensors/analyzer.js';
import { pathEscape } from '../safetensors/index.js';
import { printable } from '../safetensors/text.js';
import { reportTemplate, type TemplateOptions } from '../template/analyze.js';
import { findConfigCode } from './config-code.js';
import { readJsonDocument, readWhole, topLevelKeys } from './json-doc.js';
import { scanPython } from './python.js';
import { REMOTE_CODE_LOCAL_FACT } from './rules.js';
import { neighbourTemplateVars, templateVars } from './template-vars.js';

// Decoders shared by every call (constructing one cost more than decoding a short string).
const LATIN1 = new TextDecoder('latin1');
const UTF8 = new TextDecoder('utf-8');

/**
 * Hugging Face repository files, detected by content: config.json-style JSON (auto_map, custom_pipelines,
 * architectures/model_type), tokenizer configs (chat_template, tokenizer_class), standalone Jinja templates
 * and Python files shipped with a model. Plain JSON and text that carry none of these keys are not claimed.
 */

const CONFIG_KEYS = [
  'auto_map',
  'custom_pipelines',
  'architectures',
  'model_type',
  'transformers_version',
  'trust_remote_code',
];
const TOKENIZER_KEYS = ['chat_template', 'tokenizer_class', 'added_tokens_decoder'];

export const hfConfigAnalyzer: Analyzer = {
  id: 'hf-config',
  detect(probe: Probe): Detection | undefined {
    if (isSentenceTransformersModules(probe.head)) return { format: 'hf-config', strength: 'structure' };
    const keys = topLevelKeys(probe.head);
    if (keys.length === 0 || keys.includes('weight_map')) return undefined;
    if (keys.some((k) => TOKENIZER_KEYS.includes(k)))
      return { format: 'hf-tokenizer-config', strength: 'structure' };
    if (keys.some((k) => CONFIG_KEYS.includes(k))) return { format: 'hf-config', strength: 'structure' };
    return undefined;
  },
  async analyze(ctx: AnalysisContext, detection: Detection): Promise<void> {
    const what = detection.format === 'hf-tokenizer-config' ? 'tokenizer config' : 'model config';
    const doc = await readJsonDocument(ctx, what);
    if (!doc) return;
    // Integers beyond 2^53 are ordinary in configs (transformers writes model_max_length = int(1e30)); MG402
    // is about sizes and offsets that readers of different precision disagree on, which a config does not
    // hold: its readers are Python's json (exact) and this tokenizer, which keeps such integers as BigInt.
    reportJsonIssues(
      ctx,
      doc.issues.filter((i) => i.kind !== 'unsafeInteger'),
      what,
    );
    const root = doc.value;
    if (Array.isArray(root)) {
      checkSentenceTransformersModules(ctx, root);
      return;
    }
    if (!isJsonObject(root)) {
      ctx.malformed(`The ${what} is not a JSON object.`);
      return;
    }
    await checkRemoteCode(ctx, root, what);
    const tmpl = root.get('chat_template');
    if (tmpl !== undefined) {
      // Special tokens of this file (and of the tokenizer files beside it) are template variables.
      const vars = templateVars(root, await neighbourTemplateVars(ctx));
      checkChatTemplates(ctx, tmpl, { vars });
    }
    const mt = root.get('model_type');
    if (typeof mt === 'string') ctx.fact('hf.model_type', printable(mt, 80));
  },
};

/** sentence-transformers `modules.json`: a JSON array of {idx, name, path, type}. */
function isSentenceTransformersModules(head: Uint8Array): boolean {
  let p = 0;
  while (p < head.length && (head[p] === 0x20 || head[p] === 0x0a || head[p] === 0x0d || head[p] === 0x09))
    p++;
  if (head[p] !== 0x5b) return false;
  const text = LATIN1.decode(head.subarray(p, p + 4096));
  return /^\[\s*\{/.test(text) && /"type"\s*:/.test(text) && /"path"\s*:/.test(text);
}

/**
 * sentence-transformers imports every module's `type` (a dotted Python class path) when it loads the model;
 * types outside the library are custom code (from the repository, run with trust_remote_code, or any
 * installed package).
 */
function checkSentenceTransformersModules(ctx: AnalysisContext, modules: JsonValue[]): void {
  for (const [i, m] of modules.entries()) {
    if (!isJsonObject(m)) continue;
    const type = m.get('type');
    const path = m.get('path');
    if (typeof path === 'string') {
      const why = pathEscape(path);
      if (why && path !== '')
        ctx.report(
          'MG942',
          `modules.json module ${i} loads from path ${printable(path, 80)}, which has ${why}.`,
          {
            symbol: printable(path, 120),
          },
        );
    }
    if (typeof type !== 'string' || /^sentence_transformers\.models\.[A-Za-z_][\w.]*$/.test(type)) continue;
    const { file, problem } = resolveClassReference(type);
    ctx.report(
      'MG460',
      `modules.json module ${i} has type ${printable(type, 100)}: sentence-transformers imports it when loading the model${file ? ` (${printable(file, 80)})` : ''}${problem ? `; it has ${problem}` : ''}.`,
      { symbol: printable(type, 120) },
    );
  }
}

function checkChatTemplates(ctx: AnalysisContext, tmpl: JsonValue, options: TemplateOptions): void {
  if (typeof tmpl === 'string') {
    reportTemplate(ctx, tmpl, 'chat_template', { symbol: 'chat_template' }, options);
    return;
  }
  if (Array.isArray(tmpl)) {
    for (const [i, item] of tmpl.entries()) {
      const name = isJsonObject(item) ? item.get('name') : undefined;
      const text = isJsonObject(item) ? item.get('template') : undefined;
      const label = `chat_template.${typeof name === 'string' ? printable(name, 60) : i}`;
      if (typeof text === 'string') reportTemplate(ctx, text, label, { symbol: label }, options);
      else ctx.malformed(`${label} has no template string.`, { symbol: label });
    }
    return;
  }
  if (tmpl !== null)
    ctx.malformed('chat_template is neither a string nor a list of {name, template}.', {
      symbol: 'chat_template',
    });
}

interface CodeRef {
  where: string;
  reference: string;
  repo?: string;
  file?: string;
  problem?: string;
}

/** Splits `module.Class` or `repo--module.Class` into the repository and the Python file it loads. */
export function resolveClassReference(reference: string): { repo?: string; file?: string; problem?: string } {
  let ref = reference;
  let repo: string | undefined;
  const dd = ref.indexOf('--');
  if (dd >= 0) {
    repo = ref.slice(0, dd);
    ref = ref.slice(dd + 2);
  }
  const dot = ref.lastIndexOf('.');
  if (dot <= 0 || dot === ref.length - 1)
    return { ...(repo ? { repo } : {}), problem: 'not of the form module.Class' };
  const module = ref.slice(0, dot);
  const file = `${module.replace(/\./g, '/')}.py`;
  const esc =
    pathEscape(module) ??
    (module.split('.').some((s) => s === '') ? 'empty module path segments' : undefined);
  return { ...(repo ? { repo } : {}), file, ...(esc ? { problem: esc } : {}) };
}

async function checkRemoteCode(ctx: AnalysisContext, root: JsonObject, what: string): Promise<void> {
  const found = findConfigCode(root);
  const refs: CodeRef[] = found.refs.map((r) => ({
    where: r.path,
    reference: r.value,
    ...resolveClassReference(r.value),
  }));
  for (const p of found.nestedTrust)
    ctx.report(
      'MG920',
      `The ${what} sets trust_remote_code: true inside a sub-config (${printable(p, 80)}): transformers passes it to the nested from_pretrained, overriding the caller's trust_remote_code=False (CVE-2026-5241).`,
      { symbol: printable(p, 120) },
    );
  for (const k of found.kernels) {
    const sev = k.repo ? 'critical' : k.internal || k.value === 'true' ? 'high' : 'medium';
    ctx.report(
      'MG921',
      k.repo
        ? `${printable(k.path, 80)} names the Hub repository ${printable(k.value, 80)}: transformers downloads and runs its kernel code when loading the model, whatever trust_remote_code says (CVE-2026-4372).`
        : k.value === 'true'
          ? `${printable(k.path, 80)} is true: the model loads Hub kernels (downloaded code) when it is loaded.`
          : `${printable(k.path, 80)} is ${printable(k.value, 60)}${k.internal ? ', an internal field transformers never saves (a config crafted to set it)' : ', not an attention implementation transformers ships'}.`,
      { symbol: printable(k.path, 120) },
      { severity: sev, score: { critical: 100, high: 60, medium: 30 }[sev] },
    );
  }
  for (const e of found.external)
    ctx.report(
      'MG922',
      `${printable(e.path, 80)} points the loader at ${printable(e.value, 100)}, which is fetched when the model is loaded and was not scanned here.`,
      { symbol: printable(e.path, 120) },
    );
  if (refs.length === 0) {
    if (found.rootTrust)
      ctx.report('MG460', `The ${what} sets trust_remote_code: true.`, { symbol: 'trust_remote_code' });
    return;
  }
  const folder = ctx.disk ? dirname(ctx.disk.absPath) : undefined;
  const byFile = new Map<string, CodeRef[]>();
  for (const r of refs) {
    const key = r.problem ? `!${r.reference}` : `${r.repo ?? ''}::${r.file}`;
    byFile.set(key, [...(byFile.get(key) ?? []), r]);
  }
  ctx.fact('hf.remoteCode', [...new Set(refs.map((r) => printable(r.file ?? r.reference, 120)))]);
  // Local modules: one finding for the whole config, merged into one per repository once every file is
  // scanned (src/core/repository-notices.ts): remote code is code execution by design, and the policy's score
  // for MG460 decides whether a repository with remote code blocks. Escapes (MG942) and other repositories are
  // reported one by one.
  const local: string[] = [];
  const localUses: string[] = [];
  for (const group of byFile.values()) {
    const r = group[0]!;
    const uses = group.map((g) => `${printable(g.where, 60)} -> ${printable(g.reference, 80)}`).join(', ');
    if (r.problem) {
      ctx.report(
        'MG942',
        `${printable(r.where, 60)} references ${printable(r.reference, 100)}, which has ${r.problem}; transformers would resolve it to code outside the model.`,
        { symbol: printable(r.reference, 120) },
      );
      continue;
    }
    if (r.repo) {
      ctx.report(
        'MG460',
        `With trust_remote_code, transformers downloads and runs ${printable(r.file!, 80)} from another hub repository, ${printable(r.repo, 80)} (not scanned here): ${uses}.`,
        { symbol: `${printable(r.repo, 80)}--${printable(r.file!, 80)}` },
        // Code nobody analysed: it blocks by default, unlike the repository's own files, which are analysed.
        { severity: 'high', score: 60 },
      );
      continue;
    }
    let presence = '';
    if (folder) {
      const exists = await stat(join(folder, r.file!)).then(
        (s) => s.isFile(),
        () => false,
      );
      presence = exists ? ' (present)' : ' (not in this folder: fetched from the hub repository)';
    }
    local.push(`${printable(r.file!, 80)}${presence}`);
    localUses.push(uses);
  }
  if (local.length > 0) ctx.fact(REMOTE_CODE_LOCAL_FACT, local);
  if (local.length > 0)
    ctx.report(
      'MG460',
      `Loading this model with trust_remote_code=True imports and runs its own Python code, by design: ${local.join(', ')}. Every such file is analysed as python-source; uses: ${localUses.join('; ')}.`,
      { symbol: 'auto_map' },
    );
}

/** Standalone Jinja templates (`chat_template.jinja`, `*.jinja`, `*.j2`). */
/**
 * Jinja files that render a document of another kind, named by the inner extension (`report.html.jinja`,
 * `nginx.conf.j2`): web, configuration and source templates that libraries (MNE, dask) and tools (Ansible)
 * render with their own environment. Chat-template loaders take `chat_template.jinja` and
 * `additional_chat_templates/*.jinja` by name (transformers) or a prompt template the user names (vLLM,
 * llama.cpp `--chat-template`), never a file named as HTML or configuration.
 */
const DOCUMENT_TEMPLATE =
  /\.(html?|xml|svg|css|js|json|ya?ml|toml|ini|cfg|conf|sh|py|md|rst|tex|sql)\.(jinja2?|j2)$/i;

export const jinjaTemplateAnalyzer: Analyzer = {
  id: 'jinja-template',
  detect(probe: Probe): Detection | undefined {
    if (probe.ext !== '.jinja' && probe.ext !== '.j2' && probe.ext !== '.jinja2') return undefined;
    if (DOCUMENT_TEMPLATE.test(probe.name)) return undefined;
    return { format: 'jinja-template', strength: 'name' };
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    const bytes = await readWhole(ctx, 'template');
    let text: string;
    try {
      text = decodeUtf8Strict(bytes);
    } catch {
      ctx.malformed('The template is not valid UTF-8 text.');
      return;
    }
    reportTemplate(ctx, text, 'template', {}, { vars: await neighbourTemplateVars(ctx) });
  },
};

const MAX_PYTHON_BYTES = 8 << 20;

const MODEL_NEIGHBOURS =
  /^(config\.json|tokenizer_config\.json|tokenizer\.json|generation_config\.json|.*\.safetensors(\.index\.json)?|.*\.bin\.index\.json)$/i;

/** Python files: code that trust_remote_code (or a plugin loader) would run when it sits next to a model. */
export const pythonSourceAnalyzer: Analyzer = {
  id: 'python-source',
  detect(probe: Probe): Detection | undefined {
    if (probe.ext === '.py') return { format: 'python-source', strength: 'name' };
    return undefined;
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    let context: string | undefined;
    if (!ctx.isTopLevel) context = 'inside a model container';
    else if (ctx.disk) {
      const dir = dirname(ctx.disk.absPath);
      const names = await readdir(dir).catch(() => [] as string[]);
      const model = names.find((n) => {
        const ext = n.toLowerCase().match(/\.[^.]+$/)?.[0] ?? '';
        return MODEL_NEIGHBOURS.test(n) || (isModelExtension(ext) && ext !== '.py');
      });
      if (model) context = `next to ${printable(model, 80)}`;
    }
    if (!context) return; // ordinary source code, not shipped with a model
    // Modeling code is kilobytes; past MAX_PYTHON_BYTES only the beginning is looked at (the file is
    // reported either way).
    const parts: Uint8Array[] = [];
    let got = 0;
    for await (const c of ctx.source.stream(0, MAX_PYTHON_BYTES)) {
      parts.push(c);
      got += c.length;
      if (got >= MAX_PYTHON_BYTES) break;
    }
    const text = UTF8.decode(Buffer.concat(parts).subarray(0, MAX_PYTHON_BYTES));
    if ((ctx.source.size ?? got) > MAX_PYTHON_BYTES)
      context += ` (only the first ${MAX_PYTHON_BYTES >> 20} MiB checked for calls)`;
    const hits = await scanPython(text);
    const calls = hits.filter((h) => h.ruleId !== 'MG911');
    ctx.report(
      'MG461',
      `Python file ${context}: code that trust_remote_code (or a plugin loader) would import and run${calls.length > 0 ? `; it calls ${[...new Set(calls.map((h) => h.name))].slice(0, 6).join(', ')}` : ''}.`,
    );
    for (const h of hits.slice(0, 30)) {
      ctx.report(
        h.ruleId ?? 'MG462',
        `Line ${h.line}: ${h.why} (${printable(h.name, 60)}).`,
        { symbol: printable(h.name, 80), offset: h.offset },
        h.severity
          ? {
              severity: h.severity,
              score: { none: 0, low: 10, medium: 30, high: 60, critical: 100 }[h.severity],
            }
          : {},
      );
    }
  },
};
