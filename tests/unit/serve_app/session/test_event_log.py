"""EventLog: numbered events, followers that see new ones, resuming, and a bounded memory."""

import asyncio

from serve_app.messages import CommentaryText, StateChanged, StreamState
from serve_app.session.event_log import EventLog


def text(t: str) -> CommentaryText:
    return CommentaryText(stream_id="s", cycle=1, text=t, media_ts_s=0.0)


async def test_events_get_sequence_numbers_and_followers_see_new_ones() -> None:
    log = EventLog()
    log.append(text("old"))
    seen: list[str] = []

    async def follow() -> None:
        async for event in log.follow():
            seen.append(event.text)

    task = asyncio.create_task(follow())
    await asyncio.sleep(0)
    log.append(text("a"))
    log.append(text("b"))
    log.close()
    await asyncio.wait_for(task, 1)
    assert seen == ["a", "b"]
    assert log.last_seq == 2


async def test_a_reconnecting_follower_gets_what_it_missed() -> None:
    log = EventLog()
    for t in "abc":
        log.append(text(t))
    log.close()
    assert [e.text async for e in log.follow(after_seq=0)] == ["b", "c"]


async def test_log_is_bounded() -> None:
    log = EventLog(keep=3)
    for i in range(10):
        log.append(text(str(i)))
    assert [e.text for e in log.since(-1)] == ["7", "8", "9"]


def test_a_log_seeded_with_an_earlier_runs_events_keeps_their_seqs_and_goes_on_after() -> None:
    earlier = [
        StateChanged(stream_id="s", seq=1_000, wall_ts=5.0, state=StreamState.LIVE),
        StateChanged(stream_id="s", seq=1_007, wall_ts=6.0, state=StreamState.LIVE),
    ]
    log = EventLog(first_seq=500)
    log.seed(earlier)
    appended = log.append(StateChanged(stream_id="s", state=StreamState.RECONNECTING))
    assert [e.seq for e in log.since(1_000)] == [1_007, appended.seq]
    assert appended.seq == 1_008 and log.since(-1)[0].wall_ts == 5.0
