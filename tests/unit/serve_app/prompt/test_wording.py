"""CommentaryPrompt: cycles carry the hint and the language; questions get a prompt of their own."""

from models.messages import Intensity
from serve_app.prompt.wording import CommentaryPrompt, language_line

INSTRUCTION = "Describe the frames. If nothing notable changed, answer exactly '...'."


def test_a_cycle_prompt_is_the_instruction_and_its_hint() -> None:
    prompt = CommentaryPrompt(INSTRUCTION, "en").for_cycle(Intensity.BRIEF)
    assert prompt.startswith(INSTRUCTION) and "brief" in prompt.lower()
    assert "Answer in" not in prompt


def test_a_question_gets_no_skip_rule_and_no_hint() -> None:
    prompt = CommentaryPrompt(INSTRUCTION, "en").for_question("What colour is the sky?")
    assert "What colour is the sky?" in prompt
    assert "'...'" not in prompt and "brief" not in prompt.lower()


def test_the_language_setting_reaches_cycles_and_questions() -> None:
    prompt = CommentaryPrompt(INSTRUCTION, "de")
    assert prompt.for_cycle(Intensity.NORMAL).endswith("Answer in German.")
    assert prompt.for_question("Wer ist das?").endswith("Answer in German.")
    assert language_line("en-us") == "" and language_line("xx") == "\nAnswer in xx."
