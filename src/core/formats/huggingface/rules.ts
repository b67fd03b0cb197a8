import { defineRules } from '../../rules/rule.js';

/** Hugging Face repository file rules (MG460-MG479). */
export const huggingfaceRules = defineRules([
  {
    id: 'MG460',
    slug: 'hf_remote_code',
    title: 'Model config runs custom Python code (trust_remote_code)',
    severity: 'high',
    kind: 'threat',
    cwe: 94,
    description:
      'config.json or tokenizer_config.json maps Auto classes (auto_map) or pipelines (custom_pipelines) to Python modules. Loading the model with trust_remote_code=True imports and runs those files, from this repository or, for "repo--module.Class" references, from another hub repository that was not scanned here. Whoever controls the files controls the machine that loads the model.',
    remediation:
      'Review every named Python file, pin the revision, or use a model whose architecture is built into transformers (no auto_map) and load it without trust_remote_code.',
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
      'The Python file shipped with the model calls functions that run shell commands, evaluate or deserialise code (os.system, subprocess, eval/exec, __import__, pickle/marshal), open sockets or make HTTP requests. Modeling code has no need for them; they are how remote-code payloads act when trust_remote_code imports the file.',
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
      'The Python file reaches functions through computed names or indirection instead of naming them: getattr or sys.modules/__dict__/globals()/builtins lookups with names built from pieces (concatenation, chr(), join, format, slicing, reversal) or computed at run time, __import__/import_module of built names, walks through __subclasses__/__globals__/frames, or code decoded from embedded data and executed (base64, zlib, marshal). Modelling code names what it uses; hiding it exists only to get past review and scanners. The analysis parses the file and folds the string building, so the name reached is reported when it can be computed.',
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
]);
