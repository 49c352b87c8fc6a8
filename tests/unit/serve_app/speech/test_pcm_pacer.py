"""PcmPacer: speech handed out at the rate it plays, silence between lines, no drift."""

from __future__ import annotations

import math

from serve_app.speech.audio_format import OUTPUT_AUDIO, PcmFormat
from serve_app.speech.pcm_pacer import PcmPacer

FMT = PcmFormat(rate_hz=1_000)  # 1,000 samples/s of 2 bytes: easy sums
SPEECH = b"\x01\x00" * 500  # half a second of non-silence


def test_nothing_is_due_at_the_first_take() -> None:
    assert PcmPacer(FMT).take(100.0) == b""


def test_queued_speech_comes_out_at_the_rate_it_plays_then_silence() -> None:
    pacer = PcmPacer(FMT)
    pacer.take(0.0)
    pacer.add(SPEECH)
    first = pacer.take(0.25)
    assert first == SPEECH[:500], "a quarter second: 250 samples of speech, not all of it"
    rest = pacer.take(1.0)
    assert len(rest) == 750 * 2
    assert rest[:500] == SPEECH[500:] and rest[500:] == bytes(1000), "the line, then silence"


def test_a_long_stream_never_drifts() -> None:
    pacer = PcmPacer(OUTPUT_AUDIO)
    pacer.take(0.0)
    total = sum(len(pacer.take(i * 0.0137)) for i in range(1, 100_001))
    # 23 min in ragged steps: exactly the samples of 1,370 s, not one more or fewer.
    assert total == math.floor(100_000 * 0.0137 * OUTPUT_AUDIO.rate_hz) * 2


def test_lines_play_back_to_back_in_the_order_they_came() -> None:
    pacer = PcmPacer(FMT)
    pacer.take(0.0)
    pacer.add(b"\x01\x00" * 100)
    pacer.add(b"\x02\x00" * 100)
    out = pacer.take(0.2)
    assert out == b"\x01\x00" * 100 + b"\x02\x00" * 100
    assert pacer.backlog_s == 0.0


def test_a_backlog_past_its_bound_loses_its_oldest_speech() -> None:
    pacer = PcmPacer(FMT, max_backlog_s=1.0)
    pacer.take(0.0)
    for _ in range(3):
        pacer.add(SPEECH)  # 1.5 s queued, 1 s allowed
    assert pacer.backlog_s == 1.0 and pacer.dropped_bytes == len(SPEECH)


def test_a_torn_sample_is_not_queued() -> None:
    pacer = PcmPacer(FMT)
    pacer.take(0.0)
    pacer.add(b"\x01\x00\x02")
    assert pacer.backlog_s == 1 / FMT.rate_hz
