"""The authors' exhaustive sparse search, as the baseline of bench/index-reorder.ts (benchmark only).

Term-at-a-time over a CSC matrix of float32 document weights into a float32 accumulator (numba), then
np.argpartition for the top k and a sort of those k, one query at a time on one thread: the algorithm
of the paper's indexer. Also computes the float64 exact top-10 (ties by document number), the
reference for "float-exact" agreement.

  /usr/bin/python3 bench/sparse_baseline.py DIR K [K ...]

DIR holds meta.json ({"N","V","NQ"}) and raw little-endian arrays: doc_indptr.u64, doc_indices.u32,
doc_data.f32 (CSR by document), q_indptr.u64, q_indices.u32, q_data.f32. Writes DIR/baseline.json
(per-k milliseconds per query) and DIR/top_f32_K.i32, DIR/exact10.i32 (ids, NQ × k, -1 padded).
Needs Debian's python3-numba and python3-scipy.
"""
import json
import sys
import time

import numba
import numpy as np
import scipy.sparse as sp


@numba.njit(nogil=True, cache=False)
def taat(indptr, indices, data, qi, qv, acc):
    for j in range(qi.shape[0]):
        t = qi[j]
        w = qv[j]
        for p in range(indptr[t], indptr[t + 1]):
            acc[indices[p]] += w * data[p]


def main():
    d = sys.argv[1]
    ks = [int(x) for x in sys.argv[2:]]
    meta = json.load(open(f"{d}/meta.json"))
    N, V, NQ = meta["N"], meta["V"], meta["NQ"]
    rd = lambda name, dt: np.fromfile(f"{d}/{name}", dtype=dt)
    csr = sp.csr_matrix(
        (rd("doc_data.f32", np.float32), rd("doc_indices.u32", np.uint32).astype(np.int32), rd("doc_indptr.u64", np.uint64).astype(np.int64)),
        shape=(N, V),
    )
    t0 = time.perf_counter()
    csc = csr.tocsc()
    csc.sort_indices()
    prep = time.perf_counter() - t0
    indptr = csc.indptr.astype(np.int64)
    indices = csc.indices.astype(np.int32)
    data = csc.data.astype(np.float32)
    data64 = data.astype(np.float64)
    qp = rd("q_indptr.u64", np.uint64).astype(np.int64)
    qi_all = rd("q_indices.u32", np.uint32).astype(np.int64)
    qv_all = rd("q_data.f32", np.float32)
    queries = [(qi_all[qp[i]:qp[i + 1]], qv_all[qp[i]:qp[i + 1]]) for i in range(NQ)]
    acc = np.zeros(N, dtype=np.float32)
    # compile outside the timing
    taat(indptr, indices, data, queries[0][0], queries[0][1], acc)
    acc[:] = 0
    out = {"prepSeconds": prep, "numba": numba.__version__, "numpy": np.__version__, "ms": {}}
    for k in ks:
        kk = min(k, N)
        ids = np.full((NQ, k), -1, dtype=np.int32)
        ms = []
        for i, (qi, qv) in enumerate(queries):
            s = time.perf_counter()
            taat(indptr, indices, data, qi, qv, acc)
            top = np.argpartition(acc, N - kk)[N - kk:]
            top = top[np.argsort(-acc[top], kind="stable")]
            acc[:] = 0
            ms.append((time.perf_counter() - s) * 1000)
            ids[i, :kk] = top
        out["ms"][str(k)] = ms
        ids.tofile(f"{d}/top_f32_{k}.i32")
    # float64 exact top-10, ties by document number
    acc64 = np.zeros(N, dtype=np.float64)
    exact = np.full((NQ, 10), -1, dtype=np.int32)
    for i, (qi, qv) in enumerate(queries):
        taat(indptr, indices, data64, qi, qv.astype(np.float64), acc64)
        nz = np.nonzero(acc64)[0]
        order = np.lexsort((nz, -acc64[nz]))[:10]
        exact[i, : len(order)] = nz[order]
        acc64[:] = 0
    exact.tofile(f"{d}/exact10.i32")
    json.dump(out, open(f"{d}/baseline.json", "w"))


if __name__ == "__main__":
    main()
