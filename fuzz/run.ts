/**
 * Mutation fuzzer over the committed fixtures. Every file under test/fixtures/** (real and malicious) is a
 * seed; each iteration mutates one (bit flips, bytes set to 0x00/0xff, truncation, splicing two seeds,
 * length fields set to extremes, inserted/removed/duplicated bytes) and scans the mutant in memory through
 * the real engine on a worker thread, with a per-file time budget. It detects:
 *
 * - crash: an exception escaping the engine (scanBuffer rejected, or an unhandled rejection in the worker);
 * - error: an exception inside an analyzer or detector (the engine reports MG003, fail-closed, but a parser
 *   should report malformed input as MG002 or a budget as MG001, not throw: these are parser bugs);
 * - hang: no answer within the wall budget (the worker is terminated and replaced);
 * - slow: over the time budget (MG001 maxTimeMs) with real CPU work (a third of the budget), twice;
 * - silent: a pure truncation of a seed whose original verdict is `block` came back `pass`;
 * - memory: process RSS over its baseline by more than --max-rss-mb (default 200) during one scan, or the
 *   worker ran out of heap.
 *
 * Failing inputs are written to .fuzz/ (gitignored), one per distinct signature, each with a .fuzz.json sidecar
 * (kind, seed fixture, mutations, stack) and the reproduction command. Figures are printed per parser and
 * appended to .fuzz/summary.jsonl.
 *
 *   node --import tsx fuzz/run.ts --seconds 300 [--iterations N] [--format pickle] [--seed 1]
 *   node --import tsx fuzz/run.ts --replay .fuzz/error-pickle-1a2b3c4d--model.pkl
 *   nice -n 19 nohup node --import tsx fuzz/run.ts --seconds 1800 > .fuzz/run.log 2>&1 &
 *   node --import tsx fuzz/run.ts --totals     # every recorded run added up, per parser
 *   node --import tsx fuzz/run.ts --recheck    # every saved failing input scanned again: open or fixed
 */
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { FuzzRequest, FuzzResponse } from './worker.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(REPO, '.fuzz');

const { values } = parseArgs({
  options: {
    iterations: { type: 'string' },
    seconds: { type: 'string' },
    format: { type: 'string' },
    seed: { type: 'string' },
    fixtures: { type: 'string', default: join(REPO, 'test', 'fixtures') },
    'time-budget': { type: 'string', default: '3000' },
    'max-rss-mb': { type: 'string', default: '200' },
    'max-seed-bytes': { type: 'string', default: String(2 << 20) },
    replay: { type: 'string' },
    quiet: { type: 'boolean' },
    totals: { type: 'boolean' },
    recheck: { type: 'boolean' },
  },
});

const timeBudget = Number(values['time-budget']);
const maxRssDelta = Number(values['max-rss-mb']) * 2 ** 20;

// ---------------------------------------------------------------------------------------------------------
// Random numbers (seeded, so a run can be repeated) and mutations.

let rngState = Number(values.seed ?? Date.now() % 2 ** 31) >>> 0;
const runSeed = rngState;
function rand(): number {
  rngState = (rngState + 0x6d2b79f5) >>> 0;
  let t = rngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

/** Offsets near the start are where headers and length fields live: bias half the picks there. */
function offset(len: number): number {
  if (len === 0) return 0;
  return rand() < 0.5 ? int(Math.min(len, 256)) : int(len);
}

const EXTREMES: ReadonlyArray<{ name: string; bytes: number[] }> = [
  { name: 'u32 0xffffffff', bytes: [0xff, 0xff, 0xff, 0xff] },
  { name: 'u32 0x7fffffff le', bytes: [0xff, 0xff, 0xff, 0x7f] },
  { name: 'u32 0x80000000 le', bytes: [0x00, 0x00, 0x00, 0x80] },
  { name: 'u32 0x7fffffff be', bytes: [0x7f, 0xff, 0xff, 0xff] },
  { name: 'u32 0', bytes: [0, 0, 0, 0] },
  { name: 'u16 0xffff', bytes: [0xff, 0xff] },
  { name: 'u64 0xffffffffffffffff', bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] },
  { name: 'u64 2^63 le', bytes: [0, 0, 0, 0, 0, 0, 0, 0x80] },
  { name: 'u64 2^53 le', bytes: [0, 0, 0, 0, 0, 0, 0x20, 0] },
  { name: 'u64 2^32 le', bytes: [0, 0, 0, 0, 1, 0, 0, 0] },
  { name: 'varint 2^63', bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01] },
  { name: 'varint 0xffffffff', bytes: [0xff, 0xff, 0xff, 0xff, 0x0f] },
];

interface Seed {
  path: string;
  rel: string;
  name: string;
  data: Uint8Array;
  parser: string;
  verdict: string;
}

type Mutation = { kind: string; apply: (d: Uint8Array, seeds: Seed[]) => Uint8Array };

const MUTATIONS: Mutation[] = [
  {
    kind: 'bitflip',
    apply(d) {
      const o = d.slice();
      for (let k = 1 + int(8); k > 0 && o.length > 0; k--) {
        const i = offset(o.length);
        o[i]! ^= 1 << int(8);
      }
      return o;
    },
  },
  {
    kind: 'set-bytes',
    apply(d) {
      const o = d.slice();
      const v = pick([0x00, 0xff, 0x7f, 0x80]);
      for (let k = 1 + int(16); k > 0 && o.length > 0; k--) o[offset(o.length)] = v;
      return o;
    },
  },
  {
    kind: 'extreme-length',
    apply(d) {
      const o = d.slice();
      const e = pick(EXTREMES);
      if (o.length < e.bytes.length) return o;
      let i = offset(o.length - e.bytes.length + 1);
      if (rand() < 0.5) i -= i % Math.min(4, e.bytes.length); // aligned, where binary length fields sit
      o.set(e.bytes, Math.max(0, i));
      return o;
    },
  },
  {
    kind: 'insert',
    apply(d) {
      const i = offset(d.length + 1);
      const n = 1 + int(rand() < 0.9 ? 16 : 4096);
      const ins = new Uint8Array(n);
      const fill = int(3);
      for (let k = 0; k < n; k++)
        ins[k] = fill === 0 ? int(256) : fill === 1 ? 0 : d[(i + k) % Math.max(1, d.length)]!;
      const o = new Uint8Array(d.length + n);
      o.set(d.subarray(0, i), 0);
      o.set(ins, i);
      o.set(d.subarray(i), i + n);
      return o;
    },
  },
  {
    kind: 'remove',
    apply(d) {
      if (d.length < 2) return d.slice();
      const i = offset(d.length);
      const n = 1 + int(Math.min(d.length - i, rand() < 0.8 ? 16 : 4096));
      const o = new Uint8Array(d.length - n);
      o.set(d.subarray(0, i), 0);
      o.set(d.subarray(i + n), i);
      return o;
    },
  },
  {
    kind: 'duplicate',
    apply(d) {
      if (d.length < 2) return d.slice();
      const i = int(d.length);
      const n = 1 + int(Math.min(d.length - i, 1024));
      const times = 1 + int(rand() < 0.9 ? 3 : 200);
      const chunk = d.subarray(i, i + n);
      const o = new Uint8Array(d.length + n * times);
      o.set(d.subarray(0, i + n), 0);
      for (let t = 0; t < times; t++) o.set(chunk, i + n + t * n);
      o.set(d.subarray(i + n), i + n + times * n);
      return o;
    },
  },
  {
    kind: 'splice',
    apply(d, seeds) {
      const other = pick(seeds).data;
      const a = int(d.length + 1);
      const b = int(other.length + 1);
      const o = new Uint8Array(a + other.length - b);
      o.set(d.subarray(0, a), 0);
      o.set(other.subarray(b), a);
      return o;
    },
  },
];

const TRUNCATE: Mutation = {
  kind: 'truncate',
  apply(d) {
    // Keep at least one byte and drop at least one (a pure truncation).
    return d.slice(0, 1 + int(Math.max(1, d.length - 1)));
  },
};

function mutate(seed: Seed, seeds: Seed[]): { data: Uint8Array; steps: string[]; truncationOnly: boolean } {
  if (rand() < 0.2 && seed.data.length > 1) {
    return { data: TRUNCATE.apply(seed.data, seeds), steps: ['truncate'], truncationOnly: true };
  }
  let data = seed.data;
  const steps: string[] = [];
  for (let k = 1 + (rand() < 0.3 ? int(3) : 0); k > 0; k--) {
    const m = rand() < 0.1 ? TRUNCATE : pick(MUTATIONS);
    data = m.apply(data, seeds);
    steps.push(m.kind);
  }
  return { data, steps, truncationOnly: false };
}

// ---------------------------------------------------------------------------------------------------------
// The scanning worker, with a wall budget and RSS sampling.

// Node 20 does not pass `--import tsx` on to worker threads: the worker registers tsx itself, then loads
// the TypeScript worker module, which posts 'ready'.
const BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`;

class Scanner {
  private worker!: Worker;
  private ready!: Promise<void>;
  private alive = false;
  private nextId = 1;
  baseRss = 0;
  private start(): void {
    this.worker = new Worker(BOOT, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    this.alive = true;
    const w = this.worker;
    w.on('exit', () => {
      if (this.worker === w) this.alive = false;
    });
    this.ready = new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('fuzz worker did not start within 30 s')), 30_000);
      w.once('message', () => {
        clearTimeout(t);
        res();
      });
      w.once('error', (e) => {
        clearTimeout(t);
        rej(e);
      });
    });
  }
  async restart(): Promise<void> {
    await this.worker?.terminate().catch(() => {});
    this.start();
    await this.ready;
  }
  async ensure(): Promise<void> {
    if (!this.alive) await this.restart();
  }
  async stop(): Promise<void> {
    await this.worker.terminate().catch(() => {});
  }

  /** Scans one input; resolves with the response, 'hang', or a crash description. */
  async scan(
    name: string,
    data: Uint8Array,
    wallMs: number,
  ): Promise<{ res?: FuzzResponse; hang?: boolean; died?: string; peakRss: number }> {
    await this.ensure();
    const id = this.nextId++;
    const w = this.worker;
    w.ref();
    return new Promise((resolveScan) => {
      let peakRss = process.memoryUsage.rss();
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
      }, 10);
      const done = (r: { res?: FuzzResponse; hang?: boolean; died?: string }) => {
        clearInterval(sampler);
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        w.unref();
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
        resolveScan({ ...r, peakRss });
      };
      const onMessage = (m: FuzzResponse) => {
        if (m.id === id) done({ res: m });
        else if (m.id === -1) done({ died: m.escaped ?? 'unhandled rejection' });
      };
      const onError = (e: Error) => done({ died: e.stack ?? String(e) });
      const onExit = (code: number) => {
        this.alive = false;
        done({ died: `worker exited with code ${code}` });
      };
      const timer = setTimeout(() => {
        done({ hang: true });
        this.alive = false; // a hung worker is replaced before the next scan
        void w.terminate().catch(() => {});
      }, wallMs);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      const req: FuzzRequest = { id, name, data, limits: { maxTimeMs: timeBudget } };
      w.postMessage(req);
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Seeds.

const SKIP_EXT = new Set(['.py', '.sh', '.ts', '.md', '.pyc']);
function listSeeds(dir: string): string[] {
  const out: string[] = [];
  const walkDir = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walkDir(p);
      else if (st.isFile() && st.size > 0 && st.size <= Number(values['max-seed-bytes'])) {
        const ext = n.toLowerCase().match(/\.[^.]+$/)?.[0] ?? '';
        if (!SKIP_EXT.has(ext)) out.push(p);
      }
    }
  };
  walkDir(dir);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Recording failures.

interface Stats {
  iterations: number;
  errors: number;
  crashes: number;
  hangs: number;
  slow: number;
  silent: number;
  memory: number;
  ms: number;
}
const stats = new Map<string, Stats>();
const startedAt = Date.now();
const statFor = (p: string): Stats => {
  let s = stats.get(p);
  if (!s) {
    s = { iterations: 0, errors: 0, crashes: 0, hangs: 0, slow: 0, silent: 0, memory: 0, ms: 0 };
    stats.set(p, s);
  }
  return s;
};
const silentCuts = new Map<string, number>();
const signatures = new Map<
  string,
  { kind: string; parser: string; file: string; count: number; first: string }
>();

/** A stable signature: the kind plus the first lines of the stack that point into src/ (no offsets). */
function signature(kind: string, parser: string, text: string): string {
  const frames = text
    .split('\n')
    .filter((l) => l.includes('/src/'))
    .slice(0, 3)
    .map((l) => l.replace(/:\d+:\d+\)?$/, '').trim());
  const first = text.split('\n')[0]!;
  // Numbers vary between mutants of one bug; keep them only for silent passes (seed and cut point).
  const head = (kind === 'silent' ? first : first.replace(/\d+/g, 'N')).slice(0, 300);
  return createHash('sha1')
    .update(`${kind}\n${parser}\n${head}\n${frames.join('\n')}`)
    .digest('hex')
    .slice(0, 10);
}

function record(
  kind: string,
  seed: Seed,
  steps: string[],
  data: Uint8Array,
  detail: string,
  extra: Record<string, unknown> = {},
): void {
  // Errors and crashes are one bug wherever they surface: their signature is the stack alone.
  const sig = signature(kind, kind === 'error' || kind === 'crash' ? '' : seed.parser, detail);
  const known = signatures.get(sig);
  if (known) {
    known.count++;
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${kind}-${seed.parser}-${sig}--${seed.name}`);
  writeFileSync(file, data);
  const repro = `node --import tsx fuzz/run.ts --replay ${relative(REPO, file)} --time-budget ${timeBudget}`;
  writeFileSync(
    `${file}.fuzz.json`,
    `${JSON.stringify({ kind, parser: seed.parser, seed: seed.rel, seedVerdict: seed.verdict, mutations: steps, runSeed, detail, repro, ...extra }, null, 2)}\n`,
  );
  signatures.set(sig, {
    kind,
    parser: seed.parser,
    file: relative(REPO, file),
    count: 1,
    first: detail.split('\n').slice(0, 4).join(' | '),
  });
  if (!values.quiet)
    console.log(
      `[${kind}] ${seed.parser} ${seed.rel} (${steps.join('+')}): ${detail.split('\n')[0]}\n  -> ${relative(REPO, file)}\n  repro: ${repro}`,
    );
}

/**
 * True when the cut falls in zero padding (a tar's end-of-archive blocks and record padding, alignment
 * before an appended payload): the prefix is then a complete file of its format and may rightly pass.
 */
function cutInPadding(original: Uint8Array, cut: number): boolean {
  const before = original.subarray(Math.max(0, cut - 512), cut);
  return before.length > 0 && before.every((b) => b === 0);
}

/**
 * Formats where a prefix cut at a record boundary is itself a valid file, so a truncation that removes the
 * payload legitimately passes: text templates (no length or end marker) and protobuf (ONNX, TensorFlow: a
 * message is a sequence of fields with no terminator). Their truncation bugs show up as errors instead.
 */
const PREFIX_VALID = new Set([
  'jinja-template',
  'onnx',
  'tf-savedmodel',
  'tf-keras-metadata',
  'other',
  'unknown',
]);

// ---------------------------------------------------------------------------------------------------------
// Main.

async function replay(file: string): Promise<void> {
  const { scanOne } = await import('./worker.js');
  const name = basename(file).includes('--')
    ? basename(file).split('--').slice(1).join('--')
    : basename(file);
  const data = readFileSync(file);
  const t0 = performance.now();
  const res = await scanOne({ id: 1, name, data, limits: { maxTimeMs: timeBudget } });
  console.log(
    JSON.stringify({ file, name, size: data.length, ...res, wallMs: performance.now() - t0 }, null, 2),
  );
  for (const e of res.errors) console.log(`\n${e}`);
  if (res.escaped) console.log(`\nESCAPED: ${res.escaped}`);
}

async function fuzz(): Promise<void> {
  const paths = listSeeds(values.fixtures!);
  if (paths.length === 0) {
    console.error(`no seed files under ${values.fixtures}`);
    process.exit(1);
  }
  const scanner = new Scanner();
  // Baseline: the verdict and format of every seed as committed.
  const seeds: Seed[] = [];
  for (const p of paths) {
    const data = new Uint8Array(readFileSync(p));
    const r = await scanner.scan(basename(p), data, timeBudget * 3 + 2000);
    const parser = r.res?.format ?? 'other';
    seeds.push({
      path: p,
      rel: relative(REPO, p),
      name: basename(p),
      data,
      parser,
      verdict: r.res?.verdict ?? 'error',
    });
  }
  const filter = values.format;
  const chosen = filter ? seeds.filter((s) => s.parser.includes(filter) || s.rel.includes(filter)) : seeds;
  if (chosen.length === 0) {
    console.error(`no seeds match --format ${filter}`);
    process.exit(1);
  }
  const byParser = new Map<string, Seed[]>();
  for (const s of chosen) byParser.set(s.parser, [...(byParser.get(s.parser) ?? []), s]);
  const parsers = [...byParser.keys()].sort();
  console.log(
    `fuzz: ${chosen.length} seeds (${parsers.map((p) => `${p} ${byParser.get(p)!.length}`).join(', ')}), seed ${runSeed}, time budget ${timeBudget} ms/file`,
  );

  const maxIter = values.iterations ? Number(values.iterations) : Number.POSITIVE_INFINITY;
  const until = values.seconds ? Date.now() + Number(values.seconds) * 1000 : Number.POSITIVE_INFINITY;
  if (!values.iterations && !values.seconds) throw new Error('give --iterations and/or --seconds');
  scanner.baseRss = process.memoryUsage.rss();
  let lastReport = Date.now();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    printSummary();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  for (let it = 0; it < maxIter && Date.now() < until; it++) {
    const parser = pick(parsers);
    const seed = pick(byParser.get(parser)!);
    const { data, steps, truncationOnly } = mutate(seed, seeds);
    const st = statFor(parser);
    st.iterations++;
    const r = await scanner.scan(seed.name, data, timeBudget * 3 + 2000);
    if (r.hang) {
      st.hangs++;
      record('hang', seed, steps, data, `no answer within ${timeBudget * 3 + 2000} ms`);
      await scanner.restart();
      scanner.baseRss = process.memoryUsage.rss();
      continue;
    }
    if (r.died || !r.res) {
      st.crashes++;
      const oom = /ERR_WORKER_OUT_OF_MEMORY|out of memory/i.test(r.died ?? '');
      if (oom) st.memory++;
      record(oom ? 'memory' : 'crash', seed, steps, data, r.died ?? 'no response');
      await scanner.restart();
      scanner.baseRss = process.memoryUsage.rss();
      continue;
    }
    const res = r.res;
    st.ms += res.ms;
    if (res.escaped) {
      st.crashes++;
      record('crash', seed, steps, data, res.escaped);
    }
    for (const e of res.errors) {
      st.errors++;
      record('error', seed, steps, data, e);
    }
    // Slow: over the time budget twice in a row (once can be a busy machine; the fuzzer runs at nice 19).
    if (
      res.rules.includes('MG001') &&
      res.ms > timeBudget &&
      (await slowAgain(scanner, seed.name, data, res))
    ) {
      st.slow++;
      record(
        'slow',
        seed,
        steps,
        data,
        `took ${res.ms.toFixed(0)} ms (budget ${timeBudget} ms) on ${data.length} bytes`,
      );
    }
    // A silent pass: the truncated file is still recognised as its format, yet passes. (A cut that destroys
    // the magic leaves content no loader reads as that format; model names then get MG004.)
    if (
      truncationOnly &&
      seed.verdict === 'block' &&
      res.verdict === 'pass' &&
      res.format === seed.parser &&
      !PREFIX_VALID.has(seed.parser) &&
      !cutInPadding(seed.data, data.length)
    ) {
      st.silent++;
      // One record per seed and cut point (a cut exactly at the end of a valid prefix, e.g. before an
      // appended payload, legitimately passes; many cut points passing is a parser that misses truncation).
      const cuts = (silentCuts.get(seed.rel) ?? 0) + 1;
      silentCuts.set(seed.rel, cuts);
      if (cuts <= 5)
        record(
          'silent',
          seed,
          steps,
          data,
          `truncation to ${data.length}/${seed.data.length} bytes of a blocking ${seed.parser} fixture passed (${seed.rel} cut ${data.length})`,
          { rules: res.rules },
        );
    }
    if (r.peakRss - scanner.baseRss > maxRssDelta) {
      st.memory++;
      record(
        'memory',
        seed,
        steps,
        data,
        `RSS grew by ${((r.peakRss - scanner.baseRss) / 2 ** 20).toFixed(0)} MB on ${data.length} bytes`,
      );
      await scanner.restart();
      scanner.baseRss = process.memoryUsage.rss();
    }
    if (!values.quiet && Date.now() - lastReport > 60_000) {
      lastReport = Date.now();
      console.log(`... ${[...stats.values()].reduce((a, s) => a + s.iterations, 0)} iterations`);
    }
  }
  await scanner.stop();
  printSummary();
}

/**
 * Slow means real work: over the time budget with at least a third of it spent on the CPU, twice in a row.
 * (At nice 19 on a busy machine a scan can wait seconds for a core; that is not a parser problem.)
 */
async function slowAgain(
  scanner: Scanner,
  name: string,
  data: Uint8Array,
  first: FuzzResponse,
): Promise<boolean> {
  if (first.cpuMs < timeBudget / 3) return false;
  const again = await scanner.scan(name, data, timeBudget * 3 + 2000);
  return (
    again.hang === true ||
    (again.res !== undefined && again.res.ms > timeBudget && again.res.cpuMs >= timeBudget / 3)
  );
}

function printSummary(): void {
  printTable();
  printFailures();
}

function printTable(): void {
  console.log(
    '\n| parser | iterations | exec/s | errors (MG003) | crashes | hangs | slow | silent passes | memory |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const total: Stats = {
    iterations: 0,
    errors: 0,
    crashes: 0,
    hangs: 0,
    slow: 0,
    silent: 0,
    memory: 0,
    ms: 0,
  };
  for (const [p, s] of [...stats.entries()].sort()) {
    console.log(
      `| ${p} | ${s.iterations} | ${(s.iterations / Math.max(0.001, s.ms / 1000)).toFixed(0)} | ${s.errors} | ${s.crashes} | ${s.hangs} | ${s.slow} | ${s.silent} | ${s.memory} |`,
    );
    for (const k of Object.keys(total) as (keyof Stats)[]) total[k] += s[k];
  }
  console.log(
    `| total | ${total.iterations} | ${(total.iterations / Math.max(0.001, total.ms / 1000)).toFixed(0)} | ${total.errors} | ${total.crashes} | ${total.hangs} | ${total.slow} | ${total.silent} | ${total.memory} |`,
  );
}

function printFailures(): void {
  if (signatures.size > 0) {
    console.log('\nDistinct failures:');
    for (const s of signatures.values())
      console.log(`- [${s.kind}] ${s.parser} x${s.count}: ${s.first}\n  ${s.file}`);
  }
  mkdirSync(OUT, { recursive: true });
  appendFileSync(
    join(OUT, 'summary.jsonl'),
    `${JSON.stringify({ date: new Date().toISOString(), seconds: Math.round((Date.now() - startedAt) / 1000), runSeed, timeBudget, filter: values.format ?? null, stats: Object.fromEntries(stats), failures: [...signatures.values()] })}\n`,
  );
}

/**
 * Scans every saved failing input again (current code) and says whether it still fails the way it was
 * recorded: the open/fixed list for a report. Uses the same worker, wall budget and RSS sampling.
 */
async function recheck(): Promise<void> {
  const sidecars = readdirSync(OUT)
    .filter((f) => f.endsWith('.fuzz.json'))
    .sort();
  const scanner = new Scanner();
  const rows: string[] = [];
  let open = 0;
  for (const sc of sidecars) {
    const meta = JSON.parse(readFileSync(join(OUT, sc), 'utf8')) as {
      kind: string;
      parser: string;
      seed: string;
      detail: string;
    };
    const file = join(OUT, sc.slice(0, -'.fuzz.json'.length));
    let data: Uint8Array;
    try {
      data = new Uint8Array(readFileSync(file));
    } catch {
      continue;
    }
    const name = basename(file).split('--').slice(1).join('--') || basename(file);
    scanner.baseRss = process.memoryUsage.rss();
    const r = await scanner.scan(name, data, timeBudget * 3 + 2000);
    let still: boolean;
    let now = '';
    if (r.hang) {
      still = true;
      now = 'hang';
      await scanner.restart();
    } else if (r.died || !r.res) {
      still = meta.kind === 'crash' || meta.kind === 'memory';
      now = `died: ${(r.died ?? '').split('\n')[0]}`;
      await scanner.restart();
    } else {
      const res = r.res;
      const grown = r.peakRss - scanner.baseRss;
      now = `${res.verdict} ${res.format} [${res.rules.join(',')}] ${res.ms.toFixed(0)} ms, +${(grown / 2 ** 20).toFixed(0)} MB`;
      if (meta.kind === 'error') still = res.errors.length > 0;
      else if (meta.kind === 'crash') still = res.escaped !== undefined;
      else if (meta.kind === 'slow') still = res.ms > timeBudget && res.cpuMs >= timeBudget / 3;
      else if (meta.kind === 'silent') {
        let seedData: Uint8Array | undefined;
        try {
          seedData = readFileSync(join(REPO, meta.seed));
        } catch {
          seedData = undefined;
        }
        still =
          res.verdict === 'pass' &&
          res.format === meta.parser &&
          !PREFIX_VALID.has(meta.parser) &&
          !(seedData && cutInPadding(seedData, data.length));
      } else if (meta.kind === 'memory') still = grown > maxRssDelta;
      else still = false;
      if (res.errors.length > 0) now += ` error: ${res.errors[0]!.split('\n')[0]}`;
    }
    if (still) open++;
    rows.push(
      `| ${still ? 'OPEN' : 'fixed'} | ${meta.kind} | ${meta.parser} | ${meta.seed} | ${meta.detail.split('\n')[0]!.slice(0, 160)} | ${now.slice(0, 200)} | ${relative(REPO, file)} |`,
    );
  }
  await scanner.stop();
  console.log(`${sidecars.length} saved failures, ${open} still failing\n`);
  console.log('| status | kind | parser | seed | recorded | now | input |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
}

/** Adds up every run recorded in .fuzz/summary.jsonl: iterations and failures per parser, total time. */
function totals(): void {
  const lines = readFileSync(join(OUT, 'summary.jsonl'), 'utf8').split('\n').filter(Boolean);
  let seconds = 0;
  for (const l of lines) {
    const run = JSON.parse(l) as { seconds?: number; stats: Record<string, Stats> };
    seconds += run.seconds ?? 0;
    for (const [p, s] of Object.entries(run.stats)) {
      const t = statFor(p);
      for (const k of Object.keys(t) as (keyof Stats)[]) t[k] += s[k] ?? 0;
    }
  }
  console.log(`${lines.length} runs, ${(seconds / 60).toFixed(0)} minutes of fuzzing`);
  printTable();
}

if (values.replay) await replay(values.replay);
else if (values.totals) totals();
else if (values.recheck) await recheck();
else await fuzz();
