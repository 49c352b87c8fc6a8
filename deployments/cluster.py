"""What GPUs the Ray cluster offers, seen from the builder, wherever it runs.

A head node often has no GPU while its workers do: the backend choice asks the cluster, not
the machine the builder happens to run on. Outside a Ray cluster (a plain import, a unit
test) it falls back to this machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from deployments.backend_choice import gpu_present


@dataclass(frozen=True, slots=True)
class GpuSight:
    available: bool
    seen_on: str  # where they were looked for, for the log and /api/status


def gpus_in_reach() -> GpuSight:
    import ray

    if not ray.is_initialized():
        found = gpu_present()
        return GpuSight(found, "this machine (not in a Ray cluster)")
    total = ray.cluster_resources().get("GPU", 0.0)
    nodes = sorted(
        f"{node['NodeManagerAddress']} ({node['Resources']['GPU']:g})"
        for node in ray.nodes()
        if node.get("Alive") and node.get("Resources", {}).get("GPU")
    )
    where = f"Ray cluster: {total:g} GPU(s)" + (f" on {', '.join(nodes)}" if nodes else "")
    return GpuSight(total > 0, where)
