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
    title: 'Not a regular file; not scanned (retired)',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    description:
      'Retired: no longer reported. Paths that are not regular files are now incomplete: MG010 (a link that leaves the folder), MG011 (a dangling link or a loop), MG012 (a FIFO, socket or device). Kept so that older reports still resolve.',
    remediation: 'Scan again with a current modelgate.',
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
  {
    id: 'MG010',
    slug: 'link_leaves_folder',
    title: 'Symbolic link leads outside the scanned folder or workspace',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 59,
    description:
      'The path is a symbolic link whose target lies outside the scanned folder (the workspace, in the GitHub Action): an absolute link or one climbing out with `../..`. A loader opening the path reads the target, which modelgate did not read: it can be anything on the machine that loads the model (a file of the runner, a device), so the path cannot be called clean.',
    remediation:
      'Replace the link with the file itself, or point it at a file inside the repository. To scan the target on purpose, name it (or the link) on the command line.',
  },
  {
    id: 'MG011',
    slug: 'link_unresolved',
    title: 'Dangling symbolic link or link loop',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    cwe: 59,
    description:
      'The path is a symbolic link whose target does not exist (dangling), or a chain of links (or a link to a folder holding it) that never reaches a file. On the machine that loads the model the same name can resolve to something else (a file created later, a different checkout), which modelgate cannot see.',
    remediation: 'Remove the link or point it at the file it is meant to name.',
  },
  {
    id: 'MG012',
    slug: 'special_file',
    title: 'FIFO, socket or device where a file was expected',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'The path (or the target of a link at it) is a FIFO (named pipe), a socket or a device, not a stored file. Its bytes are whatever a writer or driver produces when a loader opens it, so there is nothing fixed to scan and the path cannot be called clean. modelgate never opens such paths in a folder (reading one can hang the job); a pipe named on the command line (`-`, `/dev/stdin`, `<(...)`, a named pipe) is read as a stream instead.',
    remediation:
      'Replace it with the regular file it stands for. To scan what a pipe delivers, give the pipe itself as the argument (`cat model.pkl | modelgate scan -`).',
  },
]);
