import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnalysisContext, FileState } from '../../src/core/context.js';
import { analyzeSource, nestedScanner, scanNested } from '../../src/core/engine.js';
import type { Analyzer } from '../../src/core/formats/analyzer.js';
import { Budget, DEFAULT_LIMITS } from '../../src/core/limits.js';
import { bufferSource } from '../../src/core/source.js';

function context(name: string, bytes: string, limits = DEFAULT_LIMITS) {
  const state = new FileState({ limits, allowGlobals: [] }, new Budget(limits), undefined);
  const ctx = new AnalysisContext(state, bufferSource(name, Buffer.from(bytes, 'latin1')), [], 0, scanNested);
  return { state, ctx };
}

const startsWith = (
  prefix: string,
  format: 'pickle' | 'zip',
  strength: 'magic' | 'name' = 'magic',
): Analyzer => ({
  id: `fake-${format}`,
  detect: (p) =>
    Buffer.from(p.head).toString('latin1').startsWith(prefix) ? { format, strength } : undefined,
  analyze: async (ctx) => ctx.fact(`${format}-seen`, true),
});

test('two strong detections by different analyzers are a polyglot, and both readings are analysed', async () => {
  const { state, ctx } = context('x.bin', 'AB rest');
  await analyzeSource(ctx, [startsWith('A', 'pickle'), startsWith('AB', 'zip')]);
  assert.deepEqual(
    state.findings.map((f) => f.ruleId),
    ['MG006'],
  );
  assert.equal(state.facts['pickle-seen'], true);
  assert.equal(state.facts['zip-seen'], true);
});

test('a name-only detection does not make a polyglot and yields to a strong one', async () => {
  const { state, ctx } = context('x.bin', 'AB');
  await analyzeSource(ctx, [startsWith('A', 'pickle', 'name'), startsWith('AB', 'zip')]);
  assert.deepEqual(state.findings, []);
  assert.equal(state.format, 'zip');
  assert.equal(state.facts['pickle-seen'], undefined);
});

test('an analyzer that throws leaves an incomplete finding naming it, and others still run', async () => {
  const boom: Analyzer = {
    id: 'boom',
    detect: () => ({ format: 'pickle', strength: 'magic' }),
    analyze: async () => {
      throw new TypeError('bad thing');
    },
  };
  const { state, ctx } = context('x.pkl', 'AB');
  await analyzeSource(ctx, [boom, startsWith('AB', 'zip')]);
  const ids = state.findings.map((f) => f.ruleId).sort();
  assert.deepEqual(ids, ['MG003', 'MG006']);
  assert.match(
    state.findings.find((f) => f.ruleId === 'MG003')!.message,
    /boom analyzer failed: TypeError: bad thing/,
  );
  assert.equal(state.facts['zip-seen'], true);
});

test('content that disagrees with a model extension is reported', async () => {
  const { state, ctx } = context('weights.safetensors', 'A');
  await analyzeSource(ctx, [startsWith('A', 'pickle')]);
  assert.deepEqual(
    state.findings.map((f) => [f.ruleId, f.message]),
    [['MG005', 'The name ends in .safetensors but the content is pickle.']],
  );
});

test('nested scans prefix the member chain and stop at the depth limit', async () => {
  const limits = { ...DEFAULT_LIMITS, maxDepth: 2 };
  // An analyzer that nests its own content again, forever (a quine-like archive).
  const recursive: Analyzer = {
    id: 'rec',
    detect: () => ({ format: 'zip', strength: 'magic' }),
    analyze: async (ctx) => {
      ctx.report('MG005', 'marker');
      await ctx.scanNested(ctx.source, 'inner');
    },
  };
  const state = new FileState({ limits, allowGlobals: [] }, new Budget(limits), undefined);
  const root = new AnalysisContext(
    state,
    bufferSource('outer.zip', Buffer.from('PK')),
    [],
    0,
    nestedScanner([recursive]),
  );
  await analyzeSource(root, [recursive]);
  const members = state.findings.map((f) => `${f.ruleId}@${f.location.member ?? ''}`);
  assert.deepEqual(members, ['MG005@', 'MG005@inner', 'MG005@inner!inner', 'MG001@inner!inner!inner']);
  assert.match(state.findings.at(-1)!.message, /maxDepth/);
});
