"""CommentaryPrompt: the one place the words sent to a vision-language model are put together.

A cycle's prompt is the stream's instruction, the intensity hint and, for any language but
English, which language to answer in. A viewer's question gets a prompt of its own: the skip rule
("answer '...'") and the intensity hints are for unprompted commentary, and a question must
always get an answer. Engines send ``DescribeRequest.instruction`` as it is; ``question`` stays
on the request for engines that answer without a prompt (the embedded describer).
"""

from __future__ import annotations

from models.messages import Intensity

HINT_TEXT: dict[Intensity, str] = {
    Intensity.MINIMAL: "Little has changed: answer '...' unless something new happened.",
    Intensity.BRIEF: "Be brief: one short sentence.",
    Intensity.NORMAL: "A lot is happening: up to two short sentences.",
}
QUESTION_TEXT = (
    "You are a live commentator watching these frames, oldest first. A viewer asks: {question}\n"
    "Answer the viewer in a sentence or two."
)
LANGUAGE_NAMES: dict[str, str] = {
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "zh": "Chinese",
}


def language_line(language: str) -> str:
    """'' for English; otherwise the sentence that asks for the language (eSpeak codes)."""
    code = language.lower().split("-")[0]
    if code == "en":
        return ""
    return f"\nAnswer in {LANGUAGE_NAMES.get(code, language)}."


class CommentaryPrompt:
    def __init__(self, instruction: str, language: str) -> None:
        self._instruction = instruction
        self._language = language_line(language)

    def for_cycle(self, intensity: Intensity) -> str:
        return f"{self._instruction}\n{HINT_TEXT[intensity]}{self._language}"

    def for_question(self, question: str) -> str:
        return QUESTION_TEXT.format(question=question) + self._language
