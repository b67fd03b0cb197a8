import type { Severity } from '../types.js';

/**
 * One entry of the rule catalogue. Every finding names a rule; reports, SARIF and the policy read the
 * catalogue, so a rule is defined once. Ids are stable forever: retire a rule, never reuse its id.
 * Ranges: MG0xx core and detection, MG1xx pickle, MG2xx archives and compression, MG3xx PyTorch,
 * NumPy and joblib, MG4xx safetensors, GGUF, templates and Hugging Face files, MG5xx ONNX, Keras and
 * TensorFlow, MG6xx trust (signatures, pins, waivers, publishers, SBOM), MG7xx CI integration (ci-rules.ts: defined in the core because every face reads reports that name them).
 */
export interface Rule {
  id: string;
  /** snake_case name used in score breakdowns, e.g. `dangerous_callable`. */
  slug: string;
  title: string;
  severity: Severity;
  /** Default points a finding of this rule adds to its file's threat score (0..100). */
  score: number;
  /**
   * `threat`: something that can run code, read or write files, or corrupt memory;
   * `anomaly`: structure that differs from what the loader or writer produces (a parser-differential hint);
   * `incomplete`: the file could not be fully analysed; any such finding makes the file `incomplete`.
   */
  kind: 'threat' | 'anomaly' | 'incomplete';
  /** false when no policy may lower the score or waive the rule (known code execution). */
  waivable: boolean;
  cwe?: number;
  /** What the finding means, one paragraph. */
  description: string;
  /** What to do about it. */
  remediation: string;
}

export const DEFAULT_SCORE: Record<Severity, number> = {
  none: 0,
  low: 10,
  medium: 30,
  high: 60,
  critical: 100,
};

type RuleInput = Omit<Rule, 'score' | 'waivable'> & { score?: number; waivable?: boolean };

/** Fills the defaults (score from severity; waivable unless critical) so rule tables stay short. */
export function defineRules<const T extends readonly RuleInput[]>(rules: T): Rule[] {
  return rules.map((r) => ({
    ...r,
    score: r.score ?? DEFAULT_SCORE[r.severity],
    waivable: r.waivable ?? r.severity !== 'critical',
  }));
}
