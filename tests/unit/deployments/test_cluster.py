"""GPUs are looked for in the Ray cluster the builder runs in, not on its own machine."""

from __future__ import annotations

import pytest

from deployments import cluster
from deployments.cluster import gpus_in_reach


def test_outside_a_cluster_it_looks_at_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster, "gpu_present", lambda: False)
    sight = gpus_in_reach()
    assert not sight.available and "this machine" in sight.seen_on


def test_in_a_cluster_it_counts_the_clusters_gpus_and_names_their_nodes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ray

    monkeypatch.setattr(cluster, "gpu_present", lambda: False)  # this machine has none
    # A local cluster that says it has a GPU: what a GPU worker adds to a head without one.
    ray.init(num_cpus=1, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        sight = gpus_in_reach()
    finally:
        ray.shutdown()
    assert sight.available
    assert sight.seen_on.startswith("Ray cluster: 1 GPU(s) on ") and "(1)" in sight.seen_on
