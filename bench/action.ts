/**
 * The GitHub Action end to end (dist/index.js as the runner runs it) on generated repositories in /tmp:
 *   1. a pull request that adds 1000 small safetensors files to a repository of 5000 files: the action's
 *      overhead (git diff of the change, base-branch policy, reports, summary, SARIF) against the CLI
 *      scanning the same 1000 files;
 *   2. a pull request that adds one large safetensors file (default 512 MiB): throughput and peak RSS against
 *      `openssl dgst -sha256` on the same file, measured in the same run.
 * No GitHub API is needed: comment: never, token empty, the base commit is in the local history.
 *
 *   node build.mjs && node --import tsx bench/action.ts [--big-mb 512] [--small 1000]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, ensureFile, opensslSha256, REPO, writeRandom } from './lib.js';

const { values } = parseArgs({
  options: { 'big-mb': { type: 'string', default: '512' }, small: { type: 'string', default: '1000' } },
});
const BIG = Number(values['big-mb']) * 2 ** 20;
const SMALL = Number(values.small);
const DIST = join(REPO, 'dist', 'index.js');
const CLI = join(REPO, 'dist', 'cli.js');
const RSS_HOOK =
  "--import=data:text/javascript,process.on('exit',()=>process.stderr.write('MAXRSS%20'+process.resourceUsage().maxRSS+'\\n'))";

function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'b',
      GIT_AUTHOR_EMAIL: 'b@b',
      GIT_COMMITTER_NAME: 'b',
      GIT_COMMITTER_EMAIL: 'b@b',
    },
  }).trim();
}

function safetensors(n: number, seed: number): Buffer {
  const header = JSON.stringify({ [`w${seed}`]: { dtype: 'F32', shape: [n], data_offsets: [0, n * 4] } });
  const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
  const out = Buffer.alloc(8 + padded.length + n * 4);
  out.writeBigUInt64LE(BigInt(padded.length));
  out.write(padded, 8);
  for (let i = 0; i < n; i++) out.writeFloatLE((i * seed) % 7, 8 + padded.length + i * 4);
  return out;
}

interface Run {
  seconds: number;
  peakRss: number;
  code: number;
}

function timed(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
      cwd,
      env: { ...env, NODE_OPTIONS: RSS_HOOK },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', rej);
    child.on('close', (code) => {
      const m = /MAXRSS (\d+)/.exec(err);
      res({
        seconds: (performance.now() - t0) / 1000,
        peakRss: Number(m?.[1] ?? 0) * 1024,
        code: code ?? -1,
      });
    });
  });
}

function actionEnv(ws: string, base: string, head: string): NodeJS.ProcessEnv {
  const tmp = join(ws, '..');
  const event = join(tmp, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({
      pull_request: {
        number: 1,
        base: { sha: base, ref: 'main' },
        head: { sha: head, repo: { full_name: 'o/r' } },
      },
      repository: { full_name: 'o/r', default_branch: 'main' },
    }),
  );
  const out = join(tmp, 'out');
  const sum = join(tmp, 'summary.md');
  writeFileSync(out, '');
  writeFileSync(sum, '');
  const inputs: Record<string, string> = {
    path: '.',
    config: '.github/modelgate.yml',
    comment: 'never',
    annotations: 'true',
    'sarif-file': '../modelgate.sarif',
    'report-file': '../modelgate-report.json',
    lfs: 'fetch',
    cache: 'true',
    token: '',
  };
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event,
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_WORKSPACE: ws,
    GITHUB_OUTPUT: out,
    GITHUB_STEP_SUMMARY: sum,
    GITHUB_SHA: head,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return env;
}

function repo(
  name: string,
  build: (ws: string) => Promise<void> | void,
  change: (ws: string) => Promise<string[]> | string[],
) {
  return async () => {
    const root = join(BENCH_DIR, name);
    const ws = join(root, 'ws');
    const marker = join(root, 'ready');
    if (!existsSync(marker)) {
      rmSync(root, { recursive: true, force: true });
      mkdirSync(ws, { recursive: true });
      gitIn(ws, 'init', '-q', '-b', 'main');
      await build(ws);
      gitIn(ws, 'add', '-A');
      gitIn(ws, 'commit', '-q', '-m', 'base');
      const changed = await change(ws);
      gitIn(ws, 'add', '-A');
      gitIn(ws, 'commit', '-q', '-m', 'pr');
      writeFileSync(marker, JSON.stringify(changed));
    }
    const base = gitIn(ws, 'rev-parse', 'HEAD~1');
    const head = gitIn(ws, 'rev-parse', 'HEAD');
    const changed = JSON.parse(execFileSync('cat', [marker], { encoding: 'utf8' })) as string[];
    return { ws, base, head, changed };
  };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0);
const row = (cells: Array<string | number>) => console.log(`| ${cells.join(' | ')} |`);

async function main() {
  console.log('| case | tool | files | MB | seconds | MB/s | peak RSS MB | vs |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |');

  const small = await repo(
    `action-small-${SMALL}`,
    (ws) => {
      for (let i = 0; i < 5000; i++) {
        mkdirSync(join(ws, `src/d${i % 50}`), { recursive: true });
        writeFileSync(join(ws, `src/d${i % 50}/f${i}.py`), `x = ${i}\n`);
      }
    },
    (ws) => {
      const out: string[] = [];
      for (let i = 0; i < SMALL; i++) {
        const p = `models/m${i % 20}/w${i}.safetensors`;
        mkdirSync(join(ws, `models/m${i % 20}`), { recursive: true });
        writeFileSync(join(ws, p), safetensors(512 + (i % 64), i + 1));
        out.push(p);
      }
      return out;
    },
  )();
  const a = await timed([DIST], actionEnv(small.ws, small.base, small.head), small.ws);
  const c = await timed(
    [CLI, 'scan', '--format', 'json', '--output', join(small.ws, '..', 'cli.json'), ...small.changed],
    { ...process.env },
    small.ws,
  );
  row([
    `PR adds ${SMALL} small models (repo of ${5000 + SMALL})`,
    'action',
    SMALL,
    '-',
    a.seconds.toFixed(2),
    '-',
    mb(a.peakRss),
    `exit ${a.code}`,
  ]);
  row([
    'same files',
    'CLI scan',
    SMALL,
    '-',
    c.seconds.toFixed(2),
    '-',
    mb(c.peakRss),
    `action overhead ${(a.seconds - c.seconds).toFixed(2)} s`,
  ]);

  const big = await repo(
    `action-big-${values['big-mb']}`,
    (ws) => writeFileSync(join(ws, 'README.md'), 'models\n'),
    async (ws) => {
      const p = 'models/big.safetensors';
      mkdirSync(join(ws, 'models'), { recursive: true });
      const n = Math.floor((BIG - 64) / 4);
      const header = JSON.stringify({ w: { dtype: 'F32', shape: [n], data_offsets: [0, n * 4] } });
      const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
      await ensureFile(join(ws, p), async (w) => {
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(padded.length));
        await w(len);
        await w(padded);
        await writeRandom(w, n * 4);
      });
      return [p];
    },
  )();
  const file = join(big.ws, big.changed[0]!);
  opensslSha256(file); // warm the page cache
  const ab = await timed([DIST], actionEnv(big.ws, big.base, big.head), big.ws);
  const o = opensslSha256(file);
  const bytes = BIG;
  row([
    `PR adds one ${mb(bytes)} MB safetensors`,
    'action',
    1,
    mb(bytes),
    ab.seconds.toFixed(2),
    (bytes / 2 ** 20 / ab.seconds).toFixed(0),
    mb(ab.peakRss),
    `exit ${ab.code}`,
  ]);
  row([
    'same file',
    'openssl dgst -sha256',
    1,
    mb(bytes),
    o.seconds.toFixed(2),
    (bytes / 2 ** 20 / o.seconds).toFixed(0),
    '-',
    `action/openssl ${(ab.seconds / o.seconds).toFixed(2)}x`,
  ]);
}

await main();
