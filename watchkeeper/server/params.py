"""Query parameters shared by the API and the dashboard's JSON endpoints."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["chosen_version", "split_labels"]


def split_labels(items: Iterable[str]) -> dict[str, str]:
    """``label=key:value`` parameters as a mapping (the value may hold colons).

    Raises
    ------
    ValueError
        With the offending item as its argument, when one has no ``:`` or no key.

    Examples
    --------
    >>> split_labels(["feature:age", "url:http://x"])
    {'feature': 'age', 'url': 'http://x'}
    >>> split_labels([":x"])
    Traceback (most recent call last):
    ...
    ValueError: :x
    """
    labels = {}
    for item in items:
        k, sep, v = item.partition(":")
        if not sep or not k:
            raise ValueError(item)
        labels[k] = v
    return labels


def chosen_version(version: str | None) -> str | None:
    """A ``version`` parameter: empty, ``*`` or absent means every version (``None``).

    >>> chosen_version("*"), chosen_version("2")
    (None, '2')
    """
    return None if version in (None, "", "*") else version
