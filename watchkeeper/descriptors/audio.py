"""Descriptors of audio clips: duration, loudness, silence, clipping, sample rate.

Computed with NumPy on samples scaled to full scale [-1, 1] (integer PCM is divided by
its type's full scale; several channels are averaged for loudness and silence):

- ``duration_seconds``: samples / sample rate;
- ``rms_dbfs``: RMS level in dB relative to full scale, ``20 log10(rms)`` (a full-scale
  sine is −3.01 dBFS), floored at −120 dBFS for digital silence;
- ``silence_ratio``: share of 20 ms frames (the trailing partial frame left out, unless
  the clip is shorter than one frame) whose RMS is below −40 dBFS;
- ``clipping_share``: share of samples at or beyond 0.999 of full scale, on any channel
  (a microphone or gain stage saturating);
- ``sample_rate_hz``: as given or as read from the file.

Accepted values: ``(samples, sample_rate)`` (a tuple or a mapping with keys ``samples``
and ``sample_rate``), or the bytes of an encoded file (WAV, FLAC, OGG: needs soundfile,
``pip install "watchkeeper[media]"``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from watchkeeper.descriptors._per_value import PerValueDescriptors
from watchkeeper.errors import InvalidBatchError, MissingExtraError
from watchkeeper.types import FloatArray

__all__ = ["AudioDescriptors", "audio_samples", "describe_audio"]

FRAME_SECONDS = 0.02
"""Length of the frames judged silent or not."""
SILENCE_DBFS = -40.0
"""A frame quieter than this is silent."""
CLIP_LEVEL = 0.999
"""A sample at or beyond this share of full scale is clipped."""
FLOOR_DBFS = -120.0
"""The level reported for digital silence (the log of zero)."""


def audio_samples(value: Any) -> tuple[FloatArray, float]:
    """The clip as float samples in [-1, 1] (``n`` or ``n x channels``) and its rate.

    Raises
    ------
    InvalidBatchError
        Not a clip (naming what was given).
    MissingExtraError
        Encoded bytes without soundfile installed.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            import soundfile
        except ImportError as exc:
            raise MissingExtraError.needs(
                "audio descriptors of encoded files need soundfile", "media"
            ) from exc
        data, rate = soundfile.read(io.BytesIO(bytes(value)), dtype="float64")
        return np.asarray(data, dtype=np.float64), float(rate)
    if isinstance(value, Mapping):
        samples, rate = value.get("samples"), value.get("sample_rate")
    elif isinstance(value, tuple) and len(value) == 2:
        samples, rate = value
    else:
        samples, rate = None, None
    arr = None if samples is None else np.asarray(samples)
    if arr is None or arr.ndim not in (1, 2) or arr.dtype.kind not in "iuf" or not rate:
        raise InvalidBatchError(
            f"audio: expected (samples, sample_rate) or encoded bytes, got {type(value).__name__}",
            field="audio",
            value=type(value).__name__,
            expected="(samples, sample_rate) or WAV/FLAC bytes",
        )
    if arr.dtype.kind == "f":
        return arr.astype(np.float64, copy=False), float(rate)
    info = np.iinfo(arr.dtype)
    if arr.dtype.kind == "u":  # unsigned PCM is centred on its midpoint
        mid = (int(info.max) + 1) / 2.0
        return (arr.astype(np.float64) - mid) / mid, float(rate)
    return arr.astype(np.float64) / (int(info.max) + 1), float(rate)


def describe_audio(value: Any) -> dict[str, float]:
    """The audio descriptors of one clip (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rate = 8_000
    >>> t = np.arange(rate) / rate
    >>> tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    >>> tone[: rate // 5] = 0.0                      # a fifth of a second of silence
    >>> d = describe_audio((tone, rate))
    >>> d["duration_seconds"], d["silence_ratio"], d["clipping_share"], d["sample_rate_hz"]
    (1.0, 0.2, 0.0, 8000.0)
    >>> round(d["rms_dbfs"], 2)
    -10.0
    """
    samples, rate = audio_samples(value)
    n = samples.shape[0]
    mono = samples if samples.ndim == 1 else samples.mean(axis=1)
    clipped = np.count_nonzero(np.abs(samples) >= CLIP_LEVEL) / samples.size if n else math.nan
    if n:
        # no np.dot: a BLAS call may spin threads, slow on a loaded machine
        squares = np.square(mono)
        mean_square = float(squares.sum()) / n
        rms_dbfs = 10.0 * math.log10(mean_square) if mean_square > 0 else FLOOR_DBFS
        frame = max(1, round(rate * FRAME_SECONDS))
        frames = max(1, n // frame)
        used = squares[: frames * frame] if n >= frame else squares
        energy = used.reshape(frames, -1).mean(axis=1)
        silent = float(np.count_nonzero(energy < 10.0 ** (SILENCE_DBFS / 10.0))) / frames
    else:
        rms_dbfs, silent = math.nan, math.nan
    return {
        "duration_seconds": n / rate,
        "rms_dbfs": max(rms_dbfs, FLOOR_DBFS),
        "silence_ratio": silent,
        "clipping_share": float(clipped),
        "sample_rate_hz": rate,
    }


class AudioDescriptors(PerValueDescriptors):
    """Audio descriptors of a column (stateless: :meth:`fit` learns nothing).

    Parameters
    ----------
    names
        The descriptors computed (default: all of ``DESCRIPTORS["audio"]``).

    Examples
    --------
    >>> import numpy as np
    >>> d = AudioDescriptors(names=("duration_seconds",))
    >>> d.transform([(np.zeros(16_000), 16_000), None])["duration_seconds"].tolist()
    [1.0, nan]
    """

    kind = "audio"

    @staticmethod
    def describe(value: Any) -> dict[str, float]:
        """Every descriptor of one clip."""
        return describe_audio(value)

    @staticmethod
    def is_one(value: Any) -> bool:
        """Whether ``value`` is one clip rather than a batch of them."""
        if isinstance(value, bytes | bytearray | memoryview | Mapping):
            return True
        return (
            isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], np.ndarray)
            and np.isscalar(value[1])
        )
