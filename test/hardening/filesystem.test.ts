// Hostile folders: links that loop, FIFOs and devices (never opened), deep nesting, empty files, files that
// vanish or change between the walk and the scan, unreadable files and folders. The scan must finish, never
// hang, never crash the whole run, and never call a file it could not read clean.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/core/limits.js';
import { scanEntries, scanPaths } from '../../src/core/scan.js';
import { scanFileOnDisk } from '../../src/core/scan-file.js';
import type { FileReport, ScanReport } from '../../src/core/types.js';
import { walk } from '../../src/core/walk.js';
import { EVIL_PICKLE } from '../action/harness.js';
import { tempDir } from '../helpers.js';

const isRoot = process.getuid?.() === 0;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function file(report: ScanReport, path: string): FileReport {
  const f = report.files.find((x) => x.path === path);
  assert.ok(f, `${path} in report (have ${report.files.map((x) => x.path).join(', ')})`);
  return f;
}
const rules = (f: FileReport) => f.findings.map((x) => x.ruleId);

/** Runs `p` with a deadline so a hang fails the test instead of stalling the suite. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => {
        t = setTimeout(() => rej(new Error(`did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}

test('symbolic link loops in the scanned folder: the walk ends, and loops are incomplete (MG011), never followed', async () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'model.txt'), 'hello');
  symlinkSync('b', join(dir, 'a')); // a -> b -> a
  symlinkSync('a', join(dir, 'b'));
  symlinkSync('self', join(dir, 'self')); // self -> self
  mkdirSync(join(dir, 'sub'));
  symlinkSync('..', join(dir, 'sub', 'up')); // a directory cycle back to the root
  symlinkSync(dir, join(dir, 'sub', 'root-abs'));
  mkdirSync(join(dir, 'x'));
  mkdirSync(join(dir, 'y'));
  symlinkSync('../y', join(dir, 'x', 'to-y')); // x/to-y -> y, y/to-x -> x: a cycle through two links
  symlinkSync('../x', join(dir, 'y', 'to-x'));
  const report = await within(10_000, scanPaths([dir]));
  for (const p of ['a', 'b', 'self', 'sub/up', 'sub/root-abs']) {
    const f = file(report, p);
    assert.deepEqual(rules(f), ['MG011'], p);
    assert.equal(f.verdict, 'incomplete', p);
    assert.match(f.findings[0]!.message, /loop/);
  }
  // The two-link cycle is followed once each way, then reported where it closes.
  assert.deepEqual(rules(file(report, 'x/to-y/to-x')), ['MG011']);
  assert.deepEqual(rules(file(report, 'y/to-x/to-y')), ['MG011']);
  assert.equal(file(report, 'model.txt').verdict, 'pass');
  assert.equal(report.files.length, 8);
});

test('a FIFO in a folder is incomplete (MG012) and never opened; named on the command line it is read as a stream', async () => {
  const dir = tempDir(after);
  execFileSync('mkfifo', [join(dir, 'pipe.pkl')]);
  writeFileSync(join(dir, 'ok.txt'), 'x');
  const report = await within(10_000, scanPaths([dir]));
  const f = file(report, 'pipe.pkl');
  assert.deepEqual(rules(f), ['MG012']);
  assert.equal(f.verdict, 'incomplete');
  assert.match(f.findings[0]!.message, /FIFO/);
  // Named directly, the pipe is what the user asked to scan: read until its writer closes it.
  const fifo = join(dir, 'pipe.pkl');
  const writer = new Promise<void>((res, rej) => {
    const w = createWriteStream(fifo);
    w.on('error', rej);
    w.end(EVIL_PICKLE, () => res());
  });
  const direct = await within(10_000, scanPaths([fifo]));
  await writer;
  assert.equal(direct.files.at(0)!.verdict, 'block');
  assert.equal(direct.files.at(0)!.format, 'pickle');
  assert.equal(direct.files.at(0)!.path, fifo);
});

test('device files, and links to them, are incomplete (MG010 / MG012) and never read (/dev/zero would never end)', async () => {
  const dir = tempDir(after);
  symlinkSync('/dev/zero', join(dir, 'zero.bin'));
  symlinkSync('/dev/null', join(dir, 'null.pt'));
  let node = false;
  try {
    execFileSync('mknod', [join(dir, 'devzero.pkl'), 'c', '1', '5'], { stdio: 'ignore' });
    node = true;
  } catch {
    // mknod needs CAP_MKNOD; the links above still cover devices
  }
  const report = await within(10_000, scanPaths([dir]));
  for (const p of ['zero.bin', 'null.pt']) {
    assert.deepEqual(rules(file(report, p)), ['MG010']);
    assert.match(file(report, p).findings[0]!.message, /leaves the scanned folder/);
    assert.equal(file(report, p).verdict, 'incomplete');
  }
  if (node) {
    assert.deepEqual(rules(file(report, 'devzero.pkl')), ['MG012']);
    assert.match(file(report, 'devzero.pkl').findings[0]!.message, /character device/);
  }
  // A device named directly (or through a link) on the command line is not read either.
  const direct = await within(10_000, scanPaths(['/dev/zero']));
  assert.deepEqual(rules(direct.files.at(0)!), ['MG012']);
  assert.match(direct.files.at(0)!.findings[0]!.message, /character device/);
  const viaLink = await within(10_000, scanPaths([join(dir, 'zero.bin')]));
  assert.deepEqual(rules(viaLink.files.at(0)!), ['MG012']);
});

test('deeply nested folders (300 levels) are walked without recursion limits', async () => {
  const dir = tempDir(after);
  let p = dir;
  for (let i = 0; i < 300; i++) p = join(p, 'd');
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, 'deep.txt'), 'deep');
  const report = await within(20_000, scanPaths([dir]));
  assert.equal(report.files.length, 1);
  assert.equal(report.files.at(0)!.path, `${'d/'.repeat(300)}deep.txt`);
  assert.equal(report.files.at(0)!.verdict, 'pass');
});

test('an empty file and a 0-byte .pt are hashed and reported, not crashed on', async () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'empty'), '');
  writeFileSync(join(dir, 'model.pt'), '');
  const report = await scanPaths([dir]);
  for (const p of ['empty', 'model.pt']) {
    const f = file(report, p);
    assert.equal(f.size, 0);
    assert.equal(f.sha256, EMPTY_SHA256);
    // Zero bytes load as nothing (torch.load raises on them): not a threat, and never a crash or MG003.
    assert.ok(!rules(f).includes('MG003'));
    assert.notEqual(f.verdict, 'block');
  }
});

test('a file removed between the walk and the scan is incomplete (MG009), and the scan goes on', async () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'gone.pkl'), 'x');
  writeFileSync(join(dir, 'stays.txt'), 'y');
  const entries = await walk(dir);
  unlinkSync(join(dir, 'gone.pkl'));
  const report = await scanEntries(entries);
  const f = file(report, 'gone.pkl');
  assert.equal(f.verdict, 'incomplete');
  assert.deepEqual(rules(f), ['MG009']);
  assert.match(f.findings[0]!.message, /ENOENT/);
  assert.equal(file(report, 'stays.txt').verdict, 'pass');
});

test('a file swapped for a link or a FIFO after the walk is not followed or opened (MG009)', async () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'link.pkl'), 'x');
  writeFileSync(join(dir, 'fifo.pkl'), 'x');
  writeFileSync(join(dir, 'secret'), 'not for the report');
  const entries = await walk(dir);
  rmSync(join(dir, 'link.pkl'));
  symlinkSync('/etc/passwd', join(dir, 'link.pkl'));
  rmSync(join(dir, 'fifo.pkl'));
  execFileSync('mkfifo', [join(dir, 'fifo.pkl')]);
  const report = await within(10_000, scanEntries(entries));
  const link = file(report, 'link.pkl');
  assert.deepEqual(rules(link), ['MG009']);
  assert.match(link.findings[0]!.message, /ELOOP|symbolic link/);
  assert.equal(link.sha256, '');
  const fifo = file(report, 'fifo.pkl');
  assert.deepEqual(rules(fifo), ['MG009']);
  assert.match(fifo.findings[0]!.message, /not a regular file/);
});

test('a file that changes while it is analysed is incomplete (MG009): small and large (worker-hashed) files', async () => {
  const dir = tempDir(after);
  for (const [name, size] of [
    ['small.bin', 1000],
    ['large.bin', 9 << 20],
  ] as const) {
    const p = join(dir, name);
    writeFileSync(p, Buffer.alloc(size, 1));
    const r = await scanFileOnDisk(p, name, dir, {
      settings: { limits: DEFAULT_LIMITS, allowGlobals: [] },
      analyze: async () => {
        await new Promise((res) => setTimeout(res, 20));
        appendFileSync(p, Buffer.alloc(4096, 2)); // grows under the scanner
        return undefined;
      },
    });
    const mg009 = r.findings.filter((f) => f.ruleId === 'MG009');
    assert.ok(mg009.length > 0, `${name}: MG009 (got ${r.findings.map((f) => f.ruleId)})`);
    assert.match(mg009.map((f) => f.message).join(' '), /modified while it was scanned|changed size/);
  }
});

test('an unreadable file (chmod 000) is incomplete, never clean; as root reads still succeed', async () => {
  const dir = tempDir(after);
  const p = join(dir, 'locked.pkl');
  writeFileSync(p, 'data');
  chmodSync(p, 0);
  after(() => rmSync(p, { force: true }));
  const report = await scanPaths([dir]);
  const f = file(report, 'locked.pkl');
  if (isRoot) {
    // root ignores the mode bits: the file is read and hashed like any other.
    assert.equal(f.sha256.length, 64);
    assert.ok(!rules(f).includes('MG009'));
  } else {
    assert.deepEqual(rules(f), ['MG009']);
    assert.equal(f.verdict, 'incomplete');
    assert.match(f.findings[0]!.message, /EACCES/);
  }
});

test('an unreadable folder is reported incomplete instead of failing the whole scan', {
  skip: isRoot && 'root reads any folder',
}, async () => {
  // Not tempDir(): its removal would run first and fail on the locked folder.
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-'));
  mkdirSync(join(dir, 'locked'));
  writeFileSync(join(dir, 'locked', 'm.pkl'), 'x');
  writeFileSync(join(dir, 'ok.txt'), 'x');
  chmodSync(join(dir, 'locked'), 0);
  after(() => {
    chmodSync(join(dir, 'locked'), 0o755);
    rmSync(dir, { recursive: true, force: true });
  });
  const report = await scanPaths([dir]);
  const f = file(report, 'locked');
  assert.deepEqual(rules(f), ['MG009']);
  assert.equal(f.verdict, 'incomplete');
  assert.equal(file(report, 'ok.txt').verdict, 'pass');
});

test('maxFileBytes: a file over the limit is hashed but not analysed, and is incomplete naming the limit', async () => {
  const dir = tempDir(after);
  const p = join(dir, 'big.pkl');
  writeFileSync(p, Buffer.alloc(2 << 20, 0x41));
  const r = await scanFileOnDisk(p, 'big.pkl', dir, {
    settings: { limits: { ...DEFAULT_LIMITS, maxFileBytes: 1 << 20 }, allowGlobals: [] },
  });
  assert.deepEqual(
    r.findings.map((f) => f.ruleId),
    ['MG001'],
  );
  assert.match(r.findings[0]!.message, /maxFileBytes/);
  assert.equal(r.sha256, execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0]);
});

test('the sha256 of a large file (hashed on a worker thread) is right, and files scan concurrently in order', async () => {
  const dir = tempDir(after);
  const names: string[] = [];
  for (let i = 0; i < 12; i++) {
    const name = `f${String(i).padStart(2, '0')}.bin`;
    writeFileSync(join(dir, name), Buffer.alloc(i % 3 === 0 ? (9 << 20) + i : 100 + i, i));
    names.push(name);
  }
  const report = await scanPaths([dir]);
  assert.deepEqual(
    report.files.map((f) => f.path),
    names,
  );
  for (const f of report.files) {
    const expected = execFileSync('sha256sum', [join(dir, f.path)], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(f.sha256, expected, f.path);
  }
});
