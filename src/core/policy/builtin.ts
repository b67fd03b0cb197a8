import type { ProfileData } from './schema.js';

/**
 * Profiles every policy has. `strict`: a valid signature from a trusted signer is required for every model
 * folder, any finding with points blocks (max score 0), and waivers cannot silence high or critical findings.
 * A policy file may define its own `strict`; it is applied on top of this one.
 */
export const BUILTIN_PROFILES: Readonly<Record<string, Readonly<ProfileData>>> = Object.freeze({
  strict: Object.freeze({ signatures: 'require', maxScore: 0, maxWaivedSeverity: 'medium' }),
});
