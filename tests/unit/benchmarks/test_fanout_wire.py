"""The fanout generator's reader: chunked HTTP from a real socket, MJPEG parts counted."""

from __future__ import annotations

import asyncio

from benchmarks.fanout_wire import HttpStream, MjpegParts, SseLines


def mjpeg_part(i: int) -> bytes:
    jpeg = bytes([i % 256]) * (50_000 + i) + b"--frame"  # a boundary inside the body is data
    head = f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
    return head.encode() + jpeg + b"\r\n"


async def serve_and_read(parts: int, split_at: int) -> tuple[int | None, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(parts):
            part = mjpeg_part(i)
            for chunk in (part[:split_at], part[split_at:]):  # parts cut across chunks
                writer.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    counter, seen = MjpegParts(), [0]

    def sink(block: memoryview) -> None:
        seen[0] += counter.feed(block)

    loop = asyncio.get_running_loop()
    transport, http = await loop.create_connection(lambda: HttpStream(sink), "127.0.0.1", port)
    transport.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await asyncio.wait_for(http.ended, 10)
    transport.close()
    server.close()
    return http.status, seen[0]


def test_every_part_is_counted_however_the_chunks_cut_it() -> None:
    for split_at in (1, 40, 777, 50_050):  # all inside the smallest part
        assert asyncio.run(serve_and_read(30, split_at)) == (200, 30)


def test_sse_lines_count_events_and_keep_the_last_id_across_blocks() -> None:
    lines = SseLines()
    assert lines.feed(b"id: 4\nevent: text\ndata: {}\n\nid: 5\nev") == 1
    assert lines.feed(b"ent: text\ndata: {}\n\n") == 1
    assert lines.last_id == "5"
