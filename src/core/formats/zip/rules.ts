import { defineRules } from '../../rules/rule.js';

/** Rules of the zip reader, tar, compressed wrappers and archive nesting (MG200-MG299). */
export const zipRules = defineRules([
  {
    id: 'MG200',
    slug: 'zip_header_mismatch',
    title: 'Zip local header disagrees with the central directory',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      "A member's local header and its central-directory record give different names, sizes, methods or flags (or the end record miscounts the members). Readers that trust one or the other see different archives: picklescan was bypassed this way (CVE-2025-1944) while PyTorch still loaded the file.",
    remediation: 'Regenerate the archive with its original library; no legitimate writer produces this.',
  },
  {
    id: 'MG201',
    slug: 'zip_duplicate_member',
    title: 'Duplicate member name in a zip',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      'Two members share one name. Which one a loader reads depends on the implementation (first, last, or a binary search over the sorted directory), so a scanner can check one while the loader runs the other. Every copy was scanned.',
    remediation: 'Regenerate the archive; a legitimate writer never stores one name twice.',
  },
  {
    id: 'MG202',
    slug: 'zip_refused_flags',
    title: "Zip flag bits that Python's zipfile refuses",
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      "A member sets general-purpose flag 0x1 (encrypted), 0x20 (patched data) or 0x40 (strong encryption). Python's zipfile (and scanners built on it) refuses to read the member, while PyTorch's miniz reader ignores the bits and loads it (CVE-2025-1945).",
    remediation: 'Regenerate the archive with its original library.',
  },
  {
    id: 'MG203',
    slug: 'zip_crc_mismatch',
    title: 'Zip member CRC-32 mismatch',
    severity: 'high',
    kind: 'anomaly',
    cwe: 354,
    description:
      "A member's content does not match its recorded CRC-32. Python's zipfile raises `Bad CRC-32` (so scanners built on it give up, CVE-2025-10156) while PyTorch does not verify CRCs and loads the member.",
    remediation: 'Regenerate the file; a CRC mismatch means it was altered after it was written.',
  },
  {
    id: 'MG204',
    slug: 'zip_overlap',
    title: 'Zip members overlap or lie outside the archive',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      'Two members share bytes, or a member points outside the file or into the central directory. Overlapping members are a zip-bomb and differential technique: the same bytes are read as several files.',
    remediation: 'Regenerate the archive with its original library.',
  },
  {
    id: 'MG205',
    slug: 'zip_prefix_data',
    title: 'Data before the first zip member',
    severity: 'high',
    kind: 'anomaly',
    cwe: 434,
    description:
      'Bytes precede the first member of the zip. Zip readers find the archive from its end, so a different format (a pickle, an executable) can sit at the head and be what another loader reads. The prefix was scanned by content.',
    remediation: 'Regenerate the archive; model writers never prepend data.',
  },
  {
    id: 'MG206',
    slug: 'zip_trailing_data',
    title: 'Data after the zip end record',
    severity: 'high',
    kind: 'anomaly',
    cwe: 434,
    description:
      'Bytes follow the end-of-central-directory record and its comment. They are invisible to zip readers but can be a second format for another reader. They were scanned by content.',
    remediation: 'Regenerate the archive; model writers never append data.',
  },
  {
    id: 'MG207',
    slug: 'zip_encrypted',
    title: 'Encrypted zip member',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'A member is marked encrypted, so its content cannot be analysed as written. (PyTorch ignores the flag and reads the bytes as plain data; those bytes were scanned where possible.)',
    remediation: 'Ship models unencrypted; protect them with signatures instead.',
  },
  {
    id: 'MG208',
    slug: 'archive_path_traversal',
    title: 'Archive member name escapes the extraction folder',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      'An archive member name is absolute, has a drive letter, `..` components or backslash separators. Tools that extract the archive (Keras, torch.package, tar, unzip) can write outside the target folder (path traversal, "zip slip").',
    remediation: 'Do not extract the archive. Regenerate it with relative member names.',
  },
  {
    id: 'MG209',
    slug: 'archive_link_member',
    title: 'Symbolic or hard link inside an archive',
    severity: 'high',
    kind: 'threat',
    cwe: 59,
    description:
      'The archive contains a symbolic or hard link. Extracting it can make a later member write through the link, or make a loader read a file outside the archive (e.g. /etc/passwd or credentials).',
    remediation: 'Model archives never need links; regenerate without them.',
  },
  {
    id: 'MG210',
    slug: 'decompression_bomb',
    title: 'Decompression bomb',
    severity: 'high',
    kind: 'threat',
    cwe: 409,
    description:
      'A compressed member or stream expands far beyond its compressed size (over maxCompressionRatio) or beyond the decompression budget. Loading it exhausts memory or disk (a denial of service). Decoding stopped there, so the rest was not analysed.',
    remediation:
      'Remove the file. If it is legitimate, store the data uncompressed or raise the limits in the policy.',
  },
  {
    id: 'MG211',
    slug: 'archive_unsupported_encoding',
    title: 'Archive content in an encoding modelgate cannot decode',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'An archive member uses a compression method, or the file is an archive format (7z, rar), that modelgate does not decode. Its content was not analysed.',
    remediation:
      'Repack the content with stored or deflate compression (or tar/gzip), or unpack it, and scan again.',
  },
  {
    id: 'MG212',
    slug: 'zip_hidden_local_member',
    title: 'Zip local header missing from the central directory',
    severity: 'high',
    kind: 'anomaly',
    cwe: 436,
    description:
      'A local file header is not listed in the central directory. Directory-based readers (Python, PyTorch) ignore it while streaming readers see it: content can be hidden from one reader. It was scanned by content.',
    remediation: 'Regenerate the archive with its original library.',
  },
  {
    id: 'MG213',
    slug: 'compressed_trailing_data',
    title: 'Data after the end of a compressed stream',
    severity: 'medium',
    kind: 'anomaly',
    cwe: 434,
    description:
      'Bytes follow the end of a compressed stream (or of a tar archive). Decoders stop or skip there, so this data is invisible to them but may be read by something else. It was scanned by content.',
    remediation: 'Regenerate the file; compressors do not append data.',
  },
  {
    id: 'MG214',
    slug: 'archive_nested_archive',
    title: 'Archive nested inside an archive',
    severity: 'low',
    kind: 'anomaly',
    description:
      'An archive or compressed stream holds another archive. It was unpacked and scanned within the nesting budgets; deep nesting is a classic way to exhaust scanners.',
    remediation: 'Ship model files without extra layers of packing where possible.',
  },
]);
