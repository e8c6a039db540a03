#!/usr/bin/env bash
# The README's test command: set up if needed, then type-check, lint and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
npm run --silent lint
npm test
