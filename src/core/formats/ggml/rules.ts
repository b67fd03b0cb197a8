import { defineRules } from '../../rules/rule.js';

/** Legacy GGML rules (MG830-MG839). */
export const ggmlRules = defineRules([
  {
    id: 'MG830',
    slug: 'ggml_layout_not_checked',
    title: 'GGML file with a model-specific layout',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'The file has the unversioned `ggml` magic of the ggml examples and whisper.cpp, whose hyper-parameter block differs per model, so its tensors cannot be located without the program that wrote it. GGML files hold no code (they are read by C/C++ loaders into tensors); the file was recognised but not bound-checked.',
    remediation:
      'Prefer the GGUF conversion of the model, whose layout is self-describing and fully checked.',
  },
  {
    id: 'MG831',
    slug: 'ggml_malformed',
    title: 'Legacy GGML file is malformed',
    severity: 'high',
    kind: 'anomaly',
    cwe: 125,
    description:
      "A ggml/ggmf/ggjt/ggla file does not follow the layout llama.cpp's loader reads: a vocabulary entry, tensor name or tensor data runs past the end of the file, a tensor has an unknown type for the file version, a dimension count outside 1-4, a partial quantization block, or a duplicated name. Writers never produce this; the loaders are C/C++ code that trusted these lengths (out-of-bounds reads, huge allocations).",
    remediation: 'Do not load the file; convert the original weights again (preferably to GGUF).',
  },
]);
