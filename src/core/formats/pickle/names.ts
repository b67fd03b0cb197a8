// How an unpickler turns (module, name) into an object, reduced to what a static analysis needs: the
// Python 2 compatibility mapping (fix_imports), module aliases (posix → os), and dotted names that walk
// through module attributes (`random` + `_os.system` reaches `os.system`).

/** Python 2 → 3 module renames applied by find_class when fix_imports is on (Lib/_compat_pickle.py) and aliases. */
const MODULE_ALIASES: Record<string, string> = {
  __builtin__: 'builtins',
  __builtins__: 'builtins',
  exceptions: 'builtins',
  copy_reg: 'copyreg',
  Queue: 'queue',
  SocketServer: 'socketserver',
  ConfigParser: 'configparser',
  repr: 'reprlib',
  cPickle: 'pickle',
  _pickle: 'pickle',
  pickle5: 'pickle',
  cStringIO: 'io',
  StringIO: 'io',
  _io: 'io',
  UserDict: 'collections',
  UserList: 'collections',
  UserString: 'collections',
  _collections: 'collections',
  whichdb: 'dbm',
  anydbm: 'dbm',
  posix: 'os',
  nt: 'os',
  os2: 'os',
  ce: 'os',
  posixpath: 'os.path',
  ntpath: 'os.path',
  macpath: 'os.path',
  genericpath: 'os.path',
  _operator: 'operator',
  _functools: 'functools',
  commands: 'subprocess',
  popen2: 'subprocess',
  _posixsubprocess: 'subprocess',
  _subprocess: 'subprocess',
  _winapi: 'subprocess',
  _socket: 'socket',
  _ssl: 'ssl',
  _ctypes: 'ctypes',
  thread: 'threading',
  _thread: 'threading',
  dummy_thread: 'threading',
  _dummy_thread: 'threading',
  dummy_threading: 'threading',
  _signal: 'signal',
  _sqlite3: 'sqlite3',
  imp: 'importlib',
  _imp: 'importlib',
  _frozen_importlib: 'importlib',
  _frozen_importlib_external: 'importlib',
  _bootstrap: 'importlib',
  _bootstrap_external: 'importlib',
  urllib2: 'urllib.request',
  httplib: 'http.client',
  BaseHTTPServer: 'http.server',
  SimpleHTTPServer: 'http.server',
  CGIHTTPServer: 'http.server',
  cookielib: 'http.cookiejar',
  xmlrpclib: 'xmlrpc.client',
  SimpleXMLRPCServer: 'xmlrpc.server',
  Tkinter: 'tkinter',
  _tkinter: 'tkinter',
  _lsprof: 'cProfile',
  _multiprocessing: 'multiprocessing',
  _posixshmem: 'multiprocessing',
  _asyncio: 'asyncio',
  _marshal: 'marshal',
  _sre: 're',
  _interpreters: 'interpreters',
  _xxsubinterpreters: 'interpreters',
  _xxinterpchannels: 'interpreters',
};

/** Python 2 (module, name) renames from _compat_pickle.NAME_MAPPING that matter for classification. */
const NAME_ALIASES: Record<string, string> = {
  'builtins.xrange': 'builtins.range',
  'builtins.reduce': 'functools.reduce',
  'builtins.intern': 'sys.intern',
  'builtins.unichr': 'builtins.chr',
  'builtins.unicode': 'builtins.str',
  'builtins.long': 'builtins.int',
  'builtins.basestring': 'builtins.str',
  'builtins.raw_input': 'builtins.input',
  'builtins.execfile': 'builtins.exec',
  'builtins.apply': 'builtins.apply',
  'itertools.izip': 'builtins.zip',
  'itertools.imap': 'builtins.map',
  'itertools.ifilter': 'builtins.filter',
  'string.maketrans': 'bytes.maketrans',
};

/**
 * Attribute names that, inside a dotted name, stand for a module imported into another module (`random._os`,
 * `pathlib.os`, `torch.serialization.pickle`): resolution continues in that module. Leading underscores are
 * stripped first (`import os as _os`).
 */
const MODULE_ATTRS: Record<string, string> = {
  os: 'os',
  posix: 'os',
  nt: 'os',
  sys: 'sys',
  subprocess: 'subprocess',
  builtins: 'builtins',
  builtin: 'builtins',
  shutil: 'shutil',
  socket: 'socket',
  importlib: 'importlib',
  pickle: 'pickle',
  cPickle: 'pickle',
  marshal: 'marshal',
  ctypes: 'ctypes',
  pty: 'pty',
  runpy: 'runpy',
  io: 'io',
  codecs: 'codecs',
  operator: 'operator',
  functools: 'functools',
  types: 'types',
  inspect: 'inspect',
  pkgutil: 'pkgutil',
  pydoc: 'pydoc',
  tempfile: 'tempfile',
  urllib: 'urllib',
  requests: 'requests',
  threading: 'threading',
  multiprocessing: 'multiprocessing',
  asyncio: 'asyncio',
  signal: 'signal',
  code: 'code',
  pdb: 'pdb',
  gc: 'gc',
  dill: 'dill',
  cloudpickle: 'cloudpickle',
  joblib: 'joblib',
  torch: 'torch',
  numpy: 'numpy',
  np: 'numpy',
  webbrowser: 'webbrowser',
  glob: 'glob',
  zipfile: 'zipfile',
  tarfile: 'tarfile',
  platform: 'platform',
  copyreg: 'copyreg',
  copy_reg: 'copyreg',
  yaml: 'yaml',
};

export interface Resolved {
  module: string;
  name: string;
  qualified: string;
}

function canonModule(module: string): string {
  const exact = MODULE_ALIASES[module];
  if (exact) return exact;
  const dot = module.indexOf('.');
  if (dot > 0) {
    const head = MODULE_ALIASES[module.slice(0, dot)];
    if (head) return `${head}${module.slice(dot)}`;
  }
  return module;
}

/**
 * Every form under which (module, name) may be looked up: as written, with aliases and Python 2 names
 * mapped, and re-rooted at the last module attribute a dotted name walks through. A name is dangerous
 * when any of its forms is.
 */
export function resolveForms(module: string, name: string): Resolved[] {
  const forms: Resolved[] = [];
  const seen = new Set<string>();
  const add = (m: string, n: string) => {
    const q = n === '' ? m : `${m}.${n}`;
    if (seen.has(q)) return;
    seen.add(q);
    forms.push({ module: m, name: n, qualified: q });
  };
  add(module, name);
  const m = canonModule(module);
  add(m, name);
  const mapped = NAME_ALIASES[`${m}.${name}`];
  if (mapped) {
    const i = mapped.lastIndexOf('.');
    add(mapped.slice(0, i), mapped.slice(i + 1));
  }
  // Dotted names: each component that names a module re-roots the lookup there.
  const parts = name.split('.');
  if (parts.length > 1 || MODULE_ATTRS[name.replace(/^_+/, '')]) {
    for (let i = 0; i < parts.length; i++) {
      const attr = parts[i]!.replace(/^_+/, '');
      const target =
        MODULE_ATTRS[attr] ??
        (MODULE_ALIASES[parts[i]!] !== undefined ? MODULE_ALIASES[parts[i]!] : undefined);
      if (target) add(canonModule(target), parts.slice(i + 1).join('.'));
    }
    // The module part plus leading name components may also be a module path (package.sub.func).
    for (let i = 1; i < parts.length; i++) {
      add(canonModule(`${m}.${parts.slice(0, i).join('.')}`), parts.slice(i).join('.'));
    }
  }
  return forms;
}

/** True when a dotted name walks through a dunder or private attribute (`print.__class__.__base__`). */
export function privateTraversal(name: string): string | undefined {
  const parts = name.split('.');
  for (const p of parts) {
    if (/^__\w+__$/.test(p)) return p;
  }
  if (parts.length > 1) {
    for (const p of parts) if (p.startsWith('_')) return p;
  }
  return undefined;
}

/** The canonical qualified name used in findings and facts (aliases applied, e.g. posix.system → os.system). */
export function canonicalName(module: string, name: string): string {
  const m = canonModule(module);
  return NAME_ALIASES[`${m}.${name}`] ?? `${m}.${name}`;
}
