"""FAISS IndexFlatIP on the vectors of bench/index-dense-faiss.ts (benchmark only; Debian python3-faiss).

  /usr/bin/python3 bench/dense_faiss.py DIR THREADS K

DIR holds meta.json ({"N","D","NQ","single"}), docs.f32 [N, D] and queries.f32 [NQ, D]. Times one
batched search of all NQ queries and `single` searches of one query each, with THREADS OpenMP threads;
writes DIR/faiss.json and DIR/faiss_ids.i64 (the batched top-K ids).
"""
import json
import sys
import time

import faiss
import numpy as np

d, threads, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
meta = json.load(open(f"{d}/meta.json"))
N, D, NQ, single = meta["N"], meta["D"], meta["NQ"], meta["single"]
faiss.omp_set_num_threads(threads)
xb = np.fromfile(f"{d}/docs.f32", dtype=np.float32).reshape(N, D)
xq = np.fromfile(f"{d}/queries.f32", dtype=np.float32).reshape(NQ, D)
index = faiss.IndexFlatIP(D)
index.add(xb)
index.search(xq[:4], k)  # warm-up
best = {}
for rep in range(2):
    t = time.perf_counter()
    _, ids = index.search(xq, k)
    batched = NQ / (time.perf_counter() - t)
    t = time.perf_counter()
    for i in range(single):
        index.search(xq[i : i + 1], k)
    one = single / (time.perf_counter() - t)
    best["batchedQps"] = max(best.get("batchedQps", 0), batched)
    best["singleQps"] = max(best.get("singleQps", 0), one)
ids.astype(np.int64).tofile(f"{d}/faiss_ids.i64")
json.dump({**best, "threads": threads, "faiss": faiss.__version__}, open(f"{d}/faiss.json", "w"))
