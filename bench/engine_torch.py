#!/usr/bin/env python3
"""B1/B2 in Debian's python3-torch: the reference for bench/engine.ts (same ops, same shapes).
Prints one JSON object. Usage: /usr/bin/python3 bench/engine_torch.py [--threads N] [--reps N]"""
import argparse, json, math, statistics, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=10)
ap.add_argument("--only", default="b1,b2")
args = ap.parse_args()


def timeit(fn, reps, warm=2):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def blas_libs():
    with open("/proc/self/maps") as f:
        return sorted({l.split()[-1] for l in f if "blas" in l.split("/")[-1]})


out = {"torch": torch.__version__, "blas": blas_libs(), "b1": {}, "b2": {}}
torch.manual_seed(0)
if "b1" in args.only:
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for (m, k, n) in ((1024, 1024, 1024), (4096, 512, 2048)):
            a, b = torch.randn(m, k), torch.randn(k, n)
            ms = timeit(lambda: torch.matmul(a, b), args.reps)
            out["b1"][f"{m}x{k}x{n}@{threads}T"] = 2 * m * k * n / (ms / 1000) / 1e9

torch.set_num_threads(args.threads)
if "b2" in args.only:
    B, T, D, H, F, theta = 16, 128, 512, 8, 1408, 500000.0
    hd = D // H

    def lin(o, i):
        return (torch.rand(o, i) * 2 - 1).div(math.sqrt(i)).requires_grad_()

    P = {"q": lin(D, D), "k": lin(D, D), "v": lin(D, D), "o": lin(D, D), "gate": lin(F, D), "up": lin(F, D),
         "down": lin(D, F), "n1": torch.ones(D).requires_grad_(), "n2": torch.ones(D).requires_grad_()}
    inv = 1.0 / theta ** (torch.arange(0, hd, 2).float() / hd)
    ang = torch.outer(torch.arange(T).float(), inv)
    cos = torch.cat([ang.cos(), ang.cos()], -1)  # [T, hd]
    sin = torch.cat([ang.sin(), ang.sin()], -1)

    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def rot(x):
        x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
        return torch.cat([-x2, x1], -1)

    def block(x):
        h = rms(x, P["n1"])
        q = torch.nn.functional.linear(h, P["q"]).view(B, T, H, hd).transpose(1, 2)  # [B, H, T, hd]
        k = torch.nn.functional.linear(h, P["k"]).view(B, T, H, hd).transpose(1, 2)
        v = torch.nn.functional.linear(h, P["v"]).view(B, T, H, hd).transpose(1, 2)
        q = q * cos + rot(q) * sin
        k = k * cos + rot(k) * sin
        att = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(hd)  # bidirectional: no causal mask
        att = torch.softmax(att, -1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, D)
        x = x + torch.nn.functional.linear(y, P["o"])
        h = rms(x, P["n2"])
        m = torch.nn.functional.silu(torch.nn.functional.linear(h, P["gate"])) * torch.nn.functional.linear(h, P["up"])
        return x + torch.nn.functional.linear(m, P["down"])

    x = torch.randn(B, T, D)
    opt = torch.optim.AdamW(P.values(), lr=1e-4)

    def fwd():
        with torch.no_grad():
            block(x)

    def train():
        opt.zero_grad(set_to_none=True)
        block(x).square().mean().backward()
        opt.step()

    out["b2"]["forward_ms"] = timeit(fwd, args.reps)
    out["b2"]["train_ms"] = timeit(train, args.reps)
print(json.dumps(out))
