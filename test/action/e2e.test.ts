// End-to-end: the bundled dist/index.js, run as the runner runs it, against a real git repository and a fake
// GitHub API on 127.0.0.1. See harness.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { FIXTURES, tempDir } from '../helpers.js';
import {
  buildDist,
  commit,
  EVIL_PICKLE,
  FakeGitHub,
  git,
  lfsPointer,
  makeRepo,
  prPayload,
  runAction,
} from './harness.js';

const ONNX = (name: string) => readFileSync(join(FIXTURES, 'onnx', name));
const CLEAN = ONNX('mlp.onnx');
const WARN = ONNX('custom_domain.onnx'); // score 30: warn under the default policy
const BAD = ONNX('python_op.onnx'); // Python custom op: code execution, score 100

before(
  async () => {
    await buildDist();
  },
  { timeout: 180_000 },
);

async function setup(t: { after: (fn: () => void | Promise<void>) => void }) {
  const tmp = tempDir((fn) => t.after(fn), 'mg-action-');
  const api = new FakeGitHub();
  await api.start();
  t.after(() => api.stop());
  return { tmp, api };
}

/** Markdown with its backslash escapes removed, to match the text a reader sees. */
function plain(md: string): string {
  return md.replace(/\\(.)/g, '$1');
}

/** Lines the runner reads as workflow commands. */
function commands(stdout: string): string[] {
  return stdout.split(/\r?\n/).filter((l) => l.startsWith('::'));
}

describe('pull requests', { timeout: 600_000 }, () => {
  test('a malicious model added: blocks, sticky comment created, annotations, SARIF, outputs', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, { 'models/ok.onnx': CLEAN });
    const head = commit(ws, { 'models/evil.onnx': BAD, 'models/notes.txt': 'x\n' });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 5, base, head }),
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.outputs.verdict, 'block');
    assert.equal(r.outputs.blocked, 'true');
    assert.equal(r.outputs.scanned, '2', 'only the changed files are scanned');
    assert.equal(r.outputs['max-score'], '100');
    assert.ok(Number(r.outputs.findings) >= 1, 'e2e.test.ts:68');
    assert.equal(r.outputs['report-file'], 'modelgate-report.json');
    assert.equal(r.outputs['sarif-file'], 'modelgate.sarif');
    // Comment
    const posts = api.calls('POST', /\/issues\/5\/comments$/);
    assert.equal(posts.length, 1);
    assert.equal(api.state.comments.length, 1);
    const body = api.state.comments[0]!.body;
    assert.match(body, /<!-- modelgate-report v1 -->/);
    assert.match(body, /`models\/evil\.onnx`/);
    assert.match(body, /block/);
    assert.equal(r.outputs['comment-id'], String(api.state.comments[0]!.id));
    // Annotations: an error on the model file, with the rule title
    const errs = commands(r.stdout).filter(
      (l) => l.startsWith('::error') && l.includes('file=models/evil.onnx'),
    );
    assert.ok(errs.length >= 1, r.stdout);
    assert.match(errs[0]!, /title=MG5\d\d /);
    // The failure message names the file and why, one line each
    const failure = commands(r.stdout).find((l) => l.startsWith('::error::modelgate: 1 file failed'));
    assert.ok(failure, r.stdout);
    assert.match(failure!, /%0Amodels\/evil\.onnx: blocked, score 100 > 49/);
    // SARIF on the repo-relative path, with a category
    const res = r.sarif!.runs[0]!.results;
    assert.ok(
      res.some((x) => x.locations[0]!.physicalLocation.artifactLocation.uri === 'models/evil.onnx'),
      'e2e.test.ts:92',
    );
    assert.equal(r.sarif!.runs[0]!.automationDetails?.id, 'modelgate/');
    // JSON report and summary
    assert.equal(r.report!.verdict, 'block');
    assert.match(plain(r.summary), /modelgate: block/);
    assert.match(plain(r.summary), /from git history/);
    // Policy and comment lookups went to the API; nothing read the PR's files from the API (git had them).
    assert.equal(api.calls('GET', /\/pulls\/5\/files$/).length, 0);
  });

  test('a later clean push updates the same comment in place; a third run does not duplicate it', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const h1 = commit(ws, { 'm/evil.onnx': BAD });
    const r1 = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 9, base, head: h1 }),
    });
    assert.equal(r1.code, 1);
    assert.equal(api.state.comments.length, 1);
    const id = api.state.comments[0]!.id;
    // Someone else pastes the marker: it must not be taken for ours.
    api.state.comments.unshift({
      id: 1,
      body: '<!-- modelgate-report v1 --> ✅ all good',
      user: { login: 'mallory', type: 'User' },
    });

    const h2 = commit(ws, { 'm/evil.onnx': null, 'm/clean.onnx': CLEAN });
    const r2 = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 9, base, head: h2 }),
    });
    assert.equal(r2.code, 0, r2.stdout);
    assert.equal(r2.outputs.verdict, 'pass');
    assert.equal(api.calls('POST', /\/comments$/).length, 1, 'no second comment');
    const patches = api.calls('PATCH', /\/issues\/comments\/\d+$/);
    assert.equal(patches.length, 1);
    assert.ok(patches[0]!.path.endsWith(`/${id}`), 'our comment, not the pasted marker');
    const ours = api.state.comments.find((c) => c.id === id)!;
    assert.match(ours.body, /modelgate: pass/);
    assert.match(ours.body, /resolved/);
    assert.equal(r2.outputs['comment-id'], String(id));
    assert.equal(
      api.state.comments.find((c) => c.id === 1)!.body,
      '<!-- modelgate-report v1 --> ✅ all good',
    );

    // Same clean state again: the body is unchanged, so no write at all.
    const r3 = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 9, base, head: h2 }),
    });
    assert.equal(r3.code, 0);
    assert.equal(api.calls('PATCH', /\/issues\/comments\/\d+$/).length, 1);
    assert.equal(api.calls('POST', /\/comments$/).length, 1);
  });

  test('a clean PR with no earlier comment posts nothing', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'models/mlp.onnx': CLEAN, 'src/app.py': 'print(1)\n' });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 3, base, head }),
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.verdict, 'pass');
    assert.equal(r.outputs.blocked, 'false');
    assert.equal(r.outputs['comment-id'], '');
    assert.equal(api.calls('POST', /\/comments$/).length, 0);
    assert.equal(api.calls('PATCH', /\/comments\//).length, 0);
    assert.match(plain(r.summary), /modelgate: pass/, 'the summary is still written');
  });

  test('comment: always posts on a clean PR; comment: never posts nothing on a blocked one', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'a.onnx': CLEAN });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 4, base, head }),
      inputs: { comment: 'always' },
    });
    assert.equal(r.code, 0);
    assert.equal(api.state.comments.length, 1);
    const h2 = commit(ws, { 'b.onnx': BAD });
    const r2 = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 4, base, head: h2 }),
      inputs: { comment: 'never' },
    });
    assert.equal(r2.code, 1);
    assert.equal(api.calls('PATCH', /\/comments\//).length + api.calls('POST', /\/comments$/).length, 1);
  });

  test('a policy relaxed inside the PR is ignored (base branch policy wins) and the change is reported', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, { '.github/modelgate.yml': 'maxScore: 49\n' });
    const head = commit(ws, {
      '.github/modelgate.yml': 'maxScore: 100\nwarnOnly: true\nfailOnIncomplete: false\n',
      'models/evil.onnx': BAD,
    });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 12, base, head }),
    });
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.outputs.verdict, 'block');
    assert.equal(r.outputs.blocked, 'true');
    assert.match(plain(r.summary), /modifies the policy file \.github\/modelgate\.yml/);
    assert.match(plain(r.summary), /base branch/);
    assert.match(plain(r.summary), /max score 49/);
  });

  test('the base policy is read through the contents API when the base commit is not in the checkout', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws } = makeRepo(tmp, { 'models/w.onnx': WARN });
    const missingBase = 'f'.repeat(40);
    api.state.contents[`${missingBase}:.github/modelgate.yml`] = 'maxScore: 10\n';
    api.state.prFiles = [{ filename: 'models/w.onnx', status: 'added' }];
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 2, base: missingBase, head: git(ws, 'rev-parse', 'HEAD') }),
    });
    assert.equal(api.calls('GET', /\/contents\/\.github\/modelgate\.yml$/).length, 1);
    assert.equal(api.calls('GET', /\/pulls\/2\/files$/).length, 1, 'changed files from the API');
    assert.equal(r.outputs.verdict, 'block', 'score 30 > 10 under the base policy');
    assert.equal(r.code, 1);
    assert.match(plain(r.summary), /from the REST API/);
  });

  test('a release branch gets the strict profile from the policy branches map', async (t) => {
    const { tmp, api } = await setup(t);
    const policy = 'profiles:\n  release:\n    maxScore: 0\nbranches:\n  "release/**": release\n';
    const { ws, base } = makeRepo(tmp, { '.github/modelgate.yml': policy });
    const head = commit(ws, { 'models/w.onnx': WARN });
    const onMain = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 1, base, head }),
      inputs: { comment: 'never' },
    });
    assert.equal(onMain.outputs.verdict, 'warn');
    assert.equal(onMain.code, 0);
    const onRelease = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 1, base, head, baseRef: 'release/2.0' }),
      inputs: { comment: 'never' },
    });
    assert.equal(onRelease.outputs.verdict, 'block', onRelease.stdout);
    assert.equal(onRelease.code, 1);
    assert.match(plain(onRelease.summary), /Profile: release \(branch release\/2\.0\)/);
  });

  test('renames count as changes, deleted files are not scanned, include/exclude narrow the set', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, { 'old/evil.onnx': BAD, 'gone.onnx': CLEAN, 'keep.onnx': CLEAN });
    commit(ws, { 'gone.onnx': null, 'vendor/x.onnx': BAD });
    const head = commit(ws, { 'old/evil.onnx': null, 'new/evil.onnx': BAD }, 'rename');
    assert.match(
      git(ws, 'diff', '--name-status', '-M', base, 'HEAD'),
      /^R100\told\/evil\.onnx\tnew\/evil\.onnx$/m,
    );
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 6, base, head }),
      inputs: { exclude: 'vendor/**\n', comment: 'never' },
    });
    const paths = r.report!.files.map((f) => f.path);
    assert.deepEqual(paths, ['new/evil.onnx']);
    assert.equal(r.outputs.verdict, 'block');
    const inc = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 6, base, head }),
      inputs: { include: 'vendor/**', comment: 'never' },
    });
    assert.deepEqual(
      inc.report!.files.map((f) => f.path),
      ['vendor/x.onnx'],
    );
  });

  test('a missing base commit is fetched from origin (shallow checkout)', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws: origin, base } = makeRepo(join(tmp, 'o'), {});
    const head = commit(origin, { 'm/evil.onnx': BAD });
    const clone = join(tmp, 'clone');
    execFileSync('git', ['clone', '-q', '--depth=1', `file://${origin}`, clone]);
    assert.throws(() => git(clone, 'cat-file', '-e', `${base}^{commit}`));
    const r = await runAction({
      ws: clone,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 8, base, head }),
    });
    assert.match(plain(r.summary), /from git history/, r.stdout);
    assert.equal(api.calls('GET', /\/pulls\/8\/files$/).length, 0);
    assert.deepEqual(
      r.report!.files.map((f) => f.path),
      ['m/evil.onnx'],
    );
  });

  test('a fork PR whose token cannot comment (403): a warning, not a failure', async (t) => {
    const { tmp, api } = await setup(t);
    api.state.commentStatus = 403;
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'w.onnx': WARN });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 77, base, head, fork: true }),
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.verdict, 'warn');
    assert.ok(
      commands(r.stdout).some((l) =>
        l.startsWith('::warning::modelgate: could not write the pull request comment (HTTP 403)'),
      ),
      r.stdout,
    );
    assert.equal(r.outputs['comment-id'], '');
    assert.match(plain(r.summary), /modelgate: warn/);
  });

  test('a crafted file name cannot inject workflow commands or forge the comment', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const name =
      'x\n::error::forged,title=%0A @admin [ok](http://evil) <b>\n::set-output name=verdict::pass.onnx';
    const head = commit(ws, { [name]: BAD });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 13, base, head }),
    });
    assert.equal(r.code, 1);
    for (const l of commands(r.stdout)) {
      assert.ok(!l.startsWith('::error::forged') && !l.startsWith('::set-output'), `injected: ${l}`);
      assert.match(l, /^::(error|warning|notice|debug)( [^:]*)?::/, `unexpected command: ${l}`);
    }
    assert.equal(r.outputs.verdict, 'block');
    const ann = commands(r.stdout).find((l) => l.startsWith('::error title=MG'))!;
    assert.ok(ann.includes('file=x%0A%3A%3Aerror%3A%3Aforged%2Ctitle=%250A @admin'), ann);
    const body = api.state.comments[0]!.body;
    assert.ok(body.includes('`x\\x0a::error::forged,title=%0A @admin'), body);
    // Outside code spans (where GitHub renders nothing), none of the crafted Markdown survives.
    const outside = body.replace(/(`+)[\s\S]*?\1/g, '');
    assert.doesNotMatch(outside, /@admin|\[ok\]|<b>|forged|set-output/);
    assert.doesNotMatch(body, /\n::/);
  });

  test('a malicious pickle (posix.system) blocks with a pickle rule', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'evil.pkl': EVIL_PICKLE });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 21, base, head }),
      inputs: { comment: 'never' },
    });
    assert.equal(r.code, 1);
    const f = r.report!.files.at(0)!;
    assert.equal(
      f.verdict,
      'block',
      `pickle analyzer registered? ${JSON.stringify(f.findings.map((x) => x.ruleId))}`,
    );
    // The pickle analyzer names the callable as Python resolves it (posix.system is os.system on POSIX).
    assert.ok(
      f.findings.some(
        (x) =>
          /^MG1\d\d$/.test(x.ruleId) && /\b(os|posix)\.system\b/.test(String(x.location.symbol ?? x.message)),
      ),
      JSON.stringify(f.findings),
    );
  });
});

describe('Git LFS', { timeout: 600_000 }, () => {
  test('a pointer whose object cannot be fetched is incomplete and named', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const { pointer } = lfsPointer(BAD);
    const head = commit(ws, { 'models/big.onnx': pointer });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 30, base, head }),
      inputs: { comment: 'never' },
    });
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.outputs.verdict, 'incomplete');
    const f = r.report!.files.find((x) => x.path === 'models/big.onnx')!;
    assert.ok(
      f.findings.some((x) => x.ruleId === 'MG700' && /Object does not exist/.test(x.message)),
      JSON.stringify(f.findings),
    );
    assert.equal(api.calls('POST', /\/octo\/models\.git\/info\/lfs\/objects\/batch$/).length, 1);
    assert.match(api.calls('POST', /lfs\/objects\/batch$/)[0]!.auth ?? '', /^Basic /);
    const fail = commands(r.stdout).find((l) => l.startsWith('::error::modelgate:'))!;
    assert.match(fail, /models\/big\.onnx: incomplete \(MG700\)$/);
    // fail-on-incomplete: false lets it pass as a warning
    const r2 = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 30, base, head }),
      inputs: { comment: 'never', 'fail-on-incomplete': 'false' },
    });
    assert.equal(r2.code, 0);
    assert.equal(r2.outputs.blocked, 'false');
  });

  test('a pointer is fetched through the batch API, verified and scanned; a mismatching object is refused', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const good = lfsPointer(BAD);
    const liar = lfsPointer(CLEAN);
    api.state.lfs[good.oid] = BAD;
    api.state.lfs[liar.oid] = WARN; // different bytes than the pointer names
    const head = commit(ws, { 'lfs/evil.onnx': good.pointer, 'lfs/liar.onnx': liar.pointer });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 31, base, head }),
      inputs: { comment: 'never' },
    });
    const evil = r.report!.files.find((f) => f.path === 'lfs/evil.onnx')!;
    assert.equal(evil.verdict, 'block', 'the fetched content was scanned');
    assert.equal(evil.format, 'onnx');
    const lie = r.report!.files.find((f) => f.path === 'lfs/liar.onnx')!;
    assert.ok(
      lie.findings.some((x) => x.ruleId === 'MG701'),
      JSON.stringify(lie.findings),
    );
    assert.equal(lie.verdict, 'incomplete');
    assert.match(plain(r.summary), /2 pointers among the files; 1 fetched and verified, 1 not/);
    assert.equal(
      readFileSync(join(ws, 'lfs/liar.onnx'), 'utf8'),
      liar.pointer,
      'the pointer was not replaced',
    );
  });

  test('with git-lfs installed, only the changed pointers are pulled (git lfs pull --include) and verified', async (t) => {
    try {
      execFileSync('git', ['lfs', 'version'], { stdio: 'ignore' });
    } catch {
      t.skip('git-lfs is not installed');
      return;
    }
    const { tmp, api } = await setup(t);
    const { ws: origin } = makeRepo(join(tmp, 'o'), {});
    git(origin, 'lfs', 'install', '--local');
    git(origin, 'lfs', 'track', '*.onnx');
    const base = commit(origin, { 'other/untouched.onnx': CLEAN }, 'lfs setup');
    const head = commit(origin, { 'models/evil.onnx': BAD });
    const clone = join(tmp, 'clone');
    execFileSync('git', ['clone', '-q', `file://${origin}`, clone], {
      env: { ...process.env, GIT_LFS_SKIP_SMUDGE: '1' },
    });
    assert.match(readFileSync(join(clone, 'models/evil.onnx'), 'utf8'), /^version https:\/\/git-lfs/);
    const r = await runAction({
      ws: clone,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 33, base, head }),
      inputs: { comment: 'never' },
    });
    const f = r.report!.files.find((x) => x.path === 'models/evil.onnx')!;
    assert.equal(f.format, 'onnx', 'the real content was scanned');
    assert.equal(f.verdict, 'block');
    assert.equal(
      api.calls('POST', /lfs\/objects\/batch$/).length,
      0,
      'git-lfs fetched it, no batch API call',
    );
    assert.match(plain(r.summary), /1 pointer among the files; 1 fetched and verified, 0 not/);
    assert.match(
      readFileSync(join(clone, 'other/untouched.onnx'), 'utf8'),
      /^version https:\/\/git-lfs/,
      'unchanged pointers are not fetched',
    );
  });

  test('lfs: off leaves pointers alone', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'p.onnx': lfsPointer(BAD).pointer });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 32, base, head }),
      inputs: { comment: 'never', lfs: 'off' },
    });
    assert.equal(api.calls('POST', /lfs\/objects\/batch$/).length, 0);
    // The core reports the pointer itself: incomplete (MG007), so the gate still fails closed.
    assert.equal(r.outputs.verdict, 'incomplete');
    assert.ok(
      r.report!.files.at(0)!.findings.some((x) => x.ruleId === 'MG007'),
      'e2e.test.ts:539',
    );
    assert.equal(r.code, 1);
  });
});

describe('other events and modes', { timeout: 600_000 }, () => {
  test('push scans what the push changed; schedule scans everything', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, { 'old.onnx': BAD });
    const after = commit(ws, { 'new.onnx': CLEAN });
    const push = await runAction({
      ws,
      tmp,
      api,
      event: 'push',
      payload: {
        ref: 'refs/heads/main',
        before: base,
        after,
        repository: { full_name: 'octo/models', default_branch: 'main' },
      },
    });
    assert.equal(push.code, 0, push.stdout);
    assert.deepEqual(
      push.report!.files.map((f) => f.path),
      ['new.onnx'],
    );
    assert.ok(
      commands(push.stdout).some((l) =>
        l.startsWith('::notice::modelgate: the cache service is not available'),
      ),
      push.stdout,
    );
    assert.equal(api.calls('POST', /\/comments$/).length, 0, 'no PR, no comment');

    const sched = await runAction({
      ws,
      tmp,
      api,
      event: 'schedule',
      payload: { schedule: '0 3 * * *', repository: { full_name: 'octo/models' } },
    });
    assert.equal(sched.code, 1);
    assert.deepEqual(
      sched.report!.files.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path),
      ['new.onnx', 'old.onnx'],
    );
    assert.ok(!sched.report!.files.some((f) => f.path.startsWith('.git/')), 'e2e.test.ts:585');
    assert.match(plain(sched.summary), /every file/);

    const newBranch = await runAction({
      ws,
      tmp,
      api,
      event: 'push',
      payload: {
        ref: 'refs/heads/topic',
        before: '0'.repeat(40),
        after,
        repository: { full_name: 'octo/models', default_branch: 'main' },
      },
    });
    assert.ok(
      newBranch.report!.files.some((f) => f.path === 'old.onnx'),
      'a new branch is scanned whole',
    );
    assert.match(plain(newBranch.summary), /created a branch/);
  });

  test('warn-only: a blocking finding is reported but the step succeeds', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'evil.onnx': BAD });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 40, base, head }),
      inputs: { 'warn-only': 'true' },
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.verdict, 'block');
    assert.equal(r.outputs.blocked, 'false');
    assert.ok(!commands(r.stdout).some((l) => l.startsWith('::error')), 'no error annotations in warn-only');
    assert.ok(
      commands(r.stdout).some((l) => l.startsWith('::warning::warn-only: this run would fail otherwise')),
      r.stdout,
    );
    assert.equal(api.state.comments.length, 1, 'still comments');
  });

  test('more than 3000 changed files: the API list is cut short, so everything is scanned and the summary says so', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws } = makeRepo(tmp, { 'a.onnx': CLEAN, 'b/evil.onnx': BAD });
    api.state.prFiles = Array.from({ length: 3100 }, (_, i) => ({
      filename: `gen/f${i}.txt`,
      status: 'added',
    }));
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 50, base: 'e'.repeat(40), head: 'd'.repeat(40) }),
      inputs: { comment: 'never' },
    });
    assert.equal(api.calls('GET', /\/pulls\/50\/files$/).length, 30, '30 pages of 100');
    assert.match(plain(r.summary), /more than the API lists \(3000\): every file was scanned/);
    assert.ok(
      r.report!.files.some((f) => f.path === 'b/evil.onnx'),
      'e2e.test.ts:646',
    );
    assert.equal(r.outputs.verdict, 'block');
    // Under the cap the API list is used as is (paginated), removed files left out.
    api.state.prFiles = [
      { filename: 'a.onnx', status: 'modified' },
      { filename: 'gone.onnx', status: 'removed' },
      ...Array.from({ length: 150 }, (_, i) => ({ filename: `gen/f${i}.txt`, status: 'added' })),
    ];
    api.state.requests = [];
    const r2 = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 50, base: 'e'.repeat(40), head: 'd'.repeat(40) }),
      inputs: { comment: 'never' },
    });
    assert.equal(api.calls('GET', /\/pulls\/50\/files$/).length, 2);
    assert.deepEqual(
      r2.report!.files.map((f) => f.path),
      ['a.onnx'],
    );
    assert.match(plain(r2.summary), /not in the workspace/);
  });

  test('shards split the files deterministically and merge into one verdict, summary and comment', async (t) => {
    const { tmp, api } = await setup(t);
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 12; i++) files[`m/clean${i}.onnx`] = CLEAN;
    files['m/evil.onnx'] = BAD;
    const { ws } = makeRepo(tmp, files);
    const sched = { schedule: '0 3 * * *', repository: { full_name: 'octo/models' } };
    const seen: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const r = await runAction({
        ws,
        tmp,
        api,
        event: 'schedule',
        payload: sched,
        inputs: {
          shard: `${i}/3`,
          'report-file': `reports/shard-${i}.json`,
          'sarif-file': `reports/shard-${i}.sarif`,
          comment: 'never',
          include: 'm/**',
        },
      });
      const paths = JSON.parse(readFileSync(join(ws, `reports/shard-${i}.json`), 'utf8')).files.map(
        (f: { path: string }) => f.path,
      );
      seen.push(...paths);
      await runAction({
        ws,
        tmp,
        api,
        event: 'schedule',
        payload: sched,
        inputs: {
          shard: `${i}/3`,
          'report-file': `reports/again-${i}.json`,
          comment: 'never',
          include: 'm/**',
        },
      });
      assert.deepEqual(
        JSON.parse(readFileSync(join(ws, `reports/again-${i}.json`), 'utf8')).files.map(
          (f: { path: string }) => f.path,
        ),
        paths,
        'deterministic',
      );
      rmSync(join(ws, `reports/again-${i}.json`));
      assert.equal(r.sarif!.runs[0]!.automationDetails!.id, `modelgate/shard-${i}-of-3/`);
    }
    assert.equal(seen.length, 13, 'every file in exactly one shard');
    assert.equal(new Set(seen).size, 13);

    const { base, ws: _ } = { base: git(ws, 'rev-parse', 'HEAD'), ws };
    const m = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 60, base, head: base }),
      inputs: { 'merge-reports': 'reports/shard-*.json' },
    });
    assert.equal(m.code, 1, m.stdout);
    assert.equal(m.outputs.verdict, 'block');
    assert.equal(m.outputs.scanned, '13');
    assert.equal(api.state.comments.length, 1);
    assert.match(api.state.comments[0]!.body, /m\/evil\.onnx/);
    assert.match(plain(m.summary), /3 merged reports/);
  });

  test('workflow_run split: the comment job finds the fork PR by its head, not from the artifact', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'evil.onnx': BAD });
    // The read-only scan job (pull_request from a fork): no comment, a report artifact.
    const scanRun = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 88, base, head, fork: true }),
      inputs: { comment: 'never', 'report-file': 'artifact/modelgate-report.json' },
    });
    assert.equal(scanRun.code, 1);
    // The privileged job: workflow_run event, default branch checked out, the artifact merged.
    api.state.pulls = [
      { number: 87, head: { sha: 'a'.repeat(40), label: 'mallory:feat' } },
      { number: 88, head: { sha: head, label: 'mallory:feat' } },
    ];
    const payload = {
      workflow_run: {
        id: 5,
        event: 'pull_request',
        head_sha: head,
        head_branch: 'feat',
        head_repository: { full_name: 'mallory/models', owner: { login: 'mallory' } },
        pull_requests: [],
      },
      repository: { full_name: 'octo/models', default_branch: 'main' },
    };
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'workflow_run',
      payload,
      inputs: { 'merge-reports': 'artifact/*.json', 'warn-only': 'true' },
    });
    assert.equal(r.code, 0, r.stdout);
    assert.equal(r.outputs.verdict, 'block');
    assert.equal(api.calls('GET', /\/repos\/octo\/models\/pulls$/)[0]!.query.get('head'), 'mallory:feat');
    assert.equal(api.calls('POST', /\/issues\/88\/comments$/).length, 1);
    assert.match(api.state.comments[0]!.body, /evil\.onnx/);
  });

  test('merge mode rejects a report that is not a modelgate report', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws } = makeRepo(tmp, {
      'r/bad.json': JSON.stringify({ schemaVersion: 1, verdict: 'pass', files: 'nope' }),
    });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'workflow_dispatch',
      payload: {},
      inputs: { 'merge-reports': 'r/*.json' },
    });
    assert.equal(r.code, 1);
    assert.match(plain(r.summary), /modelgate: error/);
    assert.match(plain(r.summary), /not a modelgate report/);
  });

  test('a bad input fails the step with a clear message and still writes the summary', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws } = makeRepo(tmp, {});
    const r = await runAction({ ws, tmp, api, event: 'push', payload: {}, inputs: { 'warn-only': 'yes' } });
    assert.equal(r.code, 1);
    assert.ok(
      commands(r.stdout).some((l) => l.includes("input 'warn-only' must be true or false")),
      'e2e.test.ts:809',
    );
    assert.match(plain(r.summary), /modelgate: error/);
  });

  test('a policy file error names the key and line', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, { '.github/modelgate.yml': 'maxScore: 40\nbogusKey: 1\n' });
    const head = commit(ws, { 'a.onnx': CLEAN });
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 70, base, head }),
    });
    assert.equal(r.code, 1);
    assert.match(plain(r.summary), /bogusKey/);
    assert.match(plain(r.summary), /:2/);
  });
});
