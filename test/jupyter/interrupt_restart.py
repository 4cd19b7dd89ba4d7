"""Drive the nextframe kernel through Jupyter's own client: interrupt (SIGINT to the front, interrupt_request) and restart.

Prints one JSON object. Run by test/jupyter/jupyter.test.ts with JUPYTER_PATH pointing at a kernelspec.
"""
import json
import os
import signal
import sys
import time

from jupyter_client.manager import KernelManager


def reply_to(kc, msg_id, timeout=60):
    """The shell reply to request `msg_id` (skipping replies to earlier requests, e.g. wait_for_ready's)."""
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def run(kc, code, timeout=60):
    """Execute `code`; return (reply status, outputs) with outputs as (msg_type, content)."""
    msg_id = kc.execute(code)
    outputs = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t = msg["msg_type"]
        if t == "status" and msg["content"]["execution_state"] == "idle":
            break
        if t in ("stream", "execute_result", "display_data", "error"):
            outputs.append((t, msg["content"]))
    reply = reply_to(kc, msg_id, timeout)
    return reply["content"]["status"], outputs, msg_id


def start_and_interrupt(kc, code, interrupt):
    msg_id = kc.execute(code)
    time.sleep(1.0)
    t0 = time.time()
    interrupt()
    reply = reply_to(kc, msg_id, 30)
    elapsed = time.time() - t0
    errors = []
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            errors.append(msg["content"]["ename"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return {"status": reply["content"]["status"], "seconds": elapsed, "errors": errors}


def main():
    km = KernelManager(kernel_name="nextframe")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=90)
    out = {}
    out["define"] = run(kc, "const kept: number = 41;")[0]
    print("stage", "define", out["define"], file=sys.stderr, flush=True)
    # SIGINT to the front process alone (`kill -INT <pid>`): the front interrupts its child's cell.
    front = km.provisioner.process.pid
    out["sync_interrupt"] = start_and_interrupt(kc, "while (true) {}", lambda: os.kill(front, signal.SIGINT))
    print("stage", "sync_interrupt", out["sync_interrupt"], file=sys.stderr, flush=True)
    out["after_sync"] = run(kc, "kept + 1")[1]
    print("stage", "after_sync", out["after_sync"], file=sys.stderr, flush=True)

    # The kernelspec's interrupt_mode is "message": jupyter_client sends interrupt_request on the control channel.
    out["async_interrupt"] = start_and_interrupt(kc, "await new Promise(() => {});", km.interrupt_kernel)
    print("stage", "async_interrupt", out["async_interrupt"], file=sys.stderr, flush=True)
    out["after_async"] = run(kc, "kept + 1")[1]
    print("stage", "after_async", out["after_async"], file=sys.stderr, flush=True)
    out["complete"] = reply_to(kc, kc.complete("kep", 3), 30)["content"]["matches"][:3]
    print("stage", "complete", out["complete"], file=sys.stderr, flush=True)
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=90)
    out["after_restart"] = run(kc, "kept")[1]
    print("stage", "after_restart", out["after_restart"], file=sys.stderr, flush=True)
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
