import { z } from 'zod';
import { LIMIT_NAMES, type Limits } from '../limits.js';
import { SEVERITIES } from '../types.js';

// The policy file's schema (YAML, camelCase keys). Every object is strict: an unknown key is an error that
// names the key and its line (see file.ts). the README (Trust) documents every key; keep the two in step.

const SHA256 = /^[0-9a-fA-F]{64}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The schemas, built on first use: building them costs milliseconds, and most runs read no policy file. */
function build() {
  const sha256 = z.string().regex(SHA256, 'must be 64 hexadecimal digits (a SHA-256)');
  const score = z.number().int().min(0).max(100);
  const nonEmpty = z.string().trim().min(1, 'must not be empty');
  const globList = z.array(nonEmpty).min(1, 'must list at least one glob');

  const isoDate = z
    .string()
    .regex(DATE, 'must be a date written YYYY-MM-DD')
    .refine((s) => {
      const d = new Date(`${s}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
    }, 'is not a real calendar date');

  /** `MG105: 80` or `MG105: {score: 80}`. */
  const ruleAdjustment = z.union([score, z.strictObject({ score })]);

  const allowEntry = z.strictObject({
    module: nonEmpty,
    name: nonEmpty,
    reason: nonEmpty,
  });

  const waiver = z.strictObject({
    ruleId: z.string().regex(/^MG\d{3}$/, 'must be a rule id such as MG105'),
    path: nonEmpty,
    sha256: sha256.optional(),
    reason: nonEmpty,
    expires: isoDate,
  });

  /** `path: <sha256>` or `path: {sha256, size}`. */
  const pin = z.union([sha256, z.strictObject({ sha256, size: z.number().int().min(0).optional() })]);

  const trustedKey = z
    .strictObject({
      name: nonEmpty.optional(),
      /** A PEM file (public key or CA certificate), relative to the repository root. */
      path: nonEmpty.optional(),
      /** The PEM text itself. */
      pem: nonEmpty.optional(),
      paths: globList.optional(),
    })
    .refine((k) => (k.path === undefined) !== (k.pem === undefined), 'give exactly one of `path` or `pem`');

  const trustedIdentity = z.strictObject({
    identity: nonEmpty,
    issuer: z.string().url('must be the OIDC issuer URL'),
    paths: globList.optional(),
  });

  const trust = z.strictObject({
    keys: z.array(trustedKey).optional(),
    identities: z.array(trustedIdentity).optional(),
    /** A Sigstore trusted_root.json, relative to the repository root (default: the bundled one). */
    trustedRoot: nonEmpty.optional(),
  });

  const sbom = z.strictObject({
    /** Every model folder must carry an SBOM (CycloneDX ML-BOM or SPDX 3 AI package). */
    require: z.boolean().optional(),
    /** Allowed licence ids (SPDX); a declared licence outside the list is a finding. */
    licenses: z.array(nonEmpty).optional(),
    /** Globs over dataset names and URLs that must not appear among the training/test datasets. */
    denyDatasets: z.array(nonEmpty).optional(),
    /** Datasets declared as holding sensitive personal information are findings. */
    denySensitiveData: z.boolean().optional(),
  });

  const limitsShape = Object.fromEntries(
    LIMIT_NAMES.map((k) => [k, z.number().int().positive().optional()]),
  ) as Record<keyof Limits, z.ZodOptional<z.ZodNumber>>;
  const limits = z.strictObject(limitsShape);

  /** Keys a profile may override (everything but `profiles` and `branches`). */
  const overrideShape = {
    maxScore: score.optional(),
    failOnIncomplete: z.boolean().optional(),
    warnOnly: z.boolean().optional(),
    signatures: z.enum(['off', 'warn', 'require']).optional(),
    maxWaivedSeverity: z.enum(SEVERITIES).optional(),
    rules: z
      .record(z.string().regex(/^MG\d{3}$/, 'must be a rule id such as MG105'), ruleAdjustment)
      .optional(),
    allow: z.array(allowEntry).optional(),
    waivers: z.array(waiver).optional(),
    pins: z.record(nonEmpty, pin).optional(),
    lockfile: nonEmpty.optional(),
    trust: trust.optional(),
    publishers: z.array(nonEmpty).optional(),
    sbom: sbom.optional(),
    limits: limits.optional(),
  };

  const profileSchema = z.strictObject(overrideShape);

  const policyFileSchema = z.strictObject({
    ...overrideShape,
    profiles: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]+$/, 'profile names are letters, digits, _ . -'),
        profileSchema,
      )
      .optional(),
    /** Branch glob → profile name, first match in file order wins. */
    branches: z.record(nonEmpty, nonEmpty).optional(),
  });
  return { profileSchema, policyFileSchema, waiver, pin };
}

type Schemas = ReturnType<typeof build>;
let built: Schemas | undefined;

/** The policy file's schema. */
export function policyFileSchema(): Schemas['policyFileSchema'] {
  built ??= build();
  return built.policyFileSchema;
}

export type PolicyFileData = z.infer<Schemas['policyFileSchema']>;
export type ProfileData = z.infer<Schemas['profileSchema']>;
export type WaiverData = z.infer<Schemas['waiver']>;
export type PinData = z.infer<Schemas['pin']>;
