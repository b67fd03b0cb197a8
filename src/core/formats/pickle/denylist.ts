// Known-dangerous globals, by family. A pickle that imports any of these is critical whatever else it
// contains: the denylist always wins over the allowlist. Sources: the peer scanners' lists and bypass
// histories (picklescan, modelscan, ModelAudit, fickling), PyTorch's weights-only blocklist, and the
// gadget catalogue in shared/research/scanners.md (sections 1.4, 3.1, 3.3, 4, 5 F1-F9).
//
// `modules`: the module and everything in it (a prefix on dotted-component boundaries).
// `names`: exact qualified names (module + dotted name), also matched as prefixes of longer dotted names
//          (`pathlib.Path.write_text` covers nothing else; `torch.hub` covers `torch.hub.load`).
// `methods`: final name components that are dangerous on any object (`from_pretrained`).
// `constructors`: classes (a prefix on dotted-component boundaries, like `modules`) whose effect is in calling the class (`__init__`: a download, a config
//          file read, code loaded by name). Reconstructing an instance without calling it (NEWOBJ,
//          `copyreg.__newobj__`, a Cython reconstructor, then BUILD) runs only `__new__` and `__setstate__`,
//          which is how whole-model pickles of these classes are made: that is an unknown class, not a gadget.

import { resolveForms } from './names.js';

export interface DenyFamily {
  id: string;
  title: string;
  /** Why the family is dangerous (quoted in findings). */
  reason: string;
  modules?: readonly string[];
  names?: readonly string[];
  methods?: readonly string[];
  constructors?: readonly string[];
}

export const DENY_FAMILIES: readonly DenyFamily[] = [
  {
    id: 'process',
    title: 'process execution',
    reason: 'runs an operating-system command or spawns a process',
    modules: [
      'os',
      'subprocess',
      'pty',
      'pexpect',
      'sh',
      'plumbum',
      'multiprocessing',
      'concurrent.futures',
      'asyncio',
      'webbrowser',
      'pipes',
      'mailcap',
      '_osx_support',
      '_aix_support',
      '_pyrepl',
      'distutils.spawn',
      'setuptools._distutils.spawn',
      'msvcrt',
      'posix_spawn',
    ],
    names: [
      'platform.popen',
      'platform._syscmd_ver',
      'platform._syscmd_file',
      'platform._syscmd_uname',
      'platform.system',
      'uuid._get_command_stdout',
      'uuid._popen',
      'uuid._find_mac',
      'uuid._ifconfig_getnode',
      'uuid._ip_getnode',
      'uuid._arp_getnode',
      'uuid._lanscan_getnode',
      'uuid._netstat_getnode',
      'uuid._ipconfig_getnode',
      'uuid._netbios_getnode',
      'imaplib.IMAP4_stream',
      'ctypes.util.find_library',
      // Mined by scripts/gadgets/mine.py (constructors that spawn processes or worker pools).
      'torch.backends.xeon',
      'torch.utils.benchmark',
      'torch.utils.data.dataloader._MultiProcessingDataLoaderIter',
      // DataLoader2 spawns a thread that round-trips its datapipe through dill on construction.
      'torch.utils.data.dataloader_experimental',
      'joblib.externals.loky',
      'torch.utils.collect_env.run',
      'torch.utils.collect_env.run_and_read_all',
      'torch.utils.collect_env.run_and_parse_first_match',
      'torch._inductor.codecache.compile_file',
      'mlflow.projects.backend.local._run_entry_point',
      'mlflow.projects',
      'distutils.util.execute',
      'setuptools._distutils.util.execute',
    ],
  },
  {
    id: 'eval',
    title: 'code evaluation',
    reason: 'evaluates or compiles Python source, or builds executable code objects',
    modules: [
      'code',
      'codeop',
      'runpy',
      'marshal',
      'compileall',
      'py_compile',
      'doctest',
      'idlelib',
      'lib2to3',
      'rlcompleter',
      'numpy.f2py',
      'numpy.testing',
      'numpy.distutils',
      'torch._dynamo',
      'torch._inductor',
      'torch.jit.load',
      'torch.jit._load_for_lite_interpreter',
      'torch.jit.script',
      'torch.jit.trace',
      'torch.jit.CompilationUnit',
      'torch.jit.unsupported_tensor_ops',
      'torch.jit.annotations',
      'torch.jit.frontend',
      'torch.jit._script',
      'torch.jit._serialization',
      'torch.jit._recursive',
      'torch.jit._trace',
      'torch.jit.mobile',
      'torch.package',
      'torch.fx.experimental.symbolic_shapes',
      // Mined: GraphModule.__reduce__ returns reduce_graph_module(body, import_block), which exec()s the
      // pickled source (and the package/deploy variants import or exec generated code).
      'torch.fx.graph_module',
      'torch.utils._config_module',
      'torch.testing._internal',
      'torch.utils.cpp_extension',
      'tkinter',
      'turtle',
      'IPython',
      'ipykernel',
      'numexpr',
      'interpreters',
      'concurrent.interpreters',
    ],
    names: [
      'builtins.eval',
      'builtins.exec',
      'builtins.compile',
      'builtins.execfile',
      'builtins.breakpoint',
      'builtins.input',
      'builtins.help',
      'types.CodeType',
      'types.FunctionType',
      'types.LambdaType',
      'types.MethodType',
      'types.ModuleType',
      'types.new_class',
      'types.prepare_class',
      'types.DynamicClassAttribute',
      'typing._eval_type',
      'typing.get_type_hints',
      'typing.ForwardRef',
      'typing.evaluate_forward_ref',
      'typing._type_check',
      'annotationlib.call_evaluate_function',
      'annotationlib.ForwardRef',
      'dataclasses._create_fn',
      'dataclasses.make_dataclass',
      'dataclasses._FuncBuilder',
      'collections.namedtuple',
      'string.Template',
      'string.Formatter',
      'sympy.sympify',
      'sympy.core.sympify.sympify',
      'sympy.parsing.sympy_parser.parse_expr',
      'sympy.parsing.sympy_parser.eval_expr',
      'pandas.eval',
      'pandas.core.computation.eval.eval',
      'pandas.core.computation',
      'torch.compile',
      'torch.fx.graph_module._exec_with_source',
      'torch.fx.graph_module.GraphModule',
      'torch.jit.unsupported_tensor_ops.execWrapper',
      'torch._C._jit_pass_lower_all_tuples',
      'torch.utils.data.datapipes.utils.decoder.basichandlers',
      'jinja2.Template',
      'jinja2.Environment',
      'jinja2.environment.Template',
      'jinja2.environment.Environment',
      'logging.config.listen',
      'logging.config.fileConfig',
      'logging.config.dictConfig',
      'site.addpackage',
      'site.execsitecustomize',
      'site.execusercustomize',
      'cmd.Cmd',
      'keras.layers.Lambda',
      'tensorflow.keras.layers.Lambda',
      'dill._dill._create_code',
      'dill._dill._create_function',
      'cloudpickle.cloudpickle._make_function',
      'cloudpickle.cloudpickle._builtin_type',
      'cloudpickle.cloudpickle_fast._make_function',
    ],
  },
  {
    id: 'import',
    title: 'import machinery and universal resolvers',
    reason: 'imports modules or resolves arbitrary names at load time, reaching any callable',
    modules: [
      'importlib',
      'pkgutil',
      'zipimport',
      'pydoc',
      'sys',
      'site',
      'inspect',
      'gc',
      'pkg_resources',
      'importlib_metadata',
      'importlib_resources',
    ],
    names: [
      'builtins.__import__',
      'builtins.globals',
      'builtins.locals',
      'builtins.vars',
      'builtins.dir',
      'transformers.dynamic_module_utils',
      'transformers.models.auto.auto_factory.getattribute_from_module',
      'transformers.models.auto.configuration_auto.model_type_to_module_name',
      'torch.hub',
      'torch.ops.load_library',
      'torch.classes.load_library',
      'torch._ops.load_library',
      // Mined: importlib.import_module(mod_name) then a getattr walk of qname (a universal resolver).
      'scipy._lib._uarray._backend.unpickle_function',
      'hydra.utils.instantiate',
      'hydra.utils.get_method',
      'hydra.utils.get_class',
      'hydra.utils.call',
      'hydra._internal.utils._locate',
      'omegaconf.OmegaConf.create',
      'mlflow.pyfunc.load_model',
      'huggingface_hub',
    ],
    methods: ['from_pretrained', 'from_config', 'load_state_dict_from_url', 'load_from_checkpoint'],
    // Mined from fetched sources (scripts/gadgets/mine.py --src): constructors that import modules by name.
    constructors: [
      'diffusers.modular_pipelines.modular_pipeline.ModularPipeline',
      'lightning.fabric.plugins.precision.utils._ClassReplacementContextManager',
      'lightning_fabric.plugins.precision.utils._ClassReplacementContextManager',
    ],
  },
  {
    id: 'attribute',
    title: 'attribute access and mutation combinators',
    reason:
      'reads or writes attributes and items on arbitrary objects or wraps callables; used to reach or monkeypatch dangerous functions',
    modules: [
      'operator',
      'functools',
      'copyreg.add_extension',
      'copyreg.pickle',
      'copyreg._extension_registry',
      'copyreg._inverted_registry',
    ],
    names: [
      'builtins.getattr',
      'builtins.setattr',
      'builtins.delattr',
      'builtins.hasattr',
      'builtins.property',
      'builtins.classmethod',
      'builtins.staticmethod',
      'builtins.super',
      'builtins.type',
      'builtins.object.__setattr__',
      'builtins.object.__getattribute__',
      'builtins.apply',
      'builtins.map',
      'builtins.filter',
      'builtins.memoryview',
      'builtins.iter',
      'builtins.next',
      'builtins.sorted',
      'builtins.min',
      'builtins.max',
      'builtins.sum',
      'builtins.any',
      'builtins.all',
      'builtins.zip',
      'builtins.enumerate',
      'builtins.reversed',
      'copyreg._extension_registry',
      'copyreg.add_extension',
      'copyreg.remove_extension',
      'copyreg.pickle',
      'copyreg.constructor',
      'collections.ChainMap',
      'weakref.finalize',
      'weakref.ref',
      'atexit.register',
      'contextlib.ExitStack',
      'unittest.mock',
      'pydantic._dynamic_imports',
      'pydantic._internal._model_construction',
      'abc.ABCMeta',
      'enum.EnumMeta',
      'enum.EnumType',
    ],
  },
  {
    id: 'file',
    title: 'file-system access',
    reason: 'reads, writes, deletes or maps files',
    modules: [
      'shutil',
      'tempfile',
      'glob',
      'fileinput',
      'filecmp',
      'linecache',
      'mmap',
      'shelve',
      'dbm',
      'sqlite3',
      'zipfile',
      'tarfile',
      'distutils',
      'setuptools',
      'logging',
      'io',
      'pathlib.Path.',
      'pstats',
      'tabnanny',
      'trace',
      'numpy.lib.npyio',
      'numpy.lib.format',
      'numpy.lib._datasource',
      'numpy.lib._npyio_impl',
      'numpy.lib._format_impl',
      'numpy.memmap',
      // memmap's __new__ opens (mode w+: creates) the file it is handed; pickles name it by these paths.
      // Mined by scripts/gadgets/mine.py: constructors that open, create or delete files.
      '_pyio',
      'mailbox',
      'netrc',
      'mimetypes.MimeTypes',
      'mimetypes.read_mime_types',
      'joblib.compressor',
      'joblib._memmapping_reducer',
      'joblib.logger.PrintTime',
      'scipy.io._fortran',
      'scipy.io._netcdf',
      'scipy.io.FortranFile',
      'scipy.io.netcdf_file',
      'scipy.io.netcdf',
      'scipy.io.loadmat',
      'scipy.io.savemat',
      'scipy.io.mmread',
      'scipy.io.mmwrite',
      'scipy.io.readsav',
      'scipy.io.wavfile',
      'scipy.io.hb_read',
      'scipy.io.hb_write',
      'scipy.io.matlab._mio',
      'scipy.odr._odrpack.ODR',
      'scipy.odr.ODR',
      'torch.serialization._open_file',
      'torch.serialization._open_zipfile_reader',
      'torch.serialization._open_zipfile_writer',
      'torch.serialization._open_zipfile_writer_file',
      'xml.etree.ElementTree.ElementTree',
      'xml.etree.ElementTree.iterparse',
      'numpy.core.memmap',
      'numpy._core.memmap',
      'pandas.io',
      // Found once the miner followed `builtins.open` aliases and inherited constructors: these open, create
      // or truncate the path they are handed (mode 'w'/'wb') in __init__. h5py.File creates or truncates its
      // file in compiled code the miner cannot read.
      'gzip',
      'bz2',
      'lzma',
      'wave',
      'aifc',
      'sunau',
      'h5py',
    ],
    names: [
      'builtins.open',
      'builtins.file',
      'codecs.open',
      'codecs.EncodedFile',
      'os.path',
      'numpy.fromfile',
      'numpy.memmap',
      'numpy.save',
      'numpy.savez',
      'numpy.savez_compressed',
      'numpy.savetxt',
      'numpy.loadtxt',
      'numpy.genfromtxt',
      'numpy.fromregex',
      'numpy.DataSource',
      'numpy.ndarray.tofile',
      'numpy.ndarray.dump',
      'numpy.core.records.fromfile',
      'numpy.rec.fromfile',
      'torch.save',
      'torch.serialization.save',
      'torch.from_file',
      'torch.Tensor.from_file',
      'torch.UntypedStorage.from_file',
      'torch.TypedStorage.from_file',
      'torch.storage.UntypedStorage.from_file',
      'torch.storage.TypedStorage.from_file',
      'pandas.read_csv',
      'pandas.read_table',
      'pandas.read_json',
      'pandas.read_html',
      'pandas.read_excel',
      'pandas.read_parquet',
      'pandas.read_feather',
      'pandas.read_sql',
      'pandas.read_xml',
      'pandas.read_fwf',
      'pandas.read_hdf',
      'pandas.read_orc',
      'pandas.read_sas',
      'pandas.read_spss',
      'pandas.read_stata',
      'pandas.DataFrame.to_csv',
      'pandas.DataFrame.to_pickle',
      'xml.etree.ElementTree.parse',
      'xml.dom.minidom.parse',
      'xml.sax.parse',
      'keras.utils.get_file',
      'tensorflow.keras.utils.get_file',
      'tensorflow.io',
      'tensorflow.io.write_file',
      'tensorflow.io.read_file',
      'tensorflow.io.gfile',
    ],
    methods: [
      'write_text',
      'write_bytes',
      'read_text',
      'read_bytes',
      'unlink',
      'rmdir',
      'rmtree',
      'touch',
      'symlink_to',
      'hardlink_to',
      'chmod',
      'tofile',
    ],
    // Mined from fetched sources (scripts/gadgets/mine.py --src): constructors that read the path they are
    // handed (a config file, an offload index, an np.load of a remap table).
    constructors: [
      'accelerate.utils.deepspeed.HfDeepSpeedConfig',
      'accelerate.utils.offload.OffloadedWeightsLoader',
      'lightning.fabric.strategies.deepspeed.DeepSpeedStrategy',
      'lightning.pytorch.strategies.deepspeed.DeepSpeedStrategy',
      'lightning_fabric.strategies.deepspeed.DeepSpeedStrategy',
      'pytorch_lightning.strategies.deepspeed.DeepSpeedStrategy',
      'diffusers.models.autoencoders.vae.VectorQuantizer',
    ],
  },
  {
    id: 'network',
    title: 'network access',
    reason: 'opens network connections, downloads or uploads data',
    // What connects, not data classes: http.cookiejar and requests.models.Response are plain data when
    // unpickled (a cached response opens nothing); requests' API, sessions and adapters connect.
    modules: [
      'socket',
      'ssl',
      'http.client',
      'http.server',
      'urllib.request',
      'urllib.urlopen',
      'urllib.urlretrieve',
      'requests.api',
      'requests.sessions',
      'requests.adapters',
      'requests.utils',
      'requests.help',
      'requests.get',
      'requests.head',
      'requests.post',
      'requests.put',
      'requests.patch',
      'requests.delete',
      'requests.options',
      'requests.request',
      'requests.session',
      'requests.Session',
      'aiohttp',
      'httpx',
      'urllib3',
      'ftplib',
      'telnetlib',
      'smtplib',
      'smtpd',
      'imaplib',
      'poplib',
      'nntplib',
      'socketserver',
      'xmlrpc',
      'select',
      'selectors',
      'wsgiref',
      'paramiko',
      'pycurl',
      'websocket',
      'websockets',
      'torch.distributed.rpc',
      // _RemoteModule.__init__ writes a generated module to disk, imports it and talks RPC to a remote worker.
      'torch.distributed.nn.api.remote_module',
      'torch.distributed.nn.jit',
      'torch.distributed.elastic',
      'boto3',
      'botocore',
      'gcsfs',
      's3fs',
      'fsspec',
    ],
    // Constructors that download a model by name (and may run its remote code) or a dataset.
    constructors: [
      'sentence_transformers.SentenceTransformer',
      'sentence_transformers.cross_encoder.CrossEncoder',
      'sentence_transformers.sparse_encoder.SparseEncoder',
      'peft.tuners.xlora.model.XLoraModel',
      'lightning.pytorch.demos.transformer.WikiText2',
      'pytorch_lightning.demos.transformer.WikiText2',
    ],
  },
  {
    id: 'deserialize',
    title: 'nested deserialisers',
    reason: 'deserialises another payload (pickle, marshal, YAML, a model file) that can itself run code',
    modules: [
      'pickle',
      'dill',
      'cloudpickle',
      'jsonpickle',
      'shelve',
      'torch.serialization._load',
      'skops.io',
    ],
    names: [
      'joblib.load',
      'joblib.numpy_pickle.load',
      'joblib.numpy_pickle.load_compatibility',
      'joblib.numpy_pickle._unpickle',
      'joblib.numpy_pickle.NumpyUnpickler',
      'joblib.numpy_pickle_compat.load_compatibility',
      'sklearn.externals.joblib.load',
      'torch.load',
      'torch.serialization.load',
      'torch.serialization._legacy_load',
      'torch.serialization._load',
      'torch.storage._load_from_bytes',
      'torch._utils._rebuild_tensor_from_bytes',
      'torch.utils._config_module.ConfigModule.load_config',
      // Mined: dataset constructors read (and with download=True fetch) files from the path they are
      // given and unpickle or torch.load them (CIFAR, ImageNet, MNIST, LSUN, PhotoTour...).
      'torchvision.datasets',
      // __setstate__((payload, use_dill)) runs pickle.loads / dill.loads on the payload.
      'torch.utils.data.datapipes.datapipe._DataPipeSerializationWrapper',
      'torch.utils.data.datapipes.datapipe._IterDataPipeSerializationWrapper',
      'torch.utils.data.datapipes.datapipe._MapDataPipeSerializationWrapper',
      'numpy.load',
      'numpy.lib.npyio.load',
      'numpy.lib.format.read_array',
      'numpy.core.multiarray._load_pickle',
      'pandas.read_pickle',
      'pandas.io.pickle.read_pickle',
      'yaml.load',
      'yaml.load_all',
      'yaml.unsafe_load',
      'yaml.unsafe_load_all',
      'yaml.full_load',
      'yaml.full_load_all',
      'yaml.UnsafeLoader',
      'yaml.Loader',
      'yaml.FullLoader',
      'keras.models.load_model',
      'keras.saving.load_model',
      'tensorflow.keras.models.load_model',
      'tensorflow.saved_model.load',
      'onnx.load',
      'safetensors.torch.load_file',
      'transformers.modeling_utils.load_state_dict',
    ],
    // Constructors that torch.load a path they are handed; and Keras objects, whose constructors deserialise
    // initializer/activation configs, including marshal'd Python lambdas (keras serialization_lib func_load,
    // unsafe unless the caller set safe mode). Keras pickles itself through _unpickle_model, never by calling
    // a layer class.
    constructors: [
      'peft.tuners.multitask_prompt_tuning.model.MultitaskPromptEmbedding',
      'lightning.pytorch.demos.mnist_datamodule._MNIST',
      'pytorch_lightning.demos.mnist_datamodule._MNIST',
      'keras',
      'tf_keras',
      'tensorflow.keras',
      'tensorflow.python.keras',
    ],
  },
  {
    id: 'debugger',
    title: 'debugger, profiler and test runners',
    reason: 'runs code through a debugger, profiler, timer or test harness',
    modules: [
      'pdb',
      'bdb',
      'cProfile',
      'profile',
      'timeit',
      'trace',
      'unittest',
      'test',
      'torch.utils.bottleneck',
      'torch.utils.collect_env',
      'faulthandler',
      'tracemalloc',
      'sys.settrace',
    ],
  },
  {
    id: 'install',
    title: 'package installation and environments',
    reason: 'installs packages or creates environments (arbitrary code from a package index)',
    modules: ['pip', 'ensurepip', 'venv', 'virtualenv', 'conda', 'easy_install', 'setuptools.command'],
  },
  {
    id: 'native',
    title: 'native code and memory access',
    reason: 'loads native libraries, calls C functions or reads and writes raw memory',
    modules: [
      'ctypes',
      'cffi',
      'numpy.ctypeslib',
      'numba',
      'llvmlite',
      'torch._C._jit',
      'torch.utils.cpp_extension',
      'torch.cuda.nvtx',
      'torch._C._cuda',
      'torch._C._dynamo',
    ],
    names: [
      'torch._C._load_for_lite_interpreter',
      'torch._C.import_ir_module',
      'torch._C._import_ir_module_from_package',
      'torch._C._load_for_lite_interpreter_from_buffer',
    ],
  },
  {
    id: 'threads',
    title: 'threads, signals and interpreter control',
    reason:
      'starts threads, installs signal handlers or controls the interpreter (persistence, denial of service)',
    modules: ['threading', 'signal', 'sched', 'atexit', 'resource', 'builtins.exit', 'builtins.quit'],
  },
  {
    id: 'scanner',
    title: 'security tooling tampering',
    reason: 'imports a model scanner or safe-loading hook (an attempt to disable the scan)',
    modules: [
      'fickling',
      'picklescan',
      'modelscan',
      'modelaudit',
      'saferpickle',
      'model_unpickler',
      'modelgate',
    ],
  },
];

interface DenyIndex {
  prefix: Map<string, DenyFamily>;
  strictPrefix: Map<string, DenyFamily>;
  methods: Map<string, DenyFamily>;
  constructors: Map<string, DenyFamily>;
}

let index: DenyIndex | undefined;

function buildIndex(): DenyIndex {
  const prefix = new Map<string, DenyFamily>();
  const strictPrefix = new Map<string, DenyFamily>();
  const methods = new Map<string, DenyFamily>();
  const constructors = new Map<string, DenyFamily>();
  for (const f of DENY_FAMILIES) {
    for (const c of f.constructors ?? []) constructors.set(c, f);
    for (const m of f.modules ?? []) {
      if (m.endsWith('.')) strictPrefix.set(m.slice(0, -1), f);
      else prefix.set(m, f);
    }
    for (const n of f.names ?? []) if (!prefix.has(n)) prefix.set(n, f);
    for (const n of f.methods ?? []) methods.set(n, f);
  }
  return { prefix, strictPrefix, methods, constructors };
}

export interface DenyMatch {
  family: DenyFamily;
  /** The form that matched, e.g. `os.system` for `posix.system`. */
  matched: string;
  /** Dangerous only when called (its constructor runs); reconstructing an instance is safe. */
  constructorOnly?: boolean;
}

/** The deny family of a qualified name (checked on every component prefix), if any. */
function matchQualified(q: string, dottedName: boolean, idx: DenyIndex): DenyMatch | undefined {
  // The longest matching prefix names the most specific family (setuptools._distutils.spawn: process).
  // A constructor entry counts only when no deny prefix matches (the shortest one is the class itself).
  let found: DenyMatch | undefined;
  let ctor: DenyFamily | undefined;
  let end = q.indexOf('.');
  for (;;) {
    const pre = end < 0 ? q : q.slice(0, end);
    const f = idx.prefix.get(pre);
    if (f) found = { family: f, matched: q };
    if (end >= 0) {
      const s = idx.strictPrefix.get(pre);
      if (s) found = { family: s, matched: q };
    }
    ctor ??= idx.constructors.get(pre);
    if (end < 0) break;
    end = q.indexOf('.', end + 1);
  }
  if (found) return found;
  if (ctor) return { family: ctor, matched: q, constructorOnly: true };
  const last = q.slice(q.lastIndexOf('.') + 1);
  const m = idx.methods.get(last);
  if (m && dottedName) return { family: m, matched: q };
  return undefined;
}

/** Is (module, name) known-dangerous under any of the forms the unpickler could resolve it to? */
export function denyMatch(module: string, name: string): DenyMatch | undefined {
  index ??= buildIndex();
  for (const form of resolveForms(module, name)) {
    const m = matchQualified(form.qualified, form.name.includes('.'), index);
    if (m) return m;
  }
  return undefined;
}
