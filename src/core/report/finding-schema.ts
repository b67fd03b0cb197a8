import { z } from 'zod';
import { SEVERITIES } from '../types.js';

/**
 * The fields of a finding as modelgate writes one (types.ts `Finding`, without `waived`), for every schema
 * that reads findings back: merged reports and the two result caches. A reader that accepts waivers (a
 * report) adds `waived`; a cache must not, so that a restored result is judged by the policy again.
 * Call it when building a schema (building zod schemas costs milliseconds, so schemas are built on use).
 */
export function findingShape() {
  return {
    ruleId: z.string().max(16),
    severity: z.enum(SEVERITIES),
    score: z.number().min(0).max(100),
    message: z.string().max(20_000),
    location: z.strictObject({
      member: z.string().max(8192).optional(),
      offset: z.number().int().nonnegative().optional(),
      symbol: z.string().max(8192).optional(),
      line: z.number().int().positive().optional(),
    }),
  };
}
