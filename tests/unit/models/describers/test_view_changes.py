"""Presence says someone left only after a steady sighting; states just said are not repeated."""

from __future__ import annotations

import dataclasses

from models.describers.scene_cues import SceneCues
from models.describers.view_changes import Presence, drop_recent

STILL = SceneCues(
    frame_count=4, cut_scores=(0.1, 0.1, 0.1), cut_count=0, shot_start=0, moving_fraction=0.0,
    motion_px=0.0, direction=None, flow_coherence=0.0, camera_moves=False, brightness=0.5,
    brightness_change=0.0, colours=("green",), people_count=0, face_count=0,
)  # fmt: skip
FACE = dataclasses.replace(STILL, face_count=1)
CUT = dataclasses.replace(STILL, cut_count=1)


def test_someone_seen_twice_then_missing_has_left_the_view() -> None:
    presence = Presence()
    assert presence.update(FACE) is None
    assert presence.update(FACE) is None
    fact = presence.update(STILL)
    assert fact is not None and "a face" in fact[1][0]
    assert presence.update(STILL) is None  # said once


def test_a_single_sighting_or_a_cut_is_not_an_exit() -> None:
    presence = Presence()
    presence.update(FACE)
    assert presence.update(STILL) is None  # one window: the detector's flicker
    presence.update(FACE)
    presence.update(FACE)
    assert presence.update(CUT) is None  # a new shot, not someone leaving


def test_a_state_said_in_the_last_answers_is_not_said_again() -> None:
    motion = ("Some movement to the right", ("Something moves to the right.",))
    cut = ("A cut to a new scene", ("The picture cuts to a new scene.",))
    recent = [{"Some movement to the right"}, {"A cut to a new scene"}]
    assert drop_recent([motion, cut], recent) == [cut]
    assert drop_recent([motion], []) == [motion]
