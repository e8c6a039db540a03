#!/usr/bin/env bash
# The GPU check: on a machine with a CUDA Python torch and no Node installation, build Lion's addon
# against that torch, then run scripts/gpu-check.ts (vectors on the GPU against the CPU's, encode
# tokens/s, LoRA training step time and MFU on a random Llama-3.2-1B-shaped model).
#
# Everything the machine lacks travels in .gpu/ (git-ignored; small enough to carry), made here by
# --prepare on a machine with Node and this checkout's node_modules:
#   .gpu/node.tar.xz      the Node binary that runs this checkout (it needs only glibc and libstdc++)
#   .gpu/include/         the N-API headers (node_api.h, js_native_api*.h) and node-addon-api's napi.h
#   .gpu/gpu-check.mjs    scripts/gpu-check.ts and every module it imports, bundled by esbuild
#   .gpu/tokenizer.json   Llama-3's tokenizer (and tokenizer_config.json)
# The addon is compiled with g++ straight from native/src (no node-gyp, which would download headers).
#
# Usage:
#   scripts/gpu-check.sh --prepare
#   scripts/gpu-check.sh --device cuda [--shape 1b] [--out DIR]    LIBTORCH defaults to python3's torch
#   scripts/gpu-check.sh --device cpu --shape small [--out DIR]    dry run (Debian libtorch unless LIBTORCH)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
pack=$root/.gpu

device=cuda shape=1b out=${OUT:-$root/.gpu/out} prepare=0
while [ $# -gt 0 ]; do
  case $1 in
    --prepare) prepare=1 ;;
    --device) device=$2; shift ;;
    --shape) shape=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "gpu-check: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [ $prepare = 1 ]; then
  mkdir -p "$pack/include"
  nodebin=$(node -p 'process.execPath')
  nodeinc=$(dirname "$(dirname "$nodebin")")/include/node
  [ -f "$nodeinc/node_api.h" ] || { echo "gpu-check: no N-API headers beside $nodebin ($nodeinc)" >&2; exit 1; }
  cp "$nodeinc"/node_api.h "$nodeinc"/node_api_types.h "$nodeinc"/js_native_api.h "$nodeinc"/js_native_api_types.h "$pack/include/"
  cp node_modules/node-addon-api/*.h "$pack/include/"
  # xz takes minutes on a busy machine: keep a packed Node that is newer than the binary.
  [ "$pack/node.tar.xz" -nt "$nodebin" ] || tar -cJf "$pack/node.tar.xz" -C "$(dirname "$nodebin")" "$(basename "$nodebin")"
  # One ESM file; CommonJS dependencies get a require() of their own.
  npx esbuild scripts/gpu-check.ts --bundle --platform=node --format=esm --target=node20 --log-level=warning \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$pack/gpu-check.mjs"
  tok=$(node --import tsx -e "import('./src/model/make-model.ts').then((m) => console.log(m.resolveTokenizer('llama3')))")
  cp "$tok" "$pack/tokenizer.json"
  [ -f "$(dirname "$tok")/tokenizer_config.json" ] && cp "$(dirname "$tok")/tokenizer_config.json" "$pack/"
  du -sh "$pack"
  echo "gpu-check: prepared $pack; carry .gpu and run scripts/gpu-check.sh --device cuda there"
  exit 0
fi

for f in node.tar.xz gpu-check.mjs tokenizer.json include/napi.h include/node_api.h; do
  [ -e "$pack/$f" ] || { echo "gpu-check: $pack/$f is missing; hint: run scripts/gpu-check.sh --prepare where Node is installed, and carry .gpu" >&2; exit 1; }
done
work=${TMPDIR:-/tmp}/lion-gpu-check
mkdir -p "$work/node" "$out"
# Always the carried Node, so that a dry run here exercises what the GPU machine will run.
tar -xJf "$pack/node.tar.xz" -C "$work/node"
export PATH=$work/node:$PATH
node --version

if [ "$device" != cpu ] && [ -z "${LIBTORCH:-}" ]; then
  LIBTORCH=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  export LIBTORCH
fi
echo "gpu-check: libtorch at ${LIBTORCH:-Debian libtorch-dev}"
fl="node native/find-libtorch.cjs"
read -r -a inc <<<"$($fl includes)"
read -r -a ld <<<"$($fl ldflags)"
defs=(-DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS "-D$($fl abi)" "-D$($fl cuda)")
incs=(-I"$pack/include")
for i in "${inc[@]}"; do incs+=(-I"$i"); done
addon=$work/lion_torch.node
build() {
  local std=$1 pids=() objs=()
  for src in native/src/*.cpp; do
    obj=$work/$(basename "$src" .cpp).o
    objs+=("$obj")
    g++ -std="$std" -O2 -fPIC -fexceptions -frtti -Wno-deprecated-declarations "${defs[@]}" "${incs[@]}" -c "$src" -o "$obj" &
    pids+=($!)
  done
  local ok=0
  for p in "${pids[@]}"; do wait "$p" || ok=1; done
  [ $ok = 0 ] && g++ -shared -o "$addon" "${objs[@]}" "${ld[@]}" -ltorch -ltorch_cpu -lc10
}
# A rerun against the same libtorch reuses the addon (the stamp names the libtorch and the sources).
stamp="${LIBTORCH:-debian} $(cat native/src/*.cpp native/src/*.h | sha256sum | cut -c1-16)"
if [ -f "$addon" ] && [ "$(cat "$work/addon.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "gpu-check: reusing $addon"
else
  t0=$(date +%s)
  # Recent torch releases may require C++20 of their users; try the standard binding.gyp uses first.
  build c++17 2>"$work/build17.log" || { echo "gpu-check: C++17 build failed ($(grep -m1 error "$work/build17.log" || true)); trying C++20"; build c++20; }
  echo "$stamp" >"$work/addon.stamp"
  echo "gpu-check: addon built in $(($(date +%s) - t0)) s"
fi
export LION_ADDON=$addon LION_NUM_THREADS=${LION_NUM_THREADS:-$(nproc)}
node -e "const a = require(process.env.LION_ADDON); console.log('libtorch', a.version(), 'devices', a.devices().join(' '))"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
node "$pack/gpu-check.mjs" --device "$device" --shape "$shape" --tokenizer "$pack/tokenizer.json" --work "$work" --out "$out/gpu-check.json"
echo "gpu-check: report in $out/gpu-check.json"
