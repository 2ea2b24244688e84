"""The demo's model: a scikit-learn pipeline scoring the risk that a loan goes bad.

``OrdinalEncoder`` for the three categorical features (a value never seen in training
becomes missing, which the booster routes like a missing value) in a
``ColumnTransformer``, then a ``HistGradientBoostingClassifier`` told which columns are
categorical. Numeric features pass through unchanged: the booster bins them itself and
handles missing values natively. The decision is ``"bad"`` when the predicted
probability of default is at least 0.5.
"""

from __future__ import annotations

import importlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from watchkeeper.demo.data import CATEGORICAL, FEATURES, NUMERIC
from watchkeeper.errors import MissingExtraError

__all__ = ["TrainedModel", "load_model", "train_model"]


def _sklearn() -> tuple[Any, Any, Any, Any]:
    """scikit-learn's modules (imported by name: it ships no type information)."""
    try:
        return tuple(  # type: ignore[return-value]
            importlib.import_module(f"sklearn.{name}")
            for name in ("compose", "ensemble", "pipeline", "preprocessing")
        )
    except ImportError as exc:  # the demo extra is optional
        raise MissingExtraError.needs("the demo needs scikit-learn", "demo") from exc


@dataclass
class TrainedModel:
    """A fitted pipeline and its version."""

    version: str
    pipeline: Any

    def predict(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(decisions, probability of "bad")`` for a frame of applications."""
        proba = self.pipeline.predict_proba(frame[list(FEATURES)])
        classes = list(self.pipeline.classes_)
        p_bad = np.asarray(proba[:, classes.index("bad")], dtype=np.float64)
        decisions: np.ndarray = np.where(p_bad >= 0.5, "bad", "good").astype(object)
        return decisions, p_bad

    def save(self, path: Path) -> Path:
        """Write the model (pickle, atomically: a reader never sees half a file)."""
        tmp = path.with_name(path.name + ".partial")
        tmp.write_bytes(pickle.dumps(self))
        tmp.replace(path)
        return path


def train_model(
    frame: pd.DataFrame, labels: np.ndarray, *, version: str = "1", seed: int = 0
) -> TrainedModel:
    """Fit the pipeline on applications and their outcomes."""
    compose, ensemble, pipeline, preprocessing = _sklearn()
    encode = compose.ColumnTransformer(
        [
            (
                "categories",
                preprocessing.OrdinalEncoder(
                    handle_unknown="use_encoded_value", unknown_value=np.nan
                ),
                list(CATEGORICAL),
            ),
            ("numbers", "passthrough", list(NUMERIC)),
        ]
    )
    booster = ensemble.HistGradientBoostingClassifier(
        max_iter=100,
        learning_rate=0.15,
        max_leaf_nodes=15,
        categorical_features=list(range(len(CATEGORICAL))),
        early_stopping=False,
        random_state=seed,
    )
    fitted = pipeline.Pipeline([("encode", encode), ("model", booster)])
    fitted.fit(frame[list(FEATURES)], np.asarray(labels, dtype=object))
    return TrainedModel(version, fitted)


def load_model(path: Path) -> TrainedModel:
    """Read a model written by :meth:`TrainedModel.save` (only files the demo wrote)."""
    model = pickle.loads(path.read_bytes())
    if not isinstance(model, TrainedModel):
        raise TypeError(f"{path}: expected a TrainedModel, got {type(model).__name__}")
    return model
