// The bundled CLI (dist/cli.js, built and copied as the action tests do) against links, special files and
// streams, run as a user runs it: through a shell for pipes and process substitution. Nothing here may pass
// unscanned: a pipe is read, a link is scanned as its target (named in the report), and what cannot be read
// (a link out of the folder, a dangling link, a loop, a FIFO or device inside a folder) is incomplete.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildDist, DIST_CLI, EVIL_PICKLE } from '../action/harness.js';
import { tempDir } from '../helpers.js';

before(() => buildDist(), { timeout: 180_000 });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface JsonReport {
  verdict: string;
  files: Array<{
    path: string;
    verdict: string;
    format: string;
    facts?: Record<string, unknown>;
    findings: Array<{ ruleId: string; message: string }>;
  }>;
}

/** Runs a shell command line (bash, for `<(...)`) with $CLI set to the bundle; 60 s at most. */
function sh(cmd: string, cwd: string): Promise<Run> {
  return new Promise((res) => {
    execFile(
      'bash',
      ['-c', cmd],
      { cwd, env: { ...process.env, CLI: `${process.execPath} ${DIST_CLI}` }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 99) : 0;
        res({ code, stdout, stderr });
      },
    );
  });
}

function json(r: Run): JsonReport {
  try {
    return JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(`not a JSON report (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
}

const rules = (f: { findings: Array<{ ruleId: string }> }) => f.findings.map((x) => x.ruleId);

function setup(): string {
  const dir = tempDir(after, 'mg-cli-links-');
  writeFileSync(join(dir, 'evil.pkl'), EVIL_PICKLE);
  return dir;
}

test('`cat evil.pkl | modelgate scan -` reads standard input and blocks it, reported as <stdin>', async () => {
  const dir = setup();
  const r = await sh('cat evil.pkl | $CLI scan - --format json', dir);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const f = json(r).files.at(0)!;
  assert.equal(f.path, '<stdin>');
  assert.equal(f.format, 'pickle');
  assert.equal(f.verdict, 'block');
  assert.equal(f.facts?.stream, 'standard input');
  // `- < file`: standard input is the file itself.
  const redirected = await sh('$CLI scan - --format json < evil.pkl', dir);
  assert.equal(redirected.code, 1, redirected.stdout + redirected.stderr);
  assert.equal(json(redirected).files.at(0)!.verdict, 'block');
});

test('/dev/stdin, <(...) and a named pipe given as arguments are read, never skipped', async () => {
  const dir = setup();
  const devStdin = await sh('cat evil.pkl | $CLI scan /dev/stdin --format json', dir);
  assert.equal(devStdin.code, 1, devStdin.stdout + devStdin.stderr);
  assert.deepEqual(
    json(devStdin).files.map((f) => [f.path, f.verdict]),
    [['/dev/stdin', 'block']],
  );
  const subst = await sh('$CLI scan <(cat evil.pkl) --format json', dir);
  assert.equal(subst.code, 1, subst.stdout + subst.stderr);
  assert.match(json(subst).files.at(0)!.path, /^\/dev\/fd\/\d+$/);
  assert.equal(json(subst).files.at(0)!.verdict, 'block');
  // A named pipe whose writer comes later: the read waits for it (no early end of stream).
  execFileSync('mkfifo', [join(dir, 'pipe')]);
  const named = await sh(
    '(sleep 0.3; cat evil.pkl > pipe) & $CLI scan pipe --format json; s=$?; wait; exit $s',
    dir,
  );
  assert.equal(named.code, 1, named.stdout + named.stderr);
  assert.equal(json(named).files.at(0)!.verdict, 'block');
});

test('a stream is bounded by maxFileBytes: past it the stream is incomplete (MG001), not analysed', async () => {
  const dir = setup();
  writeFileSync(join(dir, 'policy.yml'), 'limits:\n  maxFileBytes: 1000\n');
  const r = await sh('head -c 5000 /dev/zero | $CLI scan - --config policy.yml --format json', dir);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const f = json(r).files.at(0)!;
  assert.deepEqual(rules(f), ['MG001']);
  assert.match(f.findings[0]!.message, /longer than 1000 bytes/);
});

test('a link named on the command line is scanned as its target; a dangling link or a loop is incomplete', async () => {
  const dir = setup();
  symlinkSync('evil.pkl', join(dir, 'model.bin'));
  const link = await sh('$CLI scan model.bin --format json', dir);
  assert.equal(link.code, 1, link.stdout + link.stderr);
  const f = json(link).files.at(0)!;
  assert.equal(f.path, 'model.bin');
  assert.equal(f.verdict, 'block');
  assert.equal(f.facts?.linkTarget, join(dir, 'evil.pkl'));
  symlinkSync('missing.pkl', join(dir, 'dangling.pkl'));
  symlinkSync('loop2', join(dir, 'loop1'));
  symlinkSync('loop1', join(dir, 'loop2'));
  for (const [arg, why] of [
    ['dangling.pkl', /dangling symbolic link: its target 'missing.pkl' does not exist/],
    ['loop1', /symbolic link loop/],
  ] as const) {
    const r = await sh(`$CLI scan ${arg} --format json`, dir);
    assert.equal(r.code, 2, `${arg}: ${r.stdout}${r.stderr}`);
    const x = json(r).files.at(0)!;
    assert.deepEqual(rules(x), ['MG011'], arg);
    assert.match(x.findings[0]!.message, why);
  }
});

test('in a walked folder: links inside are scanned as their targets under their own path; links out, dangling links, loops and FIFOs are incomplete', async () => {
  const dir = setup();
  const root = join(dir, 'repo');
  mkdirSync(join(root, 'models'), { recursive: true });
  mkdirSync(join(root, 'tests'));
  writeFileSync(join(root, 'tests', 'payload.bin'), EVIL_PICKLE);
  symlinkSync('../tests/payload.bin', join(root, 'models', 'model.pkl'));
  symlinkSync('../tests', join(root, 'models', 'more')); // a folder link: walked under its own path
  symlinkSync('/etc/hostname', join(root, 'models', 'abs.pkl'));
  symlinkSync('../../evil.pkl', join(root, 'models', 'up.pkl'));
  symlinkSync('nowhere.pkl', join(root, 'models', 'dangling.pkl'));
  symlinkSync('self.pkl', join(root, 'models', 'self.pkl'));
  execFileSync('mkfifo', [join(root, 'models', 'pipe.pkl')]);
  const r = await sh('$CLI scan repo --format json', dir);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const files = new Map(json(r).files.map((f) => [f.path, f]));
  const expect: Record<string, [string, string[]]> = {
    'models/model.pkl': ['block', ['MG100']],
    'models/more/payload.bin': ['block', ['MG100']],
    'tests/payload.bin': ['block', ['MG100']],
    'models/abs.pkl': ['incomplete', ['MG010']],
    'models/up.pkl': ['incomplete', ['MG010']],
    'models/dangling.pkl': ['incomplete', ['MG011']],
    'models/self.pkl': ['incomplete', ['MG011']],
    'models/pipe.pkl': ['incomplete', ['MG012']],
  };
  assert.deepEqual([...files.keys()].sort(), Object.keys(expect).sort());
  for (const [p, [verdict, ids]] of Object.entries(expect)) {
    const f = files.get(p)!;
    assert.equal(f.verdict, verdict, p);
    for (const id of ids) assert.ok(rules(f).includes(id), `${p}: ${rules(f)}`);
  }
  assert.equal(files.get('models/model.pkl')!.facts?.linkTarget, 'tests/payload.bin');
  assert.match(
    files.get('models/up.pkl')!.findings[0]!.message,
    /'\.\.\/\.\.\/evil\.pkl', which leaves the scanned folder/,
  );
  assert.match(files.get('models/pipe.pkl')!.findings[0]!.message, /FIFO/);
  // The text report names both the link and its target.
  const text = await sh('$CLI scan repo', dir);
  assert.match(text.stdout, /models\/model\.pkl -> tests\/payload\.bin/);
});

test('a FIFO inside a folder is never opened: the scan does not wait for a writer', {
  timeout: 60_000,
}, async () => {
  const dir = setup();
  mkdirSync(join(dir, 'f'));
  execFileSync('mkfifo', [join(dir, 'f', 'model.pkl')]);
  const child = spawn(process.execPath, [DIST_CLI, 'scan', 'f', '--format', 'json'], { cwd: dir });
  let out = '';
  child.stdout.on('data', (c) => {
    out += c;
  });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 2);
  assert.deepEqual(rules(JSON.parse(out).files.at(0)), ['MG012']);
});
