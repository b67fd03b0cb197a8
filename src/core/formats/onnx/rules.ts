import { defineRules } from '../../rules/rule.js';

/** ONNX rules (MG500-MG519; MG800 for serialized values). */
export const onnxRules = defineRules([
  {
    id: 'MG500',
    slug: 'onnx_external_data_escape',
    title: 'ONNX external data path escapes the model folder',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      "A tensor stores its data in an external file whose `location` is absolute, contains `..`, a drive letter, a UNC or URL prefix, a backslash or a NUL byte, or resolves (through symlinks) outside the model's folder. The ONNX loader reads that file into the tensor, so loading the model reads arbitrary host files (CVE-2022-25882, CVE-2024-27318); tools that save models write there.",
    remediation:
      'Keep external data files next to the model and reference them by a plain relative name. Do not load the model until the location is fixed.',
  },
  {
    id: 'MG501',
    slug: 'onnx_external_data_memory_address',
    title: 'ONNX external data uses the in-memory address sentinel',
    severity: 'critical',
    kind: 'threat',
    cwe: 822,
    description:
      "The external data location is ONNX Runtime's `*/_ORT_MEM_ADDR_/*` sentinel (or starts with `*/` or `#`), which makes the runtime treat the offset as a raw memory address: loading the file dereferences an attacker-chosen pointer.",
    remediation: 'Never load this model. Files on disk never need this sentinel.',
  },
  {
    id: 'MG502',
    slug: 'onnx_external_data_invalid',
    title: 'ONNX external data reference is invalid',
    severity: 'medium',
    kind: 'anomaly',
    cwe: 20,
    description:
      'An external data reference has a negative, non-numeric or overflowing offset or length, a range past the end of its file, unknown or duplicated keys (attribute injection, GHSA-538c-55jv-c5g9), or is marked EXTERNAL without a location. Loaders crash, allocate huge buffers or read the wrong bytes.',
    remediation:
      'Re-save the model with onnx.save_model(..., save_as_external_data=True) from a trusted copy.',
  },
  {
    id: 'MG503',
    slug: 'onnx_external_data_unresolved',
    title: 'ONNX external data file is missing, not a regular file or a link',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The file an external data reference names is missing next to the model, is a symlink or hard link, or is not a regular file. The ONNX checker refuses symlinks and hard links because they let a relative name reach other files.',
    remediation: 'Commit the external data file itself (not a link) next to the model.',
  },
  {
    id: 'MG504',
    slug: 'onnx_python_op',
    title: 'ONNX operator runs Python code',
    severity: 'critical',
    kind: 'threat',
    cwe: 94,
    description:
      'The graph uses an operator that calls Python in the runtime: `PythonOp`/`PythonOpGrad` (onnxruntime training, runs a named autograd function) or a `PyOp`/`PyFunc` custom operator. Running the model executes Python chosen by whoever registered the name.',
    remediation: 'Do not run this model outside a sandbox; export it again without Python operators.',
  },
  {
    id: 'MG505',
    slug: 'onnx_runtime_escape_op',
    title: 'ONNX operator that can run arbitrary kernels or Python custom ops',
    severity: 'high',
    kind: 'threat',
    cwe: 94,
    description:
      'The graph uses `ATen` (a fallback that runs an arbitrary PyTorch ATen operator by name) or an operator of the onnxruntime-extensions `ai.onnx.contrib` domain that is not one of its native kernels: custom ops registered from Python with `@onnx_op` live there, so the name may call Python code.',
    remediation:
      'Check which runtime library implements the operator. Allow the domain in policy only if you trust it.',
  },
  {
    id: 'MG506',
    slug: 'onnx_custom_domain',
    title: 'ONNX operator from a custom domain',
    severity: 'medium',
    kind: 'threat',
    description:
      'A node uses an operator domain that is neither a standard ONNX domain nor a model-local function. Running it needs a native custom-op library registered in the runtime, which is code outside the model.',
    remediation:
      'Find out which library provides the domain and whether you trust it; waive the rule for it if so.',
  },
  {
    id: 'MG507',
    slug: 'onnx_runtime_domain',
    title: 'ONNX operator from a known runtime contrib domain',
    severity: 'low',
    kind: 'threat',
    description:
      'A node uses a contrib domain of a well-known runtime (com.microsoft and friends). Such operators are native kernels shipped with the runtime; they tie the model to that runtime.',
    remediation: 'Nothing to do if you run the model with that runtime.',
  },
  {
    id: 'MG508',
    slug: 'onnx_function_cycle',
    title: 'ONNX model-local functions call each other in a cycle',
    severity: 'high',
    kind: 'anomaly',
    cwe: 674,
    description:
      'Model-local functions reference each other recursively. Inlining or checking such a model recurses without end and crashed the ONNX checker (GHSA-7w46-vvrh-m8q5). No exporter produces this.',
    remediation: 'Do not load the model; regenerate it from its source.',
  },
  {
    id: 'MG509',
    slug: 'onnx_unknown_version',
    title: 'ONNX IR or opset version unknown or inconsistent',
    severity: 'low',
    kind: 'anomaly',
    description:
      'The IR version or an operator-set version is outside the versions released so far, an opset is imported twice, or a node uses a domain that is not imported. Operators of unknown versions cannot be vouched for.',
    remediation: 'Check the exporter; re-export with a released opset.',
  },
  {
    id: 'MG510',
    slug: 'onnx_oversize',
    title: 'ONNX file larger than the protobuf limit',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A protobuf message is limited to 2 GiB, so ONNX loaders refuse a model file larger than that; models that big keep their weights in external data. Such a file was built by hand.',
    remediation: 'Save the model with external data.',
  },
  {
    id: 'MG511',
    slug: 'onnx_structure_anomaly',
    title: 'ONNX protobuf structure no writer produces',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A singular message (the graph, a node attribute graph, a tensor) occurs more than once, which protobuf parsers silently merge, or the model carries fields unknown to the ONNX spec. Scanners that keep only one occurrence, or stop at the unknown field, see a different model from the loader.',
    remediation:
      'Re-save the model with the onnx library (onnx.load then onnx.save) and review the difference.',
  },
  {
    id: 'MG800',
    slug: 'onnx_tensor_payload_mismatch',
    title: 'ONNX tensor data does not match its shape',
    severity: 'low',
    kind: 'anomaly',
    description:
      'A serialized ONNX value (a TensorProto file such as test_data_set_0/input_0.pb, or a tensor inside a sequence, map or optional) has a negative dimension or a raw_data length other than its element count times its element size. numpy_helper.to_array and the runtimes reject it; no writer produces it. The file holds data only, so it is not a threat.',
    remediation: 'Regenerate the value with onnx.numpy_helper.from_array and save it again.',
  },
]);
