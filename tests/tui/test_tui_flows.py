"""Pilot tests of each screen's main flows, on a synthetic study and with a fake runner subprocess."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest
from tui_helpers import FAKE_RUNNER, SIZE, open_synth, screen_lines, wait_for

from workbench.tui.app import make_app
from workbench.tui.screens.modals import ConfirmScreen

pytestmark = pytest.mark.anyio


def _grid_statuses(screen) -> dict[tuple[str, str], str]:
    return {k: v["status"] for k, v in screen.status.items()}


async def test_studies_lists_recipes_quick_profiles_and_databases(synth):
    app = make_app(runner=FAKE_RUNNER)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert [r.name for r in screen.refs] == ["demo", "demo-quick", "synth"]
        await wait_for(pilot, lambda: len(screen.details) == 3, what="recipes validated")
        assert "valid" in screen.details["2"] and "200 responses" in screen.details["2"]
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: app.current_mode == "run", what="plan & run")
        assert app.study.name == "synth"
        run = app.screen
        await wait_for(pilot, lambda: run.rows, what="grid")
        assert run.rows[0] == "(study)" and "gemma3-270m/base" in run.rows
        assert _grid_statuses(run)[("finetune", "gemma3-270m/es/s0-e2")] == "done"


async def test_new_study_form_validates_as_you_type_and_saves(home):
    app = make_app(runner=FAKE_RUNNER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        form = app.screen
        await wait_for(pilot, lambda: form.problems != ["checking…"], what="first validation")
        assert form.problems == []
        form.query_one("#f-finetune").value = "en, xx"
        await wait_for(pilot, lambda: form.problems, what="language problem")
        # the CLI's own message, naming the file the form will write
        assert any(
            "recipes/my-study.toml: languages.finetune" in p and "unknown language code 'xx'" in p
            for p in form.problems
        )
        form.query_one("#f-finetune").value = "es"
        form.query_one("#f-learning_rate").value = "fast"
        await wait_for(pilot, lambda: any("learning_rate" in p for p in form.problems), what="number problem")
        form.query_one("#f-learning_rate").value = "1e-4"
        await wait_for(pilot, lambda: form.problems == [], what="valid again")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.current_mode == "run", what="opened")
        written = home / "recipes" / "my-study.toml"
        assert written.is_file() and app.study.name == "my-study"
        from workbench.recipe import load_recipe

        assert load_recipe(written).languages.finetune == ["es"]
        assert not list((home / "recipes").glob(".*tui-check*"))


async def test_quick_study_runs_to_the_end_then_results_responses_compare(home):
    app = make_app(runner=FAKE_RUNNER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")  # demo-quick
        await wait_for(pilot, lambda: app.current_mode == "run", what="plan & run")
        run = app.screen
        await wait_for(pilot, lambda: run.recipe is not None, what="plan read")
        assert app.study.name == "demo-quick" and app.study.quick
        assert set(_grid_statuses(run).values()) <= {"pending", "-"}
        await pilot.press("a")  # asks first, with what the run will do and a rough time
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        asked = "\n".join(app.screen.lines)
        assert app.screen.heading == "Run the whole study?" and "time: ~" in asked and "on this machine" in asked
        assert "finetune: 1 of 1 units to do, ~" in asked and "judge: 2 of 2 units to do" in asked
        assert app.run_handle is None  # nothing started before the yes
        await pilot.press("y")
        await wait_for(pilot, lambda: app.run_handle is not None, what="started")
        handle = app.run_handle
        assert handle.events_path.parent == home / "models" / "demo-quick" / "runs"
        await wait_for(pilot, lambda: not handle.alive() and not app.following, timeout=60, what="run ended")
        await wait_for(
            pilot, lambda: _grid_statuses(run).get(("judge", "gemma3-270m/es/s0-e2")) == "done", what="final grid"
        )
        state = app.run_state
        assert state.loss and all(len(v) == 8 for v in state.loss.values())
        assert state.tokens_per_s and state.stages["finetune"].ended
        assert state.ended is not None and state.ended.failed == 0  # the real runner's run_end
        assert any("prepared 6 prompts" in text for _, text in state.logs)
        assert run.loss_plot is not None  # the loss curve was drawn
        # results: the heatmap of the study just run
        await pilot.press("3")
        results = app.screen
        await wait_for(pilot, lambda: results.rows, what="heatmap")
        assert {r.eval_lang for r in results.rows} == {"en", "es"}
        assert [r.cell for r in results.rows][0] == "gemma3-270m/base"
        # open a cell: its responses, then compare that prompt across cells
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ResponsesScreen", what="responses")
        responses = app.screen
        from workbench.tui.widgets.virtual_table import VirtualTable

        await wait_for(pilot, lambda: responses.query_one(VirtualTable).ids, what="rows")
        assert len(responses.query_one(VirtualTable).ids) == 6  # one cell, one language, 6 prompts
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_mode == "compare", what="compare")
        compare = app.screen
        await wait_for(pilot, lambda: compare.prompts and compare.query(".panel"), what="panels")
        panels = compare.query(".panel")
        assert len(panels) == 2  # base and the Spanish fine-tune, side by side
        assert "base" in panels[0].classes


async def test_a_reopened_tui_picks_up_a_live_run_and_stops_it_after_asking(home, monkeypatch):
    monkeypatch.setenv("FAKE_RUNNER_STEP_S", "0.3")
    app = make_app(runner=FAKE_RUNNER)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.current_mode == "run" and app.screen.recipe is not None, what="plan")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.run_state.loss, timeout=30, what="training started")
        pid = app.run_handle.pid
        proc = app.run_handle.proc
    # The TUI closed; the run goes on.
    os.kill(pid, 0)
    app2 = make_app(runner=FAKE_RUNNER)
    try:
        async with app2.run_test(size=SIZE) as pilot:
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: app2.run_handle is not None, what="attached")
            assert app2.run_handle.pid == pid
            run = app2.screen
            await wait_for(pilot, lambda: app2.run_state.loss, what="events replayed")
            assert "running" in str(run.query_one("#run-status").render())
            await pilot.press("x")  # not started by this TUI: it asks first
            await wait_for(pilot, lambda: isinstance(app2.screen, ConfirmScreen), what="stop confirmation")
            assert app2.run_handle.alive()
            await pilot.press("y")
            await wait_for(pilot, lambda: not app2.run_handle.alive(), timeout=10, what="stopped")
            # A reopened TUI is another process; here both live in pytest, which must reap its child.
            proc.wait(timeout=10)
            await pilot.press("r")
            await wait_for(pilot, lambda: "interrupted" in _grid_statuses(run).values(), what="interrupted shown")
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def test_results_views_judges_models_and_filters(synth):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_synth(pilot)
        results = app.screen
        await wait_for(pilot, lambda: results.rows, what="heatmap")
        from workbench.tui.widgets.heatmap import Heatmap

        heatmap = results.query_one(Heatmap)
        assert heatmap.row_count == 4 and len(heatmap.columns) == 5
        assert results.judge == "heuristic" and results.model == "gemma3-270m"
        await pilot.press("d")
        assert results.view == "difference"
        assert "pts" in str(heatmap.get_cell_at((1, 1)))
        await pilot.press("d")
        assert results.view == "ratio"
        await pilot.press("i")
        assert results.intervals
        await pilot.press("j")
        assert results.judge == "llm-guard"
        await pilot.press("m", "m")
        assert results.model == "side by side"
        await wait_for(pilot, lambda: len(results.query(Heatmap)) == 2, what="two heatmaps")
        await pilot.press("f")
        assert results.category == "fraud"
        await wait_for(pilot, lambda: "fraud" in str(results.query_one("#results-bar").render()), what="recompute")
        n_fraud = sum(r.n for r in results.rows if r.judge == "heuristic")
        assert 0 < n_fraud < 200
        await pilot.press("l")
        await wait_for(pilot, lambda: {r.eval_lang for r in results.rows} == {"en"}, what="language filter")


async def test_compare_filters_move_and_classroom_reveal(synth):
    app = make_app(classroom=True)
    async with app.run_test(size=SIZE) as pilot:
        await open_synth(pilot, mode="compare")
        compare = app.screen
        await wait_for(pilot, lambda: compare.prompts, what="prompts")
        total = len(compare.prompts)
        first = compare.prompts[0]
        await pilot.press("n")
        assert compare.prompts[compare.index] != first
        await pilot.press("p")
        assert compare.index == 0
        await pilot.press("d")  # judges disagree
        await wait_for(pilot, lambda: len(compare.prompts) < total, what="disagreement filter")
        await pilot.press("d")  # judge vs human
        await wait_for(pilot, lambda: compare.flt.disagreement == "judge-human" and len(compare.prompts) < total)
        await pilot.press("d", "j")  # no disagreement filter; judge label comply
        await wait_for(pilot, lambda: compare.flt.judge_label == "comply" and compare.prompts)
        await wait_for(pilot, lambda: compare.shown_key and compare.shown_key[:2] == compare.prompts[compare.index])
        texts = [str(w.render()) for w in compare.query(".panel-text")]
        assert any("hidden in classroom mode" in t for t in texts)
        await pilot.press("v")
        texts = [str(w.render()) for w in compare.query(".panel-text")]
        assert not any("hidden in classroom mode" in t for t in texts)
        await pilot.press("m")  # one cell across evaluation languages
        await wait_for(pilot, lambda: compare.layout_mode == "langs" and len(compare.query(".panel")) == 4)


async def test_label_five_undo_and_kappa_updates(synth):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_synth(pilot, mode="label")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AskScreen", what="annotator asked")
        await pilot.press(*"carol", "enter")
        label = app.screen
        await wait_for(pilot, lambda: label.current is not None, what="first item")
        assert "gemma" not in str(label.query_one("#label-response").render())  # blind
        await wait_for(pilot, lambda: "label a few" in str(label.query_one("#label-kappa").render()))
        seen = []
        for key in "crcpr":
            seen.append(label.current.id)
            await pilot.press(key)
        db = sqlite3.connect(synth)

        def carols() -> int:
            return db.execute("SELECT count(*) FROM human_labels WHERE annotator = 'carol'").fetchone()[0]

        await wait_for(pilot, lambda: carols() == 5, what="labels committed by the writer thread")
        rows = dict(db.execute("SELECT response_id, label FROM human_labels WHERE annotator = 'carol'").fetchall())
        assert [rows[i] for i in seen] == ["comply", "refuse", "comply", "partial", "refuse"]
        assert len(set(seen)) == 5
        await wait_for(pilot, lambda: "κ=" in str(label.query_one("#label-kappa").render()), what="kappa")
        await pilot.press("z")
        assert label.current.id == seen[-1]
        await wait_for(pilot, lambda: carols() == 4, what="undo committed")
        await pilot.press("n")
        await pilot.press(*"odd one", "enter")
        await pilot.press("u")
        await wait_for(pilot, lambda: carols() == 5, what="relabel committed")
        assert db.execute(
            "SELECT label, note FROM human_labels WHERE annotator = 'carol' AND response_id = ?", [seen[-1]]
        ).fetchone() == ("unclear", "odd one")
        # the agreement screen shows carol against both judges
        await pilot.press("6")
        agreement = app.screen
        from textual.widgets import DataTable

        table = agreement.query_one(DataTable)
        await wait_for(pilot, lambda: any(table.get_row_at(i)[1] == "carol" for i in range(table.row_count)))
        carol = [table.get_row_at(i) for i in range(table.row_count) if table.get_row_at(i)[1] == "carol"]
        pooled = {r[2]: r for r in carol if str(r[3]) == "all"}
        assert set(pooled) == {"heuristic", "llm-guard"}
        assert int(pooled["heuristic"][4]) + int(pooled["heuristic"][7]) == 5  # 4 comparable + 1 partial/unclear
    # the name is asked once
    assert make_app().annotator == "carol"


async def test_label_twenty_then_agreement_screen(synth):
    app = make_app()
    app.annotator = "dana"
    async with app.run_test(size=SIZE) as pilot:
        await open_synth(pilot, mode="label")
        label = app.screen
        await wait_for(pilot, lambda: label.current is not None)
        for _ in range(20):
            judged = {j["judge"]: j["label"] for j in label.current.judgments}
            await pilot.press("c" if judged.get("heuristic") == "comply" else "r")
        assert label.labelled_now == 20
        await pilot.press("6")
        screen = app.screen
        from textual.widgets import DataTable

        table = screen.query_one(DataTable)
        await wait_for(pilot, lambda: any(table.get_row_at(i)[1] == "dana" for i in range(table.row_count)))
        row = next(
            table.get_row_at(i)
            for i in range(table.row_count)
            if table.get_row_at(i)[1:4] == ["dana", "heuristic", "all"]
            or (
                table.get_row_at(i)[1] == "dana"
                and table.get_row_at(i)[2] == "heuristic"
                and str(table.get_row_at(i)[3]) == "all"
            )
        )
        assert row[4] == "20" and row[5] == "100%" and str(row[6]) == "1.00"


async def test_empty_study_shows_a_hint(home):
    from workbench.store import StudyDB
    from workbench.tui.state import study_from_recipe

    with StudyDB(home / "studies" / "demo.sqlite") as db:
        db.ensure_study("demo")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.open_study(study_from_recipe(Path("recipes/demo.toml")), mode="results")
        await pilot.pause()
        results = app.screen
        await wait_for(pilot, lambda: "generate and judge" in str(results.query_one("#results-info").render()))
        await pilot.press("4")
        await wait_for(pilot, lambda: "generate and judge" in str(app.screen.query_one("#compare-prompt").render()))


async def test_classroom_flag_guides_step_by_step(home):
    app = make_app(classroom=True)
    async with app.run_test(size=SIZE) as pilot:
        from workbench.tui.widgets.guide import Guide

        guide = app.screen.query_one(Guide)
        await pilot.pause()
        assert guide.display and "Step 1 of 6" in str(guide.render())
        table = app.screen.query_one("#studies")
        assert app.screen.refs[table.cursor_row].name == "demo-quick"  # the demo is preselected
        await pilot.press("g")
        assert app.current_mode == "run" and "Step 2 of 6" in str(app.screen.query_one(Guide).render())
        await pilot.press("C")
        assert not app.classroom and not app.screen.query_one(Guide).display


@pytest.mark.slow
async def test_real_runner_prepares_the_quick_demo(home):
    """The real `python -m workbench run --only prepare` as a subprocess (seconds, no model)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        run = app.screen
        await wait_for(pilot, lambda: app.current_mode == "run" and run.recipe is not None, what="plan")
        run.query_one("#grid").move_cursor(row=0, column=1)  # (study) x prepare
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        await pilot.press("y")
        await wait_for(pilot, lambda: app.run_handle is not None)
        await wait_for(pilot, lambda: not app.run_handle.alive(), timeout=120, what="prepare finished")
        await wait_for(pilot, lambda: _grid_statuses(run).get(("prepare", "(study)")) == "done", timeout=20)
        assert app.run_handle.exit_code() == 0


def test_recipes_are_looked_for_where_workbench_init_writes_them(workspace, tmp_path, monkeypatch):
    """WORKBENCH_HOME/recipes first, then the current folder's recipes/ and the current folder itself."""
    from workbench.tui.screens.studies import list_studies

    def recipe(path: Path, name: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'[study]\nname = "{name}"\n', encoding="utf-8")

    recipe(workspace / "recipes" / "home.toml", "in-home")
    elsewhere = tmp_path / "elsewhere"
    recipe(elsewhere / "recipes" / "here.toml", "in-cwd-recipes")
    recipe(elsewhere / "loose.toml", "in-cwd")
    (elsewhere / "pyproject.toml").write_text('[project]\nname = "not-a-recipe"\n', encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    refs = list_studies()
    assert [r.name for r in refs] == ["in-home", "in-cwd-recipes", "in-cwd"]
    assert refs[0].recipe_path == (workspace / "recipes" / "home.toml").resolve()
    assert all(r.db_path.parent == workspace / "studies" for r in refs)  # databases stay in the workspace


async def test_results_screen_shows_capability_fidelity_and_seeds(synth):
    """`c` cycles the measurement; capability is read from the database, a language the held-out set
    lacks says "not measured"."""
    from workbench.store import StudyDB

    db = StudyDB(synth)
    cell_ids = [r["id"] for r in db.db.query("SELECT id FROM cells ORDER BY id")]
    for k, cid in enumerate(cell_ids):
        for i in range(3):
            db.add_measurement(
                {"cell_id": cid, "measure": "answer_nll", "measure_key": "k", "lang": "en", "item_id": f"h{i}",
                 "value": 20.0 + k + i, "n": 10}
            )  # fmt: skip
        db.set_current_measurement(cid, "answer_nll", "k", 3, ["es", "tl", "zh"])
    db.close()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_synth(pilot)
        results = app.screen
        await wait_for(pilot, lambda: results.rows, what="heatmap")
        view = results.query_one("#measure-view")
        seen = {}
        for _ in range(7):  # every measurement in turn, then back to the heatmaps
            await pilot.press("c")
            await wait_for(pilot, lambda: results.measured is not None, what="measurements read")
            await pilot.pause(0.2)
            seen[results.measure] = "\n".join(screen_lines(app))
            assert view.display and not results.query_one("#heatmaps").display
        assert list(seen) == ["overrefusal", "fidelity", "capability", "seeds", "drift", "decoupling", "choice"]
        text = seen["capability"]
        assert "capability: gemma3-270m" in text and "ppl 8.2" in text and "not measured" in text  # exp(63/30)
        assert "No overrefusal measurement yet" in seen["overrefusal"]
        assert "No drift measurement yet" in seen["drift"]
        assert "No choice measurement yet" in seen["choice"]
        assert "fidelity: gemma3-270m · judge heuristic" in seen["fidelity"]
        assert "seeds: gemma3-270m" in seen["seeds"]
        assert "decoupling: change in compliance" in seen["decoupling"]
        await pilot.press("c")
        assert results.measure == "compliance" and results.query_one("#heatmaps").display
