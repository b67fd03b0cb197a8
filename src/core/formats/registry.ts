import type { Analyzer } from './analyzer.js';
import { compressedAnalyzer, unsupportedArchiveAnalyzer } from './archive/compressed.js';
import { tarAnalyzer } from './archive/tar.js';
import { ggmlAnalyzer } from './ggml/analyzer.js';
import { ggufAnalyzer } from './gguf/analyzer.js';
import { hdf5Analyzer } from './hdf5/analyzer.js';
import { hfConfigAnalyzer, jinjaTemplateAnalyzer, pythonSourceAnalyzer } from './huggingface/analyzer.js';
import { lfsAnalyzer } from './lfs/analyzer.js';
import { numpyAnalyzer } from './numpy/analyzer.js';
import { onnxAnalyzer } from './onnx/analyzer.js';
import { onnxValueAnalyzer } from './onnx/data.js';
import { mlmodelAnalyzer } from './packages/mlflow.js';
import { nemoConfigAnalyzer } from './packages/nemo.js';
import { pickleAnalyzer } from './pickle/analyzer.js';
import { joblibZfAnalyzer } from './pickle/joblib-zf.js';
import { pytorchLegacyAnalyzer } from './pytorch/legacy.js';
import { safetensorsAnalyzer } from './safetensors/analyzer.js';
import { safetensorsIndexAnalyzer } from './safetensors/index.js';
import {
  fingerprintAnalyzer,
  kerasMetadataAnalyzer,
  savedModelAnalyzer,
  savedModelTextAnalyzer,
} from './tensorflow/analyzer.js';
import { tfjsAnalyzer } from './tfjs/analyzer.js';
import { tfliteAnalyzer } from './tflite/analyzer.js';
import { zipAnalyzer } from './zip/flavors.js';

/**
 * Every format analyzer, in the order detection asks them. To add a format: create
 * `src/core/formats/<format>/` with its analyzer and rules, add the analyzer here and its rules to
 * `src/core/rules/catalogue.ts`.
 */
export const ANALYZERS: readonly Analyzer[] = [
  pickleAnalyzer,
  joblibZfAnalyzer,
  numpyAnalyzer,
  pytorchLegacyAnalyzer,
  zipAnalyzer,
  compressedAnalyzer,
  tarAnalyzer,
  unsupportedArchiveAnalyzer,
  onnxAnalyzer,
  onnxValueAnalyzer,
  hdf5Analyzer,
  savedModelAnalyzer,
  savedModelTextAnalyzer,
  fingerprintAnalyzer,
  kerasMetadataAnalyzer,
  safetensorsAnalyzer,
  ggufAnalyzer,
  ggmlAnalyzer,
  tfliteAnalyzer,
  lfsAnalyzer,
  safetensorsIndexAnalyzer,
  hfConfigAnalyzer,
  tfjsAnalyzer,
  jinjaTemplateAnalyzer,
  pythonSourceAnalyzer,
  nemoConfigAnalyzer,
  mlmodelAnalyzer,
];
