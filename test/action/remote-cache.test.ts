// The action's side of the remote cache: the Actions cache as a RemoteCache, and the scope check that
// decides whether a run may believe what it restores (cache poisoning from a pull request).
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import {
  actionsRemoteCache,
  type CacheService,
  cacheScopeTrusted,
  KEY_PREFIX,
} from '../../src/action/cache.js';
import type { EventInfo } from '../../src/action/event.js';
import type { Api } from '../../src/action/github.js';
import { tempDir } from '../helpers.js';

/** The Actions cache service in memory: saved files by key, restored to the path asked (as tar would). */
function service(store: string) {
  const calls: string[] = [];
  const svc: CacheService = {
    async restoreCache(paths, key) {
      calls.push(`restore ${key}`);
      const src = join(store, key);
      if (!existsSync(src)) return undefined;
      copyFileSync(src, paths[0]!);
      return key;
    },
    async saveCache(paths, key) {
      calls.push(`save ${key}`);
      if (existsSync(join(store, key))) throw new Error('Unable to reserve cache: already exists');
      copyFileSync(paths[0]!, join(store, key));
      return 1;
    },
  };
  return { svc, calls };
}

test('actionsRemoteCache: saves only when allowed, restores into its folder on another runner', async (t) => {
  const tmp = tempDir((fn) => t.after(fn));
  const store = join(tmp, 'service');
  mkdirSync(store);
  const { svc, calls } = service(store);
  const key = `${KEY_PREFIX}hf-commit-v1-abc-def`;
  const logs: string[] = [];

  const untrusted = actionsRemoteCache(join(tmp, 'pr'), false, (m) => logs.push(m), svc);
  await untrusted.put(key, { v: 1 });
  assert.deepEqual(calls, [], 'an untrusted run saves nothing');
  assert.equal(await untrusted.get(key), undefined);
  assert.deepEqual(untrusted.stats, { hits: 0, misses: 1, saved: 0 });

  const trusted = actionsRemoteCache(join(tmp, 'main'), true, (m) => logs.push(m), svc);
  await trusted.put(key, { v: 1, x: 'y' });
  assert.equal(trusted.stats.saved, 1);
  await trusted.put(key, { v: 1, x: 'z' });
  assert.match(logs.join('\n'), /already exists/, 'entries are immutable; a second save is skipped');

  const other = actionsRemoteCache(join(tmp, 'runner2'), false, () => {}, svc);
  assert.deepEqual(await other.get(key), { v: 1, x: 'y' });
  assert.ok(existsSync(join(tmp, 'runner2', `${key}.json`)));
  assert.equal(basename(join(tmp, 'runner2', `${key}.json`)), `${key}.json`);
  assert.deepEqual(other.stats, { hits: 1, misses: 0, saved: 0 });

  const broken = actionsRemoteCache(join(tmp, 'x'), false, (m) => logs.push(m), {
    restoreCache: async () => {
      throw new Error('service down');
    },
    saveCache: async () => 0,
  });
  assert.equal(await broken.get(key), undefined, 'a failing service is a miss');
});

function event(over: Partial<EventInfo>): EventInfo {
  return {
    name: 'pull_request',
    kind: 'pull_request',
    owner: 'o',
    repo: 'r',
    isFork: true,
    policyFromBase: true,
    cacheSaveAllowed: false,
    newBranch: false,
    ...over,
  };
}

function api(count: (ref: string, prefix: string) => Promise<number>): Api {
  const no = async () => {
    throw new Error('not used');
  };
  return {
    listPrFiles: no,
    compareFiles: no,
    getContent: no,
    listComments: no,
    createComment: no,
    updateComment: no,
    viewerLogin: no,
    findPulls: no,
    countCaches: count,
  };
}

test('cacheScopeTrusted: a pull request believes the cache only when its own scope holds no modelgate entry', async () => {
  const env = { GITHUB_REF: 'refs/pull/7/merge' };
  const asked: string[] = [];
  const clean = api(async (ref, prefix) => {
    asked.push(`${ref} ${prefix}`);
    return 0;
  });
  assert.deepEqual(await cacheScopeTrusted(clean, event({}), env), { trusted: true });
  assert.deepEqual(asked, ['refs/pull/7/merge modelgate-']);

  // Planted by an earlier commit of the pull request (a modified workflow calling the cache service).
  const planted = await cacheScopeTrusted(
    api(async () => 2),
    event({}),
    env,
  );
  assert.equal(planted.trusted, false);
  assert.equal((planted as { foreign: boolean }).foreign, true);
  assert.match((planted as { reason: string }).reason, /2 cache entries .* refs\/pull\/7\/merge/);

  // No `actions: read`: the scope cannot be checked, so nothing is restored.
  const forbidden = await cacheScopeTrusted(
    api(async () => {
      throw Object.assign(new Error('Resource not accessible by integration'), { status: 403 });
    }),
    event({}),
    env,
  );
  assert.equal(forbidden.trusted, false);
  assert.equal((forbidden as { foreign: boolean }).foreign, false);
  assert.match((forbidden as { reason: string }).reason, /actions: read/);
  assert.equal((await cacheScopeTrusted(undefined, event({}), env)).trusted, false);
  assert.equal((await cacheScopeTrusted(clean, event({}), {})).trusted, false);

  // Trusted events (push to the default branch, merge_group, schedule) write their own scope: no check.
  const n = asked.length;
  assert.deepEqual(
    await cacheScopeTrusted(
      api(async () => 5),
      event({ name: 'push', kind: 'push', cacheSaveAllowed: true }),
      { GITHUB_REF: 'refs/heads/main' },
    ),
    { trusted: true },
  );
  assert.equal(asked.length, n);
  // A push to another branch is untrusted: its scope is written by that branch's own workflows.
  const feature = await cacheScopeTrusted(
    api(async () => 1),
    event({ name: 'push', kind: 'push' }),
    { GITHUB_REF: 'refs/heads/feature' },
  );
  assert.equal(feature.trusted, false);
});
