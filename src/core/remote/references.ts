import { basename, extname } from 'node:path';
import type { SyntaxNode } from '@lezer/common';
import { calleeName, type PyArg } from '../python/syntax.js';
import { filterRepoPath } from './patterns.js';
import { findCalls, PyConstants, type Val } from './python-refs.js';
import { isRepoId, isRevision } from './ref.js';

/**
 * Where code and configs name the models they load: the arguments of the known loading calls in Python
 * (parsed with the shared Python parser, names resolved through the file's constants: python-refs.ts),
 * `*_name_or_path` and `base_model` keys in configs, Ollama `FROM` lines, DVC files. A reference whose name
 * or revision is computed at run time is reported as not resolvable (MG953), never guessed and never
 * skipped. A name is a local path when it exists in the workspace, as transformers checks os.path.isdir
 * before it asks the Hub.
 */

export interface ModelReference {
  /** The file the reference is in (as given to the extractor). */
  file: string;
  line: number;
  /** How it was named: `from_pretrained`, `hf_hub_download`, `model_name_or_path`, `Ollama FROM`, `dvc`. */
  via: string;
  kind: 'hf' | 'unresolved' | 'unsupported';
  repoId?: string;
  /** As written; undefined = the default branch. */
  revision?: string;
  /** One file of the repository (hf_hub_download's filename, with its subfolder). */
  filename?: string;
  /** fnmatch patterns over the repository's paths (snapshot_download's allow/ignore_patterns). */
  allow?: string[];
  ignore?: string[];
  /** Only the files under this folder (from_pretrained's subfolder). */
  subfolder?: string;
  /** For unresolved and unsupported references: what was found. */
  note?: string;
}

/** Files worth looking at for references. */
export function mayHoldReferences(path: string): boolean {
  const base = basename(path);
  const ext = extname(base).toLowerCase();
  return (
    ['.py', '.yaml', '.yml', '.json', '.toml', '.cfg', '.dvc', '.modelfile'].includes(ext) ||
    base === 'Modelfile'
  );
}

/** References in one text file; `isLocal(p)` tells whether a name is a path that exists in the repository. */
export async function extractReferences(
  file: string,
  text: string,
  isLocal: (p: string) => boolean = () => false,
): Promise<ModelReference[]> {
  const base = basename(file);
  const ext = extname(base).toLowerCase();
  if (ext === '.py') return fromPython(file, text, isLocal);
  if (ext === '.dvc') return fromDvc(file, text);
  if (base === 'Modelfile' || ext === '.modelfile') return fromModelfile(file, text);
  return fromConfig(file, text, isLocal);
}

/**
 * The calls that download a model and where each takes its arguments, checked against the libraries'
 * signatures: transformers/diffusers/peft/sentence-transformers `*.from_pretrained(pretrained_model_name_or_path,
 * *, subfolder, revision)` (peft's `PeftModel.from_pretrained(model, model_id)` takes the adapter second;
 * llama-cpp-python's `Llama.from_pretrained(repo_id, filename, additional_files)` takes globs and no
 * revision), huggingface_hub's
 * `hf_hub_download(repo_id, filename, *, subfolder, repo_type, revision)` and `snapshot_download(repo_id, *,
 * repo_type, revision, allow_patterns, ignore_patterns)`, `transformers.pipeline(task, model, config,
 * tokenizer)`, `SentenceTransformer(model_name_or_path)`, `CrossEncoder(model_name_or_path)`, and timm/open_clip
 * `create_model("hf-hub:org/name")`.
 */
interface CallSpec {
  via: string;
  /** Position and keywords of the repository argument. */
  repo: [number, ...string[]];
  /** The argument may be a loaded object rather than a name (pipeline's model=, tokenizer=). */
  objects?: boolean;
  /** The name must carry this prefix to be a Hub reference (timm's `hf-hub:`), which is removed. */
  prefix?: string;
  /** One exact file: position and keyword (hf_hub_download). */
  file?: [number, string];
  /** Position and keyword of an fnmatch pattern over the repository's files (llama-cpp's filename). */
  glob?: [number, string];
  /** A keyword holding a list of such patterns (llama-cpp's additional_files). */
  globs?: string;
  /** The call takes no revision: it always reads the default branch (llama-cpp). */
  noRevision?: boolean;
  /** snapshot_download's allow_patterns / ignore_patterns. */
  patterns?: boolean;
  /** Accepts repo_type (datasets and Spaces are not models). */
  repoType?: boolean;
  /**
   * huggingface_hub's downloads take a repository id, never a local path: a folder of the same name in the
   * workspace does not make them local (transformers and sentence-transformers check the folder first).
   */
  hubOnly?: boolean;
}

const FROM_PRETRAINED: CallSpec = { via: 'from_pretrained', repo: [0, 'pretrained_model_name_or_path'] };
/** By the class it is called on (the last name of the receiver). */
const FROM_PRETRAINED_OF: Array<[RegExp, CallSpec]> = [
  [/^PeftModel/, { via: 'PeftModel.from_pretrained', repo: [1, 'model_id'] }],
  // llama_cpp/llama.py: validate_repo_id, fnmatch over the repository's paths, hf_hub_download at main.
  [
    /^Llama$/,
    {
      via: 'Llama.from_pretrained',
      repo: [0, 'repo_id'],
      glob: [1, 'filename'],
      globs: 'additional_files',
      hubOnly: true,
      noRevision: true,
    },
  ],
];

const CALLS: Record<string, CallSpec[]> = {
  from_pretrained: [FROM_PRETRAINED],
  hf_hub_download: [
    { via: 'hf_hub_download', repo: [0, 'repo_id'], file: [1, 'filename'], repoType: true, hubOnly: true },
  ],
  snapshot_download: [
    { via: 'snapshot_download', repo: [0, 'repo_id'], patterns: true, repoType: true, hubOnly: true },
  ],
  pipeline: [
    { via: 'pipeline', repo: [1, 'model'], objects: true },
    { via: 'pipeline', repo: [3, 'tokenizer'], objects: true },
  ],
  SentenceTransformer: [{ via: 'SentenceTransformer', repo: [0, 'model_name_or_path'] }],
  CrossEncoder: [{ via: 'CrossEncoder', repo: [0, 'model_name_or_path', 'model_name'] }],
  create_model: [{ via: 'create_model', repo: [0, 'model_name'], prefix: 'hf-hub:' }],
  create_model_and_transforms: [
    { via: 'create_model_and_transforms', repo: [0, 'model_name'], prefix: 'hf-hub:' },
  ],
};

/** Calls whose first argument names a folder the code writes: a later load of that name is local. */
const WRITERS = new Set(['save_pretrained', 'save_model', 'save_to_disk', 'makedirs', 'mkdir']);
const MAX_REFS_PER_CALL = 16;

async function fromPython(
  file: string,
  text: string,
  isLocal: (p: string) => boolean,
): Promise<ModelReference[]> {
  const env = await PyConstants.parse(text);
  const py = env.py;
  const written = new Set<string>();
  for (const w of findCalls(py, WRITERS)) {
    const a = w.args.find((x) => x.keyword === undefined && !x.star);
    const v = a ? env.eval(a.value) : undefined;
    if (v && 'values' in v) for (const s of v.values) written.add(s);
  }
  for (const c of findCalls(py, new Set(['TrainingArguments', 'Seq2SeqTrainingArguments']))) {
    const v = argument(c.args, 0, 'output_dir');
    const val = v ? env.eval(v) : undefined;
    if (val && 'values' in val) for (const s of val.values) written.add(s);
  }
  const local = (name: string) => written.has(name) || isLocal(name);

  const out: ModelReference[] = [];
  for (const call of findCalls(py, new Set(Object.keys(CALLS)))) {
    const receiver = call.node.firstChild?.firstChild;
    const cls = receiver ? (calleeName(py, receiver) ?? '') : '';
    for (const base of CALLS[call.name]!) {
      const spec =
        base === FROM_PRETRAINED ? (FROM_PRETRAINED_OF.find(([re]) => re.test(cls))?.[1] ?? base) : base;
      out.push(...fromCall(file, env, call.line, call.args, spec, local).slice(0, MAX_REFS_PER_CALL));
    }
  }
  return out;
}

function fromCall(
  file: string,
  env: PyConstants,
  line: number,
  args: PyArg[],
  spec: CallSpec,
  local: (name: string) => boolean,
): ModelReference[] {
  const py = env.py;
  const base: ModelReference = { file, line, via: spec.via, kind: 'hf' };
  const [position, ...keywords] = spec.repo;
  const repoNode = argument(args, position, ...keywords);
  if (!repoNode) {
    // The name may come from *args or **kwargs: say so rather than skip it.
    const star = args.find((a) => a.star);
    return star && !spec.objects && !spec.prefix
      ? [
          {
            ...base,
            kind: 'unresolved',
            note: `${spec.via}(${star.star}${short(py.text(star.value))}) takes the model from unpacked arguments`,
          },
        ]
      : [];
  }
  if (repoNode.name === 'None') return [];
  const repoVal = env.eval(repoNode);
  if (!('values' in repoVal)) {
    if (spec.prefix || (spec.objects && isObject(env, repoNode))) return [];
    return [
      {
        ...base,
        kind: 'unresolved',
        note: `${spec.via}(${short(py.text(repoNode))}): the model name is computed at run time`,
      },
    ];
  }
  let names = repoVal.values;
  if (spec.prefix)
    names = names.filter((n) => n.startsWith(spec.prefix!)).map((n) => n.slice(spec.prefix!.length));
  names = names.filter((n) => isRepoId(n) && (spec.hubOnly || spec.prefix !== undefined || !local(n)));
  if (names.length === 0) return [];

  if (spec.repoType) {
    const t = argument(args, -1, 'repo_type');
    const tv = t && t.name !== 'None' ? env.eval(t) : { values: ['model'] };
    if (!('values' in tv))
      return names.map((repoId) => ({
        ...base,
        repoId,
        kind: 'unresolved' as const,
        note: `${repoId} with repo_type=${short(py.text(t!))}, computed at run time`,
      }));
    const other = tv.values.filter((v) => v !== 'model');
    if (other.length > 0)
      return names.map((repoId) => ({
        ...base,
        repoId,
        kind: 'unsupported' as const,
        note: `the ${other.join(' or ')} repository ${repoId} (repo_type=${short(py.text(t!))}, not a model)`,
      }));
  }

  // Which files the call reads: one file, a glob, allow/ignore patterns, a subfolder; a selection that cannot
  // be resolved means the whole repository is scanned (more than the call reads, never less).
  const sel: Pick<ModelReference, 'filename' | 'allow' | 'ignore' | 'subfolder'> = {};
  const subNode = argument(args, -1, 'subfolder');
  const sub = subNode && subNode.name !== 'None' ? env.list(subNode) : [''];
  const subfolder = sub?.length === 1 ? sub[0]! : undefined;
  if (spec.file) {
    const f = argument(args, spec.file[0], spec.file[1]);
    const fv = f ? env.list(f) : undefined;
    if (fv?.length === 1 && subfolder !== undefined)
      sel.filename = subfolder ? `${subfolder}/${fv[0]}` : fv[0]!;
  } else if (subfolder) sel.subfolder = subfolder;
  if (spec.glob) {
    const g = argument(args, ...spec.glob);
    const gv = g ? env.list(g) : undefined;
    const extra = spec.globs ? argument(args, -1, spec.globs) : undefined;
    const ev = extra && extra.name !== 'None' ? env.list(extra) : [];
    if (gv?.length === 1 && ev) sel.allow = [...gv, ...ev];
  }
  if (spec.patterns) {
    for (const key of ['allow_patterns', 'ignore_patterns'] as const) {
      const p = argument(args, -1, key);
      if (!p || p.name === 'None') continue;
      const pv = env.list(p);
      if (!pv) return names.map((repoId) => ({ ...base, repoId })); // unknown patterns: everything
      sel[key === 'allow_patterns' ? 'allow' : 'ignore'] = pv;
    }
  }

  const revNode = spec.noRevision ? undefined : argument(args, -1, 'revision');
  const revVal: Val = revNode && revNode.name !== 'None' ? env.eval(revNode) : { values: [''] };
  const out: ModelReference[] = [];
  for (const repoId of names) {
    if (!('values' in revVal) || revVal.values.some((r) => r !== '' && !isRevision(r))) {
      out.push({
        ...base,
        repoId,
        kind: 'unresolved',
        note: `${repoId} with revision=${short(py.text(revNode!))}, computed at run time`,
      });
      continue;
    }
    for (const rev of revVal.values) out.push({ ...base, repoId, ...(rev ? { revision: rev } : {}), ...sel });
  }
  return out;
}

/** An argument by keyword, else by position (-1: keyword only); positions after a `*args` are unknown. */
function argument(args: readonly PyArg[], position: number, ...keywords: string[]) {
  const kw = args.find((a) => a.keyword !== undefined && keywords.includes(a.keyword));
  if (kw) return kw.value;
  if (position < 0) return undefined;
  const positional: PyArg[] = [];
  for (const a of args) {
    if (a.keyword !== undefined || a.star === '**') continue;
    if (a.star === '*') break;
    positional.push(a);
  }
  return positional[position]?.value;
}

/** A name bound only to call results (`model = AutoModel.from_pretrained(...)`): an object, not a name. */
function isObject(env: PyConstants, n: SyntaxNode): boolean {
  return n.name === 'VariableName'
    ? env.boundToCalls(env.py.text(n))
    : n.name === 'CallExpression' || n.name === 'MemberExpression';
}

function short(s: string): string {
  const one = s.replace(/\s+/g, ' ');
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

/**
 * What to scan of a repository its references name: the named files when every reference names one file
 * (a file missing from the commit is reported), the files one of them reads when every reference reads a
 * part (a subfolder, patterns), else everything.
 */
export function referenceSelection(refs: readonly ModelReference[]): {
  paths?: string[];
  include?: (path: string) => boolean;
} {
  if (refs.every((r) => r.filename !== undefined))
    return { paths: [...new Set(refs.map((r) => r.filename!))] };
  if (refs.every((r) => r.filename !== undefined || r.subfolder || r.allow || r.ignore))
    return { include: (path) => refs.some((r) => referenceReads(r, path)) };
  return {};
}

/** Does the repository file `path` belong to what the reference reads? */
export function referenceReads(ref: ModelReference, path: string): boolean {
  if (ref.filename !== undefined) return path === ref.filename;
  if (ref.subfolder && !path.startsWith(`${ref.subfolder}/`)) return false;
  return filterRepoPath(path, {
    ...(ref.allow ? { allow: ref.allow } : {}),
    ...(ref.ignore ? { ignore: ref.ignore } : {}),
  });
}

/**
 * `model_name_or_path: org/name` and friends in YAML, JSON, TOML and INI-like configs. A bare `name_or_path`
 * (tokenizer_config.json) or `_name_or_path` (config.json) is what save_pretrained records of a model's
 * origin, not something a loader follows.
 */
const CONFIG_KEY =
  /^[\s{,]*["']?((?:[A-Za-z]+_)+name_or_path|base_model)["']?\s*[:=]\s*["']?([^"'\s,#}]+)["']?/;
/** Values that mean "no model" in YAML, JSON, TOML and Python-ish configs. */
const NO_VALUE = new Set(['null', 'None', 'none', 'Null', 'NULL', '~', 'true', 'false', 'True', 'False']);
const REVISION_KEY = /^[\s{,]*["']?((?:model_)?revision)["']?\s*[:=]\s*["']?([^"'\s,#}]+)["']?/;

function fromConfig(file: string, text: string, isLocal: (p: string) => boolean): ModelReference[] {
  const lines = text.split('\n');
  const revisions = new Set<string>();
  for (const l of lines) {
    const m = REVISION_KEY.exec(l);
    if (m && isRevision(m[2]!) && m[2] !== 'null') revisions.add(m[2]!);
  }
  // One revision in the file applies to its references; several cannot be matched to them.
  const revision = revisions.size === 1 ? [...revisions][0] : undefined;
  const out: ModelReference[] = [];
  lines.forEach((l, i) => {
    const m = CONFIG_KEY.exec(l);
    if (!m) return;
    if (m[2]!.startsWith('$')) {
      // `${oc.env:MODEL}`, `$MODEL`: interpolated when the config is loaded.
      out.push({
        file,
        line: i + 1,
        via: m[1]!,
        kind: 'unresolved',
        note: `${m[1]}: ${m[2]!.slice(0, 120)} is interpolated at run time`,
      });
      return;
    }
    if (NO_VALUE.has(m[2]!) || !isRepoId(m[2]!) || isLocal(m[2]!)) return;
    out.push({
      file,
      line: i + 1,
      via: m[1]!,
      kind: 'hf',
      repoId: m[2]!,
      ...(revision ? { revision } : {}),
    });
  });
  return out;
}

/** Ollama Modelfile `FROM`: `hf.co/org/name[:quant]` is a Hub repository; a registry name is not scanned. */
function fromModelfile(file: string, text: string): ModelReference[] {
  const out: ModelReference[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /^\s*FROM\s+(\S+)/i.exec(l);
    if (!m) return;
    const from = m[1]!;
    const hub = /^(?:https?:\/\/)?(?:hf\.co|huggingface\.co)\/([^/:\s]+\/[^/:\s]+)(?::\S+)?$/.exec(from);
    if (hub && isRepoId(hub[1]!)) {
      // Ollama pulls the repository's current files: a quantisation tag is not a commit.
      out.push({ file, line: i + 1, via: 'Ollama FROM', kind: 'hf', repoId: hub[1]! });
      return;
    }
    if (/^[./~]/.test(from) || /\.(gguf|bin|safetensors)$/i.test(from)) return; // a local file
    out.push({
      file,
      line: i + 1,
      via: 'Ollama FROM',
      kind: 'unsupported',
      note: `Ollama registry model ${from.slice(0, 120)}`,
    });
  });
  return out;
}

/** A DVC pointer names an artifact in a DVC remote, which modelgate does not fetch. */
function fromDvc(file: string, text: string): ModelReference[] {
  const out: ModelReference[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /^\s*-?\s*path:\s*(\S+)/.exec(l);
    if (m)
      out.push({
        file,
        line: i + 1,
        via: 'dvc',
        kind: 'unsupported',
        note: `DVC-tracked ${m[1]!.slice(0, 120)}`,
      });
  });
  return out;
}
