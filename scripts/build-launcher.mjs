// Builds the CLI's launcher (src/cli/launcher.ts) with the CLI bundle's text inside it, so that dist/cli.js is
// one self-contained file, run from any folder alone (as a runner or `npx` runs it), and still compiles the
// bundle through V8's code cache. Used by build.mjs and by the launcher's tests (a synthetic bundle).
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** CommonJS's function wrapper, its head on the bundle's first line (line numbers stay the bundle's). */
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n});';

/**
 * Writes `outfile`: the launcher, with `bundle` (CommonJS source text, ASCII) in CommonJS's wrapper, in a
 * comment that is the body of MODELGATE_CLI_BUNDLE_HOLDER (each `*\/` written `*\x01/`: see launcher.ts),
 * and that text's SHA-256 (which names its code cache) as MODELGATE_CLI_BUNDLE_SHA256. Returns esbuild's
 * result (its metafile names the launcher's inputs).
 */
export async function buildLauncher(bundle, outfile) {
  const wrapped = WRAP_HEAD + bundle + WRAP_TAIL;
  // The escape of `*/` below must not be confused with the text (which may hold raw control characters).
  if (wrapped.includes('\x01')) throw new Error('the CLI bundle holds a raw \\x01, the escape of its */');
  return build({
    entryPoints: [fileURLToPath(new URL('../src/cli/launcher.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    banner: { js: '#!/usr/bin/env node' },
    // A few hundred readable lines and a comment: no map needed (the bundle's own map is beside it).
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // A function declaration, hoisted: the launcher's top level reads it before this line.
    footer: { js: `function MODELGATE_CLI_BUNDLE_HOLDER() {/*${wrapped.replaceAll('*/', '*\x01/')}*/}` },
    define: {
      MODELGATE_CLI_WRAP_HEAD: JSON.stringify(WRAP_HEAD),
      MODELGATE_CLI_BUNDLE_SHA256: JSON.stringify(
        createHash('sha256').update(wrapped, 'latin1').digest('hex'),
      ),
    },
  });
}
