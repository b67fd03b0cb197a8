// The built CLI (dist/cli.js) evaluates its heavy dependencies only when a run uses them (src/core/lazy.ts):
// a scan of one pickle must not pay for protobufjs, the @sigstore packages, the Python parser or Node's HTTP
// and socket modules at start-up (issue 13 counts the process start against the 10x-of-openssl target).
// What ran is read from V8's own coverage of the process (NODE_V8_COVERAGE): esbuild wraps each bundled file
// it evaluates lazily in a function named after its path (`node_modules/protobufjs/src/index.js`), whose call
// count says whether that file was evaluated, and every Node module loaded is a script of its own
// (`node:https`). The ONNX, Python and signature runs below are the positive controls: they must see those
// same packages evaluated, so the probe cannot pass by seeing nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { buildDist, DIST_CLI } from '../action/harness.js';
import { FIXTURES, tempDir } from '../helpers.js';

before(() => buildDist(), { timeout: 180_000 });

/** Packages loaded lazily: never evaluated by a run that does not read a protobuf or a signature. */
const PROTOBUF = ['protobufjs', 'long'];
const SIGSTORE = ['@sigstore/bundle', '@sigstore/core', '@sigstore/protobuf-specs', '@sigstore/verify'];
const LEZER = ['@lezer/python', '@lezer/lr', '@lezer/common', '@lezer/highlight'];
/** Node modules only remote scans need. (node:net is not among them: a pipe or terminal as stdout loads it.) */
const NODE = ['node:http', 'node:https', 'node:tls'];

interface Coverage {
  result: Array<{
    url: string;
    functions: Array<{ functionName: string; ranges: Array<{ count: number }> }>;
  }>;
}

/**
 * Runs the bundled CLI; returns its exit code, the packages whose bundled files it evaluated and the Node
 * modules any of its threads loaded.
 */
async function evaluatedBy(t: { after: (fn: () => void) => void }, args: string[]) {
  const cov = tempDir((fn) => t.after(fn), 'mg-lazy-cov-');
  const code = await new Promise<number>((res) =>
    execFile(
      process.execPath,
      [DIST_CLI, ...args],
      // No code cache: what a run evaluates does not depend on it, and the test leaves nothing behind.
      { env: { ...process.env, NODE_V8_COVERAGE: cov, MODELGATE_NO_CACHE: '1' }, maxBuffer: 64 * 2 ** 20 },
      (err) => res(err ? Number(err.code ?? 99) : 0),
    ),
  );
  const scripts = readdirSync(cov).flatMap(
    (f) => (JSON.parse(readFileSync(join(cov, f), 'utf8')) as Coverage).result,
  );
  // The launcher compiles the bundle as a script named dist/cli-main.cjs (its source map's neighbour).
  const bundle = scripts.filter((s) => s.url.endsWith('/cli-main.cjs'));
  assert.equal(bundle.length, 1, 'the bundle is in the coverage once');
  const packages = new Set<string>();
  for (const f of bundle[0]!.functions) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f.functionName);
    if (m && f.ranges[0]!.count > 0) packages.add(m[1]!);
  }
  const builtins = new Set(scripts.map((s) => s.url).filter((u) => u.startsWith('node:')));
  return { code, packages, builtins };
}

test('a pickle scan evaluates neither protobufjs, the @sigstore packages, the Python parser nor node:http', async (t) => {
  const { code, packages, builtins } = await evaluatedBy(t, [
    'scan',
    join(FIXTURES, 'pickle', 'benign', 'data_p4.pkl'),
    '-f',
    'json',
  ]);
  assert.equal(code, 0);
  for (const p of [...PROTOBUF, ...SIGSTORE, ...LEZER]) assert.ok(!packages.has(p), `${p} was evaluated`);
  for (const m of NODE) assert.ok(!builtins.has(m), `${m} was loaded`);
  // Not vacuous: the scan's hashing thread is loaded from node:worker_threads.
  assert.ok(builtins.has('node:worker_threads'));
});

test('control: an ONNX scan evaluates protobufjs, Python code the parser, a signed folder the @sigstore packages', async (t) => {
  const onnx = await evaluatedBy(t, ['scan', join(FIXTURES, 'onnx', 'mlp.onnx'), '-f', 'json']);
  assert.equal(onnx.code, 0);
  for (const p of PROTOBUF) assert.ok(onnx.packages.has(p), `${p} was not evaluated`);
  for (const p of [...SIGSTORE, ...LEZER]) assert.ok(!onnx.packages.has(p), `${p} was evaluated`);
  const python = await evaluatedBy(t, [
    'scan',
    join(FIXTURES, 'huggingface', 'remote_code_evil'),
    '-f',
    'json',
  ]);
  assert.equal(python.code, 1, 'remote code blocks');
  for (const p of LEZER) assert.ok(python.packages.has(p), `${p} was not evaluated`);
  const oms = join(FIXTURES, 'trust', 'oms');
  const signed = await evaluatedBy(t, [
    'verify',
    join(oms, 'v1.1.0-sigstore'),
    '--trusted-identity',
    'stefanb@us.ibm.com',
    '--trusted-issuer',
    'https://sigstore.verify.ibm.com/oauth2',
    '--trusted-root',
    join(oms, 'trusted_root.json'),
  ]);
  assert.equal(signed.code, 0, 'verified');
  for (const p of SIGSTORE) assert.ok(signed.packages.has(p), `${p} was not evaluated`);
});
