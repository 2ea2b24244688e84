"""Text descriptors against a plain character-by-character implementation."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.descriptors import TextDescriptors, describe_text


def _plain(text: str, vocabulary: set[str] | None) -> dict[str, float]:
    visible = [c for c in text if not c.isspace()]
    letters = [c for c in visible if c.isalpha()]
    latin = [
        c for c in letters if c.isascii() or 0xC0 <= ord(c) <= 0x24F or 0x1E00 <= ord(c) <= 0x1EFF
    ]
    words = re.findall(r"\w+", text)
    nan = math.nan
    return {
        "length_chars": float(len(text)),
        "length_tokens": float(len(words)),
        "non_alpha_share": 1 - len(letters) / len(visible) if visible else nan,
        "latin_share": len(latin) / len(letters) if letters else nan,
        "empty": 0.0 if visible else 1.0,
        "oov_rate": (
            sum(w.lower() not in vocabulary for w in words) / len(words)
            if vocabulary is not None and words
            else nan
        ),
    }


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.sets(st.text(alphabet="abcdeé", min_size=1, max_size=3)))
def test_text_descriptors_match_a_plain_implementation(text: str, vocab: set[str]) -> None:
    got = describe_text(text, frozenset(vocab))
    want = _plain(text, vocab)
    for name, value in want.items():
        if math.isnan(value):
            assert math.isnan(got[name]), name
        else:
            assert got[name] == pytest.approx(value), name


def test_vocabulary_is_learnt_from_the_reference_and_lower_cased() -> None:
    d = TextDescriptors().fit(["Play some Music", "stop", None])
    out = d.transform(["play MUSIC now", "   ", None, 42])
    assert out["oov_rate"].tolist()[0] == pytest.approx(1 / 3)
    assert out["empty"].tolist()[1] == 1.0 and math.isnan(out["empty"][2])
    assert out["length_chars"][3] == 2.0  # a non-string is read as its text


def test_scripts_show_in_the_latin_share() -> None:
    assert describe_text("bonjour à tous")["latin_share"] == 1.0
    assert describe_text("こんにちは world")["latin_share"] == pytest.approx(5 / 10)
