"""
The next-frame diffusion world model in PyTorch, the twin of kernel/nextframe/models/worldModel.ts (WorldModel),
stdit.ts (STDiTBlock, factorized: spatial attention inside each frame, then causal temporal attention at each
position, then the MLP; adaLN-Zero with 9 chunks) and dit.ts (TimestepEmbedder, Mlp, FinalLayer, from dit.py here).
Same parameter names, layouts and init rules (DiT's), so a checkpoint of either engine loads into the other.

Config: the TypeScript WorldModelConfig as JSON (a card's `config`, camelCase): contextFrames, latentChannels,
latentSize, patchSize, hiddenSize, depth, numHeads, mlpRatio, numActions, diffusionSteps, latentScale,
contextNoise, residual, deltaStd (optional; > 0 puts the training noise on the change from the last latent:
train.py's batches, the network is the same), lastContextNoise (optional; training noise on the last context
latent, train.py), localPath, captionVocab (caption conditioning: the mean of the caption's token embeddings
is added to c), attention ("factorized", or "full": one attention over all frames' tokens, causal over frames),
memoryFrames, contextNoiseLevels and contextNoiseMax (optional; GameNGen's noise-level conditioning: with
contextNoiseLevels > 0 an embedding of the context's noise level, n_embedder, is added to c; training draws a
level b per window and puts noise of std contextNoiseMax*b/(contextNoiseLevels - 1) on every context latent).

Shape letters: N batch, F = M + K + 1 frames in the window (M memory frames, K recent ones, the target), C latent
channels, H latent size, p patch size, S spatial tokens per frame, T = F*S tokens, D hidden size.
"""
import torch
import torch.nn as nn

from .dit import FinalLayer, Mlp, TimestepEmbedder, modulate

CONFIG_KEYS = ["contextFrames", "latentChannels", "latentSize", "patchSize", "hiddenSize", "depth", "numHeads", "mlpRatio",
               "numActions", "diffusionSteps", "latentScale", "contextNoise", "residual", "localPath", "captionVocab",
               "attention", "memoryFrames"]


def check_config(cfg):
    missing = [k for k in CONFIG_KEYS if k not in cfg]
    if missing:
        raise ValueError(f"WorldModel: the config lacks {', '.join(missing)}; expected a full WorldModelConfig (a card's `config`), got keys {sorted(cfg)}")
    if cfg["attention"] not in ("factorized", "full"):
        raise ValueError(f"WorldModel: attention must be \"factorized\" or \"full\", got {cfg['attention']!r}")
    if not isinstance(cfg["captionVocab"], int) or cfg["captionVocab"] < 0:
        raise ValueError(f"WorldModel: captionVocab must be an integer >= 0 (0 = no captions), got {cfg['captionVocab']!r}")


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, causal=False, mask=None):
        """mask: bool (N, N), True where a query may attend to a key."""
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)                                                         # (B, h, N, d)
        attn = (q * self.scale) @ k.transpose(-2, -1)                                   # (B, h, N, N)
        if causal:
            attn = attn.masked_fill(torch.ones(N, N, dtype=torch.bool, device=x.device).triu(1), float("-inf"))
        if mask is not None:
            attn = attn.masked_fill(~mask, float("-inf"))
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


#################################################################################
#                               STDiT block (stdit.ts)                          #
#################################################################################

def block_causal_mask(f, S, device=None):
    """Bool (f*S, f*S) for full spacetime attention, causal over frames: token (f, s) sees (f', s') iff f' <= f."""
    frame = torch.arange(f * S, device=device) // S
    return frame[None, :] <= frame[:, None]


class STDiTBlock(nn.Module):
    """factorized: spatial attention inside each frame, causal temporal attention at each position, MLP; adaLN-Zero
    with 9 chunks. full: one attention over all f*S tokens (causal over frames), then the MLP; 6 chunks (a DiT block)."""
    def __init__(self, hidden_size, num_heads, kind="factorized", causal=True, mlp_ratio=4.0):
        super().__init__()
        self.norm = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(hidden_size, num_heads)
        self.attn_temp = Attention(hidden_size, num_heads) if kind == "factorized" else None
        self.mlp = Mlp(hidden_size, int(hidden_size * mlp_ratio))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, (9 if kind == "factorized" else 6) * hidden_size))
        self.kind, self.causal = kind, causal

    def forward(self, x, c, f, S):
        N, T, D = x.shape
        if self.kind == "full":
            sh1, sc1, g1, sh2, sc2, g2 = self.adaLN_modulation(c).chunk(6, dim=1)
            mask = block_causal_mask(f, S, x.device) if self.causal else None
            x = x + g1.unsqueeze(1) * self.attn(modulate(self.norm(x), sh1, sc1), mask=mask)
            return x + g2.unsqueeze(1) * self.mlp(modulate(self.norm(x), sh2, sc2))
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
        check_config(cfg)
        self.cfg = dict(cfg)
        D, p, C = cfg["hiddenSize"], cfg["patchSize"], cfg["latentChannels"]
        self.Fr = window_frames(cfg)
        g = cfg["latentSize"] // p
        self.grid = (self.Fr, g, g)
        times, span = window_times(cfg)                                                # frames at their true times
        self.x_embedder = nn.Linear(p * p * C, D)
        self.t_embedder = TimestepEmbedder(D)
        self.a_embedder = nn.Embedding(cfg["numActions"], D)
        # caption token embeddings (row 0 = padding), only with captionVocab > 0
        self.c_embedder = nn.Embedding(cfg["captionVocab"] + 1, D) if cfg["captionVocab"] > 0 else None
        self.register_buffer("pos_embed", sincos_3d(D, self.Fr, g, g, times + [span]))  # fixed
        self.blocks = nn.ModuleList([STDiTBlock(D, cfg["numHeads"], cfg["attention"], True, cfg["mlpRatio"]) for _ in range(cfg["depth"])])
        self.final_layer = FinalLayer(D, p, C)
        # the local path (config localPath): per action a 3x3 conv of [z_t, z_t - z_{t-1}, z_{t-1} - z_{t-2}], the
        # current action's added to the change
        self.local_conv = nn.Conv2d(3 * C, cfg["numActions"] * C, 3, padding=1) if cfg.get("localPath") else None
        # the context's noise level (contextNoiseLevels > 0), added to c
        levels = cfg.get("contextNoiseLevels", 0)
        self.n_embedder = nn.Embedding(levels, D) if levels > 0 else None
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
        if self.c_embedder is not None:
            nn.init.normal_(self.c_embedder.weight, std=0.02)
        if self.n_embedder is not None:
            nn.init.normal_(self.n_embedder.weight, std=0.02)
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

    def caption_embedding(self, caption):
        """Mean embedding of each caption's non-padding tokens: (N, L) ids + 1 (0 pads) -> (N, D); all padding -> 0."""
        if self.c_embedder is None:
            raise ValueError("WorldModel: this model has no caption conditioning (config captionVocab = 0); leave the caption out")
        mask = (caption != 0).float()                                                   # (N, L)
        total = (self.c_embedder(caption) * mask.unsqueeze(2)).sum(1)                   # (N, D)
        return total / mask.sum(1, keepdim=True).clamp(min=1)

    def forward(self, x, t, actions, caption=None, level=None):
        """x (N, F, C, H, W), t (N), actions (N, F) long, caption (N, L) long or None (the null caption), level (N) long:
        the context's noise level (models with contextNoiseLevels > 0; None = level 0, clean) -> x0 predictions (N, F, C, H, W)."""
        N = x.shape[0]
        f, h, w = self.grid
        S, D = h * w, self.cfg["hiddenSize"]
        a_emb = self.a_embedder(actions)                                                # (N, F, D)
        hdn = self.x_embedder(self.patchify(x)) + self.pos_embed                        # (N, T, D)
        hdn = (hdn.reshape(N, f, S, D) + a_emb.unsqueeze(2)).reshape(N, f * S, D)
        c = self.t_embedder(t) + a_emb[:, -1]                                           # (N, D)
        if caption is not None:
            c = c + self.caption_embedding(caption)
        if self.n_embedder is not None:
            c = c + self.n_embedder(level if level is not None else torch.zeros(N, dtype=torch.long, device=x.device))
        elif level is not None:
            raise ValueError("WorldModel: a context noise level was given but this model has none (config contextNoiseLevels = 0)")
        for block in self.blocks:
            hdn = block(hdn, c, f, S)
        return self.unpatchify(self.final_layer(hdn, c))

    def predict_next(self, x, t, actions, caption=None, level=None):
        out = self.forward(x, t, actions, caption, level)[:, -1]                                        # (N, C, H, W)
        if not self.cfg.get("residual", True):
            return out
        zt = x[:, -2]
        if self.local_conv is not None:
            z1, z2 = x[:, -3], x[:, -4]
            N, C, H, W = zt.shape
            per_action = self.local_conv(torch.cat([zt, zt - z1, z1 - z2], 1)).reshape(N, -1, C, H, W)
            out = out + per_action[torch.arange(N), actions[:, -1]]
        return zt + out
