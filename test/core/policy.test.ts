import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combinedScore, DEFAULT_POLICY, evaluateFile, type Policy } from '../../src/core/policy/policy.js';
import type { Finding } from '../../src/core/types.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const file = { path: 'models/a.pkl', sha256: 'ab'.repeat(32) };

function finding(ruleId: string, score: number, symbol?: string): Finding {
  return { ruleId, severity: 'medium', score, message: 'm', location: symbol ? { symbol } : {} };
}

test('score: each named part counted once at its highest; the worst part plus half the others, within its severity band', () => {
  const ev = evaluateFile(
    [finding('MG005', 30), finding('MG005', 20), finding('MG006', 60, 'x'), finding('MG006', 60, 'y')],
    DEFAULT_POLICY,
    file,
    NOW,
  );
  assert.deepEqual(ev.scoreBreakdown, { 'polyglot:x': 60, 'polyglot:y': 60, extension_mismatch: 30 });
  // 60 + (60 + 30) / 2 = 105, kept in the high band: two dangers rank above one, a high never turns critical.
  assert.equal(ev.score, 79);
  assert.equal(ev.severity, 'high');
  assert.equal(ev.verdict, 'block');
  assert.equal(combinedScore([60]), 60);
  assert.equal(combinedScore([60, 10]), 65);
  assert.equal(combinedScore([100, 60]), 100);
  assert.equal(combinedScore([]), 0);
});

test('many medium or low findings in one file rank it higher but never add up to a block (default maxScore)', () => {
  const mediums = ['a', 'b', 'c', 'd', 'e', 'f'].map((s) => finding('MG006', 30, s));
  const ev = evaluateFile(mediums, DEFAULT_POLICY, file, NOW);
  assert.equal(ev.score, 49);
  assert.equal(ev.severity, 'medium');
  assert.equal(ev.verdict, 'warn');
  assert.equal(
    evaluateFile([finding('MG006', 30, 'a'), finding('MG006', 30, 'b')], DEFAULT_POLICY, file, NOW).score,
    45,
  );
  const lows = ['a', 'b', 'c', 'd'].map((s) => finding('MG006', 10, s));
  assert.equal(evaluateFile(lows, DEFAULT_POLICY, file, NOW).score, 19);
  // A policy that lowers maxScore under the medium band still sees the sum within it.
  assert.equal(
    evaluateFile(mediums.slice(0, 2), { ...DEFAULT_POLICY, maxScore: 40 }, file, NOW).verdict,
    'block',
  );
});

test('verdicts: warn under the threshold, incomplete for an incomplete finding, pass for nothing', () => {
  assert.equal(evaluateFile([finding('MG005', 30)], DEFAULT_POLICY, file, NOW).verdict, 'warn');
  assert.equal(evaluateFile([finding('MG002', 0)], DEFAULT_POLICY, file, NOW).verdict, 'incomplete');
  assert.equal(evaluateFile([], DEFAULT_POLICY, file, NOW).verdict, 'pass');
  // A block outranks incomplete: the file is known to be dangerous.
  assert.equal(
    evaluateFile([finding('MG002', 0), finding('MG006', 60)], DEFAULT_POLICY, file, NOW).verdict,
    'block',
  );
});

test('waivers apply by rule, glob and sha256 until they expire', () => {
  const policy: Policy = {
    ...DEFAULT_POLICY,
    waivers: [
      { ruleId: 'MG006', path: 'models/**', reason: 'reviewed', expires: '2026-12-31' },
      {
        ruleId: 'MG005',
        path: 'models/*.pkl',
        sha256: 'cd'.repeat(32),
        reason: 'other bytes',
        expires: '2027-01-01',
      },
      { ruleId: 'MG002', path: '**', reason: 'old', expires: '2026-01-01' },
    ],
  };
  const ev = evaluateFile(
    [finding('MG006', 60), finding('MG005', 30), finding('MG002', 0)],
    policy,
    file,
    NOW,
  );
  assert.deepEqual(
    ev.findings.map((f) => [f.ruleId, Boolean(f.waived)]),
    [
      ['MG006', true],
      ['MG005', false],
      ['MG002', false],
    ],
  );
  assert.equal(ev.score, 30);
  assert.equal(ev.verdict, 'incomplete');
  assert.deepEqual(
    ev.expiredWaivers.map((w) => w.ruleId),
    ['MG002'],
  );
});
