#!/usr/bin/env bash
# The README's first command: installs mlmodel and runs it on the bundled example, an ONNX iris
# classifier saved by MLflow 3.5: inspect it, package its ONNX file as a new model directory
# (checked against an example request), predict with it once, then serve it over HTTP and ask the
# server for a prediction (MLflow's /invocations and the Open Inference Protocol's /v2 infer).
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

# tiny HTTP client (curl may not be installed): http URL [JSON-BODY-FILE]
http() {
  node -e 'const [url, file] = process.argv.slice(1);
    const body = file ? require("fs").readFileSync(file) : undefined;
    fetch(url, { method: file ? "POST" : "GET", body, headers: { "content-type": "application/json" } })
      .then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, () => process.exit(1));' "$@"
}
port="${MLMODEL_DEMO_PORT:-5055}"
base="http://127.0.0.1:$port"
echo "\$ mlmodel serve -m iris=$out --port $port --log-level warn &"
node packages/cli/bin/mlmodel.js serve -m "iris=$out" --port "$port" --log-level warn &
server=$!
trap 'kill -TERM $server 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
  http "$base/ping" >/dev/null 2>&1 && break
  sleep 0.05
done
echo "\$ POST $base/invocations < examples/iris-request.json"
http "$base/invocations" examples/iris-request.json
echo
echo
oip="${TMPDIR:-/tmp}/mlmodel-demo/oip-request.json"
echo '{"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}' >"$oip"
echo "\$ POST $base/v2/models/iris/infer < $(cat "$oip")"
http "$base/v2/models/iris/infer" "$oip"
echo
kill -TERM "$server"
wait "$server"
trap - EXIT
echo "(the server drained and stopped; while it runs, its API docs are at $base/docs)"
