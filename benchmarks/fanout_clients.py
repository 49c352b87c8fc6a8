"""Load generator for benchmarks/fanout.py: many video, event and audio clients of one stream.

Opens ``--video`` MJPEG viewers (``/api/mjpeg``), ``--events`` SSE clients (``/api/events``)
and ``--audio`` PCM listeners (``/api/audio-stream``) of the default stream, all at once (over
``--ramp`` seconds), reads them for ``--seconds``, and writes what each client got: its HTTP
status (a refusal's error message too), bytes, MJPEG parts or SSE events, frames per second
over the steady window (after the first ``--warmup`` seconds), gaps, errors and disconnects;
plus this process's own CPU, so the driver can tell when the generator, not the service, is
the bottleneck.

    python -m benchmarks.fanout_clients --base-url http://127.0.0.1:8000 \
        --video 25 --events 25 --audio 5 --seconds 30 --out /tmp/clients.json

Every client is a coroutine on one event loop (uvloop where installed) speaking HTTP/1.1
through a buffered protocol (``Connection: close``, chunked bodies decoded by hand), not httpx:
a few hundred clients then cost a fraction of one core, and what they cost is measured here,
not guessed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.fanout_wire import HttpStream, MjpegParts, SseLines

try:
    import uvloop  # uvicorn[standard] brings it; the generator's own CPU is what it saves
except ImportError:  # pragma: no cover
    uvloop = None

PATHS = {"video": "/api/mjpeg", "events": "/api/events", "audio": "/api/audio-stream"}
HEAD_TIMEOUT_S = 30.0  # a loaded service may take a while to answer hundreds of new clients
RECONNECT_AFTER_S = 0.5  # as a player would, after the server ended a stream mid-run
MAX_ERRORS_KEPT = 5  # per client: enough to say what went wrong without a huge file


class StreamEnded(Exception):
    """The server closed the body before the run was over."""


@dataclass
class Client:
    """One client's record; the driver summarises these."""

    kind: str
    index: int
    status: int | None = None  # of the first response; later reconnects are in `statuses`
    statuses: list[int] = field(default_factory=list)
    message: str | None = None  # a refusal's {"error": ...}
    audio_rate: int | None = None  # X-Audio-Rate, samples per second (audio clients)
    connect_s: float | None = None  # from the client's start to the response headers
    first_item_s: float | None = None  # to its first part, event or audio byte
    bytes: int = 0
    bytes_steady: int = 0
    items: int = 0  # MJPEG parts, SSE `event:` lines, or audio blocks
    items_steady: int = 0
    max_gap_s: float = 0.0  # longest wait between two items after the first
    max_audio_s_per_s: float | None = None  # most audio seconds received in one wall second
    disconnects: int = 0  # bodies the server ended or broke before the run was over
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    # Not written out: state while reading.
    _last_item_at: float | None = field(default=None, repr=False)
    _audio_bins: dict[int, int] = field(default_factory=dict, repr=False)

    def error(self, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(text)

    def record(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


@dataclass
class Clock:
    """The run's wall-clock marks, shared by every client."""

    started: float
    steady_from: float
    ends: float

    def steady(self, now: float) -> bool:
        return self.steady_from <= now <= self.ends


def error_message(body: bytes) -> str:
    """The service's JSON error (docs/api.md: every error is {"error": ...}), or the raw body."""
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace")


async def run_client(client: Client, host: str, port: int, clock: Clock) -> None:
    """Read one stream until the run ends, reconnecting (as a player would) if the server
    ends it; a refused client (any status but 200) does not retry, so it stays refused."""
    sse = SseLines()
    started = time.time()
    loop = asyncio.get_running_loop()
    while time.time() < clock.ends:
        sse.reconnecting()
        extra = f"Last-Event-ID: {sse.last_id}\r\n" if sse.last_id is not None else ""
        request = (
            f"GET {PATHS[client.kind]} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Accept: */*\r\nConnection: close\r\n{extra}\r\n"
        ).encode()
        body = BodyReader(client, clock, sse)
        transport: asyncio.BaseTransport | None = None
        try:
            transport, http = await asyncio.wait_for(
                loop.create_connection(partial(HttpStream, body.feed), host, port), HEAD_TIMEOUT_S
            )
            transport.write(request)  # type: ignore[attr-defined]
            await asyncio.wait_for(asyncio.shield(http.head_ready), HEAD_TIMEOUT_S)
            assert http.status is not None
            client.statuses.append(http.status)
            if client.status is None:
                client.status = http.status
                client.connect_s = round(time.time() - started, 3)
            if http.status != 200:
                body.keep_raw()
                await asyncio.wait_for(asyncio.shield(http.ended), HEAD_TIMEOUT_S)
                client.message = error_message(bytes(body.raw))
                return
            if client.kind == "audio":
                client.audio_rate = int(http.headers.get("x-audio-rate", 0)) or None
            await http.ended
            client.disconnects += 1  # the server ended the body before the run's end
        except OSError as error:
            client.disconnects += client.status == 200
            client.error(f"{type(error).__name__}: {error}"[:200])
        except (TimeoutError, ValueError) as error:
            client.error(f"{type(error).__name__}: {error}"[:200])
        finally:
            if transport is not None:
                transport.close()
        if client.status != 200:
            return  # never admitted: a retry loop would only hammer the service
        await asyncio.sleep(RECONNECT_AFTER_S)


class BodyReader:
    """Counts one response body's bytes and items into its client, block by block."""

    def __init__(self, client: Client, clock: Clock, sse: SseLines) -> None:
        self.client = client
        self.clock = clock
        self.sse = sse
        self.parts = MjpegParts()
        self.raw: bytearray | None = None  # a refusal's body, kept to read its error

    def keep_raw(self) -> None:
        self.raw = bytearray()

    def feed(self, block: memoryview) -> None:
        if self.raw is not None:
            self.raw += block
            return
        client, now = self.client, time.time()
        steady = self.clock.steady(now)
        client.bytes += len(block)
        client.bytes_steady += len(block) if steady else 0
        if client.kind == "video":
            items = self.parts.feed(block)
        elif client.kind == "events":
            items = self.sse.feed(bytes(block))
        else:
            items = 1
            second = int(now - self.clock.started)
            client._audio_bins[second] = client._audio_bins.get(second, 0) + len(block)
        if not items:
            return
        client.items += items
        client.items_steady += items if steady else 0
        if client._last_item_at is None:
            client.first_item_s = round(now - self.clock.started, 3)
        else:
            client.max_gap_s = max(client.max_gap_s, round(now - client._last_item_at, 3))
        client._last_item_at = now


def summarise_audio(client: Client) -> None:
    """Audio is spoken commentary, so it comes in bursts: say how many seconds of it arrived
    in the busiest wall-clock second (above 1.0: faster than real time, the player buffers)."""
    if client._audio_bins and client.audio_rate:
        busiest = max(client._audio_bins.values())
        client.max_audio_s_per_s = round(busiest / (2 * client.audio_rate), 3)  # s16le mono


def raise_fd_limit() -> None:
    # Every client is a socket; the soft limit is often 1024.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def generate(
    base_url: str, counts: dict[str, int], seconds: float, warmup: float, ramp: float
) -> dict[str, Any]:
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    started = time.time()
    clock = Clock(started, started + warmup, started + seconds)
    clients = [Client(kind, i) for kind, n in counts.items() for i in range(n)]
    cpu_start = time.process_time()
    cpu_steady_from: float | None = None

    async def start_later(client: Client, delay: float) -> None:
        await asyncio.sleep(delay)
        await run_client(client, host, port, clock)

    # Interleave the kinds and spread the connects over the ramp: a thundering herd of a few
    # hundred handshakes at one instant would measure the listen backlog, not the fan-out.
    order = sorted(clients, key=lambda c: (c.index, c.kind))
    tasks = [
        asyncio.create_task(start_later(c, ramp * i / max(1, len(order))))
        for i, c in enumerate(order)
    ]
    await asyncio.sleep(max(0.0, clock.steady_from - time.time()))
    cpu_steady_from = time.process_time()
    await asyncio.sleep(max(0.0, clock.ends - time.time()))
    cpu_end = time.process_time()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        if client.kind == "audio":
            summarise_audio(client)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    steady_s = clock.ends - clock.steady_from  # items after clock.ends are not counted
    return {
        "base_url": base_url,
        "event_loop": type(asyncio.get_running_loop()).__module__.split(".")[0],
        "counts": counts,
        "seconds": seconds,
        "warmup_s": warmup,
        "ramp_s": ramp,
        "started_wall": started,
        "steady_from_wall": clock.steady_from,
        "ended_wall": clock.ends,
        "steady_s": round(steady_s, 3),
        "cpu_s": round(cpu_end - cpu_start, 3),
        "cpu_s_steady": round(cpu_end - cpu_steady_from, 3),
        "cores_steady": round((cpu_end - cpu_steady_from) / steady_s, 3) if steady_s > 0 else None,
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),  # ru_maxrss is in KiB on Linux
        "clients": [c.record() for c in clients],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--video", type=int, default=0, help="MJPEG viewers")
    parser.add_argument("--events", type=int, default=0, help="SSE clients")
    parser.add_argument("--audio", type=int, default=0, help="PCM listeners")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the run")
    parser.add_argument("--warmup", type=float, default=5.0, help="not counted in fps, bytes/s")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds to open every client")
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args()
    if options.ramp > options.warmup:
        parser.error("--ramp must not exceed --warmup: the steady window needs every client")
    raise_fd_limit()
    counts = {"video": options.video, "events": options.events, "audio": options.audio}
    if uvloop is not None:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    result = asyncio.run(
        generate(
            options.base_url,
            {k: n for k, n in counts.items() if n > 0},
            options.seconds,
            options.warmup,
            options.ramp,
        )
    )
    options.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
