import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type PolicyOverrides, resolvePolicy } from '../core/policy/resolve.js';
import { type FolderVerification, verifyModelFolder } from '../core/trust/folder.js';
import { UsageError } from './usage.js';

/** Options shared by `scan` and `verify` for trusted signers (parseArgs option table). */
export const TRUST_OPTIONS = {
  'require-signature': { type: 'boolean' },
  'trusted-key': { type: 'string', multiple: true },
  'trusted-identity': { type: 'string', multiple: true },
  'trusted-issuer': { type: 'string', multiple: true },
  'trusted-root': { type: 'string' },
} as const;

export const TRUST_USAGE = `  --require-signature                 every model folder needs a valid signature by a trusted signer
  --trusted-key PEM_FILE              repeatable: public key or CA certificate trusted for signatures
  --trusted-identity ID --trusted-issuer URL
                                      repeatable pair: Sigstore keyless signer (exact identity and issuer)
  --trusted-root FILE                 Sigstore trusted_root.json to use instead of the bundled one`;

export const VERIFY_USAGE = `Usage: modelgate verify DIR [options]

Verifies the OpenSSF model signature (DIR/model.sig) of a model folder offline and prints who signed it,
when, and which files it covers.

Options:
  --format text|json                  output format (default text)
  --config FILE                       policy file (YAML): its trust section lists the trusted signers
  --profile NAME                      profile of the policy file
${TRUST_USAGE.split('\n').slice(1).join('\n')}

Exit codes: 0 valid signature by a trusted signer over exactly the folder's files; 1 unsigned, invalid,
untrusted or tampered; 3 usage error.`;

interface TrustValues {
  'require-signature'?: boolean;
  'trusted-key'?: string[];
  'trusted-identity'?: string[];
  'trusted-issuer'?: string[];
  'trusted-root'?: string;
}

/** Turns the trust flags into resolvePolicy overrides; throws Error (a usage error) on unpaired flags. */
export function trustOverrides(v: TrustValues): Partial<PolicyOverrides> {
  const ids = v['trusted-identity'] ?? [];
  const issuers = v['trusted-issuer'] ?? [];
  if (ids.length !== issuers.length) {
    throw new Error(
      `--trusted-identity and --trusted-issuer come in pairs (got ${ids.length} identities and ${issuers.length} issuers)`,
    );
  }
  const o: Partial<PolicyOverrides> = {};
  if (v['require-signature']) o.signatures = 'require';
  if (v['trusted-key']?.length) o.trustedKeys = v['trusted-key'];
  if (ids.length) o.trustedIdentities = ids.map((identity, i) => ({ identity, issuer: issuers[i]! }));
  if (v['trusted-root'] !== undefined) o.trustedRoot = v['trusted-root'];
  return o;
}

/** `modelgate verify DIR`. Returns the exit code; throws UsageError / PolicyError for usage problems. */
export async function verifyCommand(args: string[], io: { stdout: (s: string) => void }): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${VERIFY_USAGE}\n`);
    return 0;
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new UsageError(`--format must be text or json, got '${format}'`);
  }
  if (positionals.length !== 1) throw new UsageError('verify takes exactly one model folder');
  const dir = positionals[0]!;
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`${dir} is not a folder`);
  let trust: Partial<PolicyOverrides>;
  try {
    trust = trustOverrides(values);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const policy = await resolvePolicy({
    ...(values.config !== undefined ? { configFile: values.config } : {}),
    ...(values.profile !== undefined ? { profile: values.profile } : {}),
    ...trust,
  });
  const v = await verifyModelFolder(resolve(dir), policy.trust, { folder: '' });
  if (format === 'json') {
    const { check, ...rest } = v;
    io.stdout(
      `${JSON.stringify(
        {
          ...rest,
          folder: dir,
          trustedRoot: policy.trust.trustedRootSource ?? 'bundled',
          ...(check
            ? {
                coveredFiles: check.covered,
                modifiedFiles: check.modified,
                extraFiles: check.extra,
                missingFiles: check.missing,
                symlinks: check.symlinks,
                ignoredFiles: check.ignored,
                sidecarFiles: check.sidecars,
              }
            : {}),
        },
        null,
        2,
      )}\n`,
    );
  } else io.stdout(renderVerification(dir, v, policy.trust.trustedRootSource));
  return v.status === 'verified' ? 0 : 1;
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      format: { type: 'string' },
      config: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...TRUST_OPTIONS,
    },
  });
}

const METHOD: Record<string, string> = {
  key: 'public key',
  certificate: 'certificate chain in the bundle',
  sigstore: 'Sigstore keyless (Fulcio certificate, transparency log)',
  unknown: 'unknown',
};

/** The text form of a folder verification (also used by reports that want the details). */
export function renderVerification(dir: string, v: FolderVerification, trustedRoot?: string): string {
  const lines: string[] = [`${dir}: ${v.status.toUpperCase()}`];
  const row = (k: string, val: string | undefined) => {
    if (val !== undefined && val !== '') lines.push(`  ${`${k}:`.padEnd(12)} ${val}`);
  };
  if (v.method) row('method', METHOD[v.method] ?? v.method);
  if (v.signer) {
    row('signer', v.signer.identity ?? v.signer.name);
    if (v.signer.subject && v.signer.subject !== v.signer.identity) row('subject', v.signer.subject);
    row('issuer', v.signer.issuer);
    row('key', `sha256:${v.signer.keyFingerprint}`);
    row('trusted as', v.signer.trustedAs ?? (v.signerTrusted ? undefined : 'not trusted'));
  }
  row(
    'signed at',
    v.signedAt
      ? `${v.signedAt} (${v.signedAtSource})`
      : v.method
        ? 'no trusted time (no log entry or timestamp)'
        : undefined,
  );
  if (v.method === 'sigstore') row('trust root', trustedRoot ?? 'bundled (sigstore public good)');
  if (v.serialization) {
    row('predicate', `${v.predicateType} (${v.serialization.method}, ${v.serialization.hashType})`);
  }
  if (v.signedFiles) row('covers', `${v.signedFiles.length} files: ${v.signedFiles.join(', ')}`);
  if (v.check?.ignored.length) row('ignored', v.check.ignored.join(', '));
  if (v.check?.sidecars.length) row('sidecars', `${v.check.sidecars.join(', ')} (attestations, signatures)`);
  if (v.check?.modified.length) row('modified', v.check.modified.join(', '));
  if (v.check?.extra.length) row('unsigned', v.check.extra.join(', '));
  if (v.check?.missing.length) row('missing', v.check.missing.join(', '));
  if (v.check?.symlinks.length) row('links', v.check.symlinks.join(', '));
  for (const p of v.problems) row('problem', p);
  return `${lines.join('\n')}\n`;
}
