"""Measurements into English: what changed since the last window, and answers to questions.

Each fact has a short clause (for the MINIMAL hint) and several sentence templates; a
seeded RNG picks among them so commentary is reproducible in tests yet not monotonous.
Every sentence is about motion, light, colour, cuts or hedged people and faces; nothing
here may name an object or tell a story, because the measurements cannot see one.
"""

from __future__ import annotations

import random
import re

from models.describers.scene_cues import SceneCues
from models.messages import SKIP_ANSWER, Intensity

# A fact is (short clause for MINIMAL, full-sentence templates for BRIEF and NORMAL).
Fact = tuple[str, tuple[str, ...]]
# 0.08 of full scale is a change a viewer notices; JPEG and small motion stay under 0.03.
BRIGHTNESS_STEP = 0.08


def notable_facts(
    previous: SceneCues | None,
    cues: SceneCues,
    hint: Intensity,
    brightness_step: float = BRIGHTNESS_STEP,
) -> list[Fact]:
    """What changed since the stream's last window, most important first; [] means skip."""
    facts: list[Fact] = []
    if cues.cut_count:
        facts.append(cut_fact(cues.cut_count))
    first_look = previous is None or cues.cut_count > 0  # a new shot is described afresh
    if (people := people_fact(cues)) and (first_look or more_people(previous, cues)):
        facts.append(people)
    if motion := motion_change_fact(previous, cues, hint):
        facts.append(motion)
    # Across a cut the old window's light says nothing about this shot.
    shift = cues.brightness - previous.brightness if previous and not cues.cut_count else 0.0
    if abs(cues.brightness_change) >= brightness_step:
        facts.append(brightness_trend_fact(cues.brightness_change))
    elif abs(shift) >= 1.5 * brightness_step:  # between windows: needs a firmer change
        facts.append(brightness_trend_fact(shift))
    elif first_look and (level := brightness_level_fact(cues.brightness)):
        facts.append(level)
    new_colour = previous is None or cues.colours[:1] != previous.colours[:1]
    if cues.colours and (first_look or new_colour):
        facts.append(colour_fact(cues.colours))
    return facts


def motion_change_fact(previous: SceneCues | None, cues: SceneCues, hint: Intensity) -> Fact | None:
    """Motion that starts, turns or stops; ongoing motion too unless the hint is MINIMAL."""
    was_still = previous is None or previous.is_still
    if cues.is_still:
        if was_still or cues.cut_count:
            return None
        return ("Movement stops", ("Things go still.", "The movement stops."))
    now = (cues.direction, cues.camera_moves)
    turned = previous is None or now != (previous.direction, previous.camera_moves)
    if turned or was_still or hint is not Intensity.MINIMAL:
        return motion_fact(cues)
    return None


def more_people(previous: SceneCues | None, cues: SceneCues) -> bool:
    seen_before = max(previous.people_count, previous.face_count) if previous else 0
    return max(cues.people_count, cues.face_count) > seen_before


def compose(facts: list[Fact], hint: Intensity, rng: random.Random, avoid: str = "") -> str:
    """The answer; a template already in ``avoid`` (the last answer) is picked only when a
    fact has no other."""
    if not facts:
        return SKIP_ANSWER
    if hint is Intensity.MINIMAL:
        return facts[0][0] + "."
    return " ".join(
        rng.choice([s for s in sentences if s not in avoid] or sentences)
        for _, sentences in facts[: spoken_count(hint)]
    )


def spoken_count(hint: Intensity) -> int:
    """How many of the leading facts :func:`compose` speaks for ``hint``."""
    return 2 if hint is Intensity.NORMAL else 1


def cut_fact(cut_count: int) -> Fact:
    if cut_count > 1:
        return (
            "Quick cuts",
            (
                f"The picture cuts {cut_count} times in quick succession.",
                f"{cut_count} cuts in a few seconds: the shots change fast.",
            ),
        )
    return (
        "A cut to a new scene",
        (
            "The picture cuts to a new scene.",
            "There's a cut: a new shot begins.",
            "The view switches to a different shot.",
        ),
    )


def is_cut(fact: Fact) -> bool:
    return fact[0].startswith(("A cut", "Quick cuts"))


def who(people_count: int, face_count: int) -> str | None:
    count = max(people_count, face_count)
    one = "a person" if people_count else "a face"
    return {0: None, 1: one, 2: "two people"}.get(count, "several people")


def people_fact(cues: SceneCues) -> Fact | None:
    someone = who(cues.people_count, cues.face_count)
    if someone is None:
        return None
    facing = " facing the camera" if cues.face_count and not cues.people_count else ""
    return (
        f"Looks like {someone}{facing}",
        (
            f"There appears to be {someone}{facing} in view.",
            f"It looks like {someone}{facing} is in the picture.",
            f"I think I can make out {someone}{facing}.",
        ),
    )


# Diagonals ("up and to the left") already read well after "moves".
DIRECTION_PHRASES = {
    "up": "upwards",
    "down": "downwards",
    "left": "to the left",
    "right": "to the right",
}


def direction_phrase(direction: str) -> str:
    return DIRECTION_PHRASES.get(direction, direction)


def motion_fact(cues: SceneCues) -> Fact:
    # Pixels per frame step at 320 px wide: over 6 crosses the frame in ~50 steps (fast);
    # under 2 is a creep.
    pace = "fast " if cues.motion_px > 6 else "slow " if cues.motion_px < 2 else ""
    if cues.direction is None:
        return (
            "Movement all over",
            (
                "A lot is moving, in different directions.",
                "The picture is busy with movement going several ways.",
            ),
        )
    where = direction_phrase(cues.direction)
    if cues.camera_moves:
        return (
            f"The view drifts {where}",
            (
                f"The whole view drifts {where}, as if the camera were moving.",
                f"It looks like the camera is moving: everything slides {where}.",
            ),
        )
    return (
        f"{pace.capitalize() or 'Some '}movement {where}",
        (
            f"There's {pace}movement {where} in part of the picture.",
            f"Something in the frame moves {where}.",
            f"Part of the scene is moving {where}.",
        ),
    )


def brightness_trend_fact(change: float) -> Fact:
    if change > 0:
        return (
            "Getting brighter",
            ("The picture is getting brighter.", "It's brightening.", "The light comes up."),
        )
    return (
        "Getting darker",
        ("The picture is getting darker.", "It's dimming.", "The light goes down."),
    )


def brightness_level_fact(brightness: float) -> Fact | None:
    if brightness < 0.2:  # mean luma under a fifth of full scale reads as night or a dark room
        return ("A dark picture", ("It's a dark picture.", "The scene is quite dark."))
    if brightness > 0.75:
        return ("A bright picture", ("It's a bright picture.", "The scene is very bright."))
    return None


def colour_fact(colours: tuple[str, ...]) -> Fact:
    if len(colours) == 1:
        return (f"Mostly {colours[0]}", (f"The frame is mostly {colours[0]}.",))
    first, second = colours[0], colours[1]
    return (
        f"Mostly {first} and {second}",
        (
            f"The frame is mostly {first} and {second}.",
            f"{first.capitalize()} dominates, with some {second}.",
            f"The colours are mainly {first} and {second}.",
        ),
    )


TOPICS: tuple[tuple[str, str], ...] = (
    ("people", r"\b(people|person|persons|anyone|anybody|someone|somebody|who|man|woman|face"
     r"|faces|men|women|child|kid)\b"),
    ("motion", r"\b(mov\w*|motion|happen\w*|going on|doing|direction|camera|fast|speed)\b"),
    ("colour", r"\b(colou?rs?|red|green|blue|yellow)\b"),
    ("light", r"\b(dark\w*|bright\w*|light\w*|night|day)\b"),
    ("cut", r"\b(cuts?|scene|shots?|change\w*)\b"),
)  # fmt: skip


LIMITS = {
    "people": "I cannot tell who anyone is or what they are doing",
    "colour": "I cannot tell which thing has which colour",
}
ANY_LIMIT = (
    "I cannot tell what the things in view are",
    "I cannot name objects, only measure motion, light, colour, people and faces",
)


def answer_question(question: str, cues: SceneCues, rng: random.Random) -> str:
    """At most two sentences: what the measures show, then what they cannot tell."""
    asked = [t for t, pattern in TOPICS if re.search(pattern, question, re.IGNORECASE)]
    seen = [see(topic, cues) for topic in asked or ["motion", "people", "colour"]]
    limit = next((LIMITS[t] for t in asked if t in LIMITS), None) or rng.choice(ANY_LIMIT)
    return f"{'; '.join(seen)}. {limit}."


def see(topic: str, cues: SceneCues) -> str:
    if topic == "people":
        someone = who(cues.people_count, cues.face_count)
        return f"I can see what looks like {someone}" if someone else "I can't detect anyone"
    if topic == "colour":
        return (
            f"I can see mostly {' and '.join(cues.colours[:2])}"
            if cues.colours
            else "I can see mixed colours"
        )
    if topic == "light":
        level = "dark" if cues.brightness < 0.2 else "bright" if cues.brightness > 0.75 else ""
        trend = ""
        if abs(cues.brightness_change) >= BRIGHTNESS_STEP:
            trend = ", getting brighter" if cues.brightness_change > 0 else ", getting darker"
        return f"I can see a {level or 'moderately lit'} picture{trend}"
    if topic == "cut":
        return f"I can see {cues.cut_count} cut(s) here" if cues.cut_count else "I can see no cut"
    if cues.is_still:
        return "I can see a still picture"
    if cues.direction is None:
        return "I can see movement in several directions"
    who_moves = "the whole view" if cues.camera_moves else "part of the picture"
    return f"I can see {who_moves} moving {direction_phrase(cues.direction)}"
