import { defineRules } from '../../rules/rule.js';

/** TensorFlow SavedModel rules (MG560-MG579). */
export const tensorflowRules = defineRules([
  {
    id: 'MG560',
    slug: 'tf_python_callback',
    title: 'TensorFlow graph calls back into Python',
    severity: 'high',
    kind: 'threat',
    cwe: 94,
    description:
      'The graph uses PyFunc, PyFuncStateless or EagerPyFunc, which call a Python function registered in the loading process by token. The code is not in the file, but a model that needs it runs whatever the environment registered under that token, and never comes from a plain export.',
    remediation: 'Re-export the model without tf.py_function / tf.numpy_function.',
  },
  {
    id: 'MG561',
    slug: 'tf_file_read',
    title: 'TensorFlow graph reads files',
    severity: 'high',
    kind: 'threat',
    cwe: 73,
    description:
      'The graph has an op that reads host files when it runs: ReadFile, MatchingFiles, ImmutableConst (memory-maps a path), file-reading datasets and readers (TextLineDataset, TFRecordDataset, FixedLengthRecordDataset, WholeFileReader...), InitializeTableFromTextFile, LoadAndRemapMatrix, SQL or LMDB datasets. Serving the model reads files chosen by the graph and can return their content.',
    remediation:
      'Check which path the op reads (quoted when constant). Remove the op, or ship the data inside the model.',
  },
  {
    id: 'MG562',
    slug: 'tf_file_write',
    title: 'TensorFlow graph writes files',
    severity: 'high',
    kind: 'threat',
    cwe: 73,
    description:
      'The graph has an op that writes host files: WriteFile, summary writers, SaveDataset/DatasetToTFRecord/SnapshotDataset, PrintV2 with a file:// output stream, debug ops with file or gRPC URLs. Serving the model can overwrite files or leak data.',
    remediation: 'Remove the op from the serving graph.',
  },
  {
    id: 'MG563',
    slug: 'tf_checkpoint_path',
    title: 'TensorFlow Save/Restore op with a path fixed in the graph',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      "Save/Restore ops are normal in every SavedModel: their file prefix comes from the saver's filename placeholder (or the function argument) that the loader feeds with the model's own variables/ path. Here the prefix is a constant in the graph, or contains an absolute path, a `..` segment or a URL, so running the op reads or writes a checkpoint somewhere the model chose.",
    remediation: 'Re-export the model with tf.saved_model.save; never hand-edit saver paths.',
  },
  {
    id: 'MG564',
    slug: 'tf_network_op',
    title: 'TensorFlow graph makes network calls',
    severity: 'high',
    kind: 'threat',
    cwe: 918,
    description:
      'The graph has RPC ops (Rpc, TryRpc, RpcClient, RpcCall, RpcServer...) that contact or serve network endpoints when the model runs.',
    remediation: 'Remove the op from the serving graph.',
  },
  {
    id: 'MG565',
    slug: 'tf_abort',
    title: 'TensorFlow graph can abort the process',
    severity: 'medium',
    kind: 'threat',
    cwe: 400,
    description:
      'The graph has an Abort op, which terminates the serving process when it runs (denial of service).',
    remediation: 'Remove the op.',
  },
  {
    id: 'MG566',
    slug: 'tf_asset_path',
    title: 'SavedModel asset path escapes the assets folder',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      'An asset file name of the SavedModel is absolute or contains `..`, so the loader feeds a path outside the model to the graph (for example to a vocabulary table).',
    remediation: 'Keep assets inside assets/ and reference them by plain names.',
  },
]);
