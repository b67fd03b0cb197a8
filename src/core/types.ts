// The report model shared by every face of modelgate (CLI, action, library). Field names follow the public
// JSON contract (schemaVersion 1); additions are allowed, renames are not.

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** pass: nothing above the policy; warn: findings under the threshold; block: over it; incomplete: not fully analysed. */
export const VERDICTS = ['pass', 'warn', 'incomplete', 'block'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Where inside a scanned file a finding sits. `member` chains nested containers with "!" (outer!inner). */
export interface Location {
  member?: string;
  offset?: number;
  symbol?: string;
  /** 1-based line in a text file (a model reference in source code or a config). */
  line?: number;
}

export interface Finding {
  ruleId: string;
  severity: Severity;
  score: number;
  message: string;
  location: Location;
  /** Present when a policy waiver covers this finding; a waived finding adds nothing to the score. */
  waived?: { reason: string; expires: string };
}

/** Format ids as reported in JSON; `other` is a file that is not a model, `unknown` one that poses as a model. */
export type FormatId =
  | 'pickle'
  | 'pytorch-zip'
  | 'pytorch-legacy'
  | 'pytorch-legacy-tar'
  | 'torchscript'
  | 'numpy'
  | 'numpy-npz'
  | 'joblib'
  | 'zip'
  | 'tar'
  | 'gzip'
  | 'bzip2'
  | 'xz'
  | 'lzma'
  | 'lz4'
  | 'zlib'
  | 'zstd'
  | '7z'
  | 'rar'
  | 'safetensors'
  | 'safetensors-index'
  | 'onnx'
  | 'onnx-external-data'
  | 'onnx-tensor'
  | 'tfjs-model'
  | 'tfjs-weights'
  | 'tflite'
  | 'raw-data'
  | 'gguf'
  | 'ggml'
  | 'keras'
  | 'keras-h5'
  | 'hdf5'
  | 'tf-savedmodel'
  | 'tf-keras-metadata'
  | 'hf-config'
  | 'hf-tokenizer-config'
  | 'jinja-template'
  | 'python-source'
  | 'lfs-pointer'
  | 'model-signature'
  | 'hf-repository'
  | 'nemo'
  | 'nemo-config'
  | 'mlflow-model'
  | 'torchserve-mar'
  | 'torch-package'
  | 'other'
  | 'unknown';

export interface FileReport {
  path: string;
  format: FormatId;
  size: number;
  sha256: string;
  verdict: Verdict;
  score: number;
  severity: Severity;
  scoreBreakdown: Record<string, number>;
  findings: Finding[];
  /** `hub`: the sha256 is the one the Hugging Face Hub lists (the file was judged from ranges, not read whole). */
  sha256Source?: 'hub';
  /** Facts learned while scanning that are not findings (e.g. pickle globals, weights_only loadability). */
  facts?: Record<string, unknown>;
}

export interface ScanReport {
  schemaVersion: 1;
  tool: { name: 'modelgate'; version: string };
  verdict: Verdict;
  maxScore: number;
  /** Whether the policy blocks this scan (verdict block, or incomplete while incomplete files block). */
  blocked: boolean;
  /** Every file's report, in the order scanned (kept as JSON, not objects: see report/file-reports.ts). */
  files: import('./report/file-reports.js').FileReports;
  /** Report-level notes (policy used, profile, signature summaries); never needed to interpret `files`. */
  notes?: string[];
  /** Model signatures per folder, pins, publishers and AI-BOMs (src/core/trust/phase.ts). */
  trust?: import('./trust/phase.js').TrustSummary;
}

/** A report as JSON writes it (the files are a list). */
export type ScanReportJson = Omit<ScanReport, 'files'> & { files: FileReport[] };

export function severityForScore(score: number): Severity {
  if (score <= 0) return 'none';
  if (score < 20) return 'low';
  if (score < 50) return 'medium';
  if (score < 80) return 'high';
  return 'critical';
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function verdictRank(v: Verdict): number {
  return VERDICTS.indexOf(v);
}

export function worstVerdict(verdicts: Iterable<Verdict>): Verdict {
  let worst: Verdict = 'pass';
  for (const v of verdicts) if (verdictRank(v) > verdictRank(worst)) worst = v;
  return worst;
}
