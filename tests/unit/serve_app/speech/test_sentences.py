from serve_app.speech.sentences import SentenceSplitter


def test_sentences_come_out_as_soon_as_they_end() -> None:
    s = SentenceSplitter()
    assert s.feed("A rabbit wakes") == []
    assert s.feed(" up. It stretches") == ["A rabbit wakes up."]
    assert s.feed("! Then") == ["It stretches!"]
    assert s.rest() == "Then"
    assert s.rest() == ""


def test_a_final_sentence_without_trailing_space_is_the_rest() -> None:
    s = SentenceSplitter()
    assert s.feed("Dark.") == []
    assert s.rest() == "Dark."
