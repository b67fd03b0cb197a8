// A crafted file name is attacker-controlled text in every report: newlines, carriage returns, ANSI escapes,
// bidi overrides, Markdown and HTML, and GitHub workflow commands (`::error::`, `::set-output`,
// `::add-mask::`, `::stop-commands::`). None may reach a report or the runner's stdout unescaped.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as core from '@actions/core';
import fc from 'fast-check';
import { failureMessage, planAnnotations } from '../../src/action/annotations.js';
import { renderComment, renderSummary } from '../../src/action/render.js';
import { render } from '../../src/cli/render.js';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { escapeControl, escapeMarkdown, markdownCode } from '../../src/core/report/escape.js';
import { FileReports } from '../../src/core/report/file-reports.js';
import { scanPaths } from '../../src/core/scan.js';
import type { ScanReport } from '../../src/core/types.js';
import { tempDir } from '../helpers.js';

const EVIL_NAMES = [
  'evil\n::error file=x::injected\n.pkl',
  'cr\r::add-mask::secret\r.bin',
  'ansi\u001b[31mred\u001b[0m\u0007bell.pt',
  'tab\tand\u0000nul-free\u007fdel.pkl'.replace('\u0000', ''),
  'bidi\u202egnp.pkl',
  '[link](https:evil.example) <img src=x onerror=alert(1)> @admin #1 | col.pkl',
  '::stop-commands::token\n::set-output name=x::y.pkl',
  '%0A%0D percent-encoded.pkl',
];

/** Control characters that must never appear raw in text reports (newline allowed as a separator only). */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Markdown with its code spans removed (the parts where HTML, links and mentions are live). */
function stripCodeSpans(md: string): string {
  return md.replace(/(`+)[^`]*?(?:`(?!\1)[^`]*?)*\1/g, '');
}

async function reportFor(after: (fn: () => void) => void): Promise<{ report: ScanReport; names: string[] }> {
  const dir = tempDir(after);
  const names: string[] = [];
  for (const n of EVIL_NAMES) {
    writeFileSync(join(dir, n), 'not a model, but named like one');
    names.push(n);
  }
  const report = await scanPaths([dir]);
  return { report, names: names.sort() };
}

test('paths with control characters: JSON and SARIF stay valid JSON and round-trip the exact path', async () => {
  const { report, names } = await reportFor(after);
  assert.equal(report.files.length, EVIL_NAMES.length);
  const json = JSON.parse(render(report, 'json', { verbose: false }));
  assert.deepEqual(json.files.map((f: { path: string }) => f.path).sort(), names);
  const raw = render(report, 'json', { verbose: false });
  assert.doesNotMatch(raw, CONTROL);
  for (const line of raw.split('\n')) assert.doesNotMatch(line, /^::/);
  const sarif = render(report, 'sarif', { verbose: false });
  const doc = JSON.parse(sarif);
  assert.equal(doc.version, '2.1.0');
  assert.doesNotMatch(sarif, CONTROL);
  for (const line of sarif.split('\n')) assert.doesNotMatch(line, /^::/);
});

test('paths with control characters: text and Markdown reports show them escaped, one line per record', async () => {
  const { report } = await reportFor(after);
  for (const format of ['text', 'markdown'] as const) {
    for (const verbose of [false, true]) {
      const out = render(report, format, { verbose });
      assert.doesNotMatch(out, CONTROL, `${format}: no raw control characters`);
      for (const line of out.split('\n')) {
        assert.doesNotMatch(line, /^\s*::/, `${format}: no line starts a workflow command: ${line}`);
      }
      if (format === 'markdown') {
        // Inside a code span HTML and links are inert; outside one they must not survive.
        const live = stripCodeSpans(out);
        assert.doesNotMatch(live, /<img/i, 'no raw HTML');
        assert.doesNotMatch(live, /\]\(https:evil/, 'no live Markdown link');
      }
    }
  }
});

test('workflow commands: annotations and messages emitted through @actions/core are single lines', async () => {
  const { report } = await reportFor(after);
  const policy = DEFAULT_POLICY;
  const written: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    // As the action's annotate() does.
    for (const a of planAnnotations(report, policy).annotations) {
      const props = a.file ? { title: a.title, file: a.file } : { title: a.title };
      if (a.level === 'error') core.error(a.message, props);
      else if (a.level === 'warning') core.warning(a.message, props);
      else core.notice(a.message, props);
    }
    core.setFailed(failureMessage(report, policy));
  } finally {
    process.stdout.write = orig;
    process.exitCode = undefined; // setFailed set it; this test process must not fail for that
  }
  const out = written.join('');
  const lines = out.split('\n').filter((l) => l.length > 0);
  assert.ok(lines.length >= 2, 'annotations were written');
  for (const line of lines) {
    // Every line is exactly one command this code issued: error/warning/notice, nothing injected.
    assert.match(line, /^::(error|warning|notice)( [^:]*)?::/, line);
    assert.doesNotMatch(line, /\r/);
    const m = line.match(/^::\w+( [^:]*)?::(.*)$/)!;
    assert.doesNotMatch(m[2]!, /^::|\n::/, 'no command inside the message');
  }
  assert.ok(!/^::(add-mask|stop-commands|set-output)/m.test(out));
});

test('PR comment and job summary (Markdown) escape the crafted names', async () => {
  const { report } = await reportFor(after);
  const ctx = {
    scopeText: 'all files',
    commit: 'abc',
    runUrl: 'https://example/run',
    policySource: 'default',
    notes: [],
  };
  for (const md of [renderComment(report, ctx, DEFAULT_POLICY), renderSummary(report, ctx, DEFAULT_POLICY)]) {
    assert.doesNotMatch(md, CONTROL);
    const live = stripCodeSpans(md);
    assert.doesNotMatch(live, /<img/i);
    assert.doesNotMatch(live, /\]\(https:evil/);
    assert.doesNotMatch(live, /(^|[^&#\w])@admin/);
    for (const line of md.split('\n')) assert.doesNotMatch(line, /^\s*::/);
  }
});

// Property-based: the escaping functions never let a control character through, whatever the input.
test('property: escapeControl/escapeMarkdown/markdownCode never emit control characters or live syntax', () => {
  const anyString = fc.string({ unit: 'binary', maxLength: 200 });
  fc.assert(
    fc.property(anyString, (s) => {
      const e = escapeControl(s);
      assert.doesNotMatch(e, CONTROL);
      assert.doesNotMatch(e, /[\n\r]/);
      const m = escapeMarkdown(s);
      assert.doesNotMatch(m, CONTROL);
      assert.doesNotMatch(m, /(?<!\\)[[\]()`|]|[<>]/);
      const code = markdownCode(s);
      assert.doesNotMatch(code, /[\n\r|]/);
      // The fence is longer than any backtick run inside, so the span cannot be closed early.
      const fence = code.match(/^`+/)![0].length;
      const inner = code.slice(fence, code.length - fence);
      for (const run of inner.match(/`+/g) ?? []) assert.ok(run.length < fence);
    }),
    { seed: 7, numRuns: 3000 },
  );
});

test('property: JSON report of arbitrary path strings is valid JSON with no raw control characters', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (path) => {
      const report: ScanReport = {
        schemaVersion: 1,
        tool: { name: 'modelgate', version: 'test' },
        verdict: 'warn',
        maxScore: 30,
        blocked: false,
        files: FileReports.from([
          {
            path,
            format: 'pickle',
            size: 1,
            sha256: '0'.repeat(64),
            verdict: 'warn',
            score: 30,
            severity: 'medium',
            scoreBreakdown: {},
            findings: [
              {
                ruleId: 'MG005',
                severity: 'medium',
                score: 30,
                message: path,
                location: { member: path, symbol: path },
              },
            ],
          },
        ]),
      };
      for (const format of ['json', 'sarif'] as const) {
        const out = render(report, format, { verbose: false });
        assert.doesNotMatch(out, CONTROL);
        JSON.parse(out);
      }
      for (const format of ['text', 'markdown'] as const) {
        assert.doesNotMatch(render(report, format, { verbose: true }), CONTROL);
      }
    }),
    { seed: 11, numRuns: 500 },
  );
});
