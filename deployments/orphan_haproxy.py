"""HAProxy processes that would outlive the Ray that started them.

Serve's HAProxyManager actor runs HAProxy as a child of a Ray worker, in a session of its
own: a SIGTERM to ``serve run`` (or its process group) takes Ray down but not HAProxy,
which keeps the HTTP port, so the next start fails with "Address already in use". Serve
writes each node's HAProxy config under a folder named by the node's id, so the processes
to stop are the haproxy ones whose command line names that folder.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def haproxy_pids(node_id: str, proc: Path = Path("/proc")) -> list[int]:
    """The haproxy processes serving Ray node ``node_id`` (none where there is no /proc)."""
    marker = f"/{node_id}/".encode()
    pids = []
    for entry in proc.glob("[0-9]*"):
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if Path(argv[0].decode(errors="replace")).name == "haproxy" and any(
            marker in arg for arg in argv[1:]
        ):
            pids.append(int(entry.name))
    return pids


def stop_haproxy(node_id: str) -> int:
    """Kill the node's haproxy processes; returns how many there were."""
    pids = haproxy_pids(node_id)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)
