// Bundles the action (dist/index.js) and the CLI (dist/cli.js) with esbuild: one ESM file each, no minification
// so that dist/ stays readable and its diff reviewable. esbuild was chosen over rollup for speed (a rebuild
// takes well under a second, which keeps the "dist is fresh" check cheap in CI and in the pre-stop hook).

import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Bundled CommonJS dependencies call require() for Node built-ins; ESM output has no require, so give it one.
const banner = {
  js: "import { createRequire as __mgCreateRequire } from 'node:module'; const require = __mgCreateRequire(import.meta.url);",
};

rmSync('dist', { recursive: true, force: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  banner,
};
await build({ ...common, entryPoints: ['src/action/index.ts'], outfile: 'dist/index.js' });
await build({
  ...common,
  entryPoints: ['src/cli/index.ts'],
  outfile: 'dist/cli.js',
  banner: { js: `#!/usr/bin/env node\n${banner.js}` },
});
