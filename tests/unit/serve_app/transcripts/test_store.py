"""The transcript store: lines kept per stream in SQLite."""

from pathlib import Path

from serve_app.transcripts.store import TranscriptLine, TranscriptStore


def line(cycle: int, media_ts: float, text: str, stream: str = "s") -> TranscriptLine:
    return TranscriptLine(stream, cycle, media_ts - 3, media_ts, 1000.0 + cycle, text)


def test_lines_survive_a_restart(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path / "t.sqlite")
    store.add(line(1, 4.0, "A rabbit wakes up."))
    store.add(line(2, 9.5, "It stretches."))
    store.add(line(1, 2.0, "Other stream.", stream="o"))
    store.close()
    reopened = TranscriptStore(tmp_path / "t.sqlite")
    assert [entry.text for entry in reopened.lines("s")] == ["A rabbit wakes up.", "It stretches."]
    assert reopened.lines("nope") == []


def test_lines_are_never_replaced_a_new_run_counting_from_one_again(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path / "t.sqlite")
    store.add(line(1, 4.0, "First run, cycle 1."))
    store.add(TranscriptLine("s", 1, 1.0, 4.0, 2000.0, "Second run, cycle 1.", run=2))
    lines = store.lines("s")
    assert [(entry.run, entry.text) for entry in lines] == [
        (1, "First run, cycle 1."),
        (2, "Second run, cycle 1."),
    ]


def test_every_line_is_read_oldest_first_in_pages_with_no_cap(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path / "t.sqlite")
    for cycle in range(2_345):
        store.add(line(cycle, float(cycle), f"line {cycle}"))
    texts = [entry.text for entry in store.iter_lines("s", page_lines=1_000)]
    assert len(texts) == 2_345 and texts[0] == "line 0" and texts[-1] == "line 2344"
    first_page = store.page("s", 0, 10)
    assert [entry.cycle for _, entry in store.page("s", first_page[-1][0], 3)] == [10, 11, 12]
