import pytest

from serve_app.ingest.display_buffer import DisplayBuffer
from serve_app.messages import DisplayFrame


def frame(seq: int, wall: float, size: int = 100) -> DisplayFrame:
    return DisplayFrame(seq=seq, jpeg=b"x" * size, media_ts_s=wall - 1000, capture_wall=wall)


def filled(n: int, fps: float = 25.0, **kw: float) -> DisplayBuffer:
    buf = DisplayBuffer(
        max_seconds=kw.get("max_seconds", 15.0), max_bytes=int(kw.get("max_bytes", 10**9))
    )
    for i in range(n):
        buf.append(frame(i, 1000 + i / fps))
    return buf


def test_frame_at_is_the_newest_captured_at_or_before() -> None:
    buf = filled(100)
    assert buf.frame_at(1000 + 10 / 25 + 0.001).seq == 10
    assert buf.frame_at(1000 + 10 / 25).seq == 10
    assert buf.frame_at(999.0) is None
    assert buf.frame_at(2000.0).seq == 99


def test_bounded_in_seconds() -> None:
    buf = filled(25 * 20, max_seconds=15.0)
    oldest = buf.first_after(-1)
    assert buf.latest().capture_wall - oldest.capture_wall <= 15.0
    assert len(buf) == 15 * 25 + 1


def test_bounded_in_bytes() -> None:
    buf = filled(1000, max_bytes=100 * 50)
    assert buf.nbytes <= 100 * 50 and len(buf) == 50
    assert buf.latest().seq == 999


def test_frames_between_gives_new_due_frames_in_order() -> None:
    buf = filled(50)
    due = buf.frames_between(after_seq=10, until_wall=1000 + 20 / 25)
    assert [f.seq for f in due] == list(range(11, 21))
    assert buf.frames_between(after_seq=49, until_wall=5000) == []


def test_first_after() -> None:
    buf = filled(30, max_bytes=100 * 10)  # holds seq 20..29
    assert buf.first_after(5).seq == 20
    assert buf.first_after(24).seq == 25
    assert buf.first_after(29) is None


def test_out_of_order_append_is_refused() -> None:
    buf = filled(3)
    with pytest.raises(ValueError):
        buf.append(frame(3, 999.0))
