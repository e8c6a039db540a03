// AdamW and gradient clipping come from libtorch (torch::optim), not from our own code. An optimizer
// lives in its own table, keyed by an integer like tensors are. Its state can be read out and put back
// as tensors, which is what an exact resume of training needs.
#include <map>
#include <memory>
#include <type_traits>

#include "registry.h"

namespace lion {
namespace {

std::map<int64_t, std::unique_ptr<torch::optim::AdamW>>& optimizers() {
  static std::map<int64_t, std::unique_ptr<torch::optim::AdamW>> m;
  return m;
}
int64_t nextOptimizer = 1;

torch::optim::AdamW& getOpt(const Napi::Value& v, const char* op) {
  auto id = toInt(v, op, "optimizer");
  auto it = optimizers().find(id);
  if (it == optimizers().end()) throw std::runtime_error("optimizer #" + std::to_string(id) + " does not exist or was disposed");
  return *it->second;
}

// libtorch 1.13 keys optimizer state by the TensorImpl address as a string; 2.x by the address itself.
template <typename Map>
typename Map::key_type stateKey(const Map&, const torch::Tensor& p) {
  using K = typename Map::key_type;
  if constexpr (std::is_same_v<K, std::string>) {
    return c10::guts::to_string(p.unsafeGetTensorImpl());
  } else {
    return static_cast<K>(p.unsafeGetTensorImpl());
  }
}

double num(const Napi::Object& o, const char* key, double fallback) {
  auto v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

template <typename F>
Napi::Value run(const Napi::CallbackInfo& info, const char* op, F&& f) {
  return guarded(info, op, std::forward<F>(f));
}

// adamwNew(groups: {params: handle[], lr, weightDecay, beta1, beta2, eps}[]) -> optimizer id
Napi::Value adamwNew(const Napi::CallbackInfo& info) {
  return run(info, "adamwNew", [&](Call& c) -> Napi::Value {
    if (!info[0].IsArray()) throw std::runtime_error("expected an array of parameter groups");
    auto arr = info[0].As<Napi::Array>();
    std::vector<torch::optim::OptimizerParamGroup> groups;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      auto g = arr.Get(i).As<Napi::Object>();
      auto params = c.tensors(g.Get("params"));
      for (auto& p : params) {
        if (!p.requires_grad()) throw std::runtime_error("parameter " + shapeString(p) + " does not require grad");
      }
      auto opts = std::make_unique<torch::optim::AdamWOptions>(num(g, "lr", 1e-3));
      opts->weight_decay(num(g, "weightDecay", 0.0));
      opts->betas(std::make_tuple(num(g, "beta1", 0.9), num(g, "beta2", 0.999)));
      opts->eps(num(g, "eps", 1e-8));
      groups.emplace_back(params, std::move(opts));
    }
    auto opt = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions());
    int64_t id = nextOptimizer++;
    optimizers()[id] = std::move(opt);
    return Napi::Number::New(info.Env(), static_cast<double>(id));
  });
}

Napi::Value adamwStep(const Napi::CallbackInfo& info) {
  return run(info, "adamwStep", [&](Call& c) -> Napi::Value {
    torch::NoGradGuard guard;
    getOpt(info[0], c.op).step();
    return info.Env().Undefined();
  });
}

// Gradients are reset to undefined (PyTorch's set_to_none), which frees their memory between steps.
Napi::Value adamwZeroGrad(const Napi::CallbackInfo& info) {
  return run(info, "adamwZeroGrad", [&](Call& c) -> Napi::Value {
    for (auto& g : getOpt(info[0], c.op).param_groups())
      for (auto& p : g.params()) p.mutable_grad().reset();
    return info.Env().Undefined();
  });
}

Napi::Value adamwSetLr(const Napi::CallbackInfo& info) {
  return run(info, "adamwSetLr", [&](Call& c) -> Napi::Value {
    auto& opt = getOpt(info[0], c.op);
    double lr = toDouble(info[1], c.op, "lr");
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    return info.Env().Undefined();
  });
}

Napi::Value adamwGetLr(const Napi::CallbackInfo& info) {
  return run(info, "adamwGetLr", [&](Call& c) -> Napi::Value {
    auto& opt = getOpt(info[0], c.op);
    auto arr = Napi::Array::New(info.Env());
    uint32_t i = 0;
    for (auto& g : opt.param_groups())
      arr.Set(i++, Napi::Number::New(info.Env(), static_cast<torch::optim::AdamWOptions&>(g.options()).lr()));
    return arr;
  });
}

Napi::Value adamwFree(const Napi::CallbackInfo& info) {
  return run(info, "adamwFree", [&](Call& c) -> Napi::Value {
    return Napi::Boolean::New(info.Env(), optimizers().erase(toInt(info[0], c.op, "optimizer")) > 0);
  });
}

// State per parameter in group order: {step, expAvg, expAvgSq} or null before the first step.
Napi::Value adamwGetState(const Napi::CallbackInfo& info) {
  return run(info, "adamwGetState", [&](Call& c) -> Napi::Value {
    auto env = info.Env();
    auto& opt = getOpt(info[0], c.op);
    auto out = Napi::Array::New(env);
    uint32_t i = 0;
    for (auto& g : opt.param_groups()) {
      for (auto& p : g.params()) {
        auto it = opt.state().find(stateKey(opt.state(), p));
        if (it == opt.state().end()) {
          out.Set(i++, env.Null());
          continue;
        }
        auto& s = static_cast<torch::optim::AdamWParamState&>(*it->second);
        auto o = Napi::Object::New(env);
        o.Set("step", Napi::Number::New(env, static_cast<double>(s.step())));
        o.Set("expAvg", wrap(env, s.exp_avg().clone()));
        o.Set("expAvgSq", wrap(env, s.exp_avg_sq().clone()));
        out.Set(i++, o);
      }
    }
    return out;
  });
}

Napi::Value adamwSetState(const Napi::CallbackInfo& info) {
  return run(info, "adamwSetState", [&](Call& c) -> Napi::Value {
    auto& opt = getOpt(info[0], c.op);
    if (!info[1].IsArray()) throw std::runtime_error("expected an array of parameter states");
    auto arr = info[1].As<Napi::Array>();
    uint32_t i = 0;
    for (auto& g : opt.param_groups()) {
      for (auto& p : g.params()) {
        if (i >= arr.Length()) throw std::runtime_error("state has fewer entries than the optimizer has parameters");
        auto v = arr.Get(i++);
        auto key = stateKey(opt.state(), p);
        if (v.IsNull() || v.IsUndefined()) {
          opt.state().erase(key);
          continue;
        }
        auto o = v.As<Napi::Object>();
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(toInt(o.Get("step"), c.op, "step"));
        auto m = c.tensor(o.Get("expAvg"), "expAvg");
        auto v2 = c.tensor(o.Get("expAvgSq"), "expAvgSq");
        if (!m.sizes().equals(p.sizes()) || !v2.sizes().equals(p.sizes()))
          throw std::runtime_error("state shape " + shapeString(m) + " does not match parameter " + shapeString(p));
        s->exp_avg(m.clone().to(p.device(), p.scalar_type()));
        s->exp_avg_sq(v2.clone().to(p.device(), p.scalar_type()));
        opt.state()[key] = std::move(s);
      }
    }
    if (i != arr.Length()) throw std::runtime_error("state has more entries than the optimizer has parameters");
    return info.Env().Undefined();
  });
}

// clipGradNorm(params, maxNorm, normType) -> the total norm before clipping, as PyTorch returns it.
Napi::Value clipGradNorm(const Napi::CallbackInfo& info) {
  return run(info, "clipGradNorm", [&](Call& c) -> Napi::Value {
    auto params = c.tensors(info[0]);
    double total = torch::nn::utils::clip_grad_norm_(params, toDouble(info[1], c.op, "maxNorm"),
                                                      toDouble(info[2], c.op, "normType"));
    return Napi::Number::New(info.Env(), total);
  });
}

}  // namespace

void registerOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamwNew", Napi::Function::New(env, adamwNew));
  exports.Set("adamwStep", Napi::Function::New(env, adamwStep));
  exports.Set("adamwZeroGrad", Napi::Function::New(env, adamwZeroGrad));
  exports.Set("adamwSetLr", Napi::Function::New(env, adamwSetLr));
  exports.Set("adamwGetLr", Napi::Function::New(env, adamwGetLr));
  exports.Set("adamwFree", Napi::Function::New(env, adamwFree));
  exports.Set("adamwGetState", Napi::Function::New(env, adamwGetState));
  exports.Set("adamwSetState", Napi::Function::New(env, adamwSetState));
  exports.Set("clipGradNorm", Napi::Function::New(env, clipGradNorm));
}

}  // namespace lion
