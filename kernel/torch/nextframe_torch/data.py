"""
The datasets `npm run data` writes (kernel/train/data.ts): a folder with index.json and, per shard, .npy arrays
(frames uint8 (n, T, S, S, 3), actions uint8 (n, T), objects float32 (n, T, O, fields), camera float32 (n, T, 3),
captions int32 (n, L): the carried caption's token ids + 1)
plus a .meta.json (seeds, captions, attributes). Arrays are opened with numpy.load(..., mmap_mode="r"): nothing is
read until a clip is indexed, and indexing a clip returns a view of the mapped file, not a copy.

    ds = ShardedClips("DIR")          len(ds), ds.frames(i), ds.actions(i), ds.objects(i), ds.meta(i), ds.caption(i)
    python3 -m nextframe_torch.data summary DIR      -> one JSON line per clip (checksums; the cross-engine test)

`npm run data -- play-world` writes the same files for the playable world (index `videoWorld`: "play"); `npm run data --
text-to-video` the text-to-video clips plus its training set: index["textToVideo"] names train_mask.npy (uint8 (N,):
1 = a training clip), train_captions.npy (int32 (N, 32): the caption it trains with, recaptioned where its own was
weak), recaptioned.npy and the autoencoder's sha256 (train.py's TextToVideoRecipe reads them).

`npm run data -- text-world` writes the GPT's token streams instead: TextStreams("DIR").train / .val / .train_starts /
.val_starts (int32, memory-mapped) and .vocab.
"""
import argparse
import bisect
import hashlib
import json
import os

import numpy as np

FORMAT = "nextframe-shards/1"
TEXT_FORMAT = "nextframe-text/1"


class ShardedClips:
    def __init__(self, folder):
        path = os.path.join(folder, "index.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} does not exist; write the dataset first: npm run data -- video-world --clips N --shards K --out {folder}")
        with open(path) as f:
            self.index = json.load(f)
        if self.index.get("format") != FORMAT:
            raise ValueError(f"{path}: format {self.index.get('format')!r}; expected {FORMAT!r} (written by npm run data)")
        self.folder = folder
        self.shards = self.index["shards"]
        self.starts = [s["start"] for s in self.shards]
        self._arrays = {}
        self._meta = {}

    def __len__(self):
        return self.index["clips"]

    def array(self, k, name):
        """Shard k's array `name`, memory-mapped (read-only)."""
        key = (k, name)
        if key not in self._arrays:
            spec = self.shards[k]["arrays"][name]
            a = np.load(os.path.join(self.folder, spec["file"]), mmap_mode="r")
            if list(a.shape) != spec["shape"] or str(a.dtype) != spec["dtype"]:
                raise ValueError(f"{spec['file']}: {a.dtype} {list(a.shape)} on disk; the index says {spec['dtype']} {spec['shape']}")
            self._arrays[key] = a
        return self._arrays[key]

    def locate(self, i):
        if not 0 <= i < len(self):
            raise IndexError(f"clip {i} out of range: the dataset has {len(self)} clips")
        k = bisect.bisect_right(self.starts, i) - 1
        return k, i - self.shards[k]["start"]

    def _get(self, name, i):
        k, j = self.locate(i)
        return self.array(k, name)[j]

    def frames(self, i):
        return self._get("frames", i)      # (T, S, S, 3) uint8, a view of the mapped file

    def actions(self, i):
        return self._get("actions", i)     # (T,) uint8

    def objects(self, i):
        return self._get("objects", i)     # (T, O, fields) float32, NaN where a clip has fewer objects

    def camera(self, i):
        return self._get("camera", i)      # (T, 3) float32

    def caption_tokens(self, i):
        return self._get("captions", i)    # (L,) int32 token ids + 1, 0 pads; all 0 = no caption (the null caption)

    def meta(self, i):
        k, j = self.locate(i)
        if k not in self._meta:
            with open(os.path.join(self.folder, self.shards[k]["meta"])) as f:
                self._meta[k] = json.load(f)
        return self._meta[k][j]

    def caption(self, i):
        return self.meta(i)["caption"]

    def all_frames(self):
        """Every clip's frames as one list of per-shard mapped arrays (n_k, T, S, S, 3), in clip order."""
        return [self.array(k, "frames") for k in range(len(self.shards))]


class TextStreams:
    """`npm run data -- text-world`: the GPT's token streams (int32, memory-mapped) and episode offsets."""
    def __init__(self, folder):
        path = os.path.join(folder, "index.json")
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} does not exist; write it first: npm run data -- text-world --out {folder}")
        with open(path) as f:
            self.index = json.load(f)
        if self.index.get("format") != TEXT_FORMAT:
            raise ValueError(f"{path}: format {self.index.get('format')!r}; expected {TEXT_FORMAT!r} (npm run data -- text-world)")
        arr = lambda k: np.load(os.path.join(folder, self.index["arrays"][k]["file"]), mmap_mode="r")
        self.train, self.val = arr("train"), arr("val")
        self.train_starts, self.val_starts = arr("trainStarts"), arr("valStarts")
        self.vocab = self.index["vocab"]
        self.vocab_size = len(self.vocab)


def summary(folder):
    ds = ShardedClips(folder)
    for i in range(len(ds)):
        fr, ac, ob = ds.frames(i), ds.actions(i), ds.objects(i)
        mapped = isinstance(fr.base, np.memmap) or isinstance(fr, np.memmap)
        print(json.dumps({"clip": i, "seed": ds.meta(i)["seed"], "frames": hashlib.sha256(fr.tobytes()).hexdigest(),
                          "actions": ac.tolist(), "caption": ds.caption(i), "shape": list(fr.shape), "mapped": bool(mapped),
                          "object0": ob[-1, 0].tolist(), "camera": ds.camera(i)[-1].tolist(),
                          "captionTokens": ds.caption_tokens(i).tolist()}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["summary"])
    ap.add_argument("folder")
    a = ap.parse_args()
    summary(a.folder)


if __name__ == "__main__":
    main()
