import { lstat, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative } from 'node:path';
import { isModelExtension } from '../detect.js';
import { sha256File } from '../hash.js';
import { evaluateFile, type Policy, waiverFindings } from '../policy/policy.js';
import type { FileReports } from '../report/file-reports.js';
import { getRule } from '../rules/catalogue.js';
import type { FileReport, Finding, FormatId, Severity } from '../types.js';
import { isInside, toPosix } from '../walk.js';
import type { EntryList } from '../walk-list.js';
import { type AttestationReport, folderAttestations } from './attestation.js';
import { type FolderVerification, SIGNATURE_FILE, verifyModelFolder } from './folder.js';
import { checkPins, type PinItem, type PinReport } from './pins-check.js';
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

export interface TrustPhaseResult {
  summary: TrustSummary;
  notes: string[];
}

/**
 * Runs the checks over the scan's entries and reports (`files[i]` is the report of `entries[i]`). What is kept
 * per file is what the checks need for every file (the folder of each model file); the lookups by path and
 * by digest are built only when a signature, attestation, SBOM or publisher finding needs them, so a scan
 * of many files without any keeps no per-file table (a 100,000-file scan built 80 MB of them here).
 */
export async function runTrustPhase(
  entries: EntryList,
  files: FileReports,
  policy: Readonly<Policy>,
  now: Date,
): Promise<TrustPhaseResult> {
  const notes: string[] = [];
  const mode = policy.signatures;
  const warnScore = (ruleId: string) =>
    mode === 'require' ? getRule(ruleId).score : Math.min(10, getRule(ruleId).score);
  const warnSeverity = (ruleId: string): Severity => (mode === 'require' ? getRule(ruleId).severity : 'low');
  /** Findings to add, by report index. */
  const added = new Map<number, Finding[]>();
  const finding = (ruleId: string, message: string, symbol?: string, scored = true): Finding => {
    const rule = getRule(ruleId);
    return {
      ruleId,
      severity: scored ? warnSeverity(ruleId) : rule.severity,
      score: scored ? warnScore(ruleId) : rule.score,
      message,
      location: symbol ? { symbol } : {},
    };
  };
  const add = (index: number, ruleId: string, message: string, symbol?: string, scored = true) => {
    const list = added.get(index) ?? [];
    list.push(finding(ruleId, message, symbol, scored));
    added.set(index, list);
  };

  // Built on first use: the report index of a file by absolute path, and the digest of every file read.
  let byAbs: Map<string, number> | undefined;
  const indexOf = (abs: string): number | undefined => {
    if (!byAbs) {
      byAbs = new Map();
      for (let i = 0; i < entries.length; i++) {
        const e = entries.at(i)!;
        if (e.kind === 'file') byAbs.set(e.absPath, i);
      }
    }
    return byAbs.get(abs);
  };
  let knownMap: Map<string, string> | undefined;
  const known = (): ReadonlyMap<string, string> => {
    if (!knownMap) {
      knownMap = new Map();
      for (let i = 0; i < entries.length; i++) {
        const e = entries.at(i)!;
        const { sha256 } = files.head(i);
        if (e.kind === 'file' && sha256) knownMap.set(e.absPath, sha256);
      }
    }
    return knownMap;
  };

  // 1. Find the signed folder of every scanned file (the nearest model.sig between its folder and the
  // root), and the model files: the folders holding them, and whether each is signed.
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
  const signedDirs = new Map<string, { root: string }>();
  const relFolder = (dir: string, root: string) => toPosix(relative(root, dir));
  const display = (f: string) => (f === '' ? '.' : f);
  const unsigned = new Set<string>();
  /** Model folders (a signed folder, else a model file's own folder): the first model file in each. */
  const modelDirs = new Map<string, { root: string; first?: number }>();
  const pinItems: PinItem[] = [];
  const pinsConfigured = Object.keys(policy.pins).length > 0 || policy.pinChanges.length > 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries.at(i)!;
    if (e.kind !== 'file') continue;
    const head = files.head(i);
    if (pinsConfigured) pinItems.push({ entry: e, report: head, index: i });
    let signed: string | undefined;
    for (let dir = dirname(e.absPath); ; ) {
      if (await hasSig(dir)) {
        signed = dir;
        if (!signedDirs.has(dir)) signedDirs.set(dir, { root: e.root });
        break;
      }
      if (dir === e.root || !isInside(dir, e.root)) break;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    if (!isModelFile({ format: head.format, path: e.relPath })) continue;
    const dir = signed ?? dirname(e.absPath);
    const g = modelDirs.get(dir) ?? { root: e.root };
    g.first ??= i;
    modelDirs.set(dir, g);
    if (signed !== undefined) continue;
    // 3. (below) Unsigned model files.
    const folder = display(relFolder(dirname(e.absPath), e.root));
    unsigned.add(folder);
    if (mode === 'require')
      add(i, 'MG600', `${e.relPath} is a model file in ${folder}, which has no ${SIGNATURE_FILE}.`);
  }

  // The report entry of a folder's model.sig, added when the scan did not include it.
  const sigIndex = async (dir: string, root: string): Promise<number> => {
    const abs = join(dir, SIGNATURE_FILE);
    const found = indexOf(abs);
    if (found !== undefined) return found;
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
    files.push({
      path,
      format: 'model-signature',
      size,
      sha256,
      verdict: 'pass',
      score: 0,
      severity: 'none',
      scoreBreakdown: {},
      findings: [],
    });
    byAbs!.set(abs, files.length - 1);
    return files.length - 1;
  };

  // 2. Verify each signed folder.
  const folders: FolderSummary[] = [];
  const trustConfigured = policy.trust.keys.length > 0 || policy.trust.identities.length > 0;
  if (mode !== 'off') {
    for (const [dir, { root }] of [...signedDirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const folder = relFolder(dir, root);
      const v = await verifyModelFolder(dir, policy.trust, { folder, known: known() });
      const { check, ...rest } = v;
      const summary: FolderSummary = { ...rest, folder: display(folder) };
      // Findings about the folder as a whole go on its model.sig, whose report entry is added only if needed.
      const sig: Finding[] = [];
      const onFile = (rel: string, ruleId: string, message: string) => {
        const i = indexOf(join(dir, rel));
        if (i !== undefined) add(i, ruleId, message);
        else sig.push(finding(ruleId, message, rel));
      };
      if (check) {
        if (check.extra.length) summary.extraFiles = check.extra;
        if (check.modified.length) summary.modifiedFiles = check.modified;
        if (check.missing.length) summary.missingFiles = check.missing;
        if (check.ignored.length) summary.ignoredFiles = check.ignored;
        if (check.sidecars.length) summary.sidecarFiles = check.sidecars;
        for (const rel of check.modified)
          onFile(
            rel,
            'MG603',
            `${rel} differs from the digest signed in ${display(folder)}/${SIGNATURE_FILE}.`,
          );
        for (const rel of check.extra)
          onFile(
            rel,
            'MG604',
            `${rel} is in the signed folder ${display(folder)} but not covered by its signature.`,
          );
        for (const rel of check.missing)
          sig.push(finding('MG605', `${rel} is signed but missing from ${display(folder)}.`, rel));
        for (const rel of check.symlinks)
          sig.push(
            finding('MG606', `${rel} in ${display(folder)} is a symbolic link or not a regular file.`, rel),
          );
        if (!check.rootDigestOk)
          sig.push(
            finding('MG601', 'The signed root digest does not match the signed list of file digests.'),
          );
        const relevant = check.ignored.filter(isLoadRelevant);
        if (relevant.length > 0) {
          sig.push(
            finding(
              'MG607',
              `The signature's ignore_paths leave files the loader reads unprotected: ${relevant.join(', ')}.`,
            ),
          );
        }
      }
      if (v.serialization?.allowSymlinks)
        sig.push(finding('MG607', 'The signature was made with allow_symlinks: true.'));
      if (v.predicateType && v.predicateType !== 'https://model_signing/signature/v1.0') {
        sig.push(finding('MG608', `Legacy signature predicate ${v.predicateType}.`, undefined, false));
      }
      if (v.status === 'invalid') {
        sig.push(
          finding('MG601', `Signature of ${display(folder)} does not verify: ${v.problems[0] ?? 'invalid'}.`),
        );
      } else if (!v.signerTrusted && (mode === 'require' || trustConfigured)) {
        // Untrusted or unchecked signer: a finding when the policy requires signatures or names signers.
        sig.push(
          finding(
            'MG602',
            `Signature of ${display(folder)}: ${v.signerProblem ?? 'the signer is not trusted'}.`,
          ),
        );
      }
      if (sig.length > 0) {
        const i = await sigIndex(dir, root);
        added.set(i, [...(added.get(i) ?? []), ...sig]);
      }
      const scanned = indexOf(join(dir, SIGNATURE_FILE));
      if (scanned !== undefined && files.head(scanned).format === 'other')
        files.set(scanned, { ...files.at(scanned)!, format: 'model-signature' });
      folders.push(summary);
    }
  }

  // 4. Pins, publishers, SBOMs.
  const pinned = await checkPins(pinItems, policy, process.cwd());
  for (const { item, ruleId, message } of pinned.findings) add(item.index, ruleId, message, undefined, false);
  for (const dir of signedDirs.keys())
    if (!modelDirs.has(dir)) modelDirs.set(dir, { root: signedDirs.get(dir)!.root });
  // The digests of the files under each model folder, by walking up each file's folders once (testing
  // every file against every folder was quadratic: minutes for 30,000 files in 300 folders); built when
  // the first folder with attestations or an SBOM asks.
  let knownUnder: Map<string, Array<[string, string]>> | undefined;
  const knownIn = (dir: string): ReadonlyArray<[string, string]> => {
    if (!knownUnder) {
      knownUnder = new Map();
      for (const d of modelDirs.keys()) knownUnder.set(d, []);
      for (const entry of known()) {
        for (let d = dirname(entry[0]); ; ) {
          knownUnder.get(d)?.push(entry);
          const up = dirname(d);
          if (up === d) break;
          d = up;
        }
      }
    }
    return knownUnder.get(dir) ?? [];
  };
  const publishers: PublisherReport[] = [];
  const sboms: SbomReport[] = [];
  const attestations: TrustSummary['attestations'] = [];
  for (const [dir, g] of [...modelDirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const folder = display(relFolder(dir, g.root));
    const target = (abs: string | undefined): number | undefined =>
      (abs ? indexOf(abs) : undefined) ?? g.first ?? indexOf(join(dir, SIGNATURE_FILE));
    const signer = folders.find((f) => f.folder === folder)?.signer;
    const pub = await checkPublishers(dir, folder, policy, signer?.identity);
    if (pub) {
      publishers.push(pub.report);
      for (const f of pub.findings) {
        const i = target(f.abs);
        if (i !== undefined) add(i, 'MG630', f.message, f.symbol, false);
      }
    }
    const byDigest = () => {
      const m = new Map<string, string>();
      for (const [abs, digest] of knownIn(dir))
        if (!m.has(digest)) m.set(digest, toPosix(relative(dir, abs)));
      return m;
    };
    const found = mode === 'off' ? [] : await folderAttestations(dir, policy.trust, byDigest);
    for (const a of found) {
      attestations.push({ folder, ...a });
      if (!a.problem) continue;
      const i = target(join(dir, a.file));
      if (i !== undefined)
        add(
          i,
          'MG650',
          `${a.file}${a.index ? ` entry ${a.index}` : ''}: attestation ${a.problem}.`,
          a.file,
          false,
        );
    }
    const sb = await checkSboms(dir, folder, policy, known);
    sboms.push(...sb.reports);
    for (const f of sb.findings) {
      const i = target(f.abs);
      if (i !== undefined) add(i, f.ruleId, f.message, f.symbol, false);
    }
  }

  // 5. Evaluate again the files that got findings.
  for (const [index, extra] of added) {
    const r = files.at(index)!;
    const ev = evaluateFile([...r.findings, ...extra], policy, { path: r.path, sha256: r.sha256 }, now);
    // Waivers expired or refused for the new findings are reported like those of the file scan.
    const seen = new Set(ev.findings.map((f) => `${f.ruleId}\u0000${f.message}`));
    files.set(index, {
      ...r,
      findings: [
        ...ev.findings,
        ...waiverFindings(ev).filter((f) => !seen.has(`${f.ruleId}\u0000${f.message}`)),
      ],
      score: ev.score,
      severity: ev.severity,
      verdict: ev.verdict,
      scoreBreakdown: ev.scoreBreakdown,
    });
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
