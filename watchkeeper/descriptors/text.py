"""Descriptors of free text: length, non-letters, script, emptiness, out-of-vocabulary rate.

Per value (Python string operations, a few microseconds for a sentence):

- ``length_chars``: characters; ``length_tokens``: words (runs of ``\\w``, Unicode);
- ``non_alpha_share``: share of the non-whitespace characters that are not letters
  (digits, punctuation, emoji; missing when there are none);
- ``latin_share``: share of the letters in the Latin script (U+0041–U+024F, U+1E00–U+1EFF),
  a language-like signal: users switching to another alphabet move it (missing when there
  are no letters);
- ``empty``: 1 for an empty or whitespace-only string, else 0 (an ASR model returning
  nothing);
- ``oov_rate``: share of the words (lower-cased) not in the vocabulary learnt from the
  reference by :meth:`TextDescriptors.fit` (missing before a fit or without words).

A missing value (``None``, NaN) gives missing descriptors; other non-strings are read with
``str``.
"""

from __future__ import annotations

import collections
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from watchkeeper.schema.media import DESCRIPTORS
from watchkeeper.types import FloatArray

__all__ = ["VOCABULARY_SIZE", "TextDescriptors", "describe_text"]

VOCABULARY_SIZE = 50_000
"""Most frequent reference words kept as the vocabulary (about 3 MB of strings)."""

_WORD = re.compile(r"\w+")
_NOT_LATIN = re.compile(r"[^A-Za-z\u00c0-\u024f\u1e00-\u1eff]+")
_NAN = math.nan


def describe_text(text: str, vocabulary: frozenset[str] | None = None) -> dict[str, float]:
    """The text descriptors of one string (module docstring).

    Examples
    --------
    >>> d = describe_text("Turn the lights on, 2 times!", frozenset({"turn", "the", "on"}))
    >>> d["length_tokens"], d["oov_rate"], round(d["non_alpha_share"], 3), d["latin_share"]
    (6.0, 0.5, 0.13, 1.0)
    >>> describe_text("   ")["empty"], describe_text("Привет")["latin_share"]
    (1.0, 0.0)
    """
    words = _WORD.findall(text)
    letters = "".join(filter(str.isalpha, text))
    visible = len(text) - sum(1 for c in text if c.isspace()) if text else 0
    n_letters = len(letters)
    oov = _NAN
    if vocabulary is not None and words:
        oov = sum(1 for w in words if w.lower() not in vocabulary) / len(words)
    return {
        "length_chars": float(len(text)),
        "length_tokens": float(len(words)),
        "non_alpha_share": (visible - n_letters) / visible if visible else _NAN,
        "latin_share": len(_NOT_LATIN.sub("", letters)) / n_letters if n_letters else _NAN,
        "empty": 0.0 if visible else 1.0,
        "oov_rate": oov,
    }


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else str(value)


class TextDescriptors:
    """Text descriptors of a column, with the reference vocabulary for ``oov_rate``.

    Parameters
    ----------
    names
        The descriptors computed (default: all of
        ``watchkeeper.schema.media.DESCRIPTORS["text"]``).
    vocabulary_size
        Most frequent reference words kept by :meth:`fit`.

    Attributes
    ----------
    vocabulary_ : frozenset of str or None
        Lower-cased words of the reference; ``None`` before :meth:`fit`.

    Examples
    --------
    >>> d = TextDescriptors(names=("length_tokens", "oov_rate")).fit(["play music", "stop"])
    >>> {k: v.tolist() for k, v in d.transform(["play jazz", None]).items()}
    {'length_tokens': [2.0, nan], 'oov_rate': [0.5, nan]}
    """

    kind = "text"

    def __init__(
        self, *, names: Sequence[str] | None = None, vocabulary_size: int = VOCABULARY_SIZE
    ) -> None:
        self.names = tuple(DESCRIPTORS["text"] if names is None else names)
        self.vocabulary_size = int(vocabulary_size)
        self.vocabulary_: frozenset[str] | None = None

    def fit(self, reference: Iterable[Any]) -> TextDescriptors:
        """Learn the vocabulary: the ``vocabulary_size`` most frequent reference words."""
        counts: collections.Counter[str] = collections.Counter()
        for value in reference:
            text = _text(value)
            if text is not None:
                counts.update(w.lower() for w in _WORD.findall(text))
        self.vocabulary_ = frozenset(w for w, _ in counts.most_common(self.vocabulary_size))
        return self

    def transform(self, values: Sequence[Any]) -> dict[str, FloatArray]:
        """One float array per descriptor (NaN where the value is missing)."""
        out = {name: np.full(len(values), np.nan) for name in self.names}
        for i, value in enumerate(values):
            text = _text(value)
            if text is None:
                continue
            row = describe_text(text, self.vocabulary_)
            for name in self.names:
                out[name][i] = row[name]
        return out

    def one(self, value: Any) -> dict[str, float]:
        """The descriptors of one value (NaN when it is missing)."""
        text = _text(value)
        if text is None:
            return dict.fromkeys(self.names, _NAN)
        row = describe_text(text, self.vocabulary_)
        return {name: row[name] for name in self.names}

    @staticmethod
    def is_one(value: Any) -> bool:
        """Whether ``value`` is one text (a string), not a batch of them."""
        return isinstance(value, str)
