import type { Severity } from '../../types.js';

/**
 * A light, static look at Python source shipped with a model: strings and comments are blanked (offsets
 * kept), imports are resolved to their modules (`import subprocess as sp`, `from os import system as run`),
 * and calls are matched against functions that run commands, evaluate or deserialise code, or reach the
 * network. Nothing is executed; this is a severity hint, not a Python parser.
 */

export interface PythonHit {
  name: string;
  why: string;
  line: number;
  offset: number;
  severity?: Severity;
}

const SHELL = 'runs shell commands';
const EVAL = 'evaluates or imports code chosen at run time';
const DESER = 'deserialises data that can run code';
const NET = 'makes network connections';

/** Qualified callables (module.function) and what they do; a trailing `*` matches any function of the module. */
const CALLS: Array<[RegExp, string, Severity?]> = [
  [/^(eval|exec|compile|execfile)$/, EVAL],
  [
    /^(__import__|importlib\.import_module|importlib\.__import__|imp\.load_source|imp\.load_module|runpy\.run_\w+)$/,
    EVAL,
  ],
  [/^builtins\.(eval|exec|compile|__import__)$/, EVAL],
  [/^os\.(system|popen|popen[234]|exec\w*|spawn\w*|fork|forkpty|posix_spawn\w*)$/, SHELL],
  [/^(subprocess|commands|pty|sh|pexpect)\.\w+$/, SHELL],
  [/^(pickle|cPickle|_pickle|dill|cloudpickle|marshal|shelve)\.(loads?|Unpickler|open)$/, DESER],
  [/^(torch\.load|joblib\.load|numpy\.load|np\.load|yaml\.unsafe_load|yaml\.load)$/, DESER, 'medium'],
  [
    /^(socket\.\w+|requests\.\w+|httpx\.\w+|urllib\.request\.\w+|urllib2\.\w+|urllib\.urlopen|http\.client\.\w+|ftplib\.\w+|smtplib\.\w+|paramiko\.\w+|telnetlib\.\w+|aiohttp\.\w+)$/,
    NET,
  ],
  [/^(urlopen|urlretrieve)$/, NET],
  [/^(ctypes\.\w+|ctypes\.cdll\.\w+|cffi\.\w+)$/, 'loads native code'],
  [
    /^(base64\.(b64decode|b32decode|b85decode|a85decode|decodebytes)|codecs\.decode|zlib\.decompress|bz2\.decompress|lzma\.decompress)$/,
    'decodes embedded data (often a hidden payload)',
    'medium',
  ],
  [
    /^(shutil\.rmtree|os\.remove|os\.unlink|os\.rmdir|os\.removedirs|os\.chmod|os\.setuid)$/,
    'deletes files or changes permissions',
    'medium',
  ],
  [/^(getattr|setattr)$/, 'looks attributes up by computed names', 'low'],
  [/^(globals|locals|vars)$/, 'reads interpreter namespaces', 'low'],
];

const RISKY_IMPORTS = new Set([
  'subprocess',
  'socket',
  'ctypes',
  'pty',
  'marshal',
  'pickle',
  'cPickle',
  'dill',
  'requests',
  'urllib',
  'urllib2',
  'httpx',
  'paramiko',
  'pexpect',
  'cffi',
  'ftplib',
  'smtplib',
  'telnetlib',
]);

/** Replaces comments and string contents with spaces (keeping newlines and offsets). */
export function blankStringsAndComments(src: string): string {
  const out = src.split('');
  let i = 0;
  const n = src.length;
  const blank = (a: number, b: number): void => {
    for (let k = a; k < b; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < n) {
    const c = src[i]!;
    if (c === '#') {
      const e = src.indexOf('\n', i);
      const end = e < 0 ? n : e;
      blank(i, end);
      i = end;
      continue;
    }
    if (c === '"' || c === "'") {
      // Prefixes (r, b, f, u and combinations) are identifier characters just before the quote: harmless.
      const triple = src.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      let j = i + q.length;
      const raw = /[rR][bBfF]?$|[bBfF][rR]$/.test(src.slice(Math.max(0, i - 2), i));
      for (;;) {
        if (j >= n) break;
        if (!raw && src[j] === '\\') {
          j += 2;
          continue;
        }
        if (raw && src[j] === '\\' && src[j + 1] === c) {
          j += 2;
          continue;
        }
        if (src.startsWith(q, j)) break;
        if (!triple && src[j] === '\n') break;
        j++;
      }
      blank(i + q.length, Math.min(j, n));
      i = Math.min(n, j + q.length);
      continue;
    }
    i++;
  }
  return out.join('');
}

export function scanPython(src: string): PythonHit[] {
  const code = blankStringsAndComments(src);
  const aliases = new Map<string, string>();
  const hits: PythonHit[] = [];
  const lineOf = (off: number): number => {
    let l = 1;
    for (let k = 0; k < off; k++) if (code.charCodeAt(k) === 10) l++;
    return l;
  };
  // import a.b as c, d
  const imp = /^[ \t]*import[ \t]+([^\n;]+)/gm;
  for (let m = imp.exec(code); m; m = imp.exec(code)) {
    for (const part of m[1]!.split(',')) {
      const mm = /^\s*([\w.]+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
      if (!mm) continue;
      const mod = mm[1]!;
      aliases.set(mm[2] ?? mod.split('.')[0]!, mm[2] ? mod : mod.split('.')[0]!);
      if (RISKY_IMPORTS.has(mod.split('.')[0]!))
        hits.push({
          name: `import ${mod}`,
          why: `imports ${mod}`,
          line: lineOf(m.index),
          offset: m.index,
          severity: 'medium',
        });
    }
  }
  // from a.b import c as d, e
  const from = /^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+\(?([^\n;)]+)/gm;
  for (let m = from.exec(code); m; m = from.exec(code)) {
    const mod = m[1]!;
    for (const part of m[2]!.split(',')) {
      const mm = /^\s*(\w+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
      if (!mm) continue;
      aliases.set(mm[2] ?? mm[1]!, `${mod}.${mm[1]}`);
    }
    if (RISKY_IMPORTS.has(mod.split('.')[0]!))
      hits.push({
        name: `from ${mod} import`,
        why: `imports from ${mod}`,
        line: lineOf(m.index),
        offset: m.index,
        severity: 'medium',
      });
  }
  const call = /(?<![\w.])([A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*)[ \t]*\(/g;
  for (let m = call.exec(code); m; m = call.exec(code)) {
    const dotted = m[1]!.replace(/\s+/g, '');
    if (
      /^(def|class|if|while|for|return|print|not|and|or|in|elif|with|assert|lambda|yield|await)$/.test(dotted)
    )
      continue;
    const [head, ...rest] = dotted.split('.');
    const q = [aliases.get(head!) ?? head!, ...rest].join('.');
    for (const [re, why, severity] of CALLS) {
      if (re.test(q)) {
        hits.push({
          name: q,
          why,
          line: lineOf(m.index),
          offset: m.index,
          ...(severity ? { severity } : {}),
        });
        break;
      }
    }
    if (hits.length > 200) break;
  }
  if (/\b__builtins__\b/.test(code)) {
    const off = code.search(/\b__builtins__\b/);
    hits.push({ name: '__builtins__', why: EVAL, line: lineOf(off), offset: off });
  }
  return hits.sort((a, b) => a.offset - b.offset);
}
