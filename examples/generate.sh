#!/usr/bin/env bash
# Fills examples/ with a few small models taken from the test fixtures (which real libraries made, see
# test/fixtures/*/generate.py). Malicious examples carry harmless payloads only (`echo`), and nothing here
# is ever loaded: modelgate reads them as bytes. Run from anywhere: bash examples/generate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
F=test/fixtures
rm -rf examples/clean examples/malicious
mkdir -p examples/clean examples/malicious

# Benign: what ML teams commit every day.
cp $F/pytorch/benign/state_dict.pt          examples/clean/resnet_block.pt        # torch.save state dict (zip)
cp $F/onnx/mlp.onnx                         examples/clean/mlp.onnx                # torch.onnx.export
cp $F/safetensors/benign.safetensors        examples/clean/model.safetensors
cp $F/gguf/benign/llama3.gguf               examples/clean/llama3-chat.gguf        # Llama 3 chat template
cp $F/keras/dense.h5                        examples/clean/dense.h5                # Keras-style H5, Dense layers
cp $F/pickle/benign/sk_logreg.joblib        examples/clean/classifier.joblib       # scikit-learn via joblib

# Malicious, each a known technique (harmless payload).
cp $F/pickle/malicious/dotted_random_os.pkl examples/malicious/dotted_name.pkl     # random + _os.system reaches os.system
cp $F/pytorch/malicious/payload_zip.pt      examples/malicious/checkpoint.pt       # payload in data.pkl
cp $F/pytorch/malicious/flag_0x1.pt         examples/malicious/encrypted_flag.pt   # zip flag trick that hides it from zipfile
cp $F/onnx/python_op.onnx                   examples/malicious/python_op.onnx      # custom op that runs Python
cp $F/keras/lambda.keras                    examples/malicious/lambda.keras        # Lambda layer with bytecode
cp $F/gguf/malicious/ssti_cve_2024_34359.gguf examples/malicious/chat-template-ssti.gguf
cp $F/safetensors/trailing_pickle.safetensors examples/malicious/trailing_pickle.safetensors
cp $F/archive/malicious/model.joblib.xz     examples/malicious/model.joblib.xz     # compressed joblib with a payload
