import type { Analyzer } from './analyzer.js';
import { onnxAnalyzer } from './onnx/analyzer.js';

/**
 * Every format analyzer, in the order detection asks them. To add a format: create
 * `src/core/formats/<format>/` with its analyzer and rules, add the analyzer here and its rules to
 * `src/core/rules/catalogue.ts`.
 */
export const ANALYZERS: readonly Analyzer[] = [onnxAnalyzer];
