#!/usr/bin/env python3
"""
The world benchmark's PyTorch peer (test/bench/world.bench.ts): the world model and autoencoder of the repository's
package (kernel/torch/nextframe_torch: the same network, parameter names and math as the TypeScript models), driven
by the WorldSimulator's few-step DDIM sampler below (every step unrolled, x0 clamped to the latent range), fp32 on
the CPU.

Configs come as JSON, exactly as the TypeScript objects print (WorldModelConfig / AutoencoderConfig), so the
bench passes whatever config it measures:
  world_model.py bench --model '{"contextFrames":7,...}' --ae '{"imageSize":32,...}' [--threads 2]
        -> JSON lines: parameter counts, train step seconds (b16, b32), rollout seconds per frame (ddim 1, 2, 4)
  world_model.py serve --model JSON --ae JSON [--threads 2]
        -> reads commands on stdin, answers one JSON line each (the bench interleaves these with its own runs):
           params | train B N | rollout STEPS N   (N timed repetitions after the first call's warm-up)
           parity MODEL.safetensors AE.safetensors  (loads those weights, strict; returns predict_next and a decode
                                                     of fixed inputs, which the bench compares with its own)
"""
import argparse, json, math, time

import torch
import torch.nn.functional as F

# this folder is on sys.path when the peer runs as a script; dit_reference puts the repository's package there too
from dit_reference import load_safetensors
from nextframe_torch.diffusion import ddim_schedule
from nextframe_torch.models.autoencoder import Autoencoder
from nextframe_torch.models.world_model import WorldModel, window_frames, window_times
from serve import out, serve


class WorldSimulator:
    """WorldSimulator.step in play mode: sample the next latent (all DDIM steps, x0 clamped), decode it (anchored)."""
    def __init__(self, model, ae, steps, seed=0):
        cfg = model.cfg
        self.model, self.ae, self.steps = model, ae, steps
        self.acp, self.acp_prev, self.ts = ddim_schedule(cfg["diffusionSteps"], steps)
        self.lim = 1 / cfg["latentScale"]
        self.scale = cfg["latentScale"]
        C, H = cfg["latentChannels"], cfg["latentSize"]
        self.window, span = window_times(cfg)                                          # history indices of the window
        self.shape = (1, C, H, H)
        self.gen = torch.Generator().manual_seed(seed)
        size = ae.config["imageSize"]
        with torch.inference_mode():
            self.hist = torch.tanh(torch.randn(1, span, C, H, H, generator=self.gen)) / self.scale  # stands in for encoded frames
            self.anchor_pixels = torch.rand(1, 3, size, size, generator=self.gen) * 2 - 1
            self.anchor_decoded = ae.decoder(self.hist[:, -1] * self.scale)
        self.actions = [k % cfg["numActions"] for k in range(span)]

    def sample(self, ctx, noise, acts):
        x = noise
        for i in range(len(self.ts) - 1, -1, -1):
            ab, ab_prev = self.acp[i], self.acp_prev[i]
            t = torch.full((1,), float(self.ts[i]))
            win = torch.cat([ctx, x.unsqueeze(1)], dim=1)                              # (1, F, C, H, W)
            x0 = self.model.predict_next(win, t, acts).clamp(-self.lim, self.lim)
            eps = (x - x0 * math.sqrt(ab)) / math.sqrt(1 - ab)
            x = x0 if i == 0 else x0 * math.sqrt(ab_prev) + eps * math.sqrt(1 - ab_prev)
        return x

    @torch.inference_mode()
    def step(self, action):
        acts = torch.tensor([[self.actions[i] for i in self.window] + [action]], dtype=torch.long)  # (1, F)
        z = self.sample(self.hist[:, self.window], torch.randn(self.shape, generator=self.gen), acts)  # (1, C, H, W)
        self.hist = torch.cat([self.hist[:, 1:], z.unsqueeze(1)], dim=1)
        self.actions = self.actions[1:] + [action]
        x = self.anchor_pixels + self.ae.decoder(z * self.scale) - self.anchor_decoded  # (1, 3, S, S)
        return ((x + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()  # (1, S, S, 3)


#################################################################################
#                                   Benchmark                                   #
#################################################################################

def parity_inputs(cfg):
    """Deterministic inputs the bench rebuilds in TypeScript: window x, step t, actions, and a latent z to decode."""
    Fr, C, H = window_frames(cfg), cfg["latentChannels"], cfg["latentSize"]
    x = (0.5 * torch.sin(0.37 * torch.arange(Fr * C * H * H, dtype=torch.float64))).float().reshape(1, Fr, C, H, H)
    t = torch.tensor([500.0])
    a = ((torch.arange(Fr) * 5 + 1) % cfg["numActions"]).reshape(1, Fr)
    z = torch.tanh(torch.cos(0.23 * torch.arange(C * H * H, dtype=torch.float64))).float().reshape(1, C, H, H)
    return x, t, a, z


def count(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class Bench:
    def __init__(self, model_cfg, ae_cfg):
        self.model_cfg, self.ae_cfg = model_cfg, ae_cfg
        torch.manual_seed(0)
        self.model = WorldModel(model_cfg).eval()
        self.ae = Autoencoder(ae_cfg).eval()
        self.trains, self.sims = {}, {}

    def params(self):
        return {"model_params": count(self.model), "decoder_params": count(self.ae.decoder), "autoencoder_params": count(self.ae)}

    @torch.inference_mode()
    def parity(self, model_weights, ae_weights):
        """Loads the bench's own weights (strict: every name and shape must match) and returns the outputs."""
        self.model.load_state_dict(load_safetensors(model_weights), strict=True)
        self.ae.load_state_dict(load_safetensors(ae_weights), strict=True)
        self.sims = {}
        x, t, a, z = parity_inputs(self.model_cfg)
        return {"op": "parity", "next": self.model.predict_next(x, t, a).reshape(-1).tolist(),
                "decoded": self.ae.decoder(z).reshape(-1).tolist()}

    def train_step_fn(self, B):
        """The bench's train step: MSE of predict_next on fixed inputs, backward, clip 1, AdamW (wd 0)."""
        c = self.model_cfg
        Fr, C, H = window_frames(c), c["latentChannels"], c["latentSize"]
        m = WorldModel(c).train()
        opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.0)
        n = B * Fr * C * H * H
        x = torch.sin(torch.arange(n, dtype=torch.float64)).float().reshape(B, Fr, C, H, H)
        t = (torch.arange(B) * 37 % 1000).float()
        a = (torch.arange(B * Fr) % 6 % c["numActions"]).reshape(B, Fr)
        y = torch.cos(torch.arange(B * C * H * H, dtype=torch.float64)).float().reshape(B, C, H, H)

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.mse_loss(m.predict_next(x, t, a), y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            return loss.item()
        return step

    def train(self, B, n):
        if B not in self.trains:
            self.trains[B] = self.train_step_fn(B)
            for _ in range(2):
                self.trains[B]()
        step, times = self.trains[B], []
        for _ in range(n):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        return {"op": "train", "batch": B, "times": times}

    def rollout(self, steps, n):
        if steps not in self.sims:
            self.sims[steps] = WorldSimulator(self.model, self.ae, steps)
            for i in range(3):
                self.sims[steps].step(i % self.model_cfg["numActions"])
        sim, times = self.sims[steps], []
        for i in range(n):
            t0 = time.perf_counter()
            sim.step((i * 5) % 6 % self.model_cfg["numActions"])
            times.append(time.perf_counter() - t0)
        return {"op": "rollout", "steps": steps, "times": times}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["bench", "serve"])
    ap.add_argument("--model", required=True, help="WorldModelConfig as JSON")
    ap.add_argument("--ae", required=True, help="AutoencoderConfig as JSON")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    b = Bench(json.loads(args.model), json.loads(args.ae))

    if args.mode == "bench":
        med = lambda xs: sorted(xs)[len(xs) // 2]
        out({"op": "params", **b.params(), "torch": torch.__version__, "threads": torch.get_num_threads()})
        for B in (16, 32):
            r = b.train(B, 8)
            out({"op": "train", "batch": B, "median_s": med(r["times"]), "samples_per_s": B / med(r["times"])})
        for s in (1, 2, 4):
            r = b.rollout(s, 30)
            out({"op": "rollout", "steps": s, "median_s": med(r["times"]), "fps": 1 / med(r["times"])})
        return
    serve({
        "params": lambda: {"op": "params", **b.params()},
        "parity": lambda w, ae: b.parity(w, ae),
        "train": lambda batch, n: b.train(int(batch), int(n)),
        "rollout": lambda steps, n: b.rollout(int(steps), int(n)),
    }, "params, parity W AE, train B N, rollout STEPS N")


if __name__ == "__main__":
    main()
