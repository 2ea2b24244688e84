"""Merge laws of the per-instance saturation table, as Hypothesis properties.

merge is commutative and associative; the table of A + B equals merge(table A, table B)
(counts, sums to rounding, minima and maxima exactly), whatever the order samples come in;
the instances kept are the first :data:`MAX_INSTANCES` by id, the rest summed as ``other``.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.metrics import SATURATION
from watchkeeper.monitor.saturation import MAX_INSTANCES, OTHER, ResourceTable

sample = st.tuples(
    st.sampled_from([f"pod-{i:02d}" for i in range(MAX_INSTANCES + 6)]),
    st.sampled_from(SATURATION),
    st.floats(0, 1e9, allow_nan=False),
)
samples = st.lists(sample, max_size=80)


def _table(items: list[tuple[str, str, float]]) -> ResourceTable:
    table = ResourceTable()
    for instance, name, value in items:
        table.add(instance, name, value)
    return table


def _same(a: ResourceTable, b: ResourceTable) -> bool:
    if a.instances.keys() != b.instances.keys():
        return False
    for instance, row in a.instances.items():
        other = b.instances[instance]
        if row.keys() != other.keys():
            return False
        for name, (n, total, low, high) in row.items():
            m, total2, low2, high2 = other[name]
            if (n, low, high) != (m, low2, high2) or abs(total - total2) > 1e-6 * max(1, total):
                return False
    return True


@settings(max_examples=60, deadline=None)
@given(samples, samples, samples)
def test_merge_is_commutative_and_associative(
    a: list[tuple[str, str, float]],
    b: list[tuple[str, str, float]],
    c: list[tuple[str, str, float]],
) -> None:
    ta, tb, tc = _table(a), _table(b), _table(c)
    assert _same(ta.merge(tb), tb.merge(ta))
    assert _same(ta.merge(tb).merge(tc), ta.merge(tb.merge(tc)))


@settings(max_examples=60, deadline=None)
@given(samples, samples)
def test_the_table_of_both_is_the_merge_of_each(
    a: list[tuple[str, str, float]], b: list[tuple[str, str, float]]
) -> None:
    both = _table(a + b)
    assert _same(both, _table(a).merge(_table(b)))
    assert _same(both, _table(list(reversed(b + a))))
    kept = sorted({instance for instance, _, _ in a + b})[:MAX_INSTANCES]
    assert set(both.instances) - {OTHER} == set(kept)
