// The sha256 in a report must describe the bytes analysed: a file rewritten in place while it is scanned
// (same size, mtime put back) is incomplete (MG009). The rewrite happens through the scanner's analyze seam,
// at a known point of the scan, not by racing it.
import assert from 'node:assert/strict';
import { closeSync, openSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AnalysisContext } from '../../src/core/context.js';
import { analyzeSource } from '../../src/core/engine.js';
import { DEFAULT_LIMITS } from '../../src/core/limits.js';
import { scanFileOnDisk } from '../../src/core/scan-file.js';
import { tempDir } from '../helpers.js';

const BENIGN = Buffer.from('\x80\x02}q\x00.', 'latin1');
const EVIL = Buffer.from(
  '\x80\x02cposix\nsystem\nq\x00X\x07\x00\x00\x00echo hiq\x01\x85q\x02Rq\x03.',
  'latin1',
);

/** Waits until the clock that stamps ctime has moved past `p`'s ctime (a condition, not a duration). */
async function ctimeTicked(dir: string, p: string): Promise<void> {
  const probe = join(dir, 'probe');
  for (;;) {
    writeFileSync(probe, 'x');
    if (statSync(probe, { bigint: true }).ctimeNs > statSync(p, { bigint: true }).ctimeNs) return;
    await new Promise((r) => setImmediate(r));
  }
}

test('a file rewritten in place during the scan (same size, mtime restored) is incomplete (MG009)', async () => {
  const dir = tempDir(after);
  // Small files are read whole at once; large ones (over 8 MiB) are hashed on a worker thread meanwhile.
  for (const [name, size] of [
    ['small.pkl', 4096],
    ['large.pkl', 9 << 20],
  ] as const) {
    const p = join(dir, name);
    const original = Buffer.alloc(size, 0x20);
    BENIGN.copy(original);
    writeFileSync(p, original);
    utimesSync(p, 1_700_000_000, 1_700_000_000); // whole seconds: restored exactly below
    await ctimeTicked(dir, p);
    const before = statSync(p, { bigint: true });
    let rewrites = 0;
    const r = await scanFileOnDisk(p, name, dir, {
      settings: { limits: DEFAULT_LIMITS, allowGlobals: [] },
      analyze: async (ctx: AnalysisContext) => {
        // Same size, other bytes, same inode, mtime put back: what a careful swap would look like.
        const fd = openSync(p, 'r+');
        writeSync(fd, EVIL, 0, EVIL.length, 0);
        closeSync(fd);
        utimesSync(p, 1_700_000_000, 1_700_000_000);
        rewrites++;
        return analyzeSource(ctx);
      },
    });
    const now = statSync(p, { bigint: true });
    assert.equal(rewrites, 1);
    assert.equal(now.size, before.size, 'same size');
    assert.equal(now.mtimeNs, before.mtimeNs, 'same mtime');
    assert.equal(now.ino, before.ino, 'same inode');
    const mg009 = r.findings.filter((f) => f.ruleId === 'MG009');
    assert.ok(mg009.length > 0, `${name}: MG009 expected, got ${r.findings.map((f) => f.ruleId)}`);
    assert.match(mg009[0]!.message, /modified while it was scanned/);
    assert.match(mg009[0]!.message, /ctime/);
  }
});

test('an untouched file has no MG009 and its sha256 is the file', async () => {
  const dir = tempDir(after);
  const p = join(dir, 'still.pkl');
  const data = Buffer.alloc(9 << 20, 0x20);
  BENIGN.copy(data);
  writeFileSync(p, data);
  const r = await scanFileOnDisk(p, 'still.pkl', dir, {
    settings: { limits: DEFAULT_LIMITS, allowGlobals: [] },
  });
  assert.ok(!r.findings.some((f) => f.ruleId === 'MG009'), JSON.stringify(r.findings));
  const { createHash } = await import('node:crypto');
  assert.equal(r.sha256, createHash('sha256').update(data).digest('hex'));
});
