"""UtteranceAffinity: an utterance's pieces stay on one replica; new ones go to the least loaded."""

from __future__ import annotations

import pytest

from serve_app.routing.utterance_affinity import MAX_CLOSED_PINS, UtteranceAffinity


def test_every_piece_of_an_utterance_goes_where_the_first_went() -> None:
    affinity = UtteranceAffinity()
    live = ["a", "b", "c"]
    first = affinity.place("s1", "s1:1", live)
    # A new replica appearing, or the router asking again, moves nothing.
    assert affinity.place("s1", "s1:1", [*live, "d"]) == first
    assert affinity.place("s1", "s1:1", list(reversed(live))) == first


def test_new_utterances_spread_over_the_least_loaded_replicas() -> None:
    affinity = UtteranceAffinity()
    live = ["a", "b", "c"]
    placed = {affinity.place(f"s{i}", f"s{i}:1", live) for i in range(3)}
    assert placed == {"a", "b", "c"}
    # A replica added by the autoscaler takes the next new stream's utterance.
    assert affinity.place("s3", "s3:1", [*live, "d"]) == "d"


def test_a_stream_counts_once_its_next_utterance_may_move() -> None:
    affinity = UtteranceAffinity()
    assert affinity.place("s1", "s1:1", ["a"]) == "a"
    assert affinity.place("s2", "s2:1", ["a", "b"]) == "b"
    assert affinity.loads(["a", "b"]) == {"a": 1, "b": 1}
    # s1's next utterance does not count s1 itself as load on "a".
    assert affinity.place("s1", "s1:2", ["a", "b"]) == "a"
    assert affinity.loads(["a", "b"]) == {"a": 1, "b": 1}


def test_a_dead_replica_loses_its_pins() -> None:
    affinity = UtteranceAffinity()
    assert affinity.place("s1", "s1:1", ["a"]) == "a"
    assert affinity.place("s1", "s1:1", ["b"]) == "b"  # restarts where it can
    assert affinity.replica_for_stream("s1", ["a"]) is None


def test_clean_up_follows_the_stream_and_stops_counting_as_load() -> None:
    affinity = UtteranceAffinity()
    assert affinity.place("s1", "s1:1", ["a", "b"]) == "a"
    assert affinity.place("s2", "s2:1", ["a", "b"]) == "b"
    affinity.stream_closed("s2")
    affinity.stream_closed("s2")  # asked again while waiting: same answer
    assert affinity.replica_for_stream("s2", ["a", "b"]) == "b"
    assert affinity.loads(["a", "b"]) == {"a": 1, "b": 0}
    # The same id reused later is a new stream, placed afresh: "b" is not its own any more.
    affinity.place("s3", "s3:1", ["a", "b"])  # now a=1, b=1
    affinity.place("s4", "s4:1", ["a", "b", "c"])  # takes c
    assert affinity.place("s2", "s2:1", ["a", "b", "c", "d"]) == "d"


def test_a_cut_short_utterance_keeps_the_stream_where_its_caches_are() -> None:
    affinity = UtteranceAffinity()
    assert affinity.place("s1", "s1:1", ["a"]) == "a"  # never gets its final piece
    affinity.place("s2", "s2:1", ["a"])
    # "b" is quieter, but the stale caches are on "a": the next utterance replaces them
    # there, and the stream's clean-up would find them.
    assert affinity.place("s1", "s1:2", ["a", "b"]) == "a"
    assert affinity.place("s1", "s1:2", ["a", "b"], final=True) == "a"
    # Finished: its next utterance goes to the least loaded replica.
    assert affinity.place("s1", "s1:3", ["a", "b"]) == "b"


def test_a_long_lived_stream_keeps_its_clean_up_route_when_closed_last() -> None:
    affinity = UtteranceAffinity()
    affinity.place("demo", "demo:1", ["a"])
    for i in range(MAX_CLOSED_PINS):
        affinity.place(f"s{i}", f"s{i}:1", ["a"])
        affinity.stream_closed(f"s{i}")
    affinity.stream_closed("demo")  # the oldest pin, but the newest closed one
    assert affinity.replica_for_stream("demo", ["a"]) == "a"


def test_closed_pins_are_bounded() -> None:
    affinity = UtteranceAffinity()
    for i in range(MAX_CLOSED_PINS + 10):
        affinity.place(f"s{i}", f"s{i}:1", ["a"])
        affinity.stream_closed(f"s{i}")
    assert affinity.replica_for_stream("s0", ["a"]) is None
    assert affinity.replica_for_stream(f"s{MAX_CLOSED_PINS + 9}", ["a"]) == "a"


def test_no_replica_is_an_error() -> None:
    with pytest.raises(ValueError, match="no live replica"):
        UtteranceAffinity().place("s1", "s1:1", [])


def test_an_utterance_whose_replica_left_is_reported_once() -> None:
    affinity = UtteranceAffinity()
    assert affinity.place("s1", "s1:1", ["a", "b"]) == "a"
    assert affinity.lost_replica("s1", "s1:1", ["a", "b"]) is None  # still there
    assert affinity.lost_replica("s1", "s1:1", ["b"]) == "a"  # "a" drained mid-utterance
    assert affinity.place("s1", "s1:1", ["b"]) == "b"
    assert affinity.lost_replica("s1", "s1:1", ["b"]) is None  # placed again: nothing lost


def test_a_finished_or_new_utterance_has_lost_nothing() -> None:
    affinity = UtteranceAffinity()
    affinity.place("s1", "s1:1", ["a"], final=True)
    assert affinity.lost_replica("s1", "s1:1", ["b"]) is None  # no caches were left there
    affinity.place("s2", "s2:1", ["a"])
    assert affinity.lost_replica("s2", "s2:2", ["b"]) is None  # a new utterance starts anew anyway
    affinity.stream_closed("s2")
    assert affinity.lost_replica("s2", "s2:1", ["b"]) is None
