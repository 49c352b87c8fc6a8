"""launch: `serve run` gets Serve's direct ingress when an HAProxy binary is at hand."""

from __future__ import annotations

from deployments.launch import DIRECT_INGRESS, serve_env


def test_direct_ingress_is_on_when_haproxy_is_at_hand() -> None:
    env = serve_env({"PATH": "/usr/bin"}, haproxy=True)
    assert env == {"PATH": "/usr/bin", **DIRECT_INGRESS}


def test_without_haproxy_the_default_proxy_stays() -> None:
    assert serve_env({"PATH": "/usr/bin"}, haproxy=False) == {"PATH": "/usr/bin"}


def test_an_operators_own_choice_wins() -> None:
    chosen = {"RAY_SERVE_ENABLE_DIRECT_INGRESS": "0"}
    assert serve_env(chosen, haproxy=True) == chosen
