// The pickle engine on large opcode-dense pickles, as users run it (the bundled CLI, process start-up
// included), against `openssl dgst -sha256` on the same file in the same run.
//
//   npm run build && node --import tsx bench/pickle.ts [100] [300] [3g] [dates] [dates-20m] [dicts]
//   (default: 100 300)
//   BENCH_PROF=1 node --import tsx bench/pickle.ts 100    # also writes a --cpu-prof profile to bench/out/
//
// Inputs (generated once into BENCH_DIR, default /tmp/modelgate-bench; never committed):
// - `100`, `300`, `3g`: what `pickle.dump([(i, "s%05d" % (i % 100000), i * 0.25) for i in range(n)], f,
//   protocol=4)` writes for n = 4M, 12M and 120M: every str and tuple memoised (2 memo entries per tuple),
//   APPENDS batches of 1000, 64 KiB frames. `tupleListPickle` below writes those bytes without Python; when
//   Debian's /usr/bin/python3 is present the bench first checks that its output is byte-identical to
//   CPython's for a 100k-tuple list.
// - `dates`, `dates-20m`: `[date(2000, 1, 1) + timedelta(days=i % 20000) for i in range(n)]` for n = 4M
//   (50 MiB) and 20M (248 MiB): one REDUCE per object (the shape of a pandas object column or a list of
//   small records), written by `dateListPickle`, also checked against CPython.
// - `dicts`: 300 MiB of small dicts (the shape pickle.dumps gives a list of records: memoised keys, nested
//   lists, BININT/BINFLOAT/bool values), written directly.
//
// Each row: wall time of `node dist/cli.js scan` (process start-up included, best of BENCH_REPEAT), its peak
// RSS (from /usr/bin/time), openssl's wall time, the ratio, and the verdict (a benign file must pass).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { benchPath, ensureFile, humanSize, opensslSha256, REPEAT, REPO, type Write } from './lib.js';

/**
 * CPython's C pickler framing (protocol 4), for writing its exact bytes without Python: a frame is committed
 * at the start of save() of any object once the current frame holds 64 KiB or more; STOP goes in the last
 * frame. `list` writes a list of n items in APPENDS batches of 1000, as the pickler does.
 */
async function cPicklerList(
  n: number,
  write: Write,
  item: (i: number, save: () => void, put: (b: number) => void) => void,
): Promise<void> {
  const FRAME_TARGET = 65536;
  let frame = new Uint8Array(1 << 18);
  let fl = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const commit = () => {
    if (fl === 0) return;
    const h = new Uint8Array(9);
    h[0] = 0x95;
    new DataView(h.buffer).setBigUint64(1, BigInt(fl), true);
    pending.push(h, frame.slice(0, fl));
    pendingBytes += fl + 9;
    fl = 0;
  };
  const save = () => {
    if (fl >= FRAME_TARGET) commit();
  };
  const put = (b: number) => {
    if (fl === frame.length) {
      const f = new Uint8Array(frame.length * 2);
      f.set(frame);
      frame = f;
    }
    frame[fl++] = b;
  };
  await write(Uint8Array.of(0x80, 0x04));
  save();
  put(0x5d); // EMPTY_LIST
  put(0x94); // MEMOIZE
  for (let start = 0; start < n; start += 1000) {
    const end = Math.min(n, start + 1000);
    if (n === 1) {
      item(0, save, put);
      put(0x61); // APPEND (a one-item list only)
    } else {
      put(0x28); // MARK
      for (let i = start; i < end; i++) item(i, save, put);
      put(0x65); // APPENDS
    }
    if (pendingBytes >= 4 << 20) {
      await write(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    }
  }
  put(0x2e); // STOP
  commit();
  await write(Buffer.concat(pending));
}

/** The bytes CPython writes for `[(i, "s%05d" % (i % 100000), i * 0.25) for i in range(n)]`. */
export function tupleListPickle(n: number, write: Write): Promise<void> {
  const f64 = new DataView(new ArrayBuffer(8));
  return cPicklerList(n, write, (i, save, put) => {
    save(); // the tuple
    save(); // its int
    if (i < 256) {
      put(0x4b);
      put(i);
    } else if (i < 65536) {
      put(0x4d);
      put(i & 0xff);
      put(i >> 8);
    } else {
      put(0x4a);
      put(i & 0xff);
      put((i >> 8) & 0xff);
      put((i >> 16) & 0xff);
      put(i >>> 24);
    }
    save();
    const s = `s${String(i % 100000).padStart(5, '0')}`;
    put(0x8c); // SHORT_BINUNICODE
    put(s.length);
    for (let k = 0; k < s.length; k++) put(s.charCodeAt(k));
    put(0x94);
    save();
    f64.setFloat64(0, i * 0.25, false);
    put(0x47); // BINFLOAT
    for (let k = 0; k < 8; k++) put(f64.getUint8(k));
    put(0x87); // TUPLE3
    put(0x94);
  });
}

/**
 * The bytes CPython writes for `[date(2000, 1, 1) + timedelta(days=i % 20000) for i in range(n)]`: a
 * list of objects, each a REDUCE of the memoised class `datetime.date` on its 4-byte state (what a pandas
 * object column or a list of records of small objects looks like).
 */
export function dateListPickle(n: number, write: Write): Promise<void> {
  const epoch = Date.UTC(2000, 0, 1);
  const text = (s: string, save: () => void, put: (b: number) => void) => {
    save();
    put(0x8c); // SHORT_BINUNICODE
    put(s.length);
    for (let k = 0; k < s.length; k++) put(s.charCodeAt(k));
    put(0x94);
  };
  return cPicklerList(n, write, (i, save, put) => {
    save(); // the date
    if (i === 0) {
      text('datetime', save, put);
      text('date', save, put);
      put(0x93); // STACK_GLOBAL
      put(0x94); // memo 3
    } else {
      put(0x68); // BINGET 3
      put(3);
    }
    save(); // the argument tuple
    save(); // its bytes
    const d = new Date(epoch + (i % 20000) * 86_400_000);
    const y = d.getUTCFullYear();
    put(0x43); // SHORT_BINBYTES
    put(4);
    put(y >> 8);
    put(y & 0xff);
    put(d.getUTCMonth() + 1);
    put(d.getUTCDate());
    put(0x94);
    put(0x85); // TUPLE1
    put(0x94);
    put(0x52); // REDUCE
    put(0x94);
  });
}

/** The Python expressions the generators above emulate (a bench of the wrong bytes is worthless). */
const EMULATED = [
  {
    what: 'tuples',
    make: tupleListPickle,
    expr: '[(i, "s%05d" % (i % 100000), i * 0.25) for i in range(n)]',
  },
  {
    what: 'dates',
    make: dateListPickle,
    expr: '[datetime.date(2000, 1, 1) + datetime.timedelta(days=i % 20000) for i in range(n)]',
  },
] as const;

/** Checks the emulations against CPython when Debian's python3 is there. */
async function checkAgainstCPython(): Promise<void> {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) {
    console.log('(no /usr/bin/python3: the generated bytes are not cross-checked against CPython)');
    return;
  }
  const n = 100_000;
  for (const { what, make, expr } of EMULATED) {
    const ours = benchPath(`${what}-check-${n}.pkl`);
    const theirs = benchPath(`${what}-check-${n}.cpython.pkl`);
    if (existsSync(ours)) unlinkSync(ours);
    await ensureFile(ours, (w) => make(n, w));
    const r = spawnSync(py, [
      '-c',
      `import datetime,pickle,sys\nn=int(sys.argv[1])\nwith open(sys.argv[2],"wb") as f: pickle.dump(${expr}, f, protocol=4)`,
      String(n),
      theirs,
    ]);
    if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
    if (!readFileSync(ours).equals(readFileSync(theirs))) {
      throw new Error(`the generated ${what} pickle differs from CPython's (${ours} vs ${theirs})`);
    }
    console.log(`generated bytes identical to CPython ${py} for ${n} ${what}`);
  }
}

/** 300 MiB of small dicts (the bench's earlier input). Returns when written. */
async function dictsPickle(target: number, write: Write): Promise<void> {
  let frame = Buffer.alloc(1 << 17);
  let fl = 0;
  let written = 0;
  let memo = 0;
  const flush = async () => {
    if (fl === 0) return;
    const h = Buffer.alloc(9);
    h[0] = 0x95;
    h.writeBigUInt64LE(BigInt(fl), 1);
    await write(Buffer.concat([h, frame.subarray(0, fl)]));
    written += fl + 9;
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
  await write(Buffer.from([0x80, 0x04]));
  written += 2;
  put(0x5d, 0x94);
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
    put(0x28);
    for (let k = 0; k < 1000; k++, n++) {
      put(0x7d, 0x94);
      memo++;
      put(0x28);
      get(keys[0]!);
      put(0x4a, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff);
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
      put(0x65);
      get(keys[4]!);
      put(rnd() & 1 ? 0x88 : 0x89);
      put(0x75);
    }
    put(0x65);
    if (fl >= 1 << 16) await flush();
  }
  put(0x2e);
  await flush();
}

const INPUTS: Record<string, { name: string; file: string; make: (w: Write) => Promise<void> }> = {
  '100': {
    name: 'pickle 4M (int, str, float) tuples, protocol 4',
    file: 'pickle-tuples-4m.pkl',
    make: (w) => tupleListPickle(4_000_000, w),
  },
  '300': {
    name: 'pickle 12M (int, str, float) tuples, protocol 4',
    file: 'pickle-tuples-12m.pkl',
    make: (w) => tupleListPickle(12_000_000, w),
  },
  '3g': {
    name: 'pickle 120M (int, str, float) tuples, protocol 4',
    file: 'pickle-tuples-120m.pkl',
    make: (w) => tupleListPickle(120_000_000, w),
  },
  dates: {
    name: 'pickle 4M datetime.date objects, protocol 4',
    file: 'pickle-dates-4m.pkl',
    make: (w) => dateListPickle(4_000_000, w),
  },
  'dates-20m': {
    name: 'pickle 20M datetime.date objects, protocol 4',
    file: 'pickle-dates-20m.pkl',
    make: (w) => dateListPickle(20_000_000, w),
  },
  dicts: {
    name: 'pickle 300 MiB of small dicts',
    file: 'pickle-dicts-300m.pkl',
    make: (w) => dictsPickle(300 * 2 ** 20, w),
  },
};

interface CliRun {
  seconds: number;
  /** user + system CPU seconds of the process (every thread): steadier than wall time on a shared machine. */
  cpu: number;
  peakMiB: number;
  exit: number;
  verdict: string;
}

/** `node dist/cli.js scan --format json FILE` under /usr/bin/time: wall clock and peak RSS of the process. */
function runCli(file: string, prof: boolean): CliRun {
  const cli = join(REPO, 'dist', 'cli.js');
  const profDir = join(REPO, 'bench', 'out', 'prof');
  if (prof) mkdirSync(profDir, { recursive: true });
  const node = [...(prof ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), cli, 'scan', '-f', 'json', file];
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MGRSS %M %U %S', process.execPath, ...node], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  const m = r.stderr.match(/MGRSS (\d+) ([\d.]+) ([\d.]+)/);
  const rss = Number(m?.[1] ?? 0) / 1024;
  const cpu = Number(m?.[2] ?? 0) + Number(m?.[3] ?? 0);
  let verdict = '?';
  try {
    const rep = JSON.parse(r.stdout) as {
      verdict: string;
      files: Array<{ findings: Array<{ ruleId: string }> }>;
    };
    const rules = [...new Set(rep.files.flatMap((f) => f.findings.map((x) => x.ruleId)))];
    verdict = rep.verdict + (rules.length ? ` ${rules.join(',')}` : '');
  } catch {
    verdict = `unreadable report: ${r.stderr.slice(0, 300)}`;
  }
  return { seconds, cpu, peakMiB: rss, exit: r.status ?? -1, verdict };
}

async function main(): Promise<void> {
  const which = process.argv.slice(2).length ? process.argv.slice(2) : ['100', '300'];
  if (!existsSync(join(REPO, 'dist', 'cli.js'))) throw new Error('dist/cli.js missing: npm run build first');
  const prof = process.env.BENCH_PROF === '1';
  if (which.some((w) => w !== 'dicts')) await checkAgainstCPython();
  console.log(
    '| input | size | modelgate CLI s (with start-up) | openssl s | ratio | CPU s modelgate / openssl | peak RSS MiB | verdict |\n|---|---:|---:|---:|---:|---:|---:|---|',
  );
  for (const w of which) {
    const input = INPUTS[w];
    if (!input) throw new Error(`unknown input ${w} (one of ${Object.keys(INPUTS).join(', ')})`);
    const t = performance.now();
    const file = await ensureFile(benchPath(input.file), input.make);
    if (performance.now() - t > 1000)
      console.log(`generated ${file} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    opensslSha256(file); // page cache
    let best: CliRun | undefined;
    let ssl = Number.POSITIVE_INFINITY;
    let sslCpu = Number.POSITIVE_INFINITY;
    let peak = 0;
    for (let i = 0; i < REPEAT; i++) {
      const r = runCli(file, prof && i === 0);
      peak = Math.max(peak, r.peakMiB);
      if (!best || r.seconds < best.seconds) best = r;
      const o = opensslSha256(file);
      ssl = Math.min(ssl, o.seconds);
      sslCpu = Math.min(sslCpu, o.cpuSeconds ?? Number.NaN);
    }
    const b = best!;
    console.log(
      `| ${input.name} | ${humanSize(statSync(file).size)} | ${b.seconds.toFixed(2)} | ${ssl.toFixed(2)} | ${(b.seconds / ssl).toFixed(1)}x | ${b.cpu.toFixed(2)} / ${sslCpu.toFixed(2)} | ${peak.toFixed(0)} | ${b.verdict} (exit ${b.exit}) |`,
    );
  }
}

await main();
