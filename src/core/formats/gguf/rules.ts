import { defineRules } from '../../rules/rule.js';

/** GGUF rules (MG420-MG439). The checks follow ggml's gguf.cpp reader and the GGUF specification. */
export const ggufRules = defineRules([
  {
    id: 'MG420',
    slug: 'gguf_count_overflow',
    title: 'GGUF count or length larger than the file',
    severity: 'high',
    kind: 'threat',
    cwe: 190,
    description:
      'A tensor count, key/value count, string length, array length or dimension claims more data than the rest of the file can hold. This is the pattern of the 2024 ggml GGUF parser overflows (CVE-2024-25664 to 25668 family) and later llama.cpp size overflows: readers that allocate or multiply the claimed count overflow and corrupt memory. Nothing past it was read.',
    remediation: "Do not load the file. Regenerate it with llama.cpp's converter from the original weights.",
  },
  {
    id: 'MG421',
    slug: 'gguf_bad_alignment',
    title: 'GGUF general.alignment is not a power of two',
    severity: 'high',
    kind: 'anomaly',
    cwe: 682,
    description:
      'general.alignment must be a non-zero power of two stored as UINT32. Other values break the padding arithmetic of readers (division by zero, offsets that wrap), and ggml rejects the file.',
    remediation: 'Regenerate the file; writers use 32 unless told otherwise.',
  },
  {
    id: 'MG422',
    slug: 'gguf_tensor_misaligned',
    title: 'GGUF tensor offset not aligned',
    severity: 'high',
    kind: 'anomaly',
    description:
      'A tensor data offset is not a multiple of the file alignment. Writers always align tensors; a misaligned offset points tensors at bytes chosen by hand and is rejected by ggml.',
    remediation: "Regenerate the file with llama.cpp's tools.",
  },
  {
    id: 'MG423',
    slug: 'gguf_tensor_out_of_bounds',
    title: 'GGUF tensor data outside the file',
    severity: 'high',
    kind: 'threat',
    cwe: 125,
    description:
      'A tensor\'s data (offset plus the size computed from its type and dimensions) ends past the end of the file, or its size computation overflows. Readers that map the file and trust the tensor table read outside it (the Ollama "Bleeding Llama" out-of-bounds read leaked process memory this way).',
    remediation: 'Do not load the file; regenerate it from the original weights.',
  },
  {
    id: 'MG424',
    slug: 'gguf_tensor_overlap',
    title: 'GGUF tensors overlap or are out of place',
    severity: 'high',
    kind: 'anomaly',
    cwe: 119,
    description:
      'Two tensors share bytes, or a tensor is not at the offset the reference reader expects (tensors follow each other in table order, each padded to the alignment). Overlaps alias memory between tensors; writers never produce them.',
    remediation: "Regenerate the file with llama.cpp's tools.",
  },
  {
    id: 'MG425',
    slug: 'gguf_duplicate_name',
    title: 'Duplicate GGUF metadata key or tensor name',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      'A metadata key or tensor name appears twice. Readers disagree on which one wins (ggml rejects the file, others take the first or the last), so a scanner and a loader can see different templates or weights.',
    remediation: 'Regenerate the file; treat it as tampered with.',
  },
  {
    id: 'MG426',
    slug: 'gguf_bad_tensor_info',
    title: 'Invalid GGUF tensor description',
    severity: 'high',
    kind: 'anomaly',
    cwe: 20,
    description:
      'A tensor has an unknown or removed ggml type, more than 4 dimensions, a name longer than 63 bytes, a negative or overflowing dimension, or a first dimension that is not a multiple of its quantisation block size. ggml rejects such files; readers that do not check compute wrong sizes.',
    remediation: "Regenerate the file with llama.cpp's tools.",
  },
  {
    id: 'MG427',
    slug: 'gguf_bad_value',
    title: 'Invalid GGUF metadata value',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A metadata value is invalid: a BOOL other than 0 or 1, a key that is empty, too long or not valid UTF-8, or a well-known key stored with the wrong type.',
    remediation: "Regenerate the file with llama.cpp's tools.",
  },
  {
    id: 'MG428',
    slug: 'gguf_trailing_data',
    title: 'Bytes after the GGUF tensor data',
    severity: 'low',
    kind: 'anomaly',
    cwe: 434,
    description:
      'The file continues after the last tensor. Readers ignore the extra bytes, which can carry a second file (a polyglot). They were scanned by content.',
    remediation: 'Find out what the extra bytes are; regenerate the file.',
  },
  {
    id: 'MG429',
    slug: 'gguf_split_inconsistent',
    title: 'GGUF split metadata is inconsistent',
    severity: 'low',
    kind: 'anomaly',
    description:
      'split.no, split.count and the file name (-0000N-of-0000M.gguf) disagree, so loaders may stitch the wrong shards together.',
    remediation: 'Regenerate the split with llama-gguf-split.',
  },
  {
    id: 'MG930',
    slug: 'gguf_tokenizer_metadata',
    title: 'GGUF tokenizer metadata that corrupts loader memory',
    severity: 'high',
    kind: 'threat',
    cwe: 787,
    description:
      'The tokenizer arrays or ids hold values no converter writes and llama.cpp\'s vocabulary loader trusts: an array of the wrong element type (scores declared UINT8 but read as float, token types read as int32), per-token arrays shorter than the vocabulary, special-token ids outside the vocabulary, byte tokens not spelled <0xHH> ("<0x-1>" became a write at bytes_[-1] in 2025-2026 llama.cpp heap bugs). They are read at load time, before any inference.',
    remediation:
      'Do not load the file; re-convert the model from its original weights with a current converter.',
  },
  {
    id: 'MG941',
    slug: 'gguf_tokenizer_inconsistent',
    title: 'GGUF tokenizer metadata no converter writes',
    severity: 'medium',
    kind: 'anomaly',
    description:
      "The tokenizer arrays are well typed and in bounds but hold values no converter writes: token types outside llama.cpp's enum (0 UNDEFINED to 6 BYTE), or BPE merges that do not join two tokens of the vocabulary into a third (Hugging Face tokenizers refuses such a tokenizer, so a converted model never has one). Current llama.cpp maps unknown types to UNDEFINED and falls back to bytes for merges it cannot resolve; other GGUF readers that index per-type tables or look merge results up unchecked do not. The file was edited after conversion.",
    remediation:
      'Re-convert the model from its original tokenizer files, or find out who edited the GGUF metadata.',
  },
]);
