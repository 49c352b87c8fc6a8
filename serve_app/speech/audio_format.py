"""The audio the service sends out: one owner for its rate, channels and sample format.

Voices speak at ``VOICE_SAMPLE_RATE_HZ`` (24 kHz float, models/messages.py); clients get
48 kHz mono int16 little-endian, the rate browsers' audio stacks run at, so the page plays it
without resampling again.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PcmFormat:
    """Raw PCM: rate, channels and bytes per sample (signed little-endian integers)."""

    rate_hz: int
    channels: int = 1
    sample_bytes: int = 2

    @property
    def bytes_per_s(self) -> int:
        return self.rate_hz * self.channels * self.sample_bytes

    def duration_s(self, n_bytes: int) -> float:
        return n_bytes / self.bytes_per_s

    @property
    def media_type(self) -> str:
        """The MIME type of a raw stream in this format (RFC 2586's audio/L16)."""
        return f"audio/L{8 * self.sample_bytes};rate={self.rate_hz};channels={self.channels}"

    @property
    def headers(self) -> dict[str, str]:
        """Response headers that tell a raw-PCM client how to play the bytes."""
        return {
            "X-Audio-Rate": str(self.rate_hz),
            "X-Audio-Channels": str(self.channels),
            "X-Audio-Format": f"s{8 * self.sample_bytes}le",
        }

    def streaming_wav_header(self) -> bytes:
        """A WAV header for a stream of unknown length (sizes at their maximum, as players
        expect)."""
        unknown = 0xFFFFFFFF
        block = self.channels * self.sample_bytes
        return (
            b"RIFF"
            + struct.pack("<I", unknown)
            + b"WAVE"
            + b"fmt "
            + struct.pack(
                "<IHHIIHH",
                16,
                1,
                self.channels,
                self.rate_hz,
                self.rate_hz * block,
                block,
                8 * self.sample_bytes,
            )
            + b"data"
            + struct.pack("<I", unknown)
        )


OUTPUT_AUDIO = PcmFormat(rate_hz=48_000)
"""What every audio client receives: 48 kHz mono int16 little-endian."""
