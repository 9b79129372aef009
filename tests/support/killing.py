"""Killing a command at a chosen moment: after it has committed some cache shards."""

from __future__ import annotations

import os
import signal
import subprocess
import time


def kill_after_shards(cmd: list[str], cache_dir, shards: int = 3, timeout: float = 240, env=None) -> None:
    """Run `cmd` and SIGKILL it once `cache_dir` holds `shards` committed shards (or at `timeout`)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + timeout
    folder = os.path.join(cache_dir, "shards")
    while time.time() < deadline and proc.poll() is None:
        if os.path.isdir(folder) and sum(p.endswith(".keys.json") for p in os.listdir(folder)) >= shards:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
