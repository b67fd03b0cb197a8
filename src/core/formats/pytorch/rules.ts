import { defineRules } from '../../rules/rule.js';

/** Rules of the PyTorch zip, legacy and TorchScript analyzers and NumPy npz containers (MG310-MG399). */
export const pytorchRules = defineRules([
  {
    id: 'MG310',
    slug: 'pytorch_layout_anomaly',
    title: 'PyTorch archive layout differs from what torch.save writes',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The records of a PyTorch zip are not all under one top-level folder, or the archive holds members torch.save never writes, or a `data/<key>` storage that no tensor references. Extra members are a hiding place: every one was scanned by content.',
    remediation: 'Regenerate the checkpoint with torch.save and find out where the extra members came from.',
  },
  {
    id: 'MG311',
    slug: 'pytorch_storage_size_mismatch',
    title: 'Tensor storage size disagrees with its record',
    severity: 'high',
    kind: 'threat',
    cwe: 787,
    description:
      "A storage's declared element count times its element size differs from the size of its `data/<key>` record (or of the raw storage in a legacy file). Older PyTorch trusted the declared size, which gives out-of-bounds reads and writes at load time (part of CVE-2026-24747).",
    remediation: 'Do not load the file with torch < 2.10. Regenerate it with torch.save.',
  },
  {
    id: 'MG312',
    slug: 'pytorch_missing_storage',
    title: 'Referenced tensor storage is missing',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'data.pkl references a storage key whose `data/<key>` record is not in the archive. torch.load fails on it; a crafted file may rely on the loader reading something else.',
    remediation: 'Regenerate the checkpoint with torch.save.',
  },
  {
    id: 'MG313',
    slug: 'pytorch_compressed_record',
    title: 'Compressed record in a PyTorch archive',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'torch.save and torch.jit.save write every record stored (uncompressed, 64-byte aligned). A deflated record was made by another tool; over-compressed records are how some scanners are made to skip a member.',
    remediation: 'Regenerate the checkpoint with torch.save.',
  },
  {
    id: 'MG314',
    slug: 'pytorch_version_anomaly',
    title: 'Unusual PyTorch archive version or byte order',
    severity: 'low',
    kind: 'anomaly',
    description:
      'The `version` record is missing or outside the range PyTorch reads (1 to 10), or `byteorder` is not `little`/`big`. The file was not written by a normal torch.save.',
    remediation: 'Regenerate the checkpoint with a current torch.save.',
  },
  {
    id: 'MG315',
    slug: 'pytorch_legacy_tar',
    title: 'Legacy PyTorch tar checkpoint (loads only with weights_only=False)',
    severity: 'high',
    kind: 'threat',
    cwe: 502,
    description:
      'The file uses the PyTorch 0.1-0.3 tar format (`sys_info`, `pickle`, `storages`, `tensors`). torch.load refuses it under weights_only=True, so loading it means running its pickles with the full unpickler: any global they name is executed.',
    remediation: 'Convert the checkpoint to safetensors (or at least a current torch.save) in a sandbox.',
  },
  {
    id: 'MG316',
    slug: 'pytorch_legacy_trailing_data',
    title: 'Data after the storages of a legacy PyTorch file',
    severity: 'high',
    kind: 'anomaly',
    cwe: 434,
    description:
      'Bytes follow the last raw storage of a legacy (pre-1.6) PyTorch file. torch.load never reads them; they are a hiding place for a second payload. They were scanned by content.',
    remediation: 'Regenerate the checkpoint; torch.save writes nothing after the storages.',
  },
  {
    id: 'MG317',
    slug: 'pytorch_legacy_sequence',
    title: 'Legacy PyTorch pickle sequence is malformed',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The magic number, protocol version, system info or storage-key list of a legacy PyTorch file is not what torch.save writes (e.g. a non-literal magic, a wrong protocol number, a storage list that is not a list of strings). Every pickle in the file was still scanned.',
    remediation: 'Regenerate the checkpoint with torch.save.',
  },
  {
    id: 'MG320',
    slug: 'torchscript_in_checkpoint',
    title: 'TorchScript archive under a checkpoint name (CVE-2025-32434)',
    severity: 'medium',
    kind: 'threat',
    cwe: 502,
    description:
      'A TorchScript archive (it has constants.pkl) is named like a weights checkpoint (`.pth`, `.bin`, `.ckpt`, ...). torch.load before 2.6 dispatches such files to torch.jit.load even with weights_only=True, running their TorchScript code (`__setstate__` at load, methods when called), which can read and write files (CVE-2025-32434). Some projects (NequIP, Allegro) deploy TorchScript as `.pth` on purpose: when the code analysis finds nothing dangerous the finding is a warning (medium); when the code reads or writes files, calls custom or Python operators or manipulates storages it is high.',
    remediation:
      'Load it only with torch >= 2.6 (torch.jit.load when it is meant as TorchScript), or replace it with a safetensors checkpoint. Rename deployed TorchScript to `.pt` to make its nature explicit.',
  },
  {
    id: 'MG321',
    slug: 'torchscript_code',
    title: 'TorchScript archive: contains code',
    severity: 'low',
    kind: 'anomaly',
    description:
      'The file is a TorchScript archive: serialized code (`code/`) that torch.jit.load compiles and runs (`__setstate__` at load time, other methods when called). Its code was analysed for dangerous operations; nothing dangerous was found in this finding itself.',
    remediation: 'Accept TorchScript only from trusted, signed sources.',
  },
  {
    id: 'MG322',
    slug: 'torchscript_file_access',
    title: 'TorchScript code reads or writes files',
    severity: 'critical',
    kind: 'threat',
    cwe: 73,
    description:
      'TorchScript code or mobile bytecode calls a file-access operator (`aten::save`/`torch.save`, `aten::from_file`/`torch.from_file`, `aten::load`). A model that writes files can plant code (shell profiles, authorized_keys, cron) and one that maps files can read secrets.',
    remediation: 'Do not load the model. Report it to whoever published it.',
  },
  {
    id: 'MG323',
    slug: 'torchscript_custom_op',
    title: 'TorchScript calls a custom operator or class',
    severity: 'high',
    kind: 'threat',
    cwe: 829,
    description:
      'TorchScript code uses `torch.ops.<namespace>` outside the built-in namespaces or `torch.classes`: native code from an extension library that must be loaded first and that modelgate cannot inspect.',
    remediation: 'Load the model only if you trust and ship the extension library it needs.',
  },
  {
    id: 'MG324',
    slug: 'torchscript_python_op',
    title: 'TorchScript calls back into Python',
    severity: 'critical',
    kind: 'threat',
    cwe: 94,
    description:
      'TorchScript code or bytecode contains `prim::PythonOp` (or an ignored Python function call): a call into arbitrary Python, which a normal torch.jit.save never serializes.',
    remediation: 'Do not load the model.',
  },
  {
    id: 'MG325',
    slug: 'torchscript_setstate',
    title: 'TorchScript __setstate__ runs at load time',
    severity: 'low',
    kind: 'anomaly',
    description:
      'A TorchScript class defines `__setstate__`, which torch.jit.load runs while loading the archive, before any method is called. It was analysed like the rest of the code; any dangerous operation in it is reported separately.',
    remediation: 'Review the method if the model comes from an untrusted source.',
  },
  {
    id: 'MG326',
    slug: 'torchscript_memory_primitive',
    title: 'TorchScript manipulates storages or strides',
    severity: 'medium',
    kind: 'threat',
    cwe: 787,
    description:
      'TorchScript code uses storage or stride manipulation (`set_`, `as_strided`, `_unsafe_view`, `resize_`, `storage_offset`, ...). These are the primitives behind published TorchScript heap-overflow exploits; model code rarely needs them.',
    remediation: 'Review the code; do not load the model from an untrusted source.',
  },
  {
    id: 'MG327',
    slug: 'torch_package_code',
    title: 'torch.package archive carries Python modules',
    severity: 'low',
    score: 0,
    kind: 'anomaly',
    cwe: 94,
    description:
      'The archive is a torch.package (`.data/extern_modules`): importing it runs the Python source modules packed inside, which PackageImporter.load_pickle does for every class its pickles name. It is code, not only weights. Each module was analysed as repository code; MG461 (code shipped with a model) and MG462 (dangerous calls) carry the verdict.',
    remediation: 'Review the packaged modules; load the package only from a trusted, signed source.',
  },
  {
    id: 'MG330',
    slug: 'npz_unexpected_member',
    title: 'NumPy npz member is not an .npy array',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'An `.npz` member is not a NumPy `.npy` array (wrong name or content). numpy.load reads every member through `np.lib.format.read_array`; other content was put there by another tool. It was scanned by content.',
    remediation: 'Regenerate the file with numpy.savez.',
  },
  {
    id: 'MG940',
    slug: 'pytorch_sparse_tensor',
    title: 'Sparse tensor whose indices loaders do not validate',
    severity: 'medium',
    kind: 'threat',
    cwe: 787,
    description:
      "The checkpoint holds sparse tensors (torch._utils._rebuild_sparse_tensor, or _rebuild_sparse_csr_tensor from torch 1.x; both allowed by weights_only). torch.load validates them only when torch.sparse.check_sparse_tensor_invariants is enabled, which it is not by default since torch 2.8, so indices outside the tensor's size reach .to_dense() and sparse kernels as out-of-bounds memory writes (CVE-2025-62164). modelgate reads the index storages from the file (zip or legacy format, streamed, up to 4 GiB per file) and checks what torch's validation checks: COO indices within [0, size) in every sparse dimension; CSR/CSC/BSR/BSC compressed indices starting at 0, ending at nnz and rising by 0 to the plain dimension per step, plain indices within [0, plain dimension); index, value and size shapes that agree. A violation is high; sparse tensors that pass carry no finding; sparse tensors that could not be checked (layout or index view not resolved, storage missing, budget) are reported together as medium.",
    remediation:
      'Do not load a file with out-of-range indices. Otherwise load with torch.sparse.check_sparse_tensor_invariants(True), or reject sparse tensors from untrusted checkpoints.',
  },
]);
