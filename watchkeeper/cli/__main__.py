"""``python -m watchkeeper.cli``: the console script, for tests and service managers."""

from __future__ import annotations

from watchkeeper.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
