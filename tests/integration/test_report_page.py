"""The offline HTML report in a real headless Chromium, opened from a file with every
network request refused: the charts draw from the inlined Plotly, hold the report's
shares, the drifted columns come first, and a hostile column name stays text.
Screenshots: artifacts/report/report.png (the same data without the hostile column: the
README's) and report-escaping.png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import ARTIFACTS

from watchkeeper.report import compare_frames, render_html, report_to_dict

pytestmark = pytest.mark.integration

XSS = "<img src=x onerror=alert(1)>"


def _report(*, hostile: bool = True) -> Any:
    rng = np.random.default_rng(3)
    n, m = 10_000, 4_000
    ref = pd.DataFrame(
        {
            "amount": rng.lognormal(8, 0.6, n),
            "tenure": rng.normal(5, 2, n),
            "plan": rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            XSS: rng.normal(0, 1, n),
        }
    )
    amount = rng.lognormal(8, 0.6, m)
    amount[: m // 10] *= 100  # cents instead of euros for a tenth of the rows
    cur = pd.DataFrame(
        {
            "amount": amount,
            "tenure": rng.normal(5, 2, m),
            "plan": rng.choice(["free", "pro", "team", "edu"], m, p=[0.5, 0.3, 0.1, 0.1]),
            XSS: rng.normal(0, 1, m),
        }
    )
    if not hostile:
        ref, cur = ref.drop(columns=[XSS]), cur.drop(columns=[XSS])
    return compare_frames(ref, cur, reference_name="june.parquet", current_name="july.parquet")


def test_report_page_draws_offline_with_the_reports_numbers(tmp_path: Path, browser: Any) -> None:
    report = _report()
    path = tmp_path / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    doc = report_to_dict(report)

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    refused: list[str] = []
    problems: list[str] = []

    def refuse(route: Any) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", refuse)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    try:
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-drawn=true]", timeout=30_000)
        assert "Dataset drift" in page.locator("#verdict-state").inner_text()
        order = page.evaluate(
            "() => [...document.querySelectorAll('#columns tbody tr')].map(r => r.dataset.column)"
        )
        assert set(order[:2]) == {"amount", "plan"} and set(order[2:]) == {"tenure", XSS}
        headings = page.locator("section.column-section h3").all_inner_texts()
        assert any(h.startswith(XSS) for h in headings), headings  # the name, as text
        findings = page.locator("#findings").inner_text()
        assert "amount" in findings and "outside the reference's range" in findings
        assert "edu" in findings

        for i, col in enumerate(doc["columns"]):
            traces = page.evaluate(
                f"() => document.getElementById('chart-{i}').data"
                ".map(t => [t.name, t.xaxis || 'x', t.customdata, t.y])"
            )
            dist = col["distribution"]
            ref, cur = dist["reference"], dist["current"]
            if dist["kind"] == "numeric":
                # in-range bars carry the bins' shares; the side panel the slots outside
                assert traces[0][2] == pytest.approx(ref[1:-1])
                assert traces[1][2] == pytest.approx(cur[1:-1])
                assert traces[3][1] == "x2" and traces[3][3] == pytest.approx([cur[0], cur[-1]])
            else:
                assert traces[0][3] == pytest.approx(ref) and traces[1][3] == pytest.approx(cur)
        amount = page.evaluate("() => document.getElementById('chart-0').data[3].y[1]")
        assert amount == pytest.approx(report["amount"].out_of_range, abs=1e-9)
        assert amount > 0.05  # the cents show as rows above the reference's range

        shots = ARTIFACTS / "report"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "report-escaping.png"), full_page=True)

        # the README's screenshot: the same comparison on clean data
        clean = tmp_path / "clean.html"
        clean.write_text(render_html(_report(hostile=False)), encoding="utf-8")
        page.goto(clean.as_uri())
        page.wait_for_selector("body[data-drawn=true]", timeout=30_000)
        assert XSS not in page.content()
        assert "june.parquet (reference) vs july.parquet (current)" in page.title()
        page.screenshot(path=str(shots / "report.png"), full_page=True)
    finally:
        context.close()
    assert refused == [], refused  # everything the page needs is in the file
    assert problems == [], problems
