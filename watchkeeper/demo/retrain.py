"""The retraining job the demo's ``LowAccuracy`` alert starts (an ``actions:`` command).

``python -m watchkeeper.demo.retrain --workdir DIR --service URL`` reads the alert's
context (JSON) on stdin, as the collector's action runner sends it, and:

1. waits until the warehouse holds ``--min-rows`` labelled applications submitted since
   the start of the first window the alert flagged (the data since the accuracy fell:
   the new concept), up to ``--wait`` seconds;
2. trains the next version of the model on them, reporting its accuracy on a held-out
   fifth;
3. writes that version's reference: the current reference's inputs (concept drift
   leaves the inputs as they were) with the new model's outputs;
4. tells the model service to serve the new model;
5. prints ``{"version": ..., "reference": ...}`` as its last line, so the collector
   (``promote: true``) monitors the new version against the new reference.

Exit status 1 (and nothing promoted) if the labels do not come in time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from watchkeeper.demo.data import FEATURES
from watchkeeper.demo.model import train_model
from watchkeeper.demo.warehouse import Warehouse

__all__ = ["main"]


def _say(message: str) -> None:
    print(f"retrain: {message}", file=sys.stderr, flush=True)


def retrain(
    workdir: Path,
    service: str,
    context: dict[str, object],
    *,
    min_rows: int = 1_200,
    wait_seconds: float = 90.0,
) -> dict[str, object]:
    """Train, register and serve the next version; returns what to print."""
    version = str(int(str(context.get("version", "1"))) + 1)
    evidence = context.get("evidence")
    windows = evidence.get("windows") if isinstance(evidence, dict) else None
    # since the start of the first window the alert flagged, else since the alert
    since = float(min(w[0] for w in windows)) if windows else float(str(context.get("at", 0)))
    warehouse = Warehouse(workdir / "warehouse.db")
    parent = os.getppid()
    deadline = time.monotonic() + wait_seconds
    try:
        while (count := warehouse.count_since(since)) < min_rows:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"only {count} labelled rows since {since:.0f} after {wait_seconds:g} s; "
                    f"expected {min_rows}"
                )
            if os.getppid() != parent:  # the collector is gone: nobody to promote for
                raise RuntimeError("the collector stopped")
            time.sleep(0.2)
        frame = warehouse.labelled_since(since)
    finally:
        warehouse.close()
    _say(f"{len(frame)} labelled applications since {since:.0f}")
    rng = np.random.default_rng(int(since) % 2**32)
    holdout = rng.random(len(frame)) < 0.2
    train, test = frame[~holdout], frame[holdout]
    model = train_model(train[list(FEATURES)], train["label"].to_numpy(object), version=version)
    decisions, _ = model.predict(test[list(FEATURES)])
    accuracy = float(np.mean(decisions == test["label"].to_numpy(object)))
    _say(f"version {version} trained on {len(train)} rows; held-out accuracy {accuracy:.3f}")

    reference = pd.read_parquet(workdir / "reference.parquet")[list(FEATURES)]
    ref_decisions, ref_scores = model.predict(reference)
    reference["prediction"] = ref_decisions
    reference["score"] = ref_scores
    ref_path = workdir / f"reference-v{version}.parquet"
    reference.to_parquet(ref_path)
    model_path = model.save(workdir / f"model-v{version}.pkl")
    r = httpx.put(f"{service.rstrip('/')}/admin/model", json={"path": str(model_path)}, timeout=30)
    r.raise_for_status()
    _say(f"the service now runs version {r.json()['model_version']}")
    return {
        "version": version,
        "reference": str(ref_path),
        "trained_rows": len(train),
        "holdout_accuracy": round(accuracy, 4),
        "since": since,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--service", required=True, help="model service URL")
    parser.add_argument("--min-rows", type=int, default=1_200)
    parser.add_argument("--wait", type=float, default=90.0, help="seconds to wait for labels")
    args = parser.parse_args(argv)
    try:
        context = json.load(sys.stdin)
        result = retrain(
            args.workdir,
            args.service,
            context,
            min_rows=args.min_rows,
            wait_seconds=args.wait,
        )
    except Exception as exc:  # the action records the exit status and stderr
        _say(f"failed: {type(exc).__name__}: {exc}")
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
