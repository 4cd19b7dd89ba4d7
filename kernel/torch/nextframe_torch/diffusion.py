"""
The world model's diffusion (kernel/nextframe/diffusion/, as worldModelDiffusion configures it): squaredcos_cap_v2
betas over `diffusionSteps`, x0 prediction, and the "trailing" respacing the few-step DDIM sampler uses.
Computed in float64 like the TypeScript side.
"""
import math


def cosine_betas(num_steps):
    ab = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    return [min(1 - ab((i + 1) / num_steps) / ab(i / num_steps), 0.999) for i in range(num_steps)]


def alphas_cumprod(num_steps):
    acp, a = [], 1.0
    for b in cosine_betas(num_steps):
        a *= 1 - b
        acp.append(a)
    return acp


def training_coefficients(num_steps):
    """(sqrt(alphas_cumprod), sqrt(1 - alphas_cumprod)) per step t: x_t = sa[t] * x0 + s1[t] * noise."""
    acp = alphas_cumprod(num_steps)
    return [math.sqrt(a) for a in acp], [math.sqrt(1 - a) for a in acp]


def ddim_schedule(num_steps, sampling_steps):
    """(alphas_cumprod, alphas_cumprod_prev, original timesteps) of the respaced x0-predicting diffusion."""
    acp = alphas_cumprod(num_steps)
    # "trailing" spacing: counted down from t = T - 1, so one step starts from pure noise (JS Math.round below)
    keep = sorted({int(math.floor(num_steps - 1 - k * (num_steps / sampling_steps) + 0.5)) for k in range(sampling_steps)})
    new_acp, last = [], 1.0
    for i in keep:
        b = 1 - acp[i] / last
        last = acp[i]
        new_acp.append((new_acp[-1] if new_acp else 1.0) * (1 - b))
    return new_acp, [1.0] + new_acp[:-1], keep
