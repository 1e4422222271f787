#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian machine (as root,
# idempotent), builds, type-checks, lints and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use: Debian's python3 with PyYAML (cross-checks our YAML against real
# PyYAML), scikit-learn and pandas (real MLflow sklearn models through the Python bridge), and venv
# (the virtualenv environment manager).
need_apt=()
/usr/bin/python3 -c 'import yaml, sklearn, pandas, venv, ensurepip' 2>/dev/null ||
  need_apt+=(python3 python3-yaml python3-sklearn python3-pandas python3-venv)
# Headless Chromium renders the server's /docs page (swagger-ui) in packages/serve/test/docs-chromium.test.ts.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# A Docker engine and local base images for the container-image tests (test/docker-images.test.ts,
# bench/images): Debian's docker.io, dockerd started when none answers (and waited for), and the
# base images made with debootstrap + docker import only when `docker image inspect` does not find
# them (about a minute and a half on a cold machine).
scripts/docker-setup.sh
scripts/make-base-images.sh
# A real registry with htpasswd auth on 127.0.0.1:5001 for the push tests (ECR and ACR logins).
scripts/registry-setup.sh
# a clean install on the documented Node 20 prints no warnings (engine mismatches, install-script notices)
npm ci --no-audit --no-fund 2>&1 | tee .npm-ci.log
if grep -qi '^npm warn' .npm-ci.log; then
  echo "npm ci printed warnings (see above): pin or override the packages they name" >&2
  exit 1
fi
rm -f .npm-ci.log
npm run build
npm run typecheck
npm run lint
npm run format:check
mkdir -p .test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json || status=$?
node scripts/test-summary.mjs .test-results/vitest.json
exit $status
