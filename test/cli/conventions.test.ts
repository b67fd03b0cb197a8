// Command-line conventions a user expects: help and version on stdout with exit 0, short flags, include and
// exclude globs, usage errors (exit 3, no stack trace) for a report that cannot be written, SARIF paths that
// resolve from the working directory, progress and colour only on terminals.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { bytes, terminalProgress, useColor } from '../../src/cli/progress.js';
import { EVIL_PICKLE } from '../action/harness.js';
import { ROOT, runCli, tempDir } from '../helpers.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const dir = tempDir(after, 'mg-cli-');
mkdirSync(join(dir, 'models'));
mkdirSync(join(dir, 'tests'));
writeFileSync(join(dir, 'models', 'evil.pkl'), EVIL_PICKLE);
writeFileSync(join(dir, 'tests', 'payload.pkl'), EVIL_PICKLE);
writeFileSync(join(dir, 'models', 'notes.txt'), 'hello\n');

test('--help of every command: usage on stdout, exit 0; bare modelgate: usage on stderr, exit 3', async () => {
  for (const args of [
    ['--help'],
    ['-h'],
    ['scan', '--help'],
    ['scan', '-h'],
    ['rules', '--help'],
    ['merge', '--help'],
    ['verify', '--help'],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /^Usage: modelgate/, args.join(' '));
    assert.equal(r.stderr, '');
  }
  const scan = await runCli(['scan', '--help']);
  assert.match(scan.stdout, /the default is the current folder/);
  assert.match(scan.stdout, /-f, --format/);
  assert.match(scan.stdout, /-x, --exclude GLOB/);
  const bare = await runCli([]);
  assert.equal(bare.code, 3);
  assert.match(bare.stderr, /^Usage: modelgate/);
  for (const v of ['--version', '-V']) {
    const r = await runCli([v]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  }
});

test('short flags and --include/--exclude globs over the walked paths', async () => {
  const all = await runCli(['scan', dir, '-f', 'json']);
  assert.equal(all.code, 1);
  const paths = (o: string) => (JSON.parse(o).files as Array<{ path: string }>).map((f) => f.path).sort();
  assert.deepEqual(paths(all.stdout), ['models/evil.pkl', 'models/notes.txt', 'tests/payload.pkl']);
  const excluded = await runCli(['scan', dir, '-f', 'json', '-x', 'tests/**', '--exclude', '**/*.txt']);
  assert.deepEqual(paths(excluded.stdout), ['models/evil.pkl']);
  const included = await runCli(['scan', dir, '-f', 'json', '-i', '**/*.txt']);
  assert.equal(included.code, 0);
  assert.deepEqual(paths(included.stdout), ['models/notes.txt']);
  const out = join(dir, 'report.json');
  const written = await runCli(['scan', join(dir, 'models'), '-f', 'json', '-o', out]);
  assert.equal(written.code, 1);
  assert.equal(written.stdout, '');
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).verdict, 'block');
});

test('a report that cannot be written is a usage error before the scan, with no stack trace', async () => {
  for (const [args, why] of [
    [['scan', dir, '--output', join(dir, 'missing', 'r.json')], /the folder .*missing does not exist/],
    [['scan', dir, '-o', join(dir, 'models')], /is a folder; name a file/],
    [['rules', '-o', join(dir, 'missing', 'rules.md')], /does not exist/],
  ] as const) {
    const r = await runCli([...args]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  }
});

test('CLI SARIF paths resolve from the working directory, whatever folder was scanned', async () => {
  const uri = (out: string) =>
    JSON.parse(out).runs[0].results.map(
      (x: { locations: Array<{ physicalLocation: { artifactLocation: { uri: string } } }> }) =>
        x.locations[0]!.physicalLocation.artifactLocation.uri,
    );
  for (const arg of ['models', './models/', join(dir, 'models')])
    assert.deepEqual(
      uri((await runCli(['scan', arg, '-f', 'sarif'], { cwd: dir })).stdout),
      ['models/evil.pkl'],
      arg,
    );
  assert.deepEqual(uri((await runCli(['scan', '.', '-f', 'sarif'], { cwd: dir })).stdout).sort(), [
    'models/evil.pkl',
    'tests/payload.pkl',
  ]);
  assert.deepEqual(uri((await runCli(['scan', 'models/evil.pkl', '-f', 'sarif'], { cwd: dir })).stdout), [
    'models/evil.pkl',
  ]);
});

test('no progress and no colour when output is not a terminal, or with NO_COLOR', async () => {
  const r = await runCli(['scan', dir]);
  assert.doesNotMatch(r.stdout + r.stderr, /\x1b\[/);
  assert.equal(useColor({ isTTY: true }, {}), true);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(useColor({ isTTY: false }, {}), false);
  assert.equal(useColor({ isTTY: true }, { TERM: 'dumb' }), false);
});

test('progress on a terminal: after the delay, one redrawn line with counts, bytes and the file; erased at the end', () => {
  const written: string[] = [];
  const stream = { isTTY: true, columns: 60, write: (s: string) => written.push(s) > 0 };
  let t = 0;
  const p = terminalProgress(stream, { now: () => t, delayMs: 1000 });
  const step = {
    done: 1,
    total: 4,
    bytesDone: 3 * 2 ** 20,
    bytesTotal: 10 * 2 ** 20,
    current: 'm/a\x1b[31m.pkl',
  };
  p.onProgress!(step);
  assert.equal(written.length, 0, 'nothing before the delay');
  t = 1500;
  p.onProgress!(step);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^\r\x1b\[2Kmodelgate: 1\/4 files, 3\.0 MiB of 10\.0 MiB m\/a\?\[31m\.pkl$/);
  t = 1550;
  p.onProgress!(step);
  assert.equal(written.length, 1, 'redrawn at most every 200 ms');
  p.finish();
  assert.equal(written.at(-1), '\r\x1b[2K');
  const silent = terminalProgress({ isTTY: false, columns: 80, write: () => true });
  assert.equal(silent.onProgress, undefined);
  assert.equal(bytes(512), '512 B');
});
