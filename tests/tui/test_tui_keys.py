"""Keys: help for each screen (?), the palette's workbench commands, footers that fit at 120 columns, and run
keys that a stream of label keys can never fire."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Markdown
from tui_helpers import FAKE_RUNNER, open_synth, screen_lines, wait_for

from workbench import runlock
from workbench.tui.app import make_app
from workbench.tui.screens.help import HelpScreen, help_markdown
from workbench.tui.screens.modals import ConfirmScreen
from workbench.tui.widgets.screen_bar import SCREENS

pytestmark = pytest.mark.anyio
MODES = [mode for mode, _ in SCREENS]
NARROW = (120, 40)


async def _show(pilot, mode: str) -> None:
    await pilot.app.switch_mode(mode)
    await pilot.pause(0.3)


async def test_question_mark_opens_the_help_of_the_screen_you_are_on(synth):
    app = make_app()
    app.annotator = "alice"
    async with app.run_test(size=NARROW) as pilot:
        await open_synth(pilot, mode="run")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        page = app.screen.page
        assert "Rows are **cells**" in page and "- `a` Run all" in page and "- `x` Stop" in page
        assert "- `?` Help" in page and "- `1` Studies" in page and "- `^p` command palette" in page
        assert app.screen.query_one(Markdown)
        await pilot.press("escape")
        assert type(app.screen).__name__ == "RunScreen"
        # every screen has its own page, naming every key it answers to (shown in the footer or not)
        for mode in MODES:
            await _show(pilot, mode)
            screen = app.screen
            page = help_markdown(screen)
            assert screen.HELP and screen.HELP.strip().splitlines()[0] in page, mode
            for b in type(screen).BINDINGS:
                assert f"{app.get_key_display(b)}` {b.description}" in page, (mode, b.key)
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what=f"help on {mode}")
            assert app.screen.about is screen
            await pilot.press("question_mark")  # ? closes it again
            await wait_for(pilot, lambda shown=screen: app.screen is shown, what="closed")


async def test_the_palette_lists_the_workbenchs_own_commands(synth):
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await open_synth(pilot, mode="run")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        listed = app.screen.query_one(CommandList)
        await wait_for(pilot, lambda: listed.option_count > 10, what="commands")
        titles = {str(listed.get_option_at_index(i).prompt).split("\n")[0] for i in range(listed.option_count)}
        assert {
            "Open study synth",
            "Run the whole study",
            "Stop the run",
            "Write the report (results stage)",
            "Classroom mode on",
            "Help for this screen",
        } <= titles
        assert {f"Switch to {name}" for _, name in SCREENS} <= titles
        assert "Theme" in titles  # Textual's own commands stay
        # A command runs the action its key runs.
        await pilot.press(*"classroom", "enter")
        await wait_for(pilot, lambda: app.classroom, what="classroom on")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"switch to compare", "enter")
        await wait_for(pilot, lambda: app.current_mode == "compare", what="compare")
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")
        await pilot.press(*"write the report", "enter")  # a run: it asks first, like the key
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirmation")
        assert app.screen.heading == "Run stage results for every cell?"
        await pilot.press("escape")


async def _footer_shows_every_key(pilot) -> None:
    app = pilot.app
    screen = app.screen
    shown = [ab.binding for ab in screen.active_bindings.values() if ab.binding.show]
    assert shown, screen
    wanted = [f"{app.get_key_display(b)} {b.description}" for b in shown]

    def drawn() -> list[str]:
        return screen_lines(app)

    # The footer redraws itself after a change of screen or focus: let it, then read what is drawn.
    await wait_for(pilot, lambda: wanted[0] in drawn()[-1], timeout=5, what=f"footer of {type(screen).__name__}")
    lines = drawn()
    footer, top = lines[-1], lines[0]
    for text in wanted:
        assert text in footer, (type(screen).__name__, text, footer)
    assert footer.rstrip().endswith("^p palette"), footer
    for key, (_, name) in enumerate(SCREENS, 1):  # the screens' keys are on the top line instead
        assert f"{key} {name}" in top, top


async def test_every_footer_shows_all_its_keys_at_120_columns(synth):
    app = make_app()
    app.annotator = "alice"
    async with app.run_test(size=NARROW) as pilot:
        await open_synth(pilot, mode="run")
        for mode in MODES:
            await _show(pilot, mode)
            await _footer_shows_every_key(pilot)
        await _show(pilot, "results")
        await wait_for(pilot, lambda: app.screen.rows, what="heatmap")
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ResponsesScreen", what="responses")
        await pilot.pause(0.3)
        await _footer_shows_every_key(pilot)
        app.classroom = True  # the roomier classroom layout keeps the same footer
        await _show(pilot, "compare")
        await _footer_shows_every_key(pilot)


async def test_label_keys_pressed_on_the_run_screen_start_nothing(home):
    app = make_app(runner=FAKE_RUNNER)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.current_mode == "run" and app.screen.recipe is not None, what="plan")
        # A labeller who thinks they are on the label screen: c opens a question, not a run...
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        # ...and no label key answers it; enter (on the focused Cancel) says no.
        await pilot.press(*"crpusazvlo")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="closed")
        # A whole stream of label keys, fast: at most questions (which they cannot answer), never a run.
        await pilot.press(*"crpusazvlonrcpusrc")
        await pilot.pause(1.0)
        while isinstance(app.screen, ConfirmScreen):
            await pilot.press("escape")
        assert app.run_handle is None and runlock.holder("demo-quick") is None
        assert not list(runlock.runs_dir("demo-quick").glob("*.stdout.log"))
