import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pickleRejects } from '../../src/core/formats/raw/blob.js';
import { Budget } from '../../src/core/limits.js';
import { DEFAULT_POLICY } from '../../src/core/policy/policy.js';
import { scanPaths } from '../../src/core/scan.js';
import { bufferSource } from '../../src/core/source.js';
import { FIXTURES } from '../helpers.js';

const DIR = join(FIXTURES, 'raw');
const walk = (bytes: number[] | Uint8Array) =>
  pickleRejects(bufferSource('x', Uint8Array.from(bytes)), new Budget(DEFAULT_POLICY.limits));
const enc = (s: string) => [...new TextEncoder().encode(s)];

test('blobs that pickle.load and torch.load reject before any import (proved by the generator) are raw data', async () => {
  for (const name of ['zeros.bin', 'floats.bin', 'text_int.pt']) {
    const f = (await scanPaths([join(DIR, name)])).files.at(0)!;
    assert.equal(f.format, 'raw-data', name);
    assert.equal(f.verdict, 'pass', name);
    assert.deepEqual(
      f.findings.map((x) => [x.ruleId, x.severity]),
      [['MG840', 'low']],
      name,
    );
  }
});

test('a blob whose unpickling imports before it fails is never raw data', async () => {
  const f = (await scanPaths([join(DIR, 'imports.bin')])).files.at(0)!;
  assert.notEqual(f.format, 'raw-data');
  assert.notEqual(f.verdict, 'pass');
});

test('the pickle walk decides only on certain failures', async () => {
  assert.equal((await walk([0x00])).rejects, true); // invalid load key
  assert.equal((await walk([0x80, 9])).rejects, true); // unsupported protocol
  assert.equal((await walk([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x41])).rejects, true); // BINUNICODE past the end
  assert.equal((await walk(enc('I12\n'))).rejects, true); // ends before STOP
  assert.equal((await walk([0x54, 0, 0, 0, 0x80])).rejects, true); // BINSTRING with a negative length
  // Not rejected: a complete pickle, an import, a call, a persistent load, a BUILD.
  assert.equal((await walk([0x80, 2, 0x7d, 0x2e])).rejects, false);
  assert.equal((await walk([...enc('cos\nsystem\n'), 0])).rejects, false);
  assert.equal((await walk([0x7d, 0x29, 0x52, 0])).rejects, false);
  assert.equal((await walk([...enc('P1\n'), 0])).rejects, false);
  assert.equal((await walk([0x7d, 0x7d, 0x62, 0])).rejects, false);
  // Arguments are skipped by their length: an import after a long string is still found.
  const long = [0x42, 0x00, 0x10, 0x00, 0x00, ...new Array(4096).fill(0x63), ...enc('cos\nsystem\n')];
  assert.equal((await walk(long)).rejects, false);
  // A text argument longer than the walk reads is undecided, hence not rejected.
  const huge = [0x56, ...new Array((1 << 20) + 10).fill(0x61), 0x0a, 0x63];
  assert.equal((await walk(huge)).rejects, false);
});

test('STRING needs a quoted argument: IDL SAVE and Siemens CSA bytes ("SR\\0\\4", "SV10") are rejected', async () => {
  assert.equal((await walk([...enc('SR'), 0, 4, 0x0a, ...enc('cos\nsystem\n')])).rejects, true);
  assert.equal((await walk([...enc("S'x\n"), 0])).rejects, true); // quoted, then an invalid opcode
  // Properly quoted arguments go on to the next opcode.
  assert.equal((await walk([...enc("S'x'\n"), ...enc('cos\nsystem\n')])).rejects, false);
  assert.equal((await walk([...enc('S"x"\n'), ...enc('cos\nsystem\n')])).rejects, false);
});

test('stack discipline: an opcode the current frame cannot feed fails before it imports or calls', async () => {
  // Raw float32 weights (Kokoro voice tensors) starting with NEWOBJ_EX (0x92), STACK_GLOBAL (0x93), REDUCE:
  assert.equal((await walk([0x92, 0xb7, 0x05, 0xbe])).rejects, true);
  assert.equal((await walk([0x93, 0x6c, 0x4c, 0xbe])).rejects, true);
  assert.equal((await walk([0x4e, 0x52, 0x00])).rejects, true); // NONE, REDUCE: one object, two needed
  // Objects below a MARK are out of reach; POP on an empty frame pops the MARK; STOP needs an object.
  assert.equal((await walk([0x4e, 0x4e, 0x28, 0x52, 0x00])).rejects, true);
  assert.equal((await walk([0x4e, 0x28, 0x30, 0x4e, 0x52, 0x00])).rejects, false);
  assert.equal((await walk([0x2e])).rejects, true);
  assert.equal((await walk([0x30])).rejects, true);
  // No MARK for TUPLE/APPENDS/OBJ, an odd DICT, a memo key never set.
  assert.equal((await walk([0x4e, 0x74])).rejects, true);
  assert.equal((await walk([0x5d, 0x4e, 0x65])).rejects, true);
  assert.equal((await walk([0x4e, 0x6f])).rejects, true);
  assert.equal((await walk([0x28, 0x4e, 0x64])).rejects, true);
  assert.equal((await walk([0x68, 0x05])).rejects, true);
  // Fed opcodes that import or call are reached: never rejected.
  assert.equal((await walk([0x4e, 0x71, 0x05, 0x68, 0x05, 0x52, 0x00])).rejects, false); // BINPUT 5, BINGET 5, REDUCE
  assert.equal((await walk([0x28, 0x4e, 0x6f, 0x00])).rejects, false); // MARK, NONE, OBJ
  assert.equal((await walk([0x4e, 0x4e, 0x4e, 0x92, 0x00])).rejects, false); // NEWOBJ_EX with three objects
  assert.equal((await walk([...enc('(i'), ...enc('os\nsystem\n')])).rejects, false); // INST imports first
  // An unreadable text memo key is not decided either way.
  assert.equal((await walk([...enc('g 1\n'), 0x4e, 0x52, 0x00])).rejects, false);
});
