// The pickle memo and the retention policy past its budget: two bits per entry of plain data, kept values
// by index, a memory budget (not a count), and the names a later STACK_GLOBAL needs still there.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AnalysisContext, FileState } from '../../src/core/context.js';
import { scanNested } from '../../src/core/engine.js';
import { scanPickle } from '../../src/core/formats/pickle/index.js';
import { Memo } from '../../src/core/formats/pickle/memo.js';
import { DROPPED } from '../../src/core/formats/pickle/values.js';
import { Budget, BudgetExceededError, DEFAULT_LIMITS, type Limits } from '../../src/core/limits.js';
import { ByteReader } from '../../src/core/reader.js';
import { type ByteSource, bufferSource, streamSource } from '../../src/core/source.js';

function context(data: Uint8Array, limits: Partial<Limits> = {}) {
  const l = { ...DEFAULT_LIMITS, ...limits };
  const state = new FileState({ limits: l, allowGlobals: [] }, new Budget(l), undefined);
  return { state, ctx: new AnalysisContext(state, bufferSource('t.pkl', data), [], 0, scanNested) };
}

test('memo: kept values, presence-only entries and absent ones, at any index', () => {
  const m = new Memo(64 << 20);
  const indices = [0, 1, 4095, 4096, 2 ** 26 + 3, 2 ** 31, 2 ** 32 - 1, 2 ** 40];
  for (const [i, idx] of indices.entries()) m.put(idx, `v${i}`, i % 2 === 0);
  for (const [i, idx] of indices.entries())
    assert.equal(m.get(idx), i % 2 === 0 ? `v${i}` : DROPPED, String(idx));
  assert.equal(m.count, indices.length);
  for (const idx of [2, 4097, 2 ** 26 + 4, 2 ** 32 - 2, 2 ** 40 + 1, -1]) assert.equal(m.get(idx), undefined);
  // Overwriting keeps the count (len(memo)) and the latest value.
  m.put(4096, null, true);
  m.put(0, 'x', false);
  assert.equal(m.get(4096), null);
  assert.equal(m.get(0), DROPPED);
  assert.equal(m.count, indices.length);
});

test('memo: plain entries cost two bits each, and the budget is memory, not a count', () => {
  const m = new Memo(1 << 20);
  for (let i = 0; i < 4_000_000; i++) m.put(i, i, false); // 1 MB of tags: just fits
  assert.equal(m.count, 4_000_000);
  assert.ok(m.bytes <= 1 << 20, String(m.bytes));
  assert.throws(
    () => {
      for (let i = 4_000_000; i < 5_000_000; i++) m.put(i, i, false);
    },
    (e: unknown) => e instanceof BudgetExceededError && e.limit === 'maxMemo',
  );
});

/** LONG_BINGET i */
const get = (i: number) => [0x6a, i & 255, (i >> 8) & 255, (i >> 16) & 255, 0];
/** SHORT_BINUNICODE s */
const str = (s: string) => [0x8c, s.length, ...Buffer.from(s)];
/** SHORT_BINUNICODE s, MEMOIZE (as the pickler writes a str) */
const text = (s: string) => [...str(s), 0x94];

/** proto 4, a list of n (int, str, float) tuples as pickle.dump writes them, then extra opcodes and STOP. */
function tuples(n: number, tail: number[], head: number[] = []): Uint8Array {
  const b: number[] = [0x80, 4, 0x5d, 0x94, ...head, 0x28];
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 999) b.push(0x65, 0x28);
    const s = `s${i}`;
    b.push(0x4a, i & 255, (i >> 8) & 255, (i >> 16) & 255, 0, 0x8c, s.length, ...Buffer.from(s), 0x94);
    b.push(0x47, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x87, 0x94);
  }
  return Uint8Array.from([...b, ...tail, 0x65, 0x2e]);
}

test('past the retention budget: a name memoised early still reaches STACK_GLOBAL, a GET of a value not kept is legal', async () => {
  // 'os' and 'system' memoised first (entries 1 and 2), 20k tuples (40k entries) later fetched by BINGET.
  const head = [0x8c, 2, ...Buffer.from('os'), 0x94, 0x8c, 6, ...Buffer.from('system'), 0x94, 0x30, 0x30];
  const call = [0x68, 1, 0x68, 2, 0x93, 0x8c, 2, ...Buffer.from('hi'), 0x85, 0x52];
  const { ctx, state } = context(tuples(20_000, call, head));
  const r = await scanPickle(ctx, new ByteReader(ctx.source), { maxRetained: 1000, value: false });
  assert.equal(r.broken, undefined);
  assert.ok(
    state.findings.some((f) => f.ruleId === 'MG100' && f.location.symbol === 'os.system'),
    state.findings.map((f) => f.message).join('\n'),
  );
  // The entry of a late tuple was not kept; fetching it is still what the unpickler does without error.
  const late = tuples(20_000, get(39_000));
  const t = context(late);
  const v = await scanPickle(t.ctx, new ByteReader(t.ctx.source), { maxRetained: 1000 });
  assert.equal(v.broken, undefined);
  assert.equal(t.state.findings.length, 0);
});

test('a name memoised past the retention budget is not guessed: the import is unknown and the scan incomplete', async () => {
  const names = [0x8c, 2, ...Buffer.from('os'), 0x94, 0x8c, 6, ...Buffer.from('system'), 0x94];
  // Entries: 0 the list, 1..40000 the tuples' strings and tuples, then 'os' (40001) and 'system' (40002).
  const tail = [...names, 0x30, 0x30, ...get(40_001), ...get(40_002), 0x93, 0x29, 0x52];
  const { ctx, state } = context(tuples(20_000, tail));
  await scanPickle(ctx, new ByteReader(ctx.source), { maxRetained: 1000, value: false });
  assert.ok(state.findings.some((f) => f.ruleId === 'MG001' && f.message.includes('maxMemo')));
  assert.ok(!state.findings.some((f) => f.location.symbol === 'os.system'));
});

/** A stream-only source delivering `data` in small irregular chunks (the window moves every few bytes). */
function chunked(data: Uint8Array, sizes: number[]): ByteSource {
  return streamSource(
    't.pkl',
    async function* () {
      for (let p = 0, i = 0; p < data.length; i++) {
        const n = sizes[i % sizes.length]!;
        yield data.slice(p, p + n);
        p += n;
      }
    },
    data.length,
  );
}

async function findingsOf(source: ByteSource, maxRetained: number) {
  const l = { ...DEFAULT_LIMITS };
  const state = new FileState({ limits: l, allowGlobals: [] }, new Budget(l), undefined);
  const ctx = new AnalysisContext(state, source, [], 0, scanNested);
  const r = await scanPickle(ctx, new ByteReader(source), { maxRetained, allStreams: true });
  return { broken: r.broken?.reason, findings: state.findings.map((f) => [f.ruleId, f.message, f.location]) };
}

test('past the retention budget short strs are decoded when read: the same findings as decoding them at once', async () => {
  // With no retention budget every short str is pushed undecoded by the hot loop (a whole buffer), while a
  // source that arrives in a few bytes at a time sends the same strs through the general loop, which decodes
  // them at once; undecoded strs left on the stack are decoded before each window move.
  const files = readdirSync('test/fixtures/pickle', { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.pkl'))
    .map((f) => join('test/fixtures/pickle', f));
  assert.ok(files.length > 200, String(files.length));
  let critical = 0;
  for (const f of files) {
    const data = new Uint8Array(readFileSync(f));
    const whole = await findingsOf(bufferSource('t.pkl', data), 0);
    const pieces = await findingsOf(chunked(data, [3, 1, 7, 2, 13]), 0);
    assert.deepEqual(pieces, whole, f);
    if (whole.findings.some(([id]) => id === 'MG100' || id === 'MG101')) critical++;
  }
  assert.ok(critical > 50, `${critical} fixtures with a dangerous import or call`);
});

test('an instance memoised past the retention budget is not kept, and calling it later is still a computed call', async () => {
  // collections.OrderedDict() memoised as entry 40001 (past the budget: not kept), fetched and called.
  const make = [...str('collections'), ...str('OrderedDict'), 0x93, 0x29, 0x52, 0x94];
  const called = [...make, ...get(40_001), 0x29, 0x52, 0x30, 0x30];
  const { ctx, state } = context(tuples(20_000, called));
  const r = await scanPickle(ctx, new ByteReader(ctx.source), { maxRetained: 1000, value: false });
  assert.equal(r.broken, undefined);
  assert.ok(
    state.findings.some((f) => f.ruleId === 'MG101' && f.severity === 'critical'),
    state.findings.map((f) => `${f.ruleId} ${f.message}`).join('\n'),
  );
  // Fetched as data (an item of the list: the final APPENDS), the same instance is nothing to report.
  const appended = [...make, 0x30, ...get(40_001)];
  const t = context(tuples(20_000, appended));
  await scanPickle(t.ctx, new ByteReader(t.ctx.source), { maxRetained: 1000, value: false });
  assert.deepEqual(
    t.state.findings.map((f) => f.ruleId),
    [],
  );
});

test('past the retention budget a module str fetched again for the next global of its module still names it', async () => {
  // CPython memoises `os` and `getcwd` as it writes the first global, then fetches the same `os` str object
  // for the next one: `BINGET os`, `system`, STACK_GLOBAL (a large pandas pickle's Index after its columns).
  const tail = [
    ...text('os'),
    ...text('getcwd'),
    0x93,
    0x94,
    0x30,
    ...get(40_001),
    ...text('system'),
    0x93,
    0x94,
    0x30,
  ];
  const { ctx, state } = context(tuples(20_000, tail));
  await scanPickle(ctx, new ByteReader(ctx.source), { maxRetained: 1000, value: false });
  const ids = state.findings.map((f) => `${f.ruleId} ${f.location.symbol}`);
  assert.ok(ids.includes('MG100 os.system'), ids.join('\n'));
  assert.ok(!ids.some((i) => i.startsWith('MG001')), ids.join('\n'));
});

test('past the retention budget a tuple holding a global is kept whole: _reconstruct still names its class', async () => {
  const global = (m: string, n: string) => [...text(m), ...text(n), 0x93, 0x94];
  const tail = [
    ...global('numpy.core.multiarray', '_reconstruct'),
    ...global('numpy', 'ndarray'),
    0x4b,
    0,
    0x85,
    0x94, // (0,)
    0x43,
    1,
    0x62,
    0x94, // b'b'
    0x87,
    0x94,
    0x52,
    0x94,
    0x30,
  ];
  const { ctx, state } = context(tuples(20_000, tail));
  await scanPickle(ctx, new ByteReader(ctx.source), { maxRetained: 1000, value: false });
  assert.deepEqual(
    state.findings.map((f) => f.ruleId),
    [],
  );
});

test('past the retention budget an instance fetched again as a STACK_GLOBAL operand is a computed name', async () => {
  // str('os') is a call: its result memoised past the budget (not kept) and given to STACK_GLOBAL later is a
  // module name computed at load time (MG102), not a forgotten str (MG001 only).
  const computed = [
    ...text('builtins'),
    ...text('str'),
    0x93,
    0x94,
    ...text('os'),
    0x85,
    0x94,
    0x52,
    0x94,
    0x30,
  ];
  // Entries: 40001 builtins, 40002 str, 40003 the global, 40004 'os', 40005 the tuple, 40006 the result.
  const tail = [...computed, ...get(40_006), ...text('system'), 0x93, 0x94, 0x30];
  const { ctx, state } = context(tuples(20_000, tail));
  await scanPickle(ctx, new ByteReader(ctx.source), { maxRetained: 1000, value: false });
  const found = state.findings.map((f) => `${f.ruleId} ${f.severity}`);
  assert.ok(found.includes('MG102 critical'), found.join('\n'));
});
