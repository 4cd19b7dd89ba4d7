"""
torchrun (`python3 -m torch.distributed.run`) with one compatibility fix: torch 1.13's launcher parses its
--redirects/--tee values with a loop over an IntFlag that, on Python 3.11 and later, skips the value 0, so every
launch fails with "'NoneType' object has no attribute 'get'" (Debian bookworm's python3-torch on Python 3.11 does).
When this PyTorch has that bug, the parser is replaced with an equivalent one; otherwise nothing changes.

    python3 -m nextframe_torch.launch [torchrun's arguments]
"""
import re
import sys

from torch.distributed.elastic.multiprocessing import api as _mp_api


def _patch_std():
    Std = _mp_api.Std
    if Std.from_str("0") is not None:
        return False

    def from_str(vm):
        if re.fullmatch(r"[0-3]", vm):
            return Std(int(vm))
        if re.fullmatch(r"([0-9]+:[0-3],)*[0-9]+:[0-3]", vm):
            return {int(i): Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
        raise ValueError(f"{vm} does not match <[0-3]> or <[0-9]+:[0-3],...>")

    Std.from_str = classmethod(lambda cls, vm: from_str(vm))
    return True


def main():
    _patch_std()
    from torch.distributed.run import main as torchrun
    torchrun(sys.argv[1:])


if __name__ == "__main__":
    main()
