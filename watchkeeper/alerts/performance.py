"""The default performance rules: judged against the model's own normal, not a fixed bar.

A fixed threshold (``accuracy < 0.8``) is wrong both ways: a model that was at 0.999
and fell to 0.87 never crosses it, and a model that is normally at 0.80 +- 0.02 crosses
it in a third of its windows. These rules read the points of
:mod:`watchkeeper.monitor.estimation` instead, which compare each window with the
labelled reference's performance (``Monitor.fit_estimator``) or, without one, with the
labelled windows before it, and call a window *degraded* only when the drop is larger
than its floor (3 points; 10 % for MAE and RMSE) *and* than 3.29 standard errors at the
window's label count (:func:`watchkeeper.stats.performance.relative.compare_to_baseline`):

- ``LowAccuracy`` and ``HigherError``: realised performance (from labels) degraded;
- ``EstimatedPerformanceDrop``: estimated performance degraded for 2 windows while less
  than half of the predictions have labels;
- ``EstimateUnreliable``: the realised value fell outside the estimate's interval in 3
  labelled windows in a row, so the estimate's assumption (P(y | x) unchanged since the
  reference: no concept drift) no longer holds.

:data:`PERFORMANCE_RULES` is the YAML of these rules as ``watchkeeper init`` writes them
(indented for the ``rules:`` list).

Examples
--------
>>> import yaml
>>> [r["name"] for r in yaml.safe_load("rules:\\n" + PERFORMANCE_RULES)["rules"]]
['LowAccuracy', 'HigherError', 'EstimatedPerformanceDrop', 'EstimateUnreliable']
"""

from __future__ import annotations

__all__ = ["PERFORMANCE_RULES"]

PERFORMANCE_RULES = """\
  # performance, against the model's own normal (the labelled reference given to
  # Monitor.fit_estimator, else the labelled windows before): a window is degraded when
  # its drop is over 3 points (10 % for MAE/RMSE) and over the noise of its label count
  - name: LowAccuracy
    metric: accuracy_degraded        # = performance_degraded{metric=accuracy, basis=realised}
    op: ">="
    threshold: 1
    summary: "accuracy fell below the model's normal by more than its labels' noise"
  - name: HigherError
    metric: performance_degraded
    labels: {metric: "~mae|rmse", basis: realised}
    op: ">="
    threshold: 1
    summary: "{metric} rose above the model's normal by more than its labels' noise"
  # while labels are late: the same judgement on the estimated performance
  - name: EstimatedPerformanceDrop
    metric: performance_degraded
    labels: {metric: "*", basis: estimated}
    over: 2
    aggregate: min
    op: ">="
    threshold: 1
    when: {metric: label_coverage, op: "<", threshold: 0.5}
    summary: "estimated {metric} fell below the model's normal (labels not in yet)"
  # the estimate checked against the labels that did arrive: outside its interval in
  # 3 windows in a row means its assumption (P(y|x) unchanged: no concept drift) broke
  - name: EstimateUnreliable
    metric: estimate_outside
    labels: {metric: "*"}
    over: 3
    aggregate: min
    op: ">="
    threshold: 1
    summary: "realised {metric} outside the estimate's interval for 3 windows: concept drift?"
"""
