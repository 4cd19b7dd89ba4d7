"""
Forward passes for the cross-engine parity tests (kernel/torch/*.test.ts): builds a model from a card's `config`,
loads a safetensors checkpoint strictly (every name and shape must match), runs it on inputs the TypeScript test
wrote, and writes the outputs as safetensors.

    python3 -m nextframe_torch.parity MODEL --card CARD.json --weights W.safetensors --inputs IN.safetensors --out OUT.safetensors
      MODEL: GPT (idx -> logits) | WorldModel (x, t, a[, caption][, level] -> next) | Autoencoder (x -> z, recon) | DiT (x, t, y -> out)
"""
import argparse
import json

import torch

from . import safetensors_io as st
from .models.autoencoder import Autoencoder
from .models.dit import dit_from_config
from .models.gpt import GPT
from .models.text_to_video import TextToVideoDiT
from .models.world_model import WorldModel

BUILDERS = {"GPT": GPT, "WorldModel": WorldModel, "Autoencoder": Autoencoder, "DiT": dit_from_config, "TextToVideoDiT": TextToVideoDiT}


def build(model, config):
    if model not in BUILDERS:
        raise ValueError(f"unknown model {model!r}; expected one of {', '.join(BUILDERS)}")
    return BUILDERS[model](config)


@torch.no_grad()
def forward(model_name, m, inp):
    if model_name == "GPT":
        return {"logits": m(inp["idx"].long())[0]}
    if model_name == "WorldModel":
        cap = inp["caption"].long() if "caption" in inp else None
        level = inp["level"].long() if "level" in inp else None
        return {"next": m.predict_next(inp["x"].float(), inp["t"].float(), inp["a"].long(), cap, level)}
    if model_name == "Autoencoder":
        z = m.encode(inp["x"].float())
        return {"z": z, "recon": m.decode(z)}
    if model_name == "TextToVideoDiT":
        return {"out": m(inp["x"].float(), inp["t"].float(), inp["caption"].long())}
    return {"out": m(inp["x"].float(), inp["t"].float(), inp["y"].long())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=list(BUILDERS))
    ap.add_argument("--card", required=True, help="a checkpoint card (JSON with `config`)")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--builtin-io", action="store_true", help="read and write with the built-in safetensors code even when the package is installed")
    a = ap.parse_args()
    torch.set_num_threads(2)
    with open(a.card) as f:
        card = json.load(f)
    m = build(a.model, card["config"]).eval()
    m.load_state_dict(st.load(a.weights, builtin=a.builtin_io), strict=True)
    out = forward(a.model, m, st.load(a.inputs, builtin=a.builtin_io))
    st.save(out, a.out, {"format": "pt", "io": st.backend() if not a.builtin_io else "builtin"}, builtin=a.builtin_io)
    print(json.dumps({"saved": a.out, "shapes": {k: list(v.shape) for k, v in out.items()}, "io": "builtin" if a.builtin_io else st.backend()}))


if __name__ == "__main__":
    main()
