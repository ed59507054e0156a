"""Snapshots of every screen at 140x40 on the synthetic study (SVGs under __snapshots__, copied to docs/screenshots).

Update after reviewing the change: ``.venv/bin/pytest tests/tui/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import pytest
from tui_helpers import SIZE, open_synth, wait_for

from workbench.tui.app import make_app


@pytest.fixture
def app(synth):
    a = make_app()
    a.annotator = "alice"
    return a


def _ready(_unused, condition):
    """run_before that waits for ``condition`` and then lets the screen settle."""

    async def run_before(pilot):
        await condition(pilot)
        await pilot.pause(0.3)

    return run_before


def test_studies(snap_compare, synth):
    async def run_before(pilot):
        await wait_for(pilot, lambda: len(pilot.app.screen.details) == 3)
        await pilot.press("down", "down")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_ready(None, run_before))


def test_new_study_form(snap_compare, home):
    async def run_before(pilot):
        await pilot.press("n")
        form = pilot.app.screen
        form.query_one("#f-finetune").value = "en, xx"
        await wait_for(pilot, lambda: form.problems and form.problems != ["checking…"])

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_ready(None, run_before))


def test_plan_and_run(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot, mode="run")
        await wait_for(pilot, lambda: pilot.app.screen.rows)
        await pilot.press("down", "right", "right")

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_results_heatmap(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.rows)
        await pilot.press("down", "right")

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_results_difference_side_by_side_with_intervals(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.rows)
        await pilot.press("d", "i", "m", "m")
        await wait_for(pilot, lambda: len(pilot.app.screen.query(".heatmap-box")) == 2)

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_responses_of_a_cell(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot)
        await wait_for(pilot, lambda: pilot.app.screen.rows)
        await pilot.press("down", "right", "enter")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "ResponsesScreen")
        await pilot.pause(0.3)
        await pilot.press("down")

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_compare_base_and_fine_tuned(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot, mode="compare")
        await wait_for(pilot, lambda: pilot.app.screen.prompts)
        await pilot.press("n")

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_label_queue(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot, mode="label")
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.current is not None)
        await pilot.press("r", "c")
        await wait_for(pilot, lambda: "κ=" in str(screen.query_one("#label-kappa").render()))

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_agreement(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot, mode="agreement")
        await wait_for(pilot, lambda: pilot.app.screen.query_one("#agreement").row_count > 0)
        # the rows arrive from workers (one per refresh): let them all finish, then the table size its columns
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_classroom_compare_hides_unsafe_text(snap_compare, synth):
    app = make_app(classroom=True)

    async def run_before(pilot):
        await open_synth(pilot, mode="compare")
        pilot.app.guide_step = 3
        await wait_for(pilot, lambda: pilot.app.screen.prompts)
        await pilot.press("j")  # prompts some judge found complied with
        await wait_for(pilot, lambda: pilot.app.screen.flt.judge_label == "comply" and pilot.app.screen.prompts)

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))


def test_help_of_the_plan_screen(snap_compare, app):
    async def run_before(pilot):
        await open_synth(pilot, mode="run")
        await wait_for(pilot, lambda: pilot.app.screen.rows)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")

    assert snap_compare(app, terminal_size=SIZE, run_before=_ready(None, run_before))
