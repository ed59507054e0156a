"""A new study from the template, as a form: models, languages, data, every training key (backend,
4-bit, LoRA, sequence length, accumulation), export quantizations, generation and judges.

Defaults fit the models' size (the template's rules, :func:`model_defaults`); each field has one line
of help. Every change is validated (debounced, off the UI thread) by the same ``load_recipe`` the CLI
uses, so the messages are the CLI's, one line per problem; a valid form shows the plan's estimate for
the chosen GPU class, with a warning where a stage exceeds it. Save writes ``<name>.toml`` where
``workbench init`` would (the first of :func:`workbench.paths.recipe_dirs`: ``WORKBENCH_HOME/recipes``,
else ``./recipes``) and opens it.
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
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from workbench import paths
from workbench.tui.widgets.study_estimate import StudyEstimate, gpu_choices, machine_for

# id, label, default (the embedded model's; :func:`model_defaults` fits them to the models), one-line help
FIELDS = (
    ("name", "study name", "my-study", "the recipe's file name: lowercase letters, digits, . _ -"),
    (
        "models",
        "models",
        "gemma3-270m",
        "embedded name, hub id or path (comma-separated); sets defaults",
    ),
    ("finetune", "fine-tune languages", "en, es", "one fine-tune cell per language, seed and epoch count"),
    ("evaluate", "evaluation languages", "en, es", "every model answers every evaluation prompt in each"),
    ("benign", "benign data", "shipped:benign", "shipped:NAME, hub:OWNER/NAME or a file path"),
    ("examples", "examples per language", "", "benign examples each fine-tune reads (empty: all)"),
    ("evaluation", "evaluation prompts", "shipped:adversarial", "shipped:NAME, hub:OWNER/NAME or a file path"),
    ("limit", "prompts per language", "20", "evaluation prompts per language (empty: all)"),
    ("backend", "training backend", "auto", "auto: Unsloth on a CUDA GPU, else peft"),
    ("load_in_4bit", "4-bit base weights", "auto", "auto: 4-bit (QLoRA) on a CUDA GPU only; false: 16/32-bit"),
    ("learning_rate", "learning rate", "2e-4", "the study used 5e-5; the 270M demo moves too little at 5e-5"),
    ("epochs", "epochs", "3", "comma-separated: one cell per value"),
    ("seeds", "seeds", "0", "comma-separated: one cell per seed"),
    ("batch_size", "batch size", "4", "examples per step; lower it when memory runs out"),
    ("gradient_accumulation", "gradient accumulation", "1", "steps summed per update: batch x this = effective batch"),
    ("max_seq_length", "max sequence length", "256", "tokens per training example (longer ones are cut)"),
    ("lora_r", "LoRA rank", "16", "adapter rank r: more capacity, more adapter memory"),
    ("lora_alpha", "LoRA alpha", "32", "adapter scale; usually 2 x rank"),
    ("lora_dropout", "LoRA dropout", "0.0", "0 to <1; 0.05 is common for 1B+ models"),
    ("lora_targets", "LoRA target modules", "all-linear", "all-linear, or names such as q_proj, v_proj"),
    ("quantizations", "export quantizations", "q8_0", "GGUF types, comma-separated; the first one answers"),
    ("max_new_tokens", "generation: max new tokens", "64", "longest response; sets generation time and KV cache"),
    ("temperature", "generation: temperature", "0.0", "0 is greedy (the study's setting)"),
    ("judges", "judges", "heuristic", "heuristic, or PRESET:MODEL.gguf (e.g. sorry-bench:judge.gguf)"),
)
SELECTS = {  # fields chosen from a list: id -> options
    "backend": ("auto", "unsloth", "peft"),
    "load_in_4bit": ("auto", "true", "false"),
}
GPU_HELP = "the card the estimate is for, by its memory, or this machine"


def _params(models: str) -> list[float | None]:
    from workbench.estimates import model_params
    from workbench.recipe.models import ModelSpec

    out = []
    for text in _list(models):
        try:
            out.append(model_params(ModelSpec(**_model(text))))
        except ValueError:
            out.append(None)
    return out


def model_defaults(models: str) -> dict[str, str]:
    """The fields' defaults for these models: the template's rules for the first model (``workbench init
    --model``: the embedded model 2e-4 and q8_0, a hub model 5e-5 and q4_k_m), fitted to the largest one's
    size (batch, 4-bit, sequence length) and the GPU class it fits."""
    from workbench.recipe.templates import template_text

    first = (_list(models) or ["gemma3-270m"])[0]
    embedded = "embedded" in _model(first)
    t = tomllib.loads(template_text("x", "embedded" if embedded else first))
    out = {f[0]: f[2] for f in FIELDS}
    out["learning_rate"] = repr(t["training"]["learning_rate"])
    out["quantizations"] = ", ".join(t["export"]["quantizations"])
    params = max((p or 0 for p in _params(models)), default=0)
    out["gpu"] = "cpu" if embedded and params < 1e9 else ("48GB" if params > 14e9 else "24GB")
    if not embedded or params >= 1e9:
        out.update(max_seq_length="512", lora_dropout="0.05", batch_size="8", gradient_accumulation="2")
        if params > 4.5e9:  # 7B-8B: half the batch, the same effective batch
            out.update(batch_size="4", gradient_accumulation="4")
        if params > 8.5e9:  # past 8B only 4-bit fits a 24 GB card
            out.update(load_in_4bit="true", batch_size="2", gradient_accumulation="8")
    return out


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


def _judge(text: str) -> dict:
    preset, sep, model = text.partition(":")
    if not sep:
        return {"name": text, "kind": text}
    return {"name": preset, "kind": "llm", "preset": preset, "model": model.strip()}


def _bool_or_auto(text: str):
    return {"true": True, "false": False}.get(text.strip().lower(), text.strip())


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
    t["backend"] = values["backend"].strip()
    t["load_in_4bit"] = _bool_or_auto(values["load_in_4bit"])
    for key in ("learning_rate", "batch_size", "gradient_accumulation", "max_seq_length"):
        t[key] = _scalar(values[key])
    t["epochs"] = _list(values["epochs"], numbers=True)
    t["seeds"] = _list(values["seeds"], numbers=True)
    if values["examples"].strip():
        t["examples_per_language"] = _scalar(values["examples"])
    targets = values["lora_targets"].strip()
    t["lora"] = {
        "r": _scalar(values["lora_r"]),
        "alpha": _scalar(values["lora_alpha"]),
        "dropout": _scalar(values["lora_dropout"]),
        "target_modules": targets if targets == "all-linear" else _list(targets),
    }
    data["export"]["quantizations"] = _list(values["quantizations"])
    data["generation"]["max_new_tokens"] = _scalar(values["max_new_tokens"])
    data["generation"]["temperature"] = _scalar(values["temperature"])
    data["judges"] = [_judge(j) for j in _list(values["judges"])]
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


def check_text(text: str, target: Path):
    """(the CLI's problem lines for this recipe text if it were saved at ``target``, the recipe when valid)."""
    from workbench.errors import RecipeError
    from workbench.recipe import load_recipe

    check = target.with_name(f".{target.stem}.tui-check.toml")
    check.parent.mkdir(parents=True, exist_ok=True)
    check.write_text(text, encoding="utf-8")
    try:
        return [], load_recipe(check)
    except RecipeError as exc:
        hint = [f"hint: {exc.hint}"] if exc.hint else []
        return [p.replace(str(check), _shown(target)) for p in exc.problems] + hint, None
    finally:
        check.unlink(missing_ok=True)


def validate_text(text: str, target: Path) -> list[str]:
    """The CLI's problem lines for this recipe text if it were saved at ``target`` ([] when valid)."""
    return check_text(text, target)[0]


class NewStudyScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", "Save")]

    def compose(self) -> ComposeResult:
        defaults = model_defaults(FIELDS[1][2])
        with Vertical(id="new-study"):
            yield Label("[b]New study[/b] - from the template; every key is documented in docs/recipes.md")
            with Horizontal():
                with VerticalScroll(id="form"):
                    yield Label("GPU class (for the estimate)", classes="field-label")
                    yield Static(GPU_HELP, classes="field-help", markup=False)
                    yield Select(gpu_choices(), value=defaults["gpu"], allow_blank=False, id="f-gpu")
                    for fid, label, _, help_text in FIELDS:
                        yield Label(label, classes="field-label")
                        yield Static(help_text, classes="field-help", markup=False)
                        if fid in SELECTS:
                            options = [(o, o) for o in SELECTS[fid]]
                            yield Select(options, value=defaults[fid], allow_blank=False, id=f"f-{fid}")
                        else:
                            yield Input(value=defaults[fid], id=f"f-{fid}")
                    yield Checkbox("allow downloads from the hub", id="f-downloads")
                with Vertical(id="form-right"):
                    yield Static("", id="problems", markup=False)
                    yield StudyEstimate("estimating…", id="estimate", markup=False)
                    yield Static("", id="preview", markup=False)
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.problems: list[str] = ["checking…"]
        self.estimate_text = ""
        self.warnings: list[str] = []
        self.checked = 0  # checks shown so far (tests wait on it)
        self._timer = None
        self._defaults = model_defaults(FIELDS[1][2])  # what the fields were last set to by the models
        self._models = FIELDS[1][2]
        self.changed()

    def _field(self, fid: str):
        return self.query_one(f"#f-{fid}")

    def values(self) -> dict[str, str]:
        return {fid: str(self._field(fid).value) for fid, *_ in FIELDS}

    def gpu(self) -> str:
        return str(self._field("gpu").value)

    def target(self) -> Path:
        name = self.values()["name"].strip() or "new-study"
        return paths.recipe_dirs()[0] / f"{name}.toml"  # where `workbench init` writes

    def text(self) -> str:
        data = recipe_from_form(self.values(), self.query_one("#f-downloads", Checkbox).value)
        return "# Written by the workbench TUI from the template; see docs/recipes.md.\n" + to_toml(data)

    def _refit(self) -> None:
        """New models: fields still at the old models' defaults take the new models' (edited ones stay)."""
        models = str(self._field("models").value)
        if models == self._models:
            return
        new = model_defaults(models)
        for fid, value in new.items():
            widget = self._field(fid)
            if fid != "models" and str(widget.value) == self._defaults.get(fid) and value != self._defaults.get(fid):
                widget.value = value
        self._defaults, self._models = new, models

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    def changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.3, self._validate_now)

    def _validate_now(self) -> None:
        self._refit()
        text = self.text()
        self.query_one("#preview", Static).update(text)
        self._validate(text, self.target(), self.gpu())

    @work(thread=True, exclusive=True, group="validate")
    def _validate(self, text: str, target: Path, gpu: str) -> None:
        problems, recipe = check_text(text, target)
        plan = None
        if recipe is not None:  # the plan's own estimate, off the UI thread (it reads data and the disk)
            from workbench.plan import plan_estimate

            try:
                plan = plan_estimate(recipe, machine_for(gpu, paths.study_models_dir(recipe.study.name)))
            except Exception as exc:  # an estimate that cannot be made must not break the form
                problems = [f"estimate: {exc}"]
        self.app.call_from_thread(self._show, problems, plan)

    def _show(self, problems: list[str], plan=None) -> None:
        self.problems = problems
        widget = self.query_one("#problems", Static)
        estimate = self.query_one("#estimate", StudyEstimate)
        if problems:
            widget.update("\n".join(p if p.startswith("hint:") else f"error: {p}" for p in problems))
            widget.set_class(True, "error")
            estimate.show_text("estimate: fix the problems first")
        else:
            widget.update(f"valid: `workbench validate {_shown(self.target())}` would say ok")
            widget.set_class(False, "error")
            if plan is not None:
                estimate.show_plan(plan)
        self.estimate_text = estimate.shown
        self.checked += 1
        self.warnings = list(estimate.warnings)

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
