// Module entry: build facts (libtorch version, configuration, devices) and intra-op threads.
#include <ATen/Parallel.h>
#include <torch/version.h>

#include "registry.h"

namespace lion {
namespace {

Napi::Value version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), TORCH_VERSION); }

Napi::Value buildConfig(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), at::show_config()); }

Napi::Value parallelInfo(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), at::get_parallel_info()); }

Napi::Value getNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  if (!info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 1)
    throw Napi::Error::New(info.Env(), "lion.setNumThreads: expected a positive integer");
  at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

// "cpu", then "cuda:0".."cuda:N-1" when the linked libtorch was built with CUDA and sees a GPU.
Napi::Value devices(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto arr = Napi::Array::New(env);
  arr.Set(0u, Napi::String::New(env, "cpu"));
  uint32_t n = 1;
  if (torch::cuda::is_available()) {
    for (size_t i = 0; i < torch::cuda::device_count(); ++i)
      arr.Set(n++, Napi::String::New(env, "cuda:" + std::to_string(i)));
  }
  return arr;
}

Napi::Value cudaBuild(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), LION_HAS_CUDA != 0); }

Napi::Value cudaSynchronize(const Napi::CallbackInfo& info) {
  if (torch::cuda::is_available()) torch::cuda::synchronize();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, version));
  exports.Set("buildConfig", Napi::Function::New(env, buildConfig));
  exports.Set("parallelInfo", Napi::Function::New(env, parallelInfo));
  exports.Set("getNumThreads", Napi::Function::New(env, getNumThreads));
  exports.Set("setNumThreads", Napi::Function::New(env, setNumThreads));
  exports.Set("devices", Napi::Function::New(env, devices));
  exports.Set("cudaBuild", Napi::Function::New(env, cudaBuild));
  exports.Set("cudaSynchronize", Napi::Function::New(env, cudaSynchronize));
  registerOps(env, exports);
  registerOptim(env, exports);
  return exports;
}

}  // namespace lion

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return lion::init(env, exports); }
NODE_API_MODULE(lion_torch, Init)
