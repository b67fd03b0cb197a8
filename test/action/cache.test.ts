import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cacheable,
  cacheDir,
  fromEntry,
  type ResultCache,
  scanWithCache,
  toEntry,
} from '../../src/action/cache.js';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanEntries } from '../../src/core/scan.js';
import type { WalkEntry } from '../../src/core/walk.js';
import { FIXTURES, tempDir } from '../helpers.js';

/** The cache contract of actionsCache (validate on restore, refuse incomplete on save) over a Map. */
function memoryCache(store: Map<string, string>): ResultCache {
  const stats = { hits: 0, misses: 0, saved: 0, errors: 0 };
  const now = new Date('2026-06-01T00:00:00Z');
  return {
    stats,
    async restore(path, sha256, size) {
      const raw = store.get(sha256);
      const r =
        raw === undefined
          ? undefined
          : fromEntry(JSON.parse(raw), { path, sha256, size }, DEFAULT_POLICY, now);
      if (r) stats.hits++;
      else stats.misses++;
      return r;
    },
    async save(f) {
      if (!cacheable(f)) return;
      store.set(f.sha256, JSON.stringify(toEntry(f)));
      stats.saved++;
    },
  };
}

test('scanWithCache: restores hits, scans misses, saves only when allowed and never incomplete results', async (t) => {
  const dir = tempDir((fn) => t.after(fn));
  copyFileSync(join(FIXTURES, 'onnx', 'python_op.onnx'), join(dir, 'evil.onnx'));
  copyFileSync(join(FIXTURES, 'onnx', 'mlp.onnx'), join(dir, 'ok.onnx'));
  writeFileSync(join(dir, 'broken.onnx'), Buffer.from([0x08, 0x07, 0x12, 0xff, 0xff, 0xff]));
  const entries: WalkEntry[] = ['evil.onnx', 'ok.onnx', 'broken.onnx'].map((p) => ({
    kind: 'file',
    absPath: join(dir, p),
    relPath: p,
    root: dir,
  }));
  let scannedPaths: string[] = [];
  const scan = async (es: WalkEntry[]) => {
    scannedPaths = es.map((e) => e.relPath);
    return (await scanEntries(es, { policy: DEFAULT_POLICY })).files;
  };
  const store = new Map<string, string>();

  // A pull request: restore only, nothing saved.
  const pr = await scanWithCache(entries, scan, memoryCache(store), false);
  assert.equal(pr.scanned, 3);
  assert.equal(store.size, 0);

  // A trusted event saves the complete results only.
  const push = await scanWithCache(entries, scan, memoryCache(store), true);
  assert.equal(push.scanned, 3);
  const broken = push.files.find((f) => f.path === 'broken.onnx')!;
  assert.equal(broken.verdict, 'incomplete');
  assert.equal(store.size, 2, 'the incomplete result is not cached');

  // Next run: the two complete results come from the cache, with the same verdicts; the incomplete one is scanned.
  const c = memoryCache(store);
  const again = await scanWithCache(entries, scan, c, false);
  assert.deepEqual(scannedPaths, ['broken.onnx']);
  assert.equal(c.stats.hits, 2);
  const v = (fs: typeof again.files) => Object.fromEntries(fs.map((f) => [f.path, [f.verdict, f.score]]));
  assert.deepEqual(v(again.files), v(push.files));

  // A poisoned entry (claims the malicious bytes are clean) fails validation only if it lies about
  // the bytes; a forged "clean" entry for the right sha256 is why entries are saved on trusted events only.
  const evilSha = push.files.find((f) => f.path === 'evil.onnx')!.sha256;
  const forged = JSON.parse(store.get(evilSha)!);
  forged.size += 1;
  store.set(evilSha, JSON.stringify(forged));
  const c2 = memoryCache(store);
  const checked = await scanWithCache(entries, scan, c2, false);
  assert.ok(scannedPaths.includes('evil.onnx'), 'an entry that does not match the bytes is not used');
  assert.equal(checked.files.find((f) => f.path === 'evil.onnx')!.verdict, 'block');

  // Without a cache everything is scanned.
  const none = await scanWithCache(entries, scan, undefined, true);
  assert.equal(none.scanned, 3);
});

test('cache entries live in RUNNER_TEMP, outside the workspace (nothing in the workspace belongs to the action)', () => {
  assert.equal(
    cacheDir({ RUNNER_TEMP: '/home/runner/work/_temp' }),
    '/home/runner/work/_temp/modelgate-cache',
  );
  assert.ok(!cacheDir({ RUNNER_TEMP: '/tmp/rt', GITHUB_WORKSPACE: '/ws' }).startsWith('/ws'));
});
