import { defineRules } from '../../rules/rule.js';

/** safetensors rules (MG400-MG419). The checks mirror the reference Rust reader (`safetensors/src/tensor.rs`). */
export const safetensorsRules = defineRules([
  {
    id: 'MG400',
    slug: 'safetensors_header_length',
    title: 'safetensors header length is out of bounds',
    severity: 'high',
    kind: 'anomaly',
    cwe: 789,
    description:
      'The 8-byte little-endian header length at the start of a safetensors file is larger than the file or above the 100 MB limit of the reference reader. A writer never produces this; a crafted length targets readers that allocate it before checking (memory exhaustion, integer overflow). The header was not analysed past the file end.',
    remediation: 'Regenerate the file with the safetensors library; do not load this one.',
  },
  {
    id: 'MG401',
    slug: 'json_duplicate_key',
    title: 'Duplicate key in a JSON header or config',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      'The same key appears twice in one JSON object. JSON readers disagree on which value wins (the first, the last, or an error), so a scanner and a loader can see different tensors, offsets or settings. The safetensors format forbids duplicate keys; writers never produce them.',
    remediation: 'Regenerate the file with its original library; treat the file as tampered with.',
  },
  {
    id: 'MG402',
    slug: 'json_unsafe_integer',
    title: 'Integer beyond 2^53 in a JSON header',
    severity: 'high',
    kind: 'anomaly',
    cwe: 190,
    description:
      'An integer in the JSON header is larger than 2^53, where JavaScript readers silently round it while Rust and Python read it exactly. Offsets and shapes that large do not occur in real files; they are used to make parsers disagree or overflow size computations.',
    remediation: 'Regenerate the file with its original library.',
  },
  {
    id: 'MG403',
    slug: 'safetensors_header_padding',
    title: 'safetensors header does not start with "{" or is padded with non-space characters',
    severity: 'medium',
    kind: 'anomaly',
    cwe: 436,
    description:
      'The specification says the JSON header starts with "{" and may be right-padded with spaces. The Rust reader (serde_json) also accepts other whitespace before and after the object, other readers do not: a parser differential that writers never produce.',
    remediation: 'Regenerate the file with the safetensors library.',
  },
  {
    id: 'MG404',
    slug: 'json_parser_differential',
    title: 'JSON that readers decode differently',
    severity: 'medium',
    kind: 'anomaly',
    cwe: 436,
    description:
      'The JSON contains constructs that some readers accept and others reject or decode differently (for example a \\u escape encoding a lone UTF-16 surrogate, which serde_json rejects and Python accepts).',
    remediation: 'Regenerate the file with its original library.',
  },
  {
    id: 'MG405',
    slug: 'safetensors_bad_dtype',
    title: 'Unknown safetensors dtype',
    severity: 'high',
    kind: 'anomaly',
    description:
      'A tensor declares a dtype the reference reader does not know. The reference reader rejects the file; other readers may guess an element size and read past the tensor.',
    remediation: 'Regenerate the file with the safetensors library.',
  },
  {
    id: 'MG406',
    slug: 'safetensors_bad_offsets',
    title: 'safetensors data offsets are invalid',
    severity: 'high',
    kind: 'anomaly',
    cwe: 125,
    description:
      'Tensor data_offsets must be sorted, contiguous from 0, non-overlapping and inside the data area. Overlapping or out-of-file offsets alias memory or read outside the buffer in readers that trust them (the historical safetensors DoS); holes hide bytes that no tensor accounts for.',
    remediation: 'Regenerate the file with the safetensors library; do not load this one.',
  },
  {
    id: 'MG407',
    slug: 'safetensors_shape_mismatch',
    title: 'safetensors tensor shape and dtype disagree with its byte span',
    severity: 'high',
    kind: 'anomaly',
    cwe: 131,
    description:
      'The number of elements (product of the shape) times the dtype size must equal the tensor byte span. A mismatch, an overflowing product or a negative dimension makes readers that trust the shape read or write outside the tensor.',
    remediation: 'Regenerate the file with the safetensors library.',
  },
  {
    id: 'MG408',
    slug: 'safetensors_trailing_data',
    title: 'Bytes after the safetensors data area',
    severity: 'high',
    kind: 'anomaly',
    cwe: 434,
    description:
      'The file continues after the last tensor. The reference reader rejects such files, but other tools read them, and the extra bytes can hold a second file (a pickle or zip appended to make a polyglot). The trailing bytes were scanned by content.',
    remediation: 'Regenerate the file with the safetensors library; find out what the extra bytes are.',
  },
  {
    id: 'MG409',
    slug: 'safetensors_bad_entry',
    title: 'Invalid safetensors tensor entry',
    severity: 'high',
    kind: 'anomaly',
    description:
      'A header entry is not a valid tensor description (it must be an object with a string dtype, an array of non-negative integer shape dimensions and two integer data_offsets). The reference reader rejects the file; other readers may read it in unpredictable ways.',
    remediation: 'Regenerate the file with the safetensors library.',
  },
  {
    id: 'MG410',
    slug: 'safetensors_metadata_not_string',
    title: 'safetensors __metadata__ holds a non-string value',
    severity: 'medium',
    kind: 'anomaly',
    description:
      '__metadata__ may only map strings to strings. Other values are rejected by the reference reader and can smuggle structured data to tools that read the header with a generic JSON parser.',
    remediation: 'Regenerate the file with string-only metadata.',
  },
  {
    id: 'MG411',
    slug: 'safetensors_metadata_suspicious',
    title: 'safetensors metadata holds URLs, code-like or oversized text',
    severity: 'low',
    kind: 'threat',
    cwe: 79,
    description:
      '__metadata__ is free text that model hubs, UIs and training tools display or parse. URLs, markup, script or shell-like content, control characters and very long values in it are unusual and can target those tools (injection into pages, logs or prompts). The value is shown escaped and shortened.',
    remediation: 'Check where the metadata came from; strip it if it is not needed.',
  },
  {
    id: 'MG412',
    slug: 'safetensors_index_path_escape',
    title: 'Sharded checkpoint index points outside the model folder',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      'A weight_map entry of a *.safetensors.index.json names a shard by an absolute path, a path with "..", a drive letter, a UNC prefix or backslashes. Loaders join it to the model folder, so it can read files elsewhere on the machine.',
    remediation: 'Shard names must be plain file names next to the index; fix or regenerate the index.',
  },
  {
    id: 'MG413',
    slug: 'safetensors_index_missing_shard',
    title: 'Sharded checkpoint index names a shard that is not there',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A weight_map entry names a shard file that does not exist next to the index. The model cannot be loaded as scanned, and the missing shard was not scanned.',
    remediation: 'Add the missing shard to the change (and scan it), or fix the index.',
  },
  {
    id: 'MG414',
    slug: 'safetensors_unknown_field',
    title: 'Unexpected field in a safetensors tensor entry',
    severity: 'low',
    kind: 'anomaly',
    description:
      'A tensor entry has fields besides dtype, shape and data_offsets. Readers ignore them; writers never produce them.',
    remediation: 'Regenerate the file with the safetensors library.',
  },
  {
    id: 'MG415',
    slug: 'safetensors_index_tensor_mismatch',
    title: 'Sharded checkpoint index and shard disagree on a tensor',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The index maps a tensor to a shard whose header does not contain it. Loaders that trust the index fail or load a different tensor than the one reviewed; the shard may have been swapped.',
    remediation: 'Regenerate the index and the shards together (save_pretrained).',
  },
]);
