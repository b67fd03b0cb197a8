// The CLI's launcher (dist/cli.js, src/cli/launcher.ts) as users run it: the bundled CLI compiled through a V8
// code cache kept in a private per-user folder. The cache must be invisible: same output and exit codes with
// it, without it, cold or warm; refused when the folder or file could have been written by someone else;
// off in CI; replaced when corrupt or rejected by V8; never a reason to fail. What the launcher did is read
// from its NODE_DEBUG=modelgate lines and from the cache file itself (inode and mtime: rewritten or not).
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Script } from 'node:vm';
import { build } from 'esbuild';
import { buildLauncher } from '../../scripts/build-launcher.mjs';
import { buildDist, DIST_CLI, EVIL_PICKLE } from '../action/harness.js';
import { FIXTURES, tempDir } from '../helpers.js';

before(() => buildDist(), { timeout: 180_000 });

const dir = tempDir(after, 'mg-launcher-');
const models = join(dir, 'models');
mkdirSync(join(models, 'fifo'), { recursive: true });
writeFileSync(join(models, 'evil.pkl'), EVIL_PICKLE);
copyFileSync(join(FIXTURES, 'pickle', 'benign', 'data_p4.pkl'), join(models, 'clean.pkl'));
execFileSync('mkfifo', [join(models, 'fifo', 'model.pkl')]);

/** Commands covering every exit code: 0 pass, 1 block, 2 incomplete, 3 usage; and the non-scan commands. */
const CASES: string[][] = [
  ['scan', join(models, 'clean.pkl'), '-f', 'json'],
  ['scan', join(models, 'evil.pkl')],
  ['scan', join(models, 'fifo'), '-f', 'json'],
  ['scan', '--no-such-flag'],
  ['--version'],
  ['rules', '-f', 'json'],
];
const SCAN_EVIL = CASES[1]!;

/**
 * Another user. As root (this sandbox, CI containers) the tests give their files to it; otherwise a folder of
 * root's stands in for another user's (a hosted runner's user cannot give files away).
 */
const OTHER_UID = 12345;
const isRoot = process.getuid?.() === 0;

/** A folder of another user holding a cache file of ours (as root), or just a folder of another user. */
async function foreignDir(): Promise<string> {
  if (!isRoot) return '/';
  const d = await warm();
  chownSync(d, OTHER_UID, OTHER_UID);
  return d;
}

/** The cache files of a folder with their inode and mtime, to tell whether any was written. */
function snapshot(d: string): Array<{ name: string; ino: number; mtimeMs: number }> {
  return cacheFiles(d).map((name) => {
    const st = statSync(join(d, name));
    return { name, ino: st.ino, mtimeMs: st.mtimeMs };
  });
}

interface Run {
  code: number;
  stdout: string;
  /** stderr without the launcher's debug lines. */
  stderr: string;
  /** The launcher's NODE_DEBUG=modelgate lines (`code cache: ...`). */
  debug: string[];
}

/** This process's environment with no CI variable and the cache settings given (NODE_DEBUG=modelgate if told). */
function launcherEnv(env: Record<string, string | undefined>, debug: boolean): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['CI', 'GITHUB_ACTIONS', 'MODELGATE_NO_CACHE', 'MODELGATE_CACHE_DIR', 'XDG_CACHE_HOME'])
    delete e[k];
  e.NODE_DEBUG = debug ? 'modelgate' : '';
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  return e;
}

/** The launcher, with no CI variable and the cache settings given (NODE_DEBUG=modelgate unless told not). */
function run(args: string[], env: Record<string, string | undefined>, debug = true): Promise<Run> {
  const e = launcherEnv(env, debug);
  return new Promise((res) =>
    execFile(
      process.execPath,
      [DIST_CLI, ...args],
      { cwd: dir, env: e, maxBuffer: 64 * 2 ** 20, timeout: 120_000 },
      (err, stdout, stderr) => {
        const lines = stderr.split('\n');
        const isDebug = (l: string) => /^MODELGATE \d+: /.test(l);
        res({
          code: err ? (typeof err.code === 'number' ? err.code : 99) : 0,
          stdout,
          stderr: lines.filter((l) => !isDebug(l)).join('\n'),
          debug: lines.filter(isDebug).map((l) => l.replace(/^MODELGATE \d+: /, '')),
        });
      },
    ),
  );
}

/** The reference: the CLI with the cache off. */
async function reference(args: string[]): Promise<Omit<Run, 'debug'>> {
  const r = await run(args, { MODELGATE_NO_CACHE: '1' }, false);
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

function sameAs(r: Run, ref: Omit<Run, 'debug'>, what: string): void {
  assert.deepEqual({ code: r.code, stdout: r.stdout, stderr: r.stderr }, ref, what);
}

/** The cache files in a folder. */
function cacheFiles(d: string): string[] {
  return existsSync(d) ? readdirSync(d).filter((n) => n.endsWith('.v8cache')) : [];
}

/** The one cache file in a folder, with what tells a rewrite (a rename puts a new inode in place). */
function theCache(d: string): { path: string; ino: number; mtimeMs: number; size: number } {
  const files = cacheFiles(d);
  assert.equal(files.length, 1, `one cache file in ${d}: ${files.join(', ')}`);
  const path = join(d, files[0]!);
  const st = statSync(path);
  return { path, ino: st.ino, mtimeMs: st.mtimeMs, size: st.size };
}

let n = 0;
/** A fresh cache folder path (not created). */
function fresh(): string {
  return join(dir, `cache-${++n}`);
}

/** A cache folder holding a valid cache made by a scan. */
async function warm(): Promise<string> {
  const d = fresh();
  const r = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
  assert.equal(r.code, 1, r.stderr);
  theCache(d);
  return d;
}

test('the first run writes a private cache; later runs use it and leave it as it is', async () => {
  const d = fresh();
  const first = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
  assert.equal(first.code, 1, first.stderr);
  assert.ok(first.debug.includes('code cache: none'), first.debug.join('\n'));
  assert.ok(first.debug.some((l) => l.startsWith('code cache: wrote ')));
  assert.equal(statSync(d).mode & 0o777, 0o700);
  const c = theCache(d);
  assert.equal(statSync(c.path).mode & 0o777, 0o600);
  // Named by Node version and architecture (and hashes of the bundle and the V8 flags).
  assert.match(
    c.path,
    new RegExp(`cli-${process.version}-${process.arch}-[0-9a-f]{32}-[0-9a-f]{8}\\.v8cache$`),
  );
  for (const args of [['--version'], SCAN_EVIL]) {
    const r = await run(args, { MODELGATE_CACHE_DIR: d });
    assert.deepEqual(r.debug, ['code cache: used'], args.join(' '));
    assert.deepEqual(theCache(d), c, `${args.join(' ')} leaves the cache as it was`);
  }
});

test('the CLI is one ASCII file holding its bundle (a one-byte string for V8)', () => {
  const cli = readFileSync(DIST_CLI);
  assert.ok(isAscii(cli));
  assert.ok(cli.length > 1e6);
});

test('a cache made by another command than a scan is replaced once, by the first scan', async () => {
  const d = fresh();
  await run(['--version'], { MODELGATE_CACHE_DIR: d });
  const fromVersion = theCache(d);
  const scan = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
  assert.equal(scan.debug[0], 'code cache: used');
  assert.ok(scan.debug.some((l) => l.startsWith('code cache: wrote ')));
  const fromScan = theCache(d);
  assert.notEqual(fromScan.ino, fromVersion.ino);
  // A scan's cache holds what the scan compiled too: bigger than --version's.
  assert.ok(statSync(fromScan.path).size > fromVersion.size);
  const again = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
  assert.deepEqual(again.debug, ['code cache: used']);
  assert.deepEqual(theCache(d), fromScan);
});

test('exit codes, stdout and stderr are the same without a cache, with a cold one and with a warm one', {
  timeout: 300_000,
}, async () => {
  for (const args of CASES) {
    const ref = await reference(args);
    const d = fresh();
    const cold = await run(args, { MODELGATE_CACHE_DIR: d }, false);
    sameAs(cold, ref, `cold: ${args.join(' ')}`);
    assert.equal(cacheFiles(d).length, 1);
    const warmRun = await run(args, { MODELGATE_CACHE_DIR: d }, false);
    sameAs(warmRun, ref, `warm: ${args.join(' ')}`);
  }
  // The exit codes themselves, so that the comparison is not vacuous.
  assert.deepEqual(
    await Promise.all(CASES.slice(0, 4).map(async (a) => (await reference(a)).code)),
    [0, 1, 2, 3],
  );
});

test('a folder owned by another user, writable by group or others, or a link is neither read nor written', async () => {
  const ref = await reference(SCAN_EVIL);
  const foreign = await foreignDir();
  const groupWritable = await warm();
  chmodSync(groupWritable, 0o770);
  const otherWritable = await warm();
  chmodSync(otherWritable, 0o703);
  const link = fresh();
  symlinkSync(await warm(), link);
  for (const d of [foreign, groupWritable, otherWritable, link]) {
    const before = snapshot(d);
    const r = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
    sameAs(r, ref, d);
    assert.deepEqual(
      r.debug,
      [
        `code cache: ${d} not a private directory of this user: not used`,
        'code cache: none',
        `code cache: ${d} not a private directory of this user: not written`,
      ],
      d,
    );
    assert.deepEqual(snapshot(d), before, `${d}: nothing written`);
  }
});

test("missing folders are made only inside a folder of this user (sudo with the caller's HOME)", async () => {
  let theirs = '/';
  if (isRoot) {
    theirs = join(dir, 'their-home');
    mkdirSync(theirs);
    chownSync(theirs, OTHER_UID, OTHER_UID);
  }
  const ref = await reference(SCAN_EVIL);
  const absent = `mg-absent-${process.pid}`;
  for (const env of [{ HOME: join(theirs, absent) }, { MODELGATE_CACHE_DIR: join(theirs, absent, 'a') }]) {
    const r = await run(SCAN_EVIL, env);
    sameAs(r, ref, JSON.stringify(env));
    assert.ok(!existsSync(join(theirs, absent)), JSON.stringify(env));
    assert.ok(
      r.debug.some((l) => l.endsWith('absent: not written')),
      r.debug.join('\n'),
    );
  }
  // Inside our own folder, the whole missing path is made, private.
  const ours = join(dir, 'our-home');
  await run(['--version'], { HOME: ours });
  assert.equal(cacheFiles(join(ours, '.cache', 'modelgate')).length, 1);
  assert.equal(statSync(join(ours, '.cache')).mode & 0o777, 0o700);
});

test('a cache file owned by another user or writable by others is not used, and is replaced', async () => {
  const ref = await reference(SCAN_EVIL);
  for (const spoil of [
    ...(isRoot ? [(p: string) => chownSync(p, OTHER_UID, OTHER_UID)] : []),
    (p: string) => chmodSync(p, 0o620),
    (p: string) => chmodSync(p, 0o606),
  ]) {
    const d = await warm();
    const planted = theCache(d);
    spoil(planted.path);
    const r = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
    sameAs(r, ref, spoil.toString());
    assert.equal(r.debug[0], `code cache: ${planted.path} is not a private file of this user: not used`);
    const now = theCache(d);
    assert.notEqual(now.ino, planted.ino);
    const st = statSync(now.path);
    assert.equal(st.uid, process.getuid!());
    assert.equal(st.mode & 0o777, 0o600);
  }
});

test('CI, GITHUB_ACTIONS or MODELGATE_NO_CACHE: no cache read or written, not even a folder made', async () => {
  const ref = await reference(SCAN_EVIL);
  for (const env of [{ CI: 'true' }, { CI: '1' }, { GITHUB_ACTIONS: 'true' }, { MODELGATE_NO_CACHE: '1' }]) {
    const absent = fresh();
    const r = await run(SCAN_EVIL, { ...env, MODELGATE_CACHE_DIR: absent });
    sameAs(r, ref, JSON.stringify(env));
    assert.deepEqual(r.debug, [], JSON.stringify(env));
    assert.ok(!existsSync(absent), JSON.stringify(env));
    // Nor is a good cache read (the home folder's default place is not consulted either).
    const d = await warm();
    const before = theCache(d);
    const w = await run(SCAN_EVIL, { ...env, MODELGATE_CACHE_DIR: d, HOME: join(dir, 'no-home') });
    assert.deepEqual(w.debug, [], JSON.stringify(env));
    assert.deepEqual(theCache(d), before);
    assert.ok(!existsSync(join(dir, 'no-home')));
  }
});

/** A cache file in the launcher's format (magic, sha256, flag byte, V8 data) around the given V8 data. */
function cacheFileBytes(v8: Buffer, flags = 1): Buffer {
  const payload = Buffer.concat([Buffer.from([flags]), v8]);
  return Buffer.concat([Buffer.from('MGV8CC01'), createHash('sha256').update(payload).digest(), payload]);
}

test('a corrupt cache file, or one V8 rejects, is replaced; the output is the same', async () => {
  const ref = await reference(SCAN_EVIL);
  const corruptions: Array<[string, (b: Buffer) => Buffer, string]> = [
    [
      'a flipped byte in the data',
      (b) => Buffer.from(b.map((x, i) => (i === b.length >> 1 ? x ^ 0xff : x))),
      'corrupt',
    ],
    ['truncated', (b) => b.subarray(0, b.length >> 1), 'corrupt'],
    ['too short for a header', (b) => b.subarray(0, 20), 'corrupt'],
    ['random bytes', (b) => createHash('sha512').update(b).digest(), 'corrupt'],
    // Well formed for us, but V8's data of another script: V8 itself rejects it.
    ['V8 data of another script', () => cacheFileBytes(new Script('1 + 1').createCachedData()), 'rejected'],
  ];
  for (const [what, corrupt, said] of corruptions) {
    const d = await warm();
    const good = theCache(d);
    writeFileSync(good.path, corrupt(readFileSync(good.path)));
    const r = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
    sameAs(r, ref, what);
    assert.ok(
      r.debug.some((l) => l.includes(said)),
      `${what}: ${r.debug.join('\n')}`,
    );
    assert.ok(
      r.debug.some((l) => l.startsWith('code cache: wrote ')),
      what,
    );
    const next = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: d });
    assert.deepEqual(next.debug, ['code cache: used'], what);
  }
});

test('where the cache goes: MODELGATE_CACHE_DIR, else $XDG_CACHE_HOME/modelgate, else ~/.cache/modelgate', async () => {
  const home = join(dir, 'home');
  const xdg = join(dir, 'xdg');
  const explicit = fresh();
  await run(['--version'], { HOME: home, XDG_CACHE_HOME: xdg, MODELGATE_CACHE_DIR: explicit });
  assert.equal(cacheFiles(explicit).length, 1);
  await run(['--version'], { HOME: home, XDG_CACHE_HOME: xdg });
  assert.equal(cacheFiles(join(xdg, 'modelgate')).length, 1);
  // A relative XDG_CACHE_HOME is invalid (XDG base directory specification): ignored.
  await run(['--version'], { HOME: home, XDG_CACHE_HOME: 'relative' });
  assert.equal(cacheFiles(join(home, '.cache', 'modelgate')).length, 1);
  assert.ok(!existsSync(join(dir, 'relative')));
});

test('a cache folder that cannot be made changes nothing: same output, no message', async () => {
  const ref = await reference(SCAN_EVIL);
  const file = join(dir, 'a-file');
  writeFileSync(file, 'not a folder');
  const r = await run(SCAN_EVIL, { MODELGATE_CACHE_DIR: join(file, 'cache') }, false);
  sameAs(r, ref, 'cache folder under a file');
  assert.equal(r.stderr, ref.stderr);
});

test('stack traces of the bundle point at the sources, with or without the cache', async (t) => {
  // A bundle of the CLI's shape (CommonJS, a `done` promise) that fails in a function at a known line,
  // built as build.mjs builds the real one and run by the real launcher.
  const app = tempDir((fn) => t.after(fn), 'mg-launcher-map-');
  mkdirSync(join(app, 'src'));
  mkdirSync(join(app, 'dist'));
  writeFileSync(
    join(app, 'src', 'main.ts'),
    [
      'function fail(): never {',
      "  throw new Error('synthetic internal error');",
      '}',
      'async function run(): Promise<void> {',
      '  await Promise.resolve();',
      '  fail();',
      '}',
      'export const done = run().catch((err: Error) => {',
      '  process.stderr.write(err.stack + "\\n");',
      '  process.exitCode = 3;',
      '});',
      '',
    ].join('\n'),
  );
  await build({
    entryPoints: [join(app, 'src', 'main.ts')],
    outfile: join(app, 'dist', 'cli-main.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'error',
  });
  // The real launcher holding this bundle, alone beside the bundle's source map.
  const launcher = join(app, 'dist', 'cli.mjs');
  await buildLauncher(readFileSync(join(app, 'dist', 'cli-main.cjs'), 'latin1'), launcher);
  rmSync(join(app, 'dist', 'cli-main.cjs'));
  const src = join(app, 'src', 'main.ts');
  for (const env of [
    { MODELGATE_NO_CACHE: '1' },
    { MODELGATE_CACHE_DIR: join(app, 'c') },
    { MODELGATE_CACHE_DIR: join(app, 'c') },
  ]) {
    const r = await new Promise<{ code: number; stderr: string }>((res) =>
      execFile(process.execPath, [launcher], { env: launcherEnv(env, false) }, (err, _o, stderr) =>
        res({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
    assert.equal(r.code, 3);
    const lines = r.stderr.split('\n');
    assert.equal(lines[0], 'Error: synthetic internal error');
    assert.equal(lines[1], `    at fail (${src}:2:9)`, r.stderr);
    assert.equal(lines[2], `    at run (${src}:6:3)`, r.stderr);
  }
  assert.equal(cacheFiles(join(app, 'c')).length, 1);
});
