#!/usr/bin/env bash
# The README's first command: installs mlmodel and runs it on the bundled example, an ONNX iris
# classifier saved by MLflow 3.5: inspect it, package its ONNX file as a new model directory
# (checked against an example request), then predict with it.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund >/dev/null
npm run build >/dev/null
mlmodel() { echo "\$ mlmodel $*"; node packages/cli/bin/mlmodel.js "$@"; echo; }
out="${TMPDIR:-/tmp}/mlmodel-demo/iris"
rm -rf "$out"
mlmodel info examples/iris-onnx
mlmodel build --onnx examples/iris-onnx/model.onnx --input-example examples/iris-request.json --metadata source=demo -o "$out"
mlmodel validate "$out"
mlmodel predict -m "$out" -i examples/iris-request.json
