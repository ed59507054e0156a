"""How the screens learn about change: the stage registry drives the grid, typed messages drive refreshes."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest
from textual.widgets import DataTable
from tui_helpers import SIZE, open_synth, wait_for

from workbench import registry
from workbench.cells import cells
from workbench.events import RunEnded, RunStarted, StageStarted, UnitEnded, UnitStarted
from workbench.recipe import load_recipe
from workbench.tui.app import make_app
from workbench.tui.messages import LabelsChanged, ResultsChanged, RunStateChanged
from workbench.tui.runner_client import RunHandle

pytestmark = pytest.mark.anyio

FINETUNE_CELL = "gemma3-270m/es/s0-e2"


def _rows(table: DataTable) -> list[list]:
    return [table.get_row_at(i) for i in range(table.row_count)]


async def test_a_registered_stage_gets_a_grid_column_filled_from_the_run_and_then_the_database(synth, tmp_path):
    with registry.registered({"toy": "tests.stages.toy:STAGE"}, after="judge"):
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await open_synth(pilot, mode="run")
            run = app.screen
            await wait_for(pilot, lambda: run.rows, what="grid")
            table = run.query_one("#grid", DataTable)
            labels = [str(c.label) for c in table.columns.values()]
            # every stage this recipe runs (the translation stages have no unit without [translation])
            recipe = load_recipe(synth.parent.parent / "recipes" / "synth.toml")
            runs = [s.name for s in registry.stages() if s.units(recipe, cells(recipe))]
            assert "translate" not in runs and "toy" in runs
            assert labels == ["cell", *runs] and labels.index("toy") == labels.index("judge") + 1
            # The toy stage applies to fine-tune cells only; it is cell-scoped, so not on the study row.
            assert str(table.get_cell("gemma3-270m/base", "toy")) == "-"
            assert str(table.get_cell(FINETUNE_CELL, "toy")) == "pending"
            assert str(table.get_cell("(study)", "toy")) == "-"
            assert str(table.get_cell("(study)", "results")) == "done"

            # A run of it (events as the runner writes them), followed like any other run.
            sleeper = subprocess.Popen(["sleep", "60"])
            events = tmp_path / "toy.events.jsonl"
            handle = RunHandle(sleeper.pid, events, tmp_path / "toy.stderr.log", ["toy"])
            try:
                lines = [RunStarted(study="synth", pid=sleeper.pid, stages={"toy": 6}), StageStarted("toy", 6)]
                lines.append(UnitStarted(stage="toy", unit=FINETUNE_CELL))
                events.write_text("".join(e.to_json() + "\n" for e in lines))
                app.follow(handle)
                await wait_for(pilot, lambda: str(table.get_cell(FINETUNE_CELL, "toy")) == "running", what="running")
                with open(events, "a") as f:
                    f.write(UnitEnded(stage="toy", unit=FINETUNE_CELL, status="failed", error="no", hint="h").to_json())
                    f.write("\n" + RunEnded(failed=1).to_json() + "\n")
                await wait_for(pilot, lambda: str(table.get_cell(FINETUNE_CELL, "toy")) == "failed", what="failed")
                assert run.status[("toy", FINETUNE_CELL)]["error"] == "no"
            finally:
                sleeper.kill()
                sleeper.wait()
            # Once the run's process has gone, the database has the last word: the toy never ran there.
            await wait_for(pilot, lambda: not app.following, what="run over")
            await wait_for(pilot, lambda: str(table.get_cell(FINETUNE_CELL, "toy")) == "pending", what="reloaded")
    assert "toy" not in registry.names()


async def test_a_saved_label_reaches_the_agreement_screen_as_a_message(synth):
    seen = []
    app = make_app()
    app.annotator = "erin"
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await open_synth(pilot, mode="agreement")
        agreement = app.screen
        table = agreement.query_one("#agreement", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, what="agreement")
        assert not any(r[1] == "erin" for r in _rows(table))

        await pilot.press("5")
        label = app.screen
        await wait_for(pilot, lambda: label.current is not None, what="first response")
        labelled = label.current.id
        await pilot.press("c")
        await wait_for(pilot, lambda: any(isinstance(m, LabelsChanged) for m in seen), what="LabelsChanged")
        changed = [m for m in seen if isinstance(m, LabelsChanged)]
        assert {(m.response_id, m.annotator) for m in changed} == {(labelled, "erin")}
        assert len(changed) >= 3  # to the app, then a copy to each screen (studies, agreement, label)
        # The hidden agreement screen waits; shown again, it recomputes (no polling, no counters).
        await pilot.press("6")
        await wait_for(pilot, lambda: any(r[1] == "erin" for r in _rows(table)), what="erin's agreement")

        # While it is shown, a label saved elsewhere (another TUI, a script) shows as soon as the message comes.
        with sqlite3.connect(synth) as db:
            db.execute(
                "INSERT INTO human_labels (response_id, annotator, label, note, created_at)"
                " VALUES (?, 'frank', 'refuse', '', 'now')",
                [labelled],
            )
        await pilot.pause(0.3)
        assert not any(r[1] == "frank" for r in _rows(table))
        app.post_message(LabelsChanged(labelled, "frank"))
        await wait_for(pilot, lambda: any(r[1] == "frank" for r in _rows(table)), what="frank's agreement")


async def test_results_show_why_a_fine_tune_has_no_change_when_its_base_was_generated_otherwise(synth):
    from workbench.analysis.results import NOT_COMPARABLE
    from workbench.tui.widgets.heatmap import Heatmap

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_synth(pilot)
        results = app.screen
        await wait_for(pilot, lambda: results.rows, what="heatmap")
        await pilot.press("d")
        heatmap = results.query_one(Heatmap)
        assert "pts" in str(heatmap.get_cell_at((1, 1)))
        with sqlite3.connect(synth) as db:  # the base regenerated under other settings
            db.execute("UPDATE current_generations SET settings_key = 'other' WHERE cell_id = 'gemma3-270m/base'")
        before = results.rows
        app.post_message(ResultsChanged())  # what the app posts when a run finishes a unit
        await wait_for(pilot, lambda: results.rows is not before, what="recomputed")
        gemma = [r for r in results.rows if r.model == "gemma3-270m" and r.finetune_lang is not None]
        assert gemma and all(r.note == NOT_COMPARABLE and r.delta_vs_base is None for r in gemma)
        await wait_for(pilot, lambda: "settings" in str(heatmap.get_cell_at((1, 1))), what="drawn")
        heatmap.move_cursor(row=1, column=1)
        await pilot.pause()
        assert NOT_COMPARABLE in str(results.query_one("#results-info").render())


def test_run_state_changes_coalesce_but_never_swallow_the_end():
    older, newer, end = RunStateChanged(), RunStateChanged(), RunStateChanged(ended=True)
    assert older.can_replace(newer) and older.can_replace(end)
    assert not end.can_replace(newer)  # the end (a reload from the database) survives a later change
    assert ResultsChanged().can_replace(ResultsChanged())
    assert not LabelsChanged(1, "a").can_replace(LabelsChanged(2, "a"))
