import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadSigningKey } from '../core/attest/dsse.js';
import { type AttestationVerification, verifyAttestationText } from '../core/attest/verify.js';
import { buildStatement, envelopeFor, resourceUriForPaths } from '../core/attest/vsa.js';
import { sha256File } from '../core/hash.js';
import type { Policy } from '../core/policy/policy.js';
import { hashForKey } from '../core/trust/signature.js';
import type { ScanReport } from '../core/types.js';
import { walk } from '../core/walk.js';
import { UsageError } from './usage.js';

// The CLI side of attestations: `scan --attest FILE [--attest-key PEM]` writes the VSA the core builds
// (src/core/attest), and `verify-attestation` is the deployment gate's check of one.

/** Options `scan` takes for attestations (parseArgs option table). */
export const ATTEST_OPTIONS = {
  attest: { type: 'string' },
  'attest-key': { type: 'string' },
  'resource-uri': { type: 'string' },
} as const;

export const ATTEST_USAGE = `  --attest FILE                       write a SLSA Verification Summary Attestation of this scan (DSSE
                                      envelope of an in-toto statement) to FILE, PASSED or FAILED
  --attest-key PEM_FILE               sign it with this private key (ECDSA P-256 or Ed25519); default unsigned
  --resource-uri URI                  the attestation's resourceUri (default: file: URL of the scanned path)`;

interface AttestValues {
  attest?: string;
  'attest-key'?: string;
  'resource-uri'?: string;
}

/** Reads the signing key before the scan runs, so that a bad key is a usage error, not a lost scan. */
export async function attestSetup(v: AttestValues): Promise<{ file: string; key?: KeyObject } | undefined> {
  if (v.attest === undefined) {
    if (v['attest-key'] !== undefined || v['resource-uri'] !== undefined)
      throw new UsageError('--attest-key and --resource-uri go with --attest FILE');
    return undefined;
  }
  if (v.attest === '') throw new UsageError('--attest needs a file name');
  if (v['attest-key'] === undefined) return { file: v.attest };
  let pem: string;
  try {
    pem = await readFile(v['attest-key'], 'utf8');
  } catch (err) {
    throw new UsageError(`--attest-key ${v['attest-key']}: ${(err as Error).message}`);
  }
  try {
    return { file: v.attest, key: loadSigningKey(pem) };
  } catch (err) {
    throw new UsageError(`--attest-key ${v['attest-key']}: ${(err as Error).message}`);
  }
}

/** Writes the attestation of a finished scan. */
export async function writeAttestation(
  setup: { file: string; key?: KeyObject },
  v: AttestValues,
  report: ScanReport,
  policy: Readonly<Policy>,
  paths: readonly string[],
): Promise<void> {
  const statement = buildStatement(report, policy, {
    resourceUri: v['resource-uri'] ?? resourceUriForPaths(paths),
  });
  await writeFile(setup.file, `${JSON.stringify(envelopeFor(statement, setup.key), null, 2)}\n`);
}

export const VERIFY_ATTESTATION_USAGE = `Usage: modelgate verify-attestation ATTESTATION --trusted-key PUB_PEM [options] PATH...

Checks a modelgate attestation (modelgate scan --attest) before deployment: its DSSE signature by a
trusted key, the in-toto statement and SLSA VSA predicate types, verifier modelgate, verificationResult
PASSED, and that every file given (folders: every file under them) has a SHA-256 the attestation names.

Options:
  --trusted-key PEM_FILE              repeatable: public key (ECDSA P-256/384/521 or Ed25519) trusted to sign
  --policy-digest SHA256              the policy applied must have this digest
  --config POLICY_FILE                the policy applied must be this file (its bytes' SHA-256), as is
  --resource-uri URI                  the attestation's resourceUri must be this
  --verified-level LEVEL              repeatable: verifiedLevels must hold LEVEL (e.g. MODELGATE_PROFILE_STRICT)
  --format text|json                  output format (default text)

Exit codes: 0 every check holds; 1 verification failed (the failed checks are named); 3 usage error.`;

/** `modelgate verify-attestation`. Returns the exit code; throws UsageError for usage problems. */
export async function verifyAttestationCommand(
  args: string[],
  io: { stdout: (s: string) => void },
): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${VERIFY_ATTESTATION_USAGE}\n`);
    return 0;
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--format must be text or json, got '${format}'`);
  const [attestation, ...paths] = positionals;
  if (attestation === undefined) throw new UsageError('verify-attestation needs the attestation file');
  if (paths.length === 0) throw new UsageError('verify-attestation needs the files to check (PATH...)');
  if (!values['trusted-key']?.length) throw new UsageError('verify-attestation needs --trusted-key PUB_PEM');
  if (values['policy-digest'] !== undefined && values.config !== undefined)
    throw new UsageError('give --policy-digest or --config, not both');
  let policyDigest = values['policy-digest'];
  if (policyDigest !== undefined && !/^(sha256:)?[0-9a-fA-F]{64}$/.test(policyDigest))
    throw new UsageError(`--policy-digest must be a SHA-256 (64 hex digits), got '${policyDigest}'`);
  policyDigest = policyDigest?.replace(/^sha256:/, '');
  if (values.config !== undefined) policyDigest = await sha256Of(values.config, '--config');

  const trustedKeys = await Promise.all(values['trusted-key'].map(readPublicKey));
  const text = await readFile(attestation, 'utf8').catch((err: Error) => {
    throw new UsageError(`cannot read ${attestation}: ${err.message}`);
  });
  const files: Array<{ path: string; sha256: string }> = [];
  const problems: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) throw new UsageError(`cannot check ${p}: no such file or directory`);
    for (const e of await walk(p)) {
      const shown = st.isDirectory() ? `${p.replace(/\/+$/, '')}/${e.relPath}` : e.relPath;
      if (e.kind === 'file') files.push({ path: shown, sha256: await sha256File(e.absPath) });
      else problems.push(`${shown}: ${e.kind === 'skipped' ? e.why : `${e.what}, not a stored file`}`);
    }
  }
  const v = verifyAttestationText(text, {
    trustedKeys,
    files,
    ...(policyDigest !== undefined ? { policyDigest } : {}),
    ...(values['resource-uri'] !== undefined ? { resourceUri: values['resource-uri'] } : {}),
    ...(values['verified-level']?.length ? { verifiedLevels: values['verified-level'] } : {}),
  });
  // Entries that are not regular files (links out of the folder, devices) cannot be admitted by digest.
  for (const p of problems) v.checks.push({ name: 'file', ok: false, detail: p });
  v.ok = v.checks.every((c) => c.ok);
  io.stdout(
    format === 'json' ? `${JSON.stringify(jsonForm(attestation, v), null, 2)}\n` : textForm(attestation, v),
  );
  return v.ok ? 0 : 1;
}

function jsonForm(attestation: string, v: AttestationVerification) {
  const p = v.statement?.predicate;
  return {
    attestation,
    verified: v.ok,
    ...(v.signer ? { signer: `sha256:${v.signer}` } : {}),
    ...(p?.policy ? { policy: p.policy } : {}),
    ...(p?.resourceUri ? { resourceUri: p.resourceUri } : {}),
    ...(p?.timeVerified ? { timeVerified: p.timeVerified } : {}),
    checks: v.checks,
    failed: v.checks.filter((c) => !c.ok).map((c) => c.name),
  };
}

function textForm(attestation: string, v: AttestationVerification): string {
  const lines = [`${attestation}: ${v.ok ? 'VERIFIED' : 'FAILED'}`];
  for (const c of v.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
  return `${lines.join('\n')}\n`;
}

async function sha256Of(path: string, flag: string): Promise<string> {
  try {
    return await sha256File(path);
  } catch (err) {
    throw new UsageError(`${flag} ${path}: ${(err as Error).message}`);
  }
}

async function readPublicKey(path: string): Promise<KeyObject> {
  try {
    const key = createPublicKey(await readFile(path, 'utf8'));
    hashForKey(key); // EC P-256/384/521 or Ed25519, else an error now rather than "does not verify" later
    return key;
  } catch (err) {
    throw new UsageError(`--trusted-key ${path}: not a usable public key (${(err as Error).message})`);
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      'trusted-key': { type: 'string', multiple: true },
      'policy-digest': { type: 'string' },
      config: { type: 'string' },
      'resource-uri': { type: 'string' },
      'verified-level': { type: 'string', multiple: true },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
