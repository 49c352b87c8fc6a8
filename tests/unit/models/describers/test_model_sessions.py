"""ModelSessions: each stream's session id, renewed by cycles, by tokens, and after failures."""

from __future__ import annotations

from models.describers.model_sessions import ModelSessions


def run_turn(sessions: ModelSessions, stream: str, held: object, upcoming: int, used: int) -> str:
    session = sessions.for_turn(stream, held, upcoming)
    session.cycles += 1
    session.last_context_tokens = used
    return session.session_id


def test_a_stream_keeps_its_session_until_the_cycle_bound() -> None:
    sessions = ModelSessions(max_cycles=2, max_tokens=10_000)
    held: object = None
    ids = []
    for _ in range(5):
        held = run_turn(sessions, "a", held, 100, 100)
        ids.append(held)
    assert ids == ["a#0", "a#0", "a#1", "a#1", "a#2"]


def test_a_session_is_renewed_before_the_context_would_pass_the_token_bound() -> None:
    sessions = ModelSessions(max_cycles=100, max_tokens=1000)
    first = run_turn(sessions, "a", None, 400, 600)
    assert run_turn(sessions, "a", first, 500, 1000) == "a#1"  # 600 + 500 > 1000


def test_a_first_turn_never_renews_however_large() -> None:
    sessions = ModelSessions(max_cycles=100, max_tokens=1000)
    assert run_turn(sessions, "a", None, 5000, 5000) == "a#0"


def test_another_stream_in_between_resets_the_count_but_not_the_id() -> None:
    sessions = ModelSessions(max_cycles=2, max_tokens=10_000)
    a = run_turn(sessions, "a", None, 100, 100)
    b = run_turn(sessions, "b", a, 100, 100)
    assert run_turn(sessions, "a", b, 100, 100) == "a#0"  # the model started afresh anyway
    assert run_turn(sessions, "a", "a#0", 100, 100) == "a#0"  # count restarted at the switch


def test_a_session_started_afresh_gets_a_new_id_and_a_closed_one_is_gone() -> None:
    sessions = ModelSessions(max_cycles=5, max_tokens=10_000)
    session = sessions.for_turn("a", None, 10)
    session.start_afresh()
    assert sessions.for_turn("a", None, 10).session_id == "a#1"
    assert sessions.pop("a") is session and sessions.pop("a") is None
