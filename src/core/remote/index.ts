import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Policy } from '../policy/policy.js';
import { FileReports } from '../report/file-reports.js';
import { buildReport, finish } from '../scan.js';
import type { Finding, ScanReport } from '../types.js';
import type { WalkEntry } from '../walk.js';
import type { RemoteCache } from './cache.js';
import type { HubClient } from './hub.js';
import { DEFAULT_REVISION, hfPath, isCommitSha, type RepoRef } from './ref.js';
import {
  extractReferences,
  type ModelReference,
  mayHoldReferences,
  referenceSelection,
} from './references.js';
import { type RemoteScanResult, scanHubRepo, unpinnedFinding } from './scan-repo.js';

export { directoryCache, type RemoteCache } from './cache.js';
export { HubClient, hubConfigFromEnv } from './hub.js';
export { parseHfUri } from './ref.js';
export type { ModelReference } from './references.js';

/** Text files above this size are not searched for references (configs and code are kilobytes). */
const MAX_REFERENCE_FILE = 4 << 20;

/**
 * The model references in the given files (source code, configs, Modelfiles, DVC files). A name that is a
 * path existing in the repository (next to the file or under its root) is a local model, not a reference.
 */
export async function findReferences(entries: readonly WalkEntry[]): Promise<ModelReference[]> {
  const out: ModelReference[] = [];
  for (const e of entries) {
    if (e.kind !== 'file' || !mayHoldReferences(e.relPath)) continue;
    let text: string;
    try {
      const fh = await open(e.absPath, 'r');
      try {
        const buf = Buffer.alloc(Math.min((await fh.stat()).size, MAX_REFERENCE_FILE));
        await fh.read(buf, 0, buf.length, 0);
        text = buf.toString('utf8');
      } finally {
        await fh.close();
      }
    } catch {
      continue; // the local scan reports unreadable files
    }
    const isLocal = (p: string) => existsSync(join(dirname(e.absPath), p)) || existsSync(join(e.root, p));
    out.push(...(await extractReferences(e.relPath, text, isLocal)));
  }
  return out;
}

export interface RemoteOptions {
  hub: HubClient;
  policy: Readonly<Policy>;
  now: Date;
  cache?: RemoteCache;
  /** Progress and figures (stderr in the CLI, the log in the action). */
  log?: (m: string) => void;
}

/**
 * Scans `hf://` repositories named on the command line and those the references name, and merges them into
 * the local report: each repository (at each revision) is scanned once; an unpinned reference gets MG950
 * at its line in the file that names it, a reference that cannot be resolved MG953, one of a kind not
 * fetched MG954. The verdict is recomputed over every file. The local report's file store is extended in
 * place (no copy of a large scan): the local report is not to be used after this.
 */
export async function scanRemote(
  local: ScanReport | undefined,
  uris: readonly RepoRef[],
  references: readonly ModelReference[],
  opts: RemoteOptions,
): Promise<ScanReport> {
  const { policy, now } = opts;
  // The local report's files, extended (the local report is not used after this).
  const files = local?.files ?? new FileReports();
  const notes = [...(local?.notes ?? [])];
  const extra = new Map<string, Finding[]>();
  const add = (file: string, f: Finding) => extra.set(file, [...(extra.get(file) ?? []), f]);

  const record = (r: RemoteScanResult, label: string) => {
    for (const f of r.files) files.push(f);
    const gib = (r.totalBytes / 2 ** 30).toFixed(2);
    const note = `${label}: ${r.files.length - 1} files (${gib} GiB) judged reading ${r.bytesRead} bytes in ${r.requests} requests.`;
    notes.push(note);
    opts.log?.(note);
  };

  for (const ref of uris) {
    const r = await scanHubRepo(ref, { ...opts, reportUnpinned: true });
    record(r, r.files[0]!.path);
  }

  // One scan per repository and revision, of the files its references read.
  const groups = new Map<string, { ref: RepoRef; refs: ModelReference[] }>();
  for (const r of references) {
    if (r.kind === 'unresolved') {
      add(
        r.file,
        note('MG953', `Model reference via ${r.via} not resolvable statically: ${r.note}.`, r.line),
      );
      continue;
    }
    if (r.kind === 'unsupported') {
      add(r.file, note('MG954', `${r.note} (via ${r.via}) is not fetched or scanned.`, r.line));
      continue;
    }
    const key = `${r.repoId}@${r.revision ?? ''}`;
    const g = groups.get(key) ?? {
      ref: { repoId: r.repoId!, ...(r.revision ? { revision: r.revision } : {}) },
      refs: [],
    };
    g.refs.push(r);
    groups.set(key, g);
  }
  for (const { ref, refs } of groups.values()) {
    const selection = referenceSelection(refs);
    const r = await scanHubRepo(ref, {
      ...opts,
      reportUnpinned: false,
      ...selection,
      ...(selection.include ? { includeKey: includeKey(refs) } : {}),
    });
    const where = refs.map((x) => `${x.file}:${x.line}`).join(', ');
    // Where the repository is named in the workspace: the action annotates its findings at these lines.
    const repo = r.files[0]!;
    repo.facts = { ...repo.facts, 'hf.referencedAt': refs.map((x) => ({ file: x.file, line: x.line })) };
    record(r, `${hfPath(ref.repoId, r.sha ?? ref.revision ?? DEFAULT_REVISION)} (referenced at ${where})`);
    for (const x of refs) {
      if (!isCommitSha(x.revision)) add(x.file, unpinnedFinding(ref, r.sha, x.line));
    }
  }

  // The reference findings join the findings of the files that hold them.
  const indexOf = new Map<string, number>();
  if (extra.size > 0)
    for (let i = 0; i < files.length; i++) {
      const { path } = files.at(i)!;
      if (extra.has(path) && !indexOf.has(path)) indexOf.set(path, i);
    }
  for (const [path, found] of extra) {
    const i = indexOf.get(path) ?? -1;
    const prev = i >= 0 ? files.at(i)! : undefined;
    const kept = (prev?.findings ?? []).filter((f) => f.ruleId !== 'MG620' && f.ruleId !== 'MG621');
    const next = finish(
      path,
      prev?.format ?? 'other',
      prev?.size ?? 0,
      prev?.sha256 ?? '',
      [...kept, ...found],
      prev?.facts ?? {},
      policy,
      now,
    );
    if (i >= 0) files.set(i, next);
    else files.push(next);
  }
  const report = buildReport(files, policy, notes);
  if (local?.trust) report.trust = local.trust;
  return report;
}

/** What a group of references reads, as text: the identity of referenceSelection's filter in cache keys. */
function includeKey(refs: readonly ModelReference[]): string {
  const parts = refs.map((r) =>
    JSON.stringify([r.filename ?? null, r.subfolder ?? null, r.allow ?? null, r.ignore ?? null]),
  );
  return JSON.stringify([...new Set(parts)].sort());
}

function note(ruleId: 'MG953' | 'MG954', message: string, line: number): Finding {
  return { ruleId, severity: 'low', score: 0, message, location: { line } };
}
