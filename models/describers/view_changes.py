"""Who left the view, and what was said lately: the parts of the wording that need memory.

scene_phrases.py words one window against the last; this keeps a little more per stream so
commentary is not a loop of the same words: a person who was detected for two windows and is
not any more is said to be out of view (hedged, as a detection it no longer makes), and a
fact spoken in the last answers is not spoken again (a cut aside).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.describers.scene_cues import SceneCues
from models.describers.scene_phrases import Fact, is_cut, who


@dataclass(slots=True)
class Presence:
    """How many windows in a row the detectors have found someone, and who last."""

    seen_windows: int = 0
    last_seen: str | None = None

    def update(self, cues: SceneCues) -> Fact | None:
        """A "left the view" fact when someone seen for 2+ windows is no longer found.

        Two windows, because HOG and the face cascade drop a person in single frames (a turn,
        an open mouth): one empty window after a single sighting is usually that, not an exit.
        A cut resets it: a new shot is not someone leaving.
        """
        someone = who(cues.people_count, cues.face_count)
        fact = None
        if someone is None and not cues.cut_count and self.seen_windows >= 2 and self.last_seen:
            fact = left_fact(self.last_seen)
        if someone is None:
            self.seen_windows, self.last_seen = 0, None
        else:
            self.seen_windows, self.last_seen = self.seen_windows + 1, someone
        return fact


def left_fact(someone: str) -> Fact:
    return (
        f"No longer see {someone}",
        (
            f"I can no longer make out {someone}: they may have left the view.",
            f"{someone.capitalize()} seems to have gone out of view.",
        ),
    )


def drop_recent(facts: list[Fact], recent: Sequence[set[str]]) -> list[Fact]:
    """Leave out every fact whose clause is in ``recent`` (the clauses the last answers
    spoke), except a cut, which is always news. So a lasting state (the same motion, the
    same light) is not repeated; other events go only when their clause repeats exactly."""
    said = set().union(*recent) if recent else set()
    return [f for f in facts if f[0] not in said or is_cut(f)]
