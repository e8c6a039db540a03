// Data-parallel collectives from libtorch's c10d: a TCPStore for rendezvous and a process group
// (ProcessGroupGloo on CPU; ProcessGroupNCCL on CUDA when libtorch was built with it). One group per
// process, as torch.distributed's default group. Every call waits for its work to finish, so JS sees
// a plain synchronous function and the training loop stays a straight line.
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>

// Debian's libtorch was built with Gloo (its libtorch_cpu exports ProcessGroupGloo); the header needs
// the build's macro to show the class.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#if LION_HAS_CUDA && __has_include(<nccl.h>)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define LION_HAS_NCCL 1
#else
#define LION_HAS_NCCL 0
#endif

#include "op.h"

namespace lion {
namespace {

struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  std::string backend;
  int rank = 0;
  int world = 1;
};

std::unique_ptr<Group>& group() {
  static std::unique_ptr<Group> g;
  return g;
}

Group& need(const char* op) {
  auto& g = group();
  if (!g) throw std::runtime_error(std::string("no process group: call distInit before ") + op);
  return *g;
}

std::string str(const Napi::Object& o, const char* key, const std::string& fallback) {
  auto v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

// distInit({backend, rank, worldSize, masterAddr, masterPort, timeoutMs, storeIsClient, interface, hostname})
OP(distInit) {
  if (group()) throw std::runtime_error("a process group is already initialised in this process");
  if (!info[0].IsObject()) throw std::runtime_error("expected an options object");
  auto o = info[0].As<Napi::Object>();
  auto g = std::make_unique<Group>();
  g->backend = str(o, "backend", "gloo");
  g->rank = static_cast<int>(toInt(o.Get("rank"), "distInit", "rank"));
  g->world = static_cast<int>(toInt(o.Get("worldSize"), "distInit", "worldSize"));
  if (g->world < 1 || g->rank < 0 || g->rank >= g->world) throw std::runtime_error("rank must be in [0, worldSize)");
  const auto timeout = std::chrono::milliseconds(toInt(o.Get("timeoutMs"), "distInit", "timeoutMs"));
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(toInt(o.Get("masterPort"), "distInit", "masterPort"));
  // torchrun's agent may host the store itself (TORCH_ELASTIC_USE_AGENT_STORE); then rank 0 is a client.
  so.isServer = g->rank == 0 && !(o.Get("storeIsClient").IsBoolean() && o.Get("storeIsClient").As<Napi::Boolean>().Value());
  so.numWorkers = g->world;
  so.waitWorkers = false;
  so.timeout = timeout;
  auto tcp = c10::make_intrusive<c10d::TCPStore>(str(o, "masterAddr", "127.0.0.1"), so);
  // A prefix keeps Lion's keys apart from a launcher's keys in a shared store.
  g->store = c10::make_intrusive<c10d::PrefixStore>("lion", tcp);
  if (g->backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    const std::string iface = str(o, "interface", "");
    const std::string host = str(o, "hostname", "");
    if (!iface.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(iface));
    else if (!host.empty()) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(host));
    else opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    opts->threads = 2;
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, g->rank, g->world, opts);
  } else if (g->backend == "nccl") {
#if LION_HAS_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    g->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, g->rank, g->world, opts);
#else
    throw std::runtime_error("this addon was built without NCCL (a CPU libtorch); hint: use the gloo backend, or build against a CUDA libtorch");
#endif
  } else {
    throw std::runtime_error("unknown backend '" + g->backend + "' (gloo or nccl)");
  }
  group() = std::move(g);
  return info.Env().Undefined();
}

OP(distDestroy) {
  group().reset();
  return info.Env().Undefined();
}

OP(distInfo) {
  auto env = info.Env();
  auto& g = group();
  if (!g) return env.Null();
  auto o = Napi::Object::New(env);
  o.Set("rank", g->rank);
  o.Set("worldSize", g->world);
  o.Set("backend", g->backend);
  return o;
}

c10d::ReduceOp reduceOp(const Napi::Value& v) {
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "sum";
  if (s == "sum") return c10d::ReduceOp::SUM;
  if (s == "max") return c10d::ReduceOp::MAX;
  if (s == "min") return c10d::ReduceOp::MIN;
  throw std::runtime_error("unknown reduce op '" + s + "' (sum, max or min)");
}

// distAllReduce(tensors, op): reduces the tensors in place across ranks. They travel as one flat
// buffer (one collective, not one per tensor), in the first tensor's dtype.
OP(distAllReduce) {
  auto& g = need("distAllReduce");
  auto ts = c.tensors(info[0]);
  if (ts.empty()) return info.Env().Undefined();
  std::vector<torch::Tensor> flat;
  for (auto& t : ts) flat.push_back(t.detach().reshape({-1}));
  std::vector<torch::Tensor> buf{torch::cat(flat)};
  g.pg->allreduce(buf, c10d::AllreduceOptions{reduceOp(info[1])})->wait();
  torch::NoGradGuard ng;
  int64_t off = 0;
  for (auto& t : ts) {
    const int64_t n = t.numel();
    t.detach().copy_(buf[0].narrow(0, off, n).view(t.sizes()));
    off += n;
  }
  return info.Env().Undefined();
}

// distAllReduceGrads(params): sums every parameter's gradient across ranks, in place. A parameter
// without a gradient contributes zeros (and gets them), so every rank takes part in the same collective.
OP(distAllReduceGrads) {
  auto& g = need("distAllReduceGrads");
  auto ps = c.tensors(info[0]);
  std::vector<torch::Tensor> grads;
  for (auto& p : ps) {
    auto& gr = p.mutable_grad();
    if (!gr.defined()) gr = torch::zeros_like(p);
    grads.push_back(gr);
  }
  if (grads.empty()) return info.Env().Undefined();
  std::vector<torch::Tensor> flat;
  for (auto& gr : grads) flat.push_back(gr.reshape({-1}));
  std::vector<torch::Tensor> buf{torch::cat(flat)};
  g.pg->allreduce(buf, c10d::AllreduceOptions{c10d::ReduceOp::SUM})->wait();
  int64_t off = 0;
  for (auto& gr : grads) {
    const int64_t n = gr.numel();
    gr.copy_(buf[0].narrow(0, off, n).view(gr.sizes()));
    off += n;
  }
  return info.Env().Undefined();
}

// distAllGather(t) -> every rank's t concatenated along dim 0, in rank order. A constant (no grad):
// callers splice their own slice back in to keep the gradient path (the authors' gather).
OP(distAllGather) {
  auto& g = need("distAllGather");
  auto t = c.tensor(info[0]).detach().contiguous();
  std::vector<torch::Tensor> in{t};
  std::vector<std::vector<torch::Tensor>> out(1);
  for (int r = 0; r < g.world; ++r) out[0].push_back(torch::empty_like(t));
  g.pg->allgather(out, in)->wait();
  return wrap(info.Env(), torch::cat(out[0], 0));
}

// distBroadcast(tensors, root): every rank's tensors become root's, in place.
OP(distBroadcast) {
  auto& g = need("distBroadcast");
  auto ts = c.tensors(info[0]);
  const int64_t root = toInt(info[1], "distBroadcast", "root");
  torch::NoGradGuard ng;
  for (auto& t : ts) {
    std::vector<torch::Tensor> one{t.detach()};
    g.pg->broadcast(one, c10d::BroadcastOptions{root, 0})->wait();
  }
  return info.Env().Undefined();
}

OP(distBarrier) {
  need("distBarrier").pg->barrier()->wait();
  return info.Env().Undefined();
}

// Ranks spawned by `lion … --nproc N` die with their launcher (Linux PR_SET_PDEATHSIG), so a killed
// launcher never leaves ranks training on. Returns false where the parent is already gone.
OP(dieWithParent) {
  const pid_t parent = static_cast<pid_t>(toInt(info[0], "dieWithParent", "parent pid"));
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  return Napi::Boolean::New(info.Env(), getppid() == parent);
}

OP(distBackends) { return Napi::String::New(info.Env(), LION_HAS_NCCL ? "gloo,nccl" : "gloo"); }

}  // namespace

}  // namespace lion
