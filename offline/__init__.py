"""Offline mode: commentate a recorded video file without Ray (``live-commentary FILE``).

A second shell beside ``deployments/`` (the Ray service): it wires the same engines
(``models/``, chosen and built by ``deployments/backend_choice.py`` and
``deployments/engine_factory.py``) and the same pure rules (``serve_app/``) in one process,
with media time where the service has wall time, and writes subtitles, speech and a muxed
video. Nothing here imports Ray (tests/e2e/test_offline_cli.py holds that).
"""
