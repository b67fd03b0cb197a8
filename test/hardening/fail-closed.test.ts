// Fail closed everywhere: an exception inside a format module is an `incomplete` finding for that file and
// the other files are still scanned; a stuck analysis is abandoned at maxTimeMs (MG001 maxTimeMs); a
// synchronous loop ends the process non-zero; the CLI never exits 0 because of an internal error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { main } from '../../src/cli/main.js';
import { AnalysisContext, FileState } from '../../src/core/context.js';
import { analyzeSource, nestedScanner } from '../../src/core/engine.js';
import type { Analyzer } from '../../src/core/formats/analyzer.js';
import { ANALYZERS } from '../../src/core/formats/registry.js';
import { Budget, DEFAULT_LIMITS, type Limits } from '../../src/core/limits.js';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import { scanBuffer, scanFileOnDisk } from '../../src/core/scan-file.js';
import { bufferSource } from '../../src/core/source.js';
import { ROOT, tempDir } from '../helpers.js';

/** An analyzer for content starting with `magic` whose analysis does `run`. */
function fake(id: string, magic: string, run: (ctx: AnalysisContext) => Promise<void> | void): Analyzer {
  return {
    id,
    detect: (p) =>
      Buffer.from(p.head).toString('latin1').startsWith(magic)
        ? { format: 'pickle', strength: 'magic' }
        : undefined,
    analyze: async (ctx) => run(ctx),
  };
}

const limits = (o: Partial<Limits> = {}): Limits => ({ ...DEFAULT_LIMITS, ...o });

test('an exception inside a format module becomes MG003 naming the analyzer; other analyzers and files go on', async () => {
  const boom = fake('boom', 'BOOM', () => {
    throw new TypeError('cannot read properties of undefined');
  });
  const ok = fake('ok', 'BOOM', (ctx) => ctx.fact('ok-ran', true));
  const state = new FileState(
    { limits: DEFAULT_LIMITS, allowGlobals: [] },
    new Budget(DEFAULT_LIMITS),
    undefined,
  );
  const ctx = new AnalysisContext(
    state,
    bufferSource('x.pkl', Buffer.from('BOOM')),
    [],
    0,
    nestedScanner([boom]),
  );
  // Two strong detections: a polyglot, both analysed; the second still runs after the first throws.
  await analyzeSource(ctx, [
    boom,
    { ...ok, id: 'ok', detect: (_p) => ({ format: 'zip', strength: 'magic' }) },
  ]);
  const mg003 = state.findings.find((f) => f.ruleId === 'MG003');
  assert.ok(mg003, 'MG003 recorded');
  assert.match(mg003.message, /boom analyzer failed: TypeError: cannot read properties of undefined/);
  assert.equal(state.facts['ok-ran'], true);
});

test('an exception thrown by detect() is MG003 too, not an escape', async () => {
  const bad: Analyzer = {
    id: 'bad-detect',
    detect: () => {
      throw new RangeError('offset out of range');
    },
    analyze: async () => {},
  };
  const r = await scanBuffer('m.pt', Buffer.from('whatever'), {
    settings: { limits: DEFAULT_LIMITS, allowGlobals: [] },
    analyze: (ctx) => analyzeSource(ctx, [bad]),
  });
  assert.ok(r.findings.some((f) => f.ruleId === 'MG003' && /offset out of range/.test(f.message)));
});

test('an analysis that never settles is abandoned by the watchdog at maxTimeMs (MG001 maxTimeMs)', async () => {
  const stuck = fake('stuck', 'STUCK', (ctx) => {
    ctx.report('MG002', 'found before getting stuck');
    return new Promise<void>(() => {}); // awaits forever, never calls checkTime
  });
  const t0 = Date.now();
  const r = await scanBuffer('m.pkl', Buffer.from('STUCK'), {
    settings: { limits: limits({ maxTimeMs: 150 }), allowGlobals: [] },
    analyze: (ctx) => analyzeSource(ctx, [stuck]),
  });
  assert.ok(Date.now() - t0 < 5000, 'returned promptly');
  const mg001 = r.findings.find((f) => f.ruleId === 'MG001');
  assert.ok(mg001, 'MG001 recorded');
  assert.match(mg001.message, /maxTimeMs/);
  assert.ok(
    r.findings.some((f) => f.message === 'found before getting stuck'),
    'earlier findings kept',
  );
});

test('an async loop without checkpoints is abandoned, and its later checkTime() calls throw', async () => {
  let iterationsAfter = 0;
  let abandoned = false;
  const spin = fake('spin', 'SPIN', async (ctx) => {
    for (;;) {
      await new Promise((r) => setTimeout(r, 5));
      if (abandoned) {
        iterationsAfter++;
        ctx.checkTime(); // the aborted budget throws here, ending the orphaned loop
      }
    }
  });
  const r = await scanBuffer('m.pkl', Buffer.from('SPIN'), {
    settings: { limits: limits({ maxTimeMs: 100 }), allowGlobals: [] },
    analyze: (ctx) => analyzeSource(ctx, [spin]),
  });
  abandoned = true;
  assert.ok(r.findings.some((f) => f.ruleId === 'MG001' && /maxTimeMs/.test(f.message)));
  await new Promise((res) => setTimeout(res, 60));
  assert.equal(iterationsAfter, 1, 'the orphaned loop stopped at its first checkpoint');
});

test('an abandoned analysis that only reads its source (no checkpoints) stops at its next read', async () => {
  let readsAfter = 0;
  let abandoned = false;
  let stoppedBy: unknown;
  const reader = fake('reader', 'READ', async (ctx) => {
    try {
      for (;;) {
        await ctx.source.random!.read(0, 4);
        await new Promise((r) => setTimeout(r, 5));
        if (abandoned) readsAfter++;
      }
    } catch (e) {
      stoppedBy = e;
      throw e;
    }
  });
  const r = await scanBuffer('m.pkl', Buffer.from('READ'), {
    settings: { limits: limits({ maxTimeMs: 100 }), allowGlobals: [] },
    analyze: (ctx) => analyzeSource(ctx, [reader]),
  });
  abandoned = true;
  assert.ok(r.findings.some((f) => f.ruleId === 'MG001' && /maxTimeMs/.test(f.message)));
  await new Promise((res) => setTimeout(res, 80));
  assert.ok(readsAfter <= 1, `the orphaned reader stopped (${readsAfter} reads after)`);
  assert.match(String(stoppedBy), /maxTimeMs/);
});

test('findings added by an abandoned analysis after the deadline are not reported', async () => {
  const late = fake('late', 'LATE', async (ctx) => {
    await new Promise((r) => setTimeout(r, 400));
    ctx.report('MG002', 'too late');
  });
  const r = await scanBuffer('m.pkl', Buffer.from('LATE'), {
    settings: { limits: limits({ maxTimeMs: 50 }), allowGlobals: [] },
    analyze: (ctx) => analyzeSource(ctx, [late]),
  });
  await new Promise((res) => setTimeout(res, 500));
  assert.ok(!r.findings.some((f) => f.message === 'too late'));
});

test('a synchronous infinite loop in an analyzer ends the process non-zero instead of hanging the gate', () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'loop.pkl'), 'LOOP');
  const script = join(dir, 'run.mts');
  const u = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, p)).href);
  writeFileSync(
    script,
    `import { scanFileOnDisk } from ${u('src/core/scan-file.ts')};
     import { analyzeSource } from ${u('src/core/engine.ts')};
     import { DEFAULT_LIMITS } from ${u('src/core/limits.ts')};
     const loop = { id: 'loop', detect: () => ({ format: 'pickle', strength: 'magic' }),
       analyze: async () => { for (;;) {} } };
     await scanFileOnDisk(${JSON.stringify(join(dir, 'loop.pkl'))}, 'loop.pkl', ${JSON.stringify(dir)}, {
       settings: { limits: { ...DEFAULT_LIMITS, maxTimeMs: 200 }, allowGlobals: [] },
       analyze: (ctx) => analyzeSource(ctx, [loop]) });
     console.log('returned');`,
  );
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MODELGATE_WATCHDOG_MIN_STALL_MS: '1500' },
  });
  assert.notEqual(r.status, 0);
  assert.equal(r.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 < 30_000);
  assert.doesNotMatch(r.stdout, /returned/);
  assert.match(r.stderr, /loop\.pkl.*blocked the process/);
});

test('CLI: an internal error in one file makes that file incomplete (exit 2); the other files are scanned', async () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'a-crash.pkl'), 'MGBOOM payload');
  writeFileSync(join(dir, 'b-notes.txt'), 'just text');
  const list = ANALYZERS as Analyzer[];
  const boom = fake('test-boom', 'MGBOOM', () => {
    throw new Error('injected failure');
  });
  list.unshift(boom);
  let out = '';
  let code: number;
  try {
    code = await main(['scan', dir, '--format', 'json'], { stdout: (s) => (out += s), stderr: () => {} });
  } finally {
    list.splice(list.indexOf(boom), 1);
  }
  assert.equal(code, 2);
  const report = JSON.parse(out);
  assert.equal(report.verdict, 'incomplete');
  const crashed = report.files.find((f: { path: string }) => f.path === 'a-crash.pkl');
  assert.equal(crashed.verdict, 'incomplete');
  assert.ok(
    crashed.findings.some(
      (f: { ruleId: string; message: string }) => f.ruleId === 'MG003' && /injected failure/.test(f.message),
    ),
  );
  const other = report.files.find((f: { path: string }) => f.path === 'b-notes.txt');
  assert.equal(other.verdict, 'pass');
  assert.equal(other.sha256.length, 64);
});

test('CLI: a report that cannot be written is exit 3 (never 0), said before the scan', async () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'x.txt'), 'text');
  let err = '';
  const code = await main(['scan', dir, '--output', join(dir, 'no', 'such', 'dir', 'r.json')], {
    stdout: () => {},
    stderr: (s) => (err += s),
  });
  assert.equal(code, 3);
  assert.match(err, /the folder .* does not exist/);
});

test('the default policy blocks incomplete files: an internal error can never be a pass', async () => {
  const dir = tempDir(after);
  writeFileSync(join(dir, 'a.pkl'), 'MGBOOM');
  const list = ANALYZERS as Analyzer[];
  const boom = fake('test-boom2', 'MGBOOM', () => {
    throw new Error('x');
  });
  list.unshift(boom);
  try {
    const report = await scanPaths([dir], { policy: DEFAULT_POLICY });
    assert.equal(report.verdict, 'incomplete');
    assert.equal(report.blocked, true);
  } finally {
    list.splice(list.indexOf(boom), 1);
  }
});

test('scanFileOnDisk never rejects, whatever the injected analysis does', async () => {
  const dir = tempDir(after);
  const p = join(dir, 'f.bin');
  writeFileSync(p, 'data');
  const r = await scanFileOnDisk(p, 'f.bin', dir, {
    settings: { limits: DEFAULT_LIMITS, allowGlobals: [] },
    analyze: async () => {
      throw new Error('escaped');
    },
  });
  assert.ok(r.findings.some((f) => f.ruleId === 'MG003' && /escaped/.test(f.message)));
  assert.equal(r.sha256.length, 64);
});
