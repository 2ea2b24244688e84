"""Logging millions of rows keeps profiles, not rows: memory stays flat."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from watchkeeper.monitor import ManualClock, Monitor

    def rss_mb():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024

    rng = np.random.default_rng(0)
    n, batch, features = 5_000_000, 50_000, 25
    ref = {f"f{i}": rng.normal(size=20_000) for i in range(features)}
    ref["prediction"] = rng.random(20_000)
    data = {f"f{i}": rng.normal(0.1, 1, batch) for i in range(features)}
    outputs = rng.random(batch)
    offsets = np.sort(rng.uniform(0, 60, batch))
    m = Monitor("mem", reference=ref, store=sys.argv[1], clock=ManualClock(), grace=0,
                max_future_skew=None)  # event time runs ahead of this frozen clock
    rows = 0
    before = peak = None
    for k in range(n // batch):
        m.log(data, outputs, timestamps=k * 60.0 + offsets, latency=0.01)
        rows += batch
        if k == 4:  # after warm-up: first windows closed, caches and pools filled
            before = peak = rss_mb()
        elif k > 4:
            peak = max(peak, rss_mb())
    m.close()
    print(json.dumps({"rows": rows, "before_mb": before, "peak_mb": peak,
                      "windows": len(m.metrics("requests")), "rejected": m.rejected_calls}))
    """
)


@pytest.mark.slow
def test_logging_five_million_rows_grows_memory_by_less_than_100_mb(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wk.db'}"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, url], capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(result)
    assert result["rows"] == 5_000_000
    assert result["windows"] == 100
    assert result["rejected"] == 0
    assert result["peak_mb"] - result["before_mb"] < 100
