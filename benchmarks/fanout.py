"""Fan-out: what many viewers of one stream cost the service, and what each of them gets.

Starts the real application (embedded default; the default stream ``demo``, the 720p 25 fps
demo clip), waits until the stream is live, measures the service's CPU with no client for
``--idle`` seconds, then runs each scenario: a load generator (benchmarks/fanout_clients.py,
its own process) opens that many MJPEG viewers, SSE clients and PCM listeners of the stream
and reads them for ``--seconds``, while this driver samples the CPU of every process of the
service (the ``serve run`` process tree: its Ray cluster, proxy and replicas; never the
generator; read from /proc, so Linux only). Before the first scenario and after each it asks
Ray (``ray memory --stats-only`` against the service's own cluster) how much of the object
store is in use and whether anything was spilled or is still on disk.

    python -m benchmarks.fanout [--seconds 60] [--scenarios video:1 video:25 events:200 \
        video:200+events:200+audio:100] [--max-clients video=N ...] [--out PATH]

A scenario is ``kind:count`` terms joined by ``+`` (kinds: video, events, audio). Writes
benchmarks/results/fanout.json (or ``--out``): per scenario ``viewers`` and ``admitted`` per
kind, ``median_fps`` and ``min_fps`` of the admitted video clients over the steady window
(after the first ``--warmup`` seconds), median bytes per second per kind, ``service_cores``
and ``service_cores_above_idle``, ``generator_cores``, ``errors``, ``disconnects`` and
``refused`` (with the service's messages), the CPU by process and ``object_store_after``;
at the top ``idle_cores``, ``object_store_before`` and ``object_store_after``. Prints a
markdown table at the end. On a small machine the generator shares the cores with the
service: ``generator_saturated`` says when it, not the service, may be the limit.

The service runs with its shipped client limits (MAX_VIDEO_CLIENTS, MAX_EVENTS_CLIENTS,
MAX_AUDIO_CLIENTS: per stream and per Ingress replica; the default scenarios fit under them)
unless ``--max-clients`` lowers or raises one; the limits in force are in the results, and a
client turned away is counted as refused with the service's message.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from serve_app.http.service import ClientKind
from serve_app.settings import ServiceSettings
from tests.support.serve_process import ServeProcess, free_port

RESULTS = Path(__file__).resolve().parent / "results"
KINDS = ("video", "events", "audio")
DEFAULT_SCENARIOS = [
    "video:1",
    "video:25",
    "video:100",
    "video:200",
    "events:200",
    "audio:100",
    "video:200+events:200+audio:100",
]
TICK_S = os.sysconf("SC_CLK_TCK")
SAMPLE_EVERY_S = 1.0


# --- the service's processes and their CPU ---------------------------------------------------
# Straight from /proc rather than psutil: psutil is not a dependency of the service's venv.
@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    sid: int
    cpu_s: float  # user + system, this process only (not its reaped children)


def read_proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None  # it exited
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[0] is field 3 (state): ppid is field 4, session 6, utime 14, stime 15.
    return Proc(pid, int(fields[1]), int(fields[3]), (int(fields[11]) + int(fields[12])) / TICK_S)


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []  # it exited


def process_name(pid: int) -> str:
    """A short, stable name to group by: Ray's process title, or the program and its script."""
    argv = cmdline(pid)
    if not argv:
        return "?"
    if argv[0].startswith("ray::"):
        return argv[0].split()[0]  # e.g. ray::ServeReplica:commentary:Ingress, ray::ProxyActor
    program = Path(argv[0].split()[0]).name if argv[0] else "?"
    if program.startswith("python"):
        script = next((a for a in argv[1:] if a and not a.startswith("-")), "")
        return f"python {Path(script).name}"
    return program


def service_processes(root: int, exclude: Collection[int] = ()) -> dict[int, Proc]:
    """The root's process tree, plus anything left in its session (a daemon re-parented to init
    is still the service's): ``serve run`` is started in a session of its own."""
    procs = [
        p
        for p in (read_proc(int(d.name)) for d in Path("/proc").iterdir() if d.name.isdigit())
        if p
    ]
    children: dict[int, list[Proc]] = defaultdict(list)
    for proc in procs:
        children[proc.ppid].append(proc)
    tree: dict[int, Proc] = {}
    stack = [p for p in procs if p.pid == root]
    while stack:
        proc = stack.pop()
        if proc.pid not in tree:
            tree[proc.pid] = proc
            stack.extend(children[proc.pid])
    tree.update({p.pid: p for p in procs if p.sid == root and p.pid not in tree})
    return {pid: p for pid, p in tree.items() if pid not in exclude}


@dataclass
class CpuSample:
    wall: float
    cpu_s: dict[int, float]


class CpuSampler:
    """Samples the service's per-process CPU; the cores used between two instants."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.samples: list[CpuSample] = []
        self.names: dict[int, str] = {}

    def sample(self, exclude: Collection[int] = ()) -> None:
        procs = service_processes(self.root, exclude)
        for pid in procs:
            if pid not in self.names:
                self.names[pid] = process_name(pid)
        self.samples.append(CpuSample(time.time(), {pid: p.cpu_s for pid, p in procs.items()}))

    def cores(self, start: float, end: float) -> tuple[float | None, dict[str, float]]:
        """Average cores over the samples inside [start, end], in all and by process name.

        A process first seen in a sample started after the previous one: all its CPU counts.
        A process that exited between two samples loses its last second (small, and rare once
        the service is up: Serve's replicas are long-lived).
        """
        inside = [s for s in self.samples if start - SAMPLE_EVERY_S / 2 <= s.wall <= end]
        if len(inside) < 2:
            return None, {}
        span = inside[-1].wall - inside[0].wall
        by_name: Counter[str] = Counter()
        for before, after in itertools.pairwise(inside):
            for pid, cpu in after.cpu_s.items():
                by_name[self.names.get(pid, "?")] += cpu - before.cpu_s.get(pid, 0.0)
        total = sum(by_name.values()) / span
        top = {
            name: round(cpu / span, 3) for name, cpu in by_name.most_common() if cpu / span >= 0.005
        }
        return round(total, 3), top


# --- Ray's object store ---------------------------------------------------------------------
def cluster_flag(root: int, flag: str) -> str | None:
    """A flag's value on the service's Ray processes (the raylet and the dashboard are started
    with ``--gcs-address`` and ``--session-dir``): this service's own cluster (ServeProcess
    starts a fresh one), never another on the host. The gcs_server's own port flag is 0 (it
    picks one), so it cannot say."""
    for pid in service_processes(root):
        for arg in cmdline(pid):
            name, sep, value = arg.partition("=")
            if sep and name.replace("_", "-") == flag:
                return value
    return None


MIB = r"(\d+) MiB, (\d+) objects"


def object_store(root: int) -> dict[str, Any]:
    """``ray memory --stats-only`` against the service's cluster, parsed, and spill files left."""
    address = cluster_flag(root, "--gcs-address")
    if address is None:
        return {"error": "no --gcs-address on the service's Ray processes"}
    ray = Path(sys.executable).with_name("ray")
    # Ray 2.60's token auth (README): the CLI must be told to send ~/.ray/auth_token.
    env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "token")}
    try:
        done = subprocess.run(
            [str(ray), "memory", "--stats-only", "--address", address],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    except subprocess.TimeoutExpired:
        return {"error": "ray memory took over 60 s"}
    text = done.stdout
    result: dict[str, Any] = {"address": address}
    if done.returncode != 0 or "Plasma memory usage" not in text:
        result["error"] = (done.stderr or text).strip()[-400:]
        return result
    if used := re.search(r"Plasma memory usage " + MIB + r", ([\d.]+)% full", text):
        result.update(used_mib=int(used[1]), objects=int(used[2]), percent_full=float(used[3]))
    # Ray prints the Spilled/Restored lines only once something has been spilled or restored.
    spilled = re.search(r"Spilled " + MIB, text)
    restored = re.search(r"Restored " + MIB, text)
    result["spilled_mib_total"] = int(spilled[1]) if spilled else 0
    result["spilled_objects_total"] = int(spilled[2]) if spilled else 0
    result["restored_objects_total"] = int(restored[2]) if restored else 0
    result["fallback_mmap"] = "Plasma filesystem mmap usage" in text
    # Spilled objects still on disk: Ray spills to <session>/ray_spilled_objects* by default.
    session = cluster_flag(root, "--session-dir")
    if session is not None:
        result["session_dir"] = session
        files = [
            f
            for d in Path(session).glob("ray_spilled_objects*")
            for f in d.rglob("*")
            if f.is_file()
        ]
        result["spill_files_left"] = len(files)
        result["spill_bytes_left"] = sum(f.stat().st_size for f in files)
    return result


# --- scenarios ------------------------------------------------------------------------------
Scenario = tuple[str, dict[str, int]]  # its name as given, and clients per kind


def scenario(text: str) -> Scenario:
    counts: dict[str, int] = {}
    for term in text.split("+"):
        kind, _, count = term.partition(":")
        if kind not in KINDS or not count.isdigit() or int(count) < 1:
            raise argparse.ArgumentTypeError(f"{term!r}: want kind:count, kind one of {KINDS}")
        counts[kind] = counts.get(kind, 0) + int(count)
    return text, counts


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def summarise(
    name: str,
    counts: dict[str, int],
    generated: dict[str, Any],
    sampler: CpuSampler,
    idle: float | None,
) -> dict[str, Any]:
    steady_s = generated["steady_s"]
    clients = generated["clients"]
    admitted = {k: [c for c in clients if c["kind"] == k and c["status"] == 200] for k in counts}
    refused: dict[str, Any] = {}
    for kind in counts:
        turned = [c for c in clients if c["kind"] == kind and c["status"] not in (200, None)]
        if turned:
            refused[kind] = {
                "count": len(turned),
                "statuses": dict(Counter(str(c["status"]) for c in turned)),
                "messages": sorted({c["message"] or "" for c in turned}),
            }
    fps = [c["items_steady"] / steady_s for c in admitted.get("video", [])]
    cores, by_process = sampler.cores(generated["steady_from_wall"], generated["ended_wall"])
    audio = admitted.get("audio", [])
    return {
        "scenario": name,
        "viewers": counts,
        "admitted": {k: len(v) for k, v in admitted.items()},
        "refused": refused,
        "median_fps": median(fps),
        "min_fps": round(min(fps), 3) if fps else None,
        "bytes_per_s_median": {
            k: median([c["bytes_steady"] / steady_s for c in v]) for k, v in admitted.items()
        },
        "events_per_s_median": median(
            [c["items_steady"] / steady_s for c in admitted.get("events", [])]
        ),
        "audio_rate": next((c["audio_rate"] for c in audio if c["audio_rate"]), None),
        "audio_max_s_per_s": max((c["max_audio_s_per_s"] or 0.0 for c in audio), default=None),
        "max_gap_s": {
            k: max((c["max_gap_s"] for c in v), default=None) for k, v in admitted.items()
        },
        "first_item_s_median": {
            k: median([c["first_item_s"] for c in v if c["first_item_s"] is not None])
            for k, v in admitted.items()
        },
        "errors": {k: sum(c["error_count"] for c in clients if c["kind"] == k) for k in counts},
        "error_samples": sorted({e for c in clients for e in c["errors"]})[:10],
        "disconnects": {
            k: sum(c["disconnects"] for c in clients if c["kind"] == k) for k in counts
        },
        "never_answered": sum(c["status"] is None for c in clients),
        "service_cores": cores,
        "service_cores_above_idle": None
        if cores is None or idle is None
        else round(cores - idle, 3),
        "service_cores_by_process": by_process,
        "generator_cores": generated["cores_steady"],
        # The generator shares this machine: near a whole core it, not the service, may be
        # what limits the numbers above.
        "generator_saturated": (generated["cores_steady"] or 0.0) > 0.9,
        "generator_max_rss_mb": generated["max_rss_mb"],
        "steady_s": steady_s,
    }


def run_scenario(
    service: ServeProcess,
    scenario: Scenario,
    options: argparse.Namespace,
    sampler: CpuSampler,
    idle: float | None,
    out_path: Path,
) -> dict[str, Any]:
    name, counts = scenario
    command = [
        sys.executable,
        "-m",
        "benchmarks.fanout_clients",
        "--base-url",
        service.base_url,
        *[arg for kind, n in counts.items() for arg in (f"--{kind}", str(n))],
        "--seconds",
        str(options.seconds),
        "--warmup",
        str(options.warmup),
        "--ramp",
        str(options.ramp),
        "--out",
        str(out_path),
    ]
    generator = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + options.seconds + 120
    while generator.poll() is None and time.monotonic() < deadline:
        sampler.sample(exclude={generator.pid})
        time.sleep(SAMPLE_EVERY_S)
    if generator.poll() is None:
        generator.kill()
        generator.wait()
        raise RuntimeError(f"{name}: the load generator did not finish")
    sampler.sample(exclude={generator.pid})
    if generator.returncode != 0:
        raise RuntimeError(f"{name}: the load generator failed ({generator.returncode})")
    generated = json.loads(out_path.read_text())
    return summarise(name, counts, generated, sampler, idle)


def replicas(service: ServeProcess) -> dict[str, Any] | None:
    try:
        return httpx.get(f"{service.base_url}/api/status", timeout=30).json().get("replicas")
    except (httpx.HTTPError, ValueError):
        return None


def client_limit(text: str) -> tuple[str, int]:
    kind, _, count = text.partition("=")
    if kind not in KINDS or not count.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: want kind=N, kind one of {KINDS}")
    return ClientKind(kind).setting.upper(), int(count)


def client_limits(env: dict[str, str]) -> dict[str, int]:
    """The limits the service runs with: environment variables win over args and defaults."""
    limits = {}
    for kind in KINDS:
        setting = ClientKind(kind).setting
        default = ServiceSettings.model_fields[setting].default
        limits[kind] = int(env.get(setting.upper()) or os.environ.get(setting.upper()) or default)
    return limits


def bench(options: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    env = {name: str(n) for name, n in options.max_clients}
    service = ServeProcess(workdir, free_port(), args={"data_dir": str(workdir / "data")}, env=env)
    result: dict[str, Any] = {
        "benchmark": "fanout",
        "machine_cores": os.cpu_count(),
        "seconds": options.seconds,
        "warmup_s": options.warmup,
        "max_clients": client_limits(env),
        "scenarios": [],
    }
    with service.running(wait_for_stream="demo"):
        assert service.process is not None
        sampler = CpuSampler(service.process.pid)
        # Let start-up's last work (the first cycles, imports in replicas) pass before idling.
        time.sleep(options.settle)
        print(f"measuring idle CPU for {options.idle:.0f} s ...", flush=True)
        idle_from = time.time()
        while time.time() - idle_from < options.idle:
            sampler.sample()
            time.sleep(SAMPLE_EVERY_S)
        sampler.sample()
        idle, idle_by_process = sampler.cores(idle_from, time.time())
        result.update(idle_cores=idle, idle_cores_by_process=idle_by_process)
        result["object_store_before"] = object_store(service.process.pid)
        result["replicas_before"] = replicas(service)
        for number, planned in enumerate(options.scenarios):
            print(f"scenario {planned[0]} for {options.seconds:.0f} s ...", flush=True)
            out_path = workdir / f"clients-{number}.json"
            try:
                measured = run_scenario(service, planned, options, sampler, idle, out_path)
            except (RuntimeError, OSError, ValueError) as error:
                # One scenario failing (the service down, the generator crashed) must not
                # throw away the others' measurements.
                print(f"  failed: {error}", flush=True)
                measured = {"scenario": planned[0], "viewers": planned[1], "error": str(error)}
            measured["replicas_after"] = replicas(service)
            result["scenarios"].append(measured)
            brief = ("admitted", "refused", "median_fps", "service_cores", "generator_cores")
            print(f"  {json.dumps({k: measured.get(k) for k in brief})}", flush=True)
            time.sleep(options.settle)  # the closed clients' hubs and queues wind down
            # What the scenario left behind in the object store (objects still referenced).
            measured["object_store_after"] = object_store(service.process.pid)
        result["object_store_after"] = result["scenarios"][-1]["object_store_after"]
    return result


def table(result: dict[str, Any]) -> str:
    rows = [
        "| scenario | admitted | refused | median fps | min fps | video MB/s | events B/s "
        "| audio kB/s | service cores | above idle | generator cores | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def rate(s: dict[str, Any], kind: str, scale: float) -> str:
        value = s["bytes_per_s_median"].get(kind)
        return "" if value is None else f"{value / scale:.1f}"

    for s in result["scenarios"]:
        if "error" in s:
            rows.append(f"| {s['scenario']} | failed: {s['error'][:60]} |" + " |" * 10)
            continue
        admitted = " ".join(f"{k} {n}" for k, n in s["admitted"].items())
        refused = " ".join(f"{k} {r['count']}" for k, r in s["refused"].items()) or "0"
        rows.append(
            f"| {s['scenario']} | {admitted} | {refused} | {s['median_fps'] or ''} "
            f"| {'' if s['min_fps'] is None else s['min_fps']} | {rate(s, 'video', 1e6)} "
            f"| {rate(s, 'events', 1)} | {rate(s, 'audio', 1e3)} | {s['service_cores']} "
            f"| {s['service_cores_above_idle']} | {s['generator_cores']} "
            f"| {sum(s['errors'].values())} |"
        )
    return "\n".join([f"idle: {result['idle_cores']} cores", "", *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="each scenario's length")
    parser.add_argument(
        "--scenarios",
        nargs="+",
        type=scenario,
        default=[scenario(s) for s in DEFAULT_SCENARIOS],
        help="each kind:n[+kind:n...], kinds video, events, audio",
    )
    parser.add_argument("--warmup", type=float, default=5.0, help="not counted in fps and rates")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds to open all clients")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle CPU to measure")
    parser.add_argument(
        "--settle", type=float, default=5.0, help="pause before idle and after each scenario"
    )
    parser.add_argument(
        "--max-clients",
        nargs="+",
        type=client_limit,
        default=[],
        help="kind=N: MAX_<KIND>_CLIENTS for this run (default: the service's own)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "fanout.json")
    options = parser.parse_args()
    if options.seconds <= options.warmup:
        parser.error("--seconds must exceed --warmup: nothing would be measured")
    if options.ramp > options.warmup:
        parser.error("--ramp must not exceed --warmup: the steady window needs every client")
    with tempfile.TemporaryDirectory() as tmp:
        result = bench(options, Path(tmp))
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print()
    print(table(result))


if __name__ == "__main__":
    main()
