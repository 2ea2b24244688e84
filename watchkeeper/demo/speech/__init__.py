"""``watchkeeper demo --scenario speech``: a keyword-spotting model on synthesised audio.

A small speech model (:mod:`~watchkeeper.demo.speech.model`: band energies of the
spectrum, then a scikit-learn logistic regression) recognises six keywords in clips that
:mod:`~watchkeeper.demo.speech.audio` synthesises with NumPy (two formant-like tones per
word under a speech-like envelope, with silence and background noise around it; nothing
is downloaded). The requests go through the SDK client, which turns each clip into its
audio descriptors (``voice.rms_dbfs``, ``voice.silence_ratio``, ...) before sending, so
the collector never sees raw audio; the collector's application service judges them with
``watchkeeper init``'s default rules while :mod:`~watchkeeper.demo.speech.scenario`
injects six incidents: louder background noise, a clipping microphone, a sample-rate
change, empty transcripts, users switching from voice to typing, and new users with
another accent (their formants moved: accuracy drops, seen through the labels). The
orchestration is :func:`~watchkeeper.demo.speech.run.run_speech_demo`.
"""

from __future__ import annotations

__all__: list[str] = []
