/**
 * Shared helpers for the benchmarks under bench/. A benchmark generates its input into /tmp (never into the
 * repository), scans it in a child process (so peak RSS is the scan's own), hashes the same file with
 * `openssl dgst -sha256` in the same run (the physical limit: every scan hashes every byte), and prints one
 * uniform table row with the ratio. Every row is also appended to bench/out/results.jsonl, which
 * bench/run-all.sh turns into the README table.
 *
 *   import { benchPath, ensureFile, compare, printHeader, printRow } from './lib.js';
 *   const file = await ensureFile(benchPath('pickle-100mb.pkl'), async (w) => { await w(bytes); ... });
 *   printHeader();
 *   printRow(await compare('pickle 100 MB', file));
 *
 * Run a benchmark with `node --import tsx bench/<name>.ts`; all of them with `bench/run-all.sh`.
 * Environment: BENCH_DIR (default /tmp/modelgate-bench), BENCH_REPEAT (best of N runs, default 3).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnalysisContext, FileState } from '../src/core/context.js';
import { analyzeSource, scanNested } from '../src/core/engine.js';
import { Budget, DEFAULT_LIMITS } from '../src/core/limits.js';
import { fileSource } from '../src/core/source.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_DIR = process.env.BENCH_DIR ?? '/tmp/modelgate-bench';
export const RESULTS = join(REPO, 'bench', 'out', 'results.jsonl');
export const REPEAT = Math.max(1, Number(process.env.BENCH_REPEAT ?? 3));
const SELF = fileURLToPath(import.meta.url);

/** A path for a generated input under BENCH_DIR (created). */
export function benchPath(name: string): string {
  mkdirSync(BENCH_DIR, { recursive: true });
  return join(BENCH_DIR, name);
}

/** Writes chunks to a file with backpressure; used by `ensureFile` generators. */
export type Write = (chunk: Uint8Array | string) => Promise<void>;

/**
 * Generates `path` once (kept across runs: delete it to regenerate). The generator gets a `write` function
 * that respects backpressure, so multi-GB inputs are streamed, never built in memory. The file appears
 * atomically (written to `<path>.part` first), so an interrupted generation is not mistaken for an input.
 */
export async function ensureFile(path: string, generate: (write: Write) => Promise<void>): Promise<string> {
  if (existsSync(path)) return path;
  await mkdir(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const out = createWriteStream(part, { highWaterMark: 4 << 20 });
  const write: Write = (chunk) =>
    new Promise((res, rej) => {
      const ok = out.write(chunk, (err) => (err ? rej(err) : undefined));
      if (ok) res();
      else out.once('drain', res);
    });
  await generate(write);
  await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  renameSync(part, path);
  return path;
}

/** Writes `total` bytes of deterministic pseudo-random data (xorshift; fast, incompressible) in 4 MiB chunks. */
export async function writeRandom(write: Write, total: number, seed = 0x9e3779b9): Promise<void> {
  let s = seed >>> 0 || 1;
  const chunk = new Uint32Array(1 << 20);
  for (let done = 0; done < total; ) {
    for (let i = 0; i < chunk.length; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      chunk[i] = s;
    }
    const bytes = new Uint8Array(chunk.buffer, 0, Math.min(chunk.byteLength, total - done));
    await write(bytes.slice());
    done += bytes.length;
  }
}

export interface OpensslResult {
  seconds: number;
  sha256: string;
  /** User + system CPU seconds of the openssl process (load-independent), when /usr/bin/time is present. */
  cpuSeconds?: number;
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Times `openssl dgst -sha256 FILE` (wall clock, process start included). */
export function opensslSha256(path: string): OpensslResult {
  const t0 = performance.now();
  if (TIME) {
    const r = spawnSync(TIME, ['-f', 'MGCPU %U %S', 'openssl', 'dgst', '-sha256', '-r', path], {
      encoding: 'utf8',
    });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
    const m = r.stderr.match(/MGCPU ([\d.]+) ([\d.]+)/);
    const res: OpensslResult = { seconds, sha256: r.stdout.split(/\s/)[0]! };
    if (m) res.cpuSeconds = Number(m[1]) + Number(m[2]);
    return res;
  }
  const out = execFileSync('openssl', ['dgst', '-sha256', '-r', path], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, sha256: out.split(/\s/)[0]! };
}

export interface ScanResult {
  /** Seconds spent in scanPaths (module loading excluded). */
  seconds: number;
  /** User + system CPU seconds of the whole child (every thread) during scanPaths. */
  cpuSeconds: number;
  /** Seconds from process spawn to exit (module loading and tsx included). */
  processSeconds: number;
  /** Peak resident set size of the child process, in bytes. */
  peakRss: number;
  /** Resident set size of the same child just before the scan (tsx, modules, engine loaded), in bytes. */
  baseRss: number;
  verdict: string;
  files: number;
  bytes: number;
  /** sha256 of the first file, to check against openssl's. */
  sha256: string;
  /** Finding rule ids of the first file, for a quick sanity look. */
  rules: string[];
  format: string;
}

/** Scans paths with the real engine (src/core/scan.ts via tsx) in a child process and measures it. */
export function measureScan(paths: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ScanResult> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--scan-child', ...paths], {
      cwd: REPO,
      env: { ...process.env, NODE_NO_WARNINGS: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', rej);
    child.on('close', (code) => {
      const processSeconds = (performance.now() - t0) / 1000;
      if (code !== 0) return rej(new Error(`scan child exited ${code}: ${out}`));
      try {
        res({ ...(JSON.parse(out.trim().split('\n').pop()!) as ScanResult), processSeconds });
      } catch (e) {
        rej(new Error(`scan child printed no result: ${out} (${e})`));
      }
    });
  });
}

export interface Comparison {
  name: string;
  bytes: number;
  files: number;
  scan: ScanResult;
  openssl: OpensslResult;
  /** scan seconds / openssl seconds (best runs). */
  ratio: number;
  note?: string;
}

/**
 * Best of REPEAT runs of the scan and of openssl on the same file(s), interleaved so both see the same
 * machine state. For a folder, openssl hashes every file in one process (`openssl dgst -sha256 f1 f2 ...`).
 * The first openssl run also warms the page cache so both read from memory.
 */
export async function compare(
  name: string,
  target: string | string[],
  opts: { repeat?: number; note?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Comparison> {
  const paths = Array.isArray(target) ? target : [target];
  const files = expandFiles(paths);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const ossl = (): OpensslResult => (files.length === 1 ? opensslSha256(files[0]!) : opensslMany(files));
  ossl(); // warm the page cache
  let bestScan: ScanResult | undefined;
  let bestSsl: OpensslResult | undefined;
  for (let i = 0; i < (opts.repeat ?? REPEAT); i++) {
    const s = await measureScan(paths, { env: opts.env });
    if (!bestScan || s.seconds < bestScan.seconds)
      bestScan = { ...s, peakRss: Math.max(s.peakRss, bestScan?.peakRss ?? 0) };
    else bestScan.peakRss = Math.max(bestScan.peakRss, s.peakRss);
    const o = ossl();
    if (!bestSsl || o.seconds < bestSsl.seconds) bestSsl = o;
  }
  if (files.length === 1 && bestScan!.sha256 !== bestSsl!.sha256) {
    throw new Error(`sha256 mismatch for ${files[0]}: scan ${bestScan!.sha256} openssl ${bestSsl!.sha256}`);
  }
  const c: Comparison = {
    name,
    bytes,
    files: files.length,
    scan: bestScan!,
    openssl: bestSsl!,
    ratio: bestScan!.seconds / bestSsl!.seconds,
  };
  if (opts.note) c.note = opts.note;
  await mkdir(dirname(RESULTS), { recursive: true });
  await appendFile(RESULTS, `${JSON.stringify({ ...c, date: new Date().toISOString() })}\n`);
  return c;
}

function expandFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory()) {
      const listing = execFileSync('find', [p, '-type', 'f'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      out.push(...listing.split('\n').filter(Boolean).sort());
    } else out.push(p);
  }
  return out;
}

function opensslMany(files: string[]): OpensslResult {
  const t0 = performance.now();
  // xargs keeps the command line bounded for large folders.
  execFileSync('xargs', ['-0', 'openssl', 'dgst', '-sha256', '-r'], {
    input: files.join('\0'),
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  return { seconds: (performance.now() - t0) / 1000, sha256: '' };
}

export const HEADER =
  '| benchmark | size | files | scan s | scan MB/s | openssl s | openssl MB/s | ratio | CPU s scan / openssl | peak RSS MB | verdict |';
export const RULE = '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';

export function printHeader(): void {
  console.log(HEADER);
  console.log(RULE);
}

/** One uniform table row (Markdown) for a comparison. */
export function formatRow(c: Comparison): string {
  const mb = c.bytes / 2 ** 20;
  const cells = [
    c.name + (c.note ? ` (${c.note})` : ''),
    humanSize(c.bytes),
    String(c.files),
    c.scan.seconds.toFixed(3),
    (mb / c.scan.seconds).toFixed(0),
    c.openssl.seconds.toFixed(3),
    (mb / c.openssl.seconds).toFixed(0),
    `${c.ratio.toFixed(2)}x`,
    `${c.scan.cpuSeconds?.toFixed(2) ?? '?'} / ${c.openssl.cpuSeconds?.toFixed(2) ?? '?'}`,
    (c.scan.peakRss / 2 ** 20).toFixed(0),
    `${c.scan.verdict} (${c.scan.format})`,
  ];
  return `| ${cells.join(' | ')} |`;
}

export function printRow(c: Comparison): void {
  console.log(formatRow(c));
}

export function humanSize(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

// ---------------------------------------------------------------------------------------------------------
// Child mode: `node --import tsx bench/lib.ts --scan-child PATH...` scans and prints one JSON line.
if (process.argv[1] && resolve(process.argv[1]) === SELF && process.argv[2] === '--scan-child') {
  const { scanPaths } = await import('../src/core/scan.js');
  const paths = process.argv.slice(3);
  const baseRss = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await scanPaths(paths);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const first = report.files.at(0);
  const result: Omit<ScanResult, 'processSeconds'> = {
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRss: process.resourceUsage().maxRSS * 1024,
    baseRss,
    verdict: report.verdict,
    files: report.files.length,
    bytes: report.files.map((f) => f.size).reduce((s, n) => s + n, 0),
    sha256: first?.sha256 ?? '',
    rules: first ? [...new Set(first.findings.map((f) => f.ruleId))] : [],
    format: first?.format ?? '',
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * Detection and analysis of one file in this process, without hashing, `runs` times (header-only formats
 * are measured this way: milliseconds whatever the file size). Times sorted ascending.
 */
export async function analyzeOnly(
  path: string,
  name: string,
  runs: number,
): Promise<{ times: number[]; findings: number; peakRss: number }> {
  const times: number[] = [];
  let findings = -1;
  let peakRss = 0;
  for (let i = 0; i < runs; i++) {
    const src = await fileSource(path, name);
    const state = new FileState(
      { limits: DEFAULT_LIMITS, allowGlobals: [] },
      new Budget(DEFAULT_LIMITS),
      undefined,
    );
    const t0 = performance.now();
    await analyzeSource(new AnalysisContext(state, src, [], 0, scanNested));
    times.push(performance.now() - t0);
    findings = state.findings.length;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    await src.close();
  }
  return { times: times.sort((a, b) => a - b), findings, peakRss };
}
