"""/docs and /redoc work with no network: every file they need is served by the API itself."""

from __future__ import annotations

import re

import httpx

from serve_app.http.api import _routes


async def test_the_docs_page_loads_swagger_ui_from_the_api_not_a_cdn() -> None:
    transport = httpx.ASGITransport(app=_routes())
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as api:
        page = await api.get("/docs")
        assert page.status_code == 200
        urls = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]|url: ['"]([^'"]+)['"]""", page.text)
        needed = [u for pair in urls for u in pair if u]
        assert needed and all(u.startswith("/") for u in needed), f"off-site: {needed}"
        for url in needed:
            response = await api.get(url)
            assert response.status_code == 200, url
        redoc = await api.get("/redoc")
        assert redoc.status_code == 200 and "cdn" not in redoc.text.lower()
