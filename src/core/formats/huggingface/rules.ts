import { defineRules } from '../../rules/rule.js';

/** The fact listing the repository's own Python files a config's auto_map names (for the per-repository MG460). */
export const REMOTE_CODE_LOCAL_FACT = 'hf.remoteCodeLocal';

/** Hugging Face repository file rules (MG460-MG479). */
export const huggingfaceRules = defineRules([
  {
    id: 'MG460',
    slug: 'hf_remote_code',
    title: 'Model config runs custom Python code (trust_remote_code)',
    severity: 'medium',
    kind: 'threat',
    cwe: 94,
    description:
      'config.json or tokenizer_config.json maps Auto classes (auto_map) or pipelines (custom_pipelines) to Python modules. Loading the model with trust_remote_code=True imports and runs those files, from this repository or, for "repo--module.Class" references, from another hub repository that was not scanned here. Whoever controls the files controls the machine that loads the model. The repository\'s own code is reported once per repository (the nearest folder holding config.json, or the hf:// repository), on its config.json, listing every file and the configs that name them; each Python file is analysed on its own (MG461, MG462, MG910). The repository\'s own remote code is a warning by default: what it does is judged by analysing the files themselves (dangerous calls and obfuscation block on their own), and whether remote code as such blocks is a policy decision: the strict profile blocks it, `rules: {MG460: 60}` makes it block everywhere, `MG460: 0` accepts it. Code named in another repository (not scanned) is high and blocks by default; escapes from the model folder (MG942) are not covered by the setting.',
    remediation:
      'Review every named Python file, pin the revision, or use a model whose architecture is built into transformers (no auto_map) and load it without trust_remote_code.',
  },
  {
    id: 'MG942',
    slug: 'hf_remote_code_escape',
    title: 'Remote-code reference resolves outside the model',
    severity: 'critical',
    kind: 'threat',
    cwe: 22,
    description:
      'An auto_map/custom_pipelines class reference or a sentence-transformers modules.json path climbs out of the model folder or is absolute ("../../x", "/etc", a module path with empty segments). transformers and sentence-transformers would import code from outside the repository that was reviewed: code execution no policy setting for remote code (MG460) accepts.',
    remediation: 'Do not load the model; treat the repository as malicious.',
  },
  {
    id: 'MG461',
    slug: 'python_in_model_folder',
    title: 'Python file shipped with a model',
    severity: 'medium',
    kind: 'threat',
    cwe: 94,
    description:
      'A Python file sits next to model files (or inside a model archive). transformers runs such files when a config references them and the model is loaded with trust_remote_code=True; other tools import them as plugins. It is code, not data, and must be reviewed like code.',
    remediation: 'Review the file; prefer models that need no custom code.',
  },
  {
    id: 'MG462',
    slug: 'python_dangerous_call',
    title: 'Python file next to a model runs commands, evaluates code or uses the network',
    severity: 'high',
    kind: 'threat',
    cwe: 78,
    description:
      'The Python file shipped with the model calls functions that run shell commands, evaluate or deserialise code (os.system, subprocess, eval/exec, __import__, pickle/marshal), open sockets or make HTTP requests, load code from a path or torch.hub, replace modules or library functions for the process (sys.modules entries, builtins, torch.load), take such functions as values (a dict of handlers, a thread target), or touch credential and shell start-up files (~/.ssh, the Hub token, ~/.bashrc). Modeling code has no need for them; they are how remote-code payloads act when trust_remote_code imports the file.',
    remediation:
      'Do not load the model with trust_remote_code until the file has been reviewed line by line.',
  },
  {
    id: 'MG910',
    slug: 'python_obfuscated_code',
    title: 'Python file next to a model hides what it calls',
    severity: 'critical',
    kind: 'threat',
    cwe: 506,
    description:
      'The Python file reaches functions through computed names or indirection instead of naming them: getattr or sys.modules/__dict__/globals()/builtins lookups with names built from pieces (concatenation, chr(), join, format, slicing, reversal) or computed at run time, __import__/import_module of built names, walks through __subclasses__/__globals__/frames, getattr by other names (operator.attrgetter/methodcaller/getitem, functools.reduce(getattr, ...), object.__getattribute__, helper functions and lambdas that take the object and the name as arguments), modules reached as attributes of other modules (logging.os), identifiers written in characters Python folds to ASCII (NFKC), or code decoded from embedded data and executed (base64, zlib, marshal). Modelling code names what it uses; hiding it exists only to get past review and scanners. The analysis parses the file and folds the string building, so the name reached is reported when it can be computed.',
    remediation: 'Do not load the model with trust_remote_code; treat the repository as malicious.',
  },
  {
    id: 'MG911',
    slug: 'python_unparsed',
    title: 'Python file next to a model does not fully parse',
    severity: 'medium',
    kind: 'anomaly',
    description:
      "Parts of the Python file do not parse as Python 3 with modelgate's parser (@lezer/python), so they were analysed only as far as the parser recovered. Python 2 code or syntax errors fail at import; newer syntax than the parser knows may not.",
    remediation: 'Review the file by hand.',
  },
  {
    id: 'MG920',
    slug: 'hf_nested_trust_remote_code',
    title: 'Sub-config turns trust_remote_code on',
    severity: 'critical',
    kind: 'threat',
    cwe: 94,
    description:
      "A nested sub-config (text_config, vision_config, ...) of config.json sets trust_remote_code: true. transformers 5.2 passed such values to the nested AutoConfig.from_pretrained, overriding the caller's trust_remote_code=False and running the repository's code (CVE-2026-5241). No legitimate config stores the flag.",
    remediation: 'Do not load the model; remove the key, and upgrade transformers.',
  },
  {
    id: 'MG921',
    slug: 'hf_kernel_reference',
    title: 'Config makes transformers download and run kernel code',
    severity: 'high',
    kind: 'threat',
    cwe: 494,
    description:
      'An attention-implementation or kernel field of the config names a Hub repository (`_attn_implementation_internal: "org/kernels"`, a `*kernel*` key), sets use_kernels, or holds an implementation transformers does not ship. transformers 4.56-5.2 downloaded and ran such kernels even with trust_remote_code=False (CVE-2026-4372); `_attn_implementation_internal` is never saved by transformers, so its presence means a crafted config. A repository name is critical.',
    remediation:
      'Remove the field, or pin and review the kernel repository; upgrade transformers to 5.3 or later.',
  },
  {
    id: 'MG922',
    slug: 'hf_external_reference',
    title: 'Config points the loader at another repository or URL',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A config value is a URL, or names a repository the loader downloads from when the model is loaded (vision_tower, mm_vision_tower, audio_tower...). What it fetches was not scanned with this model, and can change after review.',
    remediation: 'Scan the referenced repository too (modelgate --references), and pin it to a revision.',
  },
]);
