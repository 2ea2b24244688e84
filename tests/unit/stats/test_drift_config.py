"""The drift configuration fails at construction, naming the field and the value."""

from __future__ import annotations

import pytest

from watchkeeper.stats import DriftConfig


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("false_alarm_rate", 0.7),
        ("mode", "bayes"),
        ("correction", "holm"),
        ("drift_share", 0.0),
        ("effect_floor", -1.0),
        ("n_resamples", 5),
    ],
)
def test_config_errors_name_the_field_and_value(field: str, value: object) -> None:
    with pytest.raises(ValueError) as info:
        DriftConfig(**{field: value})  # type: ignore[arg-type]
    assert field in str(info.value) and repr(value) in str(info.value)
    assert info.value.field == field  # type: ignore[attr-defined]
