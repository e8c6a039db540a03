#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian/Ubuntu machine: libtorch + OpenMP OpenBLAS (apt, only when
# missing), npm dependencies (npm ci, only when the lockfile changed), the libtorch addon (only when
# its sources are newer than the build). Safe to run before every command.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/torch/csrc/api/include/torch/torch.h ]; then need_apt+=(libtorch-dev); fi
if [ -z "${LIBTORCH:-}" ] && ! ls /usr/lib/*/openblas-openmp/libopenblas*.so* >/dev/null 2>&1; then need_apt+=(libopenblas0-openmp); fi
# c10d's ProcessGroupGloo header (data-parallel training, native/src/dist.cc) includes gloo's headers.
if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/gloo/algorithm.h ]; then need_apt+=(libgloo-dev); fi
# Fonts for the report's PNG plots (rasterised in-process by resvg). Headless Chromium only with
# --browser (the test command: browser tests of the report and of lion serve's page).
if [ ! -d /usr/share/fonts/truetype/dejavu ]; then need_apt+=(fonts-dejavu-core); fi
if [ "${1:-}" = --browser ] && ! command -v chromium >/dev/null 2>&1; then need_apt+=(chromium); fi
for tool in g++ make python3; do command -v "$tool" >/dev/null || need_apt+=("$([ "$tool" = g++ ] && echo g++ || echo "$tool")"); done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (apt)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

stamp=node_modules/.lion-lock
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

addon=native/build/Release/lion_torch.node
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp native/find-libtorch.cjs -newer "$addon" 2>/dev/null)" ]; then
  echo "setup: building the libtorch addon (about a minute)" >&2
  npm run --silent build:native -- -j "$(nproc)" >/tmp/lion-addon-build.log 2>&1 || { tail -40 /tmp/lion-addon-build.log >&2; exit 1; }
fi
