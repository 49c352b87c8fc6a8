"""Service: the room each kind of client has on a stream, each kind with its own setting."""

from __future__ import annotations

import pytest

from serve_app.http.broadcaster import Broadcaster, Overflow
from serve_app.http.service import ClientError, ClientKind, Service
from serve_app.settings import ServiceSettings


@pytest.mark.parametrize(
    ("kind", "setting"),
    [
        (ClientKind.VIDEO, "MAX_VIDEO_CLIENTS"),
        (ClientKind.EVENTS, "MAX_EVENTS_CLIENTS"),
        (ClientKind.AUDIO, "MAX_AUDIO_CLIENTS"),
    ],
)
def test_each_kind_is_refused_past_its_own_limit_naming_it(kind: ClientKind, setting: str) -> None:
    limits = {"max_video_clients": 3, "max_events_clients": 3, "max_audio_clients": 3}
    service = Service(ServiceSettings(**{**limits, kind.setting: 2}), None, {}, "")  # type: ignore[arg-type]
    clients: Broadcaster[bytes] = Broadcaster(4, Overflow.DROP_OLDEST)
    for _ in range(2):
        service.check_room(clients, kind)
        clients.subscribe()
    with pytest.raises(ClientError) as refused:
        service.check_room(clients, kind)
    assert refused.value.status_code == 429
    assert f"limit of 2 {kind.value} clients" in refused.value.detail
    assert setting in refused.value.detail


def test_the_default_limits_admit_200_viewers_200_event_and_100_audio_clients() -> None:
    settings = ServiceSettings()
    assert settings.max_video_clients >= 200
    assert settings.max_events_clients >= 200 and settings.max_audio_clients >= 100
