import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { isModelExtension } from '../detect.js';
import { sha256File } from '../hash.js';
import { evaluateFile, type Policy, waiverFindings } from '../policy/policy.js';
import { getRule } from '../rules/catalogue.js';
import type { FileReport, Finding, FormatId, Severity } from '../types.js';
import { isInside, toPosix, type WalkEntry } from '../walk.js';
import { type AttestationReport, folderAttestations } from './attestation.js';
import { type FolderVerification, SIGNATURE_FILE, verifyModelFolder } from './folder.js';
import { checkPins, type PinReport } from './pins-check.js';
import { checkPublishers, type PublisherReport } from './publishers.js';
import { checkSboms, type SbomReport } from './sbom.js';

/**
 * The folder-level trust phase, run by scan.ts after every file was scanned:
 *  - model folders and their signatures (OpenSSF model signing, model.sig at the folder root),
 *  - hash pins (policy `pins` / models.lock),
 *  - declared publishers (`publishers`), and AI-BOMs (`sbom`).
 * Its findings are added to the file reports they concern (a file that changed, an unsigned model file) or to
 * the folder's model.sig report (added to the report when the scan did not include it), and the files are
 * evaluated again. It returns the trust summary for the report.
 *
 * A model folder is a folder with a model.sig at its root: it covers every file below it (the nearest
 * model.sig wins). A model file (one whose content is a model format, or that is named like one) outside any
 * signed folder is unsigned; under `signatures: require` it blocks.
 */

/** Formats that hold weights, graphs or code-bearing serializations, i.e. what "a model file" means here. */
const NOT_MODEL: ReadonlySet<FormatId> = new Set<FormatId>([
  'other',
  'model-signature',
  'hf-config',
  'hf-tokenizer-config',
  'jinja-template',
  'python-source',
  'safetensors-index',
  'tf-keras-metadata',
]);

export function isModelFile(f: Pick<FileReport, 'format' | 'path'>): boolean {
  if (!NOT_MODEL.has(f.format)) return true;
  return f.format === 'other' && isModelExtension(extname(f.path).toLowerCase());
}

/** Files whose exclusion from a signature leaves what the loader reads unprotected. */
function isLoadRelevant(rel: string): boolean {
  const name = basename(rel).toLowerCase();
  return (
    isModelExtension(extname(name)) ||
    /^(config|generation_config|tokenizer|tokenizer_config|special_tokens_map|preprocessor_config|adapter_config)\.json$/.test(
      name,
    ) ||
    name.endsWith('.index.json') ||
    name.endsWith('.py') ||
    name.endsWith('.jinja') ||
    name.endsWith('.jinja2') ||
    name === 'chat_template.json'
  );
}

export interface FolderSummary extends Omit<FolderVerification, 'check'> {
  /** Files the folder holds that the signature does not cover / that changed / that are missing. */
  extraFiles?: string[];
  modifiedFiles?: string[];
  missingFiles?: string[];
  ignoredFiles?: string[];
  /** Attestations and signatures beside the model, not covered by its signature and not needing to be. */
  sidecarFiles?: string[];
}

export interface TrustSummary {
  signatures: Policy['signatures'];
  profile?: string;
  trustedRoot: string;
  /** Signed model folders, one entry each. */
  folders: FolderSummary[];
  /** Folders holding model files without a signature (relative to the scanned root; '.' for the root). */
  unsignedFolders: string[];
  pins: PinReport;
  publishers: PublisherReport[];
  sboms: SbomReport[];
  /** Build attestations (GitHub artifact attestations / SLSA provenance) found in model folders. */
  attestations: Array<AttestationReport & { folder: string }>;
}

interface Item {
  entry?: WalkEntry;
  report: FileReport;
  added: Finding[];
}

export interface TrustPhaseResult {
  summary: TrustSummary;
  notes: string[];
}

export async function runTrustPhase(
  entries: readonly WalkEntry[],
  files: FileReport[],
  policy: Readonly<Policy>,
  now: Date,
): Promise<TrustPhaseResult> {
  const items: Item[] = files.map((report, i) => ({ entry: entries[i], report, added: [] }));
  const byAbs = new Map<string, Item>();
  for (const it of items) if (it.entry?.kind === 'file') byAbs.set(it.entry.absPath, it);
  const known = new Map<string, string>();
  for (const it of items)
    if (it.entry?.kind === 'file' && it.report.sha256) known.set(it.entry.absPath, it.report.sha256);
  const notes: string[] = [];
  const mode = policy.signatures;
  const warnScore = (ruleId: string) =>
    mode === 'require' ? getRule(ruleId).score : Math.min(10, getRule(ruleId).score);
  const warnSeverity = (ruleId: string): Severity => (mode === 'require' ? getRule(ruleId).severity : 'low');
  const add = (it: { added: Finding[] }, ruleId: string, message: string, symbol?: string, scored = true) => {
    const rule = getRule(ruleId);
    it.added.push({
      ruleId,
      severity: scored ? warnSeverity(ruleId) : rule.severity,
      score: scored ? warnScore(ruleId) : rule.score,
      message,
      location: symbol ? { symbol } : {},
    });
  };

  // 1. Find the signed folder of every scanned file: the nearest model.sig between its folder and the root.
  const sigCache = new Map<string, boolean>();
  const hasSig = async (dir: string) => {
    let v = sigCache.get(dir);
    if (v === undefined) {
      v = await lstat(join(dir, SIGNATURE_FILE)).then(
        () => true,
        () => false,
      );
      sigCache.set(dir, v);
    }
    return v;
  };
  const folderOf = new Map<Item, { dir: string; root: string }>();
  const signedDirs = new Map<string, { root: string }>();
  for (const it of items) {
    const e = it.entry;
    if (e?.kind !== 'file') continue;
    let dir = dirname(e.absPath);
    for (;;) {
      if (await hasSig(dir)) {
        folderOf.set(it, { dir, root: e.root });
        if (!signedDirs.has(dir)) signedDirs.set(dir, { root: e.root });
        break;
      }
      if (dir === e.root || !isInside(dir, e.root)) break;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  const relFolder = (dir: string, root: string) => toPosix(relative(root, dir));
  const display = (f: string) => (f === '' ? '.' : f);

  // The report entry of a folder's model.sig, added when the scan did not include it.
  const sigItem = async (dir: string, root: string): Promise<Item> => {
    const abs = join(dir, SIGNATURE_FILE);
    const found = byAbs.get(abs);
    if (found) return found;
    const rel = relFolder(dir, root);
    const path = rel === '' ? SIGNATURE_FILE : `${rel}/${SIGNATURE_FILE}`;
    let size = 0;
    let sha256 = '';
    try {
      size = (await stat(abs)).size;
      sha256 = await sha256File(abs);
    } catch {
      // Reported through the verification result.
    }
    const report: FileReport = {
      path,
      format: 'model-signature',
      size,
      sha256,
      verdict: 'pass',
      score: 0,
      severity: 'none',
      scoreBreakdown: {},
      findings: [],
    };
    files.push(report);
    const it: Item = { entry: { kind: 'file', absPath: abs, relPath: path, root }, report, added: [] };
    items.push(it);
    byAbs.set(abs, it);
    return it;
  };

  // 2. Verify each signed folder.
  const folders: FolderSummary[] = [];
  const trustConfigured = policy.trust.keys.length > 0 || policy.trust.identities.length > 0;
  if (mode !== 'off') {
    for (const [dir, { root }] of [...signedDirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const folder = relFolder(dir, root);
      const v = await verifyModelFolder(dir, policy.trust, { folder, known });
      const { check, ...rest } = v;
      const summary: FolderSummary = { ...rest, folder: display(folder) };
      // Findings about the folder as a whole go on its model.sig, whose report entry is added only if needed.
      const sig: { added: Finding[] } = { added: [] };
      const fileItem = (rel: string) => byAbs.get(join(dir, rel));
      if (check) {
        if (check.extra.length) summary.extraFiles = check.extra;
        if (check.modified.length) summary.modifiedFiles = check.modified;
        if (check.missing.length) summary.missingFiles = check.missing;
        if (check.ignored.length) summary.ignoredFiles = check.ignored;
        if (check.sidecars.length) summary.sidecarFiles = check.sidecars;
        for (const rel of check.modified) {
          const it = fileItem(rel);
          const msg = `${rel} differs from the digest signed in ${display(folder)}/${SIGNATURE_FILE}.`;
          if (it) add(it, 'MG603', msg);
          else add(sig, 'MG603', msg, rel);
        }
        for (const rel of check.extra) {
          const it = fileItem(rel);
          const msg = `${rel} is in the signed folder ${display(folder)} but not covered by its signature.`;
          if (it) add(it, 'MG604', msg);
          else add(sig, 'MG604', msg, rel);
        }
        for (const rel of check.missing) {
          add(sig, 'MG605', `${rel} is signed but missing from ${display(folder)}.`, rel);
        }
        for (const rel of check.symlinks) {
          add(sig, 'MG606', `${rel} in ${display(folder)} is a symbolic link or not a regular file.`, rel);
        }
        if (!check.rootDigestOk) {
          add(sig, 'MG601', 'The signed root digest does not match the signed list of file digests.');
        }
        const relevant = check.ignored.filter(isLoadRelevant);
        if (relevant.length > 0) {
          add(
            sig,
            'MG607',
            `The signature's ignore_paths leave files the loader reads unprotected: ${relevant.join(', ')}.`,
          );
        }
      }
      if (v.serialization?.allowSymlinks)
        add(sig, 'MG607', 'The signature was made with allow_symlinks: true.');
      if (v.predicateType && v.predicateType !== 'https://model_signing/signature/v1.0') {
        add(sig, 'MG608', `Legacy signature predicate ${v.predicateType}.`, undefined, false);
      }
      if (v.status === 'invalid') {
        add(sig, 'MG601', `Signature of ${display(folder)} does not verify: ${v.problems[0] ?? 'invalid'}.`);
      } else if (!v.signerTrusted && (mode === 'require' || trustConfigured)) {
        // Untrusted or unchecked signer: a finding when the policy requires signatures or names signers.
        add(
          sig,
          'MG602',
          `Signature of ${display(folder)}: ${v.signerProblem ?? 'the signer is not trusted'}.`,
        );
      }
      if (sig.added.length > 0) (await sigItem(dir, root)).added.push(...sig.added);
      const scanned = byAbs.get(join(dir, SIGNATURE_FILE));
      if (scanned?.report.format === 'other') scanned.report.format = 'model-signature';
      folders.push(summary);
    }
  }

  // 3. Unsigned model files.
  const unsigned = new Set<string>();
  for (const it of items) {
    const e = it.entry;
    if (e?.kind !== 'file' || folderOf.has(it) || !isModelFile(it.report)) continue;
    const folder = display(relFolder(dirname(e.absPath), e.root));
    unsigned.add(folder);
    if (mode === 'require') {
      add(it, 'MG600', `${it.report.path} is a model file in ${folder}, which has no ${SIGNATURE_FILE}.`);
    }
  }

  // 4. Pins, publishers, SBOMs.
  const pinned = await checkPins(items, policy, process.cwd());
  for (const { item, ruleId, message } of pinned.findings)
    add(item as Item, ruleId, message, undefined, false);
  const modelDirs = new Map<string, { root: string; items: Item[] }>();
  for (const it of items) {
    const e = it.entry;
    if (e?.kind !== 'file' || !isModelFile(it.report)) continue;
    const dir = folderOf.get(it)?.dir ?? dirname(e.absPath);
    const g = modelDirs.get(dir) ?? { root: e.root, items: [] };
    g.items.push(it);
    modelDirs.set(dir, g);
  }
  for (const dir of signedDirs.keys())
    if (!modelDirs.has(dir)) modelDirs.set(dir, { root: signedDirs.get(dir)!.root, items: [] });
  // The scanned files under each model folder (in scan order), found by walking up each file's folders
  // once: testing every file against every folder was quadratic (minutes for 30,000 files in 300 folders).
  const knownUnder = new Map<string, Array<[string, string]>>();
  for (const dir of modelDirs.keys()) knownUnder.set(dir, []);
  for (const entry of known) {
    for (let dir = dirname(entry[0]); ; ) {
      knownUnder.get(dir)?.push(entry);
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  const publishers: PublisherReport[] = [];
  const sboms: SbomReport[] = [];
  const attestations: TrustSummary['attestations'] = [];
  for (const [dir, g] of [...modelDirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const folder = display(relFolder(dir, g.root));
    const target = (abs: string | undefined): Item | undefined =>
      (abs ? byAbs.get(abs) : undefined) ?? g.items[0] ?? byAbs.get(join(dir, SIGNATURE_FILE));
    const signer = folders.find((f) => f.folder === folder)?.signer;
    const pub = await checkPublishers(dir, folder, policy, signer?.identity);
    if (pub) {
      publishers.push(pub.report);
      for (const f of pub.findings) {
        const it = target(f.abs);
        if (it) add(it, 'MG630', f.message, f.symbol, false);
      }
    }
    const byDigest = new Map<string, string>();
    for (const [abs, digest] of knownUnder.get(dir) ?? []) {
      if (!byDigest.has(digest)) byDigest.set(digest, toPosix(relative(dir, abs)));
    }
    const found = mode === 'off' ? [] : await folderAttestations(dir, policy.trust, byDigest);
    for (const a of found) {
      attestations.push({ folder, ...a });
      if (!a.problem) continue;
      const it = target(join(dir, a.file));
      if (it)
        add(
          it,
          'MG650',
          `${a.file}${a.index ? ` entry ${a.index}` : ''}: attestation ${a.problem}.`,
          a.file,
          false,
        );
    }
    const sb = await checkSboms(dir, folder, policy, known);
    sboms.push(...sb.reports);
    for (const f of sb.findings) {
      const it = target(f.abs);
      if (it) add(it, f.ruleId, f.message, f.symbol, false);
    }
  }

  // 5. Evaluate again the files that got findings.
  for (const it of items) {
    if (it.added.length === 0) continue;
    const r = it.report;
    const ev = evaluateFile([...r.findings, ...it.added], policy, { path: r.path, sha256: r.sha256 }, now);
    // Waivers expired or refused for the new findings are reported like those of the file scan.
    const seen = new Set(ev.findings.map((f) => `${f.ruleId}\u0000${f.message}`));
    r.findings = [
      ...ev.findings,
      ...waiverFindings(ev).filter((f) => !seen.has(`${f.ruleId}\u0000${f.message}`)),
    ];
    r.score = ev.score;
    r.severity = ev.severity;
    r.verdict = ev.verdict;
    r.scoreBreakdown = ev.scoreBreakdown;
  }

  // Signed folders, attestations and unsigned folders are reported through `summary` (rendered by
  // src/core/report/provenance.ts); notes carry only what has no structured place.
  for (const c of policy.pinChanges) {
    notes.push(
      `pin ${c.kind}: ${c.path}${c.from ? ` from ${c.from.sha256}` : ''}${c.to ? ` to ${c.to.sha256}` : ''}`,
    );
  }
  return {
    summary: {
      signatures: mode,
      ...(policy.profile ? { profile: policy.profile } : {}),
      trustedRoot: policy.trust.trustedRootSource ?? 'bundled (sigstore public good)',
      folders,
      unsignedFolders: [...unsigned].sort(),
      pins: pinned.report,
      publishers,
      sboms,
      attestations,
    },
    notes,
  };
}
