#!/usr/bin/env node
/**
 * Real-world benign run: downloads legitimate model files from npm and Debian packages (scripts/realworld/
 * sources.mjs), scans each package with the modelgate CLI and prints the count of files per verdict. Every
 * file here is published, widely used and loaded by its library without running code, so anything but pass
 * or warn is a false positive (or a format modelgate does not know yet).
 *
 * Needs the network (npm registry, Debian archive) and `npm`, `apt-get`, `dpkg-deb`, `tar`; it is therefore
 * not part of .ci/run (test/realworld/ covers a small committed sample offline).
 *
 *   node scripts/realworld/fetch.mjs [--dir DIR] [--only id,id] [--cli dist/cli.js] [--list N] [--json FILE]
 *
 * --dir keeps the downloads (reused on the next run; default: a new temporary folder, removed at the end),
 * --list prints up to N non-pass files per source with their rule ids (default 10), --json writes the counts.
 * Exit code: 0 when every file passes or warns, 1 otherwise, 3 on a download/usage error.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SOURCES } from './sources.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = parseArgs(process.argv.slice(2));
const cli = resolve(args.cli ?? join(here, '..', '..', 'dist', 'cli.js'));
const only = args.only ? new Set(args.only.split(',')) : undefined;
const listMax = Number(args.list ?? 10);
const keep = args.dir !== undefined;
const root = keep ? resolve(args.dir) : mkdtempSync(join(tmpdir(), 'modelgate-realworld-'));
mkdirSync(root, { recursive: true });
if (!existsSync(cli)) fail(`${cli} not found: run npm run build first`);

const totals = {};
const results = [];
let bad = 0;
try {
  for (const src of SOURCES) {
    if (only && !only.has(src.id)) continue;
    const dir = join(root, src.id);
    const tree = join(dir, 'files');
    if (!existsSync(join(dir, '.done'))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(tree, { recursive: true });
      download(src, dir, tree);
      prune(tree, src.include);
      writeFileSync(join(dir, '.done'), '');
    }
    const out = join(dir, 'report.json');
    // Exit codes 1/2 (blocked, incomplete) are results, not failures of the run.
    const r = spawnSync(process.execPath, [cli, 'scan', tree, '--format', 'json', '--output', out], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (r.status === null || r.status > 2) fail(`scan of ${src.id} failed (exit ${r.status})`);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const counts = {};
    const notPass = [];
    for (const f of report.files) {
      counts[f.verdict] = (counts[f.verdict] ?? 0) + 1;
      totals[f.verdict] = (totals[f.verdict] ?? 0) + 1;
      if (f.verdict !== 'pass') notPass.push(f);
    }
    bad += notPass.filter((f) => f.verdict === 'block' || f.verdict === 'incomplete').length;
    results.push({ id: src.id, package: src.name, files: report.files.length, counts });
    console.log(`${src.id.padEnd(20)} ${String(report.files.length).padStart(6)} files  ${fmt(counts)}`);
    for (const f of notPass.slice(0, listMax)) {
      const rules = [...new Set(f.findings.map((x) => x.ruleId))].join(',');
      console.log(`    ${f.verdict.padEnd(10)} ${f.format.padEnd(14)} ${rules.padEnd(16)} ${f.path}`);
    }
    if (notPass.length > listMax) console.log(`    … ${notPass.length - listMax} more not passing`);
  }
  console.log(`${'total'.padEnd(20)} ${String(sum(totals)).padStart(6)} files  ${fmt(totals)}`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify({ totals, sources: results }, null, 2)}\n`);
} finally {
  if (!keep) rmSync(root, { recursive: true, force: true });
}
process.exit(bad > 0 ? 1 : 0);

function download(src, dir, tree) {
  if (src.kind === 'npm') {
    const name = execFileSync('npm', ['pack', src.name, '--silent', '--pack-destination', dir], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['-xzf', join(dir, name), '-C', tree, '--no-same-owner']);
  } else if (src.kind === 'deb') {
    execFileSync('apt-get', ['download', src.name], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
    if (!deb) fail(`apt-get download ${src.name} produced no .deb`);
    execFileSync('dpkg-deb', ['-x', join(dir, deb), tree]);
  } else fail(`unknown source kind ${src.kind}`);
}

/**
 * Removes the files of the package that `include` does not select (and the folders left empty), and the
 * symbolic links whose target is not in the package: Debian links files to other packages (fonts, DTDs),
 * which are not installed here (modelgate reports a dangling link as MG011, rightly, but it is not a file).
 */
function prune(tree, include) {
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        walk(p);
        if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      } else if ((include && !include.test(relative(tree, p))) || (e.isSymbolicLink() && !existsSync(p)))
        rmSync(p);
    }
  };
  walk(tree);
}

function fmt(counts) {
  return ['pass', 'warn', 'incomplete', 'block'].map((v) => `${v} ${counts[v] ?? 0}`).join('  ');
}

function sum(o) {
  return Object.values(o).reduce((a, b) => a + b, 0);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) fail(`unexpected argument ${a}`);
    out[a.slice(2)] = argv[++i];
  }
  return out;
}

function fail(msg) {
  console.error(`realworld: ${msg}`);
  process.exit(3);
}
