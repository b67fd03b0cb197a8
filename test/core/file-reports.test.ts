import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileReports } from '../../src/core/report/file-reports.js';
import { renderJson } from '../../src/core/report/json.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport, Verdict } from '../../src/core/types.js';
import { walk } from '../../src/core/walk.js';
import { WalkList } from '../../src/core/walk-list.js';
import { FIXTURES } from '../helpers.js';

const VERDICT: Verdict[] = ['pass', 'warn', 'block', 'incomplete'];

/** Reports of varied sizes and text: multi-byte paths, control characters, one far larger than a read block. */
function report(i: number): FileReport {
  const big = i === 37 ? 'x'.repeat(600_000) : '';
  return {
    path: `d${i % 7}/模型-${i}-é\u2028😀.pkl`,
    format: i % 3 === 0 ? 'pickle' : 'safetensors',
    size: i * 1000,
    sha256: i % 5 === 0 ? '' : i.toString(16).padStart(64, 'a'),
    verdict: VERDICT[i % 4]!,
    score: i % 101,
    severity: 'none',
    scoreBreakdown: i % 2 ? { MG001: i } : {},
    findings: Array.from({ length: i % 4 }, (_, k) => ({
      ruleId: 'MG005',
      severity: 'medium' as const,
      score: 30,
      message: `finding ${k} of ${i}${big}`,
      location: { member: `m${k}`, offset: k },
    })),
    ...(i % 6 === 0 ? { facts: { n: i, list: [1, 'two', { three: null }] } } : {}),
  };
}

const plain = (r: FileReport) => JSON.parse(JSON.stringify(r)) as FileReport;
const spillDirs = () => readdirSync(tmpdir()).filter((n) => n.startsWith('modelgate-reports-'));

for (const memoryBytes of [4 * 2 ** 20, 4096, 0]) {
  test(`file reports held in ${memoryBytes} bytes of memory read back exactly, in any order, and replace`, () => {
    const before = spillDirs();
    const all = Array.from({ length: 400 }, (_, i) => report(i));
    const store = new FileReports({ memoryBytes });
    // Stored out of order, as concurrent scans finish.
    for (let i = 0; i < all.length; i += 2) store.set(i + 1, all[i + 1]!);
    for (let i = 0; i < all.length; i += 2) store.set(i, all[i]!);
    assert.equal(store.length, 400);
    assert.deepEqual([...store], all.map(plain));
    for (const i of [399, 0, 37, 200, 38, 36, 1]) assert.deepEqual(store.at(i), plain(all[i]!));
    assert.deepEqual(store.at(-1), plain(all[399]!));
    assert.equal(store.at(400), undefined);
    assert.deepEqual(store.head(10), {
      verdict: 'block',
      score: 10,
      format: 'safetensors',
      size: 10_000,
      sha256: '',
      findings: 2,
    });
    assert.equal(store.head(11).sha256, all[11]!.sha256);
    const counts = { pass: 100, warn: 100, block: 100, incomplete: 100 };
    assert.deepEqual(store.summary(), { verdict: 'block', maxScore: 100, counts });
    // A read-back report is a copy; storing it again replaces the report and its head.
    const changed = store.at(5)!;
    changed.verdict = 'block';
    changed.findings = [];
    assert.equal(store.at(5)!.verdict, all[5]!.verdict);
    store.set(5, changed);
    assert.deepEqual(store.at(5), changed);
    assert.equal(store.head(5).findings, 0);
    assert.deepEqual(store.at(6), plain(all[6]!));
    assert.equal(store.summary().counts.block, 101);
    // What JSON writes of a report's files is the list.
    assert.deepEqual(JSON.parse(JSON.stringify({ files: store })).files.length, 400);
    // Ordered by path, as the walk orders entries (code units), every report unchanged.
    const sorted = store.sortedByPath();
    const byPath = [...store].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    assert.deepEqual([...sorted], byPath);
    assert.deepEqual(sorted.summary(), store.summary());
    // Nothing is left in the temporary folder: the log is removed as soon as it is opened.
    assert.deepEqual(spillDirs(), before);
    store.close();
  });
}

test('with no writable temporary folder the reports stay in memory and the scan goes on', (t) => {
  const tmp = process.env.TMPDIR;
  t.after(() => {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  });
  process.env.TMPDIR = join(tmpdir(), 'modelgate-no-such-folder', 'x');
  const all = Array.from({ length: 300 }, (_, i) => report(i));
  const store = FileReports.from(all, { memoryBytes: 1000 });
  assert.deepEqual([...store], all.map(plain));
  assert.deepEqual(store.at(37), plain(all[37]!));
});

test('a report index never stored is an error, not a report; indices are natural numbers', () => {
  const store = new FileReports({ memoryBytes: 0 });
  store.set(2, report(2));
  assert.throws(() => store.at(0), /file report 0 of 3 was never stored/);
  assert.throws(() => store.summary(), /never stored/);
  assert.throws(() => store.set(-1, report(1)), /natural number/);
  assert.throws(() => store.set(1.5, report(1)), /natural number/);
  assert.throws(() => store.head(3), /no file report 3: the store holds 3/);
  assert.throws(() => store.head(-1), /no file report -1/);
});

test('a scan whose reports move to a temporary file reports exactly what one held in memory reports', async () => {
  const paths = [join(FIXTURES, 'pickle'), join(FIXTURES, 'huggingface'), join(FIXTURES, 'onnx')];
  const now = new Date('2026-01-01T00:00:00Z');
  const inMemory = await scanPaths(paths, { now });
  const spilled = await scanPaths(paths, { now, reportMemoryBytes: 0 });
  assert.ok(inMemory.files.length > 100, `${inMemory.files.length} files`);
  assert.equal(renderJson(spilled), renderJson(inMemory));
  assert.ok(
    inMemory.files.some((f) => f.verdict === 'block'),
    'not vacuous: the fixtures hold attacks',
  );
});

test('walked entries held compactly come back as they were walked, links and skipped paths included', async () => {
  const entries = [
    ...(await walk(FIXTURES)),
    ...(await walk(join(FIXTURES, 'pickle', 'benign', 'data_p4.pkl'))),
  ];
  assert.ok(entries.length > 300);
  const list = WalkList.from(entries);
  assert.equal(list.length, entries.length);
  assert.deepEqual([...list], entries);
  assert.deepEqual(list.at(-1), entries.at(-1));
  assert.equal(list.at(entries.length), undefined);
  assert.deepEqual(
    [...list.filter((e) => e.relPath.endsWith('.pkl'))],
    entries.filter((e) => e.relPath.endsWith('.pkl')),
  );
});
