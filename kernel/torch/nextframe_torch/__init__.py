"""
nextframe_torch: the course's models in PyTorch, for training past one machine (torchrun, DDP), with the same
configs (a checkpoint card's `config`), state-dict names and tensor layouts as the TypeScript library, so a
checkpoint moves between the engines unchanged.

    models/dit.py           DiT (facebookresearch/DiT names)        models/world_model.py  the next-frame world model
    models/gpt.py           nanoGPT-shaped GPT (GPT-2 names)        models/autoencoder.py  the conv autoencoder
    models/text_to_video.py the text-to-video spacetime DiT
    safetensors_io.py       checkpoint files                        data.py                `npm run data` shards, memory-mapped
    diffusion.py            noise schedules                         train.py               the torchrun entry point
    launch.py               torchrun, fixed for torch 1.13 on 3.11  parity.py              forward passes for the cross-engine tests

Run from the repository with kernel/torch on PYTHONPATH; `npm run train -- <name> --engine torch` sets it up.
"""
