"""Audio descriptors against direct NumPy computation, and files read by soundfile."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.descriptors import describe_audio
from watchkeeper.errors import InvalidBatchError, MissingExtraError


def _direct(x: np.ndarray, rate: int) -> dict[str, float]:
    """The definitions, written out plainly."""
    mono = x if x.ndim == 1 else x.mean(axis=1)
    rms = np.sqrt(np.mean(mono**2))
    frame = round(rate * 0.02)
    frames = [mono[i : i + frame] for i in range(0, len(mono) - frame + 1, frame)]
    silent = np.mean([20 * np.log10(max(np.sqrt(np.mean(f**2)), 1e-300)) < -40 for f in frames])
    return {
        "duration_seconds": len(x) / rate,
        "rms_dbfs": max(20 * np.log10(rms), -120.0) if rms > 0 else -120.0,
        "silence_ratio": float(silent),
        "clipping_share": float(np.mean(np.abs(x) >= 0.999)),
        "sample_rate_hz": float(rate),
    }


def _clip(seed: int, rate: int, seconds: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    x = 0.3 * np.sin(2 * np.pi * 300 * t) + 0.05 * rng.standard_normal(t.size)
    x[: t.size // 3] *= 0.001  # a quiet start
    x[-100:] = 1.2  # a clipped end
    return np.clip(x, -1, 1)


@pytest.mark.parametrize("rate", [8_000, 16_000, 44_100])
def test_audio_descriptors_match_the_definitions(rate: int) -> None:
    x = _clip(rate, rate)
    got, want = describe_audio((x, rate)), _direct(x, rate)
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name


def test_stereo_int16_and_mappings_are_read_as_full_scale_floats() -> None:
    x = _clip(1, 16_000)
    pcm = np.round(x * 32767).astype(np.int16)
    d = describe_audio({"samples": pcm, "sample_rate": 16_000})
    assert d["rms_dbfs"] == pytest.approx(_direct(pcm / 32768, 16_000)["rms_dbfs"])
    stereo = np.column_stack([x, x])
    assert describe_audio((stereo, 16_000)) == pytest.approx(describe_audio((x, 16_000)))


def test_wav_and_flac_bytes_read_by_soundfile_give_the_same_descriptors() -> None:
    soundfile = pytest.importorskip("soundfile")
    x = _clip(2, 16_000)
    for fmt in ("WAV", "FLAC"):
        buf = io.BytesIO()
        soundfile.write(buf, x, 16_000, format=fmt, subtype="PCM_16")
        d = describe_audio(buf.getvalue())
        want = _direct(np.round(x * 32767) / 32768, 16_000)
        assert d["sample_rate_hz"] == 16_000.0 and d["duration_seconds"] == 1.0
        assert d["rms_dbfs"] == pytest.approx(want["rms_dbfs"], abs=1e-3)
        assert d["silence_ratio"] == want["silence_ratio"]


def test_digital_silence_is_the_floor_and_all_silent() -> None:
    d = describe_audio((np.zeros(8_000), 8_000))
    assert d["rms_dbfs"] == -120.0 and d["silence_ratio"] == 1.0 and d["clipping_share"] == 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4_000), st.floats(0.0, 2.0), st.sampled_from([8_000, 16_000]))
def test_descriptors_of_any_clip_follow_the_definitions(n: int, gain: float, rate: int) -> None:
    x = np.clip(gain * np.sin(np.arange(n) * 0.37), -1.0, 1.0)
    d = describe_audio((x, rate))
    assert d["duration_seconds"] == n / rate
    assert 0.0 <= d["silence_ratio"] <= 1.0 and 0.0 <= d["clipping_share"] <= 1.0
    assert d["clipping_share"] == pytest.approx(np.mean(np.abs(x) >= 0.999))
    assert -120.0 <= d["rms_dbfs"] <= 0.0


def test_not_a_clip_is_one_clear_error() -> None:
    with pytest.raises(InvalidBatchError, match=r"audio: expected \(samples, sample_rate\)"):
        describe_audio([0.1, 0.2])


def test_encoded_audio_without_soundfile_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "soundfile", None)
    with pytest.raises(MissingExtraError, match=r'pip install "watchkeeper\[media\]"'):
        describe_audio(b"RIFF....")
