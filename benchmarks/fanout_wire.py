"""What the fanout load generator reads: HTTP/1.1 responses, MJPEG parts and SSE lines.

Kept to what a few hundred clients on one core can afford: the response is read into one
reused buffer by the kernel and parsed in place, the JPEGs are skipped by their length.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

MJPEG_BOUNDARY = b"--frame"  # serve_app/http/wire.py's MJPEG_BOUNDARY
READ_BLOCK = 256 * 1024


class MjpegParts:
    """Counts multipart/x-mixed-replace parts in a byte stream without keeping the JPEGs.

    Each part is ``--frame`` and headers, a blank line, Content-Length bytes, then CRLF; the
    body is skipped by its length, so a JPEG that happens to contain the boundary is harmless.
    """

    def __init__(self) -> None:
        self._head = bytearray()
        self._skip = 0

    def feed(self, block: bytes | memoryview) -> int:
        """Parts completed by this block."""
        done = 0
        pos = 0
        while pos < len(block):
            if self._skip:
                take = min(self._skip, len(block) - pos)
                self._skip -= take
                pos += take
                if self._skip == 0:
                    done += 1
                continue
            # Part headers are ~150 bytes: look at a little of the block, not all of it.
            prior = len(self._head)
            self._head += block[pos : pos + 2048]
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > 16384:
                    raise ValueError("no end of MJPEG part headers in 16 KiB")
                pos += len(self._head) - prior
                continue
            head = bytes(self._head[:end])
            pos += end + 4 - prior
            self._head.clear()
            if not head.lstrip(b"\r\n").startswith(MJPEG_BOUNDARY):
                raise ValueError(f"MJPEG part without boundary: {head[:40]!r}")
            self._skip = part_length(head) + 2  # the JPEG and the CRLF after it
        return done


def part_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise ValueError("MJPEG part without Content-Length")


class SseLines:
    """Counts ``event:`` lines and remembers the last ``id:`` (for Last-Event-ID)."""

    def __init__(self) -> None:
        self._pending = b""
        self.last_id: str | None = None

    def reconnecting(self) -> None:
        self._pending = b""  # a line cut by the broken connection; the id stays for resuming

    def feed(self, block: bytes) -> int:
        lines = (self._pending + block).split(b"\n")
        self._pending = lines.pop()
        events = 0
        for line in lines:
            if line.startswith(b"event:"):
                events += 1
            elif line.startswith(b"id:"):
                self.last_id = line[3:].strip().decode()
        return events


class HttpStream(asyncio.BufferedProtocol):
    """One HTTP/1.1 response read straight into a reused buffer (one copy, by the kernel).

    A StreamReader copies every block twice more (into its buffer, out to the caller); at a few
    hundred viewers of a 720p stream that is most of the generator's CPU. The body goes to
    ``sink`` de-chunked, as memoryviews valid only during the call.
    """

    def __init__(self, sink: Callable[[memoryview], None]) -> None:
        self.sink = sink
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.head_ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._buffer = memoryview(bytearray(READ_BLOCK))
        self._line = bytearray()  # the head, or a chunk-size line, while it is incomplete
        self._state = "head"  # head, size, data, crlf, raw, done
        # Bytes left of the chunk (data), of its CRLF (crlf) or of the body (raw; -1: to EOF).
        self._left = 0

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        data = self._buffer[:nbytes]
        pos = 0
        try:
            while pos < nbytes and self._state != "done":
                pos = self._step(data, pos)
        except ValueError as error:
            self._finish(error)

    def _step(self, data: memoryview, pos: int) -> int:
        if self._state in ("head", "size"):
            prior = len(self._line)
            piece = data[pos : pos + 4096]
            self._line += piece
            mark = b"\r\n\r\n" if self._state == "head" else b"\r\n"
            end = self._line.find(mark)
            if end < 0:
                if len(self._line) > 65536:
                    raise ValueError("no end of line in 64 KiB")
                return pos + len(piece)
            line = bytes(self._line[:end])
            self._line.clear()
            self._head(line) if self._state == "head" else self._size(line)
            return pos + end + len(mark) - prior
        take = len(data) - pos if self._left < 0 else min(self._left, len(data) - pos)
        if self._state == "crlf":
            self._left -= take
            if self._left == 0:
                self._state = "size"
            return pos + take
        self.sink(data[pos : pos + take])
        if self._left > 0:
            self._left -= take
            if self._left == 0:
                self._state, self._left = ("crlf", 2) if self._state == "data" else ("done", 0)
                if self._state == "done":
                    self._finish(None)
        return pos + take

    def _head(self, raw: bytes) -> None:
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ", 2)[1])
        for line in lines:
            name, sep, value = line.partition(":")
            if sep:
                self.headers[name.strip().lower()] = value.strip()
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            self._state = "size"
        else:
            self._state, self._left = "raw", int(self.headers.get("content-length", -1))
            if self._left == 0:
                self._finish(None)
        if not self.head_ready.done():
            self.head_ready.set_result(None)

    def _size(self, line: bytes) -> None:
        size = int(line.split(b";", 1)[0], 16)
        if size == 0:
            self._finish(None)  # the last chunk: the server ended the stream (trailers ignored)
        else:
            self._state, self._left = "data", size

    def _finish(self, error: BaseException | None) -> None:
        self._state = "done"
        for future in (self.head_ready, self.ended):
            if not future.done():
                future.set_exception(error) if error else future.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._state == "raw" and self._left < 0 and exc is None:
            self._finish(None)  # a body delimited by the connection's close
        elif self._state != "done":
            self._finish(exc or ConnectionResetError("connection closed mid-response"))
