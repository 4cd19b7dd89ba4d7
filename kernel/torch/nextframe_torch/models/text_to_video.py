"""
The text-to-video spacetime DiT in PyTorch, the twin of kernel/nextframe/models/textToVideo.ts (TextToVideoDiT):
STDiT blocks (factorized spatial then temporal attention, not causal: all frames denoised together; world_model.py's
STDiTBlock) each followed by cross-attention to the caption's token states plus a learned null token, the masked mean
of the token states added to adaLN's c, 3D sin-cos positions from each input's grid. Same parameter names, layouts and
math, so a checkpoint of either engine loads into the other.

Config: the TypeScript TextToVideoConfig as JSON (a card's `config`, camelCase). Its `predict` ("x0" when absent, or
"v": the network's output is v = sqrt(ab) eps - sqrt(1 - ab) x0) does not change the network, only what a trainer
regresses it on and how a sampler reads its output.
Shape letters: N batch, F frames, C latent channels, H/W latent size, p patch size, S spatial tokens per frame,
T = F*S tokens, L caption tokens, D hidden size, Dt text width.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from .dit import FinalLayer, Mlp, TimestepEmbedder
from .gpt import GPT
from .world_model import STDiTBlock, sincos_1d, sincos_3d

CONFIG_KEYS = ["latentChannels", "patchSize", "hiddenSize", "depth", "numHeads", "mlpRatio", "textEncoder", "vocabSize",
               "textLength", "textWidth", "textLayers", "textHeads", "captionDropout", "diffusionSteps", "latentScale"]
NEG = -1e30  # as the TypeScript engine: a finite "minus infinity", so a fully masked row (the null caption) stays finite


def check_config(cfg):
    missing = [k for k in CONFIG_KEYS if k not in cfg]
    if missing:
        raise ValueError(f"TextToVideoDiT: the config lacks {', '.join(missing)}; expected a full TextToVideoConfig (a card's `config`), got keys {sorted(cfg)}")
    if cfg["textEncoder"] not in ("scratch", "gpt"):
        raise ValueError(f"TextToVideoDiT: textEncoder must be \"scratch\" or \"gpt\", got {cfg['textEncoder']!r}")


def attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d) + mask) v with a bool mask (True = attend), masked scores set to NEG."""
    s = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    if mask is not None:
        s = s.masked_fill(~mask, NEG)
    return s.softmax(dim=-1) @ v


class Attention(nn.Module):
    """Self-attention (timm names: qkv, proj) with a key-padding mask."""
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4).unbind(0)
        return self.proj(attention(q, k, v, mask).transpose(1, 2).reshape(B, N, C))


class TextLayer(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = Mlp(width, 4 * width)

    def forward(self, x, mask):
        x = x + self.attn(self.norm1(x), mask)
        return x + self.mlp(self.norm2(x))


class ScratchTextEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.width = cfg["textWidth"]
        self.wte = nn.Embedding(cfg["vocabSize"], cfg["textWidth"])
        self.layers = nn.ModuleList([TextLayer(cfg["textWidth"], cfg["textHeads"]) for _ in range(cfg["textLayers"])])
        self.ln_f = nn.LayerNorm(cfg["textWidth"])

    def forward(self, tokens):
        N, L = tokens.shape
        pos = sincos_1d(self.width, torch.arange(L, dtype=torch.float64)).float().to(tokens.device)
        x = self.wte(tokens) + pos[None]
        mask = (tokens != 0).reshape(N, 1, 1, L)
        for layer in self.layers:
            x = layer(x, mask)
        return self.ln_f(x)


def caption_gpt_config(cfg):
    return {"blockSize": cfg["textLength"], "vocabSize": cfg["vocabSize"], "nLayer": cfg["textLayers"], "nHead": cfg["textHeads"],
            "nEmbd": cfg["textWidth"], "dropout": 0, "bias": True}


class GptTextEncoder(nn.Module):
    """A frozen caption GPT: its last hidden states after ln_f are the caption's token states."""
    def __init__(self, cfg):
        super().__init__()
        self.gpt = GPT(caption_gpt_config(cfg))
        self.gpt.requires_grad_(False)

    def forward(self, tokens):
        tr = self.gpt.transformer
        x = tr.wte(tokens) + tr.wpe(torch.arange(tokens.shape[1], device=tokens.device))
        for block in tr.h:
            x = block(x)
        return tr.ln_f(x)


class CrossAttention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, ctx, mask):
        N, T, D = x.shape
        Lc, h = ctx.shape[1], self.num_heads
        q = self.q(x).reshape(N, T, h, D // h).transpose(1, 2)                          # (N, h, T, d)
        k, v = self.kv(ctx).reshape(N, Lc, 2, h, D // h).permute(2, 0, 3, 1, 4).unbind(0)  # (N, h, L', d)
        return self.proj(attention(q, k, v, mask).transpose(1, 2).reshape(N, T, D))


class TextToVideoBlock(nn.Module):
    def __init__(self, D, num_heads, mlp_ratio):
        super().__init__()
        self.st = STDiTBlock(D, num_heads, "factorized", False, mlp_ratio)
        self.cross_attn = CrossAttention(D, num_heads)

    def forward(self, x, c, f, S, text, mask):
        x = self.st(x, c, f, S)
        return x + self.cross_attn(F.layer_norm(x, (x.shape[-1],), eps=1e-6), text, mask)


def patchify3d(x, p):
    N, Fr, C, H, W = x.shape
    h, w = H // p, W // p
    return x.reshape(N, Fr, 1, C, h, p, w, p).permute(0, 1, 4, 6, 2, 5, 7, 3).reshape(N, Fr * h * w, p * p * C)


def unpatchify3d(x, p, C, grid):
    N = x.shape[0]
    f, h, w = grid
    return x.reshape(N, f, h, w, 1, p, p, C).permute(0, 1, 4, 7, 2, 5, 3, 6).reshape(N, f, C, h * p, w * p)


class TextToVideoDiT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        check_config(cfg)
        self.cfg = dict(cfg)
        D, p, C = cfg["hiddenSize"], cfg["patchSize"], cfg["latentChannels"]
        self.text_encoder = GptTextEncoder(cfg) if cfg["textEncoder"] == "gpt" else ScratchTextEncoder(cfg)
        self.x_embedder = nn.Linear(p * p * C, D)
        self.t_embedder = TimestepEmbedder(D)
        self.y_embedder = nn.Linear(cfg["textWidth"], D)
        self.y_null = nn.Parameter(torch.zeros(1, 1, D))
        self.blocks = nn.ModuleList([TextToVideoBlock(D, cfg["numHeads"], cfg["mlpRatio"]) for _ in range(cfg["depth"])])
        self.final_layer = FinalLayer(D, p, C)
        # adaLN-Zero and a zero cross-attention output: an untrained model predicts 0 and ignores the caption
        for b in self.blocks:
            nn.init.zeros_(b.st.adaLN_modulation[-1].weight); nn.init.zeros_(b.st.adaLN_modulation[-1].bias)
            nn.init.zeros_(b.cross_attn.proj.weight)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].weight); nn.init.zeros_(self.final_layer.adaLN_modulation[-1].bias)
        nn.init.zeros_(self.final_layer.linear.weight); nn.init.zeros_(self.final_layer.linear.bias)
        nn.init.normal_(self.y_null, std=0.02)

    def encode_text(self, tokens):
        N, L = tokens.shape
        D = self.cfg["hiddenSize"]
        states = self.y_embedder(self.text_encoder(tokens))                              # (N, L, D)
        real = (tokens != 0).float()
        pooled = (states * real[:, :, None]).sum(1) / real.sum(1, keepdim=True).clamp(min=1)
        ctx = torch.cat([self.y_null.expand(N, 1, D), states], dim=1)                     # (N, 1 + L, D)
        mask = torch.cat([torch.ones(N, 1, dtype=torch.bool, device=tokens.device), tokens != 0], dim=1).reshape(N, 1, 1, L + 1)
        return ctx, mask, pooled

    def forward(self, x, t, caption):
        """x (N, F, C, H, W) noisy scaled latents, t (N), caption (N, L) long token ids + 1 (0 = padding) -> x0 (N, F, C, H, W)."""
        N, Fr, C, H, W = x.shape
        p, D = self.cfg["patchSize"], self.cfg["hiddenSize"]
        grid = (Fr, H // p, W // p)
        S = grid[1] * grid[2]
        h = self.x_embedder(patchify3d(x, p)) + sincos_3d(D, *grid).to(x.device)
        ctx, mask, pooled = self.encode_text(caption)
        c = self.t_embedder(t) + pooled
        for block in self.blocks:
            h = block(h, c, Fr, S, ctx, mask)
        return unpatchify3d(self.final_layer(h, c), p, C, grid)
