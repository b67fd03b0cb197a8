import { defineRules } from '../../rules/rule.js';

/** Keras rules (MG520-MG539), shared by .keras archives, legacy H5 files and keras_metadata.pb. */
export const kerasRules = defineRules([
  {
    id: 'MG520',
    slug: 'keras_lambda_bytecode',
    title: 'Keras Lambda layer with marshalled Python bytecode',
    severity: 'critical',
    kind: 'threat',
    cwe: 94,
    description:
      'A Lambda layer (or a `__lambda__` object) carries a marshalled Python code object. Loading the model with safe_mode off, or through a path that ignores it (legacy H5 in Keras < 3.11.3, CVE-2025-9905; TF-Keras < 2.13, CVE-2024-3660), rebuilds the function and runs it on every call. The names the bytecode uses are quoted in the message.',
    remediation:
      'Do not load the model. Replace the Lambda layer with a registered custom layer whose code lives in your repository.',
  },
  {
    id: 'MG521',
    slug: 'keras_untrusted_module',
    title: 'Keras config imports a module outside Keras',
    severity: 'critical',
    kind: 'threat',
    cwe: 470,
    description:
      'An object in the model config names a `module` outside the Keras packages (keras, keras_hub, keras_cv, keras_nlp), or a function from such a module. Keras before 3.9 imported any module and called the named object with arguments from the file, even in safe mode (CVE-2025-1550); modules such as os, subprocess or builtins mean direct code execution.',
    remediation: 'Do not load the model. Rebuild it with only Keras classes or registered custom objects.',
  },
  {
    id: 'MG522',
    slug: 'keras_non_modeling_api',
    title: 'Keras config calls a non-modelling Keras API',
    severity: 'critical',
    kind: 'threat',
    cwe: 94,
    description:
      'The config names a Keras function that has no business in a model: `keras.utils.get_file` (downloads and writes files, CVE-2025-8747), `keras.config.enable_unsafe_deserialization` (turns safe mode off before a Lambda runs, CVE-2025-9906), `load_model`, `load_weights`, `save_*`, image or dataset loaders. Keras 3.11 refuses them; older versions call them while loading.',
    remediation: 'Do not load the model.',
  },
  {
    id: 'MG523',
    slug: 'keras_dangerous_layer',
    title: 'Keras layer that loads external code or files',
    severity: 'high',
    kind: 'threat',
    cwe: 829,
    description:
      '`TorchModuleWrapper` stores a pickled PyTorch module that is unpickled with torch.load (CVE-2025-49655); `TFSMLayer` loads a whole TensorFlow SavedModel from a path; a `TFOpLambda` calling a file, print or Python-callback TensorFlow API acts on the host.',
    remediation: 'Check the referenced module or path. Load the model only if you trust its origin.',
  },
  {
    id: 'MG524',
    slug: 'keras_external_resource',
    title: 'Keras layer reads a file or URL named in the config',
    severity: 'high',
    kind: 'threat',
    cwe: 73,
    description:
      'A lookup or vectorization layer (StringLookup, IntegerLookup, TextVectorization...) gets its `vocabulary` (or a similar field) as a path or URL. Keras opens it with tf.io.gfile while loading, which reads local files or makes network requests (CVE-2025-12058).',
    remediation: 'Store the vocabulary inside the model (as a list or an asset), not as a path.',
  },
  {
    id: 'MG525',
    slug: 'keras_custom_object',
    title: 'Keras config needs custom code',
    severity: 'medium',
    kind: 'threat',
    description:
      'The config references a custom or unregistered class or function (a registered name such as `package>Name`, a class Keras does not ship, or a Lambda referring to a named function). Loading needs that code from somewhere (custom_objects or an import), so what runs depends on the environment.',
    remediation:
      'Make sure the custom code comes from your repository, then waive the finding for this model.',
  },
  {
    id: 'MG526',
    slug: 'keras_path_in_name',
    title: 'Keras object name with a path separator',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      'A layer or object name contains `..`, `/` or `\\`. Keras 3 builds file paths in its weights store from these names (CVE-2026-12479: path traversal while loading), and no Keras API produces such names.',
    remediation: 'Rename the layers and save the model again.',
  },
  {
    id: 'MG527',
    slug: 'keras_config_unreadable',
    title: 'Keras model config missing or unreadable',
    severity: 'medium',
    score: 0,
    kind: 'incomplete',
    description:
      'The model config (config.json, the H5 `model_config` attribute or keras_metadata.pb) is missing, not valid JSON or could not be extracted, so the layers were not analysed.',
    remediation: 'Regenerate the model with Keras, or find out who altered it.',
  },
  {
    id: 'MG528',
    slug: 'keras_config_anomaly',
    title: 'Keras config has a structure Keras does not write',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The config has duplicated JSON keys (the loader keeps the last one, a reviewer may read the first) or other structure Keras never writes.',
    remediation: 'Regenerate the model with Keras.',
  },
  {
    id: 'MG529',
    slug: 'keras_archive_code',
    title: 'Code or unexpected content inside a .keras archive',
    severity: 'high',
    kind: 'threat',
    cwe: 506,
    description:
      'The .keras archive holds Python files, executables, libraries or other members Keras does not write (it writes metadata.json, config.json, model.weights.h5/npz and assets/). Such files are not loaded by Keras itself, but tools and people unpacking the archive may run them.',
    remediation: 'Remove the extra members; keep code in the repository where it is reviewed.',
  },
  {
    id: 'MG530',
    slug: 'keras_weights_not_hdf5',
    title: 'Keras weights file is not what its name says',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'The `model.weights.h5` member of a .keras archive is not an HDF5 file (or `model.weights.npz` not a NumPy archive). Keras would fail or read something else; the content was scanned by what it is.',
    remediation: 'Regenerate the model with Keras.',
  },
]);
