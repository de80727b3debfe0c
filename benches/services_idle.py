#!/usr/bin/env python3
"""Idle cost of watching containers: toban's Services tab against oxker, side by side.

Starts N idle busybox containers (an image made here with `docker import` from the static
busybox; 30 s health checks), then measures, for each round, the CPU of the engine
(dockerd, containerd and the shims, children included) with no watcher, with toban on
its Services tab, and with oxker, each in a 160x48 tmux window, plus the watcher's own CPU.
Prints the medians as percent of one core. Everything it starts is removed at the end.

    python3 benches/services_idle.py --toban target/debug/toban --oxker /tmp/oxker/bin/oxker
"""

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time

TCK = os.sysconf("SC_CLK_TCK")
PREFIX = "toban-test-bench"


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout.strip()


def ticks(pid):
    """utime + stime + cutime + cstime of a process, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15])
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def engine_pids():
    out = []
    for name in ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2"):
        out += [int(p) for p in sh("pgrep", "-x", name, check=False).split()]
    return out


def cpu(pids, secs):
    before = {p: ticks(p) for p in pids}
    time.sleep(secs)
    used = sum(max(0, ticks(p) - before[p]) for p in pids)
    return 100.0 * used / TCK / secs


def image():
    tag = f"{PREFIX}:{os.getpid()}"
    with tempfile.TemporaryDirectory() as d:
        tar = os.path.join(d, "rootfs.tar")
        with tarfile.open(tar, "w") as t:
            t.add("/bin/busybox", arcname="bin/busybox")
            for tool in ("sh", "sleep", "true", "test"):
                info = tarfile.TarInfo(f"bin/{tool}")
                info.type = tarfile.SYMTYPE
                info.linkname = "busybox"
                t.addfile(info)
        sh("docker", "import", tar, tag)
    return tag


def watcher_pid(session):
    return int(sh("tmux", "list-panes", "-t", session, "-F", "#{pane_pid}"))


def start(session, argv):
    sh("tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", *argv)
    time.sleep(3)
    return watcher_pid(session)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--toban", required=True)
    ap.add_argument("--oxker", required=True)
    ap.add_argument("--containers", type=int, default=21)
    ap.add_argument("--seconds", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    tag = image()
    names = [f"{PREFIX}-{os.getpid()}-{i}" for i in range(a.containers)]
    results = {"baseline": [], "toban engine": [], "toban self": [], "oxker engine": [], "oxker self": []}
    try:
        for n in names:
            sh("docker", "run", "-d", "--name", n, "--health-cmd", "true",
               "--health-interval", "30s", tag, "sleep", "100000")
        time.sleep(5)
        for r in range(a.rounds):
            results["baseline"].append(cpu(engine_pids(), a.seconds))
            # toban with a HOME of its own: its store and log go there, not into the user's.
            home = tempfile.mkdtemp(prefix="toban-bench-home-")
            toban = ["env", f"HOME={home}", f"XDG_CONFIG_HOME={home}/c",
                     f"XDG_DATA_HOME={home}/d", f"XDG_STATE_HOME={home}/s", a.toban]
            for who, argv in (("toban", toban), ("oxker", [a.oxker])):
                session = f"{PREFIX}-{who}"
                pid = start(session, argv)
                if who == "toban":
                    sh("tmux", "send-keys", "-t", session, "6")
                time.sleep(5)
                pids = engine_pids()
                before = {p: ticks(p) for p in pids + [pid]}
                time.sleep(a.seconds)
                eng = sum(max(0, ticks(p) - before[p]) for p in pids)
                me = max(0, ticks(pid) - before[pid])
                results[f"{who} engine"].append(100.0 * eng / TCK / a.seconds)
                results[f"{who} self"].append(100.0 * me / TCK / a.seconds)
                sh("tmux", "kill-session", "-t", session, check=False)
                time.sleep(2)
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}%" for k, v in results.items()),
                  flush=True)
    finally:
        for n in names:
            sh("docker", "rm", "-f", n, check=False)
        sh("docker", "rmi", "-f", tag, check=False)
    med = {k: statistics.median(v) for k, v in results.items()}
    print("medians (% of one core):")
    for k, v in med.items():
        print(f"  {k:<14} {v:6.2f}")
    for who in ("toban", "oxker"):
        extra = med[f"{who} engine"] - med["baseline"] + med[f"{who} self"]
        print(f"  {who} total extra (engine over baseline + itself): {extra:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
