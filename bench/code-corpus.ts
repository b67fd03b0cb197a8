/**
 * Counts how the chat-template and model-code fixtures fare: real files that pass with no finding, attack
 * files that block. `npx tsx bench/code-corpus.ts [path/to/src/core/scan.ts]` (default: this checkout), so
 * the same fixtures can be measured against another checkout's analyzer for a before/after comparison.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const here = resolve(import.meta.dirname, '..');
const scanModule = resolve(process.argv[2] ?? join(here, 'src/core/scan.ts'));
const { scanPaths } = (await import(pathToFileURL(scanModule).href)) as typeof import('../src/core/scan.js');

/**
 * `clean`: no finding at all; `pass`: not blocked (Python files next to a model always carry MG461, "code
 * that trust_remote_code would run", so they are scanned beside a config.json as a model folder holds them).
 */
const SETS: Array<{ dir: string; expect: 'clean' | 'pass' | 'block'; ext: RegExp }> = [
  { dir: 'test/fixtures/template', expect: 'clean', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/real', expect: 'clean', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/ordinary', expect: 'clean', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/malicious', expect: 'block', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/dos', expect: 'block', ext: /\.jinja$/ },
  { dir: 'test/fixtures/template/metadata', expect: 'block', ext: /\.json$/ },
  { dir: 'test/fixtures/python/real', expect: 'pass', ext: /\.py$/ },
  { dir: 'test/fixtures/python/malicious', expect: 'block', ext: /\.py$/ },
];

for (const set of SETS) {
  const dir = join(here, set.dir);
  if (!existsSync(dir)) continue;
  const files = readdirSync(dir).filter((f) => set.ext.test(f));
  let ok = 0;
  const misses: string[] = [];
  for (const f of files) {
    let path = join(dir, f);
    let tmp: string | undefined;
    if (f.endsWith('.py')) {
      tmp = mkdtempSync(join(tmpdir(), 'mg-corpus-'));
      writeFileSync(join(tmp, 'config.json'), '{"model_type": "custom"}');
      copyFileSync(path, join(tmp, f));
      path = join(tmp, f);
    }
    const r = await scanPaths([path]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    const file = r.files.at(0)!;
    const good =
      set.expect === 'clean'
        ? file.findings.length === 0
        : set.expect === 'pass'
          ? file.verdict !== 'block'
          : file.verdict === 'block';
    if (good) ok++;
    else misses.push(`${f} (${file.verdict}: ${[...new Set(file.findings.map((x) => x.ruleId))].join(' ')})`);
  }
  const what =
    set.expect === 'clean' ? 'pass with no finding' : set.expect === 'pass' ? 'do not block' : 'block';
  console.log(`${set.dir}: ${ok}/${files.length} ${what}`);
  for (const m of misses) console.log(`  - ${m}`);
}
