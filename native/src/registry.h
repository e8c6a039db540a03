// The addon's one piece of state: a table from integer handles to torch tensors, plus a stack of
// scopes. JS never holds a C++ pointer; it holds a number. A freed handle is never reused, so a use
// after dispose is always detected (and reported) instead of touching another tensor.
#pragma once

#include <napi.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace lion {

using Handle = int64_t;

class Registry {
 public:
  Handle add(torch::Tensor t);
  // Throws a JS-facing error naming `op` when the handle is unknown or was disposed.
  const torch::Tensor& get(Handle h, const char* op) const;
  bool free(Handle h);
  size_t live() const { return tensors_.size(); }

  // Scopes: every handle created while a scope is open belongs to the innermost one. Ending a scope
  // frees its handles except the kept ones, which move to the enclosing scope (or become unowned).
  void beginScope();
  void endScope(const std::vector<Handle>& keep);
  // Takes a handle out of every scope so that only an explicit free releases it (parameters, caches).
  void untrack(Handle h);
  size_t depth() const { return scopes_.size(); }

 private:
  std::unordered_map<Handle, torch::Tensor> tensors_;
  std::unordered_map<Handle, size_t> owner_;  // handle -> scope index that owns it
  std::vector<std::vector<Handle>> scopes_;
  Handle next_ = 1;
};

Registry& registry();

// ---- errors ---------------------------------------------------------------------------------------

// A call into libtorch records the tensors it read so that a failure can name their shapes and dtypes.
struct Call {
  const char* op;
  std::vector<torch::Tensor> inputs;
  explicit Call(const char* name) : op(name) {}
  const torch::Tensor& tensor(const Napi::Value& v, const char* what = "tensor");
  std::vector<torch::Tensor> tensors(const Napi::Value& v);
  std::string describe() const;
};

std::string shapeString(const torch::Tensor& t);
std::string dtypeName(c10::ScalarType s);

// Wraps an op body: C++ and libtorch exceptions become a JS Error "lion.<op>(<shapes>): <reason>".
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* op, F&& body) {
  Call call(op);
  try {
    return body(call);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    throw Napi::Error::New(info.Env(), std::string("lion.") + op + "(" + call.describe() + "): " + msg);
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("lion.") + op + "(" + call.describe() + "): " + e.what());
  }
}

// ---- argument helpers -----------------------------------------------------------------------------

Napi::Value wrap(Napi::Env env, torch::Tensor t);
Napi::Value wrapPair(Napi::Env env, std::tuple<torch::Tensor, torch::Tensor> p);
std::vector<int64_t> intList(const Napi::Value& v, const char* op, const char* what);
c10::optional<std::vector<int64_t>> optIntList(const Napi::Value& v, const char* op, const char* what);
int64_t toInt(const Napi::Value& v, const char* op, const char* what);
double toDouble(const Napi::Value& v, const char* op, const char* what);
bool toBool(const Napi::Value& v, const char* op, const char* what);
// JS numbers that are integral become integer scalars, as Python ints do, so int tensors stay int.
c10::Scalar toScalar(const Napi::Value& v, const char* op, const char* what);
c10::ScalarType toDtype(const Napi::Value& v, const char* op);
torch::Device toDevice(const Napi::Value& v, const char* op);
c10::TensorOptions toOptions(const Napi::Value& dtype, const Napi::Value& device, const char* op);

// Dtype codes shared with src/torch/dtype.ts; keep the two lists in the same order.
enum DtypeCode : int { kF32 = 0, kF16 = 1, kBF16 = 2, kF64 = 3, kI64 = 4, kI32 = 5, kU8 = 6, kBool = 7 };
int dtypeCode(c10::ScalarType s);

void registerOps(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);

}  // namespace lion
