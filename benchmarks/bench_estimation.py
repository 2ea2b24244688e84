"""Performance estimation benchmark: time per 5,000-row window, and the estimate-error
table (task x shift size) of the README's "Performance before labels arrive".

Scripted covariate shift (P(y | x) fixed, the inputs moved by ``shift`` standard
deviations), the estimators fitted on 20,000 labelled reference rows:

- binary and 5-class classifiers with overconfident probabilities -> CBPE;
- a regressor with noise growing with one feature -> DLE (HistGradientBoosting).

Prints, per task: the median time of one estimate of a 5,000-row window next to the
scikit-learn baseline on the same rows (classification: computing accuracy, precision,
recall, F1 and ROC AUC from the labels with ``sklearn.metrics``; regression: the
prediction of one ``HistGradientBoostingRegressor`` of the same size, the floor of DLE's
two), then per task and shift the mean |estimate - realised| and the share of windows
whose realised value fell in the 95 % interval.

Run: ``python benchmarks/bench_estimation.py`` (``--quick``: fewer windows).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)
from threadpoolctl import threadpool_limits

from watchkeeper.stats.performance import CBPE, DLE

N = 5_000
SHIFTS = (0.0, 0.25, 0.5, 1.0)
_W = np.array([[1.0, 0.0, -1.0, 0.5, 2.0], [0.0, 1.0, 1.0, -1.0, 0.0], [0.5, -0.5, 0.0, 1.0, -1.0]])


def classification(rng: np.random.Generator, n: int, shift: float, k: int) -> tuple[Any, Any]:
    x = rng.normal(shift, 1.0, (n, 3))
    logit = x @ _W[:, :k]
    true = np.exp(logit - logit.max(axis=1, keepdims=True))
    true /= true.sum(axis=1, keepdims=True)
    y = np.minimum((rng.random((n, 1)) > true.cumsum(axis=1)).sum(axis=1), k - 1)
    model = true**1.5
    return model / model.sum(axis=1, keepdims=True), y


def regression(rng: np.random.Generator, n: int, shift: float) -> tuple[Any, Any, Any]:
    x = rng.normal(0.0, 1.0, (n, 4))
    x[:, 0] += shift
    y = np.sin(x[:, 0]) + x[:, 1] + rng.normal(0.0, 0.3 + 0.5 * np.abs(x[:, 2]), n)
    return x, np.sin(x[:, 0]) + 0.9 * x[:, 1], y


def realised_classification(y: Any, p: Any) -> dict[str, float]:
    pred = p.argmax(axis=1)
    av = "binary" if p.shape[1] == 2 else "macro"
    auc = roc_auc_score(y, p[:, 1]) if p.shape[1] == 2 else roc_auc_score(y, p, multi_class="ovr")
    return {
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred, average=av, zero_division=0),
        "recall": recall_score(y, pred, average=av, zero_division=0),
        "f1": f1_score(y, pred, average=av, zero_division=0),
        "roc_auc": auc,
    }


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def main() -> None:
    quick = "--quick" in sys.argv
    windows = 10 if quick else 40
    repeat = 10 if quick else 30
    rng = np.random.default_rng(0)
    rows: list[tuple[str, float, str, float, float]] = []

    print(f"time per window of {N:,} rows (median of {repeat}):")
    for k in (2, 5):
        p, y = classification(rng, 20_000, 0.0, k)
        t0 = time.perf_counter()
        cbpe = CBPE().fit(p, y)
        fit = time.perf_counter() - t0
        pw, yw = classification(rng, N, 0.3, k)
        ours = median_ms(lambda: cbpe.estimate(pw), repeat)  # noqa: B023
        base = median_ms(lambda: realised_classification(yw, pw), repeat)  # noqa: B023
        print(f"  CBPE {k} classes: estimate {ours:.1f} ms | scikit-learn metrics from labels "
              f"{base:.1f} ms | fit on 20,000 rows {fit:.2f} s")  # fmt: skip
        for shift in SHIFTS:
            err: dict[str, list[float]] = {}
            inside: dict[str, list[bool]] = {}
            for _ in range(windows):
                pw, yw = classification(rng, N, shift, k)
                est = cbpe.estimate(pw)
                for name, value in realised_classification(yw, pw).items():
                    err.setdefault(name, []).append(abs(est[name].value - value))
                    inside.setdefault(name, []).append(est[name].contains(value))
            for name in err:
                rows.append((f"{'binary' if k == 2 else '5-class'}", shift, name,
                             float(np.mean(err[name])), float(np.mean(inside[name]))))  # fmt: skip

    x, pred, y = regression(rng, 20_000, 0.0)
    t0 = time.perf_counter()
    dle = DLE().fit(x, pred, y)
    fit = time.perf_counter() - t0
    xw, pw, yw = regression(rng, N, 0.3)
    design = np.column_stack([xw, pw])
    ours = median_ms(lambda: dle.estimate(xw, pw), repeat)

    def one_model() -> None:
        with threadpool_limits(1):
            dle.abs_model_.predict(design)

    base = median_ms(one_model, repeat)
    print(f"  DLE regression: estimate {ours:.1f} ms | one HistGradientBoostingRegressor "
          f"predict {base:.1f} ms | fit on 20,000 rows {fit:.2f} s")  # fmt: skip
    for shift in SHIFTS:
        err = {"mae": [], "rmse": []}
        inside = {"mae": [], "rmse": []}
        for _ in range(windows):
            xw, pw, yw = regression(rng, N, shift)
            est = dle.estimate(xw, pw)
            for name, value in (("mae", mean_absolute_error(yw, pw)),
                                ("rmse", root_mean_squared_error(yw, pw))):  # fmt: skip
                err[name].append(abs(est[name].value - value))
                inside[name].append(est[name].contains(value))
        for name in err:
            rows.append(("regression", shift, name, float(np.mean(err[name])),
                         float(np.mean(inside[name]))))  # fmt: skip

    print(
        f"\nestimate error, {windows} windows of {N:,} rows per cell "
        "(mean |estimate - realised|; share of windows inside the 95 % interval):\n"
    )
    print("| task | metric | " + " | ".join(f"shift {s:g} sd" for s in SHIFTS) + " |")
    print("|---|---|" + "---|" * len(SHIFTS))
    tasks: dict[tuple[str, str], dict[float, tuple[float, float]]] = {}
    for task, shift, name, e, share in rows:
        tasks.setdefault((task, name), {})[shift] = (e, share)
    for (task, name), cells in tasks.items():
        shown = " | ".join(f"{cells[s][0]:.4f} ({cells[s][1]:.0%})" for s in SHIFTS)
        print(f"| {task} | {name} | {shown} |")


if __name__ == "__main__":
    main()
