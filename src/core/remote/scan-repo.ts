import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DiskLocation, ScanSettings } from '../context.js';
import { detectAll, makeProbe } from '../detect.js';
import { ANALYZERS } from '../formats/registry.js';
import type { Policy } from '../policy/policy.js';
import { finish } from '../scan.js';
import { mapConcurrent, scanFileOnDisk, scanSource } from '../scan-file.js';
import { publisherAllowed } from '../trust/publishers.js';
import type { FileReport, Finding, FormatId } from '../types.js';
import { type HubClient, HubIntegrityError, type TreeFile } from './hub.js';
import { DEFAULT_REVISION, hfPath, isCommitSha, type RepoRef } from './ref.js';
import { remoteSource } from './source.js';

/**
 * Scans one Hub repository at one revision without cloning it:
 *
 * 1. The revision is resolved to its commit and the commit's files are listed (sizes, LFS sha256).
 * 2. Every listed file is created in a temporary folder as a sparse file of its size, so analyzers that
 *    look at a file's neighbours (an index and its shards, modeling code next to a config) see the
 *    repository's layout.
 * 3. Large LFS files whose content is a header-described format (safetensors, GGUF: the analyzers read the
 *    header and seek over the tensor bytes) are judged through Range requests; their report carries the
 *    Hub's sha256 (`sha256Source: "hub"`).
 * 4. Everything else (configs, tokenizers, templates, Python, and every format a loader may run code from:
 *    pickle, PyTorch, joblib, ...) is downloaded whole into the folder, checked against the listed sha256
 *    (LFS) or git blob id, and scanned exactly as a local file. Large downloads are freed after their scan.
 *
 * Any failure (401/403/404/5xx, network, truncated or altered bytes) gives MG951/MG952: `incomplete`.
 */

/** Formats judged from their header alone: their analyzers seek over the tensor data instead of reading it. */
const HEADER_FORMATS: ReadonlySet<FormatId> = new Set(['safetensors', 'gguf']);
/** Files up to this size are downloaded whole whatever they are (a Range read would save nothing). */
const WHOLE_BYTES = 1 << 20;
/** Remote files judged at once (each holds at most one 4 MiB read and a 32 MiB read cache). */
const REMOTE_CONCURRENCY = 4;

/** A per-file result cache keyed by content sha256 (the action's). */
export interface RemoteResultCache {
  restore(path: string, sha256: string, size: number): Promise<FileReport | undefined>;
  save(f: FileReport): Promise<void>;
}

export interface RemoteScanOptions {
  hub: HubClient;
  policy: Readonly<Policy>;
  now: Date;
  /** Scan only these files of the repository (hf_hub_download(filename=...)); default: all. */
  paths?: readonly string[];
  /** Scan only the files this accepts (snapshot_download's patterns, a subfolder); default: all. */
  include?: (path: string) => boolean;
  /** MG950 on the repository entry when the revision is not a commit (default true). */
  reportUnpinned?: boolean;
  cache?: RemoteResultCache;
  /** LFS files up to this size are downloaded whole whatever their format (default WHOLE_BYTES). */
  wholeBytes?: number;
}

export interface RemoteScanResult {
  /** The repository entry (path `hf://OWNER/NAME@SHA`) first, then its files. */
  files: FileReport[];
  /** The commit the revision resolved to, when it did. */
  sha?: string;
  bytesRead: number;
  requests: number;
  /** Sum of the sizes of the files judged. */
  totalBytes: number;
}

export async function scanHubRepo(ref: RepoRef, opts: RemoteScanOptions): Promise<RemoteScanResult> {
  const { hub, policy, now } = opts;
  const revision = ref.revision ?? DEFAULT_REVISION;
  const startBytes = hub.traffic.bytes;
  const startRequests = hub.traffic.requests;
  const repoFindings: Finding[] = [];
  const facts: Record<string, unknown> = { 'hf.repo': ref.repoId, 'hf.revision': revision };
  const files: FileReport[] = [];
  let totalBytes = 0;
  const done = (sha: string | undefined): RemoteScanResult => {
    facts['hf.bytesRead'] = hub.traffic.bytes - startBytes;
    facts['hf.requests'] = hub.traffic.requests - startRequests;
    const repo = finish(
      hfPath(ref.repoId, sha ?? revision),
      'hf-repository',
      totalBytes,
      '',
      repoFindings,
      facts,
      policy,
      now,
    );
    return {
      files: [repo, ...files],
      ...(sha ? { sha } : {}),
      bytesRead: hub.traffic.bytes - startBytes,
      requests: hub.traffic.requests - startRequests,
      totalBytes,
    };
  };

  let sha: string;
  try {
    ({ sha } = await hub.resolveRevision(ref.repoId, revision));
  } catch (err) {
    repoFindings.push(remoteFinding(err, `Revision ${revision} of ${ref.repoId} could not be resolved`));
    return done(undefined);
  }
  facts['hf.commit'] = sha;
  // The policy's publishers allowlist applies to the repository itself, as to the sources a folder declares.
  if (policy.publishers && !publisherAllowed(ref.repoId, policy.publishers))
    repoFindings.push({
      ruleId: 'MG630',
      severity: 'high',
      score: 60,
      message: `${ref.repoId} is not in the publishers allowlist (${policy.publishers.join(', ')}).`,
      location: { symbol: ref.repoId },
    });
  if (!isCommitSha(ref.revision) && opts.reportUnpinned !== false)
    repoFindings.push(unpinnedFinding(ref, sha));

  let tree: TreeFile[];
  try {
    tree = await hub.listFiles(ref.repoId, sha, policy.limits.maxEntries);
  } catch (err) {
    repoFindings.push(remoteFinding(err, `The files of ${ref.repoId}@${sha} could not be listed`));
    return done(sha);
  }
  let selected = tree;
  if (opts.paths) {
    const wanted = new Set(opts.paths);
    selected = tree.filter((f) => wanted.has(f.path));
    for (const p of wanted) {
      if (!selected.some((f) => f.path === p))
        repoFindings.push({
          ruleId: 'MG951',
          severity: 'medium',
          score: 0,
          message: `${p} is not a file of ${ref.repoId} at commit ${sha} (a loader would fail on it, or find it elsewhere).`,
          location: { symbol: p },
        });
    }
  }
  if (opts.include) selected = selected.filter((f) => opts.include!(f.path));
  facts['hf.files'] = selected.length;
  totalBytes = selected.reduce((n, f) => n + f.size, 0);

  const mirror = await mkdtemp(join(tmpdir(), 'modelgate-hf-'));
  try {
    for (const f of tree) {
      const abs = join(mirror, f.path);
      await mkdir(dirname(abs), { recursive: true });
      const fh = await open(abs, 'w');
      await fh.truncate(f.size).finally(() => fh.close());
    }
    const settings: ScanSettings = { limits: policy.limits, allowGlobals: policy.allow };
    const ctx: RepoScan = { ref, sha, mirror, settings, opts };
    const ranged: FileReport[] = [];
    const whole: TreeFile[] = [];
    const large: TreeFile[] = [];
    const candidates: TreeFile[] = [];
    for (const f of selected) {
      const hit =
        f.lfs && opts.cache
          ? await opts.cache.restore(hfPath(ref.repoId, sha, f.path), f.lfs.sha256, f.size)
          : undefined;
      if (hit) {
        // The same bytes (sha256) were judged before, by this scanner under this policy.
        ranged.push({ ...hit, sha256Source: 'hub' });
        continue;
      }
      if (!f.lfs || f.size <= (opts.wholeBytes ?? WHOLE_BYTES)) whole.push(f);
      else candidates.push(f);
    }
    // Range reads are latency-bound (two requests each: the Hub, then the CDN): a few files at a time.
    const judged = await mapConcurrent(candidates, REMOTE_CONCURRENCY, (f) => scanByRanges(ctx, f));
    candidates.forEach((f, i) => {
      const r = judged[i];
      if (r) ranged.push(r);
      else large.push(f);
    });
    // Small files after the ranged ones: an index reading its shards' headers finds them in the mirror.
    const small = await mapConcurrent(whole, REMOTE_CONCURRENCY, (f) => scanWhole(ctx, f, false));
    const big: FileReport[] = [];
    for (const f of large) big.push(await scanWhole(ctx, f, true));
    const byPath = new Map([...ranged, ...small, ...big].map((r) => [r.path, r]));
    for (const f of selected) {
      const r = byPath.get(hfPath(ref.repoId, sha, f.path));
      if (r) files.push(checkRemotePin(r, f, policy, now));
    }
    if (opts.cache) for (const r of files) await opts.cache.save(r);
    // A lockfile entry for a file the commit does not have: the lock describes other content.
    const prefix = `${hfPath(ref.repoId, sha)}/`;
    const listed = new Set(tree.map((f) => f.path));
    for (const key of Object.keys(policy.pins)) {
      if (key.startsWith(prefix) && !listed.has(key.slice(prefix.length)))
        repoFindings.push({
          ruleId: 'MG610',
          severity: 'critical',
          score: 100,
          message: `${key} is pinned, but commit ${sha} of ${ref.repoId} has no such file.`,
          location: { symbol: key.slice(prefix.length) },
        });
    }
  } catch (err) {
    repoFindings.push(remoteFinding(err, `The scan of ${ref.repoId}@${sha} failed`));
  } finally {
    await rm(mirror, { recursive: true, force: true });
  }
  return done(sha);
}

interface RepoScan {
  ref: RepoRef;
  sha: string;
  mirror: string;
  settings: ScanSettings;
  opts: RemoteScanOptions;
}

/**
 * Judges a large LFS file through Range requests when its content is a header-described format; returns
 * undefined when it is not (the caller downloads it whole). A failure to read is the file's finding.
 */
async function scanByRanges(s: RepoScan, f: TreeFile): Promise<FileReport | undefined> {
  const { hub, policy, now } = s.opts;
  const path = hfPath(s.ref.repoId, s.sha, f.path);
  const abs = join(s.mirror, f.path);
  const fh = await open(abs, 'r+');
  try {
    const src = remoteSource(path, f.size, (a, b) => hub.readRange(s.ref.repoId, s.sha, f, a, b), fh);
    let formats: FormatId[];
    try {
      const probe = await makeProbe(src, f.path);
      formats = detectAll(probe, ANALYZERS)
        .filter((d) => d.detection.strength !== 'name')
        .map((d) => d.detection.format);
    } catch (err) {
      return report(s, f, 'other', [remoteFinding(err, `${f.path} could not be read`)], {});
    }
    if (formats.length === 0 || !formats.every((x) => HEADER_FORMATS.has(x))) return undefined;
    const disk: DiskLocation = { root: s.mirror, absPath: abs, relPath: f.path };
    const r = await scanSource(src, f.path, f.size, disk, { settings: s.settings });
    const findings = [...r.findings];
    if (src.failure) findings.push(remoteFinding(src.failure, `${f.path} could not be read completely`));
    const rep = finish(path, r.format, f.size, f.lfs!.sha256, findings, r.facts, policy, now);
    return { ...rep, sha256Source: 'hub' };
  } finally {
    await fh.close();
  }
}

/** Downloads a file whole (checked against the listing) and scans it as a local file. */
async function scanWhole(s: RepoScan, f: TreeFile, free: boolean): Promise<FileReport> {
  const { hub, policy } = s.opts;
  const abs = join(s.mirror, f.path);
  if (f.size > policy.limits.maxFileBytes) {
    return report(s, f, 'other', [
      {
        ruleId: 'MG001',
        severity: 'medium',
        score: 0,
        message: `Not downloaded: ${f.size} bytes is above the limit maxFileBytes (${policy.limits.maxFileBytes}), and a file of this format must be read whole to be judged.`,
        location: {},
      },
    ]);
  }
  const fh = await open(abs, 'r+');
  let expected: string;
  try {
    expected = await hub.download(s.ref.repoId, s.sha, f, fh);
  } catch (err) {
    return report(s, f, 'other', [remoteFinding(err, `${f.path} could not be downloaded`)]);
  } finally {
    await fh.close();
  }
  try {
    const r = await scanFileOnDisk(abs, f.path, s.mirror, { settings: s.settings });
    const findings = [...r.findings];
    if (r.sha256 !== expected)
      findings.push({
        ruleId: 'MG952',
        severity: 'high',
        score: 0,
        message: `The bytes scanned (sha256 ${r.sha256}) are not those downloaded and checked (${expected}).`,
        location: {},
      });
    return finish(
      hfPath(s.ref.repoId, s.sha, f.path),
      r.format,
      r.size,
      r.sha256,
      findings,
      r.facts,
      policy,
      s.opts.now,
    );
  } finally {
    // A large download is freed once judged; its name and size stay for the neighbours' checks.
    if (free) {
      const h = await open(abs, 'r+');
      await h.truncate(0);
      await h.truncate(f.size).finally(() => h.close());
    }
  }
}

function report(
  s: RepoScan,
  f: TreeFile,
  format: FormatId,
  findings: Finding[],
  facts: Record<string, unknown> = {},
): FileReport {
  const r = finish(
    hfPath(s.ref.repoId, s.sha, f.path),
    format,
    f.size,
    f.lfs?.sha256 ?? '',
    findings,
    facts,
    s.opts.policy,
    s.opts.now,
  );
  return f.lfs ? { ...r, sha256Source: 'hub' } : r;
}

/**
 * A lockfile or policy pin on `hf://OWNER/NAME@SHA/PATH` compares with the file's sha256 (the Hub's for
 * ranged files, which the Range reads were bound to by X-Linked-Etag).
 */
function checkRemotePin(r: FileReport, f: TreeFile, policy: Readonly<Policy>, now: Date): FileReport {
  const pin = policy.pins[r.path];
  if (!pin || !r.sha256) return r;
  if (pin.sha256 === r.sha256 && (pin.size === undefined || pin.size === f.size)) return r;
  const findings = [
    ...r.findings,
    {
      ruleId: 'MG610',
      severity: 'critical' as const,
      score: 100,
      message: `${r.path} is pinned to sha256 ${pin.sha256} but is ${r.sha256}.`,
      location: {},
    },
  ];
  const again = finish(r.path, r.format, r.size, r.sha256, findings, r.facts ?? {}, policy, now);
  return r.sha256Source ? { ...again, sha256Source: r.sha256Source } : again;
}

export function unpinnedFinding(ref: RepoRef, sha: string | undefined, line?: number): Finding {
  const rev = ref.revision ?? DEFAULT_REVISION;
  return {
    ruleId: 'MG950',
    severity: 'medium',
    score: 30,
    message: `${ref.repoId} is named by ${ref.revision === undefined ? 'no revision (the default branch, main)' : `revision '${rev}'`}, not a commit${sha ? `; it resolves today to ${sha}: pin that` : ''}.`,
    location: { symbol: `${ref.repoId}@${rev}`, ...(line !== undefined ? { line } : {}) },
  };
}

export function remoteFinding(err: unknown, what: string): Finding {
  const msg = err instanceof Error ? err.message : String(err);
  return err instanceof HubIntegrityError
    ? { ruleId: 'MG952', severity: 'high', score: 0, message: `${what}: ${msg}.`, location: {} }
    : { ruleId: 'MG951', severity: 'medium', score: 0, message: `${what}: ${msg}.`, location: {} };
}
