"""AnswerText: raw model text pieces in, clean commentary deltas out."""

import pytest

from models.describers.answer_text import TERMINATORS, AnswerText


def test_plain_pieces_come_out_as_deltas_without_leading_whitespace() -> None:
    answer = AnswerText()
    assert answer.feed("  ") == ""
    assert answer.feed("\nA rabbit") == "A rabbit"
    assert answer.feed(" hops.") == " hops."
    assert answer.text == "A rabbit hops."


@pytest.mark.parametrize("terminator", TERMINATORS)
def test_each_terminator_ends_the_answer(terminator: str) -> None:
    answer = AnswerText()
    assert answer.feed(f"Done.{terminator} trailing") == "Done."
    assert answer.feed(" more text") == ""
    assert answer.flush() == ""
    assert answer.text == "Done."


def test_special_tokens_that_do_not_end_the_answer_are_dropped() -> None:
    answer = AnswerText()
    assert answer.feed("<|tts_bos|>A cat<|im_start|> sits.") == "A cat sits."
    assert answer.text == "A cat sits."


def test_a_held_back_tail_that_is_not_a_token_is_released_by_the_next_piece() -> None:
    answer = AnswerText()
    assert answer.feed("I <") == "I "
    assert answer.feed("3 carrots") == "<3 carrots"
    assert answer.text == "I <3 carrots"


def test_a_terminator_split_across_pieces_ends_the_answer() -> None:
    answer = AnswerText()
    assert answer.feed("Bye<|im") == "Bye"
    assert answer.feed("_end|>after") == ""
    assert answer.feed("anything") == ""
    assert answer.text == "Bye"


def test_the_deltas_add_up_to_the_text() -> None:
    answer = AnswerText()
    pieces = [" The", " dog <", "|tts_bos|", "> runs", " <", "fast>", "."]
    deltas = [answer.feed(piece) for piece in pieces] + [answer.flush()]
    assert "".join(deltas) == answer.text == "The dog  runs <fast>."


def test_a_special_token_split_across_pieces_is_held_back_then_dropped() -> None:
    answer = AnswerText()
    assert answer.feed("\nHello <|tts") == "Hello "
    assert answer.feed("_eos|> more") == ""
    assert answer.text == "Hello"


def test_a_held_back_tail_is_released_when_generation_just_stops() -> None:
    answer = AnswerText()
    assert answer.feed("a < b <") == "a < b "
    assert answer.flush() == "<"
