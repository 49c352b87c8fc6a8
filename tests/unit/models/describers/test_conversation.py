"""A stream's history: bounded by turns and tokens, restarted whole when full."""

import pytest

from models.describers.conversation import ConversationHistory, Turn


def test_turns_accumulate_until_the_turn_bound_then_start_afresh() -> None:
    history = ConversationHistory(max_turns=2, max_tokens=10_000)
    for i in range(2):
        assert not history.make_room(100)
        history.record(Turn(f"q{i}", f"a{i}"), context_tokens=300 * (i + 1))
    assert [t.answer for t in history.turns] == ["a0", "a1"]
    assert history.make_room(100)
    assert history.turns == () and history.context_tokens == 0 and history.generation == 1


def test_the_token_bound_counts_the_last_context_plus_the_next_turn() -> None:
    history = ConversationHistory(max_turns=100, max_tokens=1000)
    history.record(Turn("q", "a"), context_tokens=700)
    assert not history.make_room(300)  # exactly at the bound: still fits
    history.record(Turn("q", "a"), context_tokens=701)
    assert history.make_room(300)


def test_an_empty_history_never_restarts_even_for_a_huge_turn() -> None:
    history = ConversationHistory(max_turns=1, max_tokens=256)
    assert not history.make_room(10_000) and history.generation == 0


def test_bounds_are_validated() -> None:
    with pytest.raises(ValueError, match="max_turns"):
        ConversationHistory(max_turns=0, max_tokens=1000)
