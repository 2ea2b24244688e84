"""``watchkeeper demo``: a real scikit-learn model in production, seven scripted incidents.

A credit-risk model (:mod:`~watchkeeper.demo.model`, trained on generated applications
from :mod:`~watchkeeper.demo.data`) is served by FastAPI with the watchkeeper
middleware (:mod:`~watchkeeper.demo.service`); a load generator
(:mod:`~watchkeeper.demo.loadgen`) replays days of traffic on an accelerated clock
(:mod:`~watchkeeper.demo.clock`) with outcomes arriving late, and injects the incidents
of :mod:`~watchkeeper.demo.incidents` one after another; the collector
(:mod:`~watchkeeper.demo.collector`) catches each one with the default rules, and the
accuracy alert starts :mod:`~watchkeeper.demo.retrain`. The orchestration is
:func:`~watchkeeper.demo.runner.run_demo`.

Nothing here is imported by the rest of the package; scikit-learn is needed only when
the demo runs (``pip install "watchkeeper[demo]"``).
"""

from __future__ import annotations

__all__: list[str] = []
