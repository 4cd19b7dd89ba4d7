"""
The course's convolutional autoencoder (chapters 6-8's latent space), the twin of
kernel/nextframe/models/autoencoder.ts: frames (N, 3, S, S) in [-1, 1] -> tanh-bounded latents (N, zc, S/f, S/f)
and back, f = config.downsample (2 or 4). Same parameter names (encoder.conv_in, encoder.down, ...) and layouts.
Config: the TypeScript AutoencoderConfig as JSON (a card's `config`): imageSize, inChannels, latentChannels,
hidden [c0, c1], downsample.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def check_config(c):
    need = ["imageSize", "inChannels", "latentChannels", "hidden", "downsample"]
    missing = [k for k in need if k not in c]
    if missing:
        raise ValueError(f"Autoencoder: the config lacks {', '.join(missing)}; expected an AutoencoderConfig with {', '.join(need)}, got keys {sorted(c)}")
    if c["downsample"] not in (2, 4):
        raise ValueError(f"Autoencoder: downsample must be 2 or 4, got {c['downsample']}")


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        h0, h1 = c["hidden"]
        self.conv_in = nn.Conv2d(c["inChannels"], h0, 4, stride=2, padding=1)
        self.down = nn.Conv2d(h0, h1, 4, stride=2, padding=1) if c["downsample"] == 4 else nn.Conv2d(h0, h1, 3, padding=1)
        self.conv_out = nn.Conv2d(h1, c["latentChannels"], 3, padding=1)

    def forward(self, x):
        h = F.silu(self.conv_in(x))                  # (N, c0, S/2, S/2)
        h = F.silu(self.down(h))                     # (N, c1, S/f, S/f)
        return torch.tanh(self.conv_out(h))          # (N, zc, S/f, S/f), bounded so the diffusion model sees a fixed range


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        h0, h1 = c["hidden"]
        self.conv_in = nn.Conv2d(c["latentChannels"], h1, 3, padding=1)
        self.up = nn.ConvTranspose2d(h1, h0, 4, 2, 1) if c["downsample"] == 4 else nn.Conv2d(h1, h0, 3, padding=1)
        self.conv_out = nn.ConvTranspose2d(h0, c["inChannels"], 4, 2, 1)

    def forward(self, z):
        h = F.silu(self.conv_in(z))                  # (N, c1, S/f, S/f)
        h = F.silu(self.up(h))                       # (N, c0, S/2, S/2)
        return self.conv_out(h)                      # (N, C, S, S), about [-1, 1]


class Autoencoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        check_config(c)
        self.config = dict(c)
        self.encoder = Encoder(c)
        self.decoder = Decoder(c)

    @property
    def latent_shape(self):
        s = self.config["imageSize"] // self.config["downsample"]
        return (self.config["latentChannels"], s, s)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        """(reconstruction, its mean squared error): the training loss."""
        recon = self.decoder(self.encoder(x))
        return recon, F.mse_loss(recon, x)


def frames_to_tensor(frames):
    """uint8 frames (..., S, S, 3) -> float (..., 3, S, S) in [-1, 1], as framesToTensor (x / 127.5 - 1)."""
    if not getattr(frames, "flags", None) or frames.flags.writeable:
        x = torch.as_tensor(frames)
    else:  # a memory-mapped (read-only) slice: torch wants its own copy of the bytes
        x = torch.from_numpy(frames.copy())
    return (x.double() / 127.5 - 1).float().movedim(-1, -3).contiguous()
