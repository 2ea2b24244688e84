"""The seven incidents the demo injects, one after another, and what each one breaks.

The timeline is counted in monitoring windows (the collector's tumbling windows): a few
quiet windows, then each incident for a few windows, then a quiet gap so its alert can
resolve before the next one starts. Data incidents change what the load generator sends
(:func:`corrupt`); server incidents change how the model service behaves
(:attr:`Conditions.slowdown_seconds`, :attr:`Conditions.empty_band`); concept drift
changes the ground truth (:attr:`Conditions.concept`) and stays: only a retrained model
brings the accuracy back.

Each incident names the default rule expected to catch it, the labels of that alert,
and the most windows that may pass between the injection and the alert (``max_delay``,
counted at window ends, as the alert engine stamps its alerts).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from watchkeeper.demo.data import AFTER, BEFORE, Concept

__all__ = ["Conditions", "Incident", "Scenario", "corrupt"]

LOAN_SHIFT = math.log(2.0)
"""Incident 1: loan amounts drift up to twice their usual size (log scale)."""
UNIT_FACTOR = 1000.0
"""Incident 2: ``distance_m`` arrives in millimetres."""
LOST_CHANNEL, LOST_FEATURE = "partner", "employment_years"
"""Incident 3: the partner channel's client stops sending ``employment_years``."""
NEW_PRODUCT, NEW_PRODUCT_SHARE = "bnpl", 0.3
"""Incident 4: a buy-now-pay-later product appears in 30% of applications."""
SLOWDOWN_SECONDS = 0.7
"""Incident 6: every request is held this long (a saturated host)."""
EMPTY_BAND = (0.1, 0.9)
"""Incident 7: a post-processing filter withholds every decision whose probability of
default lies in this band (meant for the uncertain few, it empties a quarter or more)."""


@dataclass(frozen=True)
class Incident:
    """One scripted incident.

    ``start`` is its first window; ``windows`` how long it lasts (``None``: it stays,
    as concept drift does until the model is retrained). ``rule`` and ``labels`` name
    the alert expected to catch it, within ``max_delay`` windows; ``also`` lists the
    other alerts it may raise as well, each a real symptom of the same incident
    (``Rule``, any labels, or ``Rule{label=value}``); any other alert is a false alarm.
    """

    number: int
    key: str
    title: str
    start: int
    windows: int | None
    rule: str
    labels: Mapping[str, str] = field(default_factory=dict)
    max_delay: int = 2
    also: tuple[str, ...] = ()
    short: str = ""

    @property
    def end(self) -> float:
        """The window where it stops (``inf`` when it stays)."""
        return math.inf if self.windows is None else self.start + self.windows


@dataclass(frozen=True)
class Conditions:
    """Everything that is wrong at one moment (all defaults: a normal day)."""

    loan_shift: float = 0.0
    distance_factor: float = 1.0
    missing_channel: str | None = None
    new_product_share: float = 0.0
    concept: Concept = BEFORE
    slowdown_seconds: float = 0.0
    empty_band: tuple[float, float] | None = None


_SPECS = (
    Incident(
        1,
        "covariate_drift",
        "covariate drift: loan amounts creep up to 2x",
        0,
        4,
        "FeatureDrifting",
        {"feature": "loan_amount"},
        max_delay=4,
        short="covariate drift (loan_amount)",
    ),
    Incident(
        2,
        "unit_change",
        "unit change: distance_m arrives in millimetres (x1000)",
        0,
        3,
        "FeatureDrifting",
        {"feature": "distance_m"},
        max_delay=3,
        short="unit change (distance_m x1000)",
    ),
    Incident(
        3,
        "missing_data",
        "upstream client loses data: partner sends no employment_years",
        0,
        2,
        "FeatureMissing",
        {"feature": "employment_years"},
        max_delay=2,
        short="client loses data (employment_years)",
    ),
    Incident(
        4,
        "new_category",
        "new category: product 'bnpl' in 30% of applications",
        0,
        3,
        "FeatureDrifting",
        {"feature": "product"},
        max_delay=3,
        short="new category (product=bnpl)",
    ),
    Incident(
        5,
        "concept_drift",
        "concept drift: same applicants, defaults now follow loan size",
        0,
        None,
        "LowAccuracy",
        {},
        max_delay=2,
        short="concept drift (labels)",
    ),
    Incident(
        6,
        "overload",
        "overload: requests held 0.7 s, in-flight requests pile up",
        0,
        3,
        "ServerLoad",
        {"metric": "server_load"},
        max_delay=3,
        also=("SlowPredictions",),
        short="overload (latency, in-flight)",
    ),
    Incident(
        7,
        "empty_outputs",
        "aggressive post-processing filter: decisions under 90% sure withheld",
        0,
        2,
        "EmptyOutputs",
        {"output": "prediction"},
        max_delay=2,
        short="post-processing filter (empty outputs)",
    ),
)
"""The incidents in order, their start set by :class:`Scenario`."""


class Scenario:
    """The timeline: quiet windows, then the incidents with quiet gaps between them.

    Parameters
    ----------
    warmup
        Quiet windows before the first incident.
    gap
        Quiet windows after each incident (its alert resolves meanwhile).
    recovery
        Windows given to concept drift for the retraining to finish, the collector to
        take up the new version and the accuracy to recover, before the next incident
        (the retraining job alone takes a few real seconds: several windows).
    tail
        Quiet windows after the last incident.

    Examples
    --------
    >>> s = Scenario()
    >>> [(i.number, i.start) for i in s.incidents][:3], s.windows
    ([(1, 6), (2, 12), (3, 17)], 48)
    >>> s.conditions(13.5).distance_factor, s.conditions(16.0).distance_factor
    (1000.0, 1.0)
    """

    def __init__(self, *, warmup: int = 6, gap: int = 2, recovery: int = 9, tail: int = 4):
        incidents = []
        start = warmup
        for spec in _SPECS:
            incidents.append(replace(spec, start=start))
            start += (recovery if spec.windows is None else spec.windows) + gap
        self.incidents: tuple[Incident, ...] = tuple(incidents)
        self.windows = start - gap + tail

    def incident(self, key: str) -> Incident:
        """The incident called ``key``."""
        return next(i for i in self.incidents if i.key == key)

    def active(self, w: float) -> list[Incident]:
        """The incidents under way at ``w`` (windows since the start)."""
        return [i for i in self.incidents if i.start <= w < i.end]

    def conditions(self, w: float) -> Conditions:
        """What is wrong at ``w`` windows since the start."""
        c = Conditions()
        for incident in self.active(w):
            elapsed = w - incident.start
            if incident.key == "covariate_drift":  # a gradual shift over three windows
                c = replace(c, loan_shift=LOAN_SHIFT * min(1.0, (elapsed + 0.5) / 3.0))
            elif incident.key == "unit_change":
                c = replace(c, distance_factor=UNIT_FACTOR)
            elif incident.key == "missing_data":
                c = replace(c, missing_channel=LOST_CHANNEL)
            elif incident.key == "new_category":
                c = replace(c, new_product_share=NEW_PRODUCT_SHARE)
            elif incident.key == "concept_drift":
                c = replace(c, concept=AFTER)
            elif incident.key == "overload":
                c = replace(c, slowdown_seconds=SLOWDOWN_SECONDS)
            elif incident.key == "empty_outputs":
                c = replace(c, empty_band=EMPTY_BAND)
        return c


def corrupt(
    frame: pd.DataFrame, conditions: Conditions, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the data incidents to a batch of applications.

    Returns ``(served, truth)``: what the model service receives, and the applications
    as they really are (the ground truth is drawn from these). A unit change or a lost
    field corrupts only what is served; a drifted loan amount or a new product is real.

    Examples
    --------
    >>> from watchkeeper.demo.data import sample_applications
    >>> rng = np.random.default_rng(0)
    >>> frame = sample_applications(rng, 1_000)
    >>> served, truth = corrupt(frame, Conditions(distance_factor=1000.0), rng)
    >>> bool((served["distance_m"] == truth["distance_m"] * 1000).all())
    True
    """
    truth = frame.copy()
    if conditions.loan_shift:
        truth["loan_amount"] = (truth["loan_amount"] * math.exp(conditions.loan_shift)).round(0)
    if conditions.new_product_share:
        new = rng.random(len(truth)) < conditions.new_product_share
        truth["product"] = np.where(new, NEW_PRODUCT, truth["product"].to_numpy(object))
    served = truth.copy()
    if conditions.distance_factor != 1.0:
        served["distance_m"] = served["distance_m"] * conditions.distance_factor
    if conditions.missing_channel is not None:
        lost = served["channel"].to_numpy(object) == conditions.missing_channel
        served[LOST_FEATURE] = served[LOST_FEATURE].mask(lost)
    return served, truth
