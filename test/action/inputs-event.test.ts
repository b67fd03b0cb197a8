import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readEvent, stripRef } from '../../src/action/event.js';
import { envInput, parseShard, readInputs } from '../../src/action/inputs.js';

const env = (o: Record<string, string>) =>
  envInput(Object.fromEntries(Object.entries(o).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])));

test('inputs: defaults in code; policy-file settings stay unset unless given', () => {
  const i = readInputs(env({}));
  assert.equal(i.path, '.');
  assert.equal(i.config, '.github/modelgate.yml');
  assert.equal(i.comment, 'on-findings');
  assert.equal(i.annotations, true);
  assert.equal(i.sarifFile, 'modelgate.sarif');
  assert.equal(i.reportFile, 'modelgate-report.json');
  assert.equal(i.lfs, 'fetch');
  assert.equal(i.cache, true);
  assert.equal(i.scope, undefined);
  for (const k of ['maxScore', 'warnOnly', 'failOnIncomplete', 'signatures', 'profile'] as const)
    assert.equal(i[k], undefined, k);
});

test('inputs: hyphenated names, multiline globs, booleans, validation', () => {
  const i = readInputs(
    env({
      'max-score': '0',
      'warn-only': 'TRUE',
      'fail-on-incomplete': 'false',
      include: 'models/**\n\n  # a comment\n*.pkl\n',
      exclude: 'vendor/**',
      signatures: 'require',
      shard: '2/5',
      'merge-reports': 'reports/*.json',
    }),
  );
  assert.equal(i.maxScore, 0);
  assert.equal(i.warnOnly, true);
  assert.equal(i.failOnIncomplete, false);
  assert.deepEqual(i.include, ['models/**', '*.pkl']);
  assert.deepEqual(i.exclude, ['vendor/**']);
  assert.equal(i.signatures, 'require');
  assert.deepEqual(i.shard, { index: 2, count: 5 });
  assert.deepEqual(i.mergeReports, ['reports/*.json']);
  assert.throws(() => readInputs(env({ 'max-score': '101' })), /max-score/);
  assert.throws(() => readInputs(env({ 'max-score': '1.5' })), /max-score/);
  assert.throws(() => readInputs(env({ 'warn-only': 'yes' })), /warn-only/);
  assert.throws(() => readInputs(env({ comment: 'sometimes' })), /comment/);
  assert.throws(() => readInputs(env({ scope: 'some' })), /scope/);
  assert.throws(() => parseShard('0/3'), /shard/);
  assert.throws(() => parseShard('4/3'), /shard/);
  assert.throws(() => parseShard('1-3'), /shard/);
});

const repo = { full_name: 'octo/models', default_branch: 'main' };

test('event: pull request (same repo and fork), base branch picks the profile, policy from base', () => {
  const pr = (headRepo: unknown) => ({
    pull_request: {
      number: 4,
      base: { sha: 'b'.repeat(40), ref: 'release/1.2' },
      head: { sha: 'h'.repeat(40), repo: headRepo },
    },
    repository: repo,
  });
  const e = readEvent('pull_request', pr({ full_name: 'octo/models' }), { GITHUB_REPOSITORY: 'octo/models' });
  assert.equal(e.kind, 'pull_request');
  assert.equal(e.prNumber, 4);
  assert.equal(e.base, 'b'.repeat(40));
  assert.equal(e.branch, 'release/1.2');
  assert.equal(e.isFork, false);
  assert.equal(e.policyFromBase, true);
  assert.equal(e.cacheSaveAllowed, false, 'never save from pull requests');
  assert.equal(
    readEvent('pull_request', pr({ full_name: 'mallory/models', fork: true }), {
      GITHUB_REPOSITORY: 'octo/models',
    }).isFork,
    true,
  );
  assert.equal(
    readEvent('pull_request_target', pr(null), { GITHUB_REPOSITORY: 'octo/models' }).isFork,
    true,
    'deleted fork',
  );
  assert.equal(
    readEvent('pull_request_target', pr(null), { GITHUB_REPOSITORY: 'octo/models' }).cacheSaveAllowed,
    false,
  );
});

test('event: push (default branch saves the cache; new branch has no base), merge_group, schedule, dispatch', () => {
  const push = (ref: string, before: string) => ({ ref, before, after: 'a'.repeat(40), repository: repo });
  const p = readEvent('push', push('refs/heads/main', 'c'.repeat(40)), {});
  assert.equal(p.kind, 'push');
  assert.equal(p.base, 'c'.repeat(40));
  assert.equal(p.branch, 'main');
  assert.equal(p.cacheSaveAllowed, true);
  assert.equal(p.policyFromBase, false);
  const topic = readEvent('push', push('refs/heads/topic', '0'.repeat(40)), {});
  assert.equal(topic.newBranch, true);
  assert.equal(topic.cacheSaveAllowed, false);
  const tag = readEvent('push', push('refs/tags/v1', 'c'.repeat(40)), {});
  assert.equal(tag.cacheSaveAllowed, false);
  const mg = readEvent(
    'merge_group',
    {
      merge_group: { base_sha: 'b'.repeat(40), head_sha: 'h'.repeat(40), base_ref: 'refs/heads/main' },
      repository: repo,
    },
    {},
  );
  assert.equal(mg.kind, 'merge_group');
  assert.equal(mg.branch, 'main');
  assert.equal(mg.cacheSaveAllowed, true);
  assert.equal(mg.policyFromBase, true);
  const s = readEvent('schedule', {}, { GITHUB_REF: 'refs/heads/main', GITHUB_REPOSITORY: 'o/r' });
  assert.equal(s.kind, 'other');
  assert.equal(s.cacheSaveAllowed, true);
  assert.equal(s.branch, 'main');
  assert.equal(readEvent('workflow_dispatch', {}, {}).cacheSaveAllowed, false);
  const wr = readEvent(
    'workflow_run',
    {
      workflow_run: {
        head_sha: 'h'.repeat(40),
        head_branch: 'feat',
        head_repository: { owner: { login: 'mallory' } },
        pull_requests: [],
      },
    },
    {},
  );
  assert.deepEqual(wr.workflowRun, {
    headSha: 'h'.repeat(40),
    headBranch: 'feat',
    headOwner: 'mallory',
    prNumbers: [],
  });
  assert.equal(stripRef('refs/tags/v1'), undefined);
});
