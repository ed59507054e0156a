"""Fake stages with the real stages' names, scopes, needs and cells, for the TUI tests.

``tests/tui/fake_runner.py`` registers these in place of the real ones and runs the real runner, so
skipping finished units, ``--only``, ``--cells`` and the events are the runner's own. No model is
loaded: each step sleeps ``FAKE_RUNNER_STEP_S`` (default 0.01 s). ``prepare`` writes the cells and
six prompts per evaluation language, ``generate`` canned responses (the base complies less than
its fine-tunes) and records them as the cell's current generation, ``judge`` labels them like the
heuristic judge would and records the judgments as current.
"""

from __future__ import annotations

import os
import random
import time

from workbench.cells import Cell, cells, digest
from workbench.stages.base import Stage
from workbench.store import read

PROMPTS_PER_LANG = 6
TRAIN_STEPS = 8
JUDGE = "heuristic"
SETTINGS_KEY = "fake-settings"  # every cell generated alike: the base is comparable with its fine-tunes


def step() -> None:
    """One unit of fake work."""
    time.sleep(float(os.environ.get("FAKE_RUNNER_STEP_S", "0.01")))


class FakeStage(Stage):
    """Keyed by the stage, the cell's config and (for stages reading responses) what they read."""

    def input_key(self, ctx, cell: Cell | None) -> str:
        return digest({"fake": self.name, "cell": cell.config_hash if cell else None})


class Prepare(FakeStage):
    name = "prepare"
    scope = "study"
    auto = True

    def run(self, ctx, cell=None) -> dict:
        for c in cells(ctx.recipe):
            ctx.db.upsert_cell(ctx.study_id, c.as_row())
        langs = ctx.recipe.languages.evaluate
        prompts = [
            {
                "item_id": f"q{i:03d}",
                "lang": lang,
                "category": ("fraud", "privacy")[i % 2],
                "text": f"[{lang}] fake unsafe request {i}",
                "source": "fake",
            }
            for i in range(PROMPTS_PER_LANG)
            for lang in langs
        ]
        ctx.db.add_prompts(ctx.study_id, prompts)
        step()
        ctx.reporter(self.name, None).progress(len(prompts), len(prompts), what="prompts")
        ctx.log(f"prepared {PROMPTS_PER_LANG} prompts per language")
        return {"prompts": len(prompts)}


class Train(FakeStage):
    """Align and finetune alike: steps with a falling loss and a tokens/s rate."""

    def run(self, ctx, cell: Cell) -> dict:
        report = ctx.reporter(self.name, cell)
        for i in range(1, TRAIN_STEPS + 1):
            step()
            report.progress(
                i,
                TRAIN_STEPS,
                what="steps",
                rate=85.0 + i,
                rate_unit="tokens/s",
                elapsed=i * 0.01,
                eta=(TRAIN_STEPS - i) * 0.01,
                metrics={"loss": 2.5 / i + 0.3, "lr": 2e-4},
            )
        return {"steps": TRAIN_STEPS}


class Align(Train):
    name = "align"
    needs = ("prepare",)

    def applies_to(self, cell: Cell, recipe) -> bool:
        return cell.kind == "base" and next(m for m in recipe.models if m.name == cell.model).align


class Finetune(Train):
    name = "finetune"
    needs = ("prepare", "align")

    def applies_to(self, cell: Cell, recipe) -> bool:
        return cell.kind == "finetune"


class Export(FakeStage):
    name = "export"
    needs = ("prepare", "align", "finetune")
    runs_with_input = True  # as the real export: with its cell's fine-tune (or alignment) on a cluster

    def run(self, ctx, cell: Cell) -> dict:
        step()
        ctx.reporter(self.name, cell).progress(1, 1, what="files")
        return {"files": {}}


class Generate(FakeStage):
    name = "generate"
    needs = ("prepare", "translate", "export")

    def generation_key(self, cell: Cell) -> str:
        return digest({"fake-generation": cell.config_hash})

    def input_key(self, ctx, cell: Cell) -> str:
        return digest({"generation_key": self.generation_key(cell), "languages": ctx.recipe.languages.evaluate})

    def run(self, ctx, cell: Cell) -> dict:
        key = self.generation_key(cell)
        prompts = read.prompts(ctx.db, ctx.study_id)
        rng = random.Random(cell.id)
        report = ctx.reporter(self.name, cell)
        for i, p in enumerate(prompts, 1):
            comply = rng.random() < (0.2 if cell.kind == "base" else 0.5)
            text = "Sure, here is how: [fake]" if comply else "Sorry, I can't help with that."
            ctx.db.add_response(
                {
                    "prompt_id": p["id"],
                    "cell_id": cell.id,
                    "generation_key": key,
                    "text": f"{text} ({cell.id} {p['id']})",
                    "temperature": 0.0,
                    "top_p": 1.0,
                    "seed": 0,
                    "max_new_tokens": 64,
                    "params_json": {},
                    "prompt_tokens": 10,
                    "completion_tokens": 12,
                    "finish_reason": "stop",
                }
            )
            if i % 4 == 0 or i == len(prompts):
                step()
                report.progress(i, len(prompts), what="responses", rate=110.0, rate_unit="tokens/s")
        ctx.db.set_current_generation(cell.id, key, SETTINGS_KEY)
        return {"generation_key": key, "responses": len(prompts)}


class Judge(FakeStage):
    name = "judge"
    needs = ("generate", "backtranslate")

    def input_key(self, ctx, cell: Cell) -> str:
        gen = read.current_generation(ctx.db, cell.id)
        return digest({"generation_key": gen.generation_key if gen else None, "judge": JUDGE})

    def run(self, ctx, cell: Cell) -> dict:
        from workbench.errors import WorkbenchError

        gen = read.current_generation(ctx.db, cell.id)
        if gen is None:
            raise WorkbenchError(f"cell {cell.id}: nothing to judge (no complete generation)", "run generate first")
        rows = read.current_responses(ctx.db, cell.id)
        for r in rows:
            label = "comply" if r["text"].startswith("Sure") else "refuse"
            ctx.db.add_judgment({"response_id": r["id"], "judge": JUDGE, "judge_key": "fake", "label": label})
        step()
        ctx.reporter(self.name, cell).progress(len(rows), len(rows), what="judgments", part=JUDGE)
        ctx.db.set_current_judgments(cell.id, JUDGE, "fake", gen.generation_key, len(rows))
        return {JUDGE: len(rows)}


class Overrefusal(FakeStage):
    """Refuses half of four fake safe prompts in the base, three in a fine-tune (first language)."""

    name = "overrefusal"
    needs = ("prepare", "export")

    def run(self, ctx, cell: Cell) -> dict:
        lang = ctx.recipe.languages.evaluate[0]
        refused = 2 if cell.kind == "base" else 3
        for i in range(4):
            ctx.db.add_measurement(
                {"cell_id": cell.id, "measure": f"overrefusal:{JUDGE}", "measure_key": "fake", "lang": lang,
                 "item_id": f"x{i}", "value": 1.0 if i < refused else 0.0, "n": 1}
            )  # fmt: skip
        step()
        ctx.db.set_current_measurement(cell.id, f"overrefusal:{JUDGE}", "fake", 4, ctx.recipe.languages.evaluate[1:])
        return {"prompts": 4}


class Capability(FakeStage):
    """Scores each cell on four fake held-out items of the first evaluation language (the base best)."""

    name = "capability"
    needs = ("prepare", "export")

    def run(self, ctx, cell: Cell) -> dict:
        lang = ctx.recipe.languages.evaluate[0]
        for i in range(4):
            ctx.db.add_measurement(
                {"cell_id": cell.id, "measure": "answer_nll", "measure_key": "fake", "lang": lang,
                 "item_id": f"h{i}", "value": 20.0 + (0 if cell.kind == "base" else 2 + i), "n": 10}
            )  # fmt: skip
        step()
        ctx.db.set_current_measurement(cell.id, "answer_nll", "fake", 4, ctx.recipe.languages.evaluate[1:])
        return {"items": 4}


class Choice(FakeStage):
    """Answers four fake questions of the first evaluation language (the base three right, a fine-tune two)."""

    name = "choice"
    needs = ("prepare", "export")

    def run(self, ctx, cell: Cell) -> dict:
        lang = ctx.recipe.languages.evaluate[0]
        right = 3 if cell.kind == "base" else 2
        for i in range(4):
            ctx.db.add_measurement(
                {"cell_id": cell.id, "measure": "choice_correct", "measure_key": "fake", "lang": lang,
                 "item_id": f"c{i}", "value": 1.0 if i < right else 0.0, "n": 1}
            )  # fmt: skip
        step()
        ctx.db.set_current_measurement(cell.id, "choice_correct", "fake", 4, ctx.recipe.languages.evaluate[1:])
        return {"items": 4}


class Drift(FakeStage):
    """A fake cosine distance per prompt of every fine-tuned cell."""

    name = "drift"
    needs = ("prepare", "export")

    def applies_to(self, cell: Cell, recipe) -> bool:
        return cell.kind == "finetune"

    def run(self, ctx, cell: Cell) -> dict:
        for i, lang in enumerate(ctx.recipe.languages.evaluate):
            ctx.db.add_measurement(
                {"cell_id": cell.id, "measure": "drift_cosine", "measure_key": "fake", "lang": lang,
                 "item_id": "q000", "value": 0.01 * (i + 1), "n": 1}
            )  # fmt: skip
        step()
        ctx.db.set_current_measurement(cell.id, "drift_cosine", "fake", len(ctx.recipe.languages.evaluate), [])
        return {}


class Translate(FakeStage):
    """Nothing to translate (the fake recipes have every language); the real stage's units: none
    unless ``[translation] prompts``."""

    name = "translate"
    scope = "study"
    needs = ("prepare",)

    def units(self, recipe, cells):
        return [None] if recipe.translation.prompts else []

    def run(self, ctx, cell=None) -> dict:
        step()
        return {}


class Backtranslate(FakeStage):
    name = "backtranslate"
    needs = ("generate",)

    def applies_to(self, cell: Cell, recipe) -> bool:
        return recipe.backtranslates

    def run(self, ctx, cell: Cell) -> dict:
        step()
        return {}


class Results(FakeStage):
    name = "results"
    scope = "study"
    needs = ("judge",)

    def input_key(self, ctx, cell=None) -> str:
        return digest({"judgments": read.judgments_state(ctx.db, ctx.study_id)})

    def run(self, ctx, cell=None) -> dict:
        step()
        return {}


PREPARE, ALIGN, FINETUNE, EXPORT = Prepare(), Align(), Finetune(), Export()
GENERATE, JUDGE_STAGE, RESULTS = Generate(), Judge(), Results()
CAPABILITY, DRIFT, OVERREFUSAL = Capability(), Drift(), Overrefusal()
TRANSLATE, BACKTRANSLATE, CHOICE = Translate(), Backtranslate(), Choice()

# What the fake runner registers: every real stage's name -> its fake.
STAGES = {
    s.name: f"{__name__}:{attr}"
    for attr, s in {
        "PREPARE": PREPARE,
        "TRANSLATE": TRANSLATE,
        "ALIGN": ALIGN,
        "FINETUNE": FINETUNE,
        "EXPORT": EXPORT,
        "GENERATE": GENERATE,
        "BACKTRANSLATE": BACKTRANSLATE,
        "JUDGE_STAGE": JUDGE_STAGE,
        "OVERREFUSAL": OVERREFUSAL,
        "CAPABILITY": CAPABILITY,
        "CHOICE": CHOICE,
        "DRIFT": DRIFT,
        "RESULTS": RESULTS,
    }.items()
}
