// Selection ops for search: what a flat scan keeps from a block of scores, computed where the block
// lives instead of crossing into JavaScript whole.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>

#include "op.h"

namespace lion {
namespace {

// Four floats and their comparison masks as GCC/Clang vector types: SSE2 on x86-64, NEON on arm64,
// no intrinsics of either (the addon builds on both).
typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));

inline F4 load4(const float* p) {
  F4 v;
  std::memcpy(&v, p, sizeof v);  // unaligned load
  return v;
}

// Appends (offset + flat position, score) of every entry of rows [0, m) of the row-major [m, n] block
// `s` that is strictly above its row's threshold. Rows are visited in order and each row's columns
// ascending, so a caller offering the entries to a queue in this order sees each row's documents
// ascending (the tie rule needs it). Most entries are below (after the first blocks of a scan, a few
// per row in thousands), so 16 at a time are compared as four vectors and their masks or-ed; only a
// group that holds a candidate is looked at one by one. NaN never passes `>`, as with libtorch's gt.
void collectAbove(const float* s, const float* thr, int64_t m, int64_t n, int64_t offset,
                  std::vector<int32_t>& at, std::vector<float>& values) {
  for (int64_t i = 0; i < m; i++) {
    const float h = thr[i];
    const F4 hv = {h, h, h, h};
    const float* row = s + i * n;
    const int64_t base = offset + i * n;
    int64_t r = 0;
    for (; r + 16 <= n; r += 16) {
      const float* g = row + r;
      I4 any = (load4(g) > hv) | (load4(g + 4) > hv) | (load4(g + 8) > hv) | (load4(g + 12) > hv);
      if ((any[0] | any[1] | any[2] | any[3]) == 0) continue;
      for (int j = 0; j < 16; j++)
        if (g[j] > h) {
          at.push_back(static_cast<int32_t>(base + r + j));
          values.push_back(g[j]);
        }
    }
    for (; r < n; r++)
      if (row[r] > h) {
        at.push_back(static_cast<int32_t>(base + r));
        values.push_back(row[r]);
      }
  }
}

// rowsAbove(scores [m, n] f32, thresholds [m] f32) -> [positions i32 [c], values f32 [c]]: the entries
// strictly above their row's threshold, as flat positions (row × n + column) in row-major order, and
// their scores. One pass over the block replaces gt + a mask copied out + a scan + index_select (four
// passes and two allocations; measured in bench/RESULTS.md, issue 15). Positions are int32: the block
// must hold fewer than 2^31 entries, which a blocked scan's blocks do.
OP(rowsAbove) {
  auto s = T(0);
  auto thr = T(1);
  if (s.dim() != 2) throw std::runtime_error("scores must be 2-D [rows, columns]");
  if (thr.dim() != 1 || thr.size(0) != s.size(0))
    throw std::runtime_error("thresholds must be 1-D with one value per row of scores");
  if (s.numel() > std::numeric_limits<int32_t>::max())
    throw std::runtime_error("scores hold " + std::to_string(s.numel()) + " entries; positions are int32, so call it per block of < 2^31");
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  if (!s.device().is_cpu()) {
    // elsewhere libtorch's own ops do it, in the same order (nonzero is row-major)
    auto mask = s.gt(thr.to(s.scalar_type()).unsqueeze(1));
    auto at = mask.reshape({-1}).nonzero().reshape({-1});
    auto values = s.reshape({-1}).index_select(0, at);
    return wrapPair(info.Env(), {at.to(torch::kInt32).cpu(), values.to(torch::kFloat32).cpu()});
  }
  auto sc = s.to(torch::kFloat32).contiguous();
  auto tc = thr.to(torch::kFloat32).contiguous();
  // Rows split into one contiguous range per libtorch thread (the pass is as long as the matmul's
  // output write, so on 2 threads a serial pass cost a tenth of the search); each range collects on
  // its own and the ranges are joined in row order.
  const int64_t m = sc.size(0), n = sc.size(1);
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), m));
  std::vector<std::vector<int32_t>> at(parts);
  std::vector<std::vector<float>> values(parts);
  const float* sp = sc.data_ptr<float>();
  const float* tp = tc.data_ptr<float>();
  at::parallel_for(0, parts, 1, [&](int64_t first, int64_t last) {
    for (int64_t p = first; p < last; p++) {
      const int64_t r0 = m * p / parts, r1 = m * (p + 1) / parts;
      collectAbove(sp + r0 * n, tp + r0, r1 - r0, n, r0 * n, at[p], values[p]);
    }
  });
  int64_t count = 0;
  for (const auto& a : at) count += static_cast<int64_t>(a.size());
  auto atT = torch::empty({count}, torch::TensorOptions().dtype(torch::kInt32));
  auto valuesT = torch::empty({count}, f32);
  int32_t* ao = atT.data_ptr<int32_t>();
  float* vo = valuesT.data_ptr<float>();
  for (int64_t p = 0; p < parts; p++) {
    ao = std::copy(at[p].begin(), at[p].end(), ao);
    vo = std::copy(values[p].begin(), values[p].end(), vo);
  }
  return wrapPair(info.Env(), {atT, valuesT});
}

}  // namespace
}  // namespace lion
