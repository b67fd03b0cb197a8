import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_POLICY, evaluateFile, type Policy } from '../../src/core/policy/policy.js';
import type { Finding } from '../../src/core/types.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const file = { path: 'models/a.pkl', sha256: 'ab'.repeat(32) };

function finding(ruleId: string, score: number, symbol?: string): Finding {
  return { ruleId, severity: 'medium', score, message: 'm', location: symbol ? { symbol } : {} };
}

test('score is the sum of named parts, each part counted once at its highest, capped at 100', () => {
  const ev = evaluateFile(
    [finding('MG005', 30), finding('MG005', 20), finding('MG006', 60, 'x'), finding('MG006', 60, 'y')],
    DEFAULT_POLICY,
    file,
    NOW,
  );
  assert.deepEqual(ev.scoreBreakdown, { 'polyglot:x': 60, 'polyglot:y': 60, extension_mismatch: 30 });
  assert.equal(ev.score, 100);
  assert.equal(ev.severity, 'critical');
  assert.equal(ev.verdict, 'block');
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
