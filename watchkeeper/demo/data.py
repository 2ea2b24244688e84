"""A generated credit-risk data set: loan applications, and whether each went bad.

Nine features, as a lender's scoring service receives them:

=================  ===========  ==================================================
feature            kind         meaning
=================  ===========  ==================================================
income             numeric      yearly income, EUR (log-normal)
age                numeric      years, 18-85
debt_ratio         numeric      monthly debt payments / monthly income (beta)
loan_amount        numeric      EUR asked for (log-normal)
employment_years   numeric      years with the current employer
distance_m         numeric      metres from the applicant's home to the branch
region             categorical  north, south, east, west, centre
product            categorical  card, personal_loan, auto_loan, mortgage
channel            categorical  branch, web, mobile, partner
=================  ===========  ==================================================

The label is ``"bad"`` (the loan defaulted) or ``"good"``. It is drawn from a logistic
model of the features: a *concept*. :data:`BEFORE` is the world the model is trained
in; :data:`AFTER` is the world after an interest-rate shock — the same applicants, but
the loan size and the product now decide who defaults, and income protects much less.
Switching concepts is the demo's concept drift: the inputs are unchanged, only the
relation between inputs and label moves, so it shows only once labels arrive.

Everything is seeded; nothing is downloaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "AFTER",
    "BEFORE",
    "CATEGORICAL",
    "CLASSES",
    "FEATURES",
    "NUMERIC",
    "Concept",
    "label",
    "sample_applications",
]

NUMERIC = ("income", "age", "debt_ratio", "loan_amount", "employment_years", "distance_m")
CATEGORICAL = ("region", "product", "channel")
FEATURES = NUMERIC + CATEGORICAL
CLASSES = ("bad", "good")
"""The label's values; ``"bad"`` (a default) is the positive class."""

REGIONS = {"north": 0.2, "south": 0.25, "east": 0.15, "west": 0.2, "centre": 0.2}
PRODUCTS = {"card": 0.35, "personal_loan": 0.3, "auto_loan": 0.2, "mortgage": 0.15}
CHANNELS = {"branch": 0.2, "web": 0.3, "mobile": 0.2, "partner": 0.3}


def sample_applications(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` loan applications with the features above, as they normally arrive.

    Examples
    --------
    >>> frame = sample_applications(np.random.default_rng(0), 1_000)
    >>> list(frame.columns) == list(FEATURES)
    True
    >>> bool(frame["debt_ratio"].between(0, 1).all()), round(float(frame["age"].min()))
    (True, 18)
    """
    age = np.clip(rng.normal(42.0, 12.0, n), 18.0, 85.0).round(1)
    employment = np.minimum(rng.gamma(2.0, 3.5, n), age - 17.0).round(1)
    product = rng.choice(list(PRODUCTS), n, p=list(PRODUCTS.values()))
    base_loan = {"card": 8.0, "personal_loan": 9.2, "auto_loan": 9.8, "mortgage": 11.8}
    loan = np.exp(np.array([base_loan[p] for p in product]) + rng.normal(0.0, 0.45, n))
    return pd.DataFrame(
        {
            "income": np.exp(rng.normal(10.6, 0.45, n)).round(0),
            "age": age,
            "debt_ratio": rng.beta(2.0, 5.0, n).round(4),
            "loan_amount": loan.round(0),
            "employment_years": employment,
            "distance_m": np.exp(rng.normal(np.log(8_000.0), 0.9, n)).round(0),
            "region": rng.choice(list(REGIONS), n, p=list(REGIONS.values())),
            "product": product,
            "channel": rng.choice(list(CHANNELS), n, p=list(CHANNELS.values())),
        }
    )


def _std(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    out: np.ndarray = (x - mean) / sd
    return out


@dataclass(frozen=True)
class Concept:
    """A logistic model of default: weights on standardised features, category effects.

    ``weights`` are per standardised term: ``income`` and ``loan_amount`` on the log
    scale, ``distance_m`` on the log scale too. ``sharpness`` scales the whole logit (a
    larger value makes the label closer to a deterministic function of the features).
    """

    name: str
    intercept: float
    weights: Mapping[str, float]
    categories: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    sharpness: float = 1.0

    def logit(self, frame: pd.DataFrame) -> np.ndarray:
        """The log-odds of ``"bad"`` for each application (true feature values)."""
        terms = {
            "income": _std(np.log(frame["income"].to_numpy(float)), 10.6, 0.45),
            "age": _std(frame["age"].to_numpy(float), 42.0, 12.0),
            "debt_ratio": _std(frame["debt_ratio"].to_numpy(float), 0.286, 0.16),
            "loan_amount": _std(np.log(frame["loan_amount"].to_numpy(float)), 9.5, 1.4),
            "employment_years": _std(frame["employment_years"].to_numpy(float), 7.0, 5.0),
            "distance_m": _std(np.log(frame["distance_m"].to_numpy(float)), 8.99, 0.9),
        }
        z = np.full(len(frame), self.intercept)
        for name, weight in self.weights.items():
            z = z + weight * terms[name]
        for column, effects in self.categories.items():
            values = frame[column].to_numpy(object)
            z = z + np.array([effects.get(v, 0.0) for v in values], dtype=np.float64)
        out: np.ndarray = self.sharpness * z
        return out


BEFORE = Concept(
    "before",
    intercept=-1.4,
    weights={
        "debt_ratio": 1.5,
        "income": -1.1,
        "loan_amount": 0.3,
        "age": -0.5,
        "employment_years": -0.35,
        "distance_m": 0.1,
    },
    categories={
        "product": {
            "card": 0.5,
            "bnpl": 0.5,
            "personal_loan": 0.4,
            "auto_loan": -0.3,
            "mortgage": -0.9,
        },
        "channel": {"partner": 0.3, "web": 0.1},
        "region": {"south": 0.15, "east": -0.1},
    },
    sharpness=1.6,
)
"""The world the model is trained in: debt ratio and income decide."""

AFTER = Concept(
    "after",
    intercept=-1.2,
    weights={
        "loan_amount": 1.3,
        "debt_ratio": 0.3,
        "income": 0.2,
        "age": 0.9,
        "employment_years": -0.2,
        "distance_m": 0.1,
    },
    categories={
        "product": {
            "card": -0.6,
            "bnpl": -0.6,
            "personal_loan": 0.2,
            "auto_loan": 0.5,
            "mortgage": 1.0,
        },
        "channel": {"partner": 0.3, "web": 0.1},
        "region": {"south": 0.15, "east": -0.1},
    },
    sharpness=1.6,
)
"""After an interest-rate shock: big loans, mortgages and older borrowers default."""


def label(frame: pd.DataFrame, concept: Concept, rng: np.random.Generator) -> np.ndarray:
    """Draw each application's outcome, ``"bad"`` or ``"good"``, under ``concept``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> y = label(sample_applications(rng, 20_000), BEFORE, rng)
    >>> 0.15 < float(np.mean(y == "bad")) < 0.4
    True
    """
    p_bad = 1.0 / (1.0 + np.exp(-concept.logit(frame)))
    out: np.ndarray = np.where(rng.random(len(frame)) < p_bad, "bad", "good").astype(object)
    return out
