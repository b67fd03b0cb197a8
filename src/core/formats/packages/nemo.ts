// NVIDIA NeMo `.nemo` archives: a tar (NeMo 1.x SaveRestoreConnector: tarfile.open(path, "w:") or, in older
// releases, "w:gz"; members added with arcname ".", so named "./model_config.yaml") holding
//   - model_config.yaml: the OmegaConf model config. At restore NeMo imports `target` (the model class) and
//     ModelPT.from_config_dict instantiates every `_target_` with hydra.utils.instantiate
//     (nemo/core/classes/common.py): each named callable is imported and called with the config's values;
//   - model_weights.ckpt: torch.save of the state dict (a PyTorch zip; checked by the PyTorch analyzer);
//   - artifacts (tokenizer models, vocabularies) named `<hash>_<name>`.
// The tar reader (../archive/tar.ts) asks `tarLayout` what an archive is; the config is analysed here when
// it is scanned as a member (or as a file of an unpacked model folder).
import type { AnalysisContext } from '../../context.js';
import type { FormatId } from '../../types.js';
import type { Analyzer, Detection, Probe } from '../analyzer.js';
import { denyMatch } from '../pickle/denylist.js';
import { parseYaml, readDocumentText, reportPythonTags, type YamlEntry } from './yaml.js';

export const NEMO_CONFIG = 'model_config.yaml';
export const NEMO_WEIGHTS = 'model_weights.ckpt';

/** Formats a checkpoint member of a model package legitimately has (a zip inside the tar is the layout). */
// (nested content is reported with the format first detected, `zip`, before a zip flavor refines it)
const CHECKPOINT_FORMATS = new Set<FormatId>(['zip', 'pytorch-zip', 'torchscript']);

export interface TarLayout {
  format: FormatId;
  /** True when `member` of format `fmt` is a normal part of the layout (no MG214 nested-archive finding). */
  expectsNested(member: string, fmt: FormatId): boolean;
}

function baseName(name: string): string {
  return name.replace(/^(\.\/)+/, '');
}

/** Recognises a tar's layout from its member names (only NeMo so far). */
export function tarLayout(names: ReadonlySet<string>): TarLayout | undefined {
  const base = new Set([...names].map(baseName));
  if (!base.has(NEMO_CONFIG) || !base.has(NEMO_WEIGHTS)) return undefined;
  return {
    format: 'nemo',
    expectsNested: (member, fmt) => CHECKPOINT_FORMATS.has(fmt) && /\.(ckpt|pt|pth)$/.test(baseName(member)),
  };
}

/** Module namespaces whose classes a NeMo config may instantiate: NeMo's own, and PyTorch's building blocks. */
const ALLOWED_NAMESPACES = [
  'nemo.collections.',
  'nemo.core.',
  'torch.nn.',
  'torch.optim.',
  'torch.utils.data.',
];

export interface TargetVerdict {
  verdict: 'allowed' | 'denied' | 'unknown' | 'computed';
  why: string;
}

/**
 * What instantiating `target` at load means. Allowed: a class (its last part capitalised, as NeMo and PyTorch
 * name classes) under an allowed namespace. Denied: a known-dangerous callable (the pickle denylist: commands,
 * code evaluation, file writes, deserialisers). Computed: an interpolation resolved only at load.
 */
export function judgeTarget(target: string): TargetVerdict {
  if (target.includes('${')) return { verdict: 'computed', why: 'an interpolation resolved at load' };
  const t = target.trim();
  const dot = t.lastIndexOf('.');
  const module = dot > 0 ? t.slice(0, dot) : 'builtins';
  const name = dot > 0 ? t.slice(dot + 1) : t;
  const deny = denyMatch(module, name);
  if (deny) return { verdict: 'denied', why: `a known-dangerous callable (${deny.family.id})` };
  if (!/^[A-Za-z_][\w.]*$/.test(t)) return { verdict: 'unknown', why: 'not a dotted Python name' };
  if (ALLOWED_NAMESPACES.some((ns) => t.startsWith(ns)) && /^[A-Z]/.test(name) && !name.startsWith('_'))
    return { verdict: 'allowed', why: 'a NeMo or PyTorch class' };
  return { verdict: 'unknown', why: 'outside the NeMo and PyTorch classes modelgate allows' };
}

/** The entries of a config that name something NeMo imports and calls at restore. */
export function instantiatedTargets(entries: readonly YamlEntry[]): YamlEntry[] {
  return entries.filter(
    (e) =>
      e.value !== undefined &&
      (e.key === '_target_' ||
        (e.key === 'target' && e.path.length === 1) || // the model class: import_class_by_path(cfg.target)
        ((e.key === 'cls' || e.key === 'target') && e.siblings.has('params'))), // Hydra 0.11 style
  );
}

export const nemoConfigAnalyzer: Analyzer = {
  id: 'nemo-config',
  detect(probe: Probe): Detection | undefined {
    return probe.name === NEMO_CONFIG ? { format: 'nemo-config', strength: 'name' } : undefined;
  },
  async analyze(ctx: AnalysisContext): Promise<void> {
    const text = await readDocumentText(ctx, 'The NeMo model config');
    if (text === undefined) return;
    const parsed = parseYaml(ctx, text, 'The NeMo model config');
    if (!parsed) return;
    reportPythonTags(ctx, parsed, 'The NeMo model config');
    const targets = instantiatedTargets(parsed.entries);
    ctx.fact('nemo.targets', targets.length);
    for (const e of targets) {
      const target = e.value!;
      const j = judgeTarget(target);
      const where = e.path.join('.');
      if (j.verdict === 'allowed') continue;
      if (j.verdict === 'computed') {
        ctx.report(
          'MG853',
          `${where} is "${target.slice(0, 200)}": the class NeMo imports and calls at load is computed (${j.why}).`,
          { symbol: target.slice(0, 200) },
        );
        continue;
      }
      ctx.report(
        'MG852',
        `${where} names ${target.slice(0, 200)}, ${j.why}; NeMo imports and calls it while restoring the model (hydra.utils.instantiate).`,
        { symbol: target.slice(0, 200) },
        j.verdict === 'denied' ? { severity: 'critical', score: 100 } : {},
      );
    }
  },
};
