import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DiskLocation, ScanSettings } from '../context.js';
import { detectAll, makeProbe } from '../detect.js';
import { ANALYZERS } from '../formats/registry.js';
import type { Policy } from '../policy/policy.js';
import { FileReports } from '../report/file-reports.js';
import { remoteCodeOncePerRepository } from '../repository-notices.js';
import { finish } from '../scan.js';
import { mapConcurrent, scanFileOnDisk, scanSource } from '../scan-file.js';
import { publisherAllowed } from '../trust/publishers.js';
import type { FileReport, Finding, FormatId } from '../types.js';
import {
  type AnalysedFile,
  analysisFingerprint,
  type CommitAnalysis,
  commitEntry,
  commitKey,
  fileEntry,
  fileKey,
  isComplete,
  type RemoteCache,
  readCommitEntry,
  readFileEntry,
} from './cache.js';
import { DeadlineError } from './http.js';
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

export interface RemoteScanOptions {
  hub: HubClient;
  policy: Readonly<Policy>;
  now: Date;
  /** Scan only these files of the repository (hf_hub_download(filename=...)); default: all. */
  paths?: readonly string[];
  /** Scan only the files this accepts (snapshot_download's patterns, a subfolder); default: all. */
  include?: (path: string) => boolean;
  /**
   * What `include` accepts, as text (the references' patterns): part of the commit cache key, since the
   * files judged together decide what each finds (an index reads its shards). Without it, a scan with
   * `include` is not cached by commit.
   */
  includeKey?: string;
  /** MG950 on the repository entry when the revision is not a commit (default true). */
  reportUnpinned?: boolean;
  /** Analyses kept between runs: whole commits and single LFS files (see cache.ts). */
  cache?: RemoteCache;
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
  /** The commit's analysis came whole from the cache (no file was listed or read). */
  fromCache: boolean;
}

/** What the Hub gave for one reference, before the policy: the commit, its analysis, what went wrong. */
interface Analysis {
  sha?: string;
  commit?: CommitAnalysis;
  /** Repository-level findings of the analysis (all of kind incomplete: what could not be read). */
  findings: Finding[];
  fromCache: boolean;
}

export async function scanHubRepo(ref: RepoRef, opts: RemoteScanOptions): Promise<RemoteScanResult> {
  const { hub, policy } = opts;
  const startBytes = hub.traffic.bytes;
  const startRequests = hub.traffic.requests;
  // One deadline for everything this repository costs: per-request timeouts cannot end a server that
  // dribbles a byte every few seconds.
  const limit = policy.limits.maxRemoteTimeMs;
  const deadline = new AbortController();
  const timer = setTimeout(
    () =>
      deadline.abort(
        new DeadlineError(
          `the repository's requests did not finish within ${limit} ms (limit maxRemoteTimeMs)`,
        ),
      ),
    limit,
  );
  let a: Analysis;
  try {
    a = await analyse(ref, opts, deadline.signal);
  } finally {
    clearTimeout(timer);
  }
  return evaluate(ref, a, opts, {
    bytesRead: hub.traffic.bytes - startBytes,
    requests: hub.traffic.requests - startRequests,
  });
}

/**
 * Resolves, lists and judges the files, or restores the commit's analysis from the cache: a commit given
 * by its sha is looked up before any request (a commit cannot change), a branch or tag after its resolution.
 * A complete analysis is saved; one with anything incomplete never is.
 */
async function analyse(ref: RepoRef, opts: RemoteScanOptions, signal: AbortSignal): Promise<Analysis> {
  const { hub, policy, cache } = opts;
  const revision = ref.revision ?? DEFAULT_REVISION;
  const settings: ScanSettings = { limits: policy.limits, allowGlobals: policy.allow };
  const fingerprint = analysisFingerprint(settings);
  const wholeBytes = opts.wholeBytes ?? WHOLE_BYTES;
  const keyOf = (sha: string) =>
    commitKey(fingerprint, {
      endpoint: hub.config.endpoint,
      repoId: ref.repoId,
      sha,
      wholeBytes,
      ...(opts.paths ? { paths: opts.paths } : {}),
      ...(opts.include ? { include: opts.includeKey } : {}),
    });
  // A selection that cannot be named cannot be keyed: such a scan is not cached by commit.
  const commitCache = opts.include && opts.includeKey === undefined ? undefined : cache;
  const restore = async (sha: string) =>
    commitCache
      ? readCommitEntry(await commitCache.get(keyOf(sha)).catch(() => undefined), keyOf(sha), sha)
      : undefined;

  if (isCommitSha(ref.revision)) {
    const commit = await restore(ref.revision!);
    if (commit) return { sha: commit.sha, commit, findings: [], fromCache: true };
  }
  let sha: string;
  try {
    ({ sha } = await hub.resolveRevision(ref.repoId, revision, signal));
  } catch (err) {
    return {
      findings: [remoteFinding(err, `Revision ${revision} of ${ref.repoId} could not be resolved`)],
      fromCache: false,
    };
  }
  if (!isCommitSha(ref.revision)) {
    const commit = await restore(sha);
    if (commit) return { sha, commit, findings: [], fromCache: true };
  }

  let tree: TreeFile[];
  try {
    tree = await hub.listFiles(ref.repoId, sha, policy.limits.maxEntries, signal);
  } catch (err) {
    return {
      sha,
      findings: [remoteFinding(err, `The files of ${ref.repoId}@${sha} could not be listed`)],
      fromCache: false,
    };
  }
  const findings: Finding[] = [];
  let selected = tree;
  if (opts.paths) {
    const wanted = new Set(opts.paths);
    selected = tree.filter((f) => wanted.has(f.path));
    for (const p of wanted) {
      if (!selected.some((f) => f.path === p))
        findings.push({
          ruleId: 'MG951',
          severity: 'medium',
          score: 0,
          message: `${p} is not a file of ${ref.repoId} at commit ${sha} (a loader would fail on it, or find it elsewhere).`,
          location: { symbol: p },
        });
    }
  }
  if (opts.include) selected = selected.filter((f) => opts.include!(f.path));
  const ctx: RepoScan = { ref, sha, mirror: '', settings, opts, signal, wholeBytes, fingerprint };
  let files: AnalysedFile[] = [];
  try {
    files = await judgeFiles(ctx, tree, selected);
  } catch (err) {
    findings.push(remoteFinding(err, `The scan of ${ref.repoId}@${sha} failed`));
  }
  const commit: CommitAnalysis = { sha, tree, files };
  if (commitCache && findings.length === 0 && files.length === selected.length && files.every(isComplete)) {
    await commitCache.put(keyOf(sha), commitEntry(keyOf(sha), commit)).catch(() => undefined);
  }
  return { sha, commit, findings, fromCache: false };
}

/**
 * Judges the selected files in a temporary folder that mirrors the commit's layout (every listed file as a
 * sparse file of its size): ranged reads first, then whole downloads, so an index reading its shards'
 * headers finds them on disk. LFS files go through the per-file cache by their listed sha256.
 */
async function judgeFiles(s: RepoScan, tree: TreeFile[], selected: TreeFile[]): Promise<AnalysedFile[]> {
  const { cache } = s.opts;
  s.mirror = await mkdtemp(join(tmpdir(), 'modelgate-hf-'));
  try {
    for (const f of tree) {
      const abs = join(s.mirror, f.path);
      await mkdir(dirname(abs), { recursive: true });
      const fh = await open(abs, 'w');
      await fh.truncate(f.size).finally(() => fh.close());
    }
    const done: AnalysedFile[] = [];
    const whole: TreeFile[] = [];
    const large: TreeFile[] = [];
    const candidates: TreeFile[] = [];
    for (const f of selected) {
      if (f.lfs && cache) {
        const key = fileKey(s.fingerprint, f.lfs.sha256, f.size, s.wholeBytes);
        const raw = await cache.get(key).catch(() => undefined);
        const hit = readFileEntry(raw, key, { path: f.path, sha256: f.lfs.sha256, size: f.size });
        if (hit) {
          // The same bytes (sha256) were judged before, by this scanner with these settings.
          done.push({ ...hit, sha256Source: 'hub' });
          continue;
        }
      }
      if (!f.lfs || f.size <= s.wholeBytes) whole.push(f);
      else candidates.push(f);
    }
    // Range reads are latency-bound (two requests each: the Hub, then the CDN): a few files at a time.
    const judged = await mapConcurrent(candidates, REMOTE_CONCURRENCY, (f) => scanByRanges(s, f));
    const fresh: AnalysedFile[] = [];
    candidates.forEach((f, i) => {
      const r = judged[i];
      if (r) fresh.push(r);
      else large.push(f);
    });
    fresh.push(...(await mapConcurrent(whole, REMOTE_CONCURRENCY, (f) => scanWhole(s, f, false))));
    for (const f of large) fresh.push(await scanWhole(s, f, true));
    if (cache) {
      for (const r of fresh) {
        const t = selected.find((f) => f.path === r.path);
        if (!t?.lfs || r.sha256 !== t.lfs.sha256 || !isComplete(r)) continue;
        const key = fileKey(s.fingerprint, r.sha256, r.size, s.wholeBytes);
        await cache.put(key, fileEntry(key, r)).catch(() => undefined);
      }
    }
    const byPath = new Map([...done, ...fresh].map((r) => [r.path, r]));
    return selected.flatMap((f) => byPath.get(f.path) ?? []);
  } finally {
    await rm(s.mirror, { recursive: true, force: true });
  }
}

/**
 * Applies the policy to an analysis (restored or fresh alike): the files' scores, waivers and pins, and on
 * the repository entry the publishers allowlist, the not-pinned finding and pins on files the commit lacks.
 */
function evaluate(
  ref: RepoRef,
  a: Analysis,
  opts: RemoteScanOptions,
  traffic: { bytesRead: number; requests: number },
): RemoteScanResult {
  const { policy, now } = opts;
  const revision = ref.revision ?? DEFAULT_REVISION;
  const repoFindings: Finding[] = [];
  const facts: Record<string, unknown> = { 'hf.repo': ref.repoId, 'hf.revision': revision };
  const files: FileReport[] = [];
  if (a.sha) {
    facts['hf.commit'] = a.sha;
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
      repoFindings.push(unpinnedFinding(ref, a.sha));
  }
  repoFindings.push(...a.findings);
  if (a.commit) {
    const { sha, tree } = a.commit;
    const listed = new Map(tree.map((f) => [f.path, f]));
    facts['hf.files'] = a.commit.files.length;
    for (const f of a.commit.files) {
      const path = hfPath(ref.repoId, sha, f.path);
      const r = finish(path, f.format, f.size, f.sha256, f.findings, f.facts, policy, now);
      files.push(
        checkRemotePin(
          f.sha256Source ? { ...r, sha256Source: f.sha256Source } : r,
          listed.get(f.path)!,
          policy,
          now,
        ),
      );
    }
    // One remote-code notice for the whole hf:// repository (see repository-notices.ts).
    const stored = FileReports.from(files);
    remoteCodeOncePerRepository(stored, policy, now, () => hfPath(ref.repoId, sha));
    files.splice(0, files.length, ...stored);
    // A lockfile entry for a file the commit does not have: the lock describes other content.
    const prefix = `${hfPath(ref.repoId, sha)}/`;
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
  }
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  facts['hf.bytesRead'] = traffic.bytesRead;
  facts['hf.requests'] = traffic.requests;
  if (a.fromCache) facts['hf.cached'] = true;
  const repo = finish(
    hfPath(ref.repoId, a.sha ?? revision),
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
    ...(a.sha ? { sha: a.sha } : {}),
    ...traffic,
    totalBytes,
    fromCache: a.fromCache,
  };
}

interface RepoScan {
  ref: RepoRef;
  sha: string;
  mirror: string;
  settings: ScanSettings;
  opts: RemoteScanOptions;
  signal: AbortSignal;
  wholeBytes: number;
  fingerprint: string;
}

/**
 * Judges a large LFS file through Range requests when its content is a header-described format; returns
 * undefined when it is not (the caller downloads it whole). A failure to read is the file's finding.
 */
async function scanByRanges(s: RepoScan, f: TreeFile): Promise<AnalysedFile | undefined> {
  const { hub } = s.opts;
  const path = hfPath(s.ref.repoId, s.sha, f.path);
  const abs = join(s.mirror, f.path);
  const fh = await open(abs, 'r+');
  try {
    const src = remoteSource(
      path,
      f.size,
      (a, b) => hub.readRange(s.ref.repoId, s.sha, f, a, b, s.signal),
      fh,
    );
    let formats: FormatId[];
    try {
      const probe = await makeProbe(src, f.path);
      formats = detectAll(probe, ANALYZERS)
        .filter((d) => d.detection.strength !== 'name')
        .map((d) => d.detection.format);
    } catch (err) {
      return analysed(f, 'other', [remoteFinding(err, `${f.path} could not be read`)]);
    }
    if (formats.length === 0 || !formats.every((x) => HEADER_FORMATS.has(x))) return undefined;
    const disk: DiskLocation = { root: s.mirror, absPath: abs, relPath: f.path };
    const r = await scanSource(src, f.path, f.size, disk, { settings: s.settings });
    const findings = [...r.findings];
    if (src.failure) findings.push(remoteFinding(src.failure, `${f.path} could not be read completely`));
    return analysed(f, r.format, findings, r.facts);
  } finally {
    await fh.close();
  }
}

/** Downloads a file whole (checked against the listing) and scans it as a local file. */
async function scanWhole(s: RepoScan, f: TreeFile, free: boolean): Promise<AnalysedFile> {
  const { hub } = s.opts;
  const abs = join(s.mirror, f.path);
  if (f.size > s.settings.limits.maxFileBytes) {
    return analysed(f, 'other', [
      {
        ruleId: 'MG001',
        severity: 'medium',
        score: 0,
        message: `Not downloaded: ${f.size} bytes is above the limit maxFileBytes (${s.settings.limits.maxFileBytes}), and a file of this format must be read whole to be judged.`,
        location: {},
      },
    ]);
  }
  const fh = await open(abs, 'r+');
  let expected: string;
  try {
    expected = await hub.download(s.ref.repoId, s.sha, f, fh, s.signal);
  } catch (err) {
    return analysed(f, 'other', [remoteFinding(err, `${f.path} could not be downloaded`)]);
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
    return { path: f.path, format: r.format, size: r.size, sha256: r.sha256, findings, facts: r.facts };
  } finally {
    // A large download is freed once judged; its name and size stay for the neighbours' checks.
    if (free) {
      const h = await open(abs, 'r+');
      await h.truncate(0);
      await h.truncate(f.size).finally(() => h.close());
    }
  }
}

/** A file judged without being read whole: its sha256 is the Hub's (LFS), or unknown. */
function analysed(
  f: TreeFile,
  format: FormatId,
  findings: Finding[],
  facts: Record<string, unknown> = {},
): AnalysedFile {
  return {
    path: f.path,
    format,
    size: f.size,
    sha256: f.lfs?.sha256 ?? '',
    ...(f.lfs ? { sha256Source: 'hub' as const } : {}),
    findings,
    facts,
  };
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
