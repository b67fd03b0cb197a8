import { defineRules } from '../../rules/rule.js';

/** TensorFlow.js rules (MG810-MG819). */
export const tfjsRules = defineRules([
  {
    id: 'MG810',
    slug: 'tfjs_weights_path_escape',
    title: 'TF.js weight shard path leaves the model folder',
    severity: 'high',
    kind: 'threat',
    cwe: 22,
    description:
      "A path in the weights manifest (`weightsManifest[].paths`) is absolute, contains `..`, a drive letter, a backslash, a URL or a NUL byte, or resolves through a link outside the model's folder. TF.js fetches each path relative to the model.json URL and the Node.js file loader reads it from disk, so such a path reads another file or another host as the model's weights.",
    remediation: 'Keep the shards next to model.json and name them by plain relative file names.',
  },
  {
    id: 'MG811',
    slug: 'tfjs_weights_shard_missing',
    title: 'TF.js weight shard is missing or not a regular file',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A shard named in the weights manifest does not exist next to the model, is a symbolic link, is not a regular file or has several hard links. The model cannot load as published, or it loads another file than the one reviewed.',
    remediation: 'Add the shard (as a regular file) or fix the manifest.',
  },
  {
    id: 'MG812',
    slug: 'tfjs_weights_size_mismatch',
    title: 'TF.js weight shards do not match the declared weights',
    severity: 'medium',
    kind: 'anomaly',
    description:
      "The shards of a weight group hold a different number of bytes from what the group's weights need (elements × the size of the dtype or quantization dtype, as tfjs-core decodeWeights slices them). A short group fails to load; extra bytes are ignored by the loader and can hide other content. Converters never produce either.",
    remediation: 'Re-convert the model with tensorflowjs_converter.',
  },
  {
    id: 'MG814',
    slug: 'tfjs_manifest_invalid',
    title: 'TF.js weights manifest entry is invalid',
    severity: 'medium',
    kind: 'anomaly',
    description:
      'A weights manifest group or weight entry is not what tfjs-core accepts: no paths or weights list, a path that is not a string, a shape that is not a list of non-negative integers, or a dtype or quantization dtype that decodeWeights refuses. The shards of such a group were not checked against its weights.',
    remediation: 'Re-convert the model with tensorflowjs_converter.',
  },
]);
