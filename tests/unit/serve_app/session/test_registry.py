"""StreamRegistry (and its StreamShare): creating, describing, reconfiguring, deleting streams.

Fake stages; real StreamSessions on a ManualClock over scripted ports, whose FrameIngest says
the stream is still starting (so no cycle runs) unless a test makes it live.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from serve_app.messages import CycleEnded, OpenResult, StateChanged, StreamState
from serve_app.session.stream_specs import StreamSpecStore
from serve_app.settings import LIVE_STREAM_SETTINGS, SyncPolicy
from tests.support.gateway_replica import BACKEND
from tests.support.gateway_replica import GatewayReplica as Service
from tests.support.scripted_ports import run_until, settle

MakeService = Callable[..., Service]
ANSWER = "A red car turns left. It stops."  # what ScriptedPorts' describer says


async def test_a_stream_is_described_by_id_source_and_session_status(service: Service) -> None:
    result = await service.create("cam", "demo:clip")
    assert result.ok and result.status_code == 201 and result.info is not None
    assert result.info["id"] == "cam" and result.info["source"] == "demo:clip"
    assert result.info["source_state"] == "starting" and result.info["last_answer"] == ""
    assert service.registry.get_stream("cam") == result.info and service.ids() == ["cam"]
    assert service.ingest.opened[0][3] is False, "a client's source is not trusted"


async def test_per_stream_overrides_reach_frame_ingest_and_the_session(service: Service) -> None:
    await service.create("cam", inference_interval_s=7.0)
    assert service.ingest.opened[0][2].inference_interval_s == 7.0
    assert service.session("cam").settings.inference_interval_s == 7.0


async def test_creating_an_existing_stream_is_a_conflict(service: Service) -> None:
    await service.create("cam")
    again = await service.create("cam")
    assert not again.ok and again.status_code == 409 and "'cam' exists" in again.error
    assert len(service.ingest.opened) == 1


async def test_the_stream_limit_counts_streams_still_opening(make_service: MakeService) -> None:
    service = make_service(max_streams=2)
    assert (await service.create("a")).ok
    service.ingest.hold = probing = asyncio.Event()
    opening = asyncio.create_task(service.create("b"))
    await settle()
    service.ingest.hold = None  # only b's probe hangs
    assert (await service.create("b")).status_code == 409, "b is being opened"
    refused = await service.create("c")
    assert refused.status_code == 429 and "MAX_STREAMS" in refused.error
    probing.set()
    assert (await opening).ok and service.ids() == ["a", "b"]
    assert (await service.create("c")).status_code == 429


async def test_bad_per_stream_settings_are_refused_naming_the_field(service: Service) -> None:
    result = await service.create("cam", window_size=0)
    assert result.status_code == 422 and "settings: window_size" in result.error
    assert service.ingest.opened == [], "the source is not even opened"
    assert service.ids() == []


async def test_a_source_frame_ingest_refuses_is_a_422_with_its_reason(service: Service) -> None:
    service.ingest.refuse = "source 'rtsp://cam' did not answer in 5 s"
    result = await service.create("cam", "rtsp://cam")
    assert result.status_code == 422 and result.error == service.ingest.refuse
    assert service.ids() == []
    service.ingest.refuse = ""
    assert (await service.create("cam")).ok, "a refused id is free again"


async def test_the_default_stream_starts_when_a_default_source_is_set(
    make_service: MakeService,
) -> None:
    unset = make_service()
    assert await unset.share.start_default_stream() is None and unset.ids() == []
    service = make_service(default_source="demo:clip", default_stream_id="boot")
    result = await service.share.start_default_stream()
    assert result is not None and result.ok and service.ids() == ["boot"]
    _, source, _, trusted = service.ingest.opened[0]
    assert source == "demo:clip" and trusted, "the operator's own source is trusted"


async def test_a_default_stream_that_cannot_start_is_logged(
    make_service: MakeService, caplog: pytest.LogCaptureFixture
) -> None:
    service = make_service(default_source="/nowhere.mp4")
    service.ingest.refuse = "no such file"
    with caplog.at_level(logging.ERROR, logger="serve_app"):
        result = await service.share.start_default_stream()
    assert result is not None and not result.ok
    assert "default stream did not start: no such file" in caplog.text


async def test_deleting_a_stream_stops_its_session_and_closes_every_stage(service: Service) -> None:
    await service.create("cam")
    session = service.session("cam")
    assert await service.registry.delete_stream("cam") is True
    last = session.events.since(-1)[-1]
    assert isinstance(last, StateChanged) and last.state is StreamState.STOPPED
    assert service.ingest.closed == service.commentator.closed == service.vocoder.closed == ["cam"]
    assert service.registry.get_stream("cam") is None and service.ids() == []
    assert await service.registry.delete_stream("cam") is False, "it is gone"
    assert service.vocoder.closed == ["cam"], "nothing closed twice"


async def test_what_a_stream_said_is_stored_before_the_stages_forget_it(
    make_service: MakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(enable_tts=False, stream_delay_init_s=2.0)
    service.ports.state = StreamState.LIVE
    add = service.store.add
    # A slow disk: a delete that did not wait for the recorder would close the stages first.
    monkeypatch.setattr(service.store, "add", lambda line: (time.sleep(0.2), add(line)))
    stored_at_close: list[str] = []
    service.ingest.on_close = lambda sid: stored_at_close.extend(
        line.text for line in service.store.lines(sid)
    )
    await service.create("cam")
    # The cycle has answered, but its words wait for the delayed picture: only deleting
    # the stream releases them.
    await run_until(service.clock, lambda: len(service.ports.requests) >= 1)
    service.clock.advance(1.0)
    await settle()
    assert not [e for e in service.session("cam").events.since(-1) if isinstance(e, CycleEnded)]
    await service.registry.delete_stream("cam")
    assert stored_at_close == [ANSWER]
    lines = await service.share.transcript("cam")
    assert lines is not None and [line.text for line in lines] == [ANSWER], "still readable"


async def test_the_transcript_of_a_stream_that_never_was_is_none(service: Service) -> None:
    assert await service.share.transcript("nope") is None
    await service.create("cam")
    assert await service.share.transcript("cam") == [], "a new stream has said nothing yet"


async def test_a_live_sync_policy_reaches_every_session_as_the_enum(service: Service) -> None:
    await service.create("a")
    await service.create("b", inference_interval_s=3.0)
    service.registry.reconfigure({"sync_policy": "ema"})
    await service.create("c")  # streams to come have it too
    for stream_id in ("a", "b", "c"):
        assert service.session(stream_id).settings.sync_policy is SyncPolicy.EMA
        described = service.registry.get_stream(stream_id)
        assert described is not None and described["sync_policy"] == "ema"
    assert service.session("b").settings.inference_interval_s == 3.0, "overrides stay"


async def test_a_bad_live_value_is_refused_naming_the_field(service: Service) -> None:
    await service.create("cam")
    with pytest.raises(ValueError, match="user_config: sync_policy"):
        service.registry.reconfigure({"sync_policy": "sometimes"})
    with pytest.raises(ValueError, match="window_size cannot change live"):
        service.registry.reconfigure({"window_size": 8})
    assert service.session("cam").settings.sync_policy is SyncPolicy.PRESENTATION


async def test_a_live_change_one_stream_refuses_changes_no_stream(service: Service) -> None:
    await service.create("a")
    await service.create("b", intensity_high_change=0.1)
    # Fine for the defaults (high 0.15), not for b, whose high bound is under it.
    with pytest.raises(ValueError, match="intensity_low_change"):
        service.registry.reconfigure({"intensity_low_change": 0.12})
    assert service.session("a").settings.intensity_low_change == 0.04
    await service.create("c")
    assert service.session("c").settings.intensity_low_change == 0.04, "defaults unchanged"


async def test_following_a_stream_yields_its_events_until_it_is_deleted(service: Service) -> None:
    await service.create("cam")
    following = asyncio.create_task(_collect(service.registry.follow("cam", None)))
    await settle()
    await service.registry.delete_stream("cam")
    followed = await following
    assert isinstance(followed[-1], StateChanged) and followed[-1].state is StreamState.STOPPED
    assert await _collect(service.registry.follow("cam", None)) == [], "nothing after delete"


async def test_events_since_gives_what_a_reconnecting_client_missed(service: Service) -> None:
    service.ports.state = StreamState.LIVE
    await service.create("cam")
    await run_until(service.clock, lambda: bool(service.registry.events_since("cam", -1)))
    first = service.registry.events_since("cam", -1)[0]
    assert isinstance(first, StateChanged) and first.state is StreamState.LIVE
    assert all(e.seq > first.seq for e in service.registry.events_since("cam", first.seq))
    assert service.registry.events_since("nope", -1) == [], "an unknown stream has none"


async def test_a_question_is_answered_by_the_streams_session(make_service: MakeService) -> None:
    service = make_service(enable_tts=False, inference_interval_s=60.0)
    service.ports.state = StreamState.LIVE
    await service.create("cam")
    asking = asyncio.create_task(_collect(service.registry.ask("cam", "What is it?")))
    await run_until(service.clock, asking.done)
    assert "".join(asking.result()) == ANSWER
    assert service.ports.requests[-1].question == "What is it?"
    assert await _collect(service.registry.ask("nope", "Anyone?")) == [], "no stream, no answer"


async def test_status_reports_the_backend_streams_and_live_settings(service: Service) -> None:
    await service.create("cam")
    status = service.share.status()
    assert status["backend"] == BACKEND and [s["id"] for s in status["streams"]] == ["cam"]
    assert status["live_settings"] == sorted(LIVE_STREAM_SETTINGS)


async def _collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


# --- durable streams ----------------------------------------------------------------------


async def test_a_new_registry_resumes_every_stored_stream_as_it_was(
    make_service: MakeService, tmp_path: Path
) -> None:
    specs = StreamSpecStore(tmp_path / "streams.sqlite")
    first = make_service(specs)
    await first.create("cam", "demo:bikes.mp4", inference_interval_s=7.0)
    await first.create("gone")
    await first.registry.delete_stream("gone")
    # The gateway's replica dies: a new one over the same store takes over.
    second = make_service(StreamSpecStore(tmp_path / "streams.sqlite"))
    assert second.share.get_stream("cam")["source_state"] == "reconnecting"
    await second.registry.resume(second.specs.all())
    assert second.ids() == ["cam"], "a deleted stream stays deleted"
    (stream_id, source, settings, _) = second.ingest.opened[0]
    assert (stream_id, source, settings.inference_interval_s) == ("cam", "demo:bikes.mp4", 7.0)
    assert second.session("cam").run == 2, "each start of a stream is a new run"


async def test_a_client_of_a_stream_being_resumed_waits_for_it(
    make_service: MakeService, tmp_path: Path
) -> None:
    specs = StreamSpecStore(tmp_path / "streams.sqlite")
    await make_service(specs).create("cam")
    service = make_service(StreamSpecStore(tmp_path / "streams.sqlite"))
    service.registry.expect(service.specs.all())  # as a share taking it over does first
    follower = asyncio.create_task(anext(aiter(service.registry.follow("cam", None))))
    await settle()
    assert not follower.done(), "not ended: the stream is coming back"
    service.ports.state = StreamState.LIVE
    await service.registry.resume(service.specs.all())
    await run_until(service.clock, follower.done)
    assert follower.result().stream_id == "cam"


async def test_a_capture_frame_ingest_lost_is_reopened_and_reported(service: Service) -> None:
    await service.create("cam")
    service.ports.state = StreamState.LIVE
    service.ports.lose_capture = True  # FrameIngest restarted and holds nothing
    await run_until(service.clock, lambda: len(service.ingest.opened) >= 2)
    service.ports.lose_capture = False
    await run_until(
        service.clock,
        lambda: any(isinstance(e, CycleEnded) for e in service.session("cam").events.since(-1)),
    )
    states = [e for e in service.session("cam").events.since(-1) if isinstance(e, StateChanged)]
    assert [s.state for s in states][:2] == [StreamState.RECONNECTING, StreamState.LIVE]
    assert "FrameIngest restarted" in states[0].detail
    assert service.ports.delays.count(service.session("cam").delay.target_delay_s) >= 2


async def test_an_id_still_being_resumed_cannot_be_taken_by_a_client(
    make_service: MakeService, tmp_path: Path
) -> None:
    await make_service(StreamSpecStore(tmp_path / "streams.sqlite")).create("cam")
    service = make_service(StreamSpecStore(tmp_path / "streams.sqlite"))
    taken = await service.create("cam", "demo:other.mp4")
    assert taken.status_code == 409 and "reconnecting" in taken.error
    await service.registry.resume(service.specs.all())
    assert service.registry.get_stream("cam")["source"] == "demo"


async def test_one_stream_that_fails_to_resume_does_not_stop_the_others(
    make_service: MakeService, tmp_path: Path
) -> None:
    first = make_service(StreamSpecStore(tmp_path / "streams.sqlite"))
    await first.create("a")
    await first.create("b")
    second = make_service(StreamSpecStore(tmp_path / "streams.sqlite"))
    opened = second.ingest.open_stream

    async def flaky(stream_id: str, *args: Any) -> OpenResult:
        if stream_id == "a":
            raise ConnectionError("FrameIngest is restarting")
        return await opened(stream_id, *args)

    second.ingest.open_stream = flaky  # type: ignore[method-assign]
    await second.registry.resume(second.specs.all())
    assert second.ids() == ["b"]
    follower = second.registry.follow("a", None)
    assert [event async for event in follower] == [], "a client of 'a' is not left waiting"


async def test_a_resumed_stream_replays_what_its_last_run_said_with_the_same_seqs(
    make_service: MakeService, tmp_path: Path
) -> None:
    first = make_service(StreamSpecStore(tmp_path / "streams.sqlite"), transcripts="t.sqlite")
    await first.create("cam")
    first.ports.state = StreamState.LIVE
    session = first.session("cam")
    await run_until(first.clock, lambda: len(first.store.lines("cam")) >= 2)
    said = [e for e in session.events.since(-1) if isinstance(e, CycleEnded)][:2]
    # The gateway dies; a new one over the same stores resumes the stream a moment later.
    second = make_service(StreamSpecStore(tmp_path / "streams.sqlite"), transcripts="t.sqlite")
    second.clock.set(first.clock.now() + 5)
    await second.registry.resume(second.specs.all())
    replayed = [e for e in second.session("cam").events.since(-1) if e.replayed]
    assert [(e.seq, e.text) for e in replayed][:2] == [(e.seq, e.text) for e in said]
    assert second.session("cam").events.last_seq > said[-1].seq, "new events come after"
    await settle()
    assert len(second.store.lines("cam")) == len(first.store.lines("cam")), "not stored again"
