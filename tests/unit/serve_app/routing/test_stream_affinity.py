"""StreamAffinity: a stream's requests go to its live holder; new ones to the least loaded."""

from __future__ import annotations

import itertools

import pytest

from serve_app.routing.stream_affinity import choose_replica, rendezvous_weight

STREAMS = [f"stream-{i}" for i in range(50)]


def test_the_live_holder_is_chosen_whatever_the_loads() -> None:
    holders = ["a", "a", "a", "b"]
    assert choose_replica("s", "a", ["a", "b", "c"], holders) == "a"
    assert choose_replica("s", "c", ["a", "b", "c"], holders) == "c"


def test_a_holder_that_is_not_live_is_ignored() -> None:
    # "dead" held the stream; it goes to the quietest live replica instead.
    chosen = choose_replica("s", "dead", ["a", "b"], ["dead", "a"])
    assert chosen == "b"


def test_a_new_stream_goes_to_the_least_loaded_live_replica() -> None:
    assert choose_replica("s", None, ["a", "b", "c"], ["a", "b", "a", "c", "c"]) == "b"
    assert choose_replica("s", None, ["a", "b", "c"], ["a", "b", "c", "a", "b"]) == "c"
    # A replica the autoscaler just added holds nothing yet: it takes the new stream.
    assert choose_replica("s", None, ["a", "b", "d"], ["a", "b"]) == "d"


def test_holders_that_are_not_live_do_not_count_as_load() -> None:
    holders = ["gone", "gone", "gone", "a", "b", "b"]
    assert choose_replica("s", None, ["a", "b"], holders) == "a"
    assert choose_replica("s", None, ["b"], holders) == "b"


def test_ties_go_to_the_highest_rendezvous_weight() -> None:
    for stream_id in STREAMS[:10]:
        heaviest = max(["a", "b", "c"], key=lambda r: rendezvous_weight(stream_id, r))
        assert choose_replica(stream_id, None, ["a", "b", "c"]) == heaviest
        # Only the least loaded are in the tie: "a" is out of it.
        among = max(["b", "c"], key=lambda r: rendezvous_weight(stream_id, r))
        assert choose_replica(stream_id, None, ["a", "b", "c"], ["a"]) == among


def test_the_same_inputs_give_the_same_answer_in_any_order() -> None:
    live = ["a", "b", "c", "d"]
    holders = ["a", "b"]  # c and d tie
    for stream_id in STREAMS:
        answers = {
            choose_replica(stream_id, None, order, holders)
            for order in itertools.permutations(live)
        }
        answers |= {choose_replica(stream_id, None, set(live), reversed(holders))}
        assert len(answers) == 1 and answers <= {"c", "d"}, stream_id
    # Both tied replicas get some of the streams: the tie-break is not the order given.
    assert {choose_replica(s, None, live, holders) for s in STREAMS} == {"c", "d"}


def test_rendezvous_weight_is_stable_and_depends_on_both_ids() -> None:
    assert rendezvous_weight("s", "a") == rendezvous_weight("s", "a")
    assert rendezvous_weight("s", "a") != rendezvous_weight("s", "b")
    assert rendezvous_weight("s", "a") != rendezvous_weight("t", "a")
    # Not a plain concatenation: ("s1", "a") and ("s", "1a") are different pairs.
    assert rendezvous_weight("s1", "a") != rendezvous_weight("s", "1a")
    assert 0 <= rendezvous_weight("s", "a") < 2**64


def test_when_a_replica_leaves_only_its_streams_move() -> None:
    before = {s: choose_replica(s, None, ["a", "b", "c"]) for s in STREAMS}
    after = {s: choose_replica(s, None, ["a", "b"]) for s in STREAMS}
    assert set(before.values()) == {"a", "b", "c"}, "every replica got some of the streams"
    moved = {s for s in STREAMS if before[s] != after[s]}
    assert moved == {s for s in STREAMS if before[s] == "c"}
    assert set(after.values()) == {"a", "b"}


def test_no_live_replica_is_an_error() -> None:
    with pytest.raises(ValueError, match="no live replica"):
        choose_replica("s", None, [])
    with pytest.raises(ValueError, match="no live replica"):
        choose_replica("s", "a", [], ["a"])
