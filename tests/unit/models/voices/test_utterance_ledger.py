"""UtteranceLedger: a replica notices a piece whose utterance started elsewhere."""

from __future__ import annotations

from models.messages import SpeechRequest
from models.voices.utterance_ledger import UtteranceLedger


def piece(utterance: str, n: int, final: bool = False) -> SpeechRequest:
    stream = utterance.rpartition(":")[0]
    return SpeechRequest(stream, utterance, text="x", piece=n, final=final)


def test_pieces_after_their_start_are_admitted() -> None:
    ledger = UtteranceLedger()
    assert ledger.admit(piece("s:1", 0))
    assert ledger.admit(piece("s:1", 1))
    assert ledger.admit(piece("s:1", 2, final=True))
    assert ledger.strays == 0


def test_a_piece_without_its_start_is_a_stray() -> None:
    ledger = UtteranceLedger()
    assert not ledger.admit(piece("s:1", 1))
    assert ledger.admit(piece("s:1", 2))  # the rest of it continues here now
    assert ledger.strays == 1


def test_a_finished_or_closed_utterance_is_forgotten() -> None:
    ledger = UtteranceLedger()
    ledger.admit(piece("s:1", 0))
    ledger.admit(piece("s:1", 1, final=True))
    assert not ledger.admit(piece("s:1", 2))
    ledger.admit(piece("t:4", 0))
    ledger.close_stream("t")
    assert not ledger.admit(piece("t:4", 1))
    assert ledger.strays == 2


def test_the_ledger_is_bounded() -> None:
    ledger = UtteranceLedger(capacity=2)
    for n in range(3):
        ledger.admit(piece(f"s:{n}", 0))
    assert not ledger.admit(piece("s:0", 1))  # the oldest was dropped
    assert ledger.admit(piece("s:2", 1))
