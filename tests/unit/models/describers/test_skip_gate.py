"""SkipGate: speech waits until the text cannot be the skip answer, and a skip stays silent."""

from __future__ import annotations

from models.describers.skip_gate import SkipGate
from models.messages import SpeechTokens

A, B = SpeechTokens((1, 2)), SpeechTokens((3,))


def test_speech_is_held_while_the_answer_could_still_be_the_skip() -> None:
    gate = SkipGate()
    assert gate.update("..") == []
    assert gate.push(A) == []
    assert gate.update("..x") == [A]
    assert gate.push(B) == [B]
    assert gate.released_any


def test_a_skip_answer_drops_everything_held() -> None:
    gate = SkipGate()
    gate.push(A)
    gate.update("...")
    assert gate.finish("...") == [] and not gate.released_any


def test_an_empty_answer_makes_no_sound_either() -> None:
    gate = SkipGate()
    gate.push(A)
    assert gate.finish("") == [] and not gate.released_any


def test_a_short_real_answer_releases_at_the_end() -> None:
    gate = SkipGate()
    gate.update(".")
    gate.push(A)
    assert gate.finish(".") == [A] and gate.released_any
