// Property-based tests (fast-check, fixed seeds): random and mutated bytes never crash or hang the pickle
// engine, and a malicious pickle truncated or corrupted anywhere after its call never passes silently.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../src/core/limits.js';
import { DEFAULT_POLICY, evaluateFile } from '../../src/core/policy/policy.js';
import { scanBuffer } from '../../src/core/scan-file.js';
import { FIXTURES } from '../helpers.js';

const limits = { ...DEFAULT_LIMITS, maxTimeMs: 10_000 };
const settings = { limits, allowGlobals: [] };

async function scan(name: string, data: Uint8Array) {
  const r = await scanBuffer(name, data, { settings });
  const ev = evaluateFile(
    r.findings,
    DEFAULT_POLICY,
    { path: name, sha256: r.sha256 },
    new Date('2026-01-01'),
  );
  return { ...r, verdict: ev.verdict, score: ev.score };
}

const fx = (p: string) => new Uint8Array(readFileSync(join(FIXTURES, 'pickle', p)));
const SEEDS = { seed: 20261122, numRuns: 150 };

test('random bytes behind a PROTO header never crash the engine (no internal errors)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 6 }),
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      async (proto, body) => {
        const data = new Uint8Array([0x80, proto, ...body]);
        const r = await scan('r.pkl', data);
        assert.ok(!r.findings.some((f) => f.ruleId === 'MG003'), JSON.stringify(r.findings));
      },
    ),
    SEEDS,
  );
});

test('random opcode soup (valid opcode bytes, random arguments) never crashes', async () => {
  const ops = [
    0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x52, 0x58, 0x61, 0x62, 0x63, 0x64, 0x65, 0x68, 0x6c, 0x71, 0x73,
    0x74, 0x75, 0x7d, 0x5d, 0x29, 0x81, 0x85, 0x86, 0x87, 0x8c, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
    0x97, 0x98, 0x51, 0x82, 0x4b,
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.constantFrom(...ops), fc.integer({ min: 0, max: 255 })), { maxLength: 400 }),
      async (bytes) => {
        const data = new Uint8Array([0x80, 0x04, ...bytes]);
        const r = await scan('s.pkl', data);
        assert.ok(!r.findings.some((f) => f.ruleId === 'MG003'), JSON.stringify(r.findings));
      },
    ),
    SEEDS,
  );
});

test('mutated benign fixtures never crash and never produce internal errors', async () => {
  const bases = [
    'benign/data_p0.pkl',
    'benign/data_p4.pkl',
    'benign/torch_state_dict_data.pkl',
    'benign/sk_logreg.joblib',
    'benign/numpy_arrays_p5.pkl',
  ].map(fx);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: bases.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      async (which, muts) => {
        const data = bases[which]!.slice();
        for (const [pos, v] of muts) data[pos % data.length] = v;
        const r = await scan('m.pkl', data);
        assert.ok(!r.findings.some((f) => f.ruleId === 'MG003'), JSON.stringify(r.findings));
      },
    ),
    { seed: 7, numRuns: 200 },
  );
});

test('a malicious pickle truncated anywhere after its call never passes silently', async () => {
  const cases = [
    'malicious/reduce_os_system_p0.pkl',
    'malicious/reduce_os_system_p2.pkl',
    'malicious/reduce_os_system_p4.pkl',
    'malicious/memo_decoy.pkl',
    'malicious/computed_codecs_rot13.pkl',
    'malicious/inst_exec.pkl',
    'malicious/nested_bytes.pkl',
  ].map((p) => ({ p, data: fx(p) }));
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: cases.length - 1 }), fc.nat(), async (which, cutSeed) => {
      const { p, data } = cases[which]!;
      // Cut anywhere from just after the first REDUCE/INST/OBJ to the end (STOP removed at least).
      const firstCall = data.findIndex((b, i) => i > 1 && (b === 0x52 || b === 0x69 || b === 0x6f));
      const from = firstCall + 1;
      const cut = from + (cutSeed % Math.max(1, data.length - 1 - from));
      const r = await scan('t.pkl', data.subarray(0, cut));
      assert.ok(r.verdict === 'block' || r.verdict === 'incomplete', `${p} cut at ${cut}: ${r.verdict}`);
      assert.notEqual(r.verdict, 'pass');
    }),
    { seed: 99, numRuns: 200 },
  );
});

test('a malicious pickle with junk appended or bytes flipped after its payload still blocks', async () => {
  const base = fx('malicious/reduce_os_system_p2.pkl');
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), async (junk) => {
      const data = new Uint8Array([...base.subarray(0, base.length - 1), ...junk]);
      const r = await scan('j.pkl', data);
      assert.equal(r.verdict, 'block');
    }),
    { seed: 3, numRuns: 100 },
  );
});
