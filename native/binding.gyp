{
  "targets": [
    {
      "target_name": "lion_torch",
      "sources": ["src/addon.cpp", "src/registry.cpp", "src/ops.cpp", "src/optim.cpp", "src/select.cpp", "src/dist.cc"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include_dir\")", "<!@(node find-libtorch.cjs includes)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "<!@(node find-libtorch.cjs abi)", "<!@(node find-libtorch.cjs cuda)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "ldflags": ["<!@(node find-libtorch.cjs ldflags)"],
      "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
    }
  ]
}
