import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { readFile as fsReadFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import picomatch from 'picomatch';
import { BUILTIN_PROFILES } from './builtin.js';
import { PolicyError } from './errors.js';
import { loadPolicyFile, type PolicyFile } from './file.js';
import { normalizePinPath, type PinSet, parseLockfile } from './pins.js';
import { DEFAULT_POLICY, type Policy, type SignatureMode, type TrustedKey } from './policy.js';
import type { ProfileData } from './schema.js';

export { PolicyError } from './errors.js';
export { loadPolicyFile, loadPolicyText, type PolicyFile } from './file.js';
export { diffPins, formatLockfile, type Pin, type PinChange, type PinSet, parseLockfile } from './pins.js';

/** Overrides given on the command line or as action inputs; they win over the policy file and profile. */
export interface PolicyOverrides {
  /** A parsed policy file (loadPolicyText / loadPolicyFile). */
  file?: PolicyFile;
  /** A policy file path to read from disk (the CLI's --config), when `file` is not given. */
  configFile?: string;
  /** Profile to apply; when absent, the profile chosen by `branch` (policy `branches`), if any. */
  profile?: string;
  /** The branch being checked (the base branch of a PR, or the pushed branch) for `branches` globs. */
  branch?: string;
  maxScore?: number;
  allowIncomplete?: boolean;
  warnOnly?: boolean;
  signatures?: SignatureMode;
  /** PEM files (public keys or CA certificates), relative to the current directory, or PEM text. */
  trustedKeys?: string[];
  /** Sigstore keyless signers: exact certificate identity and exact OIDC issuer. */
  trustedIdentities?: Array<{ identity: string; issuer: string }>;
  /** A Sigstore trusted_root.json path (relative to the current directory) replacing the bundled one. */
  trustedRoot?: string;
  /**
   * Folder the policy file's relative paths (trust key files, lockfile, trustedRoot) resolve against: the
   * repository root, as for pins. Default: the current working directory (the CLI run from the repository
   * root; the action passes the workspace).
   */
  baseDir?: string;
  /**
   * Reads a file the policy file refers to (absolute path under baseDir). Default: the local disk. The action
   * passes a reader of the base branch, so a pull request cannot swap the keys or lockfile it is checked with.
   */
  readFile?: (path: string) => Promise<string>;
  /** Folder pin paths are relative to (default: the current working directory). */
  pinRoot?: string;
}

/**
 * The profile a branch gets from the policy file's `branches` (branch glob → profile, first match in file
 * order; `**` crosses `/`). Undefined when no glob matches or there is no file. Pure.
 */
export function chooseProfile(file: PolicyFile | undefined, branch: string | undefined): string | undefined {
  if (!file?.data.branches || !branch) return undefined;
  const b = branch.replace(/^refs\/heads\//, '');
  for (const [glob, profile] of Object.entries(file.data.branches)) {
    if (picomatch.isMatch(b, glob, { dot: true })) return profile;
  }
  return undefined;
}

/** The policy a scan runs under: the built-in default, then the policy file and profile, then overrides. */
export async function resolvePolicy(o: PolicyOverrides = {}): Promise<Policy> {
  const file = o.file ?? (o.configFile !== undefined ? await loadPolicyFile(o.configFile) : undefined);
  const policy: Policy = structuredClone(DEFAULT_POLICY) as Policy;
  const baseDir = o.baseDir ?? process.cwd();
  const read = o.readFile ?? ((p: string) => fsReadFile(p, 'utf8'));
  const source = file?.source ?? 'policy';

  const layers: Array<{ data: ProfileData; where: string }> = [];
  if (file) {
    const { profiles: _p, branches: _b, ...top } = file.data;
    layers.push({ data: top, where: file.source });
  }
  const profile = o.profile ?? chooseProfile(file, o.branch);
  if (profile !== undefined) {
    const builtin = BUILTIN_PROFILES[profile];
    const own = file?.data.profiles?.[profile];
    if (!builtin && !own) {
      const known = [...Object.keys(BUILTIN_PROFILES), ...Object.keys(file?.data.profiles ?? {})];
      throw new PolicyError(`unknown profile '${profile}' (known: ${[...new Set(known)].join(', ')})`, {
        source,
        key: 'profiles',
      });
    }
    if (builtin) layers.push({ data: builtin, where: `built-in profile ${profile}` });
    if (own) layers.push({ data: own, where: `${source} profile ${profile}` });
    policy.profile = profile;
  }

  if (file) policy.file = { source: file.source, sha256: file.sha256 };

  const lockfiles: string[] = [];
  for (const { data, where } of layers) {
    if (data.maxScore !== undefined) policy.maxScore = data.maxScore;
    if (data.failOnIncomplete !== undefined) policy.failOnIncomplete = data.failOnIncomplete;
    if (data.warnOnly !== undefined) policy.warnOnly = data.warnOnly;
    if (data.signatures !== undefined) policy.signatures = data.signatures;
    if (data.maxWaivedSeverity !== undefined) policy.maxWaivedSeverity = data.maxWaivedSeverity;
    for (const [id, adj] of Object.entries(data.rules ?? {})) {
      policy.ruleScores[id] = typeof adj === 'number' ? adj : adj.score;
    }
    for (const a of data.allow ?? []) policy.allow.push({ ...a });
    for (const w of data.waivers ?? []) {
      policy.waivers.push({ ...w, ...(w.sha256 ? { sha256: w.sha256.toLowerCase() } : {}) });
    }
    for (const [path, pin] of Object.entries(data.pins ?? {})) {
      const p = normalizePinPath(path, where);
      policy.pins[p] =
        typeof pin === 'string'
          ? { sha256: pin.toLowerCase() }
          : { sha256: pin.sha256.toLowerCase(), ...(pin.size !== undefined ? { size: pin.size } : {}) };
    }
    if (data.lockfile !== undefined) lockfiles.push(data.lockfile);
    for (const k of data.trust?.keys ?? []) {
      const pem = k.pem ?? (await readRef(read, baseDir, k.path!, where, 'trust.keys'));
      policy.trust.keys.push(
        ...checkedKeys(
          { name: k.name ?? k.path ?? 'inline key', pem, ...(k.paths ? { paths: k.paths } : {}) },
          where,
        ),
      );
    }
    for (const id of data.trust?.identities ?? []) policy.trust.identities.push({ ...id });
    if (data.trust?.trustedRoot !== undefined) {
      policy.trust.trustedRoot = await readRef(
        read,
        baseDir,
        data.trust.trustedRoot,
        where,
        'trust.trustedRoot',
      );
      policy.trust.trustedRootSource = data.trust.trustedRoot;
    }
    if (data.publishers !== undefined) policy.publishers = [...data.publishers];
    if (data.sbom !== undefined) {
      const prev = policy.sbom;
      policy.sbom = {
        require: data.sbom.require ?? prev?.require ?? false,
        licenses: data.sbom.licenses ?? prev?.licenses,
        denyDatasets: data.sbom.denyDatasets ?? prev?.denyDatasets ?? [],
        denySensitiveData: data.sbom.denySensitiveData ?? prev?.denySensitiveData ?? false,
      };
      if (policy.sbom.licenses === undefined) delete policy.sbom.licenses;
    }
    for (const [k, v] of Object.entries(data.limits ?? {})) {
      if (v !== undefined) policy.limits[k as keyof Policy['limits']] = v;
    }
  }
  // The last lockfile named wins (a profile may point at its own); entries in `pins` win over the lockfile.
  const lockfile = lockfiles.at(-1);
  if (lockfile !== undefined) {
    const text = await readRef(read, baseDir, lockfile, source, 'lockfile');
    const fromLock: PinSet = parseLockfile(text, lockfile);
    policy.pins = { ...fromLock, ...policy.pins };
  }

  const overrides: Record<string, unknown> = {};
  if (o.maxScore !== undefined) policy.maxScore = overrides.maxScore = o.maxScore;
  if (o.allowIncomplete) policy.failOnIncomplete = overrides.failOnIncomplete = false;
  if (o.warnOnly) policy.warnOnly = overrides.warnOnly = true;
  if (o.signatures !== undefined) policy.signatures = overrides.signatures = o.signatures;
  const sha = (t: string) => `sha256:${createHash('sha256').update(t, 'utf8').digest('hex')}`;
  for (const k of o.trustedKeys ?? []) {
    const pem = k.includes('-----BEGIN') ? k : await readLocal(k, '--trusted-key');
    const keys = checkedKeys({ name: k.includes('-----BEGIN') ? 'key' : k, pem }, '--trusted-key');
    policy.trust.keys.push(...keys);
    overrides.trustedKeys = [...((overrides.trustedKeys as string[]) ?? []), ...keys.map((x) => sha(x.pem))];
  }
  for (const id of o.trustedIdentities ?? []) {
    if (!id.identity || !id.issuer) {
      throw new PolicyError('--trusted-identity and --trusted-issuer must be given together, non-empty');
    }
    policy.trust.identities.push({ identity: id.identity, issuer: id.issuer });
    overrides.trustedIdentities = [...((overrides.trustedIdentities as unknown[]) ?? []), { ...id }];
  }
  if (o.trustedRoot !== undefined) {
    policy.trust.trustedRoot = await readLocal(o.trustedRoot, '--trusted-root');
    policy.trust.trustedRootSource = o.trustedRoot;
    overrides.trustedRoot = sha(policy.trust.trustedRoot);
  }
  if (Object.keys(overrides).length > 0) policy.overrides = overrides;
  if (policy.trust.trustedRoot !== undefined) {
    try {
      JSON.parse(policy.trust.trustedRoot);
    } catch (err) {
      throw new PolicyError(
        `trusted root ${policy.trust.trustedRootSource}: not JSON (${(err as Error).message})`,
        { key: 'trust.trustedRoot' },
      );
    }
  }
  if (o.pinRoot !== undefined) policy.pinRoot = o.pinRoot;
  return policy;
}

async function readRef(
  read: (p: string) => Promise<string>,
  baseDir: string,
  ref: string,
  where: string,
  key: string,
): Promise<string> {
  const p = isAbsolute(ref) ? ref : join(baseDir, ref);
  try {
    return await read(p);
  } catch (err) {
    throw new PolicyError(`${where}: ${key}: cannot read ${ref}: ${(err as Error).message}`, {
      source: where,
      key,
    });
  }
}

async function readLocal(path: string, flag: string): Promise<string> {
  try {
    return await fsReadFile(path, 'utf8');
  } catch (err) {
    throw new PolicyError(`${flag} ${path}: ${(err as Error).message}`, { key: flag });
  }
}

/**
 * Splits a PEM file into its blocks (a CA bundle holds several certificates) and checks that each is a public
 * key or certificate Node can use. Blocks other than keys and certificates are an error.
 */
function checkedKeys(k: TrustedKey, where: string): TrustedKey[] {
  const blocks = k.pem.match(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g) ?? [];
  const fail = (why: string): never => {
    throw new PolicyError(`${where}: trusted key ${k.name} is not a PEM public key or certificate (${why})`, {
      source: where,
      key: 'trust.keys',
    });
  };
  if (blocks.length === 0) fail('no PEM block');
  return blocks.map((pem, i) => {
    try {
      if (pem.startsWith('-----BEGIN CERTIFICATE-----')) new X509Certificate(pem);
      else if (/^-----BEGIN (EC |RSA )?PRIVATE KEY-----/.test(pem))
        fail('a private key: give the public key');
      else createPublicKey(pem);
    } catch (err) {
      if (err instanceof PolicyError) throw err;
      fail((err as Error).message);
    }
    return { ...k, pem: `${pem}\n`, ...(blocks.length > 1 ? { name: `${k.name} #${i + 1}` } : {}) };
  });
}
