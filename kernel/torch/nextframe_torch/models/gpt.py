"""
Full definition of a GPT Language Model in PyTorch, the twin of kernel/nextframe/models/gpt.ts.

GPT-2: Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"; the code follows
karpathy/nanoGPT model.py. Parameter names copy the GPT-2 checkpoint (transformer.wte, transformer.h.0.attn.c_attn,
...). The head is tied to the token embedding (lm_head = wte^T) and, as on the TypeScript side, is not a separate
entry of the state dict, so the checkpoints of both engines hold the same names.

Config: the TypeScript GPTConfig as JSON (a card's `config`): blockSize, vocabSize, nLayer, nHead, nEmbd, dropout, bias.
Shape letters: B batch, T sequence length, C embedding size, nh heads, hs head size, V vocabulary size.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG_KEYS = ["blockSize", "vocabSize", "nLayer", "nHead", "nEmbd", "dropout", "bias"]


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (PyTorch doesn't support simply bias=False)."""
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        C, nh = config["nEmbd"], config["nHead"]
        if C % nh:
            raise ValueError(f"CausalSelfAttention: nEmbd ({C}) must be divisible by nHead ({nh})")
        # key, query, value projections for all heads, but in a batch
        self.c_attn = nn.Linear(C, 3 * C, bias=config["bias"])
        # output projection
        self.c_proj = nn.Linear(C, C, bias=config["bias"])
        self.n_head = nh

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)     # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)     # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)     # (B, nh, T, hs)
        # causal self-attention written out (torch 1.13 has no scaled_dot_product_attention)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        # the causal mask is made here, not kept as a bool buffer: DDP broadcasts buffers and gloo has no bool
        att = att.masked_fill(torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1), float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)            # re-assemble all head outputs side by side
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config["nEmbd"], 4 * config["nEmbd"], bias=config["bias"])
        self.c_proj = nn.Linear(4 * config["nEmbd"], config["nEmbd"], bias=config["bias"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config["nEmbd"], bias=config["bias"])
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config["nEmbd"], bias=config["bias"])
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        missing = [k for k in CONFIG_KEYS if k not in config]
        if missing:
            raise ValueError(f"GPT: the config lacks {', '.join(missing)}; expected a full GPTConfig (a card's `config`), got keys {sorted(config)}")
        self.config = dict(config)
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config["vocabSize"], config["nEmbd"]),
            wpe=nn.Embedding(config["blockSize"], config["nEmbd"]),
            h=nn.ModuleList([Block(config) for _ in range(config["nLayer"])]),
            ln_f=LayerNorm(config["nEmbd"], bias=config["bias"]),
        ))
        # init all weights: N(0, 0.02), zero biases; residual projections scaled by 1/sqrt(2L), per GPT-2
        for name, p in self.named_parameters():
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            elif "ln_" in name:
                continue
            elif name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config["nLayer"]))
            else:
                nn.init.normal_(p, mean=0.0, std=0.02)

    @property
    def lm_head_weight(self):
        return self.transformer.wte.weight

    def forward(self, idx, targets=None):
        """idx (B, T) token ids -> (logits (B, T, V), mean cross-entropy or None)."""
        B, T = idx.size()
        if T > self.config["blockSize"]:
            raise ValueError(f"GPT.forward: cannot forward sequence of length {T}, block size is only {self.config['blockSize']}")
        pos = torch.arange(0, T, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)           # (B, T, C)
        for block in self.transformer.h:
            x = block(x)
        logits = F.linear(self.transformer.ln_f(x), self.lm_head_weight)    # (B, T, V)
        loss = None if targets is None else F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss
