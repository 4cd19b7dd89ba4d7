#!/usr/bin/env python3
"""
The benchmarks' and the DiT parity test's command line around the PyTorch DiT of the repository's package
(kernel/torch/nextframe_torch/models/dit.py: facebookresearch/DiT's parameter names and math, only torch needed).

Usage (all I/O is safetensors or JSON, so no numpy is needed):
  dit_reference.py bench  --config DiT-S/2 --batch 8 --threads 2 --repeats 5      -> JSON line, median seconds
  dit_reference.py serve  --config DiT-S/2 --batch 8 --threads 2                  -> stdin "forward N" -> {"times": [...]}
  dit_reference.py export --config DiT-S/2 --batch 8 --out model.onnx             -> torch.onnx.export (x, t, y)
  dit_reference.py forward --config DiT-S/8 --weights w.safetensors --inputs in.safetensors --out out.safetensors
        [--input-size 32 --in-channels 4 --num-classes 1000 --learn-sigma 1 --capture-attn 1]
  dit_reference.py init   --config DiT-S/8 --out w.safetensors --seed 0 [model overrides]  -> random weights
"""
import argparse, contextlib, json, os, sys, time

import torch

# the model lives in the repository's PyTorch package (kernel/torch/nextframe_torch); this script is its bench CLI
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "kernel", "torch"))
from nextframe_torch import safetensors_io  # noqa: E402
from nextframe_torch.models.dit import (  # noqa: E402,F401  (re-exported for the other peers)
    DIT_CONFIGS, DiT, FinalLayer, Mlp, TimestepEmbedder, modulate)


def build(args):
    depth, hidden, patch, heads = DIT_CONFIGS[args.config]
    if args.depth:
        depth = args.depth
    return DiT(input_size=args.input_size, patch_size=patch, in_channels=args.in_channels, hidden_size=hidden,
               depth=depth, num_heads=heads, num_classes=args.num_classes, learn_sigma=bool(args.learn_sigma))


def load_safetensors(path):
    return safetensors_io.load(path)


def save_safetensors(tensors, path):
    safetensors_io.save(tensors, path)


#################################################################################
#                                   Commands                                    #
#################################################################################

def example_inputs(args, model):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(args.batch, args.in_channels, args.input_size, args.input_size, generator=g)
    t = torch.randint(0, 1000, (args.batch,), generator=g)
    y = torch.randint(0, args.num_classes, (args.batch,), generator=g)  # int64, as DiT's train.py feeds them
    return x, t, y


def timed_forward(args):
    """The model and inputs of `bench`; returns run(n) -> n timed forwards (seconds), after args.warmup untimed."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dev = torch.device(args.device)
    model = build(args).eval().to(dev)
    x, t, y = (v.to(dev) for v in example_inputs(args, model))
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    # --autocast float16: the products in half precision, as a PyTorch user runs DiT inference on a GPU
    cast = torch.autocast(dev.type, dtype=torch.float16) if args.autocast == "float16" else contextlib.nullcontext()

    def run(n):
        times = []
        with torch.inference_mode(), cast:
            for _ in range(n):
                sync()
                s = time.perf_counter()
                model(x, t, y)
                sync()
                times.append(time.perf_counter() - s)
        return times
    run(args.warmup)
    return run, dev


def cmd_serve(args):
    """Long-lived peer for the bench's interleaved rounds (peers/serve.py): "forward N" -> {"times": [...]}."""
    from serve import serve
    run, _ = timed_forward(args)
    serve({"forward": lambda n: {"times": run(int(n))}}, "forward N")


def cmd_bench(args):
    run, dev = timed_forward(args)
    times = sorted(run(args.repeats))
    print(json.dumps({"config": args.config, "batch": args.batch, "threads": torch.get_num_threads(),
                      "median_s": times[len(times) // 2], "times": times, "torch": torch.__version__,
                      "device": str(dev), "autocast": args.autocast}))


def cmd_export(args):
    torch.manual_seed(0)
    model = build(args).eval()
    if args.weights:
        model.load_state_dict(load_safetensors(args.weights), strict=True)
    x, t, y = example_inputs(args, model)
    dyn = {"x": {0: "N"}, "t": {0: "N"}, "y": {0: "N"}, "out": {0: "N"}} if args.dynamic else None
    with torch.no_grad():
        torch.onnx.export(model, (x, t, y), args.out, input_names=["x", "t", "y"], output_names=["out"],
                          opset_version=args.opset, dynamic_axes=dyn, do_constant_folding=True)
    print(json.dumps({"exported": args.out, "config": args.config, "batch": args.batch}))


def cmd_init(args):
    torch.manual_seed(args.seed)
    model = build(args)
    if args.randomize_zero_init:
        # adaLN-Zero makes the reference output 0 at init; parity needs non-trivial weights everywhere
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name != "pos_embed":
                    p.add_(torch.randn_like(p) * 0.02)
    sd = {k: v for k, v in model.state_dict().items()}
    save_safetensors(sd, args.out)
    print(json.dumps({"saved": args.out, "keys": len(sd)}))


def cmd_forward(args):
    torch.set_num_threads(args.threads)
    model = build(args).eval()
    sd = load_safetensors(args.weights)
    model.load_state_dict(sd, strict=True)
    inp = load_safetensors(args.inputs)
    for b in model.blocks:
        b.attn.keep = bool(args.capture_attn)
    with torch.no_grad():
        out = model(inp["x"].float(), inp["t"], inp["y"].long())
    res = {"out": out}
    if args.capture_attn:
        for i, b in enumerate(model.blocks):
            res[f"blocks.{i}.attn"] = b.attn.probs
    save_safetensors(res, args.out)
    print(json.dumps({"saved": args.out, "shape": list(out.shape)}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["bench", "serve", "export", "forward", "init"])
    ap.add_argument("--config", default="DiT-S/2", choices=list(DIT_CONFIGS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")  # bench only: "cuda" times on the GPU (synchronised)
    ap.add_argument("--autocast", default="none", choices=["none", "float16"])  # bench on cuda: torch.autocast
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--input-size", type=int, default=32)
    ap.add_argument("--in-channels", type=int, default=4)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--learn-sigma", type=int, default=1)
    ap.add_argument("--depth", type=int, default=0)
    ap.add_argument("--out", default="dit.onnx")
    ap.add_argument("--opset", type=int, default=16)  # torch 1.13 exports affine-free LayerNormalization (17) badly
    ap.add_argument("--dynamic", type=int, default=0)
    ap.add_argument("--weights")
    ap.add_argument("--inputs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--randomize-zero-init", type=int, default=1)
    ap.add_argument("--capture-attn", type=int, default=0)
    args = ap.parse_args()
    {"bench": cmd_bench, "serve": cmd_serve, "export": cmd_export, "forward": cmd_forward, "init": cmd_init}[args.cmd](args)


if __name__ == "__main__":
    main()
