"""The HTTP API an Ingress replica serves: the routes, their error answers, and the guards.

:func:`build_api` turns a :class:`ServiceBackend` into that ASGI app. Every error a client
gets is a JSON ``{"error": ...}`` body, never a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from serve_app.http.access import AccessPolicy
from serve_app.http.backend import ServiceBackend
from serve_app.http.guards import (
    DOCS_FILES_PATH,
    PAGE_FILES_PATH,
    AccessGuard,
    ASGIApp,
    BodyLimit,
)
from serve_app.http.routes import router
from serve_app.http.service import Service
from serve_app.messages import StreamMoving
from serve_app.settings import ServiceSettings
from serve_app.telemetry.sink import MetricsSink

log = logging.getLogger(__name__)


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    return JSONResponse({"error": error.detail}, status_code=error.status_code)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [
        f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
    ]
    return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)


def client_left(error: BaseException, cancelled: tuple[type[BaseException], ...]) -> bool:
    """The request was cancelled because its client disconnected: not an error.

    ``cancelled`` names what the platform raises then (Ray's TaskCancelledError); asyncio's
    own cancellation always counts.
    """
    if isinstance(error, BaseExceptionGroup):
        return all(client_left(inner, cancelled) for inner in error.exceptions)
    return isinstance(error, (asyncio.CancelledError, *cancelled))


def _unexpected(
    cancelled: tuple[type[BaseException], ...],
) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(request: Request, error: Exception) -> JSONResponse:
        if client_left(error, cancelled):
            log.debug("client left %s", request.url.path)
            return JSONResponse({"error": "client disconnected"}, status_code=499)
        # Logged in full here; the client gets a message, never a stack trace.
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse({"error": f"internal error: {type(error).__name__}"}, status_code=500)

    return handle


async def _moving(request: Request, error: StreamMoving) -> JSONResponse:
    # A stream changing replicas (one died or is scaled down): a moment's wait, not a fault.
    message = str(error).splitlines()[-1] if str(error) else "the stream is moving; retry"
    return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "1"})


class PageFiles(StaticFiles):
    """The page's files, revalidated on every load (cheap: their ETag) so a browser never
    mixes modules of two versions after an upgrade."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def _routes(cancelled: tuple[type[BaseException], ...] = ()) -> FastAPI:
    # FastAPI's own /docs and /redoc load their scripts from a CDN and are blank offline;
    # fastapi-offline serves the same pages from files in its package.
    api = FastAPIOffline(
        static_url=DOCS_FILES_PATH,
        title="Live commentary",
        description="Live AI commentary on video streams: text (SSE), video (MJPEG), speech (PCM).",
        version="0.1.0",
    )
    api.include_router(router)
    # The page's stylesheet and script modules, from the installed package (so from a wheel
    # too). A mount is not in the OpenAPI document: it is files, not API.
    api.mount(PAGE_FILES_PATH, PageFiles(packages=[("serve_app.http", "static")]), name="static")
    api.exception_handler(HTTPException)(_http_error)
    api.exception_handler(RequestValidationError)(_validation_error)
    api.exception_handler(StreamMoving)(_moving)
    api.exception_handler(Exception)(_unexpected(cancelled))
    return api


def openapi_document() -> dict[str, Any]:
    """The API's OpenAPI document, without a backend (for fuzzers and docs)."""
    return _routes().openapi()


def build_api(
    settings: ServiceSettings,
    backend: ServiceBackend,
    backend_info: dict[str, Any],
    access: AccessPolicy,
    cancelled: tuple[type[BaseException], ...] = (),
    metrics: MetricsSink | None = None,
) -> ASGIApp:
    """The API over ``backend``, behind CORS (when configured), access checks and a body limit.

    ``cancelled``: the exception types the platform raises in a request whose client left
    (answered 499 and not logged as errors). ``metrics``: where viewer counts go.
    """
    api = _routes(cancelled)
    page_html = resources.files("serve_app.http").joinpath("static/index.html").read_text()
    api.state.service = Service(settings, backend, backend_info, page_html, metrics)
    if settings.cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )
    return BodyLimit(AccessGuard(api, access), settings.max_request_bytes)
