"""The package's public surface and its dependency direction."""

from __future__ import annotations

import inspect
import subprocess
import sys

import watchkeeper


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(watchkeeper).items()
        if not name.startswith("_")
        and not isinstance(value, type(sys))
        and name != "annotations"  # from __future__
    }
    assert set(watchkeeper.__all__) - {"__version__"} == public


def test_import_leaves_web_storage_and_cli_frameworks_unloaded() -> None:
    code = (
        "import sys, watchkeeper, watchkeeper.profile, watchkeeper.stats, watchkeeper.monitor; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'sqlalchemy', 'typer', 'rich', "
        "'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_profile_attribute_is_the_package_not_a_function() -> None:
    import watchkeeper.profile as p

    assert inspect.ismodule(p)
    assert watchkeeper.profile is p
    assert callable(watchkeeper.profile_table)
