// Runs every test file under test/ with Node's own test runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here. Extra arguments narrow the set:
// `npm test -- pickle` runs the test files whose path contains "pickle".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : walk(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}
const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// The tests that run the bundles (the action end to end, the CLI, the packed tarball) use dist/ as built here,
// once, before any test starts: a rebuild inside a test would delete dist/ under the feet of the others.
const build = spawnSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  env: { ...process.env, NODE_NO_WARNINGS: '1', MODELGATE_DIST_PREBUILT: '1' },
});
process.exit(r.status ?? 1);
