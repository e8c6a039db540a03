// Prints one build setting for binding.gyp: where libtorch's headers and libraries are, and how to link.
// LIBTORCH names a folder with include/ and lib/ (an official libtorch archive, or a Python torch
// package folder such as .../site-packages/torch); without it we use Debian's libtorch-dev paths.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

function debianLibDir() {
  let arch = 'x86_64-linux-gnu';
  try {
    arch = execFileSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).trim() || arch;
  } catch {
    // no gcc: keep the x86_64 default
  }
  return `/usr/lib/${arch}`;
}

function locate() {
  const root = process.env.LIBTORCH;
  if (root) {
    const inc = path.join(root, 'include');
    const lib = path.join(root, 'lib');
    if (!fs.existsSync(path.join(inc, 'torch')) || !fs.existsSync(lib)) {
      throw new Error(`LIBTORCH=${root} has no include/torch or lib/ folder; point it at a libtorch archive or a Python torch package folder`);
    }
    return { includes: [inc, path.join(inc, 'torch/csrc/api/include')], lib, debian: false };
  }
  const lib = debianLibDir();
  if (!fs.existsSync('/usr/include/torch/csrc/api/include/torch/torch.h')) {
    throw new Error('libtorch not found: install it (apt-get install libtorch-dev libopenblas0-openmp) or set LIBTORCH to a libtorch folder');
  }
  return { includes: ['/usr/include', '/usr/include/torch/csrc/api/include'], lib, debian: true };
}

// Official and pip builds before torch 2.7 use the pre-C++11 std::string ABI; detect it from c10's symbols.
function cxx11Abi(lib) {
  if (process.env.LIBTORCH_CXX11_ABI) return process.env.LIBTORCH_CXX11_ABI;
  try {
    const syms = execFileSync('nm', ['-DC', path.join(lib, 'libc10.so')], { encoding: 'utf8', maxBuffer: 1 << 28 });
    return /std::__cxx11::basic_string/.test(syms) ? '1' : '0';
  } catch {
    return '1';
  }
}

const t = locate();
const hasCuda = fs.existsSync(path.join(t.lib, 'libtorch_cuda.so'));
const what = process.argv[2];
if (what === 'includes') console.log(t.includes.join(' '));
else if (what === 'abi') console.log(`_GLIBCXX_USE_CXX11_ABI=${cxx11Abi(t.lib)}`);
else if (what === 'cuda') console.log(hasCuda ? 'LION_HAS_CUDA=1' : 'LION_HAS_CUDA=0');
else if (what === 'ldflags') {
  const rpath = [t.lib];
  // Debian's default libopenblas is the pthread build, which fights torch's OpenMP pool (up to 2x slower);
  // an rpath ahead of the default search path makes the loader pick the OpenMP build.
  const omp = path.join(t.lib, 'openblas-openmp');
  if (t.debian && fs.existsSync(omp)) rpath.unshift(omp);
  const flags = ['-Wl,--disable-new-dtags', ...rpath.map((p) => `-Wl,-rpath,${p}`), `-L${t.lib}`];
  if (hasCuda) flags.push('-Wl,--no-as-needed', '-ltorch_cuda', '-Wl,--as-needed');
  console.log(flags.join(' '));
} else {
  console.log(JSON.stringify({ ...t, hasCuda, abi: cxx11Abi(t.lib) }));
}
