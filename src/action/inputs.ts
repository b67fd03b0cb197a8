/**
 * The action's inputs. Settings the policy file also holds (max-score, warn-only, fail-on-incomplete,
 * signatures, profile) stay undefined unless given, so that the policy file can set them; their defaults
 * live in the policy code, never in action.yml. The other defaults are repeated here because a runner that
 * runs dist/index.js directly (tests, other CI systems) does not apply action.yml's defaults.
 */

export type Scope = 'changed' | 'all';
export type CommentMode = 'on-findings' | 'always' | 'never';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export interface ActionInputs {
  path: string;
  scope?: Scope;
  include: string[];
  exclude: string[];
  config: string;
  profile?: string;
  maxScore?: number;
  warnOnly?: boolean;
  failOnIncomplete?: boolean;
  signatures?: 'off' | 'warn' | 'require';
  comment: CommentMode;
  annotations: boolean;
  sarifFile: string;
  /** Code-scanning category of the SARIF run (automationDetails.id). */
  sarifCategory: string;
  reportFile: string;
  /** Write this run's SLSA verification summary (attestationFile) and publish it as a GitHub attestation. */
  attest: boolean;
  attestationFile: string;
  lfs: 'fetch' | 'off';
  cache: boolean;
  token: string;
  shard?: Shard;
  /** Hugging Face models loaded by the scanned files (`changed`), by every file (`all`), or not scanned. */
  references: 'changed' | 'all' | 'off';
  /** Merge mode: newline-separated globs of shard JSON reports to combine instead of scanning. */
  mergeReports: string[];
}

export class InputError extends Error {
  override name = 'InputError';
}

export type GetInput = (name: string) => string;

/** Reads `INPUT_<NAME>` as the runner sets it (upper case, spaces to underscores, hyphens kept). */
export function envInput(env: NodeJS.ProcessEnv): GetInput {
  return (name) => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

export function readInputs(get: GetInput): ActionInputs {
  const lines = (name: string) =>
    get(name)
      .split(/\r?\n/)
      .map((s) => s.trim())
      .filter((s) => s !== '' && !s.startsWith('#'));
  const opt = (name: string) => {
    const v = get(name);
    return v === '' ? undefined : v;
  };
  const bool = (name: string): boolean | undefined => {
    const v = opt(name);
    if (v === undefined) return undefined;
    if (/^true$/i.test(v)) return true;
    if (/^false$/i.test(v)) return false;
    throw new InputError(`input '${name}' must be true or false, got '${v}'`);
  };
  const oneOf = <T extends string>(name: string, values: readonly T[]): T | undefined => {
    const v = opt(name);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v))
      throw new InputError(`input '${name}' must be one of ${values.join(', ')}, got '${v}'`);
    return v as T;
  };

  let maxScore: number | undefined;
  const ms = opt('max-score');
  if (ms !== undefined) {
    maxScore = Number(ms);
    if (!/^\d+$/.test(ms) || maxScore > 100)
      throw new InputError(`input 'max-score' must be an integer from 0 to 100, got '${ms}'`);
  }

  let shard: Shard | undefined;
  const sh = opt('shard');
  if (sh !== undefined) shard = parseShard(sh);

  const inputs: ActionInputs = {
    path: opt('path') ?? '.',
    include: lines('include'),
    exclude: lines('exclude'),
    config: opt('config') ?? '.github/modelgate.yml',
    comment: oneOf('comment', ['on-findings', 'always', 'never'] as const) ?? 'on-findings',
    annotations: bool('annotations') ?? true,
    sarifFile: opt('sarif-file') ?? 'modelgate.sarif',
    sarifCategory: sarifCategory(opt('sarif-category') ?? 'modelgate'),
    reportFile: opt('report-file') ?? 'modelgate-report.json',
    attest: ['true', 'on'].includes(oneOf('attest', ['true', 'false', 'on', 'off'] as const) ?? 'off'),
    attestationFile: opt('attestation-file') ?? 'modelgate.vsa.json',
    lfs: oneOf('lfs', ['fetch', 'off'] as const) ?? 'fetch',
    cache: bool('cache') ?? true,
    token: opt('token') ?? '',
    mergeReports: lines('merge-reports'),
    references: oneOf('references', ['changed', 'all', 'off'] as const) ?? 'changed',
  };
  const scope = oneOf('scope', ['changed', 'all'] as const);
  if (scope) inputs.scope = scope;
  const profile = opt('profile');
  if (profile) inputs.profile = profile;
  if (maxScore !== undefined) inputs.maxScore = maxScore;
  const warnOnly = bool('warn-only');
  if (warnOnly !== undefined) inputs.warnOnly = warnOnly;
  const foi = bool('fail-on-incomplete');
  if (foi !== undefined) inputs.failOnIncomplete = foi;
  const sig = oneOf('signatures', ['off', 'warn', 'require'] as const);
  if (sig) inputs.signatures = sig;
  if (shard) inputs.shard = shard;
  return inputs;
}

/** `i/n` with 1 <= i <= n <= 256. */
export function parseShard(s: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || count > 256 || index < 1 || index > count)
    throw new InputError(`input 'shard' must be i/n with 1 <= i <= n <= 256 (e.g. 2/4), got '${s}'`);
  return { index, count };
}

/** A category is a path-like label; no whitespace or control characters (GitHub shows it in the UI). */
function sarifCategory(v: string): string {
  if (!/^[A-Za-z0-9._\-/]{1,100}$/.test(v))
    throw new InputError(
      `input 'sarif-category' must be 1 to 100 letters, digits, '.', '_', '-' or '/', got '${v}'`,
    );
  return v;
}
