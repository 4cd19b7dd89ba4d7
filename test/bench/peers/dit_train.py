#!/usr/bin/env python3
"""
PyTorch peer for the engine bench's `train-step` case: one AdamW train step of the official DiT structure
(kernel/torch/nextframe_torch/models/dit.py, facebookresearch/DiT's models.py) — MSE on the full output (both ε and
the σ channels), global-norm clipping at 1.0, AdamW(lr 1e-4, weight decay 0.01), as the bench's makeTrainStep.

  dit_train.py init  --config DiT-S/4 --batch 8 --out w.safetensors [--seed 0]
        -> the reference's init with its adaLN-Zero zeros perturbed (N(0, 0.02) added to every trainable weight, so no
           gradient is trivially zero), plus the batch as __x (N,4,32,32) / __t (N) / __y (N) / __target (N,8,32,32)
  dit_train.py serve --config DiT-S/4 --batch 8 --threads 2 --weights w.safetensors [--warmup 2]
        -> stdin: train N -> {"times": [...], "cpu": [...], "loss": ..., "first_loss": ...}
                  info    -> {"params", "peak_rss_mb", "torch"}     quit
Run in the tuned environment (timing.ts TUNED_ENV: GOMP_SPINCOUNT=0, glibc malloc thresholds, OMP_NUM_THREADS).
"""
import argparse, os, resource, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "kernel", "torch"))
from nextframe_torch import safetensors_io  # noqa: E402
from nextframe_torch.models.dit import DIT_CONFIGS, DiT  # noqa: E402

from serve import serve  # noqa: E402


def build(config):
    depth, hidden, patch, heads = DIT_CONFIGS[config]
    return DiT(input_size=32, patch_size=patch, in_channels=4, hidden_size=hidden, depth=depth, num_heads=heads,
               num_classes=1000, learn_sigma=True)


def cmd_init(a):
    torch.manual_seed(a.seed)
    model = build(a.config)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.02)
    g = torch.Generator().manual_seed(a.seed + 1)
    sd = dict(model.state_dict())
    sd["__x"] = torch.randn(a.batch, 4, 32, 32, generator=g)
    sd["__t"] = torch.randint(0, 1000, (a.batch,), generator=g)
    sd["__y"] = torch.randint(0, 1000, (a.batch,), generator=g)
    sd["__target"] = torch.randn(a.batch, 8, 32, 32, generator=g)
    safetensors_io.save(sd, a.out)
    print('{"saved": "%s"}' % a.out)


def cmd_serve(a):
    torch.set_num_threads(a.threads)
    model = build(a.config).train()
    sd = safetensors_io.load(a.weights)
    x, t, y, target = (sd.pop(k) for k in ("__x", "__t", "__y", "__target"))
    model.load_state_dict(sd, strict=True)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    first = {}

    def train(n):
        times, cpu, loss = [], [], None
        for _ in range(int(n)):
            t0, c0 = time.perf_counter(), time.process_time()
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(model(x, t, y), target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            v = float(loss)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            first.setdefault("loss", v)
        return {"times": times, "cpu": cpu, "loss": None if loss is None else float(loss), "first_loss": first.get("loss")}

    def info():
        return {"params": sum(p.numel() for p in params), "torch": torch.__version__,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}

    train(a.warmup)
    serve({"train": train, "info": info}, "train N, info")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["init", "serve"])
    ap.add_argument("--config", default="DiT-S/4", choices=list(DIT_CONFIGS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--weights")
    a = ap.parse_args()
    {"init": cmd_init, "serve": cmd_serve}[a.cmd](a)


if __name__ == "__main__":
    main()
