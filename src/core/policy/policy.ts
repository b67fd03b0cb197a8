import picomatch from 'picomatch';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';
import { getRule } from '../rules/catalogue.js';
import { type Finding, type Severity, severityForScore, severityRank, type Verdict } from '../types.js';
import type { PinChange, PinSet } from './pins.js';

/** A reviewed exception: the rule does not count for files matching `path` (and `sha256`, when bound). */
export interface Waiver {
  ruleId: string;
  /** Glob over report paths (picomatch syntax, `**` crosses folders). */
  path: string;
  /** When set, the waiver covers only these exact bytes. */
  sha256?: string;
  reason: string;
  /** Last day the waiver applies, YYYY-MM-DD (UTC). */
  expires: string;
}

/** The resolved policy a scan runs under (after the policy file, its profile and CLI/action overrides). */
export interface Policy {
  /** A file blocks when its score exceeds this. */
  maxScore: number;
  /** Incomplete files block (exit 2 / failed job). */
  failOnIncomplete: boolean;
  /** Report everything, never fail. */
  warnOnly: boolean;
  /** Points per rule id, replacing the catalogue's default (never below it for non-waivable rules). */
  ruleScores: Record<string, number>;
  /** Extra exact pickle globals, each with the reason it was allowed. */
  allow: Array<{ module: string; name: string; reason: string }>;
  waivers: Waiver[];
  limits: Limits;
  /** Model signatures: off (not checked), warn (checked, problems warn), require (problems and unsigned folders block). */
  signatures: SignatureMode;
  /** Waivers cover findings up to this severity; above it they are refused (strict: medium). */
  maxWaivedSeverity: Severity;
  /** The profile applied (from --profile, or the branch pattern), if any. */
  profile?: string;
  /** The policy file applied (its name in messages and the SHA-256 of its bytes); undefined = built-in. */
  file?: { source: string; sha256: string };
  /**
   * Settings given on the command line or as action inputs that replaced the policy file's (what the policy
   * file's digest does not describe); trusted keys and roots by SHA-256. Named by the attestation.
   */
  overrides?: Record<string, unknown>;
  /** Trusted signers and the Sigstore trusted root. */
  trust: TrustSettings;
  /** Approved artifacts: repository-relative path → sha256 (and size). */
  pins: PinSet;
  /** Absolute folder that pin paths are relative to (default: the current working directory). */
  pinRoot?: string;
  /** Pins changed in this change (base → head), reported on the files they cover; set by the action. */
  pinChanges: PinChange[];
  /** Allowed model publishers (Hugging Face org or org/name globs); undefined = not checked. */
  publishers?: string[];
  /** AI-BOM checks; undefined = SBOMs are only reported. */
  sbom?: SbomPolicy;
}

export type SignatureMode = 'off' | 'warn' | 'require';

/** A trusted public key (PEM SubjectPublicKeyInfo) or CA certificate (PEM), optionally for some paths only. */
export interface TrustedKey {
  name: string;
  pem: string;
  /** Globs over model folder paths (relative to the scanned root) this signer is trusted for; all when absent. */
  paths?: string[];
}

/** A Sigstore keyless signer: the certificate identity (SAN) and OIDC issuer, both compared exactly. */
export interface TrustedIdentity {
  identity: string;
  issuer: string;
  paths?: string[];
}

export interface TrustSettings {
  keys: TrustedKey[];
  identities: TrustedIdentity[];
  /** A Sigstore trusted_root.json (text); undefined = the one bundled with modelgate. */
  trustedRoot?: string;
  /** Where trustedRoot came from, for the report. */
  trustedRootSource?: string;
}

export interface SbomPolicy {
  require: boolean;
  /** Allowed SPDX licence ids; undefined = any. */
  licenses?: string[];
  denyDatasets: string[];
  denySensitiveData: boolean;
}

export const DEFAULT_POLICY: Readonly<Policy> = Object.freeze({
  maxScore: 49,
  failOnIncomplete: true,
  warnOnly: false,
  ruleScores: {},
  allow: [],
  waivers: [],
  limits: { ...DEFAULT_LIMITS },
  signatures: 'warn',
  maxWaivedSeverity: 'critical',
  trust: { keys: [], identities: [] },
  pins: {},
  pinChanges: [],
}) as Readonly<Policy>;

export interface FileEvaluation {
  findings: Finding[];
  score: number;
  severity: Severity;
  verdict: Verdict;
  scoreBreakdown: Record<string, number>;
  /** Waivers that matched but had expired (reported so that someone renews or removes them). */
  expiredWaivers: Waiver[];
  /** Waivers that matched a finding above the policy's maxWaivedSeverity and were not applied. */
  refusedWaivers: Waiver[];
}

/**
 * Applies the policy to one file's findings: rule score overrides, waivers, then the threat score. A part is
 * the rule's slug plus the symbol (`dangerous_callable:posix.system`); the same part found many times counts
 * once, at its highest score. The file's score is its worst part plus half of the others, capped at the top
 * of the worst part's severity band (low < 20, medium < 50, high < 80, critical): more findings rank a file
 * higher, but many inert unknowns are not one danger, so medium findings never add up to a block under the
 * default maxScore (49) while any high finding blocks on its own.
 */
export function evaluateFile(
  findings: readonly Finding[],
  policy: Readonly<Policy>,
  file: { path: string; sha256: string },
  now: Date,
): FileEvaluation {
  let today: string | undefined; // only for a matching waiver: most files have none
  const expiredWaivers = new Set<Waiver>();
  const refusedWaivers = new Set<Waiver>();
  const maxWaived = severityRank(policy.maxWaivedSeverity ?? 'critical');
  const out: Finding[] = [];
  for (const f of findings) {
    const rule = getRule(f.ruleId);
    let score = f.score;
    const override = policy.ruleScores[f.ruleId];
    if (override !== undefined) score = rule.waivable ? override : Math.max(override, f.score);
    const finding: Finding = { ...f, score, severity: f.severity };
    if (rule.waivable) {
      for (const w of policy.waivers) {
        if (!waiverMatches(w, f.ruleId, file)) continue;
        today ??= now.toISOString().slice(0, 10);
        if (w.expires < today) {
          expiredWaivers.add(w);
          continue;
        }
        if (severityRank(f.severity) > maxWaived) {
          refusedWaivers.add(w);
          continue;
        }
        finding.waived = { reason: w.reason, expires: w.expires };
        break;
      }
    }
    out.push(finding);
  }

  const parts = new Map<string, number>();
  for (const f of out) {
    if (f.waived || f.score <= 0) continue;
    const slug = getRule(f.ruleId).slug;
    const key = f.location.symbol ? `${slug}:${f.location.symbol}` : slug;
    parts.set(key, Math.max(parts.get(key) ?? 0, f.score));
  }
  const breakdown = Object.fromEntries([...parts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  const score = combinedScore([...parts.values()]);
  const incomplete = out.some((f) => !f.waived && getRule(f.ruleId).kind === 'incomplete');
  let verdict: Verdict = 'pass';
  if (score > policy.maxScore) verdict = 'block';
  else if (incomplete) verdict = 'incomplete';
  else if (score > 0) verdict = 'warn';
  return {
    findings: out,
    score,
    severity: severityForScore(score),
    verdict,
    scoreBreakdown: breakdown,
    expiredWaivers: [...expiredWaivers],
    refusedWaivers: [...refusedWaivers],
  };
}

/** The top of the severity band a score falls in (see severityForScore). */
function bandTop(score: number): number {
  if (score < 20) return 19;
  if (score < 50) return 49;
  if (score < 80) return 79;
  return 100;
}

/** The worst part plus half of the others, kept within the worst part's severity band. */
export function combinedScore(parts: readonly number[]): number {
  const sorted = parts.filter((p) => p > 0).sort((a, b) => b - a);
  const top = sorted[0];
  if (top === undefined) return 0;
  const rest = sorted.slice(1).reduce((a, b) => a + b, 0);
  return Math.min(bandTop(top), top + Math.ceil(rest / 2));
}

function waiverMatches(w: Waiver, ruleId: string, file: { path: string; sha256: string }): boolean {
  if (w.ruleId !== ruleId) return false;
  if (w.sha256 && w.sha256.toLowerCase() !== file.sha256) return false;
  return picomatch.isMatch(file.path, w.path, { dot: true });
}

/** Zero-point findings that report expired (MG620) and refused (MG621) waivers on the file they concern. */
export function waiverFindings(ev: Pick<FileEvaluation, 'expiredWaivers' | 'refusedWaivers'>): Finding[] {
  const out: Finding[] = [];
  for (const w of ev.expiredWaivers) {
    out.push({
      ruleId: 'MG620',
      severity: 'low',
      score: 0,
      message: `The waiver of ${w.ruleId} for ${w.path} expired on ${w.expires} and no longer applies (reason given: ${w.reason}).`,
      location: { symbol: w.ruleId },
    });
  }
  for (const w of ev.refusedWaivers) {
    out.push({
      ruleId: 'MG621',
      severity: 'low',
      score: 0,
      message: `The waiver of ${w.ruleId} for ${w.path} was not applied: the active profile does not let waivers cover findings of that severity.`,
      location: { symbol: w.ruleId },
    });
  }
  return out;
}
