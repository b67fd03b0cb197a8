import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import { only, ruleIds, symbols, tempDir } from '../helpers.js';

// Classes whose effect is in their constructor (a download by model name, a config file read, Keras configs
// that deserialise marshal'd lambdas): calling the class is the gadget; reconstructing an instance the way
// whole-model pickles do (NEWOBJ or copyreg.__newobj__, then BUILD with its __dict__) runs only __new__ and
// __setstate__, so it is an unknown class (a warning), as any other.
const dir = tempDir(after);
const enc = (s: string) => Buffer.from(s, 'latin1');
const s = (x: string) => Buffer.concat([enc('\x8c'), Buffer.of(x.length), enc(x)]);
const sg = (m: string, n: string) => Buffer.concat([s(m), s(n), enc('\x93')]);

async function scan(name: string, ...parts: Buffer[]) {
  const p = join(dir, name);
  writeFileSync(p, Buffer.concat([enc('\x80\x04'), ...parts, enc('.')]));
  return only(await scanPaths([p]));
}

const ST = ['sentence_transformers.SentenceTransformer', 'SentenceTransformer'] as const;
const DENSE = ['keras.src.layers.core.dense', 'Dense'] as const;
const STATE = Buffer.concat([enc('}'), s('training'), enc('\x89'), enc('s')]);

test('calling a constructor gadget with arguments blocks (REDUCE, or through copyreg._reconstructor)', async () => {
  const called = await scan('st-called.pkl', sg(...ST), s('evil/model'), enc('\x85R'));
  assert.equal(called.verdict, 'block', JSON.stringify(called.findings));
  assert.ok(
    symbols(called, 'MG100').includes('sentence_transformers.SentenceTransformer.SentenceTransformer'),
  );

  // Keras: a layer constructed from a config whose initializer is a marshal'd lambda.
  const init = Buffer.concat([enc('}'), s('class_name'), s('__lambda__'), enc('s')]);
  const keras = await scan('keras-dense.pkl', sg(...DENSE), enc('('), enc('K\x01'), init, enc('tR'));
  assert.equal(keras.verdict, 'block', JSON.stringify(keras.findings));

  // copyreg._reconstructor(cls, base, state) calls base.__init__(obj, state).
  const viaBase = await scan(
    'st-reconstructor.pkl',
    sg('copyreg', '_reconstructor'),
    sg(...ST),
    sg(...ST),
    s('evil/model'),
    enc('\x87R'),
  );
  assert.equal(viaBase.verdict, 'block', JSON.stringify(viaBase.findings));
});

test('a constructor gadget reconstructed without calling it (NEWOBJ, copyreg.__newobj__) is an unknown class', async () => {
  const newobj = await scan('st-newobj.pkl', sg(...ST), enc(')\x81'), STATE, enc('b'));
  assert.equal(newobj.verdict, 'warn', JSON.stringify(newobj.findings));
  assert.deepEqual(ruleIds(newobj), ['MG106']);
  assert.ok(
    symbols(newobj, 'MG106').includes('sentence_transformers.SentenceTransformer.SentenceTransformer'),
  );

  const helper = await scan(
    'st-newobj-helper.pkl',
    sg('copyreg', '__newobj__'),
    sg(...ST),
    enc('\x85R'),
    STATE,
    enc('b'),
  );
  assert.equal(helper.verdict, 'warn', JSON.stringify(helper.findings));
  assert.deepEqual(ruleIds(helper), ['MG106']);
});

test('a constructor gadget handed to unknown code, or left for the loading program, blocks', async () => {
  const handed = await scan('st-handed.pkl', sg('mylib', 'build'), sg(...ST), enc('\x85R'));
  assert.equal(handed.verdict, 'block', JSON.stringify(handed.findings));
  const returned = await scan('st-returned.pkl', sg(...ST));
  assert.equal(returned.verdict, 'block', JSON.stringify(returned.findings));
});
