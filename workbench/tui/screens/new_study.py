"""A new study from the template, as a form: models, languages, data, training and generation settings.

Every change is validated (debounced) by the same ``load_recipe`` the CLI uses, so the messages are
the CLI's, one line per problem. Save writes ``<name>.toml`` where ``workbench init`` would (the first
of :func:`workbench.paths.recipe_dirs`: ``WORKBENCH_HOME/recipes``, else ``./recipes``) and opens it.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

from workbench import paths

FIELDS = (
    # id, label, placeholder
    ("name", "study name", "my-study"),
    ("models", "models (embedded name, hub id or local path; comma-separated)", "gemma3-270m"),
    ("finetune", "fine-tune languages", "en, es"),
    ("evaluate", "evaluation languages", "en, es"),
    ("benign", "benign data (shipped:NAME, hub:OWNER/NAME or a file path)", "shipped:benign"),
    ("evaluation", "evaluation prompts (shipped:NAME, hub:OWNER/NAME or a file path)", "shipped:adversarial"),
    ("limit", "prompts per language (empty: all)", "20"),
    ("learning_rate", "learning rate", "2e-4"),
    ("epochs", "epochs (comma-separated: one cell per value)", "3"),
    ("seeds", "seeds (comma-separated)", "0"),
    ("batch_size", "batch size", "4"),
    ("max_new_tokens", "generation: max new tokens", "64"),
    ("temperature", "generation: temperature", "0.0"),
)


def _scalar(text: str):
    """A number when the text is one, else the text (validation then names the key and the value)."""
    text = text.strip()
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _list(text: str, numbers: bool = False) -> list:
    items = [t.strip() for t in text.split(",") if t.strip()]
    return [_scalar(t) for t in items] if numbers else items


def _source(text: str) -> dict:
    text = text.strip()
    if text.startswith("shipped:"):
        return {"shipped": text.removeprefix("shipped:")}
    if text.startswith("hub:"):
        return {"hub": text.removeprefix("hub:")}
    return {"path": text}


def _model(text: str) -> dict:
    from workbench.recipe.models import EMBEDDED_MODELS

    if text in EMBEDDED_MODELS:
        return {"name": text, "embedded": text, "align": True}
    name = re.sub(r"[^a-z0-9._-]+", "-", text.rstrip("/").split("/")[-1].lower()).strip("-") or "model"
    if Path(text).expanduser().exists() or text.startswith((".", "/", "~")):
        return {"name": name, "path": text}
    return {"name": name, "hub": text}


def recipe_from_form(values: dict[str, str], allow_downloads: bool) -> dict:
    """The recipe (as TOML data) for the form's values, over the template's defaults."""
    from workbench.recipe.templates import template_text

    data = tomllib.loads(template_text(values.get("name", "") or "new-study"))
    data["study"]["name"] = values["name"].strip()
    data["study"]["allow_downloads"] = allow_downloads
    data["models"] = [_model(m) for m in _list(values["models"])]
    data["languages"] = {"finetune": _list(values["finetune"]), "evaluate": _list(values["evaluate"])}
    evaluation = _source(values["evaluation"])
    if values["limit"].strip():
        evaluation["limit"] = _scalar(values["limit"])
    data["data"] = {"benign": _source(values["benign"]), "evaluation": evaluation}
    t = data["training"]
    t["learning_rate"] = _scalar(values["learning_rate"])
    t["epochs"] = _list(values["epochs"], numbers=True)
    t["seeds"] = _list(values["seeds"], numbers=True)
    t["batch_size"] = _scalar(values["batch_size"])
    data["generation"]["max_new_tokens"] = _scalar(values["max_new_tokens"])
    data["generation"]["temperature"] = _scalar(values["temperature"])
    return data


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def to_toml(data: dict, prefix: str = "") -> str:
    """A small TOML writer for recipe data: tables, arrays of tables, scalars and arrays of scalars."""
    lines: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict) and not _is_table_array(v)}
    for k, v in scalars.items():
        lines.append(f"{k} = {_toml_value(v)}")
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            lines.append(f"\n[{key}]")
            lines.append(to_toml(v, key + ".").strip("\n"))
        elif _is_table_array(v):
            for item in v:
                lines.append(f"\n[[{key}]]")
                lines.append(to_toml(item, key + ".").strip("\n"))
    return "\n".join(x for x in lines if x != "") + "\n"


def _is_table_array(v) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _shown(path: Path) -> str:
    """The path as a user in the workspace would type it (``recipes/x.toml``)."""
    try:
        return str(path.relative_to(paths.workspace()))
    except ValueError:
        return str(path)


def validate_text(text: str, target: Path) -> list[str]:
    """The CLI's problem lines for this recipe text if it were saved at ``target`` ([] when valid)."""
    from workbench.errors import RecipeError
    from workbench.recipe import load_recipe

    check = target.with_name(f".{target.stem}.tui-check.toml")
    check.parent.mkdir(parents=True, exist_ok=True)
    check.write_text(text, encoding="utf-8")
    try:
        load_recipe(check)
        return []
    except RecipeError as exc:
        hint = [f"hint: {exc.hint}"] if exc.hint else []
        return [p.replace(str(check), _shown(target)) for p in exc.problems] + hint
    finally:
        check.unlink(missing_ok=True)


class NewStudyScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def compose(self) -> ComposeResult:
        defaults = {f[0]: f[2] for f in FIELDS}
        with Vertical(id="new-study"):
            yield Label("[b]New study[/b] - from the template; every key is documented in docs/recipes.md")
            with Horizontal():
                with VerticalScroll(id="form"):
                    for fid, label, _ in FIELDS:
                        yield Label(label, classes="field-label")
                        yield Input(value=defaults[fid], id=f"f-{fid}")
                    yield Checkbox("allow downloads from the hub", id="f-downloads")
                with Vertical(id="form-right"):
                    yield Static("", id="problems", markup=False)
                    yield Static("", id="preview", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.problems: list[str] = ["checking…"]
        self._timer = None
        self.changed()

    def values(self) -> dict[str, str]:
        return {fid: self.query_one(f"#f-{fid}", Input).value for fid, _, _ in FIELDS}

    def target(self) -> Path:
        name = self.values()["name"].strip() or "new-study"
        return paths.recipe_dirs()[0] / f"{name}.toml"  # where `workbench init` writes

    def text(self) -> str:
        data = recipe_from_form(self.values(), self.query_one("#f-downloads", Checkbox).value)
        return "# Written by the workbench TUI from the template; see docs/recipes.md.\n" + to_toml(data)

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self._validate_now)

    def _validate_now(self) -> None:
        text = self.text()
        self.query_one("#preview", Static).update(text)
        self._validate(text, self.target())

    @work(thread=True, exclusive=True, group="validate")
    def _validate(self, text: str, target: Path) -> None:
        problems = validate_text(text, target)
        self.app.call_from_thread(self._show, problems)

    def _show(self, problems: list[str]) -> None:
        self.problems = problems
        widget = self.query_one("#problems", Static)
        if problems:
            widget.update("\n".join(p if p.startswith("hint:") else f"error: {p}" for p in problems))
            widget.set_class(True, "error")
        else:
            widget.update(f"valid: `workbench validate {_shown(self.target())}` would say ok")
            widget.set_class(False, "error")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        text = self.text()
        target = self.target()
        problems = validate_text(text, target)
        if problems:
            self._show(problems)
            self.notify("fix the problems listed first", severity="error")
            return
        if target.exists():
            self.notify(f"{target} already exists; pick another name", severity="error")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        self.notify(f"wrote {target}")
        self.dismiss(target)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
