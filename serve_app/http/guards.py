"""ASGI middleware in front of the HTTP API: access checks and a request-size limit.

Plain ASGI (not Starlette's BaseHTTPMiddleware) so long-lived streaming responses pass
through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from serve_app.http.access import AccessPolicy

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


PAGE_FILES_PATH = "/static"  # the page's stylesheet and script modules (api.py mounts them)
DOCS_FILES_PATH = "/static-offline-docs"  # Swagger UI's and ReDoc's files (fastapi-offline)


class AccessGuard:
    """Writes (any method but GET/HEAD/OPTIONS) need the token; reads only if configured.

    The page, the API docs (with the files each loads) and CORS preflights stay open.
    """

    OPEN_PATHS = frozenset({"/", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"})
    # The page's and the docs' stylesheets and scripts: as public as the pages that load
    # them. Only the static mounts answer these paths, with files of packages and nothing else.
    OPEN_PREFIXES = (f"{PAGE_FILES_PATH}/", f"{DOCS_FILES_PATH}/")

    def __init__(self, app: ASGIApp, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in self.OPEN_PATHS
            or path.startswith(self.OPEN_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method == "OPTIONS":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        client = scope.get("client")
        denied = self.policy.check(
            write=method not in SAFE_METHODS,
            client_host=client[0] if client else None,
            authorization=headers.get(b"authorization", b"").decode("latin-1") or None,
        )
        if denied is not None:
            await send_json(send, denied.status_code, {"error": denied.message})
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Requests with a body over ``max_bytes`` get a 413, announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_big = {"error": f"request body over {self.max_bytes} bytes (MAX_REQUEST_BYTES)"}
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_json(send, 413, too_big)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except BodyTooLarge:
            if not started:
                await send_json(send, 413, too_big)


class BodyTooLarge(Exception):
    pass
