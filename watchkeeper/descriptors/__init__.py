"""Descriptors: raw text, images, audio and embeddings turned into monitored features.

A column declared ``{"kind": "image"}`` (``"audio"``, ``"embedding"``, or ``"text"``
with ``"descriptors": true``) is not profiled as raw values: each value is turned into a
few numbers where it is (the SDK before sending, or the Monitor in-process), so raw
media never travels to the collector, and those numbers are monitored as the numeric
features ``column.descriptor`` (profiled and drift-tested like any other, shown on the
dashboard like any feature). The names per kind are in
:data:`watchkeeper.schema.media.DESCRIPTORS`.

- :mod:`~watchkeeper.descriptors.text`: lengths, non-letters, script, empty, out-of-vocabulary;
- :mod:`~watchkeeper.descriptors.image`: size, brightness, contrast, saturation, blur,
  exposure (NumPy; Pillow to decode encoded images);
- :mod:`~watchkeeper.descriptors.audio`: duration, loudness, silence, clipping, sample
  rate (NumPy; soundfile to decode encoded files);
- :mod:`~watchkeeper.descriptors.embedding`: norm and seeded random projections.

Pillow and soundfile are the ``media`` extra (``pip install "watchkeeper[media]"``);
without them arrays are still described and encoded bytes raise ``MissingExtraError``.
"""

from __future__ import annotations

from watchkeeper.descriptors._describer import ColumnDescriptors, Describer
from watchkeeper.descriptors.audio import AudioDescriptors, describe_audio
from watchkeeper.descriptors.embedding import EmbeddingDescriptors
from watchkeeper.descriptors.image import ImageDescriptors, describe_image
from watchkeeper.descriptors.text import TextDescriptors, describe_text

__all__ = [
    "AudioDescriptors",
    "ColumnDescriptors",
    "Describer",
    "EmbeddingDescriptors",
    "ImageDescriptors",
    "TextDescriptors",
    "describe_audio",
    "describe_image",
    "describe_text",
]
