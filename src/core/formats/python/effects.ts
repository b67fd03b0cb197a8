import type { Severity } from '../../types.js';

/**
 * What calling a resolved Python callable does, by its qualified name. Plain use of process, network, code
 * evaluation and deserialisation in model code is high (model code has no need for it); file deletion and
 * permission changes are medium; the same calls reached through obfuscation are critical (analyze.ts).
 */
export interface Effect {
  kind: 'exec' | 'decode' | 'deser' | 'effect';
  why: string;
  severity: Severity;
  /** Always critical (marshal: loads code objects). */
  critical?: boolean;
}

const SHELL = 'runs processes or shell commands';
const NET = 'makes network connections';
const NATIVE = 'loads native code';

const TABLE: Array<[RegExp, Effect]> = [
  [/^builtins\.(eval|exec|compile|execfile)$/, { kind: 'exec', why: 'evaluates code', severity: 'high' }],
  [
    /^(code\.interact|code\.InteractiveInterpreter|runpy\.run_\w+|imp\.load_(source|module|compiled|dynamic))$/,
    { kind: 'effect', why: 'runs code from a path or string', severity: 'high' },
  ],
  [
    /^os\.(system|popen|popen[234]|exec\w*|spawn\w*|fork|forkpty|posix_spawn\w*|startfile|kill|killpg)$/,
    { kind: 'effect', why: SHELL, severity: 'high' },
  ],
  [
    /^(subprocess|commands|pty|pexpect|sh|multiprocessing\.popen_\w+)\.\w+$/,
    { kind: 'effect', why: SHELL, severity: 'high' },
  ],
  [
    /^(asyncio\.create_subprocess_(exec|shell)|platform\.popen)$/,
    { kind: 'effect', why: SHELL, severity: 'high' },
  ],
  [
    // Load and run Python from a path or a repository: torch.hub runs the repository's hubconf.py.
    /^(torch\.hub\.load|importlib\.util\.spec_from_file_location|importlib\.util\.module_from_spec|importlib\.machinery\.(SourceFileLoader|SourcelessFileLoader|ExtensionFileLoader)|zipimport\.zipimporter)$/,
    {
      kind: 'effect',
      why: 'loads and runs Python code from a path or a remote repository',
      severity: 'high',
    },
  ],
  [
    /^(marshal\.loads?|types\.CodeType|types\.FunctionType)$/,
    { kind: 'deser', why: 'builds code objects from bytes', severity: 'critical', critical: true },
  ],
  [
    /^(pickle|cPickle|_pickle|dill|cloudpickle|shelve)\.(loads?|Unpickler|open)$/,
    { kind: 'deser', why: 'deserialises data that can run code', severity: 'high' },
  ],
  [
    /^(torch\.load|joblib\.load|numpy\.load|yaml\.unsafe_load|yaml\.load|jsonpickle\.decode)$/,
    { kind: 'deser', why: 'deserialises data that can run code', severity: 'low' },
  ],
  [
    /^(socket\.\w+|requests\.\w+|httpx\.\w+|urllib\.request\.\w+|urllib2\.\w+|urllib\.urlopen|urllib\.urlretrieve|http\.client\.\w+|ftplib\.\w+|smtplib\.\w+|paramiko\.\w+|telnetlib\.\w+|aiohttp\.\w+|websocket\.\w+|xmlrpc\.client\.\w+)$/,
    { kind: 'effect', why: NET, severity: 'high' },
  ],
  [
    /^(ctypes\.(CDLL|PyDLL|WinDLL|OleDLL|LibraryLoader|pythonapi\.\w+)|ctypes\.(cdll|windll|pydll|oledll)\.\w+|ctypes\.util\.find_library|cffi\.FFI|_ctypes\.\w+)$/,
    { kind: 'effect', why: NATIVE, severity: 'high' },
  ],
  [
    /^ctypes\.(memmove|memset|string_at|wstring_at|cast|addressof|pointer)$/,
    { kind: 'effect', why: 'reads or writes raw memory', severity: 'medium' },
  ],
  [
    /^(base64\.(b64decode|b32decode|b85decode|a85decode|decodebytes|urlsafe_b64decode|standard_b64decode)|codecs\.decode|zlib\.decompress|bz2\.decompress|lzma\.decompress|gzip\.decompress|binascii\.\w+)$/,
    { kind: 'decode', why: 'decodes embedded data', severity: 'low' },
  ],
  [
    /^(shutil\.rmtree|shutil\.move|os\.remove|os\.unlink|os\.rmdir|os\.removedirs|os\.chmod|os\.chown|os\.setuid|os\.setgid|os\.rename|os\.replace|os\.truncate)$/,
    { kind: 'effect', why: 'deletes, moves or changes permissions of files', severity: 'medium' },
  ],
  [
    /^(os\.putenv|os\.environ\.(update|setdefault)|os\.unsetenv)$/,
    { kind: 'effect', why: 'changes environment variables of the process', severity: 'medium' },
  ],
  [
    /^(webbrowser\.(open|open_new|open_new_tab|get)|torch\.hub\.download_url_to_file|huggingface_hub\.(hf_hub_download|snapshot_download))$/,
    { kind: 'effect', why: 'downloads files or opens URLs', severity: 'medium' },
  ],
  [
    /^(gc\.(get_objects|get_referrers|get_referents)|sys\._getframe|inspect\.(currentframe|stack)|ctypes\.pythonapi)$/,
    {
      kind: 'effect',
      why: "walks the interpreter's live objects or frames (reaches every module)",
      severity: 'medium',
    },
  ],
  [
    /^(sys\.settrace|sys\.setprofile|sys\.addaudithook|builtins\.breakpoint|builtins\.input)$/,
    { kind: 'effect', why: 'hooks the interpreter or waits for input', severity: 'medium' },
  ],
];

/** Modules whose functions act on the machine: a computed lookup on them is never modelling code. */
const DANGEROUS_MODULES =
  /^(os|posix|nt|sys|subprocess|builtins|__builtin__|importlib|imp|socket|ctypes|_ctypes|cffi|pty|pexpect|marshal|pickle|_pickle|cPickle|dill|shutil|runpy|code|codeop|requests|urllib|urllib2|httpx|http|ftplib|smtplib|telnetlib|paramiko|asyncio\.subprocess|multiprocessing|signal|gc|inspect|types|webbrowser|zipimport)(\.|$)/;

const RISKY_IMPORT =
  /^(subprocess|socket|ctypes|pty|marshal|pexpect|paramiko|telnetlib|ftplib|smtplib|cffi)(\.|$)/;

export function resolveCall(path: string): Effect | undefined {
  for (const [re, e] of TABLE) if (re.test(path)) return e;
  return undefined;
}

export function isDangerousModule(path: string): boolean {
  return (
    DANGEROUS_MODULES.test(path) &&
    !/^(os\.path|sys\.(version|platform|maxsize|argv|path|stdout|stderr))/.test(path)
  );
}

/**
 * Whether a resolved name is dangerous to reach. `strict`: any effect counts (for names reached by
 * obfuscation); otherwise only importing the module is reported (with its severity).
 */
export function danger(path: string, strict: boolean): { importSeverity?: Severity } | undefined {
  if (strict) {
    const e = resolveCall(path);
    return e && e.kind !== 'decode' ? {} : undefined;
  }
  if (RISKY_IMPORT.test(path)) return { importSeverity: 'low' };
  return undefined;
}

/**
 * Files a model's code has no reason to touch: credentials and keys (read: exfiltration), shell start-up and
 * scheduler files (write: persistence).
 */
export const SENSITIVE_PATH =
  /(^|\/)(\.ssh|\.aws|\.gnupg|\.docker|\.kube|\.netrc|\.git-credentials|\.pypirc|\.npmrc|id_rsa|id_ed25519|authorized_keys|\.bashrc|\.bash_profile|\.profile|\.zshrc|crontab|cron\.d|\.config\/autostart)(\/|$)|^\/etc\/(passwd|shadow|sudoers|cron)|^\/proc\/self\/environ|(^|\/)\.(cache\/)?huggingface\/(token|stored_tokens)$/;
