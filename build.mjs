// Bundles the action (dist/index.js) and the CLI with esbuild, no minification so that dist/ stays readable and
// its diff reviewable. esbuild was chosen over rollup for speed (a rebuild takes well under a second, which keeps
// the "dist is fresh" check cheap in CI and in the pre-stop hook).
//
// The CLI is one file, dist/cli.js (the package's `bin`): a small ES module launcher (src/cli/launcher.ts)
// holding the whole command as the text of one CommonJS bundle, which it compiles through V8's code cache
// (CommonJS because a vm.Script, which takes the cache, runs scripts, not modules). The bundle is built as
// dist/cli-main.cjs, checked, put inside the launcher (scripts/build-launcher.mjs) and removed; its source map
// stays beside the launcher.
//
// Beside the bundles: source maps (stack traces point at src/; the action turns Node's source maps on at start,
// the launcher maps the CLI bundle's frames itself) and dist/THIRD_PARTY_NOTICES.txt, the licence of every
// package whose code the bundles contain, collected from esbuild's metafile so it lists exactly what was bundled
// (the dist-freshness check keeps it in step).

import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, sep } from 'node:path';
import { build } from 'esbuild';
import { buildLauncher } from './scripts/build-launcher.mjs';

// Bundled CommonJS dependencies call require() for Node built-ins; ESM output has no require, so give it one.
// Source maps: Node maps stack traces through them only when asked.
const prelude =
  "import { createRequire as __mgCreateRequire } from 'node:module'; const require = __mgCreateRequire(import.meta.url); process.setSourceMapsEnabled(true);";

/**
 * Optional packages that a bundled dependency require()s inside try/catch and does without (`debug` looks for
 * supports-color). They are not installed here either; resolving them to an empty module keeps the bundle
 * from looking for them on disk at run time, so dist/ behaves the same wherever it is copied.
 */
const ABSENT_OPTIONAL = ['supports-color'];
const absentOptional = {
  name: 'absent-optional',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${ABSENT_OPTIONAL.join('|')})$`) }, (a) => ({
      path: a.path,
      namespace: 'absent-optional',
    }));
    b.onLoad({ filter: /.*/, namespace: 'absent-optional' }, () => ({
      contents: 'module.exports = undefined;',
    }));
  },
};

rmSync('dist', { recursive: true, force: true });
const common = {
  plugins: [absentOptional],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Linked maps without the sources: they point at src/ in the repository, and keep dist/ small.
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};
const bundles = [
  await build({
    ...common,
    entryPoints: ['src/action/index.ts'],
    outfile: 'dist/index.js',
    banner: { js: prelude },
  }),
  // CommonJS has its own `require`; esbuild keeps the strict mode of the ES modules the bundle is made of.
  await build({
    ...common,
    entryPoints: ['src/cli/index.ts'],
    outfile: 'dist/cli-main.cjs',
    format: 'cjs',
  }),
];
asciiOnly('dist/cli-main.cjs');
auditSelfContained(bundles);

const launcher = await buildLauncher(readFileSync('dist/cli-main.cjs', 'latin1'), 'dist/cli.js');
rmSync('dist/cli-main.cjs');
// The launcher's own code is compiled without the cache on every run: it must stay small, the engine stays in
// the bundle it holds.
const launcherInputs = Object.keys(launcher.metafile.inputs);
if (launcherInputs.join() !== 'src/cli/launcher.ts') {
  console.error(`build.mjs: the launcher must import only Node built-ins, not ${launcherInputs.join(', ')}`);
  process.exit(1);
}
bundles.push(launcher);

writeFileSync(
  'dist/THIRD_PARTY_NOTICES.txt',
  notices(bundles.flatMap((b) => Object.keys(b.metafile.inputs))),
);

/**
 * The action runs from dist/ alone (a runner has no node_modules), so a bundle may load at run time nothing
 * but itself and Node built-ins (the CLI's launcher holds its bundle, audited before it is put there). esbuild leaves what it could not bundle as an external import (listed in the
 * metafile: an unresolvable require, a createRequire'd name is not even seen), and turns a require() whose
 * argument is computed into `__require(expr)`. Both fail the build. (test/bundle/isolated.test.ts runs the
 * bundles from an empty temp folder to prove it.)
 */
function auditSelfContained(results) {
  const problems = [];
  for (const r of results) {
    for (const [file, out] of Object.entries(r.metafile.outputs)) {
      if (!/\.c?js$/.test(file)) continue;
      for (const imp of out.imports) {
        if (imp.external && !isBuiltin(imp.path))
          problems.push(`${file}: "${imp.path}" (${imp.kind}) is not bundled`);
        // The CLI's launcher runs this bundle as a vm.Script, which has no dynamic import() (it throws at
        // run time): a built-in loaded on first use goes through process.getBuiltinModule (src/core/lazy.ts).
        else if (imp.external && imp.kind === 'dynamic-import' && file.endsWith('.cjs'))
          problems.push(`${file}: import("${imp.path}") cannot run in the launcher's vm.Script`);
      }
      const text = readFileSync(file, 'utf8');
      // Functions made by createRequire (ours in the prelude, or a dependency's) may load built-ins only, and so
      // may CommonJS's require(), which CommonJS output keeps as written.
      const made = [...text.matchAll(/([\w$]+)\s*=\s*(?:createRequire[\w$]*|__mgCreateRequire)\(/g)].map(
        (m) => m[1],
      );
      if (file.endsWith('.cjs')) made.push('require');
      for (const name of made) {
        for (const [call, arg] of text.matchAll(
          new RegExp(`(?<![\\w$.])${name.replace('$', '\\$')}\\(([^)]{0,200})\\)`, 'g'),
        )) {
          const lit = stripComments(arg).match(/^(["'])([^"']+)\1$/);
          if (!lit || !isBuiltin(lit[2])) problems.push(`${file}: ${call} loads a module at run time`);
        }
      }
      // (CommonJS output names the function that runs a bundled module `__require` too: not a call.)
      for (const [call, arg] of text.matchAll(/(?<!function )__require\(([^)]{0,200})\)/g)) {
        const literal = stripComments(arg).startsWith('"');
        if (!literal) problems.push(`${file}: ${call} loads a module named at run time`);
      }
    }
  }
  if (problems.length > 0) {
    console.error(`build.mjs: the bundles are not self-contained:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}

/**
 * esbuild escapes non-ASCII characters in code (charset ascii) but keeps them in the comments it preserves. The
 * launcher holds the bundle as a string literal, a one-byte string in V8 when the text is ASCII (half the
 * memory, which V8 keeps for as long as the process runs), so the few left are escaped too: `\uXXXX` means the
 * same character in a string, template, regular expression or identifier, and nothing in a comment.
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(file, ascii);
}

/** A call's argument without its comments (protobufjs writes a webpackIgnore comment inside require). */
function stripComments(arg) {
  return arg.replace(/\/\*[\s\S]*?\*\//g, '').trim();
}

/** The package directory (under node_modules) of each bundled input file, and its licence text. */
function notices(inputs) {
  const dirs = new Set();
  for (const input of inputs) {
    const parts = input.split(/[\\/]/);
    const i = parts.lastIndexOf('node_modules');
    if (i < 0) continue;
    const name = parts[i + 1].startsWith('@') ? parts.slice(i + 1, i + 3) : [parts[i + 1]];
    dirs.add([...parts.slice(0, i + 1), ...name].join(sep));
  }
  const sections = [...dirs]
    .map((dir) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const licenceFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
      const text = licenceFile ? readFileSync(join(dir, licenceFile), 'utf8').trim() : undefined;
      if (!text && !pkg.license) throw new Error(`${pkg.name}: bundled, but it states no licence`);
      return {
        id: `${pkg.name}@${pkg.version}`,
        body: `${pkg.name} ${pkg.version} (${pkg.license ?? 'see text'})${pkg.repository ? `\n${repoUrl(pkg.repository)}` : ''}\n\n${text ?? `Licensed under ${pkg.license}; the package ships no licence file.`}`,
      };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const seen = new Set();
  const unique = sections.filter((s) => !seen.has(s.id) && seen.add(s.id));
  const head = `modelgate bundles the following third-party packages into dist/index.js and dist/cli.js.\nTheir licences follow, one section per package (generated by build.mjs from the bundles' inputs).\n`;
  return `${head}\n${unique.map((s) => `${'='.repeat(78)}\n${s.body}\n`).join('\n')}`;
}

function repoUrl(repository) {
  return typeof repository === 'string' ? repository : (repository.url ?? '');
}
