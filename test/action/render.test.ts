import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failureMessage, planAnnotations } from '../../src/action/annotations.js';
import { cacheable, cacheKey, fromEntry, toEntry } from '../../src/action/cache.js';
import {
  COMMENT_LIMIT,
  commentMarker,
  hasFindings,
  renderComment,
  renderResolvedComment,
  renderSummary,
  SUMMARY_LIMIT,
} from '../../src/action/render.js';
import { DEFAULT_POLICY, type Policy } from '../../src/core/policy/policy.js';
import { renderJson } from '../../src/core/report/json.js';
import { mergeReports, parseReport } from '../../src/core/report/merge.js';
import { renderSarif, SARIF_RESULT_LIMIT } from '../../src/core/report/sarif.js';
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

test('comment: marker, verdict, one line per file, link to the run; escapes everything from the model', () => {
  const evil =
    'm/@octocat [click](https://evil.example) <img src=x> ✅ all clear | forged | row |\n### Approved';
  const r = report([
    file(evil, [crit('__import__("os").system', 'Calls @here <script>alert(1)</script> [x](http://e)')]),
  ]);
  const body = renderComment(r, ctx, DEFAULT_POLICY);
  assert.ok(body.startsWith(`${commentMarker()}\n`), 'render.test.ts:75');
  assert.match(body, /modelgate: block — 1 of 1 scanned file fails the policy/);
  assert.match(body, /\[run details and job summary\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/1\)/);
  const outside = body.replace(/(`+)[\s\S]*?\1/g, '');
  assert.doesNotMatch(outside, /@octocat|@here|\]\(https:\/\/evil|<img|<script|### Approved|all clear/);
  // The path stays on its one list line: no raw newline from the model.
  const lines = body.split('\n').filter((l) => l.includes('octocat'));
  assert.equal(lines.length, 2, 'the file line and its waiver example');
  assert.match(
    lines[0]!,
    /^- ⛔ `.*` — File is valid as more than one format `__import__\("os"\)\.system` \(\[MG006\]\(https:\/\/github\.com\/modelgate\/modelgate\/blob\/v[^/]+\/docs\/rules\.md#mg006\)\) · score 100$/,
  );
  assert.ok(body.length < COMMENT_LIMIT, 'render.test.ts:83');
});

test('comment: a huge report falls back to shorter forms and stays under 65,536 characters', () => {
  const files = Array.from({ length: 5000 }, (_, i) =>
    file(`models/very/long/path/${'x'.repeat(100)}/${i}.pkl`, [crit(`sym${i}`), med()]),
  );
  const body = renderComment(report(files), ctx, DEFAULT_POLICY);
  assert.ok(body.length < COMMENT_LIMIT, String(body.length));
  assert.match(body, /… and 4950 more: see the \[job summary\]/);
  assert.ok(body.startsWith(commentMarker()), 'render.test.ts:93');
});

test('comment is for action: only files with findings, worst finding in words, what now with the exact waiver', () => {
  const now = new Date('2026-12-04T00:00:00Z');
  const waivable = (): Finding => ({
    ruleId: 'MG005',
    severity: 'high',
    score: 60,
    message: 'ext',
    location: {},
  });
  const pickleRce: Finding = {
    ruleId: 'MG100',
    severity: 'critical',
    score: 100,
    message: 'calls os.system',
    location: { symbol: 'os.system' },
  };
  const files = [
    file('models/evil.pkl', [pickleRce, med()], { format: 'pickle' }),
    file('models/renamed.onnx', [waivable()]),
    file('models/half.onnx', [inc()]),
    file('models/odd.onnx', [med()]),
    ...Array.from({ length: 12 }, (_, i) => file(`ok/${i}.onnx`, [])),
  ];
  const body = renderComment(report(files), { ...ctx, now }, DEFAULT_POLICY);
  assert.match(body, /### ⛔ modelgate: block — 3 of 16 scanned files fail the policy/);
  assert.match(
    body,
    /- ⛔ `models\/evil\.pkl` — Pickle imports a known\\-dangerous callable `os\.system` \(\[MG100\]\([^)]+#mg100\)\) · score 100 · 1 more finding\n/,
  );
  assert.match(
    body,
    /- ❓ `models\/half\.onnx` — not fully analysed: Malformed or truncated file \(\[MG002\]/,
  );
  assert.match(body, /\*\*Warnings\*\*\n\n- ⚠️ `models\/odd\.onnx`/);
  assert.match(body, /12 other files passed with nothing to report/);
  assert.doesNotMatch(body, /ok\/3\.onnx/, 'clean files are only counted');
  assert.doesNotMatch(body, /\| File \|/, 'no wide table');
  // The waiver to paste, for the waivable findings only, pinned to the bytes, with an expiry 90 days on.
  assert.match(
    body,
    /```yaml\nwaivers:\n {2}- ruleId: MG005\n {4}path: "models\/renamed\.onnx"\n {4}sha256: (ab){32}\n {4}reason: "<why these bytes are safe>"\n {4}expires: "2027-03-04"\n/,
  );
  assert.match(body, /ruleId: MG002\n {4}path: "models\/half\.onnx"/);
  assert.doesNotMatch(body, /ruleId: MG100/);
  assert.doesNotMatch(body, /path: "models\/evil\.pkl"/, 'no waiver for a file that cannot be waived whole');
  assert.match(body, /\*\*Cannot be waived:\*\* \[MG100\]/);
  assert.match(body, /policy file of the base branch \(\\\.github\/modelgate\\\.yml\)/);
  for (const line of body.split('\n')) assert.ok(line.length < 400 || line.startsWith('<sub>'), line);
  // A path cannot break out of the YAML block.
  const evil = renderComment(report([file('a```\n"b', [waivable()])]), ctx, DEFAULT_POLICY);
  const yaml = evil.slice(evil.indexOf('```yaml'));
  assert.equal(yaml.match(/```/g)!.length, 2, 'one fence opened, one closed');
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
  const withNote = report([file('a.onnx', [crit()]), file('b c.onnx', [inc()])]);
  withNote.notes = ['a note'];
  const small = renderSummary(withNote, { ...ctx, annotationsOmitted: 7 }, DEFAULT_POLICY);
  assert.match(small, /<details>/);
  assert.equal(small.match(/a note/g)?.length, 1, 'each note once');
  assert.match(
    small,
    /<summary>⛔ <code>a\.onnx<\/code>: block, score 100<\/summary>/,
    'no Markdown escapes in HTML',
  );
  assert.match(small, /<summary>❓ <code>b c\.onnx<\/code>: incomplete \(fails the gate\)/);
  assert.match(small, /\| ❓ incomplete \(fails the gate\) \|/);
  assert.match(small, /7 findings were not annotated on the diff/);
  const lenient = renderSummary(withNote, ctx, { ...DEFAULT_POLICY, failOnIncomplete: false });
  assert.doesNotMatch(lenient, /fails the gate/);
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

test('annotations: every failing file gets its worst finding first, within 10 errors and 10 warnings, then a notice', () => {
  // 16 failing files, the first with many findings: each failing file must get an annotation of its own.
  const many = file('a-many.pkl', [...Array.from({ length: 12 }, (_, i) => crit(`s${i}`))]);
  const files = [
    many,
    ...Array.from({ length: 8 }, (_, i) => file(`c${i}.onnx`, [crit()])),
    file('i.onnx', [inc()]),
    ...Array.from({ length: 15 }, (_, i) => file(`w${i}.onnx`, [med()])),
  ];
  const { annotations: plan, omitted } = planAnnotations(report(files), DEFAULT_POLICY);
  const errors = plan.filter((a) => a.level === 'error');
  const warnings = plan.filter((a) => a.level === 'warning');
  const notices = plan.filter((a) => a.level === 'notice');
  assert.equal(errors.length, 10);
  assert.equal(warnings.length, 10);
  assert.equal(notices.length, 1);
  // Each of the 10 failing files (9 blocked + 1 incomplete) has exactly one error: the many-finding file takes 1, not 8.
  assert.deepEqual(
    errors.map((a) => a.file).sort(),
    ['a-many.pkl', ...Array.from({ length: 8 }, (_, i) => `c${i}.onnx`), 'i.onnx'].sort(),
  );
  assert.match(errors.find((a) => a.file === 'a-many.pkl')!.title, /^MG006 /);
  assert.equal(omitted, 11 + 5);
  assert.match(notices[0]!.message, /^16 more findings/);
  // warn-only: nothing is an error
  const wo = planAnnotations(report(files, { ...DEFAULT_POLICY, warnOnly: true }), {
    ...DEFAULT_POLICY,
    warnOnly: true,
  }).annotations;
  assert.equal(wo.filter((a) => a.level === 'error').length, 0);
  // messages carry no raw newline from the model, and say what to do
  const nl = planAnnotations(
    report([file('a', [crit('x', 'line1\n::error::forged')])]),
    DEFAULT_POLICY,
  ).annotations;
  assert.doesNotMatch(nl[0]!.message, /\n/);
  assert.match(nl[0]!.message, /Regenerate the file/);
});

test('annotations: the findings of a Hub model land at the line that loads it; one no line names is summary only', () => {
  const evil = `hf://mallory/evil@${'3'.repeat(40)}`;
  const lone = `hf://acme/lone@${'4'.repeat(40)}`;
  const mg950: Finding = {
    ruleId: 'MG950',
    severity: 'medium',
    score: 30,
    message: 'not pinned',
    location: { symbol: 'acme/x@main', line: 7 },
  };
  const files = [
    file('app/load.py', [mg950], { format: 'other' }),
    file(evil, [], {
      format: 'hf-repository',
      facts: {
        'hf.referencedAt': [
          { file: 'app/load.py', line: 2 },
          { file: 'app/other.py', line: 9 },
          { file: 'hf://x/y', line: 1 },
        ],
      },
    }),
    file(`${evil}/pytorch_model.bin`, [crit()], { format: 'pytorch-zip' }),
    file(lone, [], { format: 'hf-repository' }),
    file(`${lone}/model.pkl`, [crit()], { format: 'pickle' }),
  ];
  const { annotations, omitted } = planAnnotations(report(files), DEFAULT_POLICY);
  assert.deepEqual(
    annotations.map((a) => [a.level, a.file, a.line, a.title.split(' ')[0]]),
    [
      ['error', 'app/load.py', 2, 'MG006'],
      ['warning', 'app/load.py', 7, 'MG950'],
    ],
  );
  assert.match(
    annotations[0]!.message,
    new RegExp(
      `^${evil.replace(/[/@]/g, '.')}/pytorch_model.bin, loaded here \\(and at 1 more place\\): runs code`,
    ),
  );
  assert.equal(omitted, 0, 'a finding with no place in the workspace is not an omitted annotation');
  assert.ok(!annotations.some((a) => a.file.startsWith('hf://')));
  // SARIF places them the same way (code scanning shows the line that loads the model).
  const sarif = JSON.parse(renderSarif(report(files))) as {
    runs: Array<{
      results: Array<{
        message: { text: string };
        locations: Array<{
          physicalLocation: { artifactLocation: { uri: string }; region?: { startLine: number } };
        }>;
      }>;
    }>;
  };
  const where = sarif.runs[0]!.results.map((r) => {
    const p = r.locations[0]!.physicalLocation;
    return [p.artifactLocation.uri, p.region?.startLine, r.message.text.includes('loaded here')];
  });
  assert.deepEqual(
    where.sort(),
    [
      ['app/load.py', 2, true],
      ['app/load.py', 7, false],
      [`${lone}/model.pkl`.split('/').map(encodeURIComponent).join('/'), undefined, false],
    ].sort(),
  );
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
  assert.match(rule.helpUri, /docs\/rules\.md#mg006$/);
  assert.equal(a.runs[0].automationDetails.id, 'modelgate/');
  const cat = JSON.parse(renderSarif(r, { category: 'models/', shard: '2/3', uri: (p) => `sub/${p}` }));
  assert.equal(cat.runs[0].automationDetails.id, 'models/shard-2-of-3/');
  assert.equal(
    cat.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri,
    'sub/models/sub%20dir/a.onnx',
  );
});

test('SARIF: at most 25,000 results per run, the most severe kept, the cap said', () => {
  const files = Array.from({ length: 13_000 }, (_, i) => file(`m/${i}.onnx`, [med(), crit()]));
  const doc = JSON.parse(renderSarif(report(files)));
  const run = doc.runs[0];
  assert.equal(run.results.length, SARIF_RESULT_LIMIT);
  assert.equal(run.results.filter((x: { ruleId: string }) => x.ruleId === 'MG006').length, 13_000);
  assert.equal(run.properties.resultsOmitted, 1000);
  assert.match(run.invocations[0].toolExecutionNotifications[0].message.text, /^1000 results were left out/);
});

test('a report read back keeps everything a finding and a file carry: line, waiver, Hub digest source', () => {
  const at = { ...med(), location: { symbol: 'm', line: 7, member: 'a!b', offset: 3 } };
  const waived = { ...crit(), waived: { reason: 'accepted', expires: '2027-01-01' } };
  const r = report([file('code.py', [at, waived]), file('hf://o/n@x/w.bin', [], { sha256Source: 'hub' })]);
  const back = parseReport(renderJson(r), 'r.json');
  assert.deepEqual([...back.files], [...r.files]);
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
  const unknownRule = JSON.parse(JSON.stringify(m)) as { files: FileReport[] };
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
