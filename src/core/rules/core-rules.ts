import { defineRules } from './rule.js';

/** Rules of the scan engine itself: detection, budgets, errors. */
export const coreRules = defineRules([
  {
    id: 'MG001',
    slug: 'budget_exceeded',
    title: 'Analysis budget exceeded',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 400,
    description:
      'The file hit one of the analysis budgets (bytes, entries, nesting depth, opcodes, memo or stack size, string length or time). What lies past the limit was not analysed, so the file cannot be called clean.',
    remediation:
      'Check why the file is so large or deep. If it is legitimate, raise the named limit in the policy file (`limits`) and scan again.',
  },
  {
    id: 'MG002',
    slug: 'malformed',
    title: 'Malformed or truncated file',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 20,
    description:
      'The file is not valid for the format it claims to be (truncated, a bad length or offset, an unparseable structure). It could not be fully analysed; a loader might still read a part of it.',
    remediation: 'Regenerate the file with its original library, or find out who altered it.',
  },
  {
    id: 'MG003',
    slug: 'internal_error',
    title: 'Scanner error while analysing the file',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'modelgate hit an unexpected error while analysing this file. The analysis stopped there, so the file is reported incomplete rather than clean. The message quotes the error.',
    remediation: 'Report the error with the file (or a reduced copy) to the modelgate maintainers.',
  },
  {
    id: 'MG004',
    slug: 'unknown_model_format',
    title: 'Unrecognised content under a model file name',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'The file is named like a model (.bin, .pt, .pkl, .ckpt, .onnx, ...) but its content matches no format modelgate can analyse. Loaders choose by content, not by name, so an unknown payload cannot be called clean.',
    remediation: 'Find out what the file is. Use a supported format, or remove the file.',
  },
  {
    id: 'MG005',
    slug: 'extension_mismatch',
    title: 'File extension disagrees with its content',
    severity: 'medium',
    kind: 'anomaly',
    cwe: 646,
    description:
      'The file extension names one format while the content is another (for example a pickle named .safetensors). Scanners and reviewers that trust extensions are misled this way; loaders that sniff content still load it.',
    remediation: 'Rename the file after what it really is, or regenerate it in the format its name claims.',
  },
  {
    id: 'MG006',
    slug: 'polyglot',
    title: 'File is valid as more than one format',
    severity: 'high',
    kind: 'anomaly',
    cwe: 434,
    description:
      'The same bytes read as two different formats (for example a pickle with a zip appended, or a safetensors file followed by a pickle). Different tools see different files; a scanner may check one reading while the loader executes the other. Both readings were scanned.',
    remediation:
      'Regenerate the file with the original library; a legitimate writer never produces a polyglot.',
  },
  {
    id: 'MG007',
    slug: 'lfs_pointer',
    title: 'Git LFS pointer: the model content was not scanned',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'The file is a Git LFS pointer (a small text file naming the real object by sha256). The model itself is not here, so it was not scanned.',
    remediation: 'Fetch the LFS object (`git lfs pull`, or the action input `lfs: fetch`) and scan again.',
  },
  {
    id: 'MG008',
    slug: 'not_regular_file',
    title: 'Not a regular file; not scanned',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'The path is a FIFO, socket, device or a symbolic link that leaves the scanned folder. modelgate does not open such paths (reading a FIFO can hang the job, and links outside the folder are not part of the change).',
    remediation: 'Replace it with a regular file if it is meant to be a model.',
  },
  {
    id: 'MG009',
    slug: 'changed_during_scan',
    title: 'File changed, vanished or could not be read during the scan',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 367,
    description:
      'Between listing the folder and finishing the analysis, the file disappeared, was replaced (by a link, a FIFO, another file), changed size or content, or could not be read (permissions, I/O error). What was analysed may not be what a loader reads, so the file cannot be called clean.',
    remediation:
      'Scan again once nothing else writes to the folder; make sure the scanner can read every file.',
  },
]);
