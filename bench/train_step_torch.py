#!/usr/bin/env python3
"""One causal-LM training step (forward, backward, AdamW) of a Llama written with plain torch ops, the
same computation as Lion's model, for bench/train-step.ts. Prints JSON {ms_per_step} per size.
Usage: /usr/bin/python3 bench/train_step_torch.py SIZE_JSON [--threads N] [--reps N]"""
import json, math, statistics, sys, time
import torch
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 5
torch.set_num_threads(threads)
torch.manual_seed(0)
V, d, L, H, ffn, B, T = cfg["vocab"], cfg["hidden"], cfg["layers"], cfg["heads"], cfg["ffn"], cfg["batch"], cfg["seq"]
hd = d // H


def W(o, i):
    return (torch.randn(o, i) * 0.02).requires_grad_()


P = {"emb": W(V, d), "norm": torch.ones(d, requires_grad=True)}
layers = []
for _ in range(L):
    layers.append({k: W(*s) for k, s in {"q": (d, d), "k": (d, d), "v": (d, d), "o": (d, d), "g": (ffn, d), "u": (ffn, d), "dn": (d, ffn)}.items()} | {"n1": torch.ones(d, requires_grad=True), "n2": torch.ones(d, requires_grad=True)})
params = list(P.values()) + [t for l in layers for t in l.values()]
inv = 1.0 / 500000 ** (torch.arange(0, hd, 2).float() / hd)
ang = torch.outer(torch.arange(T).float(), inv)
cos, sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
mask = torch.full((T, T), -1e30).triu(1)


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w


def rot(x):
    return torch.cat([-x[..., hd // 2:], x[..., : hd // 2]], -1)


def forward(ids):
    x = F.embedding(ids, P["emb"])
    for l in layers:
        h = rms(x, l["n1"])
        q, k, v = (F.linear(h, l[n]).view(B, T, H, hd).transpose(1, 2) for n in "qkv")
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        a = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(hd) + mask, -1)
        x = x + F.linear((a @ v).transpose(1, 2).reshape(B, T, d), l["o"])
        h = rms(x, l["n2"])
        x = x + F.linear(F.silu(F.linear(h, l["g"])) * F.linear(h, l["u"]), l["dn"])
    return F.linear(rms(x, P["norm"]), P["emb"])


opt = torch.optim.AdamW(params, lr=1e-4)
ids = torch.randint(0, V, (B, T))


def step():
    opt.zero_grad(set_to_none=True)
    logits = forward(ids)
    F.cross_entropy(logits[:, :-1].reshape(-1, V), ids[:, 1:].reshape(-1)).backward()
    opt.step()


for _ in range(2):
    step()
ts = []
for _ in range(reps):
    t0 = time.perf_counter()
    step()
    ts.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"ms_per_step": statistics.median(ts)}))
