from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.serve_process import ServeProcess, free_port

API_TOKEN = "e2e-test-token"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-output"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests with a Serve application of their own go first, before the shared one starts:
    two Ray clusters at once overload a 2-core machine and make its timings meaningless."""
    items.sort(key=lambda item: item.get_closest_marker("own_service") is None)


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """The real application from serve_config.yaml, on the embedded default, on 127.0.0.1."""
    workdir = tmp_path_factory.mktemp("serve")
    process = ServeProcess(
        workdir,
        free_port(),
        args={
            "data_dir": str(workdir / "data"),
            "allowed_file_roots": [str(workdir / "media")],
            "api_token": API_TOKEN,
            # A 2-core CI machine: a few streams at once is what it can run honestly.
            "max_streams": 4,
        },
    )
    (workdir / "media").mkdir()
    try:
        seconds = process.start()
        print(f"service ready in {seconds:.1f} s")
        yield process
    finally:
        process.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "serve-e2e.log").write_text(process.log_tail(2000))


@pytest.fixture()
def client(service: ServeProcess) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=service.base_url, timeout=30, headers=headers) as c:
        yield c
