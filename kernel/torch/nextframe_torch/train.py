"""
Trains one of the course's recipes with PyTorch's distributed engine: the entry point torchrun starts once per
process (`npm run train -- <name> --engine torch` writes the job file and launches it; kernel/train/torch.ts).

    python3 -m nextframe_torch.launch --standalone --nproc_per_node 2 -m nextframe_torch.train --job JOB.json
    (nextframe_torch.launch is torchrun, python3 -m torch.distributed.run, with a fix for torch 1.13 on Python 3.11)

One process per device (DistributedDataParallel: gloo on CPU, nccl on CUDA). Every rank draws the same global batch
from one seeded generator and trains on its slice of it, so N processes with B/N samples each take the same steps
as one process with B (DDP averages the gradients; the mean of the ranks' mean losses is the global mean loss).
Rank 0 writes the checkpoint the TypeScript kernel loads unchanged, atomically (temp file + rename):
<name>.safetensors (the same state-dict names as the TypeScript model), <name>.json (the card: config, recipe,
engine, world size, device, wall time) and <name>.torch-state.pt (optimizer moments, step, generator state) to resume.

The job file (JSON) names: name, model ("WorldModel", "Autoencoder", "GPT" or "TextToVideoDiT"), config (the
TypeScript config, a card's `config`), freshLatentScale, recipe (the TypeScript recipe object, course/recipes.ts, as
is: one source of truth), steps, batchSize (global), lr, seed, data (a folder from `npm run data`), autoencoder
({card, weights}, the world and text-to-video models'), out, resume, device, saveEvery, logEvery, stopAt (end this
run after that step, checkpointed; --resume continues), textToVideo ({trainingShapes}, from course/textToVideo.ts).

Every recipe option and config field must be one this file knows (Recipe.options, Recipe.config_fields): an option the
TypeScript recipes gain later makes the trainer refuse, naming it, instead of silently training something else
(`--check` validates a job without training; kernel/train/torch.ts runs it before torchrun).

The recipes are the TypeScript trainers' (kernel/nextframe/course/: recipes.ts, tinyGpt.ts, autoencoder.ts, worldModelTraining.ts), each a class below:
  WorldModel   trainWorldModel: latents of the training clips from the autoencoder, divided by their std
               (latentScale); each sample a random clip and target frame with the config's context window before it,
               the target noised at a random diffusion step (x0 prediction, MSE); AdamW wd 0, gradient norm clipped
               at 1, cosine schedule with min(100, steps/10) warm-up steps down to lr/10. A caption-conditioned
               config (captionVocab > 0) trains on the clips' caption tokens, 10 % dropped to the null caption.
  Autoencoder  trainAutoencoder: random frames of random clips, reconstruction MSE; AdamW wd 0, no clipping, warm-up
               min(50, steps/10), down to lr/20.
  GPT          trainTinyGpt: blockSize-token windows from random episode starts, next-token cross-entropy; AdamW wd 0.01,
               clip 1, warm-up min(50, steps/10), down to lr/10.
  TextToVideoDiT  trainTextToVideo (course/textToVideo.ts): the training set `npm run data -- text-to-video` wrote
               (held-out pairs dropped, weak captions recaptioned), its latents divided by their std; with the "gpt"
               text encoder first the caption GPT (gptSteps steps of next-word prediction on the training captions,
               batch 32, AdamW 3e-3 constant, clip 1), then frozen; then the DiT: x0 prediction (MSE) of whole noised
               clips, the clip shape cycling through TRAINING_SHAPES step by step (16 frames, 8 at half the frame
               rate, 16 wide), captions dropped to the null caption with the config's captionDropout (classifier-free
               guidance); AdamW wd 0 on the trainable parameters, clip 1, warm-up min(100, steps/10), down to lr/10.
  WorldModel's options: `world` (the data must be of that video world: npm run data -- play-world for "play"),
               `motion` (motion-weighted MSE: latent values whose true change exceeds `threshold` weigh 1 + `weight`).
Initial weights follow each model's init rules with torch's generator (not the TypeScript generator's numbers), and
batches come from torch's generator: the two engines train the same recipe, not the same random draws.
"""
import argparse
import collections
import hashlib
import inspect
import json
import math
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

from . import safetensors_io as st
from .data import ShardedClips, TextStreams
from .diffusion import alphas_cumprod, training_coefficients
from .models.autoencoder import Autoencoder, frames_to_tensor
from .models.gpt import GPT
from .models.text_to_video import TextToVideoDiT, caption_gpt_config
from .models.world_model import WorldModel, window_frames

NOOP = 0  # Action.Noop: the action of a clip's first frame


# ───────────────────────────── the recipe's pieces ─────────────────────────────

def cosine_lr(step, warmup, total, max_lr, min_lr):
    """cosineSchedule of the TypeScript optimiser: linear warm-up over `warmup` steps (may be fractional; never above
    max_lr), cosine to min_lr."""
    if step < warmup:
        return min(max_lr, max_lr * (step + 1) / warmup)
    if step >= total:
        return min_lr
    t = (step - warmup) / max(1, total - warmup)
    return min_lr + 0.5 * (max_lr - min_lr) * (1 + math.cos(math.pi * t))


def context_offsets(cfg):
    """How far before the target each input frame of the window sits: memory frames (oldest first), then K .. 1."""
    return list(cfg["memoryFrames"]) + list(range(cfg["contextFrames"], 0, -1))


@torch.no_grad()
def encode_clips(ae, ds, device, chunk=512):
    """Latents of every clip, (N, T, C, h, w) float32, encoded in chunks of frames read from the memory-mapped shards."""
    out = []
    for frames in ds.all_frames():                              # (n, T, S, S, 3) uint8, mapped
        n, T = frames.shape[:2]
        flat = frames.reshape(n * T, *frames.shape[2:])
        zs = [ae.encode(frames_to_tensor(flat[i:i + chunk]).to(device)).cpu() for i in range(0, n * T, chunk)]
        out.append(torch.cat(zs).reshape(n, T, *zs[0].shape[1:]))
    return torch.cat(out)


def latent_std(z):
    """Std of all latent values, as latentStd (sqrt(E[z^2] - E[z]^2), accumulated in float64)."""
    z = z.double()
    return math.sqrt((z * z).mean().item() - z.mean().item() ** 2)


CAPTION_DROPOUT = 0.1  # share of training windows whose caption becomes the null caption (classifier-free guidance)


class WorldModelBatches:
    """worldModelBatch: the global batch from one generator (identical on every rank), of which a rank takes its slice.
    A caption-conditioned model (captionVocab > 0) also gets each clip's caption tokens, dropped to the null caption
    (all padding) with probability CAPTION_DROPOUT."""
    def __init__(self, cfg, latents, actions, seed, captions=None, motion=None):
        self.cfg, self.latents, self.actions = cfg, latents, actions   # (N, T, C, h, w) scaled, (N, T) long
        self.captions = captions                                       # (N, L) long, or None
        self.motion = motion                                           # {weight, threshold} or None
        self.sa, self.s1 = (torch.tensor(v, dtype=torch.float64) for v in training_coefficients(cfg["diffusionSteps"]))
        self.offsets = torch.tensor(context_offsets(cfg))
        self.g = torch.Generator().manual_seed(seed)

    def next(self, B):
        cfg, z = self.cfg, self.latents
        N, T = z.shape[:2]
        K, Fr = cfg["contextFrames"], window_frames(cfg)
        g = self.g
        clip = torch.randint(N, (B,), generator=g)
        tgt = K + torch.randint(T - K, (B,), generator=g)
        t = torch.randint(cfg["diffusionSteps"], (B,), generator=g)
        ctx_noise = torch.randn((B, Fr - 1) + tuple(z.shape[2:]), generator=g)
        tgt_noise = torch.randn((B,) + tuple(z.shape[2:]), generator=g)
        frames = torch.cat([(tgt[:, None] - self.offsets[None]).clamp(min=0), tgt[:, None]], 1)   # (B, Fr): windowFrameIndices
        window = z[clip[:, None], frames]                                                          # (B, Fr, C, h, w)
        target = window[:, -1].clone()
        sd = torch.full((Fr - 1,), float(cfg["contextNoise"]))
        if cfg["residual"]:
            sd[-1] = 0.0                                   # the last context frame stays clean: a residual model adds to it
        sd = sd.view(1, -1, 1, 1, 1).repeat(B, 1, 1, 1, 1)
        last_noise = float(cfg.get("lastContextNoise", 0))
        if last_noise > 0 and cfg["residual"]:             # ... unless it draws a level of its own, uniform in [0, max]
            sd[:, -1] = last_noise * torch.rand(B, generator=g).view(-1, 1, 1, 1)
        levels = int(cfg.get("contextNoiseLevels", 0))
        if levels > 0:                                     # GameNGen: one level per window, the same std on every context frame
            level = torch.randint(levels, (B,), generator=g)
            sd = (float(cfg["contextNoiseMax"]) * level.double() / (levels - 1)).float().view(-1, 1, 1, 1, 1).expand(B, Fr - 1, 1, 1, 1)
        x = window.clone()
        x[:, :-1] += sd * ctx_noise
        sa, s1 = self.sa[t].view(-1, 1, 1, 1), self.s1[t].view(-1, 1, 1, 1)
        d = float(cfg.get("deltaStd", 0))
        if d > 0:   # noisyNextLatent: the diffusion on the change from the last (clean) context latent
            last = x[:, -2].double()
            x[:, -1] = (last + sa * (target.double() - last) + s1 * d * tgt_noise.double()).float()
        else:
            x[:, -1] = (sa * target.double() + s1 * tgt_noise.double()).float()
        prev = (frames - 1).clamp(min=0)
        a = torch.where(frames > 0, self.actions[clip[:, None], prev], torch.full_like(frames, NOOP))  # frameActions
        if levels > 0:
            return x, t.float(), a, target, level
        if self.motion is not None and self.motion["weight"] > 0:   # MotionWeighting: the true change from frame tgt − 1
            moved = (target - z[clip, tgt - 1]).abs() > self.motion["threshold"]
            return x, t.float(), a, target, 1 + self.motion["weight"] * moved.float()
        if self.cfg["captionVocab"] == 0:
            return x, t.float(), a, target
        keep = (torch.rand(B, generator=g) >= CAPTION_DROPOUT).long()
        return x, t.float(), a, target, self.captions[clip] * keep[:, None]


class NextFrameLoss(nn.Module):
    """What DDP wraps: the MSE of the world model's next-latent prediction (DDP hooks forward, not predict_next)."""
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, t, a, target, caption=None):
        return F.mse_loss(self.model.predict_next(x, t, a, caption), target)


class LeveledNextFrameLoss(nn.Module):
    """The MSE with the context's noise level told to the model (config contextNoiseLevels > 0)."""
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, t, a, target, level):
        return F.mse_loss(self.model.predict_next(x, t, a, None, level), target)


class WeightedNextFrameLoss(nn.Module):
    """The motion-weighted loss (worldModelTraining.ts MotionWeighting): mean of w · (prediction − target)²."""
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, t, a, target, weight):
        return ((self.model.predict_next(x, t, a) - target) ** 2 * weight).mean()


# ───────────────────────────── checkpoints ─────────────────────────────

def write_json_atomic(path, value):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_torch_atomic(obj, path):
    tmp = f"{path}.{os.getpid()}.tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def paths(job):
    base = os.path.join(job["out"], job["name"])
    return base + ".safetensors", base + ".json", base + ".torch-state.pt"


def count_parameters(model):
    """As the TypeScript card counts: every tensor of the state dict (the world model's fixed pos_embed included)."""
    return sum(v.numel() for v in model.state_dict().values())


# ───────────────────────────── training ─────────────────────────────

def log(rank, line):
    if rank == 0:
        print(line, flush=True)


def setup(job):
    """(rank, world size, device): the process group from torchrun's environment (one process without it)."""
    ws = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if job["device"] == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda: torch.cuda.is_available() is False on this machine; use --device cpu or a CUDA build of PyTorch")
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    elif job["device"] == "cpu":
        device = torch.device("cpu")
    else:
        raise ValueError(f"device must be cpu or cuda, got {job['device']!r}")
    if "WORLD_SIZE" in os.environ:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return rank, ws, device


# What the trainer does with each recipe option (course/recipes.ts): "train" (used here), "data" (names the data
# `npm run data` writes; checked against the data's index where it can be), "eval" (the TypeScript evaluation after
# training uses it: sampler settings, validation clips), "engine" (the TypeScript engine's own setting, e.g. its thread
# count; --threads sets torch's).
COMMON_OPTIONS = {"config": "train", "seed": "train", "steps": "train", "batchSize": "train", "lr": "train", "dataSeed": "data",
                  "numTrain": "data", "numVal": "eval"}


# The config fields each trainer knows (the TypeScript config's, camelCase), with the values it can train: None for any
# value the twin accepts, else (test, what it accepts). Written out here rather than taken from the twins: a field the
# TypeScript config gains later may need the batches or the loss to change too, so it is refused until this file says.
ANY = None


def twin_has_levels():
    """Whether the world-model twin takes a context-noise level (config contextNoiseLevels > 0)."""
    return "level" in inspect.signature(WorldModel.predict_next).parameters


WM_CONFIG = {**{k: ANY for k in ["contextFrames", "latentChannels", "latentSize", "patchSize", "hiddenSize", "depth", "numHeads", "mlpRatio",
                                  "numActions", "diffusionSteps", "latentScale", "contextNoise", "residual", "localPath", "captionVocab",
                                  "memoryFrames", "deltaStd", "lastContextNoise"]},
             "attention": (lambda v: v in ("factorized", "full"), '"factorized" or "full"'),
             # GameNGen's noise levels: a level embedding in the network (the twin's `level`) and a level per window here
             "contextNoiseLevels": (lambda v: v == 0 or twin_has_levels(), "0 (off): this PyTorch twin has no context-noise levels"),
             "contextNoiseMax": ANY}
T2V_CONFIG = {**{k: ANY for k in ["latentChannels", "patchSize", "hiddenSize", "depth", "numHeads", "mlpRatio", "textEncoder", "vocabSize",
                                   "textLength", "textWidth", "textLayers", "textHeads", "captionDropout", "diffusionSteps", "latentScale"]},
              "predict": (lambda v: v in ("x0", "v", "epsilon"), '"x0", "v" or "epsilon"')}
GPT_CONFIG = {k: ANY for k in ["blockSize", "vocabSize", "nLayer", "nHead", "nEmbd", "dropout", "bias"]}


class Recipe:
    """What differs between the models: data, model, loss (a module DDP can wrap), schedule and card fields."""
    model_name = ""
    warmup_cap = 100          # warm-up steps: min(warmup_cap, steps / 10), as the TypeScript trainers
    min_lr_ratio = 10         # the cosine ends at lr / min_lr_ratio
    weight_decay = 0.0
    clip_norm = 1.0           # None: no clipping
    final_loss_window = 1     # the card's finalTrainLoss: the mean global loss of the last N steps (1: the last logged)
    options = COMMON_OPTIONS  # the recipe options this trainer knows (see COMMON_OPTIONS)
    config_fields = None      # the config fields it knows (WM_CONFIG ...); None: the twin checks its config itself

    def prepare(self, job, cfg, device, log):
        """Loads the data; may fill config fields measured on it (the world model's latentScale). Returns cfg."""
        return cfg

    def build(self, cfg):
        raise NotImplementedError

    def loss_module(self, model):
        raise NotImplementedError

    def next_batch(self, B, step):
        """The next global batch (every rank draws the same), a tuple of tensors with the batch first."""
        raise NotImplementedError

    def pretrain(self, model, device, rank, ws, log):
        """Training that comes before the main loop in a fresh run (the text-to-video model's caption GPT); card fields."""
        return {}

    def resumed_fields(self, old_card):
        """Card fields of a pretraining a resumed run does not repeat, carried over from the checkpoint's card."""
        return {}

    def trainable(self, model):
        return [p for p in model.parameters() if p.requires_grad]

    def param_groups(self, model, job):
        """AdamW's parameter groups: every trainable parameter, decayed by weight_decay."""
        return [{"params": self.trainable(model), "weight_decay": self.weight_decay}]

    def card_fields(self, job):
        return {}


def check_world(job, index):
    """A world-model recipe trains in its `world` (default "default"): the data must be clips of that video world."""
    want, have = job["recipe"].get("world", "default"), index.get("videoWorld", "default")
    if want != have:
        hint = "npm run data -- play-world" if want == "play" else "npm run data -- video-world"
        raise SystemExit(f"nextframe_torch.train: {job['data']} holds clips of the {have!r} video world; the {job['name']} recipe trains in the {want!r} world (write its data with {hint})")


def check_job(job):
    """Refuses a job whose recipe option or config field this trainer does not know, naming it (see Recipe.options)."""
    model = job.get("model")
    if model not in RECIPES:
        raise SystemExit(f"nextframe_torch.train: model {model!r} has no PyTorch trainer; expected one of {', '.join(RECIPES)}")
    cls = RECIPES[model]
    unknown = [k for k in job.get("recipe", {}) if k not in cls.options]
    if unknown:
        k = unknown[0]
        raise SystemExit(f"nextframe_torch.train: the {job.get('name')} recipe has option {k!r} ({json.dumps(job['recipe'][k])}), which the "
                         f"PyTorch {model} trainer does not know; it knows {', '.join(sorted(cls.options))}. Teach "
                         f"kernel/torch/nextframe_torch/train.py ({cls.__name__}) what {k!r} means before training this recipe with --engine torch")
    fields = cls.config_fields
    for k, v in (job.get("config", {}).items() if fields is not None else ()):
        if k not in fields:
            raise SystemExit(f"nextframe_torch.train: the {job.get('name')} config has field {k!r} ({json.dumps(v)}), which the "
                             f"PyTorch {model} trainer does not know; teach kernel/torch/nextframe_torch/train.py (and the twin, if the network changes) what it means before training with --engine torch")
        if fields[k] is not None and not fields[k][0](v):
            raise SystemExit(f"nextframe_torch.train: the {job.get('name')} config has {k} = {json.dumps(v)}; the PyTorch {model} trainer trains {fields[k][1]}")
    index_path = os.path.join(job.get("data") or "", "index.json")
    if model == "WorldModel" and job.get("data") and os.path.exists(index_path):   # the data's world, before any process starts
        with open(index_path) as f:
            check_world(job, json.load(f))
    over = job.get("recipe", {}).get("configOverrides") or {}
    wrong = [k for k, v in over.items() if job.get("config", {}).get(k) != v]
    if wrong and not job.get("resume"):
        raise SystemExit(f"nextframe_torch.train: the recipe's configOverrides set {wrong[0]} = {json.dumps(over[wrong[0]])} but the job's config has "
                         f"{json.dumps(job['config'].get(wrong[0]))} (kernel/train/torch.ts applies them)")
    if model == "WorldModel" and job["config"].get("contextNoiseLevels", 0) > 0:
        if job["config"].get("captionVocab", 0) > 0 or job.get("recipe", {}).get("motion"):
            raise SystemExit("nextframe_torch.train: context-noise levels (config contextNoiseLevels) train without captions and without the motion-weighted loss")
    motion = job.get("recipe", {}).get("motion")
    if motion is not None and model == "WorldModel":
        if not (motion.get("weight", -1) >= 0 and motion.get("threshold", 0) > 0):
            raise SystemExit(f"nextframe_torch.train: motion needs weight >= 0 and threshold > 0, got {json.dumps(motion)}")
        if job["config"].get("captionVocab", 0) > 0:
            raise SystemExit("nextframe_torch.train: the motion-weighted loss is for action-conditioned models; this one is caption-conditioned")


class WorldModelRecipe(Recipe):
    """trainWorldModel: latents of the clips, x0 prediction of a noised target frame, AdamW wd 0, clip 1, lr/10."""
    model_name = "WorldModel"
    options = {**COMMON_OPTIONS, "world": "data", "motion": "train", "samplingSteps": "eval", "actionGuidance": "eval", "contextLevel": "eval"}
    config_fields = WM_CONFIG

    def prepare(self, job, cfg, device, log):
        ds = ShardedClips(job["data"])           # the clips from `npm run data`, encoded by the TypeScript-trained autoencoder
        check_world(job, ds.index)
        ae = load_autoencoder(job, device)
        t0 = time.perf_counter()
        raw = encode_clips(ae, ds, device)
        if job.get("freshLatentScale") and not job.get("resume"):
            cfg["latentScale"] = latent_std(raw)
        latents = raw / cfg["latentScale"]
        actions = torch.stack([torch.from_numpy(ds.actions(i).astype("int64")) for i in range(len(ds))])
        captions = None
        if cfg["captionVocab"] > 0:
            if ds.index.get("captionVocab") != cfg["captionVocab"]:
                raise ValueError(f"{job['data']}: caption vocabulary {ds.index.get('captionVocab')}; the config expects captionVocab {cfg['captionVocab']} (rewrite the data with npm run data)")
            captions = torch.stack([torch.from_numpy(ds.caption_tokens(i).astype("int64")) for i in range(len(ds))])
        log(f"{len(ds)} clips encoded in {time.perf_counter() - t0:.1f} s; latentScale {cfg['latentScale']:.6f}")
        self.motion = job["recipe"].get("motion")
        self.batches = WorldModelBatches(cfg, latents, actions, job["seed"], captions, self.motion)
        return cfg

    def build(self, cfg):
        return WorldModel(cfg)

    def loss_module(self, model):
        if model.cfg.get("contextNoiseLevels", 0) > 0:
            return LeveledNextFrameLoss(model)
        return WeightedNextFrameLoss(model) if self.motion is not None and self.motion["weight"] > 0 else NextFrameLoss(model)

    def next_batch(self, B, step):
        return self.batches.next(B)

    def card_fields(self, job):
        return {"autoencoder": "autoencoder"}


class ReconstructionLoss(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)[1]


class AutoencoderRecipe(Recipe):
    """trainAutoencoder: random frames of random clips in [-1, 1], reconstruction MSE, AdamW wd 0, no clipping, lr/20."""
    model_name = "Autoencoder"
    options = {**COMMON_OPTIONS}
    warmup_cap = 50
    min_lr_ratio = 20
    clip_norm = None

    def prepare(self, job, cfg, device, log):
        self.ds = ShardedClips(job["data"])
        self.frames = self.ds.all_frames()       # per shard (n, T, S, S, 3), memory-mapped
        self.g = torch.Generator().manual_seed(job["seed"])
        log(f"{len(self.ds)} clips of {self.ds.index['frames']} frames")
        return cfg

    def build(self, cfg):
        return Autoencoder(cfg)

    def loss_module(self, model):
        return ReconstructionLoss(model)

    def next_batch(self, B, step):
        clip = torch.randint(len(self.ds), (B,), generator=self.g)
        t = torch.randint(self.ds.index["frames"], (B,), generator=self.g)
        rows = []
        for c, f in zip(clip.tolist(), t.tolist()):
            k, j = self.ds.locate(c)
            rows.append(self.frames[k][j, f])    # (S, S, 3) view of the mapped file
        return (frames_to_tensor(np.stack(rows)),)


class GPTLoss(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, y):
        return self.model(x, y)[1]


class GPTRecipe(Recipe):
    """trainTinyGpt: windows of blockSize tokens starting at random episodes, next-token cross-entropy, AdamW with the
    recipe's weightDecay on weights of >= 2 dimensions only (nanoGPT's configure_optimizers, the TypeScript
    optim.decayGroups), clip 1, lr/10."""
    model_name = "GPT"
    options = {**{k: v for k, v in COMMON_OPTIONS.items() if k != "config"}, "weightDecay": "train"}
    config_fields = GPT_CONFIG
    warmup_cap = 50

    def param_groups(self, model, job):
        params = self.trainable(model)
        wd = job["recipe"]["weightDecay"]
        return [{"params": [p for p in params if p.dim() >= 2], "weight_decay": wd},
                {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]

    def prepare(self, job, cfg, device, log):
        self.text = TextStreams(job["data"])
        if self.text.vocab_size != cfg["vocabSize"]:
            raise ValueError(f"{job['data']}: vocabulary of {self.text.vocab_size} words; the config expects vocabSize {cfg['vocabSize']}")
        self.stream = torch.from_numpy(np.asarray(self.text.train, dtype=np.int64))
        self.starts = torch.from_numpy(np.asarray(self.text.train_starts, dtype=np.int64))
        self.T = cfg["blockSize"]
        self.g = torch.Generator().manual_seed(job["seed"])
        log(f"text world: {len(self.starts)} episodes, {len(self.stream)} tokens, vocab {self.text.vocab_size}")
        return cfg

    def build(self, cfg):
        return GPT(cfg)

    def loss_module(self, model):
        return GPTLoss(model)

    def next_batch(self, B, step):
        s = self.starts[torch.randint(len(self.starts), (B,), generator=self.g)]
        pos = (s[:, None] + torch.arange(self.T + 1)[None]) % len(self.stream)     # windows wrap at the end (textBatch)
        w = self.stream[pos]
        return w[:, :-1], w[:, 1:]

    def card_fields(self, job):
        return {"vocab": self.text.vocab}


def load_autoencoder(job, device):
    """The autoencoder the job names (the TypeScript-trained checkpoint), in eval mode on the device."""
    with open(job["autoencoder"]["card"]) as f:
        ae = Autoencoder(json.load(f)["config"])
    ae.load_state_dict(st.load(job["autoencoder"]["weights"]), strict=True)
    return ae.to(device).eval()


class TextToVideoLoss(nn.Module):
    """MSE of the output against the config's prediction target, each clip's error scaled by sw (sqrt of its loss weight)."""
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, t, y, target, sw):
        return F.mse_loss(self.model(x, t, y) * sw, target * sw)


def min_snr_weight(predict, alpha_bar, gamma):
    """minSnrWeight (course/textToVideo.ts): min(SNR, γ) over the x0-error weight the plain loss on `predict` has (x0: 1, v: SNR + 1, ε: SNR)."""
    snr = alpha_bar / (1 - alpha_bar)
    w = torch.clamp(snr, max=gamma)
    return w if predict == "x0" else w / (snr + 1) if predict == "v" else w / snr


CAPTION_GPT_BATCH, CAPTION_GPT_LR = 32, 3e-3   # trainCaptionGpt's defaults (batch 32, AdamW 3e-3 constant, wd 0, clip 1)


class TextToVideoRecipe(Recipe):
    """trainTextToVideo: the caption GPT (frozen afterwards), then the DiT over the cycling clip shapes (see the top)."""
    model_name = "TextToVideoDiT"
    options = {**{k: v for k, v in COMMON_OPTIONS.items() if k != "numVal"}, "configOverrides": "train", "gptSteps": "train", "minSnrGamma": "train",
               "threads": "engine", "sampling": "eval", "eval": "eval"}
    config_fields = T2V_CONFIG
    final_loss_window = 100   # the TypeScript card's finalTrainLoss: the mean of the last 100 steps

    def prepare(self, job, cfg, device, log):
        ds = ShardedClips(job["data"])
        t2v = ds.index.get("textToVideo")
        if ds.index.get("world") != "text-to-video" or t2v is None:
            raise ValueError(f"{job['data']}: {ds.index.get('world')} clips; the text-to-video recipe needs npm run data -- text-to-video (the training set with its recaptioned captions)")
        shapes = (job.get("textToVideo") or {}).get("trainingShapes")
        if not shapes:
            raise ValueError("the job names no textToVideo.trainingShapes (kernel/train/torch.ts passes course/textToVideo.ts TRAINING_SHAPES)")
        self.shapes = shapes
        with open(job["autoencoder"]["weights"], "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        if sha != t2v["autoencoderSha256"]:
            raise ValueError(f"{job['data']}: recaptioned with another autoencoder (sha256 {t2v['autoencoderSha256'][:12]}…) than {job['autoencoder']['weights']} ({sha[:12]}…); rewrite it with npm run data -- text-to-video --autoencoder DIR")
        arr = lambda k: np.load(os.path.join(job["data"], t2v["arrays"][k]["file"]), mmap_mode="r")
        mask, tokens = np.asarray(arr("trainMask")).astype(bool), arr("trainCaptions")
        if tokens.shape[1] != cfg["textLength"] or ds.index["captionVocab"] + 1 != cfg["vocabSize"]:
            raise ValueError(f"{job['data']}: captions of {tokens.shape[1]} tokens from a vocabulary of {ds.index['captionVocab']}; the config expects textLength {cfg['textLength']}, vocabSize {cfg['vocabSize']} (= vocabulary + 1)")
        keep = np.flatnonzero(mask)
        ae = load_autoencoder(job, device)
        t0 = time.perf_counter()
        with torch.no_grad():
            raw = torch.stack([ae.encode(frames_to_tensor(np.asarray(ds.frames(int(i)))).to(device)).cpu() for i in keep])   # (n, T, C, h, w)
        if job.get("freshLatentScale") and not job.get("resume"):
            cfg["latentScale"] = latent_std(raw)
        self.latents = raw / cfg["latentScale"]
        self.captions = torch.from_numpy(np.asarray(tokens[keep], dtype=np.int64))
        self.sa, self.s1 = (torch.tensor(v, dtype=torch.float64) for v in training_coefficients(cfg["diffusionSteps"]))
        self.alpha_bar = torch.tensor(alphas_cumprod(cfg["diffusionSteps"]), dtype=torch.float64)
        self.min_snr = job["recipe"].get("minSnrGamma")
        self.cfg, self.seed, self.gpt_steps = cfg, job["seed"], job["recipe"].get("gptSteps", 600)
        self.data_fields = {k: t2v[k] for k in ("clips", "droppedHeldout", "recaptioned", "recaptionExact", "recaptionF1")}
        self.pre = {}
        self.g = torch.Generator().manual_seed(job["seed"])
        log(f"{len(keep)} training clips of {len(ds)} ({t2v['droppedHeldout']} dropped for held-out combinations, {t2v['recaptioned']} recaptioned) "
            f"encoded in {time.perf_counter() - t0:.1f} s; latentScale {cfg['latentScale']:.6f}")
        return cfg

    def build(self, cfg):
        return TextToVideoDiT(cfg)

    def pretrain(self, model, device, rank, ws, log):
        """trainCaptionGpt: next-word prediction on the training captions ([w1..wL] -> [w2..wL, 0]), then frozen into the model."""
        if self.cfg["textEncoder"] != "gpt":
            return {}
        if CAPTION_GPT_BATCH % ws:
            raise ValueError(f"the caption GPT's batch ({CAPTION_GPT_BATCH}) must divide evenly over {ws} processes")
        per = CAPTION_GPT_BATCH // ws
        torch.manual_seed(self.seed + 1)
        gpt = GPT(caption_gpt_config(self.cfg)).to(device)
        loss_fn = GPTLoss(gpt)
        ddp = DDP(loss_fn, device_ids=[device.index] if device.type == "cuda" else None) if dist.is_initialized() else loss_fn
        opt = torch.optim.AdamW(gpt.parameters(), lr=CAPTION_GPT_LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        g = torch.Generator().manual_seed(self.seed + 1)
        toks = self.captions
        y_all = torch.cat([toks[:, 1:], torch.zeros_like(toks[:, :1])], 1)
        losses, t0 = [], time.perf_counter()
        for _ in range(self.gpt_steps):
            c = torch.randint(len(toks), (CAPTION_GPT_BATCH,), generator=g)[rank * per:(rank + 1) * per]
            opt.zero_grad(set_to_none=True)
            loss = ddp(toks[c].to(device), y_all[c].to(device))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(gpt.parameters(), 1.0)
            opt.step()
            losses.append(loss.detach())
        last = torch.stack(losses[-50:]).mean() if losses else torch.tensor(float("nan"))
        if dist.is_initialized():
            dist.all_reduce(last)
            last /= ws
        seconds = time.perf_counter() - t0
        model.text_encoder.gpt.load_state_dict(gpt.state_dict())
        model.text_encoder.gpt.requires_grad_(False)
        log(f"caption GPT: {self.gpt_steps} steps in {seconds:.1f} s, loss {last.item():.4f} (mean of the last 50); frozen into the text encoder")
        self.pre = {"gptSeconds": seconds, "captionGptLoss": last.item()}
        return self.pre

    def resumed_fields(self, old_card):
        self.pre = {k: old_card[k] for k in ("gptSeconds", "captionGptLoss") if k in old_card}
        return self.pre

    def loss_module(self, model):
        return TextToVideoLoss(model)

    def next_batch(self, B, step):
        """trainTextToVideo's batch at `step`: its clip shape, random clips and diffusion steps, captions dropped to ∅."""
        shape = self.shapes[step % len(self.shapes)]
        Fr, (r0, r1), w = shape["frames"], shape["rows"], shape["width"]
        z, g = self.latents, self.g
        T = z.shape[1]
        stride = max(1, T // Fr)                      # 8 frames of a 16-frame clip: every other frame
        clip = torch.randint(len(z), (B,), generator=g)
        t = torch.randint(self.cfg["diffusionSteps"], (B,), generator=g)
        target = z[clip][:, 0:Fr * stride:stride, :, r0:r1, 0:w]      # (B, Fr, C, h, w)
        noise = torch.randn(target.shape, generator=g)
        sa, s1 = self.sa[t].view(-1, 1, 1, 1, 1), self.s1[t].view(-1, 1, 1, 1, 1)
        x0, e = target.double(), noise.double()
        x = (sa * x0 + s1 * e).float()
        predict = self.cfg.get("predict", "x0")        # what the network outputs: the clean latent, v or the noise
        want = x0 if predict == "x0" else sa * e - s1 * x0 if predict == "v" else e
        keep = (torch.rand(B, generator=g) >= self.cfg["captionDropout"]).long()
        sw = torch.ones(B, dtype=torch.float64) if not self.min_snr else min_snr_weight(predict, self.alpha_bar[t], self.min_snr).sqrt()
        return x, t.float(), self.captions[clip] * keep[:, None], want.float().contiguous(), sw.float().view(-1, 1, 1, 1, 1)

    def card_fields(self, job):
        return {"autoencoder": "autoencoder", "data": self.data_fields, **self.pre}


RECIPES = {"WorldModel": WorldModelRecipe, "Autoencoder": AutoencoderRecipe, "GPT": GPTRecipe, "TextToVideoDiT": TextToVideoRecipe}


def train(job, rank, ws, device):
    wall0 = time.perf_counter()
    check_job(job)
    recipe = RECIPES[job["model"]]()
    name, steps, B = job["name"], job["steps"], job["batchSize"]
    if B % ws:
        raise ValueError(f"the global batch ({B}) must divide evenly over {ws} processes; pass --batch-size a multiple of {ws}")
    per = B // ws
    weights_path, card_path, state_path = paths(job)
    cfg = dict(job["config"])
    resumed, state = None, None
    if job.get("resume"):
        if not os.path.exists(weights_path):
            raise FileNotFoundError(f"--resume: {weights_path} does not exist; train it first (either engine) or drop --resume")
        with open(card_path) as f:
            old = json.load(f)
        if old.get("model") != recipe.model_name:
            raise ValueError(f"--resume: {card_path} is a {old.get('model')} checkpoint; expected {recipe.model_name}")
        cfg = dict(old["config"])
        check_job({**job, "config": cfg, "name": f"{job['name']} checkpoint's"})   # its config may hold fields this trainer does not know
        resumed = {"engine": old.get("engine", "ts"), "steps": old.get("steps")}
        if old.get("engine") == "torch" and os.path.exists(state_path):
            state = torch.load(state_path, map_location="cpu")
            if state["steps"] != steps or state["batchSize"] != B:
                log(rank, f"[{name}] {state_path} was for {state['steps']} steps at batch {state['batchSize']}; resuming the weights with a fresh optimizer")
                state = None

    cfg = recipe.prepare(job, cfg, device, lambda line: log(rank, f"[{name}] {line}"))
    log(rank, f"[{name}] {ws} process{'es' if ws > 1 else ''} × {per} = batch {B} on {device.type}")
    torch.manual_seed(job["seed"])
    model = recipe.build(cfg)
    if resumed:
        model.load_state_dict(st.load(weights_path), strict=True)
    model = model.to(device)
    if resumed:
        recipe.resumed_fields(old)
    else:
        recipe.pretrain(model, device, rank, ws, lambda line: log(rank, f"[{name}] {line}"))
    loss_fn = recipe.loss_module(model)
    ddp = DDP(loss_fn, device_ids=[device.index] if device.type == "cuda" else None) if dist.is_initialized() else loss_fn
    lr = job["lr"]
    warmup = min(recipe.warmup_cap, steps / 10)
    params = recipe.trainable(model)
    opt = torch.optim.AdamW(recipe.param_groups(model, job), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    start, prior_seconds = 0, 0.0
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        recipe_generator(recipe).set_state(state["generator"])
        start, prior_seconds = state["step"], state.get("seconds", 0.0)
        log(rank, f"[{name}] resuming a torch run at step {start}/{steps}")
    elif resumed:
        log(rank, f"[{name}] starting from the {resumed['engine']} checkpoint's weights ({resumed['steps']} steps), fresh optimizer")

    recent = collections.deque(maxlen=recipe.final_loss_window)   # this rank's last losses (detached)

    def final_loss(losses):
        if recipe.final_loss_window == 1 or not recent:
            return losses[-1] if losses else None
        m = torch.stack(list(recent)).mean()
        if dist.is_initialized():
            dist.all_reduce(m)                               # every rank calls save(): the mean of the ranks' means
            m /= ws
        return m.item()

    def save(step, losses, seconds):
        final = final_loss(losses)
        if rank != 0:
            return
        seconds += prior_seconds                             # a resumed torch run counts the time before it too
        st.save(model.state_dict(), weights_path, {"format": "pt", "model": recipe.model_name})
        save_torch_atomic({"optimizer": opt.state_dict(), "generator": recipe_generator(recipe).get_state(), "step": step, "steps": steps,
                           "batchSize": B, "seconds": seconds}, state_path)
        card = {
            "name": name, "model": recipe.model_name, "config": cfg, "dataSeed": job["recipe"]["dataSeed"], "steps": steps,
            "trainSeconds": seconds, "parameters": count_parameters(model), "recipe": {**job["recipe"], "steps": steps, "batchSize": B},
            **recipe.card_fields(job), "finalTrainLoss": final, "metrics": {},
            "engine": "torch", "worldSize": ws, "device": device.type, "torch": torch.__version__, "completedSteps": step,
            "threadsPerProcess": torch.get_num_threads(), "host": socket.gethostname(),
            "trainableParameters": sum(p.numel() for p in params), "wallSeconds": time.perf_counter() - wall0,
        }
        if resumed:
            card["resumedFrom"] = resumed
        write_json_atomic(card_path, card)

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    losses, t_start, every = [], time.perf_counter(), job.get("logEvery", 50)
    stopped = steps
    for step in range(start, steps):
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, warmup, steps, lr, lr / recipe.min_lr_ratio)
        batch = tuple(v[rank * per:(rank + 1) * per].to(device) for v in recipe.next_batch(B, step))
        opt.zero_grad(set_to_none=True)
        loss = ddp(*batch)
        loss.backward()
        if recipe.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, recipe.clip_norm)
        opt.step()
        if recipe.final_loss_window > 1:
            recent.append(loss.detach())
        done = step + 1 == steps
        if (step + 1) % every == 0 or done:
            g = loss.detach().clone()
            if dist.is_initialized():
                dist.all_reduce(g)
                g /= ws
            losses.append(g.item())
            if not math.isfinite(losses[-1]):
                raise FloatingPointError(f"loss is {losses[-1]} at step {step + 1}")
            sync()
            el = time.perf_counter() - t_start
            sps = (step + 1 - start) / el
            eta = (steps - step - 1) / sps
            log(rank, f"[{name}] step {step + 1}/{steps}  loss {losses[-1]:.4f}  {sps:.2f} it/s  eta {int(eta // 60)}m{round(eta % 60):02d}s  (torch, {ws}×{device.type})")
        if job.get("stopAt") == step + 1 and not done:
            stopped = step + 1
            break
        if job.get("saveEvery") and (step + 1) % job["saveEvery"] == 0 and not done:
            save(step + 1, losses, time.perf_counter() - t_start)
    seconds = time.perf_counter() - t_start
    save(stopped, losses, seconds)
    what = "" if stopped == steps else f" at step {stopped} of {steps} (--stop-at; --resume continues)"
    log(rank, f"[{name}] wrote {weights_path}{what} ({seconds:.1f} s, {seconds / max(1, stopped - start) * 1000:.1f} ms/step)")


def recipe_generator(recipe):
    """The generator a recipe draws its batches from (saved with the optimizer so a resumed run draws the same)."""
    return recipe.batches.g if hasattr(recipe, "batches") else recipe.g


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--job", required=True, help="the job file (JSON) kernel/train/torch.ts writes")
    ap.add_argument("--check", action="store_true", help="only validate the job (recipe options, config fields) and exit")
    ap.add_argument("--explain-refusals", metavar="JOBS", help=argparse.SUPPRESS)   # tests: a JSON list of jobs -> why each is refused (null: accepted)
    if "--explain-refusals" in sys.argv:
        jobs = json.loads(sys.argv[sys.argv.index("--explain-refusals") + 1])
        said = []
        for job in jobs:
            try:
                check_job(job)
                said.append(None)
            except SystemExit as e:
                said.append(str(e))
        print(json.dumps(said))
        return 0
    a = ap.parse_args()
    with open(a.job) as f:
        job = json.load(f)
    check_job(job)
    if a.check:
        print(f"nextframe_torch.train: the {job.get('name')} job is one the PyTorch {job['model']} trainer knows", flush=True)
        return 0
    if "OMP_NUM_THREADS" in os.environ:
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    rank, ws, device = setup(job)
    try:
        train(job, rank, ws, device)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
