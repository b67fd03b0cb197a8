import { DEFAULT_POLICY, type Policy } from './policy.js';

/** Overrides given on the command line or as action inputs; they win over the policy file. */
export interface PolicyOverrides {
  configFile?: string;
  profile?: string;
  maxScore?: number;
  allowIncomplete?: boolean;
  warnOnly?: boolean;
}

export class PolicyError extends Error {
  override name = 'PolicyError';
}

/** The policy a scan runs under: the built-in default, then the policy file and profile, then overrides. */
export async function resolvePolicy(o: PolicyOverrides): Promise<Policy> {
  if (o.configFile !== undefined || o.profile !== undefined) {
    throw new PolicyError('policy files are not supported by this build');
  }
  const policy: Policy = structuredClone(DEFAULT_POLICY) as Policy;
  if (o.maxScore !== undefined) policy.maxScore = o.maxScore;
  if (o.allowIncomplete) policy.failOnIncomplete = false;
  if (o.warnOnly) policy.warnOnly = true;
  return policy;
}
