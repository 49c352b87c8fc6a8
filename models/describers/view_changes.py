"""Who left the view, and which fact leads: the parts of the wording that need memory.

scene_phrases.py words one window against the last; this keeps a little more per stream so
commentary is not a loop of the same lead: a person who was detected for two windows and is
not any more is said to be out of view (hedged, as a detection it no longer makes), and the
fact that led the last answer steps back when something else is worth saying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.describers.scene_cues import SceneCues
from models.describers.scene_phrases import Fact, who


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
    """Leave out lasting states said in the last answers (the same motion, the same light):
    they are not news. Events (a cut, text that changed, someone arriving) have clauses of
    their own each time or are worth repeating, so only exact repeats go."""
    said = set().union(*recent) if recent else set()
    return [f for f in facts if f[0] not in said or f[0].startswith(("A cut", "Quick cuts"))]


def vary_focus(facts: list[Fact], last_lead: str | None) -> list[Fact]:
    """Move the fact that led last time behind the next one, so a lasting state (steady
    motion, the same colour) does not open every answer; a cut always stays in front."""
    if len(facts) < 2 or last_lead is None or facts[0][0] != last_lead:
        return facts
    if facts[0][0].startswith(("A cut", "Quick cuts")):
        return facts
    return [facts[1], facts[0], *facts[2:]]
