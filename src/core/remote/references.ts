import { basename, extname } from 'node:path';
import { type Call, findCalls, tokenize } from './python-args.js';
import { isRepoId, isRevision } from './ref.js';

/**
 * Where code and configs name the models they load. Kept simple on purpose: literal arguments of the known
 * loading calls, `*_name_or_path` keys in configs, Ollama `FROM` lines, DVC files. A reference whose name
 * or revision is computed at run time is reported as not resolvable (MG953), never guessed.
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
export function extractReferences(
  file: string,
  text: string,
  isLocal: (p: string) => boolean = () => false,
): ModelReference[] {
  const base = basename(file);
  const ext = extname(base).toLowerCase();
  if (ext === '.py') return fromPython(file, text, isLocal);
  if (ext === '.dvc') return fromDvc(file, text);
  if (base === 'Modelfile' || ext === '.modelfile') return fromModelfile(file, text);
  return fromConfig(file, text, isLocal);
}

/**
 * The calls that download a model, with where each takes the repository, the revision and a file name
 * (transformers/diffusers/peft `*.from_pretrained`, huggingface_hub's hf_hub_download and
 * snapshot_download, transformers.pipeline, sentence_transformers.SentenceTransformer).
 */
const CALLS: Record<string, { repo: [number, string[]]; file?: [number, string]; via: string }> = {
  from_pretrained: { repo: [0, ['pretrained_model_name_or_path']], via: 'from_pretrained' },
  hf_hub_download: { repo: [0, ['repo_id']], file: [1, 'filename'], via: 'hf_hub_download' },
  snapshot_download: { repo: [0, ['repo_id']], via: 'snapshot_download' },
  pipeline: { repo: [1, ['model']], via: 'pipeline' },
  SentenceTransformer: { repo: [0, ['model_name_or_path']], via: 'SentenceTransformer' },
};

function fromPython(file: string, text: string, isLocal: (p: string) => boolean): ModelReference[] {
  const out: ModelReference[] = [];
  for (const call of findCalls(tokenize(text), new Set(Object.keys(CALLS)))) {
    const spec = CALLS[call.name]!;
    const repoType = arg(call, -1, 'repo_type');
    if (repoType && repoType.literal !== 'model') continue; // datasets and spaces are not models
    const repo = arg(call, spec.repo[0], ...spec.repo[1]);
    if (!repo) continue;
    const rev = arg(call, -1, 'revision');
    const ref: ModelReference = { file, line: call.line, via: spec.via, kind: 'hf' };
    if (repo.literal === undefined) {
      out.push({
        ...ref,
        kind: 'unresolved',
        note: `${call.name}(${repo.text}) names the model with an expression`,
      });
      continue;
    }
    const name = repo.literal;
    if (!isRepoId(name) || isLocal(name)) continue; // a local path, or a model object
    ref.repoId = name;
    if (rev) {
      if (rev.literal === undefined || !isRevision(rev.literal)) {
        out.push({
          ...ref,
          kind: 'unresolved',
          note: `${name} with revision=${rev.text}, computed at run time`,
        });
        continue;
      }
      ref.revision = rev.literal;
    }
    if (spec.file) {
      const fn = arg(call, spec.file[0], spec.file[1]);
      const sub = arg(call, -1, 'subfolder');
      if (fn?.literal === undefined || (sub && sub.literal === undefined)) {
        out.push({ ...ref, kind: 'unresolved', note: `${name}: the file name is computed at run time` });
        continue;
      }
      ref.filename = sub?.literal ? `${sub.literal}/${fn.literal}` : fn.literal;
    }
    out.push(ref);
  }
  return out;
}

function arg(call: Call, position: number, ...keywords: string[]) {
  const kw = call.args.find((a) => a.keyword !== undefined && keywords.includes(a.keyword));
  if (kw) return kw;
  if (position < 0) return undefined;
  const positional = call.args.filter((a) => a.keyword === undefined && !a.text.startsWith('*'));
  return positional[position];
}

/** `model_name_or_path: org/name` and friends in YAML, JSON, TOML and INI-like configs. */
const CONFIG_KEY = /^[\s{,]*["']?((?:[A-Za-z]+_)*name_or_path)["']?\s*[:=]\s*["']?([^"'\s,#}]+)["']?/;
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
    if (!m || !isRepoId(m[2]!) || isLocal(m[2]!)) return;
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
