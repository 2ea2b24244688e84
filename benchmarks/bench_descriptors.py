"""Descriptor benchmark: cost per call of the text, image, audio and embedding descriptors.

Targets (issue 20): an image of 224 x 224 <= 2 ms, 1 s of 16 kHz audio <= 1 ms, a text
<= 20 us per call. Each figure is printed next to a plain NumPy baseline on the same data
in the same run: the least work that computes the same quantities (the image's luma mean
and standard deviation and its Laplacian variance; the clip's RMS and frame energies;
the text's length and word count), so a loaded machine shows in both columns.

Timing is the median of ``repeat`` rounds of ``number`` calls (``time.perf_counter``).

Run: ``python benchmarks/bench_descriptors.py`` (``--quick`` for fewer rounds).
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from watchkeeper.descriptors import (
    EmbeddingDescriptors,
    TextDescriptors,
    describe_audio,
    describe_image,
    describe_text,
)

WORD = re.compile(r"\w+")


def per_call(fn: Callable[[], Any], number: int, repeat: int) -> float:
    """Median seconds per call."""
    fn()
    rounds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - t0) / number)
    return statistics.median(rounds)


def baseline_image(img: np.ndarray) -> tuple[float, float, float]:
    luma = img[:, :, 0] * 0.299 + img[:, :, 1] * 0.587 + img[:, :, 2] * 0.114
    lap = luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:] - 4 * luma[1:-1, 1:-1]
    return float(luma.mean()), float(luma.std()), float(lap.var())


def baseline_audio(x: np.ndarray) -> tuple[float, np.ndarray]:
    sq = x * x
    return float(np.sqrt(sq.mean())), sq[: len(x) // 320 * 320].reshape(-1, 320).mean(axis=1)


def baseline_text(text: str) -> tuple[int, int]:
    return len(text), len(WORD.findall(text))


def main() -> None:
    quick = "--quick" in sys.argv
    number, repeat = (20, 3) if quick else (200, 7)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    t = np.arange(16_000) / 16_000
    clip = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)
    text = "Turn the kitchen lights on and play some jazz in the living room, please!"
    vocab = TextDescriptors().fit([text, "stop the music"])
    vectors = list(rng.normal(size=(1_000, 384)))
    emb = EmbeddingDescriptors().fit(vectors[:10])

    rows = [
        ("image 224x224 (target <= 2 ms)", lambda: describe_image(img),
         lambda: baseline_image(img), 2e-3),
        ("audio 1 s at 16 kHz (target <= 1 ms)", lambda: describe_audio((clip, 16_000)),
         lambda: baseline_audio(clip), 1e-3),
        ("text, 74 chars (target <= 20 us)", lambda: describe_text(text, vocab.vocabulary_),
         lambda: baseline_text(text), 20e-6),
    ]  # fmt: skip
    print(f"{'descriptor':40} {'ours':>12} {'NumPy baseline':>16} {'ratio':>7}  target")
    for name, ours, base, target in rows:
        a = per_call(ours, number, repeat)
        b = per_call(base, number, repeat)
        verdict = "met" if a <= target else "MISSED"
        print(f"{name:40} {a * 1e6:10.1f}us {b * 1e6:14.1f}us {a / b:7.2f}  {verdict}")
    batch = per_call(lambda: emb.transform(vectors), max(1, number // 20), repeat)
    base = per_call(
        lambda: np.linalg.norm(np.asarray(vectors), axis=1), max(1, number // 20), repeat
    )
    print(f"{'embedding 1,000 x 384 (per vector)':40} {batch * 1e3:10.1f}us "
          f"{base * 1e3:14.1f}us {batch / base:7.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
