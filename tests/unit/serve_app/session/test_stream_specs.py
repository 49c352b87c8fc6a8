"""StreamSpecStore: streams' specs outlive the process; each start of a stream is a new run."""

from pathlib import Path

from serve_app.session.stream_specs import StreamSpec, StreamSpecStore


def test_specs_survive_a_restart_in_the_order_they_were_made(tmp_path: Path) -> None:
    store = StreamSpecStore(tmp_path / "streams.sqlite")
    store.save(StreamSpec("demo", "demo", None, trusted=True))
    store.save(StreamSpec("cam", "rtsp://cam/1", {"enable_tts": False}))
    store.close()
    again = StreamSpecStore(tmp_path / "streams.sqlite")
    assert again.all() == [
        StreamSpec("demo", "demo", None, trusted=True),
        StreamSpec("cam", "rtsp://cam/1", {"enable_tts": False}, trusted=False),
    ]


def test_a_removed_stream_is_gone_and_saving_again_updates_in_place(tmp_path: Path) -> None:
    store = StreamSpecStore(tmp_path / "streams.sqlite")
    store.save(StreamSpec("a", "demo"))
    store.save(StreamSpec("b", "demo"))
    store.save(StreamSpec("a", "demo:bikes.mp4"))
    store.remove("b")
    assert store.all() == [StreamSpec("a", "demo:bikes.mp4")]


def test_each_start_of_a_stream_gets_the_next_run_number(tmp_path: Path) -> None:
    store = StreamSpecStore(tmp_path / "streams.sqlite")
    store.save(StreamSpec("a", "demo"))
    assert [store.next_run("a"), store.next_run("a")] == [1, 2]
    store.save(StreamSpec("a", "demo"))  # saved again on resume: the count goes on
    assert store.next_run("a") == 3


def test_an_id_deleted_and_made_again_goes_on_counting_runs(tmp_path: Path) -> None:
    store = StreamSpecStore(tmp_path / "streams.sqlite")
    assert store.start(StreamSpec("a", "demo")) == 1
    store.remove("a")
    assert store.all() == []
    assert store.start(StreamSpec("a", "demo:bikes.mp4")) == 2, "its old lines stay apart"
    assert store.all() == [StreamSpec("a", "demo:bikes.mp4")]
