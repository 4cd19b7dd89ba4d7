#!/usr/bin/env python3
"""
The nextframe world model in PyTorch, for the world benchmark (test/bench/world.bench.ts): the same network,
parameter names and math as kernel/nextframe/models/worldModel.ts (WorldModel), stdit.ts (STDiTBlock,
factorized: spatial attention, then causal temporal attention, then the MLP, adaLN-Zero with 9 chunks) and
dit.ts (TimestepEmbedder, Attention, Mlp, FinalLayer); the WorldSimulator's few-step DDIM sampler (every step
unrolled, x0 clamped to the latent range) and the autoencoder's decoder (autoencoder.ts), fp32 on the CPU.
torch 1.13 has no scaled_dot_product_attention, so attention is written out (softmax(q k^T / sqrt(d)) v).

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
import torch.nn as nn
import torch.nn.functional as F

# DiT's pieces, as worldModel.ts takes them from dit.ts (this folder is on sys.path when the peer runs as a script)
from dit_reference import FinalLayer, Mlp, TimestepEmbedder, load_safetensors, modulate
from serve import out, serve


#################################################################################
#                                  Pieces (dit.ts)                              #
#################################################################################

class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, causal=False):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)                                                         # (B, h, N, d)
        attn = (q * self.scale) @ k.transpose(-2, -1)                                   # (B, h, N, N)
        if causal:
            attn = attn.masked_fill(torch.ones(N, N, dtype=torch.bool).triu(1), float("-inf"))
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


#################################################################################
#                        STDiT block (stdit.ts, factorized)                     #
#################################################################################

class STDiTBlock(nn.Module):
    """Spatial attention inside each frame, causal temporal attention at each position, MLP; adaLN-Zero (9 chunks)."""
    def __init__(self, hidden_size, num_heads, causal=True, mlp_ratio=4.0):
        super().__init__()
        self.norm = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden_size, num_heads)
        self.attn_temp = Attention(hidden_size, num_heads)
        self.mlp = Mlp(hidden_size, int(hidden_size * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 9 * hidden_size))
        self.causal = causal

    def forward(self, x, c, f, S):
        N, T, D = x.shape
        shS, scS, gS, shT, scT, gT, shM, scM, gM = self.adaLN_modulation(c).chunk(9, dim=1)
        hs = modulate(self.norm(x), shS, scS).reshape(N * f, S, D)                     # (N·f, S, D)
        x = x + gS.unsqueeze(1) * self.attn(hs).reshape(N, T, D)
        ht = modulate(self.norm(x), shT, scT).reshape(N, f, S, D).transpose(1, 2).reshape(N * S, f, D)  # (N·S, f, D)
        ot = self.attn_temp(ht, causal=self.causal).reshape(N, S, f, D).transpose(1, 2).reshape(N, T, D)
        x = x + gT.unsqueeze(1) * ot
        return x + gM.unsqueeze(1) * self.mlp(modulate(self.norm(x), shM, scM))         # (N, T, D)


#################################################################################
#                         3D sin-cos position embedding                         #
#################################################################################

def sincos_1d(dim, pos):
    omega = 1.0 / 10000 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0))
    out = pos.reshape(-1).double()[:, None] * omega[None]                               # (M, dim/2)
    return torch.cat([torch.sin(out), torch.cos(out)], dim=1)


def sincos_2d(dim, h, w):
    gh, gw = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    return torch.cat([sincos_1d(dim // 2, gw), sincos_1d(dim // 2, gh)], dim=1)         # (h·w, dim)


def sincos_3d(dim, f, h, w, times=None):
    Ds, Dt = 3 * dim // 4, dim // 4
    spatial = sincos_2d(Ds, h, w)                                                      # (S, Ds)
    pos = torch.arange(f, dtype=torch.float64) if times is None else torch.tensor(times, dtype=torch.float64)
    temporal = sincos_1d(Dt, pos)                                                      # (f, Dt)
    S = h * w
    return torch.cat([spatial[None].expand(f, S, Ds), temporal[:, None].expand(f, S, Dt)], dim=2).reshape(1, f * S, dim).float()


#################################################################################
#                              WorldModel (worldModel.ts)                       #
#################################################################################

def window_times(cfg):
    """contextOffsets / historyFrames: where each input frame of a window sits in a history of `span` frames
    (memory frames, then the K recent ones; the target comes at `span`), and that span."""
    K, mem = cfg["contextFrames"], list(cfg.get("memoryFrames", []))
    span = max([K] + mem)
    return [span - o for o in mem + list(range(K, 0, -1))], span


def window_frames(cfg):
    return len(cfg.get("memoryFrames", [])) + cfg["contextFrames"] + 1


class WorldModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        D, p, C = cfg["hiddenSize"], cfg["patchSize"], cfg["latentChannels"]
        self.Fr = window_frames(cfg)
        g = cfg["latentSize"] // p
        self.grid = (self.Fr, g, g)
        times, span = window_times(cfg)                                                # frames at their true times
        self.x_embedder = nn.Linear(p * p * C, D)
        self.t_embedder = TimestepEmbedder(D)
        self.a_embedder = nn.Embedding(cfg["numActions"], D)
        self.register_buffer("pos_embed", sincos_3d(D, self.Fr, g, g, times + [span]))  # fixed
        self.blocks = nn.ModuleList([STDiTBlock(D, cfg["numHeads"], True, cfg["mlpRatio"]) for _ in range(cfg["depth"])])
        self.final_layer = FinalLayer(D, p, C)
        # the local path (config localPath): per action a 3x3 conv of [z_t, z_t - z_{t-1}, z_{t-1} - z_{t-2}], the
        # current action's added to the change
        self.local_conv = nn.Conv2d(3 * C, cfg["numActions"] * C, 3, padding=1) if cfg.get("localPath") else None
        self.initialize_weights()

    def initialize_weights(self):
        """DiT's init: xavier-uniform Linears, zeroed adaLN modulations and output layer, N(0, 0.02) action table."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)
        nn.init.normal_(self.a_embedder.weight, std=0.02)
        for b in self.blocks:
            nn.init.zeros_(b.adaLN_modulation[-1].weight)
            nn.init.zeros_(b.adaLN_modulation[-1].bias)
        for m in (self.final_layer.adaLN_modulation[-1], self.final_layer.linear) + ((self.local_conv,) if self.local_conv is not None else ()):
            nn.init.zeros_(m.weight)
            nn.init.zeros_(m.bias)

    def patchify(self, x):
        N, Fr, C, H, W = x.shape
        p = self.cfg["patchSize"]
        h, w = H // p, W // p
        # (N, f, 1, C, h, p, w, p) -> (N, f, h, w, 1, p, p, C): tubelet 1×p×p, channels last
        return x.reshape(N, Fr, 1, C, h, p, w, p).permute(0, 1, 4, 6, 2, 5, 7, 3).reshape(N, Fr * h * w, p * p * C)

    def unpatchify(self, x):
        N = x.shape[0]
        f, h, w = self.grid
        p, C = self.cfg["patchSize"], self.cfg["latentChannels"]
        return x.reshape(N, f, h, w, 1, p, p, C).permute(0, 1, 4, 7, 2, 5, 3, 6).reshape(N, f, C, h * p, w * p)

    def forward(self, x, t, actions):
        """x (N, F, C, H, W), t (N), actions (N, F) long -> x0 predictions (N, F, C, H, W)."""
        N = x.shape[0]
        f, h, w = self.grid
        S, D = h * w, self.cfg["hiddenSize"]
        a_emb = self.a_embedder(actions)                                                # (N, F, D)
        hdn = self.x_embedder(self.patchify(x)) + self.pos_embed                        # (N, T, D)
        hdn = (hdn.reshape(N, f, S, D) + a_emb.unsqueeze(2)).reshape(N, f * S, D)
        c = self.t_embedder(t) + a_emb[:, -1]                                           # (N, D)
        for block in self.blocks:
            hdn = block(hdn, c, f, S)
        return self.unpatchify(self.final_layer(hdn, c))

    def predict_next(self, x, t, actions):
        out = self.forward(x, t, actions)[:, -1]                                        # (N, C, H, W)
        if not self.cfg.get("residual", True):
            return out
        zt = x[:, -2]
        if self.local_conv is not None:
            z1, z2 = x[:, -3], x[:, -4]
            N, C, H, W = zt.shape
            per_action = self.local_conv(torch.cat([zt, zt - z1, z1 - z2], 1)).reshape(N, -1, C, H, W)
            out = out + per_action[torch.arange(N), actions[:, -1]]
        return zt + out


#################################################################################
#                          Autoencoder (autoencoder.ts)                         #
#################################################################################

class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        h0, h1 = c["hidden"]
        self.conv_in = nn.Conv2d(c["inChannels"], h0, 4, stride=2, padding=1)
        self.down = nn.Conv2d(h0, h1, 4, stride=2, padding=1) if c["downsample"] == 4 else nn.Conv2d(h0, h1, 3, padding=1)
        self.conv_out = nn.Conv2d(h1, c["latentChannels"], 3, padding=1)

    def forward(self, x):
        return torch.tanh(self.conv_out(F.silu(self.down(F.silu(self.conv_in(x))))))


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        h0, h1 = c["hidden"]
        self.conv_in = nn.Conv2d(c["latentChannels"], h1, 3, padding=1)
        self.up = nn.ConvTranspose2d(h1, h0, 4, 2, 1) if c["downsample"] == 4 else nn.Conv2d(h1, h0, 3, padding=1)
        self.conv_out = nn.ConvTranspose2d(h0, c["inChannels"], 4, 2, 1)

    def forward(self, z):
        return self.conv_out(F.silu(self.up(F.silu(self.conv_in(z)))))


class Autoencoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)


#################################################################################
#              Diffusion schedule (diffusion/: squaredcos_cap_v2, respaced)     #
#################################################################################

def ddim_schedule(num_steps, sampling_steps):
    """(alphas_cumprod, alphas_cumprod_prev, original timesteps) of the respaced x0-predicting diffusion."""
    ab = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - ab((i + 1) / num_steps) / ab(i / num_steps), 0.999) for i in range(num_steps)]
    acp, a = [], 1.0
    for b in betas:
        a *= 1 - b
        acp.append(a)
    # "trailing" spacing (respace.ts): counted down from t = T - 1, so one step starts from pure noise
    keep = sorted({int(math.floor(num_steps - 1 - k * (num_steps / sampling_steps) + 0.5)) for k in range(sampling_steps)})  # JS Math.round
    new_acp, last = [], 1.0
    for i in keep:
        b = 1 - acp[i] / last
        last = acp[i]
        new_acp.append((new_acp[-1] if new_acp else 1.0) * (1 - b))
    return new_acp, [1.0] + new_acp[:-1], keep


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
