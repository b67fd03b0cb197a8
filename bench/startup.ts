// CLI start-up: the bundled CLI as users run it (`node dist/cli.js scan -f json FILE`), on files that cost
// little to scan, so that what is measured is mostly the process: Node's start, the launcher, the bundle's
// top level, the scan's threads. Several builds given with --cli run interleaved (the machine's load then
// weighs on each alike); each is run twice first so that its code cache (~/.cache/modelgate) is warm.
//
//   npm run build && node --import tsx bench/startup.ts [--runs 30] [--cli A/cli.js --cli B/cli.js] [FILE ...]
//   (default: dist/cli.js on a 2-byte file and a small pickle; `node -e 0` is the floor)
//
// Wall time from spawn to exit; CPU (user + system, every thread) and peak RSS from /usr/bin/time, whose
// 10 ms resolution is why minima over many runs are reported.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchPath, REPO } from './lib.js';

const args = process.argv.slice(2);
const clis: string[] = [];
const files: string[] = [];
let runs = 30;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--cli') clis.push(args[++i]!);
  else if (args[i] === '--runs') runs = Number(args[++i]);
  else files.push(args[i]!);
}
if (clis.length === 0) clis.push(join(REPO, 'dist', 'cli.js'));
if (files.length === 0) {
  const tiny = benchPath('startup-2-bytes.bin');
  writeFileSync(tiny, 'ab');
  files.push(tiny, join(REPO, 'test', 'fixtures', 'pickle', 'benign', 'data_p4.pkl'));
}

interface Sample {
  wall: number;
  cpu: number;
  rss: number;
}

function once(argv: string[]): Sample {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MGTIME %U %S %M', ...argv], { encoding: 'utf8' });
  const wall = performance.now() - t;
  const m = /MGTIME ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m || (r.status ?? 3) > 2) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return { wall, cpu: (Number(m[1]) + Number(m[2])) * 1000, rss: Number(m[3]) / 1024 };
}

const min = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log('| command | file | wall ms min / median | CPU ms min / median | peak RSS MiB median |');
console.log('|---|---|---:|---:|---:|');
for (const file of files) {
  const commands = [
    ...clis.map((c) => [process.execPath, c, 'scan', '-f', 'json', file]),
    [process.execPath, '-e', '0'],
  ];
  for (const c of commands) for (let i = 0; i < 2; i++) once(c);
  const samples: Sample[][] = commands.map(() => []);
  for (let i = 0; i < runs; i++) for (const [k, c] of commands.entries()) samples[k]!.push(once(c));
  commands.forEach((c, k) => {
    const s = samples[k]!;
    const w = s.map((x) => x.wall);
    const u = s.map((x) => x.cpu);
    const name = c[1] === '-e' ? 'node -e 0' : c[1]!.replace(`${REPO}/`, '');
    console.log(
      `| ${name} | ${file.replace(/.*\//, '')} | ${min(w).toFixed(0)} / ${median(w).toFixed(0)} | ${min(u).toFixed(0)} / ${median(u).toFixed(0)} | ${median(s.map((x) => x.rss)).toFixed(0)} |`,
    );
  });
}
