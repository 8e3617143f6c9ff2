"""Processes seen through Linux's /proc, for the tests of what a command leaves running."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def children(pid: int) -> list[int]:
    """The live (not zombie) processes whose parent is ``pid``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                out.append(int(entry.name))
    return out


def running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for_children(pid: int, count: int, seconds: float = 30.0) -> list[int]:
    """``pid``'s children once there are ``count`` of them (or ``seconds`` have passed)."""
    deadline = time.monotonic() + seconds
    while len(children(pid)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return children(pid)


def left_running(pids: list[int], seconds: float = 10.0) -> list[int]:
    """Those of ``pids`` still running after ``seconds``; they are then killed, not to be
    left to the rest of the suite."""
    deadline = time.monotonic() + seconds
    while any(running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in pids if running(p)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left
