#!/usr/bin/env python3
"""
The video benchmark's PyTorch peer (test/bench/video.bench.ts) and the parity check of the text-to-video twin
(kernel/nextframe/models/textToVideo.parity.test.ts): the text-to-video DiT and autoencoder of the repository's package
(kernel/torch/nextframe_torch: the same network, parameter names and math as the TypeScript models), driven by the
same sampler as TextToVideoSampler — trailing DDIM over the model's outputs (x0, or v turned into x0 = sqrt(ab) x -
sqrt(1 - ab) v, as the config's `predict` says), the caption and the null caption as one batch of 2n,
o = o(null) + s * (o(caption) - o(null)) — then the autoencoder's decoder; fp32 on the CPU.

  text_to_video.py parity --model JSON --weights W.safetensors --inputs IN.safetensors --out OUT.safetensors
        (IN: x, t, caption; OUT: out = model(x, t, caption))
  text_to_video.py serve --model JSON --ae JSON [--threads 2]
        -> reads commands on stdin, one JSON line back each: params | parity W IN OUT | sample FRAMES STEPS N
"""
import argparse, json, math, time

import torch

from dit_reference import load_safetensors, save_safetensors
from nextframe_torch.diffusion import ddim_schedule
from nextframe_torch.models.autoencoder import Autoencoder
from nextframe_torch.models.text_to_video import TextToVideoDiT
from serve import out, serve


def count(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@torch.inference_mode()
def parity(model, weights, inputs, out_path):
    model.load_state_dict(load_safetensors(weights), strict=True)
    i = load_safetensors(inputs)
    save_safetensors({"out": model(i["x"].float(), i["t"].float(), i["caption"].long()).contiguous()}, out_path)
    return {"op": "parity", "out": out_path}


class Sampler:
    """TextToVideoSampler.sample + decodeClips for one caption (token ids fixed: any caption costs the same)."""
    def __init__(self, model, ae, frames, steps, guidance=3.0):
        cfg = model.cfg
        self.model, self.ae, self.guidance = model, ae, guidance
        self.predict = cfg.get("predict", "x0")
        if self.predict not in ("x0", "v"):
            raise ValueError(f"Sampler: predict {self.predict!r} is not supported here (x0 or v)")
        self.acp, self.acp_prev, self.ts = ddim_schedule(cfg["diffusionSteps"], steps)
        self.shape = (1, frames, cfg["latentChannels"], 16, 16)
        L = cfg["textLength"]
        cap = torch.zeros(2, L, dtype=torch.long)
        cap[0, :12] = torch.arange(1, 13)
        self.caption, self.scale = cap, cfg["latentScale"]
        self.gen = torch.Generator().manual_seed(0)

    @torch.inference_mode()
    def clip(self):
        x = torch.randn(self.shape, generator=self.gen)
        for i in range(len(self.ts) - 1, -1, -1):
            ab, ab_prev = self.acp[i], self.acp_prev[i]
            t = torch.full((2,), float(self.ts[i]))
            o = self.model(torch.cat([x, x]), t, self.caption)
            o = o[1:] + self.guidance * (o[:1] - o[1:])
            x0 = math.sqrt(ab) * x - math.sqrt(1 - ab) * o if self.predict == "v" else o
            eps = (x - x0 * math.sqrt(ab)) / math.sqrt(1 - ab)
            x = x0 if i == 0 else x0 * math.sqrt(ab_prev) + eps * math.sqrt(1 - ab_prev)
        z = (x * self.scale).reshape(-1, *self.shape[2:])
        rgb = self.ae.decoder(z)                                                        # (F, 3, 32, 32)
        return ((rgb + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["parity", "serve"])
    ap.add_argument("--model", required=True, help="TextToVideoConfig as JSON")
    ap.add_argument("--ae", help="AutoencoderConfig as JSON (serve)")
    ap.add_argument("--weights"); ap.add_argument("--inputs"); ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = TextToVideoDiT(json.loads(args.model)).eval()
    if args.mode == "parity":
        parity(model, args.weights, args.inputs, args.out)
        return
    ae = Autoencoder(json.loads(args.ae)).eval()
    samplers = {}

    def sample(frames, steps, n):
        key = (int(frames), int(steps))
        if key not in samplers:
            samplers[key] = Sampler(model, ae, *key)
            samplers[key].clip()
        times = []
        for _ in range(int(n)):
            t0 = time.perf_counter()
            samplers[key].clip()
            times.append(time.perf_counter() - t0)
        return {"op": "sample", "times": times}

    def load(w, a):
        model.load_state_dict(load_safetensors(w), strict=True)
        ae.load_state_dict(load_safetensors(a), strict=True)
        samplers.clear()
        return {"op": "load"}

    serve({
        "params": lambda: {"op": "params", "model_params": count(model), "decoder_params": count(ae.decoder)},
        "parity": lambda w, i, o: parity(model, w, i, o),
        "load": load,
        "sample": sample,
    }, "params, parity W IN OUT, load W AE, sample FRAMES STEPS N")


if __name__ == "__main__":
    main()
