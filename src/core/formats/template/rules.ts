import { defineRules } from '../../rules/rule.js';

/** Jinja chat-template rules (MG440-MG459, MG900-MG909): GGUF metadata, tokenizer_config.json, *.jinja files. */
export const templateRules = defineRules([
  {
    id: 'MG440',
    slug: 'template_sandbox_escape',
    title: 'Chat template reaches Python internals (template injection)',
    severity: 'critical',
    kind: 'threat',
    cwe: 1336,
    description:
      'The Jinja chat template accesses dunder or private attributes (__class__, __globals__, __subclasses__, __mro__, __builtins__, __init__...), or names that lead to code execution (os, popen, system, mro, __import__, eval...). Chat templates only loop over messages and print text; these names are the steps of a sandbox escape. Loaders that render templates without a sandbox (llama-cpp-python before 0.2.72, CVE-2024-34359; vLLM and SGLang, CVE-2026-5760) execute the payload when the model is loaded or queried.',
    remediation:
      'Do not load the model. Replace the template with the one published by the model author, and render templates only in an ImmutableSandboxedEnvironment.',
  },
  {
    id: 'MG441',
    slug: 'template_computed_name',
    title: 'Chat template builds a dangerous name from pieces',
    severity: 'critical',
    kind: 'threat',
    cwe: 1336,
    description:
      'The template assembles a string (concatenation, ~, join, format, replace, %-formatting, reversed slices, escapes) that spells a dunder or dangerous name, or holds a double underscore that can spell one. Obfuscated names exist only to slip past scanners that look for the literal text.',
    remediation: 'Do not load the model; replace the template with a known-good one.',
  },
  {
    id: 'MG442',
    slug: 'template_gadget_global',
    title: 'Chat template uses a Jinja global that serves as an escape gadget',
    severity: 'high',
    kind: 'threat',
    cwe: 1336,
    description:
      'The template refers to cycler, joiner, lipsum, self, config, request, url_for or a Python builtin, or accesses attributes of namespace/range/dict themselves. Chat templates do not need these; they are the usual starting points for reaching __globals__ and the os module.',
    remediation: "Review the template; replace it with the model author's template.",
  },
  {
    id: 'MG443',
    slug: 'template_attribute_filter',
    title: 'Chat template reaches attributes through a filter',
    severity: 'high',
    kind: 'threat',
    cwe: 1336,
    description:
      'The template uses the attr filter, or map/selectattr/sort/groupby with an attribute name that is computed or private. These look attributes up by a string, which is how sandboxed Jinja was escaped (CVE-2025-27516) and how scanners that check attribute syntax are bypassed.',
    remediation: 'Review the template; normal chat templates index messages with ["key"] or .key only.',
  },
  {
    id: 'MG444',
    slug: 'template_unusual_construct',
    title: 'Chat template uses a construct outside what chat templates need',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The template calls a method, filter, test or function outside the set normal chat templates use (message loops, role and content access, string methods, tojson, raise_exception...), formats strings with str.format or %, or looks up a name computed at render time. Not an escape by itself, but worth a human look.',
    remediation: 'Review the template against the one published by the model author.',
  },
  {
    id: 'MG445',
    slug: 'template_unparsed',
    title: 'Chat template could not be parsed',
    severity: 'medium',
    kind: 'anomaly',
    description:
      "The template does not parse with modelgate's Jinja parser (@huggingface/jinja, a subset of Jinja2). Jinja2 syntax the parser lacks (raw and with blocks, recursive loops, do, tests with arguments, one-element tuples) is rewritten to equivalent constructs and analysed structurally (low). Otherwise the real Jinja2 parser may still accept it, so it was checked token by token instead of structurally: a template that cannot be analysed is not clean (medium).",
    remediation: "Review the template by hand, or replace it with the model author's template.",
  },
  {
    id: 'MG900',
    slug: 'template_computed_lookup',
    title: 'Chat template looks up computed names on Python objects',
    severity: 'high',
    kind: 'threat',
    cwe: 1336,
    description:
      "A subscript or attribute whose name is computed at render time is applied to a string, a Jinja global or the loop object rather than to message data or a structure the template built; or a key the template builds from its own text (literals, special-token strings, sorted or joined pieces, macro and caller arguments, list appends) does not resolve to known names, even on message data; or str.format runs on a format string computed at render time. Jinja's x[name] falls back to getattr on lists and dicts too, so this reaches Python attributes with no dangerous name written anywhere (the names can come from the file's own metadata, such as the text of bos_token). A further lookup or call on the object reached that way is critical: it is the shape of a sandbox escape chain.",
    remediation:
      "Do not load the model; replace the template with the model author's template. Chat templates index messages and tools, never strings or globals, by computed names.",
  },
  {
    id: 'MG901',
    slug: 'template_render_exhaustion',
    title: 'Chat template exhausts CPU or memory when rendered',
    severity: 'high',
    kind: 'threat',
    cwe: 400,
    description:
      'Constant-folded loop bounds (nested loops multiply, loops over repeated strings and lists count), range() arguments, exponentiations, string or list repetitions, padding widths (center, ljust, zfill, indent) or format field widths exceed what any chat template needs (a million iterations or characters). Renderers without a sandbox cap, and servers that render the template for every request, spend unbounded time or memory on it.',
    remediation: "Replace the template with the model author's template.",
  },
]);
