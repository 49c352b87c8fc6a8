"""Orphan HAProxy: a real process named haproxy, serving one node's config, is found and
stopped; others are left alone."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from deployments.orphan_haproxy import haproxy_pids, stop_haproxy

NODE = "841f4dedb5dba833c5d301ae7c41d2a3ce1d31bd0c4ea35bddc34998"
OTHER = "0123456789abcdef0123456789abcdef0123456789abcdef01234567"


def fake_haproxy(tmp_path: Path, node: str) -> subprocess.Popen[bytes]:
    """A process whose command line is what Serve gives HAProxy: `.../haproxy -db -f CONFIG`
    (a sleeping Python under that argv[0])."""
    config = f"/tmp/haproxy-serve/{node}/haproxy.cfg"
    argv = [str(tmp_path / "bin" / "haproxy"), "-c", "import time; time.sleep(60)"]
    return subprocess.Popen([*argv, "-db", "-f", config], executable=sys.executable)


def test_the_nodes_haproxy_is_stopped_and_another_nodes_is_not(tmp_path: Path) -> None:
    ours, theirs = fake_haproxy(tmp_path, NODE), fake_haproxy(tmp_path, OTHER)
    try:
        time.sleep(0.1)
        assert haproxy_pids(NODE) == [ours.pid]
        assert stop_haproxy(NODE) == 1
        assert ours.wait(5) != 0  # killed
        assert theirs.poll() is None
        assert haproxy_pids(NODE) == []
    finally:
        for process in (ours, theirs):
            process.kill()
            process.wait()


def test_without_proc_there_is_nothing_to_stop(tmp_path: Path) -> None:
    assert haproxy_pids(NODE, proc=tmp_path / "no-proc") == []
