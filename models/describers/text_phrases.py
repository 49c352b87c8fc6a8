"""On-screen text news into English: what a clock, a score or a caption reads now.

Only text the OCR engine read confidently reaches here, quoted as read (normalised, never
completed or corrected). A clock is "H:MM" or "H:MM:SS"; a score is two small numbers joined
by a dash; anything else is just text. What a line really is the describer cannot know, so a
clock or a score is only named when the line holds exactly one and only it changed.
"""

from __future__ import annotations

import re

from models.describers.scene_phrases import Fact
from models.describers.screen_text import TextLine
from models.describers.text_watch import TextNews

CLOCK_ANYWHERE = re.compile(r"(?<![\d:.])\d{1,2}:\d{2}(:\d{2})?(?![\d:.])")
SCORE = re.compile(r"(?<![\d:.-])(\d{1,3})-(\d{1,3})(?![\d:.-])")
MAX_QUOTE_CHARS = 60  # a spoken quote longer than this drowns the commentary


def text_facts(news: TextNews) -> list[Fact]:
    """Changes first (the live ones: clocks and scores), then new text, then text gone."""
    facts = [changed_fact(before, now) for before, now in news.changed]
    if news.appeared:
        facts.append(appeared_fact(news.appeared))
    if news.gone and not news.appeared:
        facts.append(gone_fact(news.gone))
    return facts


def clock_in(text: str) -> str | None:
    """The one clock in ``text`` ("12:04"), or None when there is none or more than one."""
    found = [m.group(0) for m in CLOCK_ANYWHERE.finditer(text)]
    return found[0] if len(found) == 1 else None


def score_in(text: str) -> str | None:
    """The one score in ``text`` as "2–1", or None when there is none or more than one."""
    found = SCORE.findall(text)
    return f"{found[0][0]}–{found[0][1]}" if len(found) == 1 else None


def quote(text: str) -> str:
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    return text[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


def changed_fact(before: TextLine, now: TextLine) -> Fact:
    """Name the clock or the score when that is what changed in the line, else quote it."""
    clock, was_clock = clock_in(now.text), clock_in(before.text)
    score, was_score = score_in(now.text), score_in(before.text)
    rest_same = strip_live(now.text) == strip_live(before.text)
    if score and was_score and score != was_score and rest_same:
        return (
            f"Score now {score}",
            (f"The score is now {score}.", f"The scoreline changes to {score}."),
        )
    if clock and was_clock and clock != was_clock and rest_same and score == was_score:
        return (
            f"Clock at {clock}",
            (f"The clock reads {clock} now.", f"The clock has moved on to {clock}."),
        )
    text = quote(now.text)
    return (
        f'Text now "{text}"',
        (f'The on-screen text changes to: "{text}".', f'The text now reads: "{text}".'),
    )


def strip_live(text: str) -> str:
    """The line without its clock and score, to tell a ticking clock from new text."""
    return SCORE.sub("", CLOCK_ANYWHERE.sub("", text)).strip()


def appeared_fact(lines: tuple[TextLine, ...]) -> Fact:
    if len(lines) == 1:
        text = lines[0].text
        if (clock := clock_in(text)) and not strip_live(text):
            return (
                f"A clock: {clock}",
                (f"A clock on screen reads {clock}.", f"I can read {clock} on screen."),
            )
        if (score := score_in(text)) and not clock_in(text):
            shown = quote(text).replace(score.replace("–", "-"), score)
            return (
                f"A score: {score}",
                (f'A score is on screen: "{shown}".', f'The scoreboard shows "{shown}".'),
            )
        return (
            f'Text: "{quote(text)}"',
            (f'Text on screen reads: "{quote(text)}".', f'On screen, I can read "{quote(text)}".'),
        )
    quoted = " / ".join(f'"{quote(line.text)}"' for line in lines[:3])
    more = f", and {len(lines) - 3} more lines" if len(lines) > 3 else ""
    return (
        "Text on screen",
        (f"Text on screen reads {quoted}{more}.", f"I can read {quoted}{more} on screen."),
    )


def gone_fact(lines: tuple[TextLine, ...]) -> Fact:
    if len(lines) == 1:
        text = quote(lines[0].text)
        return (
            "The text is gone",
            (f'"{text}" is no longer on screen.', f'The text "{text}" has gone.'),
        )
    return ("The text is gone", ("The on-screen text is gone.", "The text on screen has gone."))


ABOUT_TEXT = re.compile(
    # Not "say", "read" or "time": "what would you say is going on?" and "is it night time?"
    # are about the scene, and must not get "I can't read any text".
    r"\b(text|written|writing|words?|score(?:board)?s?|clock|captions?|signs?|titles?)\b",
    re.IGNORECASE,
)


def text_answer(question: str, lines: tuple[TextLine, ...]) -> str | None:
    """The answer to a question about on-screen text, or None when it asks about other things."""
    if not ABOUT_TEXT.search(question):
        return None
    if not lines:
        return "I can't read any text on screen. I read only clear, upright Latin text."
    quoted = " / ".join(f'"{quote(line.text)}"' for line in lines[:4])
    return f"I can read {quoted} on screen. I cannot tell what the text refers to."
