#!/usr/bin/env python3
"""
PyTorch peer for `npm run bench -- engine`: one AdamW train step of a transformer the size of DiT-S/4
(12 pre-LN blocks, hidden 384, 6 heads, MLP ratio 4, 64 tokens of 64 patch values, batch 8, MSE loss,
grad-norm clipping 1.0). Same architecture and parameter count as test/bench/engine.bench.ts.

Run with the tuned settings the benches use (test/bench/timing.ts, kernel/shared/environment.ts):
  GOMP_SPINCOUNT=0 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 OMP_NUM_THREADS=2 \
  /usr/bin/python3 transformer_train.py --threads 2 --steps 10 --warmup 3
Prints one JSON line: {"median_s": ..., "steps": ..., "peak_rss_mb": ..., "params": ...}.

  transformer_train.py serve [--threads 2] [--warmup 3]
        -> reads commands on stdin, answers one JSON line each (the bench alternates these with its own steps):
           train N -> {"times": [...], "cpu": [...], "loss": ...}   info -> {"peak_rss_mb", "params", "torch"}   quit
"""
import argparse, json, math, resource, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F

from serve import out, serve


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        B, T, C = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(B, T, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                                   # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.heads))
        y = att.softmax(dim=-1) @ v                                        # (B, nh, T, hs)
        x = x + self.proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x)), approximate="tanh"))


class Transformer(nn.Module):
    def __init__(self, depth=12, d=384, heads=6, tokens=64, patch_dim=64):
        super().__init__()
        self.embed = nn.Linear(patch_dim, d)
        self.pos = nn.Parameter(torch.randn(1, tokens, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, patch_dim)

    def forward(self, x):
        x = self.embed(x) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", nargs="?", choices=["bench", "serve"], default="bench",
                    help="bench: time --steps steps and print one JSON line; serve: answer commands on stdin (below)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Transformer()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    x = torch.randn(a.batch, 64, 64)
    y = torch.randn(a.batch, 64, 64)

    def train(n):
        """n timed steps: forward, backward, global-norm clip at 1, AdamW; wall and CPU seconds per step."""
        times, cpu, loss = [], [], None
        for _ in range(n):
            t0, c0 = time.perf_counter(), time.process_time()
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(x), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            float(loss)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        return {"times": times, "cpu": cpu, "loss": float(loss)}

    def info():
        return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "params": sum(p.numel() for p in model.parameters()), "torch": torch.__version__}

    train(a.warmup)
    if a.mode == "bench":
        r = train(a.steps)
        out({"median_s": statistics.median(r["times"]), "median_cpu_s": statistics.median(r["cpu"]), "steps": a.steps, "loss": r["loss"], **info()})
        return
    serve({"train": lambda n: train(int(n)), "info": info}, "train N, info")


if __name__ == "__main__":
    main()
