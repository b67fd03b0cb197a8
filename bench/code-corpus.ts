/**
 * Counts how the chat-template and model-code fixtures fare: real files that pass with no finding, attack
 * files that block. `npx tsx bench/code-corpus.ts [path/to/src/core/scan.ts]` (default: this checkout), so
 * the same fixtures can be measured against another checkout's analyzer for a before/after comparison.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = resolve(import.meta.dirname, '..');
const scanModule = resolve(process.argv[2] ?? join(here, 'src/core/scan.ts'));
const { scanPaths } = (await import(pathToFileURL(scanModule).href)) as typeof import('../src/core/scan.js');

const SETS: Array<{ dir: string; expect: 'clean' | 'block'; ext: RegExp }> = [
  { dir: 'test/fixtures/template', expect: 'clean', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/real', expect: 'clean', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/ordinary', expect: 'clean', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/malicious', expect: 'block', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/dos', expect: 'block', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/metadata', expect: 'block', ext: /\.json$/ },
  { dir: 'test/fixtures/python/real', expect: 'clean', ext: /\.py$/ },
  { dir: 'test/fixtures/python/malicious', expect: 'block', ext: /\.py$/ },
];

for (const set of SETS) {
  const dir = join(here, set.dir);
  if (!existsSync(dir)) continue;
  const files = readdirSync(dir).filter((f) => set.ext.test(f));
  let ok = 0;
  const misses: string[] = [];
  for (const f of files) {
    const r = await scanPaths([join(dir, f)]);
    const file = r.files[0]!;
    const good = set.expect === 'clean' ? file.findings.length === 0 : file.verdict === 'block';
    if (good) ok++;
    else misses.push(`${f} (${file.verdict}: ${[...new Set(file.findings.map((x) => x.ruleId))].join(' ')})`);
  }
  const what = set.expect === 'clean' ? 'pass with no finding' : 'block';
  console.log(`${set.dir}: ${ok}/${files.length} ${what}`);
  for (const m of misses) console.log(`  - ${m}`);
}
