"""AccessGuard and BodyLimit: who gets through to the API, and how big a request may be."""

from __future__ import annotations

import json
from typing import Any

from serve_app.http.access import AccessPolicy
from serve_app.http.guards import AccessGuard, BodyLimit, Message, Receive, Scope, Send

TOKEN = "s3cret"


class Inner:
    """The app behind the guard: reads the whole body, answers 200, remembers it was called."""

    def __init__(self) -> None:
        self.calls = 0
        self.body = b""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        more = True
        while more:
            message = await receive()
            self.body += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def call(
    app: Any,
    method: str = "GET",
    path: str = "/api/streams",
    headers: dict[str, str] | None = None,
    chunks: tuple[bytes, ...] = (b"",),
    client: str = "192.0.2.7",
) -> tuple[int, dict[str, Any] | bytes]:
    """One request through ``app``: its status and its body (parsed when JSON)."""
    scope: Scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": (client, 50000),
    }
    pending = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers_sent = dict(next(m for m in sent if m["type"] == "http.response.start")["headers"])
    if headers_sent.get(b"content-type") == b"application/json":
        return status, json.loads(body)
    return status, body


def guard(protect_reads: bool = False, generated: bool = False) -> tuple[AccessGuard, Inner]:
    inner = Inner()
    return AccessGuard(inner, AccessPolicy(TOKEN, generated, protect_reads)), inner


async def test_a_write_without_the_token_is_refused_with_what_to_send() -> None:
    app, inner = guard()
    status, body = await call(app, "POST")
    assert status == 401
    assert body == {"error": "this needs 'Authorization: Bearer <token>' (API_TOKEN)"}
    assert inner.calls == 0


async def test_a_write_with_a_wrong_token_is_forbidden() -> None:
    app, inner = guard()
    status, body = await call(app, "DELETE", headers={"Authorization": "Bearer nope"})
    assert (status, body) == (403, {"error": "the bearer token is not valid"})
    assert inner.calls == 0


async def test_a_write_with_the_token_gets_through() -> None:
    app, inner = guard()
    status, _ = await call(app, "POST", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and inner.calls == 1


async def test_reads_are_open_unless_protected() -> None:
    open_app, _ = guard(protect_reads=False)
    closed_app, _ = guard(protect_reads=True)
    assert (await call(open_app, "GET"))[0] == 200
    assert (await call(closed_app, "GET"))[0] == 401


async def test_the_page_the_api_document_and_preflights_stay_open() -> None:
    app, inner = guard(protect_reads=True)
    for path in ("/", "/docs", "/openapi.json"):
        assert (await call(app, "GET", path))[0] == 200
    assert (await call(app, "OPTIONS", "/api/streams"))[0] == 200
    assert inner.calls == 4


async def test_a_generated_token_spares_a_loopback_client() -> None:
    app, _ = guard(protect_reads=True, generated=True)
    assert (await call(app, "POST", client="127.0.0.1"))[0] == 200
    assert (await call(app, "POST", client="192.0.2.7"))[0] == 401


async def test_a_body_announced_over_the_limit_is_refused_unread() -> None:
    inner = Inner()
    app = BodyLimit(inner, max_bytes=10)
    status, body = await call(app, "POST", headers={"Content-Length": "11"}, chunks=(b"x" * 11,))
    assert (status, body) == (413, {"error": "request body over 10 bytes (MAX_REQUEST_BYTES)"})
    assert inner.calls == 0


async def test_a_streamed_body_going_over_the_limit_is_refused() -> None:
    inner = Inner()
    app = BodyLimit(inner, max_bytes=10)
    status, body = await call(app, "POST", chunks=(b"x" * 6, b"x" * 6))
    assert status == 413
    assert body == {"error": "request body over 10 bytes (MAX_REQUEST_BYTES)"}


async def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    inner = Inner()
    app = BodyLimit(inner, max_bytes=10)
    status, _ = await call(
        app, "POST", headers={"Content-Length": "10"}, chunks=(b"12345", b"67890")
    )
    assert status == 200
    assert inner.body == b"1234567890"
