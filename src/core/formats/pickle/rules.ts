import { defineRules } from '../../rules/rule.js';

/** Pickle rules (MG100-MG199). */
export const pickleRules = defineRules([
  {
    id: 'MG100',
    slug: 'dangerous_callable',
    title: 'Pickle imports a known-dangerous callable',
    severity: 'critical',
    kind: 'threat',
    cwe: 502,
    description:
      'The pickle imports a global from a family that runs commands, evaluates code, imports modules, touches files or the network, deserialises further payloads, loads native code or monkeypatches objects. Unpickling the file gives that callable to the loader; with REDUCE/NEWOBJ/INST/OBJ/BUILD it is called during pickle.load / torch.load. This is how malicious models execute code.',
    remediation:
      'Do not load the file. Treat it as malicious unless its origin proves otherwise; regenerate the model from trusted code and save weights in a data-only format (safetensors, or torch.save of a state_dict loaded with weights_only=True).',
  },
  {
    id: 'MG101',
    slug: 'computed_callable',
    title: 'Pickle calls a callable computed at load time',
    severity: 'critical',
    kind: 'threat',
    cwe: 502,
    description:
      'An invocation (REDUCE, NEWOBJ, OBJ, ...) calls something that is not a constant global: the result of another call (getattr(...)(...), operator.methodcaller(...)(x), functools.partial objects), a persistent object or a value the analysis cannot know. Static scanners cannot name what runs, so this is the standard way to hide a dangerous call.',
    remediation:
      'Do not load the file. Legitimate model files only call constant globals (tensor rebuild functions, classes).',
  },
  {
    id: 'MG102',
    slug: 'computed_import',
    title: 'Pickle import whose name is computed at load time',
    severity: 'critical',
    kind: 'threat',
    cwe: 502,
    description:
      'A STACK_GLOBAL takes its module or name from the result of a call (e.g. _codecs.encode("bf", "rot_13") gives "os"), or an EXT opcode names a global through the copyreg extension registry. What gets imported is decided when the file is loaded, so it can be anything, including os.system.',
    remediation: 'Do not load the file. Legitimate pickles name their globals with constant strings.',
  },
  {
    id: 'MG103',
    slug: 'private_attribute_traversal',
    title: 'Pickle global walks through dunder or private attributes',
    severity: 'critical',
    kind: 'threat',
    cwe: 502,
    description:
      'A global name (protocol 4 dotted names such as builtins + print.__class__.__base__.__subclasses__, or numpy + __builtins__) walks through dunder or private attributes. That reaches objects the module does not export (its builtins, imported modules, class hierarchies) and is how allowlists and denylists are bypassed.',
    remediation: 'Do not load the file.',
  },
  {
    id: 'MG104',
    slug: 'attribute_injection',
    title: 'Pickle modifies a global object (attribute or registry injection)',
    severity: 'critical',
    kind: 'threat',
    cwe: 915,
    description:
      'BUILD, SETITEM(S), APPEND(S) or ADDITEMS applied to an imported global (a function, class or module-level registry) rather than to a freshly built object. BUILD with (None, {attr: value}) sets attributes on the global; item updates change module registries (copyreg extensions, lazy-import tables). This plants gadgets that a later import or call runs (Sleepy Pickle style).',
    remediation: 'Do not load the file.',
  },
  {
    id: 'MG105',
    slug: 'unknown_callable',
    title: 'Pickle calls a global that is not on the allowlist',
    severity: 'high',
    kind: 'threat',
    cwe: 502,
    description:
      'The pickle calls, with arguments, a global that is neither known-dangerous nor on the allowlist (PyTorch weights-only set, NumPy, scikit-learn, XGBoost, LightGBM, joblib, or the policy). Unpickling runs it; whether that is harmful depends on code modelgate does not know.',
    remediation:
      'Check what the callable does. If it is safe, add its exact module and name to the policy allowlist (`allow`) with a reason; better, store weights in a data-only format.',
  },
  {
    id: 'MG106',
    slug: 'unknown_global',
    title: 'Pickle references a class that is not on the allowlist',
    severity: 'medium',
    kind: 'threat',
    cwe: 502,
    description:
      "The pickle imports or instantiates (without constructor arguments) a global that is not on the allowlist. Loading it imports that module and may run the class's __setstate__/__reduce__ logic; it also means the file needs torch.load(weights_only=False) or plain pickle.",
    remediation:
      'Check the class. If it is your own trusted code, add its exact name to the policy allowlist (`allow`) with a reason.',
  },
  {
    id: 'MG107',
    slug: 'broken_after_payload',
    title: 'Pickle stream breaks after an import or call',
    severity: 'critical',
    kind: 'threat',
    cwe: 502,
    description:
      'The pickle stream is invalid (bad opcode, truncation, stack underflow, missing memo entry) after it has already imported a global or made a call. The unpickler executes everything before the error, so a payload followed by a deliberately broken stream runs while scanners that give up on the error report nothing (the nullifAI evasion).',
    remediation: 'Do not load the file. A file that was merely truncated in transit must be fetched again.',
  },
  {
    id: 'MG108',
    slug: 'pickle_incomplete',
    title: 'Pickle stream is malformed or truncated',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 20,
    description:
      'The pickle stream could not be read to its end (bad opcode, truncation, stack underflow, missing memo entry) before anything was imported or called. The file cannot be called clean.',
    remediation: 'Regenerate the file, or find out who altered it.',
  },
  {
    id: 'MG109',
    slug: 'frame_anomaly',
    title: 'Pickle frames disagree with the opcodes (frame straddle or lie)',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      "A protocol 4/5 FRAME is inconsistent with the opcodes: an opcode argument runs past the end of its frame, a frame starts inside another, or a frame is longer than the data. pickle.dumps never writes this. CPython's C unpickler reading a file drops the rest of a frame when a read runs past it, so it executes different opcodes than a linear parser sees; both readings were analysed.",
    remediation: 'Do not load the file; a legitimate writer never produces inconsistent frames.',
  },
  {
    id: 'MG110',
    slug: 'multiple_streams',
    title: 'Several pickle streams in one file',
    severity: 'low',
    kind: 'anomaly',
    description:
      'After the first pickle stream ends (STOP) another one follows. pickle.load reads only the first, but a loader that calls it again (legacy torch.save, custom formats) runs the next, and scanners that stop at STOP miss it. Every stream was analysed.',
    remediation: 'Make sure the extra stream is expected by the format that wrote the file.',
  },
  {
    id: 'MG111',
    slug: 'trailing_data',
    title: 'Non-pickle data after the pickle stream',
    severity: 'low',
    kind: 'anomaly',
    description:
      'Bytes that are not a pickle stream follow the last STOP. pickle.load ignores them, but they can carry a second format (a polyglot) or a payload another tool reads.',
    remediation: 'Find out what the trailing bytes are; regenerate the file without them.',
  },
  {
    id: 'MG112',
    slug: 'nested_pickle',
    title: 'Pickle payload embedded in a pickle string',
    severity: 'medium',
    kind: 'threat',
    cwe: 502,
    description:
      'A bytes or str value in the pickle is itself a pickle (directly, or base64/hex encoded). Model files have no reason to carry pickles inside pickles; the usual purpose is to feed it to pickle.loads / torch.load through a call. The embedded pickle was scanned; its findings are reported under this member.',
    remediation: 'Check why the file embeds a pickle; do not load it if you cannot explain it.',
  },
  {
    id: 'MG113',
    slug: 'unsupported_protocol',
    title: 'Pickle protocol higher than 5',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The PROTO opcode names a protocol no Python release supports. Current CPython refuses the file, but a future one, or another unpickler, may read it; it is analysed as protocol 5.',
    remediation: 'Regenerate the file with a supported protocol.',
  },
  {
    id: 'MG114',
    slug: 'protocol_misplaced',
    title: 'PROTO opcode in the middle of a pickle stream',
    severity: 'low',
    kind: 'anomaly',
    description:
      'A PROTO opcode appears after the start of the stream. Picklers never write this; it confuses scanners that read the protocol once.',
    remediation: 'Regenerate the file.',
  },
  {
    id: 'MG115',
    slug: 'persistent_id',
    title: 'Pickle asks the loader for persistent objects',
    severity: 'low',
    kind: 'anomaly',
    description:
      "PERSID/BINPERSID hand an identifier to the loader's persistent_load. PyTorch uses it for tensor storages ('storage', ...); elsewhere it calls whatever persistent_load the loading program defines, with attacker-chosen arguments.",
    remediation: 'Make sure the program that loads this file expects persistent ids.',
  },
  {
    id: 'MG116',
    slug: 'not_weights_only',
    title: 'PyTorch checkpoint is not loadable with weights_only=True',
    severity: 'low',
    kind: 'anomaly',
    description:
      'The file looks like a PyTorch checkpoint but torch.load(weights_only=True) (the default since torch 2.6) would refuse it: it uses opcodes or globals outside the weights-only allowlist. Loading it needs weights_only=False, which executes arbitrary pickle code. The facts list the reasons.',
    remediation: 'Save the state_dict (not the model object), or store the weights as safetensors.',
  },
  {
    id: 'MG117',
    slug: 'expansion_structure',
    title: 'Pickle builds an exponentially shared structure (expansion attack)',
    severity: 'high',
    kind: 'anomaly',
    cwe: 776,
    description:
      'Containers in the pickle reference the same memoised containers over and over, so the structure expands to orders of magnitude more elements than the file has opcodes (a "billion laughs"). Loading is cheap, but any code that walks, prints, copies or re-serialises the object exhausts memory or time.',
    remediation: 'Do not load the file; legitimate model files do not nest shared references like this.',
  },
  {
    id: 'MG118',
    slug: 'trampolined_callable',
    title: 'An allowlisted callable passes control to something outside the allowlist',
    severity: 'critical',
    kind: 'threat',
    cwe: 502,
    description:
      "A callable on the allowlist calls or instantiates one of its arguments (a trampoline: NumPy's RNG unpickling helpers call the constructor they are handed, torch's _rebuild_from_type_v2 calls its function argument, copyreg._reconstructor calls base.__init__), and the pickle hands it a callable that is not on the allowlist or a value computed at load time. The allowlisted name only carries the call; what runs is the argument. The message names the chain.",
    remediation:
      'Do not load the file. Legitimate pickles hand these helpers the library functions they were written for (tensor rebuild functions, bit generator names).',
  },
  {
    id: 'MG119',
    slug: 'joblib_sidecar',
    title: 'joblib array wrapper names a file outside the model folder, or a missing file',
    severity: 'critical',
    kind: 'threat',
    cwe: 22,
    description:
      "joblib's compatibility wrappers (NDArrayWrapper, ZNDArrayWrapper, written by joblib < 0.10) carry a `filename` that joblib.load opens next to the pickle, with numpy.load and pickles allowed. An absolute path, a path with `..`, a file that does not exist, or a name that is not a string makes the load read a file the scan did not see (e.g. /etc/passwd, or a pickle planted elsewhere). Sidecars inside the model folder are scanned as the pickle-capable arrays they are.",
    remediation:
      'Do not load the file. Re-save the object with a current joblib (a single file), or keep every sidecar next to the pickle.',
  },
]);
