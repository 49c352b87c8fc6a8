"""Schemathesis over the service's own OpenAPI document: no input yields a 5xx.

Endpoints that stream forever (video, events, audio) are left out: a fuzzer cannot read
them to an end. Their bad inputs (unknown stream, bad Last-Event-ID) are in test_service.py.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from serve_app.http.api import openapi_document
from tests.conftest import API_TOKEN
from tests.support.serve_process import ServeProcess

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_dict(openapi_document()).exclude(
    path_regex=r"/(mjpeg|events|audio-stream(\.wav)?)$"
)


@pytest.fixture(scope="module", autouse=True)
def remove_streams_the_fuzzer_made(service: ServeProcess):  # type: ignore[no-untyped-def]
    yield
    with httpx.Client(base_url=service.base_url, timeout=30, headers=AUTH) as client:
        for stream in client.get("/api/streams").json():
            if stream["id"] != "demo":
                client.delete(f"/api/streams/{stream['id']}")


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_gets_a_server_error(case, service: ServeProcess) -> None:  # type: ignore[no-untyped-def]
    response = case.call(base_url=service.base_url, timeout=30, headers=AUTH)
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text[:300]}"
    if response.status_code >= 400:
        body = response.json()
        assert "error" in body, "every error says what went wrong"
        assert "Traceback" not in response.text
