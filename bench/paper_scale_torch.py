#!/usr/bin/env python3
"""The reference for bench/paper-scale.ts: the same bidirectional Llama forward and Lion-SP / Lion-DS head
in Debian's python3-torch, on the same safetensors weights and the same token ids (the JSON that
`paper-scale.ts encode --save FILE` writes). Prints one JSON object: load time and peak RSS, tokens/s,
and the cosine between its vectors and Lion's.

Usage: /usr/bin/python3 bench/paper_scale_torch.py MODEL_DIR INPUT_JSON --dtype bf16|f32 --paradigm dense|sparse [--threads 2]
"""
import argparse, json, math, os, resource, struct, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("input")
ap.add_argument("--dtype", default="bf16")
ap.add_argument("--paradigm", default="dense")
ap.add_argument("--threads", type=int, default=2)
args = ap.parse_args()
torch.set_num_threads(args.threads)
DT = {"bf16": torch.bfloat16, "f32": torch.float32}[args.dtype]
FILE_DT = {"BF16": torch.bfloat16, "F32": torch.float32, "F16": torch.float16}


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def read_safetensors(path, out):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        start = 8 + n
        for name, e in header.items():
            if name == "__metadata__":
                continue
            a, b = e["data_offsets"]
            f.seek(start + a)
            buf = bytearray(f.read(b - a))
            t = torch.frombuffer(buf, dtype=FILE_DT[e["dtype"]]).reshape(e["shape"])
            out[name] = t.to(DT) if t.dtype != DT else t.clone()
            del buf, t


t0 = time.perf_counter()
cfg = json.load(open(os.path.join(args.model, "config.json")))
W = {}
index = os.path.join(args.model, "model.safetensors.index.json")
if os.path.exists(index):
    for shard in sorted(set(json.load(open(index))["weight_map"].values())):
        read_safetensors(os.path.join(args.model, shard), W)
else:
    read_safetensors(os.path.join(args.model, "model.safetensors"), W)
load_seconds = time.perf_counter() - t0
peak_load = peak_rss()

d, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
hd = cfg.get("head_dim") or d // H
eps, theta = cfg["rms_norm_eps"], cfg["rope_theta"]


def inv_freq():
    inv = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    sc = cfg.get("rope_scaling")
    if not sc:
        return inv
    factor, lo, hi, L = sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"], sc["original_max_position_embeddings"]
    wave = 2 * math.pi / inv
    out = []
    for f, w in zip(inv.tolist(), wave.tolist()):
        if w < L / hi:
            out.append(f)
        elif w > L / lo:
            out.append(f / factor)
        else:
            s = (L / w - lo) / (hi - lo)
            out.append((1 - s) * f / factor + s * f)
    return torch.tensor(out, dtype=torch.float64)


def rms(x, w):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def rot(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


inp = json.load(open(args.input))
B, T = inp["batch"], inp["seqLen"]
ids = torch.tensor(inp["ids"], dtype=torch.long).reshape(B, T)
mask = torch.tensor(inp["mask"], dtype=torch.long).reshape(B, T)


@torch.no_grad()
def forward(ids, mask):
    B, T = ids.shape
    pos = (mask.cumsum(1) - 1).clamp(min=0)  # Lion's positions: 0 at each row's first token
    ang = (pos.float()[..., None] * inv_freq().float()[None, None, :])
    emb = torch.cat([ang, ang], -1)
    cos, sin = emb.cos().to(DT)[:, None], emb.sin().to(DT)[:, None]
    add = torch.zeros(B, 1, T, T).masked_fill(~mask.bool()[:, None, None, :].expand(B, 1, T, T), -1e30)
    x = W["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms(x, W[p + "input_layernorm.weight"])
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(B, T, H, hd).transpose(1, 2)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(B, T, Hkv, hd).transpose(1, 2)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(B, T, Hkv, hd).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1)
        s = (q @ k.transpose(-2, -1) / math.sqrt(hd)).float() + add
        y = (s.softmax(-1).to(v.dtype) @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + y @ W[p + "self_attn.o_proj.weight"].T
        h = rms(x, W[p + "post_attention_layernorm.weight"])
        g = torch.nn.functional.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)
        x = x + g @ W[p + "mlp.down_proj.weight"].T
    x = rms(x, W["model.norm.weight"])
    if args.paradigm == "dense":
        m = mask.to(x.dtype)[..., None]
        unit = x / x.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        return (unit * m).sum(1) / m.sum(1)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"])
    pen = (mask == 0).float() * -1e6
    best = None
    for s0 in range(0, T, 16):  # Lion's chunked max over positions
        z = (x[:, s0:s0 + 16] @ head.T) * d ** -0.25 + pen[:, s0:s0 + 16, None]
        mz = z.amax(1)
        best = mz if best is None else torch.maximum(best, mz)
    return best.relu().log1p()


_ = forward(ids[:1], mask[:1])  # warm-up on one text, as the Lion side does, then the timed batch
t1 = time.perf_counter()
vec = forward(ids, mask).float()
seconds = time.perf_counter() - t1
tokens = int(mask.sum())
lion = torch.tensor(inp["vectors"], dtype=torch.float32).reshape(vec.shape)
cos = torch.nn.functional.cosine_similarity(vec, lion, dim=1)
print(json.dumps({
    "engine": f"python3-torch {torch.__version__}", "model": os.path.basename(os.path.normpath(args.model)), "dtype": args.dtype, "paradigm": args.paradigm,
    "threads": torch.get_num_threads(), "tokens": tokens, "loadSeconds": load_seconds, "peakRssLoad": peak_load, "encodeSeconds": seconds,
    "tokensPerSec": tokens / seconds, "peakRss": peak_rss(), "cosineToLionMin": float(cos.min()),
}))
