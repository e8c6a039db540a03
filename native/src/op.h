// The op table shared by every source file of the addon. A file adds ops with OP(name) { ... } and
// nothing else: each OP registers itself at static-initialisation time, and registerOps exports the
// whole table. Keep the list of exported names in step with src/torch/native.ts.
#pragma once

#include <vector>

#include "registry.h"

namespace lion {

using OpFn = Napi::Value (*)(const Napi::CallbackInfo&);
struct OpEntry {
  const char* name;
  OpFn fn;
};
// Every op of every translation unit; filled before init() runs.
std::vector<OpEntry>& opTable();
struct OpRegistration {
  OpRegistration(const char* name, OpFn fn) { opTable().push_back({name, fn}); }
};

inline bool isNullish(const Napi::Value& v) { return v.IsNull() || v.IsUndefined(); }

}  // namespace lion

// Defines op NAME: its body runs inside `guarded`, so a libtorch error becomes a JS Error naming the
// op and its input shapes. Use it inside namespace lion (an anonymous namespace is fine).
#define OP(NAME)                                                                          \
  static Napi::Value NAME##_body(const Napi::CallbackInfo& info, Call& c);                 \
  static Napi::Value NAME##_entry(const Napi::CallbackInfo& info) {                        \
    return guarded(info, #NAME, [&](Call& c) { return NAME##_body(info, c); });            \
  }                                                                                       \
  static const OpRegistration NAME##_reg(#NAME, NAME##_entry);                            \
  static Napi::Value NAME##_body(const Napi::CallbackInfo& info, Call& c)

#define T(i) c.tensor(info[i])
#define INT(i, what) toInt(info[i], c.op, what)
#define DBL(i, what) toDouble(info[i], c.op, what)
#define BOOL(i, what) toBool(info[i], c.op, what)
#define SCALAR(i, what) toScalar(info[i], c.op, what)
#define INTS(i, what) intList(info[i], c.op, what)
#define R(x) wrap(info.Env(), (x))
#define UNDEF info.Env().Undefined()
