import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ScanSettings } from '../context.js';
import { findingShape } from '../report/finding-schema.js';
import { getRule, hasRule, RULES } from '../rules/catalogue.js';
import type { Finding, FormatId } from '../types.js';
import { VERSION } from '../version.js';
import type { TreeFile } from './hub.js';
import { isSafeRepoPath } from './ref.js';

/**
 * What remote scans keep between runs, policy-independent: the analysis (findings with the catalogue's
 * scores, formats, facts), never the verdict, so the policy of each run (scores, waivers and their expiry,
 * pins, publishers, maxScore) is applied again to what is restored.
 *
 * - A **commit entry** holds a whole commit's analysis: its file list (sizes, git oids, LFS sha256) and every
 *   selected file's findings. A commit is immutable (its sha names its tree, which names every file's
 *   content), so a reference pinned to a sha whose entry exists is judged with no request to the Hub, and a
 *   branch costs one (its resolution).
 * - A **file entry** holds one file's findings, keyed by its sha256 (the Hub's LFS sha256): a checkpoint
 *   judged once is not downloaded again in another commit.
 *
 * Keys carry everything that changes the analysis: modelgate's version, the rule catalogue, the analysis
 * settings (limits and allowed globals), and for a commit the endpoint, repository, sha and the files
 * selected. Entries are validated on restore (schema, bounds, known rules, the commit and paths they
 * describe); one that fails is a miss. Incomplete results are never saved. Who may write entries, and so
 * whether a restored entry can be believed, is the store's business (see src/action/cache.ts).
 */
export interface RemoteCache {
  /** The JSON value stored under `key`, or undefined (a miss, or a store that failed). */
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
}

/** One analysed file of a commit, before any policy: what the caches keep. */
export interface AnalysedFile {
  /** Repository-relative path. */
  path: string;
  format: FormatId;
  size: number;
  /** Computed (read whole) or the Hub's (`sha256Source: 'hub'`); '' when unknown. */
  sha256: string;
  sha256Source?: 'hub';
  /** Findings as the analyzers made them (catalogue scores, no waivers). */
  findings: Finding[];
  facts: Record<string, unknown>;
}

/** A commit's analysis: the listing and the selected files' findings. */
export interface CommitAnalysis {
  sha: string;
  tree: TreeFile[];
  files: AnalysedFile[];
}

const ENTRY_VERSION = 1;

/** sha256 of the parts that decide what an analysis finds, beyond the bytes: version, rules, settings. */
export function analysisFingerprint(settings: ScanSettings): string {
  const rules = RULES.map((r) => `${r.id}:${r.severity}:${r.score}:${r.kind}`).join(',');
  const allow = settings.allowGlobals.map((g) => `${g.module}\0${g.name}`).sort();
  const limits = Object.entries(settings.limits).sort(([a], [b]) => a.localeCompare(b));
  return sha256(JSON.stringify([ENTRY_VERSION, VERSION, rules, limits, allow]));
}

/** The key of a commit's analysis (cache keys: at most 512 characters, no commas). */
export function commitKey(
  fingerprint: string,
  c: {
    endpoint: string;
    repoId: string;
    sha: string;
    paths?: readonly string[];
    /** The identity of a path filter (the references' patterns). */
    include?: string | undefined;
    wholeBytes: number;
  },
): string {
  const selection = c.paths ? [...new Set(c.paths)].sort() : '*';
  const id = sha256(
    JSON.stringify([c.endpoint, c.repoId, c.sha, selection, c.include ?? null, c.wholeBytes]),
  );
  return `modelgate-hf-commit-v${ENTRY_VERSION}-${fingerprint.slice(0, 16)}-${id}`;
}

/** The key of one file's analysis by its content (and whether a file of its size is read whole). */
export function fileKey(fingerprint: string, sha: string, size: number, wholeBytes: number): string {
  const whole = size <= wholeBytes ? 'w' : 'r';
  return `modelgate-hf-file-v${ENTRY_VERSION}-${fingerprint.slice(0, 16)}-${sha}-${size}${whole}`;
}

/** A result is kept only when nothing about it is incomplete. */
export function isComplete(f: AnalysedFile): boolean {
  return /^[0-9a-f]{64}$/.test(f.sha256) && !f.findings.some((x) => getRule(x.ruleId).kind === 'incomplete');
}

const HEX40 = /^[0-9a-f]{40}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_ENTRY_BYTES = 64 << 20;

/**
 * The entries' schemas, built on first use like the policy's (policy/schema.ts): building zod schemas costs
 * milliseconds at every start, and only a remote scan with a cache restores an entry.
 */
function buildSchemas() {
  const findingSchema = z.strictObject(findingShape());
  const fileSchema = z.strictObject({
    path: z.string().max(1024),
    format: z.string().max(40),
    size: z.number().int().nonnegative(),
    sha256: z.string().regex(HEX64),
    sha256Source: z.literal('hub').optional(),
    findings: z.array(findingSchema).max(10_000),
    facts: z.record(z.string(), z.unknown()),
  });
  const treeSchema = z.strictObject({
    path: z.string().max(1024),
    size: z.number().int().nonnegative(),
    oid: z.string().regex(HEX40),
    lfs: z.strictObject({ sha256: z.string().regex(HEX64), size: z.number().int().nonnegative() }).optional(),
  });
  const commitSchema = z.strictObject({
    v: z.literal(ENTRY_VERSION),
    key: z.string().max(512),
    sha: z.string().regex(HEX40),
    tree: z.array(treeSchema).max(1_000_000),
    files: z.array(fileSchema).max(1_000_000),
  });
  const fileEntrySchema = z.strictObject({
    v: z.literal(ENTRY_VERSION),
    key: z.string().max(512),
    file: fileSchema,
  });
  return { commitSchema, fileEntrySchema };
}
let schemas: ReturnType<typeof buildSchemas> | undefined;

/** What a commit entry holds: the analysis and the key it answers (a copy under another key is refused). */
export function commitEntry(key: string, a: CommitAnalysis): unknown {
  return { v: ENTRY_VERSION, key, sha: a.sha, tree: a.tree, files: a.files.map(plainFile) };
}

/**
 * A restored commit entry, or undefined when it cannot be trusted to describe `sha` under `key`: schema,
 * another key or commit, a file not in the listing or listed with another size or sha256, a duplicate or
 * an unknown rule, a finding of kind incomplete (never saved, so never restored).
 */
export function readCommitEntry(raw: unknown, key: string, sha: string): CommitAnalysis | undefined {
  schemas ??= buildSchemas();
  const p = schemas.commitSchema.safeParse(raw);
  if (!p.success || p.data.key !== key || p.data.sha !== sha) return undefined;
  const tree = p.data.tree as TreeFile[];
  const listed = new Map<string, TreeFile>();
  for (const t of tree) {
    if (!isSafeRepoPath(t.path) || listed.has(t.path) || (t.lfs && t.lfs.size !== t.size)) return undefined;
    listed.set(t.path, t);
  }
  const seen = new Set<string>();
  for (const f of p.data.files) {
    const t = listed.get(f.path);
    if (!t || seen.has(f.path) || t.size !== f.size) return undefined;
    if (t.lfs && f.sha256Source === 'hub' && f.sha256 !== t.lfs.sha256) return undefined;
    seen.add(f.path);
    if (!validFile(f as AnalysedFile)) return undefined;
  }
  return { sha, tree, files: p.data.files as AnalysedFile[] };
}

export function fileEntry(key: string, f: AnalysedFile): unknown {
  return { v: ENTRY_VERSION, key, file: plainFile(f) };
}

/** A restored file entry for these bytes (sha256 and size), under `path`; undefined when not trusted. */
export function readFileEntry(
  raw: unknown,
  key: string,
  expect: { path: string; sha256: string; size: number },
): AnalysedFile | undefined {
  schemas ??= buildSchemas();
  const p = schemas.fileEntrySchema.safeParse(raw);
  if (!p.success || p.data.key !== key) return undefined;
  const f = p.data.file as AnalysedFile;
  if (f.sha256 !== expect.sha256 || f.size !== expect.size || !validFile(f)) return undefined;
  return { ...f, path: expect.path };
}

function validFile(f: AnalysedFile): boolean {
  return f.findings.every((x) => hasRule(x.ruleId)) && isComplete(f);
}

function plainFile(f: AnalysedFile): AnalysedFile {
  return {
    path: f.path,
    format: f.format,
    size: f.size,
    sha256: f.sha256,
    ...(f.sha256Source ? { sha256Source: f.sha256Source } : {}),
    findings: f.findings.map(({ waived: _w, ...x }) => x),
    facts: f.facts,
  };
}

/**
 * A RemoteCache in a folder, one JSON file per key (the CLI's `--cache-dir`; the action's @actions/cache
 * store restores into and saves from one). Writes go through a temporary name, so a reader never sees half
 * a file; an unreadable or oversized file is a miss.
 */
export function directoryCache(dir: string): RemoteCache & { file(key: string): string } {
  const file = (key: string) => join(dir, `${key}.json`);
  return {
    file,
    async get(key) {
      try {
        const text = await readFile(file(key), 'utf8');
        if (text.length > MAX_ENTRY_BYTES) return undefined;
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    },
    async put(key, value) {
      await mkdir(dir, { recursive: true });
      const tmp = `${file(key)}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(value));
      await rename(tmp, file(key));
    },
  };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
