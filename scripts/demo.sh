#!/usr/bin/env bash
# The README's main command: set up if needed, then run Lion's demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./bin/lion.js doctor
./bin/lion.js demo "$@"
