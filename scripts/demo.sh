#!/usr/bin/env bash
# The README's main command: set up if needed, then run Lion's demo, a reduced scaling study (two nano
# sizes, both paradigms, all three objectives) that prints the paper-style table and writes the report.
# Rerunning resumes a half-finished study. Extra arguments go to `lion study`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./bin/lion.js doctor
if [ -z "${LION_DATA_MIRROR:-}" ] && [ -d ../shared/data ]; then export LION_DATA_MIRROR="$(cd ../shared/data && pwd)"; fi
./bin/lion.js study --preset demo --output runs/study "$@"
