"""The speech demo's six incidents and the timeline that injects them.

Each incident reuses :class:`watchkeeper.demo.incidents.Incident`: the default rule and
labels expected to catch it within ``max_delay`` windows, and the other alerts it may
raise as real symptoms (``also``); any other alert is a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from watchkeeper.demo.incidents import Incident
from watchkeeper.demo.speech.audio import Capture

__all__ = ["SpeechConditions", "SpeechScenario"]

NOISY_ROOM = 0.05
"""Incident 1: background noise around −26 dBFS (normal: about −50)."""
CLIPPING_GAIN = 6.0
"""Incident 2: microphone gain that saturates the loud part of each word."""
LOW_RATE = 8_000
"""Incident 3: a client app records at 8 kHz."""
EMPTY_SHARE = 0.3
"""Incident 4: share of transcripts a faulty decoder update returns empty."""
TYPING_SHARE = 0.4
"""Incident 5: share of users who type instead of speaking (no audio sent)."""
ACCENT_SHARE, ACCENT_FORMANTS = 0.5, 1.2
"""Incident 6: half the speakers are new users whose formants sit 20% higher."""

_DRIFT_SYMPTOMS = ("FeatureDrifting", "DatasetDrift")

_SPECS = (
    Incident(1, "background_noise", "louder background noise around the microphone", 0, 3,
             "FeatureDrifting", {"feature": "voice.silence_ratio"}, max_delay=3,
             also=_DRIFT_SYMPTOMS, short="background noise (voice.silence_ratio)"),
    Incident(2, "clipping", "a clipping microphone: gain x6 saturates every word", 0, 3,
             "FeatureDrifting", {"feature": "voice.clipping_share"}, max_delay=3,
             also=_DRIFT_SYMPTOMS, short="clipping microphone (voice.clipping_share)"),
    Incident(3, "sample_rate", "a client app records at 8 kHz instead of 16 kHz", 0, 3,
             "FeatureDrifting", {"feature": "voice.sample_rate_hz"}, max_delay=3,
             also=_DRIFT_SYMPTOMS, short="sample-rate change (voice.sample_rate_hz)"),
    Incident(4, "empty_transcripts", "a decoder update returns empty transcripts for 30%", 0,
             2, "EmptyOutputs", {"output": "transcript"}, max_delay=2,
             also=("LowAccuracy",), short="empty transcripts (transcript)"),
    Incident(5, "typing", "users switch from voice to typing: 40% of requests carry no audio",
             0, 2, "FeatureMissing", {"feature": "voice.duration_seconds"}, max_delay=2,
             also=("FeatureMissing",), short="voice -> typing (voice.* missing)"),
    Incident(6, "accent", "new users with another accent: formants 20% higher for half", 0, 2,
             "LowAccuracy", {}, max_delay=2, short="accent-like spectral shift (labels)"),
)  # fmt: skip


@dataclass(frozen=True)
class SpeechConditions:
    """Everything that is wrong at one moment (all defaults: a normal day)."""

    capture: Capture = field(default_factory=Capture)
    empty_share: float = 0.0
    typing_share: float = 0.0
    accent_share: float = 0.0


class SpeechScenario:
    """Quiet windows, then each incident, with quiet gaps for its alert to resolve.

    Examples
    --------
    >>> s = SpeechScenario()
    >>> [(i.number, i.start) for i in s.incidents], s.windows
    ([(1, 4), (2, 10), (3, 16), (4, 22), (5, 27), (6, 32)], 37)
    >>> s.conditions(17).capture.rate, s.conditions(19).capture.rate
    (8000, 16000)
    """

    def __init__(self, *, warmup: int = 4, gap: int = 3, tail: int = 3) -> None:
        incidents = []
        start = warmup
        for spec in _SPECS:
            incidents.append(replace(spec, start=start))
            start += (spec.windows or 0) + gap
        self.incidents: tuple[Incident, ...] = tuple(incidents)
        self.windows = start - gap + tail

    def conditions(self, w: int) -> SpeechConditions:
        """What is wrong in window ``w`` (counted from the start)."""
        c = SpeechConditions()
        for incident in self.incidents:
            if not incident.start <= w < incident.end:
                continue
            if incident.key == "background_noise":
                c = replace(c, capture=replace(c.capture, noise=NOISY_ROOM))
            elif incident.key == "clipping":
                c = replace(c, capture=replace(c.capture, gain=CLIPPING_GAIN))
            elif incident.key == "sample_rate":
                c = replace(c, capture=replace(c.capture, rate=LOW_RATE))
            elif incident.key == "empty_transcripts":
                c = replace(c, empty_share=EMPTY_SHARE)
            elif incident.key == "typing":
                c = replace(c, typing_share=TYPING_SHARE)
            elif incident.key == "accent":
                c = replace(c, accent_share=ACCENT_SHARE)
        return c
