import { readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as core from '@actions/core';
import picomatch from 'picomatch';
import { sha256File } from '../core/hash.js';
import { evaluateFile, type Policy } from '../core/policy/policy.js';
import { escapeControl } from '../core/report/escape.js';
import { renderJson } from '../core/report/json.js';
import { mergeReports, parseReport } from '../core/report/merge.js';
import { renderSarif } from '../core/report/sarif.js';
import { buildReport, type ScanProgress, scanEntries } from '../core/scan.js';
import type { FileReport, ScanReport } from '../core/types.js';
import { isInside, toPosix, type WalkEntry } from '../core/walk.js';
import { failureMessage, planAnnotations } from './annotations.js';
import { attestRun } from './attest.js';
import {
  actionsCache,
  actionsRemoteCache,
  cacheAvailable,
  cacheDir,
  cacheScopeTrusted,
  type ResultCache,
  scanWithCache,
} from './cache.js';
import { type EventInfo, readEvent } from './event.js';
import { type Api, createApi, httpStatus } from './github.js';
import { type ActionInputs, envInput, readInputs } from './inputs.js';
import { fetchLfs, findPointers, lfsUrlOverride } from './lfs.js';
import { type ActionPolicy, loadActionPolicy } from './policy.js';
import { addReferences } from './references.js';
import {
  commentMarker,
  hasFindings,
  type RunContext,
  renderComment,
  renderErrorSummary,
  renderResolvedComment,
  renderSummary,
} from './render.js';
import { filterOf, selectEntries } from './targets.js';

const log = (m: string) => core.info(escapeControl(m));

/** Orchestrates one run: inputs → policy (from the base on PRs) → changed files → LFS → cache → scan → reports → gate. */
export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const ctx: RunContext = { scopeText: 'nothing yet', policySource: 'not loaded', notes: [] };
  let summary: string | undefined;
  try {
    const inputs = readInputs(envInput(env));
    const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());
    process.chdir(workspace);
    const payload = readPayload(env.GITHUB_EVENT_PATH);
    const ev = readEvent(env.GITHUB_EVENT_NAME ?? '', payload, env);
    const api = inputs.token ? createApi(inputs.token, ev.owner, ev.repo) : undefined;
    if (inputs.shard) ctx.shard = `${inputs.shard.index}/${inputs.shard.count}`;
    ctx.commit = env.GITHUB_SHA;
    if (env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY)
      ctx.runUrl = `${env.GITHUB_SERVER_URL || 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;

    const pol = await loadActionPolicy(workspace, inputs, ev, api);
    ctx.policySource = pol.source;
    ctx.notes.push(...pol.notes);

    const report =
      inputs.mergeReports.length > 0
        ? await mergeMode(workspace, inputs, pol, ctx)
        : await scanMode(workspace, inputs, ev, api, pol, ctx, env);
    report.notes = [...new Set([...(report.notes ?? []), ...ctx.notes])];
    if (report.notes.length === 0) delete report.notes;

    await writeOut(workspace, inputs.reportFile, renderJson(report));
    await writeOut(
      workspace,
      inputs.sarifFile,
      renderSarif(report, { category: inputs.sarifCategory, shard: ctx.shard }),
    );
    if (inputs.annotations) ctx.annotationsOmitted = annotate(report, pol.policy);

    let commentId: number | undefined;
    const pr = await prNumber(ev, api);
    if (inputs.comment !== 'never' && pr !== undefined && api) {
      commentId = await stickyComment(api, pr, report, ctx, inputs.comment, pol.policy);
    } else if (inputs.comment !== 'never' && pr !== undefined && !api) {
      core.warning('modelgate: no token, so no pull request comment; see the job summary.');
    }

    let findings = 0;
    for (const f of report.files) findings += f.findings.filter((x) => !x.waived).length;
    core.setOutput('verdict', report.verdict);
    core.setOutput('max-score', String(report.maxScore));
    core.setOutput('scanned', String(report.files.length));
    core.setOutput('findings', String(findings));
    core.setOutput('blocked', String(report.blocked));
    core.setOutput('report-file', inputs.reportFile);
    core.setOutput('sarif-file', inputs.sarifFile);
    core.setOutput('comment-id', commentId !== undefined ? String(commentId) : '');

    if (inputs.attest) await attestStep(workspace, inputs, report, pol, env);

    summary = renderSummary(report, ctx, pol.policy);
    log(`modelgate: ${report.verdict}, ${report.files.length} files, max score ${report.maxScore}`);
    if (report.blocked) core.setFailed(failureMessage(report, pol.policy));
    else if (pol.policy.warnOnly && (report.verdict === 'block' || report.verdict === 'incomplete')) {
      const strict = { ...pol.policy, warnOnly: false };
      core.warning(`warn-only: this run would fail otherwise. ${failureMessage(report, strict)}`);
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    summary = renderErrorSummary(msg, ctx);
    core.setFailed(`modelgate: ${escapeControl(msg)}`);
    if (err instanceof Error && err.stack) core.debug(escapeControl(err.stack));
  } finally {
    if (summary !== undefined && env.GITHUB_STEP_SUMMARY) {
      try {
        await core.summary.addRaw(summary, true).write();
      } catch (err) {
        core.warning(`modelgate: could not write the job summary: ${escapeControl((err as Error).message)}`);
      }
    }
  }
}

/** Files scanned so far, logged every few seconds on long scans (the runner's log has no redrawn lines). */
function progressLog(everyMs = 10_000): (p: ScanProgress) => void {
  let last = Date.now();
  return (p) => {
    const now = Date.now();
    if (now - last < everyMs || p.done === p.total) return;
    last = now;
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    log(
      `modelgate: scanned ${p.done} of ${p.total} files (${mib(p.bytesDone)} of ${mib(p.bytesTotal)})${p.current ? `, reading ${p.current}` : ''}`,
    );
  };
}

/**
 * `attest: true`: the statement file always, the GitHub attestation when the scan passed. A publication that
 * fails (no `id-token: write` / `attestations: write`, Sigstore unreachable) fails the job: a release workflow
 * that asked for an attestation must not ship without one.
 */
async function attestStep(
  workspace: string,
  inputs: ActionInputs,
  report: ScanReport,
  pol: ActionPolicy,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  core.setOutput('attestation-file', inputs.attestationFile);
  try {
    const a = await attestRun(
      workspace,
      report,
      pol.policy,
      {
        file: inputs.attestationFile,
        publish: true,
        token: inputs.token,
        ...(pol.fileRef ? { policyRef: pol.fileRef } : {}),
      },
      env,
    );
    if (a.attestationId) {
      core.setOutput('attestation-id', a.attestationId);
      log(`modelgate: attestation ${a.attestationId} published for ${a.statement.subject.length} files`);
    } else if (a.notPublished) log(`modelgate: attestation written to ${a.file}; ${a.notPublished}.`);
  } catch (err) {
    core.setFailed(
      `modelgate: attest: the verification summary is in ${inputs.attestationFile}, but publishing it failed: ${escapeControl((err as Error).message)}. The job needs 'permissions: id-token: write, attestations: write'.`,
    );
  }
}

function readPayload(path: string | undefined): Record<string, unknown> {
  if (!path) return {};
  try {
    const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function writeOut(workspace: string, rel: string, text: string): Promise<void> {
  if (!rel) return;
  const p = resolve(workspace, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, text);
}

/** Writes the annotations; returns how many findings got none of their own. */
function annotate(report: ScanReport, policy: Readonly<Policy>): number {
  const plan = planAnnotations(report, policy);
  for (const a of plan.annotations) {
    const props = a.file
      ? { title: a.title, file: a.file, ...(a.line !== undefined ? { startLine: a.line } : {}) }
      : { title: a.title };
    if (a.level === 'error') core.error(a.message, props);
    else if (a.level === 'warning') core.warning(a.message, props);
    else core.notice(a.message, props);
  }
  return plan.omitted;
}

async function prNumber(ev: EventInfo, api: Api | undefined): Promise<number | undefined> {
  if (ev.prNumber !== undefined) return ev.prNumber;
  const wr = ev.workflowRun;
  if (!wr) return undefined;
  if (wr.prNumbers.length > 0) return wr.prNumbers[0];
  // A fork's run lists no pull requests: look the PR up by its head (taken from the event, not the artifact).
  if (!api || !wr.headOwner || !wr.headBranch) return undefined;
  try {
    const prs = await api.findPulls(wr.headOwner, wr.headBranch);
    return prs.find((p) => p.headSha === wr.headSha)?.number;
  } catch {
    return undefined;
  }
}

const sameLogin = (a: string, b: string) =>
  a.toLowerCase().replace(/\[bot\]$/, '') === b.toLowerCase().replace(/\[bot\]$/, '');

/**
 * One sticky comment per pull request: found by the hidden marker AND the token's own login (anyone can paste
 * the marker), updated in place, created only when there is something to say (or comment: always). A clean
 * run updates an earlier comment to say so. Permission errors (fork PRs) are warnings.
 */
async function stickyComment(
  api: Api,
  pr: number,
  report: ScanReport,
  ctx: RunContext,
  mode: 'on-findings' | 'always',
  policy: Readonly<Policy>,
): Promise<number | undefined> {
  const marker = commentMarker(ctx.shard);
  try {
    const login = (await api.viewerLogin()) ?? 'github-actions[bot]';
    const existing = (await api.listComments(pr)).find(
      (c) => c.body.includes(marker) && sameLogin(c.login, login),
    );
    const findings = hasFindings(report);
    let body: string | undefined;
    if (findings || mode === 'always') body = renderComment(report, ctx, policy);
    else if (existing) body = renderResolvedComment(report, ctx);
    if (body === undefined) {
      log('modelgate: nothing to report and no earlier comment: no pull request comment.');
      return undefined;
    }
    if (existing) {
      if (existing.body.trim() !== body.trim()) await api.updateComment(existing.id, body);
      return existing.id;
    }
    return (await api.createComment(pr, body)).id;
  } catch (err) {
    const status = httpStatus(err);
    core.warning(
      status === 403 || status === 404
        ? `modelgate: could not write the pull request comment (HTTP ${status}). Fork pull requests get a read-only token; grant 'pull-requests: write' or use the workflow_run pattern (see the docs). The job summary has the full report.`
        : `modelgate: could not write the pull request comment: ${escapeControl((err as Error).message)}`,
    );
    return undefined;
  }
}

async function mergeMode(
  workspace: string,
  inputs: ActionInputs,
  pol: ActionPolicy,
  ctx: RunContext,
): Promise<ScanReport> {
  const files = await expandGlobs(workspace, inputs.mergeReports);
  if (files.length === 0)
    throw new Error(`merge-reports: no report matches ${inputs.mergeReports.join(', ')}`);
  const reports: ScanReport[] = [];
  for (const f of files) reports.push(parseReport(await readFile(resolve(workspace, f), 'utf8'), f));
  ctx.scopeText = `${reports.length} merged report${reports.length === 1 ? '' : 's'}`;
  return mergeReports(reports, pol.policy);
}

/** Expands workspace-relative globs to files (sorted), without following links out of the workspace. */
export async function expandGlobs(workspace: string, patterns: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const pat of patterns) {
    const segs = pat.replace(/^\.\//, '').split('/');
    const fixed: string[] = [];
    for (const s of segs) {
      if (/[*?[\]{}!]/.test(s)) break;
      fixed.push(s);
    }
    if (fixed.length === segs.length) {
      out.add(fixed.join('/'));
      continue;
    }
    const base = resolve(workspace, fixed.join('/') || '.');
    if (!isInside(base, workspace)) continue;
    const isMatch = picomatch(pat.replace(/^\.\//, ''), { dot: true });
    let names: string[] = [];
    try {
      names = (await readdir(base, { recursive: true })) as string[];
    } catch {
      continue;
    }
    for (const n of names) {
      const rel = toPosix(join(fixed.join('/'), n)).replace(/^\.\//, '');
      if (isMatch(rel) && (await lstat(resolve(workspace, rel))).isFile()) out.add(rel);
    }
  }
  return [...out].sort();
}

async function scanMode(
  workspace: string,
  inputs: ActionInputs,
  ev: EventInfo,
  api: Api | undefined,
  pol: ActionPolicy,
  ctx: RunContext,
  env: NodeJS.ProcessEnv,
): Promise<ScanReport> {
  const entries = await selectEntries(workspace, inputs, ev, api, ctx);
  log(`modelgate: ${entries.length} files to scan`);

  // Git LFS: fetch the objects behind pointers among the files to scan, checked against the pointer.
  const lfsFailed = new Map<
    string,
    { ruleId: 'MG700' | 'MG701'; reason: string; oid: string; size: number }
  >();
  if (inputs.lfs === 'fetch') {
    const pointers = await findPointers(
      entries.filter((e) => e.kind === 'file').map((e) => ({ path: e.relPath, abs: e.absPath })),
    );
    if (pointers.length > 0) {
      const repos = [
        ...new Set([ev.headRepo, `${ev.owner}/${ev.repo}`].filter((r): r is string => !!r && r !== '/')),
      ];
      const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
      const override = ev.policyFromBase
        ? await lfsUrlOverride(
            workspace,
            ev.base,
            `${serverUrl.replace(/\/$/, '')}/${ev.owner}/${ev.repo}.git/info/lfs`,
          )
        : { gitConfig: [] };
      if (override.note) ctx.notes.push(override.note);
      const results = await fetchLfs(pointers, {
        cwd: workspace,
        serverUrl,
        repos,
        token: inputs.token,
        log,
        gitConfig: override.gitConfig,
      });
      let ok = 0;
      for (const p of pointers) {
        const r = results.get(p.path);
        if (r?.ok) ok++;
        else
          lfsFailed.set(p.path, {
            ruleId: r?.ruleId ?? 'MG700',
            reason: r?.reason ?? 'not fetched',
            oid: p.oid,
            size: p.size,
          });
      }
      ctx.notes.push(
        `Git LFS: ${pointers.length} pointer${pointers.length === 1 ? '' : 's'} among the files; ${ok} fetched and verified, ${lfsFailed.size} not.`,
      );
    }
  }

  // Cache: restore results for unchanged bytes; scan the rest.
  let cache: ResultCache | undefined;
  let remoteCache: ReturnType<typeof actionsRemoteCache> | undefined;
  const now = new Date();
  if (inputs.cache) {
    if (cacheAvailable()) {
      // Restores are believed only from scopes that nothing but modelgate's trusted runs write (cache.ts).
      const scope = await cacheScopeTrusted(api, ev, env);
      if (scope.trusted) {
        cache = actionsCache(pol.policy, pol.hash, now, log, cacheDir(env));
        remoteCache = actionsRemoteCache(cacheDir(env), ev.cacheSaveAllowed, log);
      } else {
        // Entries planted in the scope are worth a warning; a scope that cannot be listed, a notice.
        const say = scope.foreign ? core.warning : core.notice;
        say(`modelgate: the cache is not used by this run: ${escapeControl(scope.reason)}.`);
        ctx.notes.push(`The cache was not used: ${scope.reason}. Every file was scanned.`);
      }
    } else {
      core.notice('modelgate: the cache service is not available to this run; every file is scanned.');
      ctx.notes.push('The cache service was not available: every file was scanned.');
    }
  }
  const toScan = entries.filter((e) => !lfsFailed.has(e.relPath));
  const scan = (es: WalkEntry[]) =>
    scanEntries(es, { policy: pol.policy, now, onProgress: progressLog() }).then((r) => r.files);
  const r = await scanWithCache(toScan, scan, cache, ev.cacheSaveAllowed);
  // A pointer whose object could not be had is reported as such; its few bytes of text are not the model.
  for (const e of entries) {
    const failed = lfsFailed.get(e.relPath);
    if (failed) r.files.push(await lfsFailure(e, failed, pol.policy, now));
  }
  if (cache) {
    const s = cache.stats;
    ctx.notes.push(
      `Cache: ${s.hits} result${s.hits === 1 ? '' : 's'} reused, ${r.scanned} scanned${ev.cacheSaveAllowed ? `, ${s.saved} saved` : ' (results are saved only on trusted events: push to the default branch, merge_group, schedule)'}.`,
    );
  }
  const report = buildReport(r.files.sortedByPath(), pol.policy);
  // Models the scanned code and configs load from the Hugging Face Hub (input `references`).
  const full = await addReferences(
    report,
    inputs.references,
    entries,
    { workspace, ...filterOf(inputs) },
    pol.policy,
    remoteCache,
    env,
    log,
  );
  if (remoteCache) {
    const s = remoteCache.stats;
    if (s.hits + s.misses > 0)
      ctx.notes.push(
        `Hub cache: ${s.hits} analys${s.hits === 1 ? 'is' : 'es'} reused (commits and files), ${s.misses} not found${ev.cacheSaveAllowed ? `, ${s.saved} saved` : ''}.`,
      );
  }
  // An entry planted in this run's scope while it ran (a concurrent run of the same pull request) could
  // have been restored: look again, and fail rather than believe what was restored.
  const hits = (cache?.stats.hits ?? 0) + (remoteCache?.stats.hits ?? 0);
  if (hits > 0 && !ev.cacheSaveAllowed) {
    const again = await cacheScopeTrusted(api, ev, env);
    if (!again.trusted)
      throw new Error(
        `${hits} results were restored from the cache, but ${again.reason}; they cannot be believed. Run the job again: a run that finds such entries before scanning restores nothing.`,
      );
  }
  return full;
}

/** The report of an LFS pointer whose object could not be fetched (MG700) or did not match (MG701). */
async function lfsFailure(
  e: WalkEntry,
  failed: { ruleId: 'MG700' | 'MG701'; reason: string; oid: string; size: number },
  policy: Readonly<Policy>,
  now: Date,
): Promise<FileReport> {
  const sha256 = await sha256File(e.absPath);
  const message =
    failed.ruleId === 'MG700'
      ? `Git LFS object sha256:${failed.oid} (${failed.size} bytes) could not be fetched: ${failed.reason}`
      : `Git LFS object sha256:${failed.oid} (${failed.size} bytes) was refused: ${failed.reason}`;
  const findings = [
    {
      ruleId: failed.ruleId,
      severity: failed.ruleId === 'MG701' ? ('high' as const) : ('medium' as const),
      score: 0,
      message,
      location: {},
    },
  ];
  const ev = evaluateFile(findings, policy, { path: e.relPath, sha256 }, now);
  return {
    path: e.relPath,
    format: 'lfs-pointer',
    size: (await lstat(e.absPath)).size,
    sha256,
    verdict: ev.verdict,
    score: ev.score,
    severity: ev.severity,
    scoreBreakdown: ev.scoreBreakdown,
    findings: ev.findings,
    facts: { lfsOid: failed.oid, lfsSize: failed.size },
  };
}
