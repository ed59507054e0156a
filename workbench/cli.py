"""The ``workbench`` command: a thin shell over the core.

Every command turns a :class:`~workbench.errors.WorkbenchError` into one line on stderr (plus a hint)
and a non-zero exit, never a traceback. Only light modules are imported at start-up; stages import
their heavy libraries when they run.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from workbench import __version__
from workbench.errors import RecipeError, UsageError, WorkbenchError

app = typer.Typer(
    name="workbench",
    help="Fine-tune small chat models on benign data, one language at a time, and measure how their "
    "safety moves in every evaluation language.",
    no_args_is_help=True,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

RecipeArg = Annotated[
    Path, typer.Argument(help="A study recipe (TOML), e.g. recipes/demo.toml.", readable=False, metavar="RECIPE")
]  # readability: our own error
QuickOpt = Annotated[bool, typer.Option("--quick", help="Use the recipe's [quick] profile (smaller, faster).")]
EventsOpt = Annotated[str | None, typer.Option("--events", help="Print progress events as 'jsonl' on stdout.")]
ExecutorOpt = Annotated[
    str | None,
    typer.Option(
        "--executor", help="Where cell units run: local (default), ray (RAY_ADDRESS or a local cluster) or slurm."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="ray: CPUs of a local cluster; plan: the GPUs (workers) to plan for."),
]
DownloadsOpt = Annotated[
    bool, typer.Option("--allow-downloads", help="Allow downloading the hub resources the recipe names.")
]


def _fail(exc: WorkbenchError) -> None:
    err = sys.stderr
    if isinstance(exc, RecipeError):
        for problem in exc.problems:
            print(f"error: {problem}", file=err)
    else:
        print(f"error: {exc.message}", file=err)
    if exc.hint:
        print(f"hint: {exc.hint}", file=err)
    raise typer.Exit(exc.exit_code)


def friendly(func):
    """Turn WorkbenchError, OS and database errors (and Ctrl-C) into a clean message and exit code."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import sqlite3

        try:
            return func(*args, **kwargs)
        except WorkbenchError as exc:
            _fail(exc)
        except KeyboardInterrupt:
            print("interrupted; rerun the same command to continue where it stopped", file=sys.stderr)
            raise typer.Exit(130) from None
        except BrokenPipeError:  # `workbench results | head`: the reader left; not an error of ours
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(1) from None
        except OSError as exc:
            from workbench.errors import from_os_error

            _fail(from_os_error(exc))
        except sqlite3.Error as exc:
            from workbench.errors import from_sqlite_error
            from workbench.store.read import last_opened

            _fail(from_sqlite_error(exc, last_opened()))
        except UnicodeDecodeError as exc:
            _fail(
                WorkbenchError(
                    f"input is not UTF-8 text (byte {exc.start}: {exc.reason})",
                    "re-save the file as UTF-8 and rerun",
                )
            )

    return wrapper


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    from workbench.errors import UsageError

    if fmt not in allowed:
        raise UsageError(f"--format: unknown format {fmt!r}", f"use {', '.join(allowed[:-1])} or {allowed[-1]}")


def _load(recipe: Path, quick: bool = False, allow_downloads: bool = False):
    from workbench import paths
    from workbench.recipe import load_recipe

    home = paths.workspace()
    if home.exists() and not home.is_dir():
        raise WorkbenchError(
            f"WORKBENCH_HOME={home}: is a file, not a folder",
            "point WORKBENCH_HOME at a folder (it holds studies/ and models/), or unset it",
        )

    return load_recipe(recipe, quick=quick, allow_downloads=allow_downloads)


def _version(value: bool) -> None:
    if value:
        print(f"workbench {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = None,
) -> None:
    """Fine-tune small chat models on benign data and measure their safety in every language."""


@app.command()
@friendly
def validate(
    recipe: RecipeArg,
    quick: QuickOpt = False,
    allow_downloads: DownloadsOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Check a recipe, its data and its models: one line per problem, exit code 2 when any is found."""
    _check_format(fmt, ("table", "json"))
    from workbench import preflight
    from workbench.cells import cells
    from workbench.errors import RecipeError
    from workbench.judges import coverage
    from workbench.plan import context_problems, context_warnings

    try:
        r = _load(recipe, quick, allow_downloads)
    except RecipeError as exc:
        if fmt != "json":
            raise
        out = {"recipe": str(recipe), "ok": False, "problems": exc.problems, "hint": exc.hint, "warnings": []}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        raise typer.Exit(exc.exit_code) from None
    problems = preflight.problems(r) + context_problems(r)
    warnings = preflight.warnings(r) + context_warnings(r) + coverage.warnings(r)
    n = len(cells(r))
    if fmt == "json":
        print(
            json.dumps(
                {
                    "recipe": str(recipe),
                    "ok": not problems,
                    "study": r.study.name,
                    "models": [m.name for m in r.models],
                    "cells": n,
                    "finetune": r.languages.finetune,
                    "evaluate": r.languages.evaluate,
                    "problems": problems,
                    "warnings": warnings,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        if problems:
            raise typer.Exit(2)
        return
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    if problems:
        raise RecipeError(str(recipe), problems, "fix these, then rerun `workbench validate`")
    print(
        f"{recipe}: ok - study {r.study.name!r}, {len(r.models)} model(s), {n} cells, "
        f"fine-tune {', '.join(r.languages.finetune)}; evaluate {', '.join(r.languages.evaluate)}"
    )


@app.command()
@friendly
def plan(
    recipe: RecipeArg,
    quick: QuickOpt = False,
    allow_downloads: DownloadsOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    gpu: Annotated[
        str | None,
        typer.Option(
            "--gpu",
            help="Plan for another machine: cpu, t4, consumer, a100, h100, or a card's memory (8GB ... 80GB).",
        ),
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Show the grid of cells x stages with time, disk and memory estimates (flagged above this machine)."""
    _check_format(fmt, ("table", "json"))
    _check_executor(executor)
    from workbench import views

    views.show_plan(_load(recipe, quick, allow_downloads), fmt, gpu=gpu, executor=executor, workers=workers)


@app.command()
@friendly
def status(
    recipe: RecipeArg,
    quick: QuickOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Follow the live run's progress until it ends (any run of the study)."),
    ] = False,
) -> None:
    """Show what is done, running, failed or pending for every cell and stage, and the live run's progress."""
    _check_format(fmt, ("table", "json"))
    from workbench import views

    r = _load(recipe, quick, allow_downloads=True)
    if follow:
        views.follow_run(r, jsonl=(fmt == "json"))
        return
    views.show_status(r, fmt)


@app.command()
@friendly
def run(
    recipe: RecipeArg,
    only: Annotated[
        str | None, typer.Option("--only", help="Comma-separated stages to run, e.g. align,finetune.")
    ] = None,
    cells_filter: Annotated[
        str | None, typer.Option("--cells", help="Cell ids or globs, e.g. 'gemma3-270m/es/*'.")
    ] = None,
    quick: QuickOpt = False,
    allow_downloads: DownloadsOpt = False,
    events: EventsOpt = None,
    events_file: Annotated[
        Path | None,
        typer.Option("--events-file", help="Append the run's events (JSON lines) to this file.", hidden=True),
    ] = None,
    executor: ExecutorOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Run the study's stages in order, skipping work that is already complete."""
    _check_events(events)
    _check_executor(executor)
    r = _load(recipe, quick, allow_downloads)
    from workbench.plan import parse_stages

    _run_and_report(
        r,
        only=only,
        cells_filter=cells_filter,
        allow_downloads=allow_downloads,
        events=events,
        events_file=events_file,
        show_results=events != "jsonl" and "results" in parse_stages(only),
        executor=executor,
        workers=workers,
    )


def _check_executor(executor: str | None) -> None:
    from workbench.errors import UsageError
    from workbench.executors import EXECUTORS

    if executor is not None and executor not in EXECUTORS:
        raise UsageError(f"--executor: unknown executor {executor!r}", f"use one of: {', '.join(EXECUTORS)}")


def _check_events(events: str | None) -> None:
    from workbench.errors import UsageError

    if events not in (None, "jsonl"):
        raise UsageError(f"--events: unknown format {events!r}", "use --events jsonl, or leave it out")


def _run_and_report(
    r,
    *,
    only=None,
    cells_filter=None,
    allow_downloads=False,
    events=None,
    events_file=None,
    show_results=False,
    executor=None,
    workers=None,
) -> None:
    from workbench import paths, preflight
    from workbench.errors import RecipeError
    from workbench.plan import context_problems
    from workbench.progress import Reporter
    from workbench.runner import run_plan

    problems = preflight.problems(r) + context_problems(r)  # caught before the run, not in its middle
    if problems:
        raise RecipeError(
            str(r.source or r.study.name), problems, "fix these (`workbench validate` lists them), then rerun"
        )
    with Reporter(jsonl=(events == "jsonl")) as reporter:
        summary = run_plan(
            r,
            only=only,
            cells_filter=cells_filter,
            allow_downloads=allow_downloads,
            emit=reporter.emit,
            events_file=events_file,
            executor=executor,
            workers=workers,
        )
    out = sys.stderr if events == "jsonl" else sys.stdout
    blocked = summary.count("blocked")
    print(
        f"\nsummary: {summary.count('done')} done, {summary.count('skipped')} skipped (already complete), "
        f"{summary.count('failed')} failed" + (f", {blocked} not run (an input of theirs failed)" if blocked else ""),
        file=out,
    )
    for o in summary.outcomes:
        if o.status == "failed":
            print(f"  failed  {o.stage} {o.unit}: {o.reason}", file=out)
    if show_results:
        from workbench import views

        try:
            views.print_tables(views.result_rows(r, None))
        except WorkbenchError as exc:
            print(f"no results to show: {exc.message}", file=out)
    print(f"database: {paths.study_db_path(r.study.name)}", file=out)
    print(f"artifacts: {paths.study_models_dir(r.study.name)}", file=out)
    if summary.failed:
        failures = [o for o in summary.outcomes if o.status == "failed"]
        first = failures[0]
        more = f" ({len(failures) - 1} more failed: see the summary)" if len(failures) > 1 else ""
        print(f"error: {first.stage} {first.unit}: {first.reason}{more}", file=sys.stderr)
        print(f"hint: {first.hint or 'fix it, then rerun: finished units are kept'}", file=sys.stderr)
        raise typer.Exit(first.exit_code)


@app.command()
@friendly
def demo(
    quick: QuickOpt = False,
    events: EventsOpt = None,
) -> None:
    """Run the demo study (recipes/demo.toml) on the embedded model, offline."""
    _check_events(events)
    from workbench import assets, paths

    assets.assemble_embedded_model(quiet=True)
    recipe = paths.recipes_dir() / "demo.toml"
    r = _load(recipe, quick)
    print(f"demo study {r.study.name!r}{' (quick profile)' if quick else ''}: {recipe}")
    _run_and_report(r, events=events, show_results=events != "jsonl")


@app.command()
@friendly
def results(
    recipe: RecipeArg,
    quick: QuickOpt = False,
    judge: Annotated[str | None, typer.Option("--judge", help="Only this judge (default: every judge).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or md (Markdown tables)")] = "table",
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            help="compliance (rates and change vs base), capability (perplexity on held-out answers), choice "
            "(multiple-choice accuracy), drift "
            "(representation distance from the base), "
            "fidelity (responses not in the prompt's language), seeds (compliance over seeds) or decoupling "
            "(correlation of the change in compliance with the change in capability)",
        ),
    ] = "compliance",
) -> None:
    """Compliance rates per fine-tune language x evaluation language, with intervals and change vs base
    (and, with --measure, capability, language fidelity or the spread over seeds)."""
    _check_format(fmt, ("table", "csv", "json", "md"))
    from workbench import views
    from workbench.analysis import results as res

    if measure not in views.MEASURES:
        raise UsageError(f"--measure: unknown measure {measure!r}", f"choose one of {', '.join(views.MEASURES)}")
    r = _load(recipe, quick, allow_downloads=True)
    if measure in views.MEASURE_READERS:
        rows = views.MEASURE_READERS[measure](r)
        if judge and measure == "overrefusal":
            rows = [x for x in rows if x.judge == judge]
            if not rows:
                raise UsageError(f"--judge: no overrefusal measurement by {judge!r}", "run the overrefusal stage")
        views.print_measure(measure, rows, fmt)
        return
    rows = views.result_rows(r, judge)
    if measure == "decoupling":
        from workbench.analysis import capability

        if fmt == "csv":
            raise UsageError("--measure decoupling: no csv form", "use --format table, json or md")
        drift = views.measured_rows(r, "drift", required=False)
        views.print_decoupling(capability.decoupling(rows, views.measured_rows(r, "capability"), drift), fmt)
        return
    if measure in ("fidelity", "seeds"):
        views.print_measure(measure, views.fidelity_rows(rows) if measure == "fidelity" else views.seed_rows(rows), fmt)
        return
    if fmt == "json":
        print(res.to_json(rows))
    elif fmt == "csv":
        sys.stdout.write(res.to_csv(rows))
    elif fmt == "md":
        sys.stdout.write(res.to_markdown(rows))
    else:
        views.print_tables(rows)


@app.command()
@friendly
def judge(
    input_file: Annotated[
        Path,
        typer.Option(
            "--input", readable=False, help="JSONL with 'prompt', 'response', 'lang' (and optional 'id') per line."
        ),
    ],
    judge_name: Annotated[
        str, typer.Option("--judge", help="heuristic, or a judge named in --recipe, or an LLM preset with --model.")
    ] = "heuristic",
    output: Annotated[Path | None, typer.Option("--output", help="Where to write the JSONL (default: stdout).")] = None,
    recipe: Annotated[
        Path | None, typer.Option("--recipe", readable=False, help="A recipe whose [[judges]] define NAME.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", readable=False, help="Judge GGUF for --judge PRESET.")
    ] = None,
) -> None:
    """Judge responses produced anywhere else: one JSON line out per good line in, in input order."""
    from workbench.judgecli import judge_file

    judge_file(input_file, judge_name, output=output, recipe=recipe, model=model)


@app.command("judge-eval")
@friendly
def judge_eval(
    input_path: Annotated[
        Path | None,
        typer.Option(
            "--input",
            readable=False,
            help="JSONL (or a folder of *.jsonl) with 'prompt', 'response', 'lang' and a human 'label' per line "
            "(default: the shipped judge_labels set).",
        ),
    ] = None,
    judge_name: Annotated[
        str, typer.Option("--judge", help="heuristic, or a judge named in --recipe, or an LLM preset with --model.")
    ] = "heuristic",
    recipe: Annotated[
        Path | None, typer.Option("--recipe", readable=False, help="A recipe whose [[judges]] define NAME.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", readable=False, help="Judge GGUF for --judge PRESET.")
    ] = None,
    split: Annotated[str | None, typer.Option("--split", help="Only items of this split: dev or test.")] = None,
    langs: Annotated[
        str | None, typer.Option("--lang", help="Only these languages, comma-separated, e.g. en,es.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Measure a judge against human labels: abstentions, kappa, accuracy and confusion, per language."""
    _check_format(fmt, ("table", "json"))
    from workbench.judgecli import evaluate_judge

    evaluate_judge(input_path, judge_name, recipe=recipe, model=model, split=split, langs=langs, fmt=fmt)


@app.command("labels-export")
@friendly
def labels_export(
    recipe: RecipeArg,
    out: Annotated[Path, typer.Option("--out", help="The JSONL file to write (never the database or a recipe).")],
    annotator: Annotated[str | None, typer.Option("--annotator", help="Only this person's labels.")] = None,
) -> None:
    """Write the human labels of a study's current responses as JSONL, ready for judge-eval --input."""
    from workbench.judgecli import export_labels

    export_labels(recipe, out, annotator=annotator)


@app.command()
@friendly
def agreement(
    recipe: RecipeArg,
    quick: QuickOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Agreement of the human labels with each judge and between annotators: kappa per language."""
    _check_format(fmt, ("table", "csv", "json"))
    from workbench import views

    views.print_agreement(views.agreement_rows(_load(recipe, quick, allow_downloads=True)), fmt)


@app.command()
@friendly
def report(
    recipe: RecipeArg,
    out: Annotated[Path | None, typer.Option("--out", help="Folder to write (default: models/STUDY/report).")] = None,
    quick: QuickOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="html, or md for a Markdown summary too")] = "html",
    classroom: Annotated[
        bool, typer.Option("--classroom", help="Leave every response text out (not just collapsed).")
    ] = False,
) -> None:
    """Write the study's report: one self-contained HTML page (heatmaps, statistics, measurements,
    agreement, example pairs, recipe, provenance), PNG/SVG heatmaps, CSV/Parquet tables."""
    _check_format(fmt, ("html", "md"))
    from workbench import paths
    from workbench.report import write_report

    r = _load(recipe, quick, allow_downloads=True)
    target = out or paths.study_models_dir(r.study.name) / "report"
    done = write_report(
        paths.study_db_path(r.study.name), r.study.name, target, eval_langs=list(r.languages.evaluate),
        classroom=classroom, markdown=fmt == "md", recipe_toml=r.toml_text or None,
    )  # fmt: skip
    print(f"report: {target / 'report.html'} ({len(done.written)} files: {len(done.heatmaps)} heatmaps x PNG+SVG, "
          f"{len(done.tables)} tables x CSV+Parquet" + (", report.md" if fmt == "md" else "") + ")")  # fmt: skip


@app.command("export")
@friendly
def export_cmd(
    recipe: RecipeArg,
    out: Annotated[Path, typer.Option("--out", help="Folder to write: dataset/ (datasets), parquet/, README.md.")],
    quick: QuickOpt = False,
    no_text: Annotated[bool, typer.Option("--no-text", help="Leave prompt and response text out.")] = False,
) -> None:
    """Write the study's responses, judgments and human labels as a Hugging Face datasets folder (loads
    with datasets.load_from_disk) and Parquet, with a dataset card naming the sources' licences."""
    from workbench import paths
    from workbench.exchange import export_study

    r = _load(recipe, quick, allow_downloads=True)
    done = export_study(paths.study_db_path(r.study.name), r.study.name, out, recipe_toml=r.toml_text or None,
                        text=not no_text)  # fmt: skip
    for w in done.warnings:
        print(f"warning: {w}", file=sys.stderr)
    shown = ", ".join(f"{n} {k}" for k, n in done.rows.items())
    print(f"exported {shown} -> {out} (dataset/, parquet/, README.md)")


@app.command("import-labels")
@friendly
def import_labels_cmd(
    recipe: RecipeArg,
    source: Annotated[Path, typer.Argument(help="A `workbench export` folder, a datasets folder or a JSONL.")],
    quick: QuickOpt = False,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Merge another annotator's human labels into the study: duplicates skipped, a different label by the
    same annotator reported and never overwritten."""
    _check_format(fmt, ("table", "json"))
    from workbench import paths
    from workbench.exchange import conflict_lines, import_labels, to_json

    r = _load(recipe, quick, allow_downloads=True)
    done = import_labels(paths.study_db_path(r.study.name), r.study.name, source)
    if fmt == "json":
        print(to_json(done))
    else:
        print(f"imported {done.added} label(s); {done.duplicates} already there; {done.unknown} of responses "
              f"this study does not have; {len(done.conflicts)} conflict(s)")  # fmt: skip
        for line in conflict_lines(done.conflicts):
            print(line, file=sys.stderr)
    if done.conflicts:
        raise typer.Exit(1)


@app.command()
@friendly
def translations(
    recipe: RecipeArg,
    quick: QuickOpt = False,
    purpose: Annotated[str | None, typer.Option("--purpose", help="prompt or response (default: both)")] = None,
    failed: Annotated[bool, typer.Option("--failed", help="Only the translations that failed.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """The study's translations (prompts into languages the data lacks, responses into English), with
    each one's flags (refused, answered, untranslated, ...) and quality signal: what to check by eye."""
    _check_format(fmt, ("table", "csv", "json"))
    if purpose not in (None, "prompt", "response"):
        raise UsageError(f"--purpose: unknown purpose {purpose!r}", "use prompt or response")
    from workbench import views

    rows = views.translation_list(_load(recipe, quick, allow_downloads=True), purpose, failed)
    if not rows:
        raise WorkbenchError(
            "no translations in this study" + (" that failed" if failed else ""),
            "set [translation] in the recipe and run the translate / backtranslate stages",
        )
    views.print_translations(rows, fmt)


@app.command()
@friendly
def tui(
    recipe: Annotated[Path | None, typer.Argument(help="A study recipe to open (optional).")] = None,
    classroom: Annotated[
        bool, typer.Option("--classroom", help="Classroom mode: unsafe text hidden until revealed, calmer layout.")
    ] = False,
) -> None:
    """Open the terminal workbench: studies, plan & run, results, compare, label."""
    from workbench.tui import run_app

    run_app(recipe, classroom=classroom)


@app.command()
@friendly
def init(
    name: Annotated[str, typer.Argument(help="Name of the new study (lowercase letters, digits, - and _).")],
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to write NAME.toml (default: WORKBENCH_HOME/recipes, else ./recipes)."),
    ] = None,
    model: Annotated[
        str,
        typer.Option(
            "--model", help="'embedded' (the CPU demo model) or a hub id such as meta-llama/Llama-3.2-1B-Instruct."
        ),
    ] = "embedded",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing recipe.")] = False,
) -> None:
    """Write a new recipe from the template, fitted to its model, ready to edit."""
    from workbench import paths
    from workbench.recipe.templates import write_template

    path = write_template(name, directory or paths.recipe_dirs()[0], force=force, model=model)
    print(f"wrote {path}; edit it, then `workbench validate {path}`")


@app.command()
@friendly
def doctor(fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table") -> None:
    """Check Python, torch/CUDA, the llama.cpp build, the converter, the embedded model and disk space."""
    _check_format(fmt, ("table", "json"))
    import os

    from workbench.doctor import run_checks

    checks = run_checks()
    if fmt == "json":
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        marks = {
            "ok": "\033[32mok\033[0m     ",
            "warning": "\033[33mwarning\033[0m",
            "problem": "\033[31mproblem\033[0m",
        }
        if not sys.stdout.isatty() or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            marks = {k: f"{k:<7}" for k in marks}  # https://no-color.org
        for c in checks:
            print(f"{marks[c.level]}  {c.name:<14} {c.detail}")
            if c.fix and c.level != "ok":
                print(f"{'':9}  {'':<14} fix: {c.fix}")
    if any(c.level == "problem" for c in checks):
        raise typer.Exit(1)


@app.command()
@friendly
def languages(fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table") -> None:
    """List the language codes recipes may use, with the shipped data and the judges that read each."""
    _check_format(fmt, ("table", "json"))
    from workbench.language_info import language_table

    rows = language_table()
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.cells import set_cell_size  # pads by display width: 中文 and हिन्दी line up

    print(f"{'code':<5}{'name':<12}{'native':<18}{'script':<11}{'res.':<7}{'shipped data':<32}{'heuristic':<10}tags")
    for row in rows:
        data = ",".join(k for k, n in row["shipped_data"].items() if n) or "-"
        print(
            f"{row['code']:<5}{row['name']:<12}{set_cell_size(row['native'], 18)}{row['script']:<11}"
            f"{row['resource']:<7}{data:<32}{'yes' if row['heuristic_judge'] else 'no':<10}{' '.join(row['tags'])}"
        )


@app.command("setup-assets")
@friendly
def setup_assets(
    quiet: Annotated[bool, typer.Option("--quiet", help="Print nothing when all is in place.")] = False,
) -> None:
    """Place the embedded model in the cache, with its transformers form and vocabulary (run by the set-up)."""
    from workbench import assets
    from workbench.engines.basemodel import resolve
    from workbench.recipe.models import ModelSpec

    path = assets.assemble_embedded_model(quiet=quiet)
    assets.converter()
    # One-time conversions every study of the embedded model needs (each skipped when cached).
    resolve(ModelSpec(name="gemma3-270m", embedded="gemma3-270m"), allow_downloads=False, log=lambda *a: None)
    if not quiet:
        print(f"embedded model: {path}")


def main() -> None:
    """Entry point of the ``workbench`` console script."""
    app()
