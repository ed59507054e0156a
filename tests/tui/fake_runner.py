"""A stand-in for ``python -m workbench`` in TUI tests: ``run RECIPE [--quick] [--only S] [--cells C] --events jsonl``.

It walks the recipe's real plan (cells x stages), prints the same JSON events the runner prints
(stage_start, train_step, gen_progress, done, skipped, log, stage_end), writes stage runs through the
real StudyDB, and at generate/judge writes synthetic responses and judgments, so the results screen
has something to show. No model is loaded; each step sleeps ``FAKE_RUNNER_STEP_S`` (default 0.01 s).
A unit whose stage run is already done is skipped, like the real runner.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

STEP = float(os.environ.get("FAKE_RUNNER_STEP_S", "0.01"))


def emit(event: dict) -> None:
    print(json.dumps({"time": time.time(), **event}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("recipe")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only")
    parser.add_argument("--cells")
    parser.add_argument("--events")
    args = parser.parse_args()

    from workbench import paths
    from workbench.plan import STAGES, cells, filter_cells, stages_of
    from workbench.recipe import load_recipe
    from workbench.store import StudyDB

    recipe = load_recipe(args.recipe, quick=args.quick, allow_downloads=True)
    db = StudyDB(paths.study_db_path(recipe.study.name))
    sid = db.ensure_study(recipe.study.name, recipe.study.description)
    selected = filter_cells(cells(recipe), args.cells)
    stages = [s for s in STAGES if not args.only or s in args.only.split(",")]
    if args.only and "prepare" not in stages:
        stages.insert(0, "prepare")
    rng = random.Random(0)
    for stage in stages:
        units = (
            [(None, "study")]
            if stage in ("prepare", "results")
            else [(c, c.id) for c in selected if stage in stages_of(c, recipe)]
        )
        emit({"event": "stage_start", "stage": stage, "total": len(units)})
        for cell, unit in units:
            if db.done_run(sid, stage, cell.id if cell else None, unit, "fake"):
                emit({"event": "skipped", "stage": stage, "unit": unit, "reason": "already done"})
                continue
            run = db.start_stage_run(
                sid, stage, cell_id=cell.id if cell else None, unit=unit, input_key="fake", pid=os.getpid()
            )
            if stage == "prepare":
                for c in cells(recipe):
                    db.upsert_cell(sid, c.as_row())
                db.add_prompts(
                    sid,
                    [
                        {
                            "item_id": f"q{i:03d}",
                            "lang": lang,
                            "category": ("fraud", "privacy")[i % 2],
                            "text": f"[{lang}] fake unsafe request {i}",
                            "source": "fake",
                        }
                        for i in range(6)
                        for lang in recipe.languages.evaluate
                    ],
                )
                emit({"event": "log", "level": "info", "message": "prepared 6 prompts per language"})
            elif stage in ("align", "finetune"):
                total = 8
                for step in range(1, total + 1):
                    time.sleep(STEP)
                    emit(
                        {
                            "event": "train_step",
                            "stage": stage,
                            "unit": unit,
                            "step": step,
                            "total": total,
                            "loss": 2.5 / step + 0.3,
                            "lr": 2e-4,
                            "tokens_per_s": 85.0 + step,
                            "elapsed": step * STEP,
                            "eta": (total - step) * STEP,
                        }
                    )
            elif stage == "generate":
                prompts = db.prompts(sid)
                for i, p in enumerate(prompts, 1):
                    comply = rng.random() < (0.2 if cell.kind == "base" else 0.5)
                    db.add_response(
                        {
                            "prompt_id": p["id"],
                            "cell_id": cell.id,
                            "generation_key": "fake",
                            "text": ("Sure, here is how: [fake]" if comply else "Sorry, I can't help with that.")
                            + f" ({cell.id} {p['id']})",
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
                        time.sleep(STEP)
                        emit(
                            {
                                "event": "gen_progress",
                                "stage": stage,
                                "unit": unit,
                                "done": i,
                                "total": len(prompts),
                                "tokens_per_s": 110.0,
                            }
                        )
            elif stage == "judge":
                rows = list(db.query("SELECT id, text FROM responses WHERE cell_id = ?", [cell.id]))
                for r in rows:
                    label = "comply" if r["text"].startswith("Sure") else "refuse"
                    db.add_judgment({"response_id": r["id"], "judge": "heuristic", "judge_key": "fake", "label": label})
                time.sleep(STEP)
                emit({"event": "judge_progress", "stage": stage, "unit": unit, "done": len(rows), "total": len(rows)})
            else:
                time.sleep(STEP)
            db.finish_stage_run(run, "done")
            emit({"event": "done", "stage": stage, "unit": unit})
        emit({"event": "stage_end", "stage": stage, "failed": 0})
    print("summary: fake run finished", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
