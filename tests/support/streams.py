"""Clients for the service's streams, as a user's program would read them."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np


@dataclass
class MjpegPart:
    jpeg: bytes
    headers: dict[str, str]
    received_at: float


def read_mjpeg(client: httpx.Client, url: str, seconds: float) -> Iterator[MjpegPart]:
    """Yield each JPEG part of a multipart/x-mixed-replace stream for ``seconds``."""
    deadline = time.monotonic() + seconds
    with client.stream("GET", url, timeout=httpx.Timeout(10, read=10)) as response:
        response.raise_for_status()
        ctype = response.headers["content-type"]
        boundary = ("--" + ctype.split("boundary=", 1)[1]).encode()
        buffer = b""
        for chunk in response.iter_bytes():
            buffer += chunk
            while True:
                start = buffer.find(boundary)
                head_end = buffer.find(b"\r\n\r\n", start)
                if start < 0 or head_end < 0:
                    break
                head = buffer[start + len(boundary) : head_end].decode().strip().splitlines()
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (h.split(":", 1) for h in head if ":" in h)
                }
                length = int(headers["content-length"])
                body_start = head_end + 4
                if len(buffer) < body_start + length:
                    break
                yield MjpegPart(buffer[body_start : body_start + length], headers, time.time())
                buffer = buffer[body_start + length :]
            if time.monotonic() > deadline:
                return


@dataclass
class SseEvent:
    event: str
    id: str
    data: dict[str, Any]
    received_at: float = field(default_factory=time.time)


def read_sse(
    client: httpx.Client,
    url: str,
    seconds: float,
    until: Any = None,
    headers: dict[str, str] | None = None,
) -> list[SseEvent]:
    """Collect SSE events for ``seconds``, or until ``until(events)`` is true."""
    events: list[SseEvent] = []
    deadline = time.monotonic() + seconds
    fields: dict[str, str] = {}
    with client.stream(
        "GET", url, headers=headers or {}, timeout=httpx.Timeout(10, read=20)
    ) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line == "":
                if "data" in fields:
                    events.append(
                        SseEvent(
                            fields.get("event", "message"),
                            fields.get("id", ""),
                            json.loads(fields["data"]),
                        )
                    )
                    if until is not None and until(events):
                        return events
                fields = {}
            elif not line.startswith(":") and ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.removeprefix(" ")
            if time.monotonic() > deadline:
                break
    return events


def speech_samples(pcm: bytes) -> np.ndarray:
    """The non-silent samples of s16le PCM, as floats in [-1, 1): the paced audio stream fills
    the time between lines with silence."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64) / 32768
    return samples[samples != 0]


def read_speech(response: httpx.Response, speech_s: float, rate_hz: int) -> np.ndarray:
    """Read a paced PCM stream until it has carried ``speech_s`` of non-silent audio."""
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(speech_samples(data)) >= speech_s * rate_hz:
            break
    return speech_samples(data)
