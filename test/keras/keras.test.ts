import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { analyzeKerasConfig } from '../../src/core/formats/keras/config.js';
import { parsePythonJson } from '../../src/core/formats/keras/json.js';
import { summarizeCode } from '../../src/core/formats/keras/marshal.js';
import { scanPaths } from '../../src/core/scan.js';
import type { FileReport } from '../../src/core/types.js';
import { FIXTURES, only } from '../helpers.js';

const DIR = join(FIXTURES, 'keras');

async function scan(name: string): Promise<FileReport> {
  return only(await scanPaths([join(DIR, name)]));
}

function lowOnly(f: FileReport): void {
  const high = f.findings.filter((x) => !['none', 'low'].includes(x.severity));
  assert.deepEqual(high, [], `${f.path}: ${JSON.stringify(f.findings, null, 1)}`);
  assert.ok(f.verdict === 'pass' || f.verdict === 'warn', f.verdict);
}

function finding(f: FileReport, ruleId: string, symbolPart?: string) {
  const x = f.findings.find(
    (y) =>
      y.ruleId === ruleId && (symbolPart === undefined || (y.location.symbol ?? '').includes(symbolPart)),
  );
  assert.ok(
    x,
    `${f.path}: expected ${ruleId}${symbolPart ? ` at ${symbolPart}` : ''}, got ${JSON.stringify(f.findings, null, 1)}`,
  );
  return x;
}

for (const name of ['benign.keras', 'benign_lookup.keras']) {
  test(`benign ${name} passes with nothing above low`, async () => {
    const f = await scan(name);
    assert.equal(f.format, 'keras');
    lowOnly(f);
    assert.equal(f.facts?.['keras.version'], '3.8.0');
  });
}

const CASES: Array<[string, string, string, RegExp?]> = [
  ['lambda.keras', 'MG520', 'lambda(Lambda)/__lambda__:config.code', /__import__.*system|system.*__import__/],
  ['module_injection.keras', 'MG521', 'inj(Dense)/function:module', /subprocess\.getoutput/],
  ['foreign_module.keras', 'MG521', 'payload(Payload):module', /evilpkg/],
  ['get_file.keras', 'MG522', 'sequential(Sequential)/function', /get_file/],
  [
    'unsafe_deserialization.keras',
    'MG522',
    'sequential(Sequential)/function',
    /enable_unsafe_deserialization/,
  ],
  ['torch_module_wrapper.keras', 'MG523', 'torch_module_wrapper(TorchModuleWrapper)', /CVE-2025-49655/],
  ['tfsm_layer.keras', 'MG523', 'tfsm(TFSMLayer)', /attacker_savedmodel/],
  ['vocabulary_path.keras', 'MG524', 'lookup(StringLookup):config.vocabulary', /\/etc\/passwd/],
  ['layer_name_traversal.keras', 'MG526', ':config.name', /\.\.\/\.\./],
];
for (const [name, rule, symbol, msg] of CASES) {
  test(`malicious ${name} blocks with ${rule}`, async () => {
    const f = await scan(name);
    assert.equal(f.format, 'keras');
    assert.equal(f.verdict, 'block', JSON.stringify(f.findings, null, 1));
    const x = finding(f, rule, symbol);
    assert.equal(x.location.member, 'config.json');
    if (msg) assert.match(x.message, msg);
  });
}

test('unsafe deserialization is caught together with the Lambda it enables', async () => {
  const f = await scan('unsafe_deserialization.keras');
  finding(f, 'MG520');
});

test('the pickle inside a TorchModuleWrapper is scanned as nested content', async () => {
  const f = await scan('torch_module_wrapper.keras');
  const nested = f.findings.filter((x) => x.location.member === 'config.json#torch_module_wrapper.module');
  assert.ok(
    nested.some((x) => x.severity === 'critical'),
    JSON.stringify(f.findings, null, 1),
  );
});

test('the URL vocabulary of TextVectorization is reported too', async () => {
  const f = await scan('vocabulary_path.keras');
  assert.match(finding(f, 'MG524', 'vec(TextVectorization)').message, /https:\/\/attacker\.example/);
});

test('code and executables inside the archive', async () => {
  const f = await scan('code_in_archive.keras');
  assert.equal(f.verdict, 'block');
  const members = f.findings.filter((x) => x.ruleId === 'MG529').map((x) => x.location.member);
  assert.ok(members.includes('exploit.py'));
  assert.ok(members.includes('assets/helper.bin'));
});

test('a weights member that is not HDF5 is reported and scanned by content', async () => {
  const f = await scan('weights_not_hdf5.keras');
  finding(f, 'MG530');
});

test('an external link inside model.weights.h5 is found by the nested HDF5 scan', async () => {
  const f = await scan('weights_external_link.keras');
  assert.equal(f.verdict, 'block');
  const x = finding(f, 'MG540', '/layers/dense/vars/2');
  assert.equal(x.location.member, 'model.weights.h5');
});

test('registered custom objects need code: medium, not a block', async () => {
  const f = await scan('custom_registered.keras');
  assert.equal(finding(f, 'MG525', 'scale(Scale)').severity, 'medium');
  assert.equal(f.verdict, 'warn');
});

test('duplicate JSON keys: the loader keeps the last (a Lambda), and the duplicate is reported', async () => {
  const f = await scan('duplicate_keys.keras');
  finding(f, 'MG528');
  finding(f, 'MG520');
  assert.equal(f.verdict, 'block');
});

test('a duplicated config.json member: the copy Keras reads (the last) is analysed too', async () => {
  const f = await scan('duplicate_member.keras');
  assert.equal(f.verdict, 'block');
  finding(f, 'MG520');
});

test('an unparseable config.json is incomplete', async () => {
  const f = await scan('bad_config.keras');
  assert.equal(f.verdict, 'incomplete');
  finding(f, 'MG527');
});

test('config analysis is a pure function over the parsed config', () => {
  const cfg = parsePythonJson(
    '{"class_name": "Functional", "config": {"name": "m", "layers": [{"class_name": "Bidirectional", "config": {"name": "bi", "layer": {"class_name": "Lambda", "config": {"name": "inner", "function": "system", "function_type": "function", "module": "posix"}}}}], "x": NaN}}',
  ).value;
  const r = analyzeKerasConfig(cfg, 'h5');
  const lam = r.issues.find((i) => i.ruleId === 'MG521');
  assert.ok(lam);
  assert.equal(lam.symbol, 'm(Functional)/bi(Bidirectional)/inner(Lambda):config.function');
  assert.deepEqual(r.classes.sort(), ['Bidirectional', 'Functional', 'Lambda']);
});

test('the JSON parser accepts what json.loads accepts and reports duplicates', () => {
  const p = parsePythonJson('{"a": NaN, "b": -Infinity, "a": 1, "__proto__": {"x": 1}}');
  assert.deepEqual(p.duplicates, ['/a']);
  const v = p.value as Record<string, unknown>;
  assert.equal(v.a, 1);
  assert.ok(Object.hasOwn(v, '__proto__'));
  assert.throws(() => parsePythonJson('{"a": 1} x'));
  assert.throws(() => parsePythonJson('['.repeat(2000)));
});

test('marshal reader describes a Python 3.11 code object and rejects garbage', () => {
  // marshal.dumps((lambda x: __import__("os").system("echo hi")).__code__) on Python 3.11
  const b64 =
    '4wEAAAAAAAAAAAAAAAMAAAADAAAA80YAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAFMAKQNO2gJvc/oHZWNobyBoaSkC2gpfX2ltcG9ydF9f2gZzeXN0ZW0pAdoBeHMBAAAAIPoIPHN0cmluZz76CDxsYW1iZGE+cggAAAADAAAAcxwAAACAALUKuDTRMEDUMEDXMEfSMEfICdEwUtQwUoAA8wAAAAA=';
  const s = summarizeCode(new Uint8Array(Buffer.from(b64, 'base64')));
  assert.ok(s);
  assert.equal(s.layout, '3.11+');
  assert.deepEqual(s.names, ['__import__', 'system']);
  assert.ok(s.strings.includes('echo hi'));
  assert.equal(
    summarizeCode(new Uint8Array([0x63, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])),
    undefined,
  );
});

test('config analysis never throws on arbitrary JSON (property)', () => {
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 8 }),
      fc.constantFrom('keras', 'h5', 'tf-metadata' as const),
      (v, origin) => {
        const r = analyzeKerasConfig(v, origin as 'keras' | 'h5' | 'tf-metadata');
        assert.ok(Array.isArray(r.issues));
      },
    ),
    { seed: 20261122, numRuns: 300 },
  );
  // Keras-shaped objects with random fields.
  const obj = fc.record({
    class_name: fc.constantFrom(
      'Lambda',
      '__lambda__',
      'Dense',
      'TFOpLambda',
      'TorchModuleWrapper',
      'function',
      'StringLookup',
    ),
    module: fc.option(fc.constantFrom('keras.layers', 'os', 'builtins', 'evil', '__main__', 'keras.utils'), {
      nil: undefined,
    }),
    config: fc.oneof(
      fc.string(),
      fc.dictionary(
        fc.constantFrom('name', 'function', 'code', 'module', 'vocabulary', 'function_type', 'value'),
        fc.jsonValue({ maxDepth: 3 }),
      ),
    ),
  });
  fc.assert(
    fc.property(fc.array(obj, { maxLength: 5 }), (layers) => {
      analyzeKerasConfig({ class_name: 'Sequential', config: { name: 's', layers } }, 'keras');
    }),
    { seed: 20261122, numRuns: 300 },
  );
});
