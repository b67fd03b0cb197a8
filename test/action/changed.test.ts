import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fromApiFiles,
  makeFilter,
  normalizeRoot,
  parseRawDiffZ,
  shardOf,
  underRoot,
} from '../../src/action/changed.js';

test('parseRawDiffZ: added, modified, renamed (new path, old kept), copied, type change; deletions dropped', () => {
  const z = [
    ':000000 100644 0000000 1111111 A',
    'models/new.pkl',
    ':100644 100644 2222222 3333333 M',
    'models/with space.bin',
    ':100644 000000 4444444 0000000 D',
    'gone.pt',
    ':100644 100644 5555555 5555555 R100',
    'old/name.onnx',
    'new/name.onnx',
    ':100644 100644 6666666 7777777 C075',
    'a.pt',
    'b.pt',
    ':100644 120000 8888888 9999999 T',
    'link.bin',
    ':160000 160000 aaaaaaa bbbbbbb M',
    'vendor/sub',
    '',
  ].join('\0');
  assert.deepEqual(parseRawDiffZ(z), [
    { path: 'models/new.pkl', status: 'added', mode: '100644', sha: '1111111' },
    { path: 'models/with space.bin', status: 'modified', mode: '100644', sha: '3333333' },
    { path: 'new/name.onnx', status: 'renamed', previous: 'old/name.onnx', mode: '100644', sha: '5555555' },
    { path: 'b.pt', status: 'copied', previous: 'a.pt', mode: '100644', sha: '7777777' },
    { path: 'link.bin', status: 'type-changed', mode: '120000', sha: '9999999' },
    { path: 'vendor/sub', status: 'modified', mode: '160000', sha: 'bbbbbbb' },
  ]);
});

test('parseRawDiffZ keeps paths with newlines, colons and tabs verbatim', () => {
  const z = `:000000 100644 0000000 1111111 A\0a\n:100644 b\tc.pkl\0`;
  assert.deepEqual(parseRawDiffZ(z), [
    { path: 'a\n:100644 b\tc.pkl', status: 'added', mode: '100644', sha: '1111111' },
  ]);
});

test('fromApiFiles: removed files are dropped, renames keep the previous name', () => {
  assert.deepEqual(
    fromApiFiles([
      { filename: 'a', status: 'added' },
      { filename: 'b', status: 'removed' },
      { filename: 'c', status: 'renamed', previous_filename: 'old-c' },
      { filename: 'd', status: 'changed' },
      { filename: 'e', status: 'copied' },
    ]),
    [
      { path: 'a', status: 'added' },
      { path: 'c', status: 'renamed', previous: 'old-c' },
      { path: 'd', status: 'modified' },
      { path: 'e', status: 'copied' },
    ],
  );
});

test('normalizeRoot and underRoot', () => {
  assert.equal(normalizeRoot('.'), '');
  assert.equal(normalizeRoot('./models/'), 'models');
  assert.equal(normalizeRoot('a//b/./c'), 'a/b/c');
  assert.throws(() => normalizeRoot('../etc'), /inside the workspace/);
  assert.ok(underRoot('models/a.pt', 'models'), 'changed.test.ts:70');
  assert.ok(!underRoot('models2/a.pt', 'models'), 'changed.test.ts:71');
  assert.ok(underRoot('x', ''), 'changed.test.ts:72');
});

test('makeFilter: root, include, exclude (dot files too)', () => {
  const f = makeFilter({ root: 'models', include: ['**/*.pt', '**/*.pkl'], exclude: ['models/vendor/**'] });
  assert.ok(f('models/a.pt'), 'changed.test.ts:77');
  assert.ok(f('models/.hidden/b.pkl'), 'changed.test.ts:78');
  assert.ok(!f('models/a.onnx'), 'changed.test.ts:79');
  assert.ok(!f('models/vendor/x.pt'), 'changed.test.ts:80');
  assert.ok(!f('other/a.pt'), 'changed.test.ts:81');
  const all = makeFilter({ root: '', include: [], exclude: [] });
  assert.ok(all('anything/at/all'), 'changed.test.ts:83');
});

test('shards: deterministic by path, each path in exactly one shard, roughly even', () => {
  const paths = Array.from({ length: 2000 }, (_, i) => `models/m${i}.safetensors`);
  const counts = [0, 0, 0, 0];
  for (const p of paths) {
    const s = shardOf(p, 4);
    assert.equal(shardOf(p, 4), s);
    assert.ok(s >= 1 && s <= 4, 'changed.test.ts:92');
    counts[s - 1]!++;
    const member = [1, 2, 3, 4].filter((i) =>
      makeFilter({ root: '', include: [], exclude: [], shard: { index: i, count: 4 } })(p),
    );
    assert.deepEqual(member, [s]);
  }
  for (const c of counts) assert.ok(c > 400 && c < 600, `uneven: ${counts}`);
  // Independent of the other files: adding files does not move existing ones.
  assert.equal(shardOf('models/m1.safetensors', 4), shardOf('models/m1.safetensors', 4));
  assert.equal(shardOf('x', 1), 1);
});
