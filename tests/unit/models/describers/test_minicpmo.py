"""MiniCPMODescriber against a stand-in with MiniCPM-o's real streaming API.

The text tests need no torch. The speech tests need it, because the real
``streaming_generate(generate_audio=True)`` yields torch tensors and the stand-in does too:
they are skipped where torch is not installed.
"""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from models.describers.base import Describer
from models.describers.minicpmo import MiniCPMODescriber, MiniCPMOOptions
from models.messages import (
    DescribeRequest,
    DescriberOutput,
    Intensity,
    SpeechRequest,
    SpeechTokens,
    TextDelta,
    TimedFrame,
    Waveform,
)
from models.voices.token2wav import Token2wavVoice
from tests.fixtures.fake_minicpmo import FakeMiniCPMO, FakeToken2wav, expected_samples

INSTRUCTION = "Comment briefly on what happens."
LONG_ANSWER = " ".join(f"word{i}" for i in range(20)) + "."


def jpeg(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 36), (shade, shade, shade)).save(out, format="JPEG")
    return out.getvalue()


def request(
    stream: str = "a",
    frames: int = 4,
    speech: bool = False,
    question: str | None = None,
    max_new_tokens: int = 64,
) -> DescribeRequest:
    return DescribeRequest(
        stream_id=stream,
        frames=tuple(TimedFrame(jpeg(40 * i), i * 0.5) for i in range(frames)),
        hint=Intensity.BRIEF,
        instruction=INSTRUCTION,
        max_new_tokens=max_new_tokens,
        speech=speech,
        question=question,
    )


def text_of(outputs: list[DescriberOutput]) -> str:
    return "".join(o.text for o in outputs if isinstance(o, TextDelta))


def speech_chunks(outputs: list[DescriberOutput]) -> list[SpeechTokens]:
    return [o for o in outputs if isinstance(o, SpeechTokens)]


# --- text ---------------------------------------------------------------------------------


def test_is_a_describer_named_minicpmo() -> None:
    describer = MiniCPMODescriber(FakeMiniCPMO())
    assert isinstance(describer, Describer)
    assert describer.name == "minicpmo"


def test_frames_go_as_pil_images_in_one_user_message_with_the_instruction() -> None:
    model = FakeMiniCPMO()
    list(MiniCPMODescriber(model).describe(request(frames=4)))
    (prefill,) = model.prefills
    assert prefill.images == 4
    assert prefill.texts == [INSTRUCTION]
    assert prefill.kwargs["max_slice_nums"] == 1  # 64 tokens a frame
    assert prefill.kwargs["omni_mode"] is False
    assert prefill.kwargs["is_last_chunk"] is True
    assert prefill.kwargs["use_tts_template"] is False


def test_the_instruction_is_sent_as_given_even_with_a_question() -> None:
    model = FakeMiniCPMO()
    list(MiniCPMODescriber(model).describe(request(question="What colour is the sky?")))
    (text,) = model.prefills[0].texts
    assert text == INSTRUCTION, "the gateway builds a question's prompt (gateway/prompt.py)"


def test_text_streams_in_pieces_with_explicit_sampling_and_no_beams() -> None:
    model = FakeMiniCPMO([LONG_ANSWER])
    outputs = list(MiniCPMODescriber(model).describe(request(max_new_tokens=77)))
    assert len(outputs) >= 2 and all(isinstance(o, TextDelta) and o.text for o in outputs)
    assert text_of(outputs) == LONG_ANSWER
    (call,) = model.generates
    assert call.generate_audio is False and call.use_tts_template is False
    assert call.max_new_tokens == 77 and call.enable_thinking is False
    assert call.do_sample is True
    assert call.kwargs == {
        "temperature": 0.7,
        "top_p": 0.8,
        "top_k": 100,
        "repetition_penalty": 1.02,
        "length_penalty": 1.0,
    }
    assert "num_beams" not in call.kwargs  # streaming_generate has no beam search


def test_special_tokens_are_stripped_and_nothing_after_a_terminator_is_said() -> None:
    model = FakeMiniCPMO(["<|tts_bos|>Bunny hops.<|tts_eos|> leftover"])
    outputs = list(MiniCPMODescriber(model).describe(request()))
    assert text_of(outputs) == "Bunny hops."


def test_the_none_none_sentinel_ends_the_answer() -> None:
    model = FakeMiniCPMO(["The end."], end_with_sentinel=True)
    assert text_of(list(MiniCPMODescriber(model).describe(request()))) == "The end."


def test_an_answer_cut_by_max_new_tokens_is_still_delivered() -> None:
    model = FakeMiniCPMO([LONG_ANSWER])
    outputs = list(MiniCPMODescriber(model).describe(request(max_new_tokens=5)))
    assert text_of(outputs) == "word0 word1 word2 word3 word4"


def test_the_skip_answer_comes_through_as_text() -> None:
    model = FakeMiniCPMO(["..."])
    assert text_of(list(MiniCPMODescriber(model).describe(request()))) == "..."


# --- sessions and context -----------------------------------------------------------------


def test_each_stream_has_its_own_session_and_switching_resets_the_model() -> None:
    model = FakeMiniCPMO()
    describer = MiniCPMODescriber(model)
    for stream in ("a", "a", "b", "a"):
        list(describer.describe(request(stream=stream)))
    assert [p.session_id for p in model.prefills] == ["a#0", "a#0", "b#0", "a#0"]
    # The model resets (keeping its Token2wav cache) when the session id changes.
    assert model.resets == [False, False, False]


def test_context_is_renewed_every_n_cycles() -> None:
    model = FakeMiniCPMO()
    describer = MiniCPMODescriber(model, options=MiniCPMOOptions(context_max_cycles=3))
    for _ in range(7):
        list(describer.describe(request()))
    ids = [p.session_id for p in model.prefills]
    assert ids == ["a#0"] * 3 + ["a#1"] * 3 + ["a#2"]


def test_context_is_renewed_before_the_kv_cache_passes_the_limit() -> None:
    model = FakeMiniCPMO()
    limit = 1200
    describer = MiniCPMODescriber(
        model, options=MiniCPMOOptions(context_max_cycles=1000, context_max_tokens=limit)
    )
    lengths = []
    for _ in range(12):
        list(describer.describe(request(frames=4)))
        lengths.append(model.llm_past_key_values.get_seq_length())
    assert max(lengths) <= limit
    assert len({p.session_id for p in model.prefills}) > 1


def test_close_stream_frees_the_model_session() -> None:
    model = FakeMiniCPMO()
    describer = MiniCPMODescriber(model)
    list(describer.describe(request()))
    describer.close_stream("a")
    assert model.session_id is None and model.llm_past_key_values is None
    assert model.resets[-1] is False  # the reference voice's Token2wav cache stays


def test_a_failed_turn_raises_and_the_next_starts_a_fresh_context() -> None:
    model = FakeMiniCPMO(fail_on="generate")
    describer = MiniCPMODescriber(model)
    with pytest.raises(RuntimeError, match="fake generate failure"):
        list(describer.describe(request()))
    model.fail_on = None
    list(describer.describe(request()))
    assert [p.session_id for p in model.prefills] == ["a#0", "a#1"]


def test_turns_are_serialised_across_threads() -> None:
    model = FakeMiniCPMO([LONG_ANSWER], latency_s_per_chunk=0.05)
    describer = MiniCPMODescriber(model)
    prefill_at: dict[str, float] = {}
    done_at: dict[str, float] = {}
    original = model.streaming_prefill

    def timed_prefill(*args: object, **kwargs: object) -> str:
        prefill_at[str(kwargs["session_id"])] = time.monotonic()
        return original(*args, **kwargs)  # type: ignore[arg-type]

    model.streaming_prefill = timed_prefill  # type: ignore[method-assign]

    def run(stream: str) -> None:
        list(describer.describe(request(stream=stream)))
        done_at[stream] = time.monotonic()

    first = threading.Thread(target=run, args=("a",))
    first.start()
    time.sleep(0.02)
    second = threading.Thread(target=run, args=("b",))
    second.start()
    first.join(5)
    second.join(5)
    assert prefill_at["b#0"] >= done_at["a"] - 0.01


# --- speech (the real API yields torch tensors here) ----------------------------------------


def test_speech_tokens_leave_in_chunks_of_25_without_the_silence_seed() -> None:
    pytest.importorskip("torch")
    model = FakeMiniCPMO([LONG_ANSWER])  # 20 words × 4 = 80 speech tokens
    outputs = list(MiniCPMODescriber(model).describe(request(speech=True)))
    chunks = speech_chunks(outputs)
    assert [len(c.tokens) for c in chunks] == [25, 25, 25, 5, 0]
    assert [c.final for c in chunks] == [False, False, False, False, True]
    assert [t for c in chunks for t in c.tokens] == model.speech_tokens_made
    assert text_of(outputs) == LONG_ANSWER
    call = model.generates[0]
    assert call.generate_audio is True and call.use_tts_template is True
    assert model.prefills[0].kwargs["use_tts_template"] is True


def test_split_speech_needs_no_token2wav_in_the_commentator_and_restores_the_model() -> None:
    pytest.importorskip("torch")
    model = FakeMiniCPMO([LONG_ANSWER])
    assert model.tts.audio_tokenizer is None and model.token2wav_cache is None
    list(MiniCPMODescriber(model).describe(request(speech=True)))
    assert model.tts.audio_tokenizer is None
    assert model.token2wav_cache is None
    assert model.tts.config.audio_tokenizer_type == "s3tokenizer"


def test_split_tokens_through_the_vocoder_sound_exactly_like_the_in_process_path() -> None:
    pytest.importorskip("torch")
    split_model = FakeMiniCPMO([LONG_ANSWER])
    split = list(MiniCPMODescriber(split_model).describe(request(speech=True)))
    voice = Token2wavVoice(FakeToken2wav("assets/token2wav"), "/voices/ref.wav")
    via_vocoder = [
        samples
        for chunk in speech_chunks(split)
        for samples in voice.synthesize(
            SpeechRequest("a", "u1", tokens=chunk.tokens, final=chunk.final)
        )
    ]

    local_model = FakeMiniCPMO([LONG_ANSWER])
    local_model.init_tts(streaming=True, model_dir="assets/token2wav")
    local_model.init_token2wav_cache(np.zeros(16_000, dtype=np.float32))
    local = list(
        MiniCPMODescriber(local_model, in_process_audio=True).describe(request(speech=True))
    )
    waveforms = [o for o in local if isinstance(o, Waveform)]

    assert not speech_chunks(local)
    assert all(w.sample_rate_hz == 24_000 and w.samples.dtype == np.float32 for w in waveforms)
    assert [w.samples.size for w in waveforms] == expected_samples(
        [28, 28, 28, 8], [False, False, False, True]
    )
    assert np.allclose(np.concatenate(via_vocoder), np.concatenate([w.samples for w in waveforms]))


def test_speech_waits_until_the_text_rules_out_a_skip() -> None:
    pytest.importorskip("torch")
    model = FakeMiniCPMO([LONG_ANSWER])
    outputs = list(MiniCPMODescriber(model).describe(request(speech=True)))
    first_text = next(i for i, o in enumerate(outputs) if isinstance(o, TextDelta))
    first_speech = next(i for i, o in enumerate(outputs) if isinstance(o, SpeechTokens))
    assert first_text < first_speech


@pytest.mark.parametrize("in_process", [False, True])
def test_a_skip_answer_makes_no_sound(in_process: bool) -> None:
    pytest.importorskip("torch")
    model = FakeMiniCPMO(["..."])
    if in_process:
        model.init_tts(streaming=True)
        model.init_token2wav_cache(np.zeros(16_000, dtype=np.float32))
    outputs = list(
        MiniCPMODescriber(model, in_process_audio=in_process).describe(request(speech=True))
    )
    assert model.speech_tokens_made  # the TTS head did speak "..."
    assert outputs == [TextDelta("...")]


def test_a_model_loaded_without_a_tts_head_answers_in_text_only() -> None:
    model = FakeMiniCPMO(["Text only."])
    del model.tts  # config.init_tts=False: the attribute never exists (Demo l.133-134)
    outputs = list(MiniCPMODescriber(model).describe(request(speech=True)))
    assert outputs == [TextDelta("Text only.")]
    assert model.generates[0].generate_audio is False
