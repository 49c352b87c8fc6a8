"""Text news is worded as read: a clock or a score is named only when that is what changed."""

from __future__ import annotations

import pytest

from models.describers.screen_text import TextLine
from models.describers.text_phrases import clock_in, score_in, text_answer, text_facts
from models.describers.text_watch import TextNews

BOX = (10, 10, 100, 30)


def line(text: str, box: tuple[int, int, int, int] = BOX) -> TextLine:
    return TextLine(text, 0.99, box)


def sentences(news: TextNews) -> list[str]:
    return [s for _clause, options in text_facts(news) for s in options]


def test_a_ticking_clock_is_named_with_its_new_time() -> None:
    said = sentences(TextNews(changed=((line("12:04"), line("12:05")),)))
    assert said and all("12:05" in s and "clock" in s for s in said)


def test_a_changed_score_is_given_as_a_scoreline() -> None:
    news = TextNews(changed=((line("HOME 2-1 AWAY"), line("HOME 3-1 AWAY")),))
    assert all("3–1" in s and "score" in s for s in sentences(news))


def test_a_clock_ticking_beside_a_score_is_not_a_score_change() -> None:
    news = TextNews(changed=((line("12:00HOME 2-1 AWAY"), line("12:01 HOME 2-1 AWAY")),))
    said = sentences(news)
    assert all("12:01" in s and "score" not in s for s in said), said


def test_other_text_is_quoted_as_read() -> None:
    said = sentences(TextNews(appeared=(line("Kick-off in the final"),)))
    assert all('"Kick-off in the final"' in s for s in said)
    gone = sentences(TextNews(gone=(line("Kick-off in the final"),)))
    assert all("Kick-off in the final" in s and ("no longer" in s or "gone" in s) for s in gone)


def test_no_news_says_nothing() -> None:
    assert text_facts(TextNews()) == []


@pytest.mark.parametrize(
    ("text", "clock", "score"),
    [("12:04", "12:04", None), ("2-1", None, "2–1"), ("HOME 2-1 AWAY", None, "2–1"),
     ("2024-05-06", None, None), ("10:00 - 11:30", None, None), ("Route 66", None, None)],
)  # fmt: skip
def test_clocks_and_scores_only_by_their_exact_shape(
    text: str, clock: str | None, score: str | None
) -> None:
    assert clock_in(text) == clock
    assert score_in(text) == score


def test_questions_about_text_get_what_was_read_or_an_honest_no() -> None:
    assert text_answer("Who is there?", (line("12:04"),)) is None
    answer = text_answer("What does the scoreboard say?", (line("HOME 2-1 AWAY"),))
    assert answer is not None and '"HOME 2-1 AWAY"' in answer
    assert "can't read any text" in (text_answer("Is there any text?", ()) or "")
