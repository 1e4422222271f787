#!/usr/bin/env bash
# The README's first command: installs mlmodel and runs it on the bundled example model
# (an ONNX iris classifier saved by MLflow 3.5): inspect it, then validate it.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund >/dev/null
npm run build >/dev/null
mlmodel() { node packages/cli/bin/mlmodel.js "$@"; }
echo "\$ mlmodel info examples/iris-onnx"
mlmodel info examples/iris-onnx
echo
echo "\$ mlmodel validate examples/iris-onnx"
mlmodel validate examples/iris-onnx
