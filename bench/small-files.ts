/**
 * Per-file overhead, as users run it: the bundled CLI (`node dist/cli.js scan DIR --format json`, process
 * start and the whole JSON report included) on folders of 1,000 / 10,000 / 30,000 small model files of mixed
 * real formats, against `openssl dgst -sha256` on the same files. The files are copies of the benign
 * fixtures made by the real libraries (test/fixtures: torch zip and legacy checkpoints, plain pickles,
 * joblib/scikit-learn, safetensors, NumPy, ONNX, GGUF, Keras/HDF5, TFLite, JSON configs), cycled under
 * distinct names, 100 per folder. Peak RSS is the CLI process's (`/usr/bin/time -f %M`); "flat in the number
 * of files" means the 30,000 row is not meaningfully above the 1,000 row. Target (issue 13): 10,000 files in
 * half of 7 s.
 *
 *   npm run build && node --import tsx bench/small-files.ts [--counts 1000,10000,30000] [--format json]
 *   node --import tsx bench/small-files.ts --cli /tmp/old/dist/cli.js   # another build, e.g. before a change
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchPath, REPEAT, REPO, RESULTS } from './lib.js';

const { values } = parseArgs({
  options: {
    counts: { type: 'string', default: '1000,10000,30000' },
    format: { type: 'string', default: 'json' },
    cli: { type: 'string' },
  },
});
const counts = values.counts.split(',').map(Number);
const CLI = values.cli ?? join(REPO, 'dist', 'cli.js');
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);

/** Benign fixtures of every common format (each made by its real library; see the generators beside them). */
const SOURCES = [
  'pytorch/benign/state_dict.pt',
  'pytorch/benign/state_dict_legacy.pt',
  'pytorch/benign/optimizer.pt',
  'pytorch/benign/dtypes.pt',
  'pytorch/benign/dtypes_legacy.pt',
  'pickle/benign/data_p2.pkl',
  'pickle/benign/data_p4.pkl',
  'pickle/benign/numpy_arrays_p4.pkl',
  'pickle/benign/sk_logreg.joblib',
  'pickle/benign/sk_tree.joblib',
  'pickle/benign/torch_state_dict_data.pkl',
  'safetensors/benign.safetensors',
  'huggingface/plain_model/model.safetensors',
  'huggingface/plain_model/config.json',
  'huggingface/plain_model/tokenizer_config.json',
  'huggingface/plain_model/generation_config.json',
  'numpy/float32.npy',
  'numpy/structured.npy',
  'onnx/mlp.onnx',
  'gguf/benign/llama2.gguf',
  'gguf/benign/v1.gguf',
  'keras/dense.h5',
  'keras/benign.keras',
];

function corpus(count: number): string {
  const dir = benchPath(`small-real-${count}`);
  if (existsSync(`${dir}.done`)) return dir;
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    const src = join(REPO, 'test', 'fixtures', SOURCES[i % SOURCES.length]!);
    copyFileSync(src, join(sub, `${i}-${basename(src)}`));
  }
  writeFileSync(`${dir}.done`, '');
  return dir;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

interface Run {
  seconds: number;
  peakRssMb: number;
  cpuSeconds: number;
}

/** One CLI run, stdout (the report) into a file as `modelgate scan DIR --format json > report.json` does. */
function runCli(dir: string): Run {
  const out = benchPath('small-report.out');
  const t0 = performance.now();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'MGTIME %M %U %S',
      'sh',
      '-c',
      `exec node "$0" scan "$1" --format "$2" > "$3"`,
      CLI,
      dir,
      values.format,
      out,
    ],
    { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
  );
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0 && r.status !== 1 && r.status !== 2)
    throw new Error(`scan failed (${r.status}): ${r.stderr}`);
  const m = r.stderr.match(/MGTIME (\d+) ([\d.]+) ([\d.]+)/);
  if (!m) throw new Error(`no timing: ${r.stderr}`);
  return { seconds, peakRssMb: Number(m[1]) / 1024, cpuSeconds: Number(m[2]) + Number(m[3]) };
}

function openssl(files: string[]): number {
  const t0 = performance.now();
  execFileSync('xargs', ['-0', 'openssl', 'dgst', '-sha256', '-r'], {
    input: files.join('\0'),
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  return (performance.now() - t0) / 1000;
}

console.log(
  '| files | bytes | CLI s (process included) | ms per file | CPU s | peak RSS MB, median (range) | openssl s | report MB |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const count of counts) {
  const dir = corpus(count);
  const files = listFiles(dir);
  const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
  openssl(files); // warm the page cache
  let best: Run | undefined;
  const peaks: number[] = [];
  let ssl = Number.POSITIVE_INFINITY;
  const repeat = REPEAT;
  for (let i = 0; i < repeat; i++) {
    const r = runCli(dir);
    peaks.push(r.peakRssMb);
    if (!best || r.seconds < best.seconds) best = r;
    ssl = Math.min(ssl, openssl(files));
  }
  const reportMb = statSync(benchPath('small-report.out')).size / 2 ** 20;
  const row = {
    files: files.length,
    bytes,
    seconds: best!.seconds,
    msPerFile: (best!.seconds * 1000) / files.length,
    cpuSeconds: best!.cpuSeconds,
    // The median: a peak depends on when the collector ran (under load, concurrent marking lags), so one
    // run's peak says little; the spread is kept too.
    peakRssMb: median(peaks),
    peakRssRangeMb: [Math.min(...peaks), Math.max(...peaks)],
    opensslSeconds: ssl,
    reportMb,
  };
  console.log(
    `| ${row.files} | ${(bytes / 2 ** 20).toFixed(1)} MiB | ${row.seconds.toFixed(2)} | ${row.msPerFile.toFixed(3)} | ${row.cpuSeconds.toFixed(2)} | ${row.peakRssMb.toFixed(0)} (${row.peakRssRangeMb.map((x) => x.toFixed(0)).join('-')}) | ${ssl.toFixed(2)} | ${reportMb.toFixed(1)} |`,
  );
  mkdirSync(join(REPO, 'bench', 'out'), { recursive: true });
  appendFileSync(
    RESULTS,
    `${JSON.stringify({ name: `small-files-cli ${count}`, cli: CLI, ...row, date: new Date().toISOString() })}\n`,
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
