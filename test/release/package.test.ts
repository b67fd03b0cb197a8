// The npm package as users get it: `npm pack` of this repository, installed offline into an empty folder,
// then `modelgate scan` run from there. The package is the CLI bundle and its documents, nothing else; the
// bundles are self-contained, so installing it fetches nothing.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import semver from 'semver';
import { EVIL_PICKLE } from '../action/harness.js';
import { ROOT, tempDir } from '../helpers.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('the tarball holds only what runs and its documents; installed offline it fetches nothing and scans', () => {
  const work = tempDir(after, 'mg-pack-');
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0]!.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'LICENSE',
    'README.md',
    'dist/THIRD_PARTY_NOTICES.txt',
    'dist/cli-main.cjs.map',
    'dist/cli.js',
    'docs/rules.md',
    'package.json',
  ]);

  const app = join(work, 'app');
  execFileSync('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}\n');
  // --offline: any dependency to fetch would fail the install; the cache is private so nothing is reused.
  execFileSync(
    'npm',
    [
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--cache',
      join(work, 'cache'),
      join(work, packed[0]!.filename),
    ],
    { cwd: app, encoding: 'utf8' },
  );
  assert.deepEqual(
    readdirSync(join(app, 'node_modules')).filter((n) => n !== '.bin' && !n.startsWith('.')),
    ['modelgate'],
  );

  const models = join(work, 'models');
  execFileSync('mkdir', [models]);
  writeFileSync(join(models, 'evil.pkl'), EVIL_PICKLE);
  const bin = join(app, 'node_modules', '.bin', 'modelgate');
  assert.ok(existsSync(bin), 'the bin link is installed');
  const blocked = spawnSync(bin, ['scan', models, '--format', 'json'], { cwd: app, encoding: 'utf8' });
  assert.equal(blocked.status, 1, blocked.stderr);
  const report = JSON.parse(blocked.stdout);
  assert.equal(report.files.at(0).verdict, 'block');
  assert.ok(report.files.at(0).findings.some((f: { ruleId: string }) => f.ruleId === 'MG100'));
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(version.stdout.trim(), pkg.version);
});

test('the package declares no runtime dependency, and its engines range is within every bundled package', () => {
  assert.equal(
    pkg.dependencies,
    undefined,
    'everything is bundled into dist/: dependencies belong in devDependencies',
  );
  const notices = readFileSync(join(ROOT, 'dist', 'THIRD_PARTY_NOTICES.txt'), 'utf8');
  const bundled = [...notices.matchAll(/^={78}\n(\S+) (\S+) /gm)].map((m) => [m[1]!, m[2]!] as const);
  assert.ok(bundled.length > 20, 'the notices list the bundled packages');
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } }>;
  };
  const ours = pkg.engines.node as string;
  const offending: string[] = [];
  for (const [key, entry] of Object.entries(lock.packages)) {
    const name = key.replace(/^.*node_modules\//, '');
    if (!bundled.some(([n, v]) => n === name && v === entry.version)) continue;
    const theirs = entry.engines?.node;
    if (theirs && !semver.subset(ours, theirs))
      offending.push(`${name}@${entry.version} needs node ${theirs}`);
  }
  assert.deepEqual(offending, [], `package.json engines.node is '${ours}'`);
});

test('LICENSE is Apache-2.0 as package.json says, and the notices carry each bundled licence', () => {
  assert.equal(pkg.license, 'Apache-2.0');
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
  const notices = readFileSync(join(ROOT, 'dist', 'THIRD_PARTY_NOTICES.txt'), 'utf8');
  for (const name of ['@actions/core', 'protobufjs', 'yaml', 'zod', '@sigstore/verify'])
    assert.match(notices, new RegExp(`^${name.replace('/', '\\/')} \\S+ \\(`, 'm'), name);
});
