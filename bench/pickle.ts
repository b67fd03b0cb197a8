// Throughput of the pickle engine on a large, opcode-dense pickle (millions of small objects), compared with
// `openssl dgst -sha256` on the same file in the same run (the hashing limit every scan pays anyway).
//
//   node --import tsx bench/pickle.ts [sizeMiB=300] [path=/tmp/modelgate-bench.pkl]
//
// The file is generated deterministically (protocol 4, 64 KiB frames, the shape pickle.dumps gives a list of
// small dicts: memoised keys and strings, BININT/BINFLOAT values, SETITEMS/APPENDS batches of 1000) and
// left in /tmp; it is never committed.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { AnalysisContext, FileState } from '../src/core/context.js';
import { scanNested } from '../src/core/engine.js';
import { scanPickle } from '../src/core/formats/pickle/index.js';
import { Budget, DEFAULT_LIMITS } from '../src/core/limits.js';
import { ByteReader } from '../src/core/reader.js';
import { fileSource } from '../src/core/source.js';

const sizeMiB = Number(process.argv[2] ?? 300);
const path = process.argv[3] ?? '/tmp/modelgate-bench.pkl';

/** Writes the pickle; returns the number of list items. */
function generate(target: number): number {
  const fd = openSync(path, 'w');
  let frame = Buffer.alloc(1 << 17);
  let fl = 0;
  let written = 0;
  let memo = 0;
  const out = (b: Buffer) => {
    writeSync(fd, b);
    written += b.length;
  };
  const flush = () => {
    if (fl === 0) return;
    const h = Buffer.alloc(9);
    h[0] = 0x95;
    h.writeBigUInt64LE(BigInt(fl), 1);
    out(h);
    out(frame.subarray(0, fl));
    fl = 0;
  };
  const put = (...bytes: number[]) => {
    if (fl + bytes.length > frame.length) frame = Buffer.concat([frame, Buffer.alloc(frame.length)]);
    for (const b of bytes) frame[fl++] = b;
  };
  const str = (s: string) => {
    put(0x8c, s.length, ...Buffer.from(s, 'latin1'));
    put(0x94);
    return memo++;
  };
  const get = (i: number) =>
    i < 256 ? put(0x68, i) : put(0x6a, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, (i >>> 24) & 0xff);
  out(Buffer.from([0x80, 0x04]));
  put(0x5d, 0x94); // EMPTY_LIST MEMOIZE
  memo++;
  const keys = ['id', 'name', 'score', 'tags', 'ok'].map(str);
  const tagA = str('train');
  const tagB = str('valid');
  let n = 0;
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  const f64 = Buffer.alloc(8);
  while (written + fl < target) {
    put(0x28); // MARK (APPENDS batch)
    for (let k = 0; k < 1000; k++, n++) {
      put(0x7d, 0x94); // EMPTY_DICT MEMOIZE
      memo++;
      put(0x28);
      get(keys[0]!);
      const id = n | 0;
      put(0x4a, id & 0xff, (id >> 8) & 0xff, (id >> 16) & 0xff, (id >>> 24) & 0xff);
      get(keys[1]!);
      str(`item${rnd() % 100000}`);
      get(keys[2]!);
      f64.writeDoubleBE((rnd() % 10000) / 7);
      put(0x47, ...f64);
      get(keys[3]!);
      put(0x5d, 0x94);
      memo++;
      put(0x28);
      get(tagA);
      get(rnd() & 1 ? tagA : tagB);
      put(0x65); // APPENDS
      get(keys[4]!);
      put(rnd() & 1 ? 0x88 : 0x89);
      put(0x75); // SETITEMS
    }
    put(0x65);
    if (fl >= 1 << 16) flush();
  }
  put(0x2e);
  flush();
  closeSync(fd);
  return n;
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

async function main(): Promise<void> {
  const target = sizeMiB * 2 ** 20;
  let items = 0;
  if (!existsSync(path) || Math.abs(statSync(path).size - target) > 2 ** 20) {
    const t = performance.now();
    items = generate(target);
    console.log(`generated ${path}: ${items} objects in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const size = statSync(path).size;
  const limits = { ...DEFAULT_LIMITS, maxMemo: 100_000_000, maxOpcodes: 2_000_000_000 };
  const state = new FileState({ limits, allowGlobals: [] }, new Budget(limits), undefined);
  const src = await fileSource(path);
  const ctx = new AnalysisContext(state, src, [], 0, scanNested);
  let peak = rssMiB();
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB());
  }, 50);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await scanPickle(ctx, new ByteReader(src), { allStreams: true, value: false });
  const engineS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const engineCpuS = (cpu.user + cpu.system) / 1e6;
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB(), process.resourceUsage().maxRSS / 1024);
  await src.close();
  if (r.broken || state.findings.length > 0) {
    console.error('unexpected result', r.broken, state.findings.slice(0, 3));
    process.exitCode = 1;
  }
  const opcodes = ctx.budget.used('maxOpcodes');
  const t1 = performance.now();
  const ssl = spawnSync('openssl', ['dgst', '-sha256', path], { encoding: 'utf8' });
  const sslS = (performance.now() - t1) / 1000;
  const mb = size / 2 ** 20;
  const rows = [
    ['what', 'seconds', 'MiB/s', 'notes'],
    [
      'pickle engine (CPU)',
      engineCpuS.toFixed(2),
      (mb / engineCpuS).toFixed(0),
      'user+system CPU time of this process (GC threads included)',
    ],
    [
      'pickle engine',
      engineS.toFixed(2),
      (mb / engineS).toFixed(0),
      `${(opcodes / 1e6).toFixed(1)} M opcodes, ${(opcodes / engineS / 1e6).toFixed(1)} M op/s, peak RSS ${peak.toFixed(0)} MiB`,
    ],
    [
      'openssl dgst -sha256',
      sslS.toFixed(2),
      (mb / sslS).toFixed(0),
      ssl.status === 0 ? 'same file, same run' : `failed: ${ssl.stderr}`,
    ],
    ['ratio engine/sha256', (engineS / sslS).toFixed(2), '', ''],
  ];
  console.log(`file ${path}: ${mb.toFixed(0)} MiB`);
  for (const row of rows) console.log(row.map((c, i) => c.padEnd([22, 9, 7, 0][i]!)).join(' '));
}

await main();
