"""Drive the nextframe kernel through Jupyter's own client (jupyter_client): lost output, kernel death, protocol.

Usage: python3 reliability.py <scenario> — prints one JSON object on its last stdout line.
Run by test/jupyter/reliability.test.ts with JUPYTER_PATH pointing at a kernelspec; the assertions live there.
"""
import json
import os
import queue
import signal
import sys
import time

from jupyter_client.manager import KernelManager


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def start(env=None):
    km = KernelManager(kernel_name="nextframe")
    km.start_kernel(env={**os.environ, **(env or {})})
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    return km, kc


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def reply_to(kc, msg_id, timeout=120):
    """The shell reply to request `msg_id` (skipping replies to other requests)."""
    while True:
        msg = kc.get_shell_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def collect(kc, msg_id, timeout=120):
    """The iopub messages of request `msg_id` up to its idle status, as (msg_type, content)."""
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        t = msg["msg_type"]
        out.append((t, msg["content"]))
        if t == "status" and msg["content"]["execution_state"] == "idle":
            return out


def run(kc, code, timeout=120, **kw):
    """Execute `code`; return {reply: content, iopub: [(msg_type, content)], stdout: text}."""
    msg_id = kc.execute(code, **kw)
    iopub = collect(kc, msg_id, timeout)
    reply = reply_to(kc, msg_id, timeout)["content"]
    stdout = "".join(c["text"] for t, c in iopub if t == "stream" and c["name"] == "stdout")
    return {"reply": reply, "iopub": iopub, "stdout": stdout, "msg_id": msg_id}


def summary(r):
    """What a test needs of a run: reply fields, output types in order, stream text, errors, results."""
    return {
        "status": r["reply"]["status"],
        "ename": r["reply"].get("ename"),
        "evalue": r["reply"].get("evalue"),
        "traceback": r["reply"].get("traceback"),
        "types": [t for t, _ in r["iopub"] if t != "status"],
        "last": r["iopub"][-1][0] + ":" + r["iopub"][-1][1].get("execution_state", ""),
        "stdout": r["stdout"],
        "errors": [[c["ename"], c["evalue"]] for t, c in r["iopub"] if t == "error"],
        "results": [c["data"].get("text/plain") for t, c in r["iopub"] if t == "execute_result"],
        "streams": sum(1 for t, _ in r["iopub"] if t == "stream"),
    }


def flood():
    """100 000 console.log lines: every line arrives, then the result, then idle."""
    km, kc = start()
    out = {}
    t0 = time.time()
    r = run(kc, 'for (let i = 0; i < 100000; i++) console.log(i);\n"done"', timeout=300)
    out["seconds"] = time.time() - t0
    s = summary(r)
    lines = s.pop("stdout").split("\n")
    out["lines"] = len(lines) - 1
    out["complete"] = lines[:-1] == [str(i) for i in range(100000)]
    out["flood"] = s
    big = run(kc, 'const line = "x".repeat(999) + "\\n";\nfor (let i = 0; i < 30000; i++) process.stdout.write(line);\n"big done"', timeout=300)
    s = summary(big)
    out["big_chars"] = len(s.pop("stdout"))
    out["big"] = s
    out["big_stderr"] = "".join(c["text"] for t, c in big["iopub"] if t == "stream" and c["name"] == "stderr")[-2000:]
    out["after"] = summary(run(kc, "1 + 1"))
    stop(km, kc)
    return out


def death():
    """The child dies under a cell (process.exit, SIGKILL): the cell says why, the next cell runs on a fresh child."""
    km, kc = start()
    out = {}
    out["pid1"] = summary(run(kc, "const kept = 1;\nprocess.pid"))["results"]
    out["exit3"] = summary(run(kc, 'console.log("line 1");\nconsole.log("line 2");\nprocess.exit(3);'))
    out["after_exit"] = summary(run(kc, "typeof kept"))
    out["pid2"] = summary(run(kc, "process.pid"))["results"]
    out["sigkill"] = summary(run(kc, 'console.log("before the kill");\nprocess.kill(process.pid, "SIGKILL");'))
    out["after_kill"] = summary(run(kc, "6 * 7"))
    # A child that dies while no cell runs: the last cell gets the error (JupyterLab shows it there).
    r = run(kc, 'setTimeout(() => process.exit(5), 300);\n"armed"')
    deadline = time.time() + 60
    late = []
    while time.time() < deadline and not late:
        try:
            msg = kc.get_iopub_msg(timeout=5)
        except queue.Empty:
            continue
        if msg["msg_type"] == "error":
            late.append([msg["content"]["ename"], msg["content"]["evalue"], msg["parent_header"].get("msg_id") == r["msg_id"]])
    out["idle_death"] = late
    out["after_idle_death"] = summary(run(kc, '"alive"'))
    stop(km, kc)
    return out


def oom():
    """A cell that fills the JS heap past the kernel's limit: the cell names the memory limit."""
    km, kc = start({"NEXTFRAME_MEMORY_LIMIT_MB": os.environ.get("OOM_LIMIT_MB", "400"), "NEXTFRAME_RSS_LIMIT_MB": "64000"})
    out = {}
    # The front gives the child the heap limit as a flag, and the watchdog's limit through the environment.
    out["settings"] = summary(run(kc, 'process.execArgv.join(" ") + " / " + process.env.NEXTFRAME_RSS_LIMIT_MB'))["results"]
    out["oom"] = summary(run(kc, 'const hog: number[][] = [];\nconsole.log("filling");\nfor (;;) hog.push(new Array(100000).fill(1.5));', timeout=300))
    out["after"] = summary(run(kc, "typeof hog"))
    stop(km, kc)
    return out


def protocol():
    """stop_on_error, real error fields in the reply, history, is_complete, complete, inspect, comm_info."""
    km, kc = start()
    out = {}
    # Three requests sent at once: the first fails, the two queued behind it are aborted without running.
    ids = [kc.execute('let ran = 0;\nfunction fail() { throw new RangeError("first failure"); }\nfail();'),
           kc.execute("ran += 1;"), kc.execute("ran += 10;")]
    out["queued"] = [reply_to(kc, i)["content"] for i in ids]
    for i in ids:
        collect(kc, i)
    out["after_abort"] = summary(run(kc, "ran"))
    ids = [kc.execute('throw new TypeError("not fatal")', stop_on_error=False), kc.execute("ran += 100;")]
    out["no_stop"] = [reply_to(kc, i)["content"]["status"] for i in ids]
    for i in ids:
        collect(kc, i)
    out["after_no_stop"] = summary(run(kc, "ran"))
    out["silent"] = summary(run(kc, "ran * 2", silent=True))
    # clearOutput({ wait }) is Jupyter's clear_output, in order between the text printed before and after it.
    r = run(kc, 'import { clearOutput } from "nextframe";\nconsole.log("before");\nclearOutput({ wait: true });\nconsole.log("after");', store_history=False)
    out["clear"] = [[t, c.get("text", c.get("wait"))] for t, c in r["iopub"] if t in ("stream", "clear_output")]
    # History of this session: every cell that ran with store_history, by execution count.
    def history(**kw):
        return reply_to(kc, kc.history(**kw))["content"]
    out["tail"] = history(hist_access_type="tail", n=2, output=False, raw=True)
    out["range"] = history(hist_access_type="range", session=0, start=1, stop=3, output=False, raw=True)
    out["search"] = history(hist_access_type="search", pattern="ran*", unique=True, output=False, raw=True)
    out["search_output"] = history(hist_access_type="search", pattern="ran", output=True, raw=True)
    out["history_bad"] = history(hist_access_type="everything", output=False, raw=True)
    out["is_complete"] = [reply_to(kc, kc.is_complete(c))["content"] for c in ["if (ran > 0) {", "ran + 1"]]
    out["complete"] = reply_to(kc, kc.complete("ra", 2))["content"]
    out["inspect"] = reply_to(kc, kc.inspect("ran", 1))["content"]
    # A comm the frontend opens reaches the cell's onComm handler, whose answer comes back on the same comm.
    run(kc, 'import { onComm } from "nextframe";\nonComm("echo", (data) => ({ got: data }));', store_history=False)
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": "c1", "target_name": "echo", "data": {"a": 1}}))
    deadline = time.time() + 60
    out["comm_reply"] = None
    while out["comm_reply"] is None and time.time() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=5)
        except queue.Empty:
            continue
        if msg["msg_type"] in ("comm_msg", "comm_open"):
            out["comm_reply"] = [msg["msg_type"], msg["content"]["comm_id"], msg["content"]["data"]]
    out["comm_info"] = reply_to(kc, kc.comm_info())["content"]
    stop(km, kc)
    return out


def reply_order(kc, ids):
    """The order in which the shell replies to requests `ids` (name -> msg_id) arrive."""
    order = []
    deadline = time.time() + 120
    while len(order) < len(ids) and time.time() < deadline:
        msg = kc.get_shell_msg(timeout=120)
        parent = msg["parent_header"].get("msg_id")
        order += [name for name, i in ids.items() if i == parent]
    return order


def responsive():
    """The front answers kernel_info at once: while the kernel child still starts, and while a cell loops."""
    km = KernelManager(kernel_name="nextframe")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    out = {}
    first = kc.execute('"first cell"')
    out["starting"] = reply_order(kc, {"execute_reply": first, "kernel_info_reply": kc.kernel_info()})
    collect(kc, first)
    busy = kc.execute("const t0 = Date.now();\nwhile (Date.now() - t0 < 4000) {}")
    time.sleep(0.5)
    t0 = time.time()
    out["busy"] = reply_order(kc, {"execute_reply": busy, "kernel_info_reply": kc.kernel_info()})
    out["busy_seconds"] = time.time() - t0
    collect(kc, busy)
    stop(km, kc)
    return out


def proc_state(pid):
    """'gone', or the state letter from /proc (Z: a zombie, already dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def orphan():
    """SIGKILL the front while a cell loops: its child must exit too, not keep running the cell."""
    km, kc = start()
    child = int(summary(run(kc, "process.pid"))["results"][0])
    front = km.provisioner.process.pid
    kc.execute("while (true) {}")
    deadline = time.time() + 60  # until the loop spins (the cell is converted first; slow on a loaded machine)
    time.sleep(1.0)
    while time.time() < deadline and proc_state(child) != "R":
        time.sleep(0.2)
    out = {"front": front, "child": child, "distinct": child != front, "child_before": proc_state(child)}
    os.kill(front, signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline and proc_state(child) not in ("gone", "Z"):
        time.sleep(0.1)
    out["child_after"] = proc_state(child)
    out["seconds"] = round(time.time() - deadline + 30, 2)
    kc.stop_channels()
    try:
        km.shutdown_kernel(now=True)
    except Exception as e:  # the front is already gone
        log("shutdown after kill:", e)
    return out


def main():
    scenario = sys.argv[1]
    out = globals()[scenario]()
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
