"""What a model's data should look like: its schema, its task and its references."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from watchkeeper._batch import to_columns
from watchkeeper.errors import ConfigError, WatchkeeperError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.analysis import ReferenceContext, Task
from watchkeeper.monitor.config import MonitorConfig
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile import DatasetProfile, profile_table
from watchkeeper.profile.bundle import pack_reference, unpack_reference
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.schema import Schema, infer_schema, validate
from watchkeeper.stats import DriftDetector
from watchkeeper.store import Store

__all__ = ["PROFILE_SUFFIX", "Baseline", "read_profile", "read_reference"]

PROFILE_SUFFIX = ".wkprof"
"""A file of :meth:`DatasetProfile.to_bytes` (a reference profiled elsewhere)."""


def read_profile(path: Path) -> DatasetProfile:
    """The profile kept in a ``.wkprof`` file.

    Raises
    ------
    ConfigError
        The file cannot be read or holds no watchkeeper profile (naming the file).
    """
    return read_reference(path)[0]


def read_reference(path: Path) -> tuple[DatasetProfile, Reservoir | None]:
    """The profile and, if the file has one, the row sample kept in a ``.wkprof`` file
    (:func:`~watchkeeper.profile.bundle.pack_reference`; plain profile bytes too).

    Raises
    ------
    ConfigError
        The file cannot be read or holds no watchkeeper profile (naming the file).
    """
    try:
        return unpack_reference(path.read_bytes())
    except (OSError, WatchkeeperError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ConfigError(
            f"reference: file {str(path)!r}: {reason}; expected a profile written by "
            "DatasetProfile.to_bytes()",
            field="reference",
            value=str(path),
            expected="a .wkprof profile file",
        ) from exc


class Baseline:
    """The schema, task and references of one model version, kept in sync with the store.

    The schema is fixed once: by the first reference, the given schema, or the first
    batch. References are looked up by their store id (a window is analysed against the
    reference it was opened with) and fitted once each.

    Parameters
    ----------
    store, model, version
        Where references and the version's schema are saved.
    config
        Outputs, task kind, positive class and drift settings.

    Examples
    --------
    >>> from watchkeeper.store import MemoryStore
    >>> baseline = Baseline(MemoryStore(), "m", "1", MonitorConfig())
    >>> ref_id = baseline.set_reference({"x": [1.0, 2.0, 3.0]}, now=0.0)
    >>> baseline.reference.id == ref_id, baseline.schema.names
    (True, ('x',))
    """

    def __init__(self, store: Store, model: str, version: str, config: MonitorConfig) -> None:
        self.store = store
        self.model = model
        self.version = version
        self.config = config
        self.schema: Schema | None = None
        """The monitored columns; ``None`` until known."""
        self.task = Task()
        """What the model predicts, derived from the schema."""
        self.reference: ReferenceContext | None = None
        """The current reference: its store id, profile and fitted drift detector."""
        self._references: dict[int, ReferenceContext] = {}
        self._layout: dict[str, Any] | None = None

    @property
    def reference_id(self) -> int | None:
        """The store id of the current reference; ``None`` without one."""
        return None if self.reference is None else self.reference.id

    def start(
        self, reference: Any, schema: Schema | Mapping[str, Any] | None, *, now: float
    ) -> None:
        """Start from ``reference`` (with ``schema``, if given), else from the latest
        reference stored for this version (so a monitor restarted on the same store
        continues as it was), else from ``schema`` alone, else from the first batch."""
        if isinstance(schema, Mapping):
            schema = Schema.from_dict(schema)
        if reference is not None:
            self.set_reference(reference, schema=schema, now=now)
        elif (stored := self.store.latest_reference(self.model, self.version)) is not None:
            self.use_reference(stored[0], *unpack_reference(stored[1]), now=now)
        elif schema is not None:
            self.adopt_schema(schema, now=now)

    def adopt_schema(self, schema: Schema, *, now: float) -> None:
        """Fix the schema (no-op when known), derive the task and register the version."""
        if self.schema is not None:
            return
        self.schema = schema
        kind = self.config.task
        pred = _inputs.PREDICTION if _inputs.PREDICTION in schema else None
        outputs = schema.with_role("output")
        if pred is None and len(outputs) == 1:
            pred = outputs[0].name
        if kind is None and pred is not None:
            kind = "regression" if schema[pred].kind == "numeric" else "classification"
        score = next((c.name for c in outputs if c.name == "score" and c.kind == "numeric"), None)
        classes: tuple[str, ...] = ()
        if self.reference is not None and pred is not None:
            col = self.reference.profile.columns[pred]
            classes = tuple(sorted(getattr(col, "counts", {})))
        self.task = Task(kind, pred, score, self.config.positive, classes)
        self.store.register_version(self.model, self.version, schema.to_dict(), now=now)

    def set_reference(self, reference: Any, *, schema: Schema | None = None, now: float) -> int:
        """Profile ``reference`` (data, a data file, a profile, or a ``.wkprof`` file of
        profile bytes, e.g. computed on a cluster by :mod:`watchkeeper.integrations`), save
        it unless it is the stored latest one, and use it from now on; returns its id."""
        sample: Reservoir | None = None
        if isinstance(reference, str | Path) and Path(reference).suffix == PROFILE_SUFFIX:
            ref_profile, sample = read_reference(Path(reference))
        elif isinstance(reference, DatasetProfile):
            ref_profile = reference
        else:
            if isinstance(reference, str | Path):
                from watchkeeper.tables import read_table

                reference = read_table(Path(reference))
            if schema is None:
                schema = self.schema
            if schema is None:
                columns, _ = to_columns(reference)
                roles = {n: "output" for n in self.config.outputs if n in columns}
                schema = infer_schema(reference, roles=roles)  # type: ignore[arg-type]
            ref_profile = profile_table(reference, schema)
            sample = self._reference_sample(reference, schema)
        blob = pack_reference(ref_profile, sample)
        stored = self.store.latest_reference(self.model, self.version)
        if stored is not None and stored[1] == blob:
            ref_id = stored[0]
        else:
            ref_id = self.store.save_reference(self.model, self.version, blob, now=now)
        self.use_reference(ref_id, ref_profile, sample, now=now)
        return ref_id

    def _reference_sample(self, reference: Any, schema: Schema) -> Reservoir | None:
        """A uniform sample of the reference's rows, when the monitor keeps samples."""
        size = self.config.reservoir_size
        if not size:
            return None
        columns, n = to_columns(reference)
        batch = validate(columns, schema, strict=False, allow_extra=True)
        return Reservoir(size, 0).add(batch.columns, n)

    def use_reference(
        self,
        ref_id: int,
        ref_profile: DatasetProfile,
        sample: Reservoir | None = None,
        *,
        now: float,
    ) -> None:
        """Make the stored reference ``ref_id`` the current one.

        Raises
        ------
        ConfigError
            Its schema differs from the monitored one.
        """
        if self.schema is not None and ref_profile.schema != self.schema:
            raise ConfigError(
                f"reference: its columns {list(ref_profile.schema.names)} differ from the "
                f"monitored schema {list(self.schema.names)}; expected the same schema",
                field="reference",
                value=list(ref_profile.schema.names),
                expected=str(list(self.schema.names)),
            )
        self.reference = self._fit(ref_id, ref_profile, sample)
        self._layout = ref_profile.layout()
        self.adopt_schema(ref_profile.schema, now=now)

    def reference_by_id(self, ref_id: int | None) -> ReferenceContext | None:
        """The reference a window was opened with (``None``: the current one), read from
        the store and fitted on first use."""
        if ref_id is None:
            return self.reference
        ctx = self._references.get(ref_id)
        if ctx is None:
            ctx = self._fit(ref_id, *unpack_reference(self.store.reference(ref_id)))
        return ctx

    def new_state(self, stream: int = 0) -> WindowState:
        """An empty window state on the current reference's layout; with a reservoir of
        ``reservoir_size`` rows whose keys are drawn from ``stream`` (one per writer and
        window, so partials merge into a uniform sample)."""
        if self.schema is None:
            raise ConfigError(
                "schema: not known yet; expected a reference, a schema or a first batch",
                field="schema",
                value=None,
                expected="a schema",
            )
        size = self.config.reservoir_size
        sample = Reservoir(size, 0, stream=stream) if size else None
        profile = DatasetProfile(self.schema, layout=self._layout)
        return WindowState(profile, self.reference_id, sample)

    def _fit(
        self, ref_id: int, ref_profile: DatasetProfile, sample: Reservoir | None = None
    ) -> ReferenceContext:
        cfg = self.config
        detector = DriftDetector(cfg.drift, column_methods=dict(cfg.column_methods))
        ctx = ReferenceContext(ref_id, ref_profile, detector.fit(ref_profile), sample)
        self._references[ref_id] = ctx
        return ctx
