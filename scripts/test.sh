#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh Debian machine (as root,
# idempotent), builds, type-checks, lints and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages later test suites rely on are installed here as they land (see README).
npm ci --no-audit --no-fund
npm run build
npm run typecheck
npm run lint
mkdir -p .test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json || status=$?
node scripts/test-summary.mjs .test-results/vitest.json
exit $status
