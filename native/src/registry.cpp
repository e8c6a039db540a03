#include "registry.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace lion {

Registry& registry() {
  static Registry r;
  return r;
}

Handle Registry::add(torch::Tensor t) {
  Handle h = next_++;
  tensors_.emplace(h, std::move(t));
  if (!scopes_.empty()) {
    scopes_.back().push_back(h);
    owner_[h] = scopes_.size() - 1;
  }
  return h;
}

const torch::Tensor& Registry::get(Handle h, const char* op) const {
  auto it = tensors_.find(h);
  if (it == tensors_.end()) {
    if (h > 0 && h < next_) {
      throw std::runtime_error("tensor #" + std::to_string(h) + " was disposed (use after dispose) in " + op);
    }
    throw std::runtime_error("unknown tensor handle " + std::to_string(h) + " in " + op);
  }
  return it->second;
}

bool Registry::free(Handle h) {
  owner_.erase(h);  // its slot in a scope list is skipped later because the tensor is gone
  return tensors_.erase(h) > 0;
}

void Registry::beginScope() { scopes_.emplace_back(); }

void Registry::endScope(const std::vector<Handle>& keep) {
  if (scopes_.empty()) throw std::runtime_error("endScope without a matching beginScope");
  std::vector<Handle> handles = std::move(scopes_.back());
  scopes_.pop_back();
  std::vector<Handle> kept(keep);
  std::sort(kept.begin(), kept.end());
  const size_t mine = scopes_.size();
  for (Handle h : handles) {
    auto own = owner_.find(h);
    if (own == owner_.end() || own->second != mine) continue;  // freed already, or untracked
    if (std::binary_search(kept.begin(), kept.end(), h)) {
      if (scopes_.empty()) {
        owner_.erase(own);
      } else {
        own->second = scopes_.size() - 1;
        scopes_.back().push_back(h);
      }
    } else {
      owner_.erase(own);
      tensors_.erase(h);
    }
  }
}

void Registry::untrack(Handle h) { owner_.erase(h); }

// ---- errors ---------------------------------------------------------------------------------------

std::string dtypeName(c10::ScalarType s) {
  switch (s) {
    case c10::kFloat: return "f32";
    case c10::kHalf: return "f16";
    case c10::kBFloat16: return "bf16";
    case c10::kDouble: return "f64";
    case c10::kLong: return "i64";
    case c10::kInt: return "i32";
    case c10::kByte: return "u8";
    case c10::kBool: return "bool";
    default: return c10::toString(s);
  }
}

std::string shapeString(const torch::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::ostringstream o;
  o << "[";
  auto s = t.sizes();
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << "] " << dtypeName(t.scalar_type());
  if (!t.device().is_cpu()) o << " " << t.device().str();
  return o.str();
}

std::string Call::describe() const {
  std::string out;
  for (size_t i = 0; i < inputs.size(); ++i) out += (i ? ", " : "") + shapeString(inputs[i]);
  return out;
}

static Handle handleOf(const Napi::Value& v, const char* op, const char* what) {
  if (!v.IsNumber()) throw std::runtime_error(std::string("expected a tensor for ") + what);
  return v.As<Napi::Number>().Int64Value();
}

const torch::Tensor& Call::tensor(const Napi::Value& v, const char* what) {
  const torch::Tensor& t = registry().get(handleOf(v, op, what), op);
  inputs.push_back(t);
  return t;
}

std::vector<torch::Tensor> Call::tensors(const Napi::Value& v) {
  if (!v.IsArray()) throw std::runtime_error("expected an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<torch::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) out.push_back(tensor(arr.Get(i)));
  return out;
}

// ---- argument helpers -----------------------------------------------------------------------------

Napi::Value wrap(Napi::Env env, torch::Tensor t) {
  return Napi::Number::New(env, static_cast<double>(registry().add(std::move(t))));
}

Napi::Value wrapPair(Napi::Env env, std::tuple<torch::Tensor, torch::Tensor> p) {
  auto arr = Napi::Array::New(env, 2);
  arr.Set(0u, wrap(env, std::get<0>(p)));
  arr.Set(1u, wrap(env, std::get<1>(p)));
  return arr;
}

int64_t toInt(const Napi::Value& v, const char* op, const char* what) {
  if (!v.IsNumber()) throw std::runtime_error(std::string("expected an integer for ") + what);
  double d = v.As<Napi::Number>().DoubleValue();
  if (std::floor(d) != d) throw std::runtime_error(std::string("expected an integer for ") + what + ", got " + std::to_string(d));
  return static_cast<int64_t>(d);
}

double toDouble(const Napi::Value& v, const char* op, const char* what) {
  if (!v.IsNumber()) throw std::runtime_error(std::string("expected a number for ") + what);
  return v.As<Napi::Number>().DoubleValue();
}

bool toBool(const Napi::Value& v, const char* op, const char* what) {
  if (!v.IsBoolean()) throw std::runtime_error(std::string("expected a boolean for ") + what);
  return v.As<Napi::Boolean>().Value();
}

c10::Scalar toScalar(const Napi::Value& v, const char* op, const char* what) {
  if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
  double d = toDouble(v, op, what);
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0) return c10::Scalar(static_cast<int64_t>(d));
  return c10::Scalar(d);
}

std::vector<int64_t> intList(const Napi::Value& v, const char* op, const char* what) {
  if (!v.IsArray()) throw std::runtime_error(std::string("expected an array of integers for ") + what);
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) out[i] = toInt(arr.Get(i), op, what);
  return out;
}

c10::optional<std::vector<int64_t>> optIntList(const Napi::Value& v, const char* op, const char* what) {
  if (v.IsNull() || v.IsUndefined()) return c10::nullopt;
  return intList(v, op, what);
}

c10::ScalarType toDtype(const Napi::Value& v, const char* op) {
  switch (toInt(v, op, "dtype")) {
    case kF32: return c10::kFloat;
    case kF16: return c10::kHalf;
    case kBF16: return c10::kBFloat16;
    case kF64: return c10::kDouble;
    case kI64: return c10::kLong;
    case kI32: return c10::kInt;
    case kU8: return c10::kByte;
    case kBool: return c10::kBool;
    default: throw std::runtime_error("unknown dtype code");
  }
}

int dtypeCode(c10::ScalarType s) {
  switch (s) {
    case c10::kFloat: return kF32;
    case c10::kHalf: return kF16;
    case c10::kBFloat16: return kBF16;
    case c10::kDouble: return kF64;
    case c10::kLong: return kI64;
    case c10::kInt: return kI32;
    case c10::kByte: return kU8;
    case c10::kBool: return kBool;
    default: throw std::runtime_error("tensor has a dtype Lion does not expose: " + std::string(c10::toString(s)));
  }
}

torch::Device toDevice(const Napi::Value& v, const char* op) {
  if (v.IsUndefined() || v.IsNull()) return torch::Device(torch::kCPU);
  if (!v.IsString()) throw std::runtime_error("expected a device string such as 'cpu' or 'cuda:0'");
  return torch::Device(v.As<Napi::String>().Utf8Value());
}

c10::TensorOptions toOptions(const Napi::Value& dtype, const Napi::Value& device, const char* op) {
  return c10::TensorOptions().dtype(toDtype(dtype, op)).device(toDevice(device, op));
}

}  // namespace lion
