"""Stored windows in, metric points out: merge every writer's partials, analyse, roll up."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence

from watchkeeper.monitor.analysis import analyse_window, merged_state, performance_points
from watchkeeper.monitor.baseline import Baseline
from watchkeeper.monitor.embedding_drift import EmbeddingWindowDrift
from watchkeeper.monitor.estimation import Estimation
from watchkeeper.monitor.issues import Issues
from watchkeeper.monitor.multivariate import MultivariateAnalysis
from watchkeeper.monitor.segments import SegmentPart
from watchkeeper.monitor.window import WindowState, merge_states
from watchkeeper.monitor.windows import RollupSpan
from watchkeeper.store import Store, WindowKey

__all__ = ["ROLLUP_WRITER", "Analyser"]

log = logging.getLogger("watchkeeper.monitor")

ROLLUP_WRITER = "*merged*"
"""Writer name of coarser windows (merged from every writer's finer windows)."""


class Analyser:
    """The one place a stored window is merged across writers and its points written.

    Parameters
    ----------
    store
        Where window partials, labels and metric points are.
    baseline
        The references (looked up by the id a window was opened with) and the task.
    sizes
        The analysed window sizes, base window first (the sources of rollups).
    now
        The clock, stamping what is written.
    issues
        Where failed analyses are counted.
    multivariate
        Multivariate drift and root causes of each window (``None``: off).
    segments
        Drift and performance per segment (``None``: no segments).

    Notes
    -----
    An analysis that fails is logged and counted in ``issues.analysis_errors``, never
    raised: the window's state is already saved, and the next correction or rollup
    analyses it again.

    Examples
    --------
    >>> from watchkeeper.monitor.config import MonitorConfig
    >>> from watchkeeper.store import MemoryStore
    >>> store = MemoryStore()
    >>> baseline = Baseline(store, "m", "1", MonitorConfig())
    >>> _ = baseline.set_reference({"x": [1.0, 2.0, 3.0]}, now=0.0)
    >>> analyser = Analyser(store, baseline, (60.0,), now=lambda: 0.0, issues=Issues())
    >>> state = baseline.new_state()
    >>> state.requests = 3
    >>> key = WindowKey("m", "1", 0.0, 60.0)
    >>> store.save_window(key, "a", state.to_bytes(), now=0.0)
    >>> analyser.analyse(key)
    True
    >>> [p.value for p in store.query_points("m", "requests")]
    [3.0]
    """

    def __init__(
        self,
        store: Store,
        baseline: Baseline,
        sizes: Sequence[float],
        *,
        now: Callable[[], float],
        issues: Issues,
        multivariate: MultivariateAnalysis | None = None,
        segments: SegmentPart | None = None,
    ) -> None:
        self.segments = segments
        self.store = store
        self.baseline = baseline
        self.sizes = tuple(sizes)
        self.now = now
        self.issues = issues
        self.multivariate = multivariate
        self.embedding: EmbeddingWindowDrift | None = None
        """Embedding drift of each window (set by the Monitor; ``None``: no embeddings)."""
        self.estimation: Estimation | None = None
        """Estimated performance, its self-check and the relative judgement (set by the
        Monitor)."""

    def merged(self, key: WindowKey) -> WindowState | None:
        """Every writer's partial of a stored window, merged; ``None`` for none."""
        return merged_state(self.store, key)

    def analyse(self, key: WindowKey) -> bool:
        """Write the metric points of a stored window; ``False`` when it failed."""
        try:
            state = self.merged(key)
            if state is None:
                return True
            reference = self.baseline.reference_by_id(state.reference_id)
            task = self.baseline.task
            points = analyse_window(state, key, reference, task)
            labelled = self.store.labelled(key.model, key.version, key.start, key.end)
            points += performance_points(key, labelled, state.requests, task)
            if self.multivariate is not None:
                points += self.multivariate.points(state, key, reference, points)
            if self.embedding is not None:
                points += self.embedding.points(state, key, reference)
            if self.segments is not None:
                points += self.segments.drift_points(state, key)
                points += self.segments.performance_points(state, key, labelled, task)
            if self.estimation is not None:
                points = self.estimation.extend(key, state.requests, labelled, task, points)
            self.store.write_points(points, now=self.now())
        except Exception:
            self.issues.analysis_errors += 1
            log.exception("watchkeeper: analysis of %s failed; its state is kept", key)
            return False
        return True

    def relabel(self, key: WindowKey) -> bool:
        """Rewrite the performance points of a stored window after new labels; ``False``
        when the window has no stored state."""
        state = self.merged(key)
        if state is None:
            return False
        labelled = self.store.labelled(key.model, key.version, key.start, key.end)
        points = performance_points(key, labelled, state.requests, self.baseline.task)
        if self.segments is not None:
            points += self.segments.performance_points(state, key, labelled, self.baseline.task)
        if self.estimation is not None:
            task = self.baseline.task
            points = self.estimation.extend(key, state.requests, labelled, task, points)
        self.store.write_points(points, now=self.now())
        return True

    def rollup(self, key: WindowKey, source: float | None = None) -> bool | None:
        """Merge the stored ``source``-second windows inside ``key`` (default: the
        coarsest finer size that divides it) into it, save and analyse it. ``None`` when
        there was nothing to merge, else whether the analysis succeeded."""
        if source is None:
            finer = (s for s in self.sizes if s < key.seconds and key.seconds % s == 0)
            source = max(finer)
        starts = self.store.window_starts(key.model, key.version, source, key.start, key.end)
        merged = merge_states(
            s
            for start in starts
            if (s := self.merged(WindowKey(key.model, key.version, start, source))) is not None
        )
        if merged is None:
            return None
        self.store.save_window(key, ROLLUP_WRITER, merged.to_bytes(), now=self.now())
        return self.analyse(key)

    def rollups(
        self, model: str, version: str, spans: Iterable[RollupSpan]
    ) -> list[tuple[WindowKey, bool]]:
        """Build every coarser window of ``spans`` that holds a stored finer window;
        returns each one built, in order, with whether its analysis succeeded."""
        out = []
        for span in spans:
            starts = self.store.window_starts(model, version, span.source, span.since, span.until)
            for rstart in sorted({math.floor(s / span.seconds) * span.seconds for s in starts}):
                key = WindowKey(model, version, rstart, span.seconds)
                analysed = self.rollup(key, span.source)
                if analysed is not None:
                    out.append((key, analysed))
        return out
