#!/usr/bin/env node

// src/cli/launcher.ts
import { isAscii } from "node:buffer";
import { createHash } from "node:crypto";
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
  statSync,
  unlinkSync,
  writeFileSync
} from "node:fs";
import { createRequire, SourceMap } from "node:module";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { debuglog } from "node:util";
import { Script } from "node:vm";
var debug = debuglog("modelgate");
var MAIN = fileURLToPath(new URL("./cli-main.cjs", import.meta.url));
var MAGIC = Buffer.from("MGV8CC01");
var HEADER = MAGIC.length + 32 + 1;
var FROM_SCAN = 1;
var MAX_BYTES = 64 * 2 ** 20;
var KEEP = 8;
var WRAP_HEAD = "(function (exports, require, module, __filename, __dirname) { ";
var WRAP_TAIL = "\n});";
function cacheDir() {
  const env = process.env;
  if (env.CI || env.GITHUB_ACTIONS) return void 0;
  if (env.MODELGATE_NO_CACHE && env.MODELGATE_NO_CACHE !== "0") return void 0;
  if (typeof process.getuid !== "function") return void 0;
  if (env.MODELGATE_CACHE_DIR) return resolve(env.MODELGATE_CACHE_DIR);
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, "modelgate");
  const home = homedir();
  return home && isAbsolute(home) ? join(home, ".cache", "modelgate") : void 0;
}
function isPrivate(st) {
  return st.uid === process.getuid() && (st.mode & 18) === 0;
}
function unsafeDir(dir) {
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return "absent";
  }
  return st.isDirectory() && isPrivate(st) ? void 0 : "not a private directory of this user";
}
function cacheFile(source) {
  const dir = cacheDir();
  if (!dir) return void 0;
  const bundle = createHash("sha256").update(source).digest("hex").slice(0, 32);
  const flags = createHash("sha256").update(`${process.execArgv.join("\0")}
${process.env.NODE_OPTIONS ?? ""}`).digest("hex").slice(0, 8);
  return { dir, path: join(dir, `cli-${process.version}-${process.arch}-${bundle}-${flags}.v8cache`) };
}
function readCache(c) {
  const unsafe = unsafeDir(c.dir);
  if (unsafe) {
    debug("code cache: %s %s: not used", c.dir, unsafe);
    return void 0;
  }
  let fd;
  try {
    fd = openSync(c.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    debug("code cache: %s absent", c.path);
    return void 0;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !isPrivate(st)) {
      debug("code cache: %s is not a private file of this user: not used", c.path);
      return void 0;
    }
    const buf = st.size >= HEADER && st.size <= MAX_BYTES ? readFileSync(fd) : Buffer.alloc(0);
    const payload = buf.subarray(MAGIC.length + 32);
    if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC) || !createHash("sha256").update(payload).digest().equals(buf.subarray(MAGIC.length, MAGIC.length + 32))) {
      debug("code cache: %s is corrupt", c.path);
      return void 0;
    }
    return { data: payload.subarray(1), flags: payload[0] };
  } catch {
    return void 0;
  } finally {
    closeSync(fd);
  }
}
function makeDir(dir) {
  let top = dir;
  for (; ; ) {
    try {
      if (lstatSync(top).uid !== process.getuid()) return;
      break;
    } catch {
      if (dirname(top) === top) return;
      top = dirname(top);
    }
  }
  if (top !== dir) mkdirSync(dir, { recursive: true, mode: 448 });
}
function writeCache(c, data, flags) {
  const tmp = `${c.path}.${process.pid}.tmp`;
  try {
    makeDir(c.dir);
    const unsafe = unsafeDir(c.dir);
    if (unsafe) {
      debug("code cache: %s %s: not written", c.dir, unsafe);
      return;
    }
    const payload = Buffer.concat([Buffer.from([flags]), data]);
    const sum = createHash("sha256").update(payload).digest();
    writeFileSync(tmp, Buffer.concat([MAGIC, sum, payload]), { mode: 384, flag: "wx" });
    renameSync(tmp, c.path);
    debug("code cache: wrote %s (%d bytes)", c.path, data.length);
    trim(c);
  } catch (err) {
    debug("code cache: not written: %s", err.message);
    try {
      unlinkSync(tmp);
    } catch {
    }
  }
}
function trim(c) {
  const files = [];
  for (const n of readdirSync(c.dir)) {
    if (!n.startsWith("cli-") || !n.endsWith(".v8cache")) continue;
    try {
      files.push({ p: join(c.dir, n), t: statSync(join(c.dir, n)).mtimeMs });
    } catch {
    }
  }
  files.sort((a, b) => b.t - a.t);
  for (const f of files.slice(KEEP)) {
    try {
      if (f.p !== c.path) unlinkSync(f.p);
    } catch {
    }
  }
}
function mapStacks(script2) {
  const url = script2.sourceMapURL;
  if (!url || url.startsWith("data:")) return;
  const mapFile = resolve(dirname(MAIN), url);
  let map;
  const fallback = Error.prepareStackTrace;
  Error.prepareStackTrace = (error, frames) => {
    if (!frames.some((f) => f.getFileName() === MAIN)) {
      if (fallback) return fallback(error, frames);
    } else if (map === void 0) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(mapFile, "utf8")));
      } catch {
        map = null;
      }
    }
    let head;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = "<error>";
    }
    const lines = frames.map((f) => {
      const text = String(f);
      const line = f.getLineNumber();
      const col = f.getColumnNumber();
      if (!map || f.getFileName() !== MAIN || line === null || col === null) return `    at ${text}`;
      const e = map.findEntry(line - 1, col - 1);
      if (e.originalSource === void 0 || e.originalLine === void 0 || e.originalColumn === void 0)
        return `    at ${text}`;
      const src = /^[a-z]+:/.test(e.originalSource) ? e.originalSource : resolve(dirname(mapFile), e.originalSource);
      const at = `${MAIN}:${line}:${col}`;
      const i = text.lastIndexOf(at);
      const mapped = `${src}:${e.originalLine + 1}:${e.originalColumn + 1}`;
      return `    at ${i < 0 ? text : text.slice(0, i) + mapped + text.slice(i + at.length)}`;
    });
    return [head, ...lines].join("\n");
  };
}
function compile() {
  const source = readFileSync(MAIN);
  const cache = cacheFile(source);
  const cached = cache ? readCache(cache) : void 0;
  const text = isAscii(source) ? source.toString("latin1") : source.toString("utf8");
  const script2 = new Script(WRAP_HEAD + text + WRAP_TAIL, {
    filename: MAIN,
    columnOffset: -WRAP_HEAD.length,
    ...cached ? { cachedData: cached.data } : {}
  });
  if (!cache) return script2;
  const rejected = cached !== void 0 && script2.cachedDataRejected === true;
  debug("code cache: %s", cached ? rejected ? "rejected by V8" : "used" : "none");
  const cachedFlags = cached && !rejected ? cached.flags : void 0;
  process.once("exit", (code) => {
    const scanned = process.argv[2] === "scan" && code >= 0 && code <= 2 ? FROM_SCAN : 0;
    if (cachedFlags === void 0 || scanned && !(cachedFlags & FROM_SCAN)) {
      try {
        writeCache(cache, script2.createCachedData(), scanned);
      } catch {
      }
    }
  });
  return script2;
}
var script = compile();
mapStacks(script);
var mod = { exports: {} };
var run = script.runInThisContext();
run.call(mod.exports, mod.exports, createRequire(MAIN), mod, MAIN, dirname(MAIN));
await mod.exports.done;
