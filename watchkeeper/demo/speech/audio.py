"""Speech-like clips synthesised with NumPy: six keywords, silence, background noise.

Each keyword is two tones (like the first two formants of a vowel) gliding between a
start and an end frequency under a raised-cosine envelope, spoken at a random level by a
speaker whose pitch varies a little; the word sits between stretches of near silence
(room noise around −50 dBFS), so about a third of a clip's 20 ms frames are silent.
What the incidents change is passed as :class:`Capture` settings: the background noise,
a microphone gain that drives the signal into clipping, the sample rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watchkeeper.types import FloatArray

__all__ = ["KEYWORDS", "RATE", "Capture", "synthesise"]

RATE = 16_000
"""Sample rate of the clips the model was trained on."""

KEYWORDS: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "yes": ((400.0, 300.0), (2200.0, 2500.0)),
    "no": ((500.0, 450.0), (900.0, 800.0)),
    "up": ((650.0, 600.0), (1200.0, 1300.0)),
    "down": ((700.0, 450.0), (1100.0, 900.0)),
    "left": ((450.0, 550.0), (1800.0, 1600.0)),
    "right": ((750.0, 700.0), (1500.0, 2000.0)),
}
"""Per keyword: the first and second tone's (start, end) frequencies in Hz."""


@dataclass(frozen=True)
class Capture:
    """How a clip is recorded (defaults: a normal day)."""

    noise: float = 0.003
    """Standard deviation of the background noise (0.003 is about −50 dBFS)."""
    gain: float = 1.0
    """Microphone gain; above ~3 the loud part of the word clips at full scale."""
    rate: int = RATE
    """Sample rate, Hz."""


def synthesise(
    rng: np.random.Generator, keyword: str, capture: Capture = Capture(), formants: float = 1.0
) -> FloatArray:
    """One clip of ``keyword`` (float samples in [-1, 1] at ``capture.rate``), its tones
    scaled by ``formants`` (an accent: the same word with its formants moved).

    >>> clip = synthesise(np.random.default_rng(0), "yes")
    >>> clip.dtype, 0.6 * RATE <= clip.size <= 1.0 * RATE, float(np.abs(clip).max()) < 1
    (dtype('float64'), True, True)
    """
    rate = capture.rate
    n = int(rng.uniform(0.6, 1.0) * rate)
    word = int(n * rng.uniform(0.45, 0.6))
    start = int(rng.integers(0, n - word))
    pitch = rng.uniform(0.95, 1.05)
    level = rng.uniform(0.15, 0.3)
    envelope = np.sin(np.pi * np.arange(word) / word) ** 2
    signal = np.zeros(word)
    for (f0, f1), amp in zip(KEYWORDS[keyword], (1.0, 0.5), strict=True):
        freq = formants * pitch * np.linspace(f0, f1, word)
        phase = 2 * np.pi * np.cumsum(freq) / rate
        signal += amp * np.sin(phase)
    clip = capture.noise * rng.standard_normal(n)
    clip[start : start + word] += level * envelope * signal
    return np.clip(capture.gain * clip, -1.0, 1.0)
