#!/usr/bin/python3
"""Pickle gadget miner: statically reads the Python sources of the installed ML stack and the standard library
(ast only: nothing scanned is imported or run) and lists what an unpickler can reach that has effects:

- classes whose __new__, __init__ (a REDUCE of the class), __setstate__ (a BUILD), __reduce__/__reduce_ex__
  helpers (the reconstruction callables they return) reach code execution, nested deserialisation, file or
  network I/O, or native library loading, directly or through methods and module functions they call;
- module-level functions named like unpickling helpers (_rebuild*, _unpickle*, _reconstruct*, *_ctor,
  _new_*, __newobj__, _load_from_bytes...) that do.

A dev tool for building modelgate's pickle denylist (src/core/formats/pickle/denylist.ts): review the output,
put each real gadget on the denylist with its reason and a fixture. modelgate never runs it.

    /usr/bin/python3 scripts/gadgets/mine.py [--json] [--roots torch numpy ...] [--src DIR ...]

--src adds source trees that are not installed (a checkout of a library, its packages directly under DIR, e.g.
accelerate/src or keras): their modules are mined with the installed ones, so calls into torch resolve.
"""
import argparse, ast, json, os, sys, sysconfig
from collections import defaultdict

DIST = '/usr/lib/python3/dist-packages'
DEFAULT_ROOTS = ['torch', 'torchvision', 'numpy', 'scipy', 'sklearn', 'joblib', 'pandas', 'transformers', 'omegaconf',
                 'lightning', 'pytorch_lightning', 'dill', 'cloudpickle', 'requests', 'urllib3', 'yaml']

# Effect sinks by family: exact dotted names after import aliases are resolved, and bare builtins.
SINKS = {
    'exec': {'eval', 'exec', 'compile', 'os.system', 'os.popen', 'os.execv', 'os.execve', 'os.execl', 'os.execvp',
             'os.spawnv', 'os.spawnl', 'os.posix_spawn', 'subprocess.Popen', 'subprocess.run', 'subprocess.call',
             'subprocess.check_call', 'subprocess.check_output', 'subprocess.getoutput', 'runpy.run_path',
             'runpy.run_module', '__import__', 'importlib.import_module', 'builtins.eval', 'builtins.exec',
             'code.InteractiveInterpreter', 'types.FunctionType', 'types.CodeType', 'pty.spawn'},
    'deserialize': {'pickle.loads', 'pickle.load', 'pickle.Unpickler', '_pickle.loads', 'cPickle.loads', 'dill.loads',
                    'dill.load', 'cloudpickle.loads', 'marshal.loads', 'marshal.load', 'torch.load', 'numpy.load',
                    'np.load', 'yaml.load', 'yaml.unsafe_load', 'joblib.load', 'shelve.open', 'jsonpickle.decode'},
    'file': {'open', 'io.open', 'os.open', 'os.remove', 'os.unlink', 'os.rmdir', 'os.rename', 'os.makedirs',
             'os.mkdir', 'shutil.rmtree', 'shutil.copyfile', 'shutil.copy', 'shutil.move', 'numpy.memmap', 'np.memmap',
             'mmap.mmap', 'tempfile.mkstemp', 'tempfile.mkdtemp', 'tempfile.NamedTemporaryFile', 'gzip.open', 'bz2.open',
             'lzma.open', 'zipfile.ZipFile', 'tarfile.open', 'numpy.fromfile', 'np.fromfile', 'numpy.save', 'np.save',
             'torch.save', 'torch.from_file', 'logging.FileHandler', 'os.chmod', 'os.symlink'},
    'network': {'socket.socket', 'socket.create_connection', 'urllib.request.urlopen', 'urllib.request.urlretrieve',
                'requests.get', 'requests.post', 'requests.request', 'requests.Session', 'http.client.HTTPConnection',
                'http.client.HTTPSConnection', 'ftplib.FTP', 'smtplib.SMTP', 'huggingface_hub.hf_hub_download',
                'torch.hub.load_state_dict_from_url', 'torch.hub.download_url_to_file', 'urllib3.PoolManager'},
    'native': {'ctypes.CDLL', 'ctypes.PyDLL', 'ctypes.cdll.LoadLibrary', 'ctypes.CDLL.LoadLibrary',
               'ctypes.util.find_library', 'torch.ops.load_library', 'torch.classes.load_library', 'cffi.FFI',
               'numpy.ctypeslib.load_library', 'np.ctypeslib.load_library', 'ctypes.LibraryLoader'},
}
SINK_FAMILY = {n: fam for fam, names in SINKS.items() for n in names}
ENTRY_METHODS = ('__new__', '__init__', '__setstate__', '__reduce__', '__reduce_ex__')
HELPER_PREFIXES = ('_rebuild', '_unpickle', '__pyx_unpickle', '_reconstruct', '_new_', '__newobj', '_load_from_bytes',
                   '_restore', 'unpickle', '_from_state', 'rebuild_')
HELPER_SUFFIXES = ('_ctor', '_unpickle', '_reconstruct', '_reconstructor')


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f'{base}.{node.attr}' if base else None
    return None


class Module:
    """One source file: its import aliases, functions and classes."""

    def __init__(self, name, tree):
        self.name = name
        self.aliases = {}
        self.functions = {}
        self.classes = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.aliases[a.asname or a.name.split('.')[0]] = a.name if a.asname else a.name.split('.')[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    self.aliases[a.asname or a.name] = f'{node.module}.{a.name}'
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                self.classes[node.name] = node

    def resolve(self, name):
        head, _, rest = name.partition('.')
        full = self.aliases.get(head)
        if full:
            return f'{full}.{rest}' if rest else full
        return name


def calls_in(fn):
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            d = dotted(node.func)
            if d:
                yield d, node.lineno


class Miner:
    def __init__(self):
        self.modules = {}
        self.memo = {}

    def load(self, path, modname):
        try:
            with open(path, 'rb') as f:
                tree = ast.parse(f.read(), path)
        except (SyntaxError, ValueError, OSError):
            return
        self.modules[modname] = Module(modname, tree)

    def sink_of(self, mod, call):
        full = mod.resolve(call)
        # `import builtins; builtins.open(...)` and `from builtins import open as _builtin_open` (gzip, bz2,
        # lzma) are the builtin itself.
        for cand in (full, call, full[len('builtins.'):] if full.startswith('builtins.') else None):
            fam = SINK_FAMILY.get(cand) if cand else None
            if fam:
                return fam, cand
        return None

    def lookup(self, dotted_name):
        """A function or class named by its full dotted path in a loaded module: (module, class|None, def)."""
        modname, _, attr = dotted_name.rpartition('.')
        target = self.modules.get(modname)
        if target is None:
            return None
        if attr in target.functions:
            return target, None, target.functions[attr]
        if attr in target.classes:
            return target, target.classes[attr], None
        return None

    def methods_of(self, mod, cls, seen=None):
        """A class's methods including inherited ones (bases resolved by name, first definition wins)."""
        seen = seen or set()
        key = (mod.name, cls.name)
        if key in seen:
            return {}
        seen.add(key)
        out = {}
        for base in reversed(cls.bases):
            name = dotted(base)
            if not name:
                continue
            found = (mod, mod.classes[name], None) if name in mod.classes else self.lookup(mod.resolve(name))
            if found and found[1] is not None:
                out.update(self.methods_of(found[0], found[1], seen))
        out.update({n.name: (mod, cls, n) for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))})
        return out

    def constructor_of(self, mod, cls):
        """What calling a class runs that can have effects: its (possibly inherited) __new__ and __init__."""
        methods = self.methods_of(mod, cls)
        return [methods[m] for m in ('__new__', '__init__') if m in methods]

    def reach(self, mod, cls, fn, depth=0, seen=None):
        """Effects a function reaches: [(family, sink, chain)] following self.method() and module functions."""
        key = (mod.name, cls.name if cls else None, fn.name)
        if key in self.memo:
            return self.memo[key]
        seen = seen or set()
        if key in seen or depth > 4:
            return []
        seen.add(key)
        out = []
        methods = self.methods_of(mod, cls) if cls else {}
        for call, line in calls_in(fn):
            s = self.sink_of(mod, call)
            if s:
                out.append((s[0], s[1], [f'{fn.name}:{line}']))
                continue
            # What the call runs: a method of self (inherited ones too), a function of this module or of another
            # loaded module, or a class's constructor.
            targets = []
            if call.startswith('self.') and call.count('.') == 1 and call[5:] in methods:
                targets = [methods[call[5:]]]
            elif call in mod.functions:
                targets = [(mod, None, mod.functions[call])]
            else:
                found = (mod, mod.classes[call], None) if call in mod.classes else self.lookup(mod.resolve(call))
                if found and found[2] is not None:
                    targets = [found]
                elif found:
                    targets = self.constructor_of(found[0], found[1])
            for tmod, tcls, tfn in targets:
                for fam, sink, chain in self.reach(tmod, tcls, tfn, depth + 1, seen):
                    out.append((fam, sink, [f'{fn.name}:{line}'] + chain))
        self.memo[key] = out[:20]
        return self.memo[key]

    def mine(self):
        results = []
        for modname, mod in self.modules.items():
            for cname, cls in mod.classes.items():
                # Inherited entry methods count: a subclass that defines no __init__ runs its base's.
                for entry, (emod, ecls, node) in self.methods_of(mod, cls).items():
                    if entry in ENTRY_METHODS:
                        for fam, sink, chain in self.reach(emod, ecls, node):
                            results.append({'gadget': f'{modname}.{cname}', 'entry': entry, 'family': fam,
                                            'sink': sink, 'chain': ' -> '.join(chain)})
            for fname, fn in mod.functions.items():
                if fname.startswith(HELPER_PREFIXES) or fname.endswith(HELPER_SUFFIXES):
                    for fam, sink, chain in self.reach(mod, None, fn):
                        results.append({'gadget': f'{modname}.{fname}', 'entry': 'call', 'family': fam, 'sink': sink,
                                        'chain': ' -> '.join(chain)})
        return results


def walk(root, modroot):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ('tests', 'test', '__pycache__') and not d.startswith('.')]
        for f in filenames:
            if f.endswith('.py'):
                p = os.path.join(dirpath, f)
                rel = os.path.relpath(p, modroot)[:-3].replace(os.sep, '.')
                if rel.endswith('.__init__'):
                    rel = rel[:-9]
                yield p, rel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--roots', nargs='*', default=DEFAULT_ROOTS)
    ap.add_argument('--no-stdlib', action='store_true')
    ap.add_argument('--src', nargs='*', default=[], help='extra source roots (folders holding packages)')
    ap.add_argument('--only-src', action='store_true', help='report only gadgets defined under --src')
    args = ap.parse_args()
    m = Miner()
    for r in args.roots:
        root = os.path.join(DIST, r)
        if os.path.isdir(root):
            for p, mod in walk(root, DIST):
                m.load(p, mod)
    extra = set()
    for root in args.src:
        for p, mod in walk(root, root):
            m.load(p, mod)
            extra.add(mod)
    if not args.no_stdlib:
        std = sysconfig.get_paths()['stdlib']
        for p, mod in walk(std, std):
            if not mod.startswith(('site-packages', 'dist-packages', 'idlelib', 'lib2to3', 'tkinter', 'turtledemo',
                                   'ensurepip', 'venv', 'test.', 'unittest')):
                m.load(p, mod)
    results = m.mine()
    if args.only_src:
        results = [r for r in results if r['gadget'].rpartition('.')[0] in extra]
    if args.json:
        json.dump(results, sys.stdout, indent=1)
        return
    by = defaultdict(list)
    for r in results:
        by[r['gadget']].append(r)
    fams = defaultdict(set)
    for g, rs in by.items():
        for r in rs:
            fams[r['family']].add(g)
    print(f'# {len(m.modules)} modules read, {len(by)} gadgets ({len(results)} paths)')
    for fam in SINKS:
        print(f'#   {fam}: {len(fams[fam])}')
    for g in sorted(by):
        rs = by[g]
        shown = sorted({(r["entry"], r["family"], r["sink"], r["chain"]) for r in rs})[:4]
        for entry, fam, sink, chain in shown:
            print(f'{g}\t{entry}\t{fam}\t{sink}\t{chain}')


if __name__ == '__main__':
    main()
