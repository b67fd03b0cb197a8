import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { scanPaths } from '../../src/core/scan.js';
import { only, ruleIds, symbols, tempDir } from '../helpers.js';

// Python 3.11+ pickles an enum member as getattr(EnumClass, 'NAME') and a bound method as getattr(obj, 'name'):
// attribute reads, critical only when the result is called or handed to a trampoline.
const dir = tempDir(after);
const enc = (s: string) => Buffer.from(s, 'latin1');
const str = (s: string) => Buffer.concat([enc('X'), Buffer.from(Uint32Array.of(s.length).buffer), enc(s)]);
const GETATTR = enc('c__builtin__\ngetattr\n');
const ENUM = enc('ctransformers.trainer_utils\nIntervalStrategy\n');

async function scan(name: string, ...parts: Buffer[]) {
  const p = join(dir, name);
  writeFileSync(p, Buffer.concat([enc('\x80\x02'), ...parts, enc('.')]));
  return only(await scanPaths([p]));
}

test('getattr(AllowlistedEnum, "STEPS") is an enum member, not a dangerous call', async () => {
  const f = await scan('enum.pkl', GETATTR, ENUM, str('STEPS'), enc('\x86R'));
  assert.deepEqual(ruleIds(f), [], JSON.stringify(f.findings));
});

test('getattr on an unknown class reads an attribute: the class is an unknown name (a warning), not a call', async () => {
  const f = await scan('unknown.pkl', GETATTR, enc('cevil\nThing\n'), str('run'), enc('\x86R'));
  assert.equal(f.verdict, 'warn', JSON.stringify(f.findings));
  assert.deepEqual(ruleIds(f), ['MG106']);
  assert.ok(symbols(f, 'MG106').includes('evil.Thing'));
});

test('getattr with a dunder or private name on a class, or never called, still blocks', async () => {
  for (const [name, parts] of [
    ['dunder.pkl', [GETATTR, ENUM, str('__subclasses__'), enc('\x86R')]],
    ['bare.pkl', [GETATTR]],
    [
      'one-bad-of-two.pkl',
      [
        GETATTR,
        enc('q\x00'),
        ENUM,
        str('STEPS'),
        enc('\x86R0h\x00'),
        ENUM,
        str('_member_map_'),
        enc('\x86R'),
      ],
    ],
  ] as const) {
    const f = await scan(name, ...parts);
    assert.equal(f.verdict, 'block', `${name}: ${JSON.stringify(f.findings)}`);
    assert.ok(symbols(f, 'MG100').includes('builtins.getattr'), name);
  }
});

test('calling what getattr returned is a computed call (critical)', async () => {
  const f = await scan('called.pkl', GETATTR, ENUM, str('STEPS'), enc('\x86R)R'));
  assert.equal(f.verdict, 'block');
  assert.ok(ruleIds(f).includes('MG101'), JSON.stringify(f.findings));
});
