"""Studies: the recipes (and their quick profiles) and the study databases; open or create one.

Recipes are looked for where ``workbench init`` writes them (:func:`workbench.paths.recipe_dirs`:
``WORKBENCH_HOME/recipes``, then the current folder's ``recipes/`` and the current folder itself).
The list is drawn from file names and a TOML peek (fast, for the first frame); validation and
database counts fill in from a worker thread.
"""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from workbench import paths
from workbench.tui.screens.base import WorkbenchScreen
from workbench.tui.state import StudyRef, has_quick_profile, study_from_db, study_from_recipe


def recipe_files() -> list[Path]:
    """The recipe files to list, folder by folder in :func:`workbench.paths.recipe_dirs` order."""
    found: list[Path] = []
    for folder in paths.recipe_dirs():
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else ():
            if path.resolve() not in found:
                found.append(path.resolve())
    return found


def list_studies() -> list[StudyRef]:
    """Recipes (each quick profile as its own study), then databases no recipe here names.

    A TOML file without a ``[study]`` name (``pyproject.toml`` in the current folder) is not a recipe.
    """
    refs: list[StudyRef] = []
    for path in recipe_files():
        for quick in (False, True) if has_quick_profile(path) else (False,):
            ref = study_from_recipe(path, quick)
            if ref is not None and ref not in refs:
                refs.append(ref)
    named = {r.name for r in refs}
    studies = paths.workspace() / "studies"
    if studies.is_dir():
        refs += [study_from_db(p) for p in sorted(studies.glob("*.sqlite")) if p.stem not in named]
    return refs


class StudiesScreen(WorkbenchScreen):
    MODE = "studies"
    TITLE_TEXT = "Studies"
    NEEDS_STUDY = False
    HELP = """
Every **recipe** (a study's plan, a TOML file) and every **study database** (`studies/*.sqlite`)
that no recipe names. A recipe with a `[quick]` table is listed twice: the full study and its quick
profile, a study of its own. Recipes are read from `WORKBENCH_HOME/recipes`, then the current
folder's `recipes/` and the current folder itself, where `workbench init` writes them.

Each line is validated in the background; the right pane shows the CLI's own messages for an
invalid recipe and the database's counts for a valid one. Enter opens the study (a recipe on Plan
& run, a bare database on Results); `n` writes a new recipe from the template with a form.
"""
    BINDINGS = [
        Binding("enter", "open", "Open", priority=False),
        Binding("n", "new", "New study"),
        Binding("r", "refresh", "Refresh"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="studies-body"):
            with Vertical(id="studies-left"):
                yield DataTable(id="studies", cursor_type="row", zebra_stripes=True)
            with Vertical(id="studies-right"):
                yield Static("", id="study-details", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        table = self.query_one("#studies", DataTable)
        table.add_column("study", key="study")
        table.add_column("recipe", key="recipe")
        table.add_column("state", key="state")
        self.action_refresh()

    def action_refresh(self) -> None:
        self.refs = list_studies()
        self.details: dict[str, str] = {}
        table = self.query_one("#studies", DataTable)
        table.clear()
        for i, ref in enumerate(self.refs):
            recipe = "—" if ref.recipe_path is None else ref.recipe_path.name + (" --quick" if ref.quick else "")
            table.add_row(ref.name, recipe, "…", key=str(i))
        if self.app.classroom:
            for i, ref in enumerate(self.refs):
                if ref.name == "demo-quick":
                    table.move_cursor(row=i)
        if not self.refs:
            where = " or ".join(_short(d) for d in paths.recipe_dirs()[:2])
            self.query_one("#study-details", Static).update(
                f"No recipes in {where} and no study databases yet. Press n to write one "
                "(or run `workbench init NAME`)."
            )
        self._inspect(self.refs)

    @work(thread=True, exclusive=True, group="inspect")
    def _inspect(self, refs: list[StudyRef]) -> None:
        for i, ref in enumerate(refs):
            state, detail = inspect_study(ref)
            self.app.call_from_thread(self._set_state, i, ref, state, detail)

    def _set_state(self, i: int, ref: StudyRef, state: str, detail: str) -> None:
        if i >= len(self.refs) or self.refs[i] != ref:
            return
        self.details[str(i)] = detail
        self.query_one("#studies", DataTable).update_cell(str(i), "state", state)
        self._show_details()

    @on(DataTable.RowHighlighted, "#studies")
    def _show_details(self) -> None:
        table = self.query_one("#studies", DataTable)
        if not self.refs or table.cursor_row >= len(self.refs):
            return
        ref = self.refs[table.cursor_row]
        lines = [ref.label, f"database: {_short(ref.db_path)}"]
        if ref.recipe_path:
            lines.append(f"recipe: {_short(ref.recipe_path)}")
        lines.append("")
        lines.append(self.details.get(str(table.cursor_row), "checking…"))
        self.query_one("#study-details", Static).update("\n".join(lines))

    @on(DataTable.RowSelected, "#studies")
    def action_open(self) -> None:
        table = self.query_one("#studies", DataTable)
        if self.refs and table.cursor_row < len(self.refs):
            self.app.open_study(self.refs[table.cursor_row])

    def action_new(self) -> None:
        from workbench.tui.screens.new_study import NewStudyScreen

        def opened(path: Path | None) -> None:
            if path is not None:
                self.action_refresh()
                ref = study_from_recipe(path)
                if ref is not None:
                    self.app.open_study(ref)

        self.app.push_screen(NewStudyScreen(), opened)


def _short(path: Path) -> str:
    """A path relative to the workspace when it lies inside it."""
    try:
        return str(path.relative_to(paths.workspace()))
    except ValueError:
        return str(path)


def inspect_study(ref: StudyRef) -> tuple[str, str]:
    """(short state for the table, longer text for the details pane)."""
    from workbench.store import read
    from workbench.store.browse import study_summary

    lines, state = [], ""
    if ref.recipe_path is not None:
        from workbench.errors import RecipeError
        from workbench.recipe import load_recipe

        try:
            r = load_recipe(ref.recipe_path, quick=ref.quick, allow_downloads=True)
            lines.append(
                f"valid recipe: {len(r.models)} model(s); fine-tune {', '.join(r.languages.finetune)}; "
                f"evaluate {', '.join(r.languages.evaluate)}"
            )
            state = "valid"
        except RecipeError as exc:
            lines += [f"error: {p}" for p in exc.problems]
            if exc.hint:
                lines.append(f"hint: {exc.hint}")
            return f"{len(exc.problems)} problem(s)", "\n".join(lines)
    if ref.db_path.is_file():
        db = read.ReadDB(ref.db_path)
        sid = read.study_id(db, ref.name, fallback=True) if db.has_tables() else None
        if sid is None and _older_schema(db):
            lines.append("database: written by an older workbench; opening its plan (2) updates it")
        elif sid is None:
            lines.append("database: empty")
        else:
            s = study_summary(db, sid)
            lines.append(
                f"database: {s['cells']} cells, {s['prompts']} prompts, {s['responses']} responses, "
                f"{s['labels']} human labels"
            )
            state = (state + " · " if state else "") + f"{s['responses']:,} responses"
        db.conn.close()
    else:
        lines.append("no database yet: open it and run the plan")
        state = (state + " · " if state else "") + "not run"
    return state, "\n".join(lines)


def _older_schema(db) -> bool:
    """A study database from before the current-keys tables (the read layer cannot read it yet)."""
    import sqlite3

    from workbench.store import read

    try:
        return bool(read.scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'studies'"))
    except sqlite3.Error:
        return False
