import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cacheable, cacheKey, fromEntry, toEntry } from '../../src/action/cache.js';
import {
  COMMENT_LIMIT,
  commentMarker,
  failureMessage,
  hasFindings,
  planAnnotations,
  renderComment,
  renderResolvedComment,
  renderSummary,
  SUMMARY_LIMIT,
} from '../../src/action/render.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy/policy.js';
import { mergeReports, parseReport } from '../../src/core/report/merge.js';
import { renderSarif } from '../../src/core/report/sarif.js';
import { buildReport } from '../../src/core/scan.js';
import type { FileReport, Finding, ScanReport } from '../../src/core/types.js';

const SHA = 'ab'.repeat(32);

function file(path: string, findings: Finding[], over: Partial<FileReport> = {}): FileReport {
  const score = Math.min(
    100,
    findings.reduce((s, f) => s + f.score, 0),
  );
  const incomplete = findings.some((f) => ['MG001', 'MG002', 'MG700'].includes(f.ruleId));
  return {
    path,
    format: 'onnx',
    size: 10,
    sha256: SHA,
    verdict: score > 49 ? 'block' : incomplete ? 'incomplete' : score > 0 ? 'warn' : 'pass',
    score,
    severity:
      score >= 80 ? 'critical' : score >= 50 ? 'high' : score >= 20 ? 'medium' : score > 0 ? 'low' : 'none',
    scoreBreakdown: {},
    findings,
    ...over,
  };
}
const crit = (symbol = 'os.system', message = 'runs code'): Finding => ({
  ruleId: 'MG006',
  severity: 'critical',
  score: 100,
  message,
  location: { symbol },
});
const med = (): Finding => ({ ruleId: 'MG005', severity: 'medium', score: 30, message: 'ext', location: {} });
const inc = (): Finding => ({
  ruleId: 'MG002',
  severity: 'medium',
  score: 0,
  message: 'truncated',
  location: { offset: 7 },
});
const report = (files: FileReport[], policy: Readonly<Policy> = DEFAULT_POLICY): ScanReport =>
  buildReport(files, policy);
const ctx = {
  scopeText: 'the changed files',
  policySource: '.github/modelgate.yml',
  notes: ['a note'],
  commit: 'c'.repeat(40),
  runUrl: 'https://github.com/o/r/actions/runs/1',
};

test('comment: marker, table, verdict, link to the run; escapes everything from the model', () => {
  const evil =
    'm/@octocat [click](https://evil.example) <img src=x> ✅ all clear | forged | row |\n### Approved';
  const r = report([
    file(evil, [crit('__import__("os").system', 'Calls @here <script>alert(1)</script> [x](http://e)')]),
  ]);
  const body = renderComment(r, ctx);
  assert.ok(body.startsWith(`${commentMarker()}\n`), 'render.test.ts:75');
  assert.match(body, /modelgate: block \(blocking\)/);
  assert.match(body, /\[run details and job summary\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/1\)/);
  const outside = body.replace(/(`+)[\s\S]*?\1/g, '');
  assert.doesNotMatch(outside, /@octocat|@here|\]\(https:\/\/evil|<img|<script|### Approved|all clear/);
  // The path stays on one table row: no raw newline or pipe from the model.
  const row = body.split('\n').find((l) => l.includes('octocat'))!;
  assert.equal(row.split(' | ').length, 5, row);
  assert.ok(body.length < COMMENT_LIMIT, 'render.test.ts:83');
});

test('comment: a huge report falls back to shorter forms and stays under 65,536 characters', () => {
  const files = Array.from({ length: 5000 }, (_, i) =>
    file(`models/very/long/path/${'x'.repeat(100)}/${i}.pkl`, [crit(`sym${i}`), med()]),
  );
  const body = renderComment(report(files), ctx);
  assert.ok(body.length < COMMENT_LIMIT, String(body.length));
  assert.match(body, /more files/);
  assert.ok(body.startsWith(commentMarker()), 'render.test.ts:93');
});

test('comment for shards has its own marker; resolved comment says so', () => {
  assert.notEqual(commentMarker('1/3'), commentMarker());
  assert.equal(commentMarker('1/3<!--'), '<!-- modelgate-report v1 shard=1/3 -->');
  const clean = report([file('a.onnx', [])]);
  const body = renderResolvedComment(clean, ctx);
  assert.match(body, /modelgate: pass/);
  assert.match(body, /resolved/);
  assert.match(body, /commit cccccccccccc/);
  assert.equal(hasFindings(clean), false);
  assert.equal(hasFindings(report([file('a', [med()])])), true);
});

test('summary: full detail when it fits; under 1 MiB always', () => {
  const small = renderSummary(report([file('a.onnx', [crit()])]), ctx, DEFAULT_POLICY);
  assert.match(small, /<details>/);
  assert.match(small, /a note/);
  const files = Array.from({ length: 4000 }, (_, i) =>
    file(
      `models/${'y'.repeat(150)}/${i}.pkl`,
      Array.from({ length: 5 }, (_, j) => crit(`s${j}`, 'z'.repeat(300))),
    ),
  );
  const big = renderSummary(report(files), ctx, DEFAULT_POLICY);
  assert.ok(Buffer.byteLength(big) < SUMMARY_LIMIT, String(Buffer.byteLength(big)));
  assert.match(big, /left out to stay under the 1 MiB/);
});

test('annotations: most severe first, at most 10 errors and 10 warnings, then one notice counting the rest', () => {
  const files = [
    ...Array.from({ length: 15 }, (_, i) => file(`w${i}.onnx`, [med()])),
    ...Array.from({ length: 12 }, (_, i) => file(`c${i}.onnx`, [crit()])),
    file('i.onnx', [inc()]),
  ];
  const plan = planAnnotations(report(files), DEFAULT_POLICY);
  const errors = plan.filter((a) => a.level === 'error');
  const warnings = plan.filter((a) => a.level === 'warning');
  const notices = plan.filter((a) => a.level === 'notice');
  assert.equal(errors.length, 10);
  assert.equal(warnings.length, 10);
  assert.equal(notices.length, 1);
  assert.match(notices[0]!.message, /^8 more findings/);
  assert.equal(plan[0]!.level, 'error');
  assert.match(errors[0]!.title, /^MG006 /);
  assert.equal(errors[0]!.file, 'c0.onnx');
  // Incomplete blocks (fail-on-incomplete): it is an error, ranked above the medium warnings' overflow
  assert.ok(errors.some((a) => a.file === 'i.onnx') || warnings.length === 10, 'render.test.ts:141');
  // warn-only: nothing is an error
  const wo = planAnnotations(report(files, { ...DEFAULT_POLICY, warnOnly: true }), {
    ...DEFAULT_POLICY,
    warnOnly: true,
  });
  assert.equal(wo.filter((a) => a.level === 'error').length, 0);
  // messages carry no raw newline from the model
  const nl = planAnnotations(report([file('a', [crit('x', 'line1\n::error::forged')])]), DEFAULT_POLICY);
  assert.doesNotMatch(nl[0]!.message, /\n/);
});

test('failure message: one line per failing file with the reason', () => {
  const r = report([
    file('bad.onnx', [crit()]),
    file('half.onnx', [inc()]),
    file('ok.onnx', []),
    file('w.onnx', [med()]),
  ]);
  const msg = failureMessage(r, DEFAULT_POLICY);
  const lines = msg.split('\n');
  assert.equal(lines[0], 'modelgate: 2 files failed the policy:');
  assert.equal(lines[1], 'bad.onnx: blocked, score 100 > 49 (MG006 os.system)');
  assert.equal(lines[2], 'half.onnx: incomplete (MG002)');
  assert.equal(lines.length, 3);
  const evil = failureMessage(report([file('a\nfake.onnx: all good', [crit()])]), DEFAULT_POLICY);
  assert.equal(evil.split('\n').length, 2);
});

test('SARIF: repo-relative uri, no region, fingerprints stable across runs, security-severity on rules', () => {
  const r = report([file('models/sub dir/a.onnx', [crit()])]);
  const a = JSON.parse(renderSarif(r));
  const b = JSON.parse(
    renderSarif(
      report([
        file('models/sub dir/a.onnx', [crit('os.system', 'other wording')], { sha256: 'cd'.repeat(32) }),
      ]),
    ),
  );
  const res = a.runs[0].results[0];
  assert.equal(res.locations[0].physicalLocation.artifactLocation.uri, 'models/sub%20dir/a.onnx');
  assert.equal(res.locations[0].physicalLocation.region, undefined);
  assert.deepEqual(res.partialFingerprints, b.runs[0].results[0].partialFingerprints);
  const rule = a.runs[0].tool.driver.rules.find((x: { id: string }) => x.id === res.ruleId);
  assert.match(rule.properties['security-severity'], /^\d+\.\d$/);
  assert.ok(
    a.runs[0].tool.driver.rules.some((x: { id: string }) => x.id === 'MG700'),
    'render.test.ts:186',
  );
});

test('merge: combines shards by path (worst wins), recomputes the verdict under the merging policy, validates input', () => {
  const s1 = report([file('a.onnx', [])]);
  const s2 = report([file('b.onnx', [crit()])]);
  const dup = report([file('a.onnx', [med()])]);
  const m = mergeReports([s1, s2, dup], DEFAULT_POLICY);
  assert.deepEqual(
    m.files.map((f) => [f.path, f.verdict]),
    [
      ['a.onnx', 'warn'],
      ['b.onnx', 'block'],
    ],
  );
  assert.equal(m.verdict, 'block');
  assert.equal(m.blocked, true);
  assert.equal(mergeReports([s1, s2], { ...DEFAULT_POLICY, warnOnly: true }).blocked, false);
  const round = parseReport(JSON.stringify(m), 'm.json');
  assert.equal(round.files.length, 2);
  assert.throws(() => parseReport('{', 'x.json'), /x\.json: not JSON/);
  assert.throws(
    () => parseReport(JSON.stringify({ ...m, schemaVersion: 2 }), 'x.json'),
    /not a modelgate report/,
  );
  const unknownRule = structuredClone(m);
  unknownRule.files[1]!.findings[0]!.ruleId = 'MG999X';
  assert.throws(() => parseReport(JSON.stringify(unknownRule), 'x.json'), /unknown rule id/);
});

test('cache entries: keyed by content, scanner and policy; restored only when they validate; policy applied again', () => {
  assert.notEqual(cacheKey(SHA, 'p1'.repeat(32)), cacheKey(SHA, 'p2'.repeat(32)));
  assert.match(cacheKey(SHA, 'f'.repeat(64)), /^modelgate-v1-[^,]+$/);
  assert.ok(cacheKey(SHA, 'f'.repeat(64)).length < 512, 'render.test.ts:219');
  const f = file('a.onnx', [med()]);
  const entry = JSON.parse(JSON.stringify(toEntry(f)));
  const now = new Date('2026-06-01T00:00:00Z');
  const back = fromEntry(entry, { path: 'b.onnx', sha256: SHA, size: 10 }, DEFAULT_POLICY, now)!;
  assert.equal(back.path, 'b.onnx');
  assert.equal(back.verdict, 'warn');
  assert.equal(back.score, 30);
  assert.equal(
    fromEntry(entry, { path: 'b', sha256: 'cd'.repeat(32), size: 10 }, DEFAULT_POLICY, now),
    undefined,
    'sha mismatch',
  );
  assert.equal(
    fromEntry(entry, { path: 'b', sha256: SHA, size: 11 }, DEFAULT_POLICY, now),
    undefined,
    'size mismatch',
  );
  assert.equal(
    fromEntry({ ...entry, findings: 'x' }, { path: 'b', sha256: SHA, size: 10 }, DEFAULT_POLICY, now),
    undefined,
  );
  const strict = { ...DEFAULT_POLICY, maxScore: 10 };
  assert.equal(fromEntry(entry, { path: 'b', sha256: SHA, size: 10 }, strict, now)!.verdict, 'block');
  const waived = {
    ...DEFAULT_POLICY,
    waivers: [{ ruleId: 'MG005', path: '**', reason: 'ok', expires: '2026-12-31' }],
  };
  assert.equal(fromEntry(entry, { path: 'b', sha256: SHA, size: 10 }, waived, now)!.verdict, 'pass');
  assert.equal(cacheable(f), true);
  assert.equal(cacheable(file('i', [inc()])), false, 'incomplete results are never cached');
});
