"""Question: the queue a question's answer streams in."""

from serve_app.session.question import Question


def drain(question: Question) -> list[object]:
    items: list[object] = []
    while not question.answer.empty():
        items.append(question.answer.get_nowait())
    return items


def test_pieces_arrive_in_order_and_none_ends_the_answer() -> None:
    question = Question("What is the rabbit doing?")
    question.say("It is ")
    question.say("eating.")
    question.end()
    assert drain(question) == ["It is ", "eating.", None]


def test_a_failure_is_delivered_as_the_error_itself() -> None:
    question = Question("Why?")
    error = RuntimeError("describer failed")
    question.say("Because")
    question.fail(error)
    first, second = drain(question)
    assert first == "Because"
    assert second is error


def test_each_question_has_its_own_answer_queue() -> None:
    first, second = Question("one"), Question("two")
    first.say("only for the first")
    assert drain(second) == []
    assert drain(first) == ["only for the first"]
