import { ggmlRules } from '../formats/ggml/rules.js';
import { ggufRules } from '../formats/gguf/rules.js';
import { hdf5Rules } from '../formats/hdf5/rules.js';
import { huggingfaceRules } from '../formats/huggingface/rules.js';
import { kerasRules } from '../formats/keras/rules.js';
import { numpyRules } from '../formats/numpy/rules.js';
import { onnxRules } from '../formats/onnx/rules.js';
import { packagesRules } from '../formats/packages/rules.js';
import { pickleRules } from '../formats/pickle/rules.js';
import { pytorchRules } from '../formats/pytorch/rules.js';
import { rawRules } from '../formats/raw/rules.js';
import { safetensorsRules } from '../formats/safetensors/rules.js';
import { templateRules } from '../formats/template/rules.js';
import { tensorflowRules } from '../formats/tensorflow/rules.js';
import { tfjsRules } from '../formats/tfjs/rules.js';
import { tfliteRules } from '../formats/tflite/rules.js';
import { zipRules } from '../formats/zip/rules.js';
import { remoteRules } from '../remote/rules.js';
import { trustRules } from '../trust/rules.js';
import { ciRules } from './ci-rules.js';
import { coreRules } from './core-rules.js';
import type { Rule } from './rule.js';

/**
 * The rule catalogue: every rule modelgate can report. Each format defines its rules in its own folder
 * (`src/core/formats/<format>/rules.ts`) and lists them here, so this file is the one index of them all.
 */
const ALL: Rule[] = [
  ...coreRules,
  ...pickleRules,
  ...numpyRules,
  ...zipRules,
  ...pytorchRules,
  ...safetensorsRules,
  ...ggufRules,
  ...ggmlRules,
  ...templateRules,
  ...huggingfaceRules,
  ...onnxRules,
  ...kerasRules,
  ...hdf5Rules,
  ...tensorflowRules,
  ...tfjsRules,
  ...tfliteRules,
  ...rawRules,
  ...packagesRules,
  ...ciRules,
  ...trustRules,
  ...remoteRules,
];

const byId = new Map<string, Rule>();
for (const r of ALL) {
  if (byId.has(r.id)) throw new Error(`rule id ${r.id} is defined twice`);
  byId.set(r.id, r);
}

export const RULES: readonly Rule[] = ALL;

export function getRule(id: string): Rule {
  const r = byId.get(id);
  if (!r) throw new Error(`unknown rule id ${id}: every finding must name a rule from the catalogue`);
  return r;
}

export function hasRule(id: string): boolean {
  return byId.has(id);
}
