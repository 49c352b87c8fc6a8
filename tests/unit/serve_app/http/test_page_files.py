"""The page's own files: GET / links its stylesheet and script, the script's modules import
the rest, and /static/ serves each of them with the type a browser needs, as openly as the
page itself."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, cast

import httpx

from serve_app.http.access import AccessPolicy
from serve_app.http.api import build_api, openapi_document
from serve_app.http.backend import ServiceBackend
from serve_app.settings import ServiceSettings

TOKEN = "t0ken"
# A browser runs a module script only if it comes as JavaScript.
CONTENT_TYPES = {".css": ("text/css",), ".js": ("text/javascript", "application/javascript")}
LINKED = re.compile(r"""<(?:link|script)\b[^>]*\b(?:href|src)="(/static/[^"]+)\"""")
IMPORTED = re.compile(r"""^import\b[^;]*?\bfrom\s+"\./([^"]+)";""", re.MULTILINE | re.DOTALL)


def client(protect_reads: bool = False) -> httpx.AsyncClient:
    """The whole API (guards included) as a client on another host, with no token."""
    app = build_api(
        ServiceSettings(default_stream_id="s"),
        cast(ServiceBackend, object()),  # the page and its files never reach the backend
        {"describer": "synthetic", "voice": "none"},
        AccessPolicy(TOKEN, token_was_generated=False, protect_reads=protect_reads),
    )
    transport = httpx.ASGITransport(app, raise_app_exceptions=False, client=("192.0.2.7", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def shipped_files() -> set[str]:
    """Every file in the package's static folder but the page, as a /static/ path."""
    folder = resources.files("serve_app.http").joinpath("static")
    return {f"/static/{f.name}" for f in folder.iterdir() if f.name != "index.html"}


async def files_the_page_loads(api: httpx.AsyncClient) -> dict[str, httpx.Response]:
    """Each file the page's HTML links, and each module those import, fetched once."""
    page = await api.get("/")
    assert page.status_code == 200
    to_fetch = LINKED.findall(page.text)
    assert to_fetch, "the page links its stylesheet and script"
    fetched: dict[str, httpx.Response] = {}
    while to_fetch:
        path = to_fetch.pop()
        if path in fetched:
            continue
        fetched[path] = response = await api.get(path)
        if path.endswith(".js") and response.status_code == 200:
            to_fetch += [f"/static/{name}" for name in IMPORTED.findall(response.text)]
    return fetched


async def test_the_page_links_its_files_and_each_is_served_with_its_type() -> None:
    async with client() as api:
        fetched = await files_the_page_loads(api)
    assert {"/static/page.css", "/static/main.js"} <= set(fetched)
    assert set(fetched) == shipped_files(), "every shipped file is used, every used one shipped"
    for path, response in fetched.items():
        assert response.status_code == 200, path
        suffix = path[path.rindex(".") :]
        assert response.headers["content-type"].startswith(CONTENT_TYPES[suffix]), path


async def test_the_pages_files_are_as_open_as_the_page_when_reads_are_protected() -> None:
    async with client(protect_reads=True) as api:
        fetched = await files_the_page_loads(api)
        api_read = await api.get("/api/streams")
    assert api_read.status_code == 401, "reads are protected"
    assert fetched and all(r.status_code == 200 for r in fetched.values()), {
        path: r.status_code for path, r in fetched.items()
    }


async def test_a_missing_file_is_a_404_and_a_write_a_405_each_a_json_error() -> None:
    async with client() as api:
        missing = await api.get("/static/nope.js")
        write = await api.post("/static/main.js", content=b"x")
    assert missing.status_code == 404 and "error" in missing.json()
    assert write.status_code == 405 and "error" in write.json()


def test_the_files_are_not_in_the_openapi_document() -> None:
    document: dict[str, Any] = openapi_document()
    assert not [path for path in document["paths"] if path.startswith("/static")]


async def test_the_api_docs_and_their_files_are_open_when_reads_are_protected() -> None:
    async with client(protect_reads=True) as api:
        pages = [await api.get(path) for path in ("/docs", "/redoc")]
        script = await api.get("/static-offline-docs/swagger-ui-bundle.js")
    assert [page.status_code for page in pages] == [200, 200]
    assert "/static-offline-docs/" in pages[0].text
    assert script.status_code == 200


async def test_the_pages_files_are_revalidated_on_every_load() -> None:
    async with client() as api:
        response = await api.get("/static/main.js")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]  # so revalidating costs a 304, not the file
