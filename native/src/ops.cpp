// The op table: one small function per libtorch call. Every body runs inside `guarded`, so a libtorch
// error becomes a JS Error naming the op and its input shapes. Inputs arrive as handles (numbers);
// outputs are registered and returned as handles. Keep this list in step with src/torch/native.ts.
#include <cstring>

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "op.h"

namespace lion {
namespace {

// ---- memory and scopes ----------------------------------------------------------------------------

OP(free) { return Napi::Boolean::New(info.Env(), registry().free(INT(0, "handle"))); }
OP(beginScope) {
  registry().beginScope();
  return UNDEF;
}
OP(endScope) {
  registry().endScope(isNullish(info[0]) ? std::vector<int64_t>{} : INTS(0, "keep"));
  return UNDEF;
}
OP(untrack) {
  registry().untrack(INT(0, "handle"));
  return UNDEF;
}
OP(liveTensors) { return Napi::Number::New(info.Env(), static_cast<double>(registry().live())); }
OP(scopeDepth) { return Napi::Number::New(info.Env(), static_cast<double>(registry().depth())); }

// ---- creation and typed-array transfer ------------------------------------------------------------



// fromBuffer(typedArray, dtype, shape, device?, targetDtype?): one copy from the JS memory straight to
// the target device and dtype (a checkpoint tensor read as bf16 lands as bf16 on cuda:0 without an
// intermediate host tensor of its own).
OP(fromBuffer) {
  if (!info[0].IsTypedArray()) throw std::runtime_error("fromBuffer expects a typed array");
  auto ta = info[0].As<Napi::TypedArray>();
  auto dtype = toDtype(info[1], c.op);
  auto shape = INTS(2, "shape");
  int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw std::runtime_error("negative dimension in shape");
    n *= d;
  }
  size_t bytes = ta.ByteLength();
  if (static_cast<size_t>(n) * c10::elementSize(dtype) != bytes) {
    throw std::runtime_error("typed array holds " + std::to_string(bytes) + " bytes but shape needs " +
                             std::to_string(n) + " x " + std::to_string(c10::elementSize(dtype)) + " bytes (" + dtypeName(dtype) + ")");
  }
  auto buf = ta.ArrayBuffer();
  auto* data = static_cast<uint8_t*>(buf.Data()) + ta.ByteOffset();
  auto device = toDevice(info[3], c.op);
  auto target = isNullish(info[4]) ? dtype : toDtype(info[4], c.op);
  // from_blob borrows the JS memory; to(..., copy = true) gives the tensor storage of its own.
  auto src = torch::from_blob(data, shape, c10::TensorOptions().dtype(dtype));
  return R(src.to(device, target, /*non_blocking=*/false, /*copy=*/true));
}

OP(toBuffer) {
  auto t = T(0).detach().to(torch::kCPU).contiguous();
  auto env = info.Env();
  size_t bytes = t.numel() * t.element_size();
  auto buf = Napi::ArrayBuffer::New(env, bytes);
  if (bytes) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  size_t n = t.numel();
  switch (t.scalar_type()) {
    case c10::kFloat: return Napi::Float32Array::New(env, n, buf, 0);
    case c10::kDouble: return Napi::Float64Array::New(env, n, buf, 0);
    case c10::kHalf:
    case c10::kBFloat16: return Napi::Uint16Array::New(env, n, buf, 0);
    case c10::kLong: return Napi::BigInt64Array::New(env, n, buf, 0);
    case c10::kInt: return Napi::Int32Array::New(env, n, buf, 0);
    case c10::kByte:
    case c10::kBool: return Napi::Uint8Array::New(env, n, buf, 0);
    default: throw std::runtime_error("toBuffer: unsupported dtype " + dtypeName(t.scalar_type()));
  }
}

OP(zeros) { return R(torch::zeros(INTS(0, "shape"), toOptions(info[1], info[2], c.op))); }
OP(ones) { return R(torch::ones(INTS(0, "shape"), toOptions(info[1], info[2], c.op))); }
OP(full) { return R(torch::full(INTS(0, "shape"), SCALAR(1, "value"), toOptions(info[2], info[3], c.op))); }
OP(arange) {
  return R(torch::arange(SCALAR(0, "start"), SCALAR(1, "end"), SCALAR(2, "step"), toOptions(info[3], info[4], c.op)));
}
OP(randn) { return R(torch::randn(INTS(0, "shape"), toOptions(info[1], info[2], c.op))); }
OP(rand) { return R(torch::rand(INTS(0, "shape"), toOptions(info[1], info[2], c.op))); }
OP(randint) {
  return R(torch::randint(INT(0, "low"), INT(1, "high"), INTS(2, "shape"), toOptions(info[3], info[4], c.op)));
}
// Uninitialised storage: a model about to be loaded from a checkpoint does not pay for random init,
// and untouched pages cost no resident memory.
OP(empty) { return R(torch::empty(INTS(0, "shape"), toOptions(info[1], info[2], c.op))); }
OP(zerosLike) { return R(torch::zeros_like(T(0))); }
OP(manualSeed) {
  torch::manual_seed(static_cast<uint64_t>(INT(0, "seed")));
  return UNDEF;
}
// A device's default generator ('cpu' when no device is given; 'cuda:i' for that GPU's Philox state) as
// a u8 tensor, so that training can checkpoint and resume exactly on any device.
static at::Generator generatorOf(const Napi::Value& v, const char* op) {
  auto device = toDevice(v, op);
  if (device.is_cuda() && !device.has_index()) device = torch::Device(torch::kCUDA, 0);
  return at::globalContext().defaultGenerator(device);
}
OP(rngState) {
  auto gen = generatorOf(info[0], c.op);
  std::lock_guard<std::mutex> lock(gen.mutex());
  return R(gen.get_state());
}
OP(setRngState) {
  auto& state = T(0);
  auto gen = generatorOf(info[1], c.op);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return UNDEF;
}

// ---- inspection -----------------------------------------------------------------------------------

OP(shape) {
  auto s = T(0).sizes();
  auto arr = Napi::Array::New(info.Env(), s.size());
  for (size_t i = 0; i < s.size(); ++i) arr.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(s[i])));
  return arr;
}
OP(dtype) { return Napi::Number::New(info.Env(), dtypeCode(T(0).scalar_type())); }
OP(device) { return Napi::String::New(info.Env(), T(0).device().str()); }
OP(item) {
  auto t = T(0);
  if (t.numel() != 1) throw std::runtime_error("item() needs a tensor with one element");
  if (t.scalar_type() == c10::kBool) return Napi::Boolean::New(info.Env(), t.item<bool>());
  return Napi::Number::New(info.Env(), t.item<double>());
}
OP(requiresGrad) { return Napi::Boolean::New(info.Env(), T(0).requires_grad()); }
OP(isContiguous) { return Napi::Boolean::New(info.Env(), T(0).is_contiguous()); }

// ---- dtype, device, copies ------------------------------------------------------------------------

OP(to) {
  auto& t = T(0);
  auto dtype = isNullish(info[1]) ? t.scalar_type() : toDtype(info[1], c.op);
  auto device = isNullish(info[2]) ? t.device() : toDevice(info[2], c.op);
  return R(t.to(device, dtype));
}
OP(contiguous) { return R(T(0).contiguous()); }
OP(clone) { return R(T(0).clone()); }
OP(detach) { return R(T(0).detach()); }
// In-place writes are for parameters (loading, merging LoRA); callers run them under noGrad.
OP(copy_) {
  T(0).copy_(T(1));
  return UNDEF;
}
OP(add_) {
  T(0).add_(T(1), SCALAR(2, "alpha"));
  return UNDEF;
}
OP(fill_) {
  T(0).fill_(SCALAR(1, "value"));
  return UNDEF;
}

// ---- elementwise ----------------------------------------------------------------------------------

#define UNARY(NAME, EXPR) \
  OP(NAME) {              \
    auto& x = T(0);       \
    return R(EXPR);       \
  }
UNARY(neg, torch::neg(x))
UNARY(exp, torch::exp(x))
UNARY(log, torch::log(x))
UNARY(log1p, torch::log1p(x))
UNARY(relu, torch::relu(x))
UNARY(silu, torch::silu(x))
UNARY(sigmoid, torch::sigmoid(x))
UNARY(tanh, torch::tanh(x))
UNARY(sqrt, torch::sqrt(x))
UNARY(rsqrt, torch::rsqrt(x))
UNARY(abs, torch::abs(x))
UNARY(sin, torch::sin(x))
UNARY(cos, torch::cos(x))
UNARY(square, torch::square(x))
UNARY(logicalNot, torch::logical_not(x))

#define BINARY(NAME, EXPR) \
  OP(NAME) {               \
    auto& a = T(0);        \
    auto& b = T(1);        \
    return R(EXPR);        \
  }
BINARY(add, torch::add(a, b))
BINARY(sub, torch::sub(a, b))
BINARY(mul, torch::mul(a, b))
BINARY(div, torch::div(a, b))
BINARY(pow, torch::pow(a, b))
BINARY(maximum, torch::maximum(a, b))
BINARY(minimum, torch::minimum(a, b))
BINARY(eq, torch::eq(a, b))
BINARY(ne, torch::ne(a, b))
BINARY(lt, torch::lt(a, b))
BINARY(le, torch::le(a, b))
BINARY(gt, torch::gt(a, b))
BINARY(ge, torch::ge(a, b))
BINARY(logicalAnd, torch::logical_and(a, b))
BINARY(logicalOr, torch::logical_or(a, b))
BINARY(matmul, torch::matmul(a, b))
BINARY(bmm, torch::bmm(a, b))

#define WITH_SCALAR(NAME, EXPR) \
  OP(NAME) {                    \
    auto& a = T(0);             \
    auto s = SCALAR(1, "scalar"); \
    return R(EXPR);             \
  }
WITH_SCALAR(addScalar, torch::add(a, s))
WITH_SCALAR(subScalar, torch::sub(a, s))
WITH_SCALAR(rsubScalar, torch::rsub(a, s))
WITH_SCALAR(mulScalar, torch::mul(a, s))
WITH_SCALAR(divScalar, torch::div(a, s))
WITH_SCALAR(powScalar, torch::pow(a, s))
WITH_SCALAR(eqScalar, torch::eq(a, s))
WITH_SCALAR(neScalar, torch::ne(a, s))
WITH_SCALAR(ltScalar, torch::lt(a, s))
WITH_SCALAR(leScalar, torch::le(a, s))
WITH_SCALAR(gtScalar, torch::gt(a, s))
WITH_SCALAR(geScalar, torch::ge(a, s))

OP(clamp) {
  auto& x = T(0);
  c10::optional<c10::Scalar> lo, hi;
  if (!isNullish(info[1])) lo = SCALAR(1, "min");
  if (!isNullish(info[2])) hi = SCALAR(2, "max");
  return R(torch::clamp(x, lo, hi));
}
OP(where) {
  auto& cond = T(0);
  auto& a = T(1);
  auto& b = T(2);
  return R(torch::where(cond, a, b));
}
OP(maskedFill) {
  auto& x = T(0);
  auto& mask = T(1);
  return R(x.masked_fill(mask, SCALAR(2, "value")));
}

// ---- reductions -----------------------------------------------------------------------------------

// dims = null reduces over all elements (keepdim then has no effect, as in PyTorch's sum()).
#define REDUCE_DIMS(NAME, ALL, DIMS)                                 \
  OP(NAME) {                                                          \
    auto& x = T(0);                                                   \
    auto dims = optIntList(info[1], c.op, "dims");                    \
    bool keep = isNullish(info[2]) ? false : BOOL(2, "keepdim");      \
    if (!dims) return R(ALL);                                         \
    return R(DIMS);                                                   \
  }
REDUCE_DIMS(sum, torch::sum(x), torch::sum(x, *dims, keep))
REDUCE_DIMS(mean, torch::mean(x), torch::mean(x, *dims, keep))
REDUCE_DIMS(amax, torch::max(x), torch::amax(x, *dims, keep))
REDUCE_DIMS(amin, torch::min(x), torch::amin(x, *dims, keep))
REDUCE_DIMS(logsumexp, torch::logsumexp(x.reshape({-1}), {0}, false), torch::logsumexp(x, *dims, keep))

OP(norm) {
  auto& x = T(0);
  auto p = SCALAR(1, "p");
  auto dims = optIntList(info[2], c.op, "dims");
  bool keep = isNullish(info[3]) ? false : BOOL(3, "keepdim");
  if (!dims) return R(torch::norm(x, p));
  return R(torch::norm(x, p, *dims, keep));
}
OP(maxDim) { return wrapPair(info.Env(), torch::max(T(0), INT(1, "dim"), BOOL(2, "keepdim"))); }
OP(minDim) { return wrapPair(info.Env(), torch::min(T(0), INT(1, "dim"), BOOL(2, "keepdim"))); }
OP(argmax) { return R(torch::argmax(T(0), INT(1, "dim"), BOOL(2, "keepdim"))); }
OP(softmax) { return R(torch::softmax(T(0), INT(1, "dim"))); }
OP(logSoftmax) { return R(torch::log_softmax(T(0), INT(1, "dim"))); }
OP(cumsum) { return R(torch::cumsum(T(0), INT(1, "dim"))); }
OP(topk) {
  return wrapPair(info.Env(), torch::topk(T(0), INT(1, "k"), INT(2, "dim"), BOOL(3, "largest"), BOOL(4, "sorted")));
}
OP(sort) { return wrapPair(info.Env(), torch::sort(T(0), INT(1, "dim"), BOOL(2, "descending"))); }

// ---- shape and indexing ---------------------------------------------------------------------------

OP(reshape) { return R(T(0).reshape(INTS(1, "shape"))); }
OP(view) { return R(T(0).view(INTS(1, "shape"))); }
OP(transpose) { return R(T(0).transpose(INT(1, "dim0"), INT(2, "dim1"))); }
OP(permute) { return R(T(0).permute(INTS(1, "dims"))); }
OP(unsqueeze) { return R(T(0).unsqueeze(INT(1, "dim"))); }
OP(squeeze) { return R(T(0).squeeze(INT(1, "dim"))); }
OP(expand) { return R(T(0).expand(INTS(1, "shape"))); }
OP(narrow) { return R(T(0).narrow(INT(1, "dim"), INT(2, "start"), INT(3, "length"))); }
OP(slice) { return R(T(0).slice(INT(1, "dim"), INT(2, "start"), INT(3, "end"), INT(4, "step"))); }
OP(indexSelect) {
  auto& x = T(0);
  auto dim = INT(1, "dim");
  return R(torch::index_select(x, dim, T(2)));
}
OP(gather) {
  auto& x = T(0);
  auto dim = INT(1, "dim");
  return R(torch::gather(x, dim, T(2)));
}
OP(scatterAdd) {
  auto& x = T(0);
  auto dim = INT(1, "dim");
  auto& idx = T(2);
  return R(torch::scatter_add(x, dim, idx, T(3)));
}
OP(cat) {
  auto ts = c.tensors(info[0]);
  return R(torch::cat(ts, INT(1, "dim")));
}
OP(stack) {
  auto ts = c.tensors(info[0]);
  return R(torch::stack(ts, INT(1, "dim")));
}
OP(tril) { return R(torch::tril(T(0), INT(1, "diagonal"))); }
OP(triu) { return R(torch::triu(T(0), INT(1, "diagonal"))); }
OP(nonzero) { return R(torch::nonzero(T(0))); }

// ---- neural-network ops and losses ----------------------------------------------------------------

OP(linear) {
  auto& x = T(0);
  auto& w = T(1);
  if (isNullish(info[2])) return R(torch::linear(x, w));
  return R(torch::linear(x, w, T(2)));
}
OP(embedding) {
  auto& w = T(0);
  return R(torch::embedding(w, T(1)));
}
OP(dropout) { return R(torch::dropout(T(0), DBL(1, "p"), BOOL(2, "train"))); }

int64_t reductionCode(const Napi::Value& v) {
  std::string r = v.IsString() ? v.As<Napi::String>().Utf8Value() : "mean";
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw std::runtime_error("reduction must be 'mean', 'sum' or 'none', got '" + r + "'");
}

// cross_entropy(logits [N, C], target [N] i64, ignoreIndex, reduction): mean is over non-ignored targets.
OP(crossEntropy) {
  auto& logits = T(0);
  auto& target = T(1);
  return R(torch::nll_loss(torch::log_softmax(logits, 1), target, {}, reductionCode(info[3]), INT(2, "ignoreIndex")));
}
// kl_div(input = log q, target = p or log p): sum p (log p - log q); 'batchmean' divides the sum by N.
OP(klDiv) {
  auto& input = T(0);
  auto& target = T(1);
  std::string r = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "batchmean";
  bool logTarget = BOOL(3, "logTarget");
  if (r == "batchmean") {
    return R(torch::kl_div(input, target, at::Reduction::Sum, logTarget) / input.size(0));
  }
  return R(torch::kl_div(input, target, reductionCode(info[2]), logTarget));
}
OP(mseLoss) {
  auto& a = T(0);
  auto& b = T(1);
  return R(torch::mse_loss(a, b, reductionCode(info[2])));
}

// ---- autograd -------------------------------------------------------------------------------------

OP(setRequiresGrad) {
  T(0).requires_grad_(BOOL(1, "requiresGrad"));
  return UNDEF;
}
OP(backward) {
  auto& loss = T(0);
  torch::Tensor grad;
  if (!isNullish(info[1])) grad = T(1);
  bool retain = isNullish(info[2]) ? false : BOOL(2, "retainGraph");
  loss.backward(grad, retain);
  return UNDEF;
}
OP(grad) {
  auto g = T(0).grad();
  if (!g.defined()) return info.Env().Null();
  return R(g);
}
OP(zeroGrad) {
  T(0).mutable_grad().reset();
  return UNDEF;
}
OP(setGradEnabled) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(BOOL(0, "enabled"));
  return Napi::Boolean::New(info.Env(), prev);
}
OP(isGradEnabled) { return Napi::Boolean::New(info.Env(), at::GradMode::is_enabled()); }

// ---- autocast (mixed precision) --------------------------------------------------------------------

// setAutocast(device 'cpu'|'cuda', enabled, dtype, entering) -> previous enabled state. A scope calls it
// entering (enabled = true) and leaving (enabled = the state it found); the cast cache is cleared when
// the outermost scope leaves.
OP(setAutocast) {
  std::string dev = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "cpu";
  bool on = BOOL(1, "enabled");
  auto dtype = toDtype(info[2], c.op);
  bool cuda = dev.rfind("cuda", 0) == 0;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  auto type = cuda ? at::kCUDA : at::kCPU;
  bool prev = at::autocast::is_autocast_enabled(type);
  at::autocast::set_autocast_enabled(type, on);
  if (on) at::autocast::set_autocast_dtype(type, dtype);
#else
  bool prev = cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
  if (cuda) {
    at::autocast::set_enabled(on);
    if (on) at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(on);
    if (on) at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
  if (BOOL(3, "entering")) {
    at::autocast::increment_nesting();
  } else if (at::autocast::decrement_nesting() == 0) {
    at::autocast::clear_cache();
  }
  return Napi::Boolean::New(info.Env(), prev);
}

}  // namespace

std::vector<OpEntry>& opTable() {
  static std::vector<OpEntry> t;
  return t;
}

void registerOps(Napi::Env env, Napi::Object exports) {
  for (const auto& e : opTable()) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace lion
