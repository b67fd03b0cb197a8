// End-to-end, as an attacker would try it: the bundled dist/index.js against real git repositories and the
// fake GitHub API on 127.0.0.1 (see harness.ts). Each case is a way a pull request used to get a green
// check past the gate: links whose targets the filters leave out, links out of the workspace, submodules,
// the action's own cache folder, pull_request_target on the base checkout, and a PR's .lfsconfig.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { tempDir } from '../helpers.js';
import {
  buildDist,
  commit,
  EVIL_PICKLE,
  FakeGitHub,
  git,
  lfsPointer,
  makeRepo,
  prPayload,
  type RunResult,
  runAction,
} from './harness.js';

before(() => buildDist(), { timeout: 180_000 });

async function setup(t: { after: (fn: () => void | Promise<void>) => void }) {
  const tmp = tempDir((fn) => t.after(fn), 'mg-gate-');
  const api = new FakeGitHub();
  await api.start();
  t.after(() => api.stop());
  return { tmp, api };
}

/** Commits a symbolic link `path -> target` on top of HEAD; returns the new sha. */
function commitLink(ws: string, path: string, target: string): string {
  mkdirSync(join(ws, path, '..'), { recursive: true });
  symlinkSync(target, join(ws, path));
  return commit(ws, {});
}

function fileOf(r: RunResult, path: string) {
  const f = r.report?.files.find((x) => x.path === path);
  assert.ok(f, `${path} in the report: ${JSON.stringify(r.report?.files.map((x) => x.path))}\n${r.stdout}`);
  return f;
}

const ids = (f: { findings: Array<{ ruleId: string }> }) => f.findings.map((x) => x.ruleId);

async function pr(
  o: { ws: string; tmp: string; api: FakeGitHub; base: string; head: string },
  inputs: Record<string, string> = {},
) {
  return runAction({
    ws: o.ws,
    tmp: o.tmp,
    api: o.api,
    event: 'pull_request',
    payload: prPayload({ number: 7, base: o.base, head: o.head }),
    inputs: { comment: 'never', ...inputs },
  });
}

describe('symbolic links in a pull request', { timeout: 600_000 }, () => {
  const cases: Array<{
    name: string;
    base: Record<string, string | Buffer>;
    target: string;
    link: string;
    to: string;
    inputs: Record<string, string>;
  }> = [
    {
      name: 'exclude: tests/** with models/model.pkl -> ../tests/fixtures/payload.bin',
      base: {},
      target: 'tests/fixtures/payload.bin',
      link: 'models/model.pkl',
      to: '../tests/fixtures/payload.bin',
      inputs: { exclude: 'tests/**' },
    },
    {
      name: 'include: **/*.pkl with a link to data/blob.txt',
      base: {},
      target: 'data/blob.txt',
      link: 'models/model.pkl',
      to: '../data/blob.txt',
      inputs: { include: '**/*.pkl' },
    },
    {
      name: 'path: models with a link to assets/blob.dat',
      base: {},
      target: 'assets/blob.dat',
      link: 'models/weights.bin',
      to: '../assets/blob.dat',
      inputs: { path: 'models' },
    },
  ];
  for (const c of cases) {
    test(`a changed link is scanned as its target whatever the filters say: ${c.name}`, async (t) => {
      const { tmp, api } = await setup(t);
      const { ws, base } = makeRepo(tmp, c.base);
      commit(ws, { [c.target]: EVIL_PICKLE });
      const head = commitLink(ws, c.link, c.to);
      const r = await pr({ ws, tmp, api, base, head }, c.inputs);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.outputs.verdict, 'block');
      const f = fileOf(r, c.link);
      assert.equal(f.verdict, 'block');
      assert.ok(ids(f).includes('MG100'), JSON.stringify(f.findings));
      assert.equal((f as { facts?: Record<string, unknown> }).facts?.linkTarget, c.target);
      // The job summary names both the link and its target.
      assert.ok(r.summary.includes(`${c.link} -> ${c.target}`), r.summary);
    });
  }

  test('a link to a malicious file already on the base branch (the target did not change) is scanned', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, { 'old/legacy.bin': EVIL_PICKLE });
    const head = commitLink(ws, 'models/model.pkl', '../old/legacy.bin');
    const r = await pr({ ws, tmp, api, base, head });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const f = fileOf(r, 'models/model.pkl');
    assert.equal(f.verdict, 'block');
    assert.equal(r.outputs.scanned, '1');
  });

  test('a link to a folder is walked under the link path', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, { 'vendor/pkg/model.pkl': EVIL_PICKLE });
    const head = commitLink(ws, 'models/pkg', '../vendor/pkg');
    const r = await pr({ ws, tmp, api, base, head }, { exclude: 'vendor/**' });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(fileOf(r, 'models/pkg/model.pkl').verdict, 'block');
  });

  test('links leaving the workspace (absolute, ../..), dangling links and loops are incomplete', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    commitLink(ws, 'models/abs.pkl', '/etc/passwd');
    commitLink(ws, 'models/up.pkl', '../../outside.pkl');
    commitLink(ws, 'models/dangling.pkl', 'missing.pkl');
    commitLink(ws, 'models/loop-a', 'loop-b');
    const head = commitLink(ws, 'models/loop-b', 'loop-a');
    const r = await pr({ ws, tmp, api, base, head });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.outputs.verdict, 'incomplete');
    for (const [p, rule, why] of [
      ['models/abs.pkl', 'MG010', /'\/etc\/passwd', which leaves the workspace/],
      ['models/up.pkl', 'MG010', /which leaves the workspace/],
      ['models/dangling.pkl', 'MG011', /dangling/],
      ['models/loop-a', 'MG011', /loop/],
      ['models/loop-b', 'MG011', /loop/],
    ] as const) {
      const f = fileOf(r, p);
      assert.equal(f.verdict, 'incomplete', p);
      assert.deepEqual(ids(f), [rule], p);
      assert.match(f.findings[0]!.message, why);
    }
  });
});

describe('scope: all leaves nothing in the workspace out', { timeout: 600_000 }, () => {
  test('.modelgate-cache/ and a link to it are scanned: no folder of the workspace is exempt', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws } = makeRepo(tmp, { '.modelgate-cache/evil.pkl': EVIL_PICKLE });
    symlinkSync('.modelgate-cache/evil.pkl', join(ws, 'models.pkl'));
    commit(ws, {});
    const r = await runAction({
      ws,
      tmp,
      api,
      event: 'workflow_dispatch',
      payload: {},
      inputs: { scope: 'all' },
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(fileOf(r, '.modelgate-cache/evil.pkl').verdict, 'block');
    assert.equal(fileOf(r, 'models.pkl').verdict, 'block');
  });

  test('`path` naming a link out of the workspace is incomplete (MG010), not walked', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws } = makeRepo(tmp, {});
    symlinkSync('/etc', join(ws, 'models'));
    commit(ws, {});
    const r = await runAction({ ws, tmp, api, event: 'schedule', payload: {}, inputs: { path: 'models' } });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(
      r.report!.files.map((f) => [f.path, f.verdict]),
      [['models', 'incomplete']],
    );
    assert.deepEqual(ids(fileOf(r, 'models')), ['MG010']);
  });

  test('a FIFO in the workspace is incomplete (MG012), never opened', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws } = makeRepo(tmp, {});
    execFileSync('mkfifo', [join(ws, 'model.pkl')]);
    const r = await runAction({ ws, tmp, api, event: 'schedule', payload: {} });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const f = fileOf(r, 'model.pkl');
    assert.deepEqual(ids(f), ['MG012']);
    assert.match(f.findings[0]!.message, /FIFO/);
  });
});

describe('submodules', { timeout: 600_000 }, () => {
  /** A repository `sub` holding a malicious pickle, and a superproject PR that adds it as a submodule. */
  function withSubmodule(tmp: string) {
    const sub = join(tmp, 'sub');
    mkdirSync(sub);
    git(sub, 'init', '-q', '-b', 'main');
    commit(sub, { 'weights/model.pkl': EVIL_PICKLE });
    const { ws, base } = makeRepo(tmp, {});
    git(ws, '-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', `file://${sub}`, 'third_party/sub');
    const head = commit(ws, {}, 'add submodule');
    return { ws, base, head };
  }

  test('checked out (submodules: true): its files are scanned like a changed folder', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base, head } = withSubmodule(tmp);
    const r = await pr({ ws, tmp, api, base, head });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(fileOf(r, 'third_party/sub/weights/model.pkl').verdict, 'block');
  });

  test('not checked out: incomplete (MG702) with the fix; excluded by policy: not scanned', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base, head } = withSubmodule(tmp);
    // As actions/checkout leaves it by default: an empty folder at the gitlink.
    git(ws, 'submodule', 'deinit', '-q', '-f', 'third_party/sub');
    const r = await pr({ ws, tmp, api, base, head });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const f = fileOf(r, 'third_party/sub');
    assert.equal(f.verdict, 'incomplete');
    assert.deepEqual(ids(f), ['MG702']);
    assert.match(f.findings[0]!.message, /not checked out/);
    const excluded = await pr({ ws, tmp, api, base, head }, { exclude: 'third_party/**' });
    assert.equal(excluded.code, 0, excluded.stdout + excluded.stderr);
    assert.equal(excluded.outputs.verdict, 'pass');
  });
});

describe('pull_request_target', { timeout: 600_000 }, () => {
  test('the default checkout (the base branch) is incomplete (MG703) with the fix; scope: all scans it; the head checked out is scanned', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws, base } = makeRepo(tmp, {});
    const head = commit(ws, { 'models/evil.pkl': EVIL_PICKLE });
    git(ws, 'checkout', '-q', base); // the default checkout of pull_request_target: the base branch
    const payload = prPayload({ number: 9, base, head });
    const run = (inputs: Record<string, string> = {}) =>
      runAction({
        ws,
        tmp,
        api,
        event: 'pull_request_target',
        payload,
        sha: base,
        inputs: { comment: 'never', ...inputs },
      });

    const r = await run();
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.outputs.verdict, 'incomplete');
    const f = fileOf(r, '.');
    assert.deepEqual(ids(f), ['MG703']);
    assert.match(f.findings[0]!.message, /not the pull request head/);
    assert.match(f.findings[0]!.message, /persist-credentials: false/);
    assert.match(r.summary, /MG703|pull request head/);

    const all = await run({ scope: 'all' });
    assert.equal(all.code, 0, all.stdout + all.stderr);
    assert.equal(all.outputs.verdict, 'pass');

    git(ws, 'checkout', '-q', head);
    const checked = await run();
    assert.equal(checked.code, 1, checked.stdout + checked.stderr);
    assert.equal(fileOf(checked, 'models/evil.pkl').verdict, 'block');
  });

  test('a shallow checkout of the merge commit (refs/pull/N/merge) holds the head: scanned', async (t) => {
    const { tmp, api } = await setup(t);
    const { ws: origin, base } = makeRepo(join(tmp, 'o'), {});
    git(origin, 'checkout', '-q', '-b', 'feature');
    const head = commit(origin, { 'models/evil.pkl': EVIL_PICKLE });
    git(origin, 'checkout', '-q', 'main');
    git(origin, 'merge', '-q', '--no-ff', '-m', 'merge', 'feature');
    const clone = join(tmp, 'clone');
    execFileSync('git', ['clone', '-q', '--depth=1', `file://${origin}`, clone]);
    const r = await runAction({
      ws: clone,
      tmp,
      api,
      event: 'pull_request_target',
      payload: prPayload({ number: 10, base, head }),
      inputs: { comment: 'never' },
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(fileOf(r, 'models/evil.pkl').verdict, 'block');
  });
});

describe('.lfsconfig in a pull request', { timeout: 600_000 }, () => {
  test("the PR's lfs.url is ignored when fetching: nothing goes to the URL it names", async (t) => {
    try {
      execFileSync('git', ['lfs', 'version'], { stdio: 'ignore' });
    } catch {
      t.skip('git-lfs is not installed');
      return;
    }
    const { tmp, api } = await setup(t);
    const evil = new FakeGitHub();
    await evil.start();
    t.after(() => evil.stop());
    const { ws: origin } = makeRepo(join(tmp, 'o'), {});
    git(origin, 'lfs', 'install', '--local');
    git(origin, 'lfs', 'track', '*.pkl');
    const base = commit(origin, {}, 'lfs setup');
    const head = commit(origin, {
      'models/evil.pkl': EVIL_PICKLE,
      '.lfsconfig': `[lfs]\n\turl = ${evil.url}/mallory/lfs.git/info/lfs\n`,
    });
    const clone = join(tmp, 'clone');
    execFileSync('git', ['clone', '-q', `file://${origin}`, clone], {
      env: { ...process.env, GIT_LFS_SKIP_SMUDGE: '1' },
    });
    const { oid } = lfsPointer(EVIL_PICKLE);
    assert.match(readFileSync(join(clone, 'models/evil.pkl'), 'utf8'), new RegExp(oid));
    api.state.lfs[oid] = EVIL_PICKLE;
    evil.state.lfs[oid] = EVIL_PICKLE;
    const r = await runAction({
      ws: clone,
      tmp,
      api,
      event: 'pull_request',
      payload: prPayload({ number: 11, base, head }),
      inputs: { comment: 'never' },
    });
    assert.equal(evil.state.requests.length, 0, JSON.stringify(evil.state.requests.map((x) => x.path)));
    assert.equal(fileOf(r, 'models/evil.pkl').verdict, 'block');
    assert.match(
      r.summary.replace(/\\(.)/g, '$1'),
      /edits \.lfsconfig; its LFS endpoint settings were ignored/,
    );
  });
});
