"""
The stdin/stdout protocol of the long-lived PyTorch peers (test/bench/timing.ts, TorchPeer): after set-up the peer
prints {"op": "ready", ...}; then each command line on stdin ("name arg ...") gets one JSON line back, or
{"error": ...} for an unknown or failed command (the peer keeps serving; the bench turns it into a skipped line).
"""
import json, sys

import torch


def out(o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


def serve(commands, usage):
    """commands: name -> function of the command's string arguments returning a JSON-able dict; "quit" ends."""
    out({"op": "ready", "torch": torch.__version__, "threads": torch.get_num_threads()})
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "quit":
            return
        if cmd[0] not in commands:
            out({"error": f"unknown command {cmd[0]!r}; expected {usage}, quit"})
            continue
        try:
            out(commands[cmd[0]](*cmd[1:]))
        except Exception as e:
            out({"error": f"{type(e).__name__}: {e}"})
