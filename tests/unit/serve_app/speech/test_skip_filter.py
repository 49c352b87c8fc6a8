from models.messages import is_skip_answer
from serve_app.speech.skip_filter import SkipAudioFilter


def test_skip_answers() -> None:
    for text in ["...", " ... ", "…", "....", ""]:
        assert is_skip_answer(text), text
    for text in ["A man.", "...and then", "Dark."]:
        assert not is_skip_answer(text), text


def test_speech_is_held_until_the_text_is_longer_than_the_limit() -> None:
    f: SkipAudioFilter[str] = SkipAudioFilter(hold_chars=5)
    assert f.add_speech("a1") == []
    assert f.add_text("The ") == []
    assert f.add_speech("a2") == []
    assert f.add_text("rabbit") == ["a1", "a2"]  # "The rabbit" > 5 chars: flush
    assert f.add_speech("a3") == ["a3"]  # then stream
    assert f.finish() == []


def test_a_skip_answer_never_makes_a_sound() -> None:
    f: SkipAudioFilter[str] = SkipAudioFilter(hold_chars=5)
    f.add_text("..")
    f.add_speech("a1")
    f.add_text(".")
    f.add_speech("a2")
    assert f.finish() == []
    assert not f.speaking


def test_a_long_run_of_dots_is_still_a_skip() -> None:
    f: SkipAudioFilter[str] = SkipAudioFilter(hold_chars=5)
    assert f.add_text("........") == []
    f.add_speech("a")
    assert f.finish() == []


def test_a_short_real_answer_is_spoken_at_the_end() -> None:
    f: SkipAudioFilter[str] = SkipAudioFilter(hold_chars=5)
    f.add_text("Dark.")
    f.add_speech("a1")
    assert f.finish() == ["a1"]
