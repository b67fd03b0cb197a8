import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cache from '@actions/cache';
import { z } from 'zod';
import { sha256File } from '../core/hash.js';
import { evaluateFile, type Policy } from '../core/policy/policy.js';
import { directoryCache, type RemoteCache } from '../core/remote/cache.js';
import { FileReports } from '../core/report/file-reports.js';
import { findingShape } from '../core/report/finding-schema.js';
import { getRule, hasRule, RULES } from '../core/rules/catalogue.js';
import type { FileReport, Finding } from '../core/types.js';
import { VERSION } from '../core/version.js';
import type { WalkEntry } from '../core/walk.js';
import type { EventInfo } from './event.js';
import type { Api } from './github.js';

/**
 * Per-file result cache over @actions/cache. The key is the content sha256 plus the scanner version, a hash of
 * the rule catalogue and the policy hash, so a result is reused only for the same bytes scanned by the same
 * scanner under the same policy. What is stored is the file's findings before waivers; a restored entry is
 * validated (schema, sha256, size, known rules) and the policy is applied again, so waiver expiry stays
 * current. Entries are written only on trusted events and never for incomplete results.
 */
/**
 * Where cache entries are restored to and saved from: the runner's temporary folder, outside the workspace,
 * so that nothing in the workspace belongs to the action and `scope: all` has nothing to leave out. The
 * path is part of the cache version (@actions/cache hashes the paths), so runners with another RUNNER_TEMP
 * simply miss.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.RUNNER_TEMP || tmpdir(), 'modelgate-cache');
}

const RULES_HASH = createHash('sha256')
  .update(RULES.map((r) => `${r.id}:${r.severity}:${r.score}:${r.kind}`).join(','))
  .digest('hex')
  .slice(0, 12);

export function cacheKey(sha256: string, policyHash: string): string {
  return `modelgate-v1-${VERSION}-${RULES_HASH}-${policyHash.slice(0, 16)}-${sha256}`;
}

const entrySchema = z.object({
  v: z.literal(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  format: z.string().max(40),
  findings: z.array(z.object(findingShape())).max(10_000),
  facts: z.record(z.string(), z.unknown()).optional(),
});
type Entry = z.infer<typeof entrySchema>;

/** A result may be cached when nothing about it is incomplete (errors, budgets, unfetched content). */
export function cacheable(f: FileReport): boolean {
  return (
    f.verdict !== 'incomplete' &&
    f.format !== 'lfs-pointer' &&
    /^[0-9a-f]{64}$/.test(f.sha256) &&
    !f.findings.some((x) => getRule(x.ruleId).kind === 'incomplete')
  );
}

export function toEntry(f: FileReport): Entry {
  const e: Entry = {
    v: 1,
    sha256: f.sha256,
    size: f.size,
    format: f.format,
    findings: f.findings.map(({ waived: _w, ...x }) => x),
  };
  if (f.facts) e.facts = f.facts;
  return e;
}

/** Rebuilds a file report from a cache entry for `path`, or undefined when the entry cannot be trusted. */
export function fromEntry(
  raw: unknown,
  expect: { path: string; sha256: string; size: number },
  policy: Readonly<Policy>,
  now: Date,
): FileReport | undefined {
  const parsed = entrySchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const e = parsed.data;
  if (e.sha256 !== expect.sha256 || e.size !== expect.size) return undefined;
  if (e.findings.some((f) => !hasRule(f.ruleId))) return undefined;
  const ev = evaluateFile(e.findings as Finding[], policy, { path: expect.path, sha256: e.sha256 }, now);
  const report: FileReport = {
    path: expect.path,
    format: e.format as FileReport['format'],
    size: e.size,
    sha256: e.sha256,
    verdict: ev.verdict,
    score: ev.score,
    severity: ev.severity,
    scoreBreakdown: ev.scoreBreakdown,
    findings: ev.findings,
  };
  if (e.facts) report.facts = e.facts;
  return report;
}

export interface ResultCache {
  restore(path: string, sha256: string, size: number): Promise<FileReport | undefined>;
  save(f: FileReport): Promise<void>;
  stats: { hits: number; misses: number; saved: number; errors: number };
}

/** The cache service through @actions/cache, with its files under `dir` (outside the workspace). */
export function actionsCache(
  policy: Readonly<Policy>,
  policyHash: string,
  now: Date,
  log: (m: string) => void,
  dir: string = cacheDir(),
): ResultCache {
  const stats = { hits: 0, misses: 0, saved: 0, errors: 0 };
  const file = (sha: string) => join(dir, `${sha}.json`);
  return {
    stats,
    async restore(path, sha256, size) {
      try {
        await mkdir(dir, { recursive: true });
        const hit = await cache.restoreCache([file(sha256)], cacheKey(sha256, policyHash));
        if (!hit) {
          stats.misses++;
          return undefined;
        }
        const raw: unknown = JSON.parse(await readFile(file(sha256), 'utf8'));
        const r = fromEntry(raw, { path, sha256, size }, policy, now);
        if (r) stats.hits++;
        else {
          stats.misses++;
          log(`cache entry for ${sha256.slice(0, 12)} failed validation; scanning instead`);
        }
        return r;
      } catch (err) {
        stats.errors++;
        log(`cache restore failed: ${(err as Error).message}`);
        return undefined;
      }
    },
    async save(f) {
      if (!cacheable(f)) return;
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(file(f.sha256), JSON.stringify(toEntry(f)));
        await cache.saveCache([file(f.sha256)], cacheKey(f.sha256, policyHash));
        stats.saved++;
      } catch (err) {
        // Entries are immutable: an existing key (another run wrote it first) is not a problem.
        stats.errors++;
        log(`cache save skipped: ${(err as Error).message}`);
      }
    },
  };
}

export function cacheAvailable(): boolean {
  try {
    return cache.isFeatureAvailable();
  } catch {
    return false;
  }
}

/**
 * Restores what the cache has for these exact bytes, scans the rest, and saves the new results when the
 * event is trusted (`saveAllowed`); `save` itself refuses incomplete results. Without a cache: scans all.
 */
export async function scanWithCache(
  entries: readonly WalkEntry[],
  scan: (entries: WalkEntry[]) => Promise<FileReports>,
  cache: ResultCache | undefined,
  saveAllowed: boolean,
): Promise<{ files: FileReports; scanned: number }> {
  if (!cache) {
    const files = await scan([...entries]);
    return { files, scanned: files.length };
  }
  const files = new FileReports();
  const misses: WalkEntry[] = [];
  for (const e of entries) {
    if (e.kind !== 'file') {
      misses.push(e);
      continue;
    }
    const st = await lstat(e.absPath);
    const hit = st.isFile()
      ? await cache.restore(e.relPath, await sha256File(e.absPath), st.size)
      : undefined;
    if (hit) files.push(hit);
    else misses.push(e);
  }
  const scanned = await scan(misses);
  for (const f of scanned) {
    if (saveAllowed) await cache.save(f);
    files.push(f);
  }
  return { files, scanned: scanned.length };
}

/** The two calls of @actions/cache the stores use (tests give an in-memory service the same shape). */
export interface CacheService {
  restoreCache(paths: string[], key: string): Promise<string | undefined>;
  saveCache(paths: string[], key: string): Promise<number>;
}

const actionsService: CacheService = {
  restoreCache: (paths, key) => cache.restoreCache(paths, key),
  saveCache: (paths, key) => cache.saveCache(paths, key),
};

/**
 * The remote scans' cache (src/core/remote/cache.ts: whole commits and LFS files, policy-independent
 * analyses validated on restore) over the Actions cache: one entry per key, its JSON file under `dir`
 * ($RUNNER_TEMP/modelgate-cache). Saved only when `saveAllowed` (trusted events); the core never offers an
 * incomplete analysis. A failing service is a miss, never an error of the scan.
 */
export function actionsRemoteCache(
  dir: string,
  saveAllowed: boolean,
  log: (m: string) => void,
  service: CacheService = actionsService,
): RemoteCache & { stats: { hits: number; misses: number; saved: number } } {
  const files = directoryCache(dir);
  const stats = { hits: 0, misses: 0, saved: 0 };
  return {
    stats,
    async get(key) {
      try {
        await mkdir(dir, { recursive: true });
        const hit = await service.restoreCache([files.file(key)], key);
        const value = hit === key ? await files.get(key) : undefined;
        if (value === undefined) stats.misses++;
        else stats.hits++;
        return value;
      } catch (err) {
        stats.misses++;
        log(`cache restore failed: ${(err as Error).message}`);
        return undefined;
      }
    },
    async put(key, value) {
      if (!saveAllowed) return;
      try {
        await files.put(key, value);
        await service.saveCache([files.file(key)], key);
        stats.saved++;
      } catch (err) {
        // Entries are immutable: an existing key (another run wrote it first) is not a problem.
        log(`cache save skipped: ${(err as Error).message}`);
      }
    },
  };
}

/** The prefix of every key modelgate saves (per-file results, remote commits and files). */
export const KEY_PREFIX = 'modelgate-';

/**
 * Whether this run may believe what it restores. GitHub scopes caches by ref: a run restores from its own
 * ref's scope first, then (pull requests) from the base branch's and the default branch's; it saves into
 * its own ref's scope only. A pull request's scope (`refs/pull/N/merge`) is writable by any code the pull
 * request runs, including a workflow it modifies (a fork's too: ACTIONS_RUNTIME_TOKEN is given to every
 * job), so an earlier commit of the pull request could plant a "clean" entry under a key a later, innocent
 * looking commit restores. modelgate never saves from such a run (saves happen on trusted events only:
 * push to the default branch, merge_group, schedule), so any entry with its key prefix in the scope of an
 * untrusted run was written by something else: the run then restores nothing. What can be read from the
 * base and default branches was written by their own runs, which run reviewed workflows.
 *
 * Listing the scope needs `actions: read` for the token (`GET /repos/{owner}/{repo}/actions/caches`);
 * without it an untrusted run cannot tell and restores nothing (every file is scanned).
 */
export async function cacheScopeTrusted(
  api: Api | undefined,
  ev: EventInfo,
  env: NodeJS.ProcessEnv,
): Promise<{ trusted: true } | { trusted: false; foreign: boolean; reason: string }> {
  if (ev.cacheSaveAllowed) return { trusted: true };
  const ref = env.GITHUB_REF;
  const unknown = (reason: string) => ({ trusted: false as const, foreign: false, reason });
  if (!ref) return unknown('the run has no GITHUB_REF, so its cache scope is unknown');
  if (!api) return unknown(`no token to check the cache scope of ${ref} (actions: read)`);
  try {
    const n = await api.countCaches(ref, KEY_PREFIX);
    if (n === 0) return { trusted: true };
    return {
      trusted: false,
      foreign: true,
      reason: `${n} cache entr${n === 1 ? 'y' : 'ies'} named ${KEY_PREFIX}* exist in the scope of ${ref}, where modelgate never saves: something else wrote them (a poisoning attempt?)`,
    };
  } catch (err) {
    return unknown(
      `the cache scope of ${ref} could not be listed (${(err as Error).message}); grant the token 'actions: read'`,
    );
  }
}
