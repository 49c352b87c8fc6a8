from serve_app.sync.release_queue import ReleaseQueue, release_time


def test_early_results_are_held_until_their_frames_show() -> None:
    rt = release_time(anchor_capture_wall=100.0, display_delay_s=3.0, ready_at=101.5, hold=True)
    assert rt.at == 103.0 and not rt.late and rt.lateness_s == -1.5


def test_late_results_go_at_once_and_count_as_late() -> None:
    rt = release_time(100.0, 3.0, ready_at=104.0, hold=True)
    assert rt.at == 104.0 and rt.late and rt.lateness_s == 1.0


def test_the_original_policy_never_holds() -> None:
    assert release_time(100.0, 3.0, ready_at=101.5, hold=False).at == 101.5


def test_queue_releases_in_time_order_keeping_ties_in_order() -> None:
    q: ReleaseQueue[str] = ReleaseQueue()
    q.push(5.0, "c")
    q.push(1.0, "a")
    q.push(1.0, "b")
    assert q.next_at() == 1.0
    assert q.pop_due(0.5) == []
    assert q.pop_due(1.0) == ["a", "b"]
    assert q.drain() == ["c"] and len(q) == 0
