// The core knows nothing of its faces: no module under src/core imports from src/action or src/cli.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('src/core imports no face (action, cli)', () => {
  const core = join(ROOT, 'src', 'core');
  const offending: string[] = [];
  for (const file of sources(core)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = relative(join(ROOT, 'src'), resolve(dirname(file), m[1]!));
      if (/^(action|cli)(\/|$)/.test(target)) offending.push(`${relative(ROOT, file)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(offending, []);
});
