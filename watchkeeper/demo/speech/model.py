"""The speech model: band energies of a clip's spectrum, then a logistic regression.

The clip's power spectrum (NumPy FFT) is summed in 32 bands spaced evenly on a log scale
from 150 Hz to 3.4 kHz (telephone speech), normalised to shares of the total and logged:
a loudness-free picture of where the energy is. A multinomial logistic regression
(scikit-learn) maps it to one of the keywords; the transcript is the keyword when its
probability is at least :data:`MIN_CONFIDENCE`, else empty (nothing recognised).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.demo.speech.audio import KEYWORDS, Capture, synthesise
from watchkeeper.errors import MissingExtraError
from watchkeeper.types import FloatArray

__all__ = ["MIN_CONFIDENCE", "SpeechModel", "band_energies", "train_speech_model"]

MIN_CONFIDENCE = 0.4
"""Below this probability the transcript is empty."""
_EDGES = np.geomspace(150.0, 3400.0, 33)


def band_energies(clip: FloatArray, rate: float) -> FloatArray:
    """Log shares of the clip's spectral energy in 32 log-spaced bands.

    >>> e = band_energies(np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000), 8000)
    >>> e.shape, int(np.argmax(e)) == int(np.searchsorted(_EDGES, 1000.0)) - 1
    ((32,), True)
    """
    size = 1 << max(1, int(clip.size - 1).bit_length())  # a power of two: a fast FFT
    power = np.abs(np.fft.rfft(clip, size)) ** 2
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    idx = np.searchsorted(_EDGES, freqs) - 1
    ok = (idx >= 0) & (idx < 32)
    bands = np.bincount(idx[ok], weights=power[ok], minlength=32)
    shares = bands / max(float(bands.sum()), 1e-300)
    out: FloatArray = np.log(shares + 1e-6)
    return out


@dataclass
class SpeechModel:
    """A fitted keyword classifier."""

    classifier: Any

    def transcribe(self, clips: list[tuple[FloatArray, float]]) -> tuple[list[str], FloatArray]:
        """``(transcripts, confidences)``: the most likely keyword and its probability,
        an empty transcript when it is under :data:`MIN_CONFIDENCE`."""
        x = np.stack([band_energies(clip, rate) for clip, rate in clips])
        proba = self.classifier.predict_proba(x)
        best = proba.argmax(axis=1)
        confidence = proba[np.arange(len(clips)), best]
        words = [str(self.classifier.classes_[i]) for i in best]
        text = [w if c >= MIN_CONFIDENCE else "" for w, c in zip(words, confidence, strict=True)]
        return text, np.asarray(confidence, dtype=np.float64)


def train_speech_model(rng: np.random.Generator, per_keyword: int = 150) -> SpeechModel:
    """Train on ``per_keyword`` synthesised clips of each keyword.

    Raises
    ------
    MissingExtraError
        scikit-learn is not installed.
    """
    try:
        linear_model = importlib.import_module("sklearn.linear_model")
    except ImportError as exc:  # the demo extra is optional
        raise MissingExtraError.needs("the demo needs scikit-learn", "demo") from exc
    words = [w for w in KEYWORDS for _ in range(per_keyword)]
    x = np.stack([band_energies(synthesise(rng, w, Capture()), Capture().rate) for w in words])
    classifier = linear_model.LogisticRegression(max_iter=2_000, C=1.0)
    classifier.fit(x, np.array(words, dtype=object))
    return SpeechModel(classifier)
