// dist/cli.js: the `modelgate` command as installed. It holds the CLI bundle (src/cli/index.ts built as one
// CommonJS script, in MODELGATE_CLI_BUNDLE_HOLDER: build.mjs puts its text here, so that this file runs alone
// from any folder) and compiles it through V8's code cache, so that a run after the first skips compiling the 3 MB bundle and the functions the
// previous run compiled lazily (about 70 ms of a trivial scan's 190 ms on a 2-core machine; bench/README.md).
//
// Node >= 22.1 has module.enableCompileCache() for this; our engines range includes Node 20, so this is the one
// mechanism that works on 20, 22 and 24: the bundle is CommonJS, compiled as a vm.Script with `cachedData`, and
// the cache is produced at exit by script.createCachedData() (it then holds the lazily compiled functions too).
//
// Security: code loaded from the cache is code we run. So the cache is the user's own: a directory that is
// really a directory (not a link), owned by the current uid and writable by nobody else, holding files that
// pass the same checks and carry a sha256 of their payload (V8 checks only the source's length, and release
// builds do not verify its checksum). It is off when CI or GITHUB_ACTIONS is set (a one-shot CI run gains
// nothing, and on a self-hosted runner a cache surviving across jobs would let one job's code steer a later
// job's scanner), when MODELGATE_NO_CACHE is set, and where there are no uids (Windows). Every failure (no
// home, read-only or foreign folder, corrupt file) falls back to compiling without the cache, silently:
// NODE_DEBUG=modelgate says what happened. This file imports nothing from the engine (build.mjs checks it),
// so it stays small enough that compiling it costs nothing.
import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, SourceMap } from 'node:module';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { debuglog } from 'node:util';
import { Script } from 'node:vm';

const debug = debuglog('modelgate');

/**
 * The CLI bundle's text, already inside CommonJS's function wrapper, whose head (on the bundle's first line,
 * so that line numbers stay those of the bundle) is MODELGATE_CLI_WRAP_HEAD. scripts/build-launcher.mjs
 * appends the text to this file as the body of this function, which is never called, in a comment: `/*`,
 * the text with each `*\/` written `*\x01/` (it refuses a text holding \x01, so the escape cannot be
 * confused with the text), `*\/`. A comment and not a string literal: V8 compiles this module over a 3 MB
 * comment in about 5 ms, over a literal of the same text in about 17 (bench/README.md, "CLI start-up").
 * Function.prototype.toString gives a function's exact source text (ECMAScript 2019): a slice of this
 * file's source, which V8 holds anyway. The text is ASCII: a one-byte string.
 */
declare function MODELGATE_CLI_BUNDLE_HOLDER(): void;
declare const MODELGATE_CLI_WRAP_HEAD: string;
/** SHA-256 of the bundle's text (latin1), hex, computed at build time: hashing 3 MB costs 4 ms a run. */
declare const MODELGATE_CLI_BUNDLE_SHA256: string;

/** The bundle's text, out of MODELGATE_CLI_BUNDLE_HOLDER's comment. */
function bundleText(): string {
  const src = MODELGATE_CLI_BUNDLE_HOLDER.toString();
  return src.slice(src.indexOf('/*') + 2, src.lastIndexOf('*/')).replaceAll('*\x01/', '*/');
}

/** The bundle's name in stack traces, beside this file, where its source map is (dist/cli-main.cjs.map). */
const MAIN = fileURLToPath(new URL('./cli-main.cjs', import.meta.url));

/** A cache file: magic, sha256 of the rest, one flag byte, then V8's data. */
const MAGIC = Buffer.from('MGV8CC01');
const HEADER = MAGIC.length + 32 + 1;
/** Flag: the data was made by a `scan` that ran to a verdict, so it holds the scan's functions. */
const FROM_SCAN = 1;
/** Larger files are not ours (the data is a few MB); bounds what a read can cost. */
const MAX_BYTES = 64 * 2 ** 20;
/** Cache files kept per directory (installs, Node versions, flag sets), the newest first. */
const KEEP = 8;

interface CacheFile {
  dir: string;
  path: string;
}

/** The cache directory, or undefined when caching is off or the folder cannot be named. */
function cacheDir(): string | undefined {
  const env = process.env;
  if (env.CI || env.GITHUB_ACTIONS) return undefined;
  if (env.MODELGATE_NO_CACHE && env.MODELGATE_NO_CACHE !== '0') return undefined;
  if (typeof process.getuid !== 'function') return undefined;
  if (env.MODELGATE_CACHE_DIR) return resolve(env.MODELGATE_CACHE_DIR);
  // XDG: a relative XDG_CACHE_HOME is invalid and ignored.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'modelgate');
  const home = homedir();
  return home && isAbsolute(home) ? join(home, '.cache', 'modelgate') : undefined;
}

/** Ours and no one else's: owned by this uid, writable by neither group nor others. */
function isPrivate(st: Stats): boolean {
  return st.uid === process.getuid!() && (st.mode & 0o022) === 0;
}

/**
 * Why `dir` cannot hold the cache, or undefined if it can: it must be a real directory (lstat: a link is
 * refused even if it points at a good one) that only we can change.
 */
function unsafeDir(dir: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return 'absent';
  }
  return st.isDirectory() && isPrivate(st) ? undefined : 'not a private directory of this user';
}

/**
 * The file for this bundle, this Node and these V8 flags: a new build, Node or flag set never reuses another's
 * data (V8 would reject most mismatches itself, but it compares only the source's length).
 */
function cacheFile(): CacheFile | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  const bundle = MODELGATE_CLI_BUNDLE_SHA256.slice(0, 32);
  // V8 flags reach the process through the command line and NODE_OPTIONS.
  const flags = createHash('sha256')
    .update(`${process.execArgv.join('\0')}\n${process.env.NODE_OPTIONS ?? ''}`)
    .digest('hex')
    .slice(0, 8);
  return { dir, path: join(dir, `cli-${process.version}-${process.arch}-${bundle}-${flags}.v8cache`) };
}

/** The V8 data of a valid cache file, with its flag byte; undefined when absent, foreign or corrupt. */
function readCache(c: CacheFile): { data: Buffer; flags: number } | undefined {
  const unsafe = unsafeDir(c.dir);
  if (unsafe) {
    debug('code cache: %s %s: not used', c.dir, unsafe);
    return undefined;
  }
  let fd: number;
  try {
    fd = openSync(c.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    debug('code cache: %s absent', c.path);
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !isPrivate(st)) {
      debug('code cache: %s is not a private file of this user: not used', c.path);
      return undefined;
    }
    const buf = st.size >= HEADER && st.size <= MAX_BYTES ? readFileSync(fd) : Buffer.alloc(0);
    const payload = buf.subarray(MAGIC.length + 32);
    if (
      buf.length < HEADER ||
      !buf.subarray(0, MAGIC.length).equals(MAGIC) ||
      !createHash('sha256')
        .update(payload)
        .digest()
        .equals(buf.subarray(MAGIC.length, MAGIC.length + 32))
    ) {
      debug('code cache: %s is corrupt', c.path);
      return undefined;
    }
    return { data: payload.subarray(1), flags: payload[0]! };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes the folder (0700) and the missing ones above it, but only inside a folder of this user: `sudo` keeping
 * the caller's HOME must not leave root's folders in the caller's home (nor root's cache in the caller's
 * folder: unsafeDir refuses an existing folder of another user).
 */
function makeDir(dir: string): void {
  let top = dir;
  for (;;) {
    try {
      if (lstatSync(top).uid !== process.getuid!()) return;
      break;
    } catch {
      if (dirname(top) === top) return;
      top = dirname(top);
    }
  }
  if (top !== dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Writes the cache atomically (a private temp file renamed over), then trims the folder; never throws. */
function writeCache(c: CacheFile, data: Buffer, flags: number): void {
  const tmp = `${c.path}.${process.pid}.tmp`;
  try {
    makeDir(c.dir);
    const unsafe = unsafeDir(c.dir);
    if (unsafe) {
      debug('code cache: %s %s: not written', c.dir, unsafe);
      return;
    }
    const payload = Buffer.concat([Buffer.from([flags]), data]);
    const sum = createHash('sha256').update(payload).digest();
    writeFileSync(tmp, Buffer.concat([MAGIC, sum, payload]), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, c.path);
    debug('code cache: wrote %s (%d bytes)', c.path, data.length);
    trim(c);
  } catch (err) {
    debug('code cache: not written: %s', (err as Error).message);
    try {
      unlinkSync(tmp);
    } catch {}
  }
}

/** Keeps the KEEP newest cache files (other builds and Node versions accumulate otherwise). */
function trim(c: CacheFile): void {
  const files: Array<{ p: string; t: number }> = [];
  for (const n of readdirSync(c.dir)) {
    if (!n.startsWith('cli-') || !n.endsWith('.v8cache')) continue;
    try {
      files.push({ p: join(c.dir, n), t: statSync(join(c.dir, n)).mtimeMs });
    } catch {} // another run trimmed it first
  }
  files.sort((a, b) => b.t - a.t);
  for (const f of files.slice(KEEP)) {
    try {
      if (f.p !== c.path) unlinkSync(f.p);
    } catch {}
  }
}

/**
 * Stack traces through the bundle's source map. With source maps on, Node maps the frames of the modules it
 * loads, not those of a vm.Script (checked on Node 20, 22 and 24), so the frames in the bundle are mapped here,
 * each to its src/ file, line and column; other frames are left as V8 writes them. The map is read on the
 * first stack that needs it (an internal error), never on a normal run.
 */
function mapStacks(script: Script): void {
  const url = script.sourceMapURL;
  if (!url || url.startsWith('data:')) return;
  const mapFile = resolve(dirname(MAIN), url);
  let map: SourceMap | null | undefined;
  const fallback = Error.prepareStackTrace;
  Error.prepareStackTrace = (error, frames) => {
    if (!frames.some((f) => f.getFileName() === MAIN)) {
      if (fallback) return fallback(error, frames);
    } else if (map === undefined) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
      } catch {
        map = null;
      }
    }
    let head: string;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = '<error>';
    }
    const lines = frames.map((f) => {
      const text = String(f);
      const line = f.getLineNumber();
      const col = f.getColumnNumber();
      if (!map || f.getFileName() !== MAIN || line === null || col === null) return `    at ${text}`;
      const e = map.findEntry(line - 1, col - 1) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (e.originalSource === undefined || e.originalLine === undefined || e.originalColumn === undefined)
        return `    at ${text}`;
      const src = /^[a-z]+:/.test(e.originalSource)
        ? e.originalSource
        : resolve(dirname(mapFile), e.originalSource);
      const at = `${MAIN}:${line}:${col}`;
      const i = text.lastIndexOf(at);
      const mapped = `${src}:${e.originalLine + 1}:${e.originalColumn + 1}`;
      return `    at ${i < 0 ? text : text.slice(0, i) + mapped + text.slice(i + at.length)}`;
    });
    return [head, ...lines].join('\n');
  };
}

/**
 * Compiles the bundle, through the cache when there is a good one, and arranges the cache's writing at exit.
 * A function so that the cache's bytes and the wrapped text can be collected once compiled (V8 keeps the
 * source it needs): the scan's peak memory is not made larger by them.
 */
function compile(text: string): Script {
  const cache = cacheFile();
  const cached = cache ? readCache(cache) : undefined;
  const script = new Script(text, {
    filename: MAIN,
    columnOffset: -MODELGATE_CLI_WRAP_HEAD.length,
    ...(cached ? { cachedData: cached.data } : {}),
  });
  if (!cache) return script;
  const rejected = cached !== undefined && script.cachedDataRejected === true;
  debug('code cache: %s', cached ? (rejected ? 'rejected by V8' : 'used') : 'none');
  const cachedFlags = cached && !rejected ? cached.flags : undefined;
  process.once('exit', (code) => {
    // A scan that reached a verdict (0 pass, 1 block, 2 incomplete) compiled what later scans need.
    const scanned = process.argv[2] === 'scan' && code >= 0 && code <= 2 ? FROM_SCAN : 0;
    if (cachedFlags === undefined || (scanned && !(cachedFlags & FROM_SCAN))) {
      try {
        writeCache(cache, script.createCachedData(), scanned);
      } catch {}
    }
  });
  return script;
}

const script = compile(bundleText());
mapStacks(script);

const mod = { exports: {} as { done?: Promise<void> } };
const run = script.runInThisContext() as (...args: unknown[]) => void;
run.call(mod.exports, mod.exports, createRequire(MAIN), mod, MAIN, dirname(MAIN));
// Awaited here, in an ES module: a run that never settles ends as an unsettled top-level await (exit 13).
await mod.exports.done;
