// Workflow-command injection through file names, end to end: a pull request adds files whose names carry
// newlines, carriage returns and `::command::` text; the bundled action (dist/index.js, run as the runner
// runs it, see test/action/harness.ts) must emit only its own workflow commands, each on one line, and
// still block the malicious file.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  buildDist,
  commit,
  EVIL_PICKLE,
  FakeGitHub,
  makeRepo,
  prPayload,
  runAction,
} from '../action/harness.js';
import { tempDir } from '../helpers.js';

before(async () => {
  await buildDist();
});

const NAMES = [
  'models/evil\n::add-mask::ghs_faketoken\n.pkl',
  'models/cr\r::set-output name=verdict::pass\r.pkl',
  'models/::stop-commands::abc.pkl',
  'models/%0A::error::percent.pkl',
  'models/ansi\u001b]8;;https:evil.example\u0007link.pkl',
];

test('file names cannot inject workflow commands through the bundled action', async (t) => {
  const tmp = tempDir((fn) => t.after(fn), 'mg-inject-');
  const api = new FakeGitHub();
  await api.start();
  t.after(() => api.stop());
  const { ws, base } = makeRepo(tmp, { 'models/ok.txt': 'ok\n' });
  const head = commit(ws, Object.fromEntries(NAMES.map((n) => [n, EVIL_PICKLE])));
  const r = await runAction({
    ws,
    tmp,
    api,
    event: 'pull_request',
    payload: prPayload({ number: 7, base, head }),
  });
  assert.equal(r.code, 1, `blocked (exit 1): ${r.stderr.slice(0, 2000)}`);
  const lines = r.stdout.split('\n');
  const commands = lines.filter((l) => l.startsWith('::'));
  assert.ok(commands.length > 0, 'annotations were emitted');
  for (const line of lines) {
    assert.doesNotMatch(line, /\r/, 'no carriage return reaches the runner');
    if (!line.startsWith('::')) continue;
    // Only the commands the action itself issues, and the file property fully encoded.
    assert.match(line, /^::(error|warning|notice|debug|group|endgroup|add-mask)( |::)/, line);
    assert.doesNotMatch(line, /^::(stop-commands|set-output|add-mask::ghs)/, line);
  }
  // Nothing injected anywhere in stdout: the names' command text only appears encoded inside properties.
  for (const l of lines) assert.doesNotMatch(l, /^::(stop-commands|set-output)/);
  // Every evil file is in the report with its exact name, and blocked.
  assert.ok(r.report, 'JSON report written');
  const files = r.report.files;
  for (const n of NAMES) {
    const f = files.find((x) => x.path === n);
    assert.ok(f, `report has ${JSON.stringify(n)}`);
    assert.equal(f.verdict, 'block');
  }
  assert.notEqual(r.outputs.verdict, 'pass');
  assert.doesNotMatch(
    r.summary,
    /[\u0000-\u0008\u000b-\u001f\u007f]/,
    'job summary has no raw control characters',
  );
});
