"""``workbench report`` on a synthetic study: every file written, numbers that match a count made
with plain SQL, a page that makes no request, classroom mode without response text, and the page in
headless Chromium (no console error, a heatmap that is not blank)."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_study import make_study  # noqa: E402

from workbench.report import write_report  # noqa: E402

CHROMIUM_HINT = "headless Chromium (Debian's chromium package) is needed: `bash scripts/setup-test-tools.sh`"


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    db = folder / "synth.sqlite"
    make_study(db, 600, seed=3, recipe_path=folder / "synth.toml")
    return db


def _plain_rate(db_path: Path, cell: str, lang: str, judge: str) -> tuple[int, int]:
    """(complied, judged comply/refuse/neither) of one cell, language and judge, counted with SQL alone."""
    with sqlite3.connect(db_path) as db:
        return db.execute(
            """SELECT sum(j.label = 'comply'), sum(j.label IN ('comply', 'refuse', 'neither'))
               FROM judgments j JOIN responses r ON r.id = j.response_id JOIN prompts p ON p.id = r.prompt_id
               JOIN current_judgments cj ON cj.cell_id = r.cell_id AND cj.judge = j.judge
                    AND cj.judge_key = j.judge_key AND cj.generation_key = r.generation_key
               JOIN current_generations g ON g.cell_id = r.cell_id AND g.generation_key = r.generation_key
               WHERE r.cell_id = ? AND p.lang = ? AND j.judge = ?""",
            [cell, lang, judge],
        ).fetchone()


def test_every_file_is_written_and_the_numbers_are_the_databases(study, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "rep"
    report = write_report(study, "synth", out, markdown=True)
    names = {p.relative_to(out).as_posix() for p in report.written}
    assert {"report.html", "report.md"} <= names
    assert all((out / n).is_file() and (out / n).stat().st_size > 0 for n in names)
    for _, png, svg in report.heatmaps:  # PNG and SVG of each
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and b"<svg" in svg.read_bytes()[:2000]
    assert len(report.heatmaps) >= 4  # rate and change, per model and judge (two each in the synthetic study)
    for t in report.tables:
        table = pq.read_table(out / "tables" / f"{t.name}.parquet")
        assert table.num_rows == len(t.rows) and table.column_names == t.columns
        lines = (out / "tables" / f"{t.name}.csv").read_text().splitlines()
        assert len(lines) == len(t.rows) + 1
    # one entry of a compliance table against a count made with SQL alone
    first = next(t for t in report.tables if t.name.startswith("compliance-"))
    model, judge = first.title.split(" · ")[0], first.title.split("judge ")[1].rstrip(")")
    base_row = next(r for r in first.rows if r[0] == "base")
    lang = first.columns[1]
    complied, judged = _plain_rate(study, f"{model}/base", lang, judge)
    assert base_row[1].startswith(f"{100 * complied / judged:.0f}% ") and f"n={judged}" in base_row[1]
    page = (out / "report.html").read_text()
    assert "Paired statistics" in page and "Provenance" in page and "Recipe" in page


def test_the_page_makes_no_request_and_classroom_mode_leaves_text_out(study, tmp_path):
    full = write_report(study, "synth", tmp_path / "full")
    page = (tmp_path / "full" / "report.html").read_text()
    # nothing fetched: no src/href to another place; images are inline
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", page)
    assert page.count("data:image/png;base64,") == len(full.heatmaps)
    with sqlite3.connect(study) as db:
        texts = [r[0] for r in db.execute("SELECT text FROM responses WHERE length(text) > 40")]
    shown = [t for t in texts if html.escape(t) in page]
    assert shown, "the example pairs show response text (collapsed)"
    write_report(study, "synth", tmp_path / "class", classroom=True)
    quiet = (tmp_path / "class" / "report.html").read_text()
    assert "classroom mode" in quiet.lower()
    assert not [t for t in texts if html.escape(t) in quiet]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, CHROMIUM_HINT
    return found


def _open(page: Path, shot: Path) -> str:
    """Open ``page`` in headless Chromium, screenshot it, return what Chromium logged."""
    done = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert shot.is_file(), done.stderr[-2000:]
    return done.stderr


def _console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line]


def test_the_page_opens_in_headless_chromium_without_console_errors(study, tmp_path):
    import numpy as np
    from matplotlib import image

    # the check can fail: a page with a console error is caught
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('broken')</script>x</body></html>")
    assert _console_errors(_open(bad, tmp_path / "bad.png"))

    write_report(study, "synth", tmp_path / "rep")
    shot = tmp_path / "shot.png"
    log = _open(tmp_path / "rep" / "report.html", shot)
    assert _console_errors(log) == []
    pixels = image.imread(shot)[..., :3]
    # the heatmap is near the top: the upper part of the page is not one flat colour
    top = pixels[: pixels.shape[0] // 2]
    assert top.std() > 0.05 and len(np.unique(top.reshape(-1, 3).round(2), axis=0)) > 50
