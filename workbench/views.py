"""What the CLI prints for a plan, a study's status and its results (rich tables or JSON).

Kept apart from :mod:`workbench.cli` so the command definitions stay a thin shell; every table
iterates the stage registry, so a new stage shows up here without an edit.
"""

from __future__ import annotations

import json
import sys

from workbench.errors import WorkbenchError


def escape_text(text: object) -> str:
    """User text (file names, columns, error messages) made safe to print as rich markup."""
    from rich.markup import escape

    return escape(str(text))


STATUS_COLOURS = {
    "done": "green",
    "failed": "red",
    "running": "yellow",
    "queued": "blue",
    "interrupted": "magenta",
    "pending": "white",
    "skipped": "cyan",
    "-": "dim",
}


FORMATS = ("table", "json")


def check_format(fmt: str) -> None:
    """``--format`` of plan and status: table or json, else a usage error."""
    if fmt not in FORMATS:
        from workbench.errors import UsageError

        raise UsageError(f"--format: unknown format {fmt!r}", "use table or json")


def show_plan(r, fmt: str, gpu: str | None = None, executor: str | None = None, workers: int | None = None) -> None:
    """The cells x stages grid, the data counts, the rough estimates per stage with their totals, and
    what does not fit the machine: this one, or one of GPU class ``gpu`` (``--gpu``; ``cpu`` included).
    With ``executor`` ray or slurm, also the grid's wall time on ``workers`` workers of that class."""
    check_format(fmt)
    from workbench import machine, paths, registry
    from workbench.cells import cells
    from workbench.judges import coverage
    from workbench.plan import plan_estimate, run_plan_for, stages_of

    models_dir = paths.study_models_dir(r.study.name)
    target = machine.this_machine(models_dir) if gpu is None else machine.planned_for(gpu, models_dir)
    all_cells = cells(r)
    from workbench import preflight

    plan = plan_estimate(r, target)
    plan.problems = preflight.problems(r) + plan.problems  # data and models the plan needs, checked first
    from workbench.plan import context_warnings

    warnings = preflight.warnings(r) + context_warnings(r) + coverage.warnings(r)
    notes = run_plan_for(r, None, all_cells, lambda stage, cell: False).notes
    wall = None
    if executor not in (None, "local"):
        from workbench.executors.coordinator import estimate_wall

        wall = estimate_wall(r, target.gpu, workers or 1) | {"executor": executor}
    if fmt == "json":
        print(
            json.dumps(
                {
                    "study": r.study.name,
                    "stages": [
                        {"stage": s.name, "scope": s.scope, "needs": list(s.needs), "description": s.description}
                        for s in registry.stages()
                    ],
                    "cells": [{"cell": c.id, "stages": stages_of(c, r)} for c in all_cells],
                    **plan.as_dict(),
                    "notes": notes,
                    "warnings": warnings,
                    **({"distributed": wall} if wall else {}),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    study_wide = [s.name for s in registry.of_scope("study")]
    grid = Table(
        title=f"study {r.study.name}: {len(all_cells)} cells (study-wide: {', '.join(study_wide)})",
        title_justify="left",
    )
    grid.add_column("cell")
    per_cell = [s.name for s in registry.of_scope("cell")]
    for s in per_cell:
        grid.add_column(s, justify="center")
    for c in all_cells:
        st = stages_of(c, r)
        grid.add_row(c.id, *("x" if s in st else "" for s in per_cell))
    console.print(grid)

    data = Table(title="data the estimates count: what the recipe asks, at most what there is", title_justify="left")
    for col in ("data", "rows", "per language", "counted from"):
        data.add_column(col)
    for kind, c in plan.data.items():
        data.add_row(kind, f"{c.total:,}", _per_language(c.per_language), escape(c.source))
    console.print(data)

    m = plan.machine
    facts = [f"{size(m.ram_bytes)} RAM"]
    if m.vram_bytes:
        facts.append(f"{size(m.vram_bytes)} VRAM")
    facts.append(f"{size(m.free_disk_bytes)} free disk")
    table = Table(title=f"rough estimates for {escape(m.description)} ({', '.join(facts)})", title_justify="left")
    for col in ("stage", "units", "time", "disk", "memory", "note"):
        table.add_column(col)
    for e in plan.estimates:
        flags = "".join(f"[bold red]{f}[/]; " for f in e.flags)
        table.add_row(
            e.stage,
            f"{e.units:,}",
            duration(e.seconds),
            size(e.disk_bytes),
            f"{size(e.memory_bytes)} {e.memory_kind}",
            flags + escape(e.note),
            end_section=e is plan.estimates[-1],
        )
    t = plan.totals
    peaks = [f"{size(t[k])} {kind}" for k, kind in (("peak_ram_bytes", "RAM"), ("peak_vram_bytes", "VRAM")) if t[k]]
    table.add_row(
        "total", "", duration(t["seconds"]), size(t["disk_bytes"]), " / ".join(peaks), "peak memory", style="bold"
    )
    console.print(table)
    if wall:
        speedup = f", {wall['serial_seconds'] / wall['seconds']:.1f}x one worker" if wall["seconds"] else ""
        console.print(
            f"[bold]{wall['executor']} with {wall['workers']} worker(s) of this class:[/] "
            f"{duration(wall['seconds'])} wall time for {wall['tasks']} tasks{speedup} "
            "(each task starts when its inputs are done and a worker is free; study stages on the coordinator)"
            + (f"; no estimate for {len(wall['unknown'])} task(s)" if wall["unknown"] else ""),
            soft_wrap=True,
        )
    assumed = Table(title="what the estimates assume (measured, counted, read or assumed)", title_justify="left")
    for col in ("assumption", "value", "basis"):
        assumed.add_column(col)
    for a in plan.assumptions:
        assumed.add_row(a.what, escape(a.value), escape(a.basis))
    console.print(assumed)
    for line in plan.problems:
        console.print(f"problem: {escape(line)}", style="red", soft_wrap=True)
    for line in warnings:
        console.print(f"warning: {escape(line)}", style="yellow", soft_wrap=True)
    for line in notes:
        if line not in warnings:
            console.print(f"note: {escape(line)}", soft_wrap=True)


def _per_language(counts: dict[str, int]) -> str:
    values = set(counts.values())
    if len(values) == 1:
        return f"{next(iter(values)):,} x {len(counts)} language{'s' if len(counts) != 1 else ''}"
    return ", ".join(f"{lang} {n:,}" for lang, n in counts.items())


def show_status(r, fmt: str) -> None:
    """Per unit of every stage: done, running, interrupted, failed or pending."""
    check_format(fmt)
    from rich.console import Console
    from rich.table import Table

    from workbench.runner import status_grid

    grid = status_grid(r)
    if fmt == "json":
        print(json.dumps(grid, indent=2))
        return
    console = Console()
    if grid.get("live"):
        from rich.markup import escape

        from workbench.follow import live_line

        console.print(f"[blue]{escape(live_line(grid['live']))}[/]", soft_wrap=True)
        console.print(
            f"  events: {escape(grid['live']['events'] or '-')}  (follow: workbench status RECIPE --follow)",
            soft_wrap=True,
        )
    remote = (grid.get("live") or {}).get("remote")
    if remote:
        out = Table(title=f"units on {remote['executor']} (the engine's view; rows come home as they finish)",
                    title_justify="left")  # fmt: skip
        for col in ("task", "state", "where", "attempts"):
            out.add_column(col)
        for task_id, u in remote["units"].items():
            colour = STATUS_COLOURS.get(u["state"], "white")
            out.add_row(task_id, f"[{colour}]{u['state']}[/]", str(u.get("where") or u.get("job") or "-"),
                        str(u.get("attempts", "")))  # fmt: skip
        console.print(out)
    for stage, st in grid["study_stages"].items():
        console.print(
            f"{stage}: [{STATUS_COLOURS.get(st['status'], 'white')}]{st['status']}[/]"
            + (f" - {escape_text(st['error'])}" if st.get("error") else "")
        )
    table = Table(title=f"study {grid['study']}", title_justify="left")
    table.add_column("cell")
    stages = list(grid["cells"][0]["stages"]) if grid["cells"] else []
    for s in stages:
        table.add_column(s)
    for row in grid["cells"]:
        table.add_row(
            row["cell"],
            *(f"[{STATUS_COLOURS.get(v['status'], 'white')}]{v['status']}[/]" for v in row["stages"].values()),
        )
    console.print(table)
    console.print(f"database: {grid['database']}")


def result_rows(r, judge: str | None):
    """The study's rate rows (every judge, or one), with clear errors when there is nothing to show."""
    from workbench import paths
    from workbench.analysis import results as res
    from workbench.store import read

    db_path = paths.study_db_path(r.study.name)
    if not db_path.exists():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({db_path})", "run the study first")
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, r.study.name)
        known = read.current_judges(db, sid) if sid is not None else []
        if judge and judge not in known:
            raise WorkbenchError(
                f"--judge: no current judgments by {judge!r} in study {r.study.name!r}",
                f"judges with results: {', '.join(known) or 'none (run the judge stage)'}",
            )
        rows = res.compute(db, sid, judge=judge) if sid is not None else []
        unfinished = read.incomplete_generations(db, sid) if sid is not None and not rows else []
    if not rows and unfinished:
        raise WorkbenchError(
            f"study {r.study.name!r} has no complete, judged generation yet "
            f"({len(unfinished)} cell(s) have an unfinished one, e.g. {unfinished[0]})",
            "rerun the generate and judge stages: they continue where they stopped",
        )
    if not rows:
        raise WorkbenchError(
            f"study {r.study.name!r} has no judged responses yet", "run the generate and judge stages first"
        )
    return rows


def print_tables(rows) -> None:
    """The compliance matrices, one per (model, judge), with the legend."""
    from rich.console import Console

    from workbench.analysis import results as res

    console = Console()
    for table in res.render_tables(rows):
        console.print(table)
    console.print(
        "rate = share of the judged responses (comply, refuse or neither; abstentions left out) [Wilson 95% "
        "interval] n; second line of a fine-tuned cell: the change against the base on the same prompts, "
        "paired by item (bold: significant by the exact McNemar test after Holm's correction across the "
        "grid), and the ratio; 'settings differ' / 'judge differs': no change is computed",
        style="dim",
    )


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 90:
        return f"~{seconds:.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def size(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000:
            return f"~{n:.0f} {unit}"
        n /= 1000
    return f"~{n:.0f} PB"


def follow_run(r, *, jsonl: bool = False, wait_s: float = 0.0) -> None:
    """``status --follow``: draw the study's live run (whoever started it) until it ends."""
    from workbench import follow
    from workbench.progress import Reporter

    info = follow.live(r.study.name)
    if info is None:
        last = follow.last_events_file(r.study.name)
        state, _ = follow.fold(last)
        e = state.ended
        if jsonl:
            ended = None if e is None else {"done": e.done, "skipped": e.skipped, "failed": e.failed}
            print(json.dumps({"live": None, "last_events": str(last) if last else None, "last_ended": ended}))
            return
        said = "" if last is None else f"; the last run's events: {last}"
        if last is not None and e is not None:
            said += f" (it ended: {e.done} done, {e.skipped} skipped, {e.failed} failed)"
        elif last is not None:
            said += " (it did not finish: stopped or killed; `workbench status RECIPE` shows what is done)"
        print(f"study {r.study.name!r}: no run in progress{said}")
        return
    print(f"following pid {info['pid']} ({' '.join(info['command'])}); events: {info['events']}", file=sys.stderr)
    with Reporter(jsonl=jsonl) as reporter:
        events = follow.follow(r.study.name, reporter.emit, wait_s=wait_s)
    state, _ = follow.fold(events)
    if state.ended is None:
        print("the run ended before it finished (stopped or killed); `workbench status RECIPE` shows what is done")
    else:
        e = state.ended
        print(f"the run ended: {e.done} done, {e.skipped} skipped (already complete), {e.failed} failed")


def agreement_rows(r) -> list[dict]:
    """Human-vs-judge and human-vs-human agreement of a study (kappa with its 95% interval), as dicts."""
    from dataclasses import asdict

    from workbench import paths
    from workbench.analysis.agreement import agreement
    from workbench.store import read

    db_path = paths.study_db_path(r.study.name)
    if not db_path.exists():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({db_path})", "run the study first")
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, r.study.name)
        rows = agreement(db, sid, eval_langs=r.languages.evaluate) if sid is not None else []
    if not rows:
        raise WorkbenchError(
            f"study {r.study.name!r} has no human labels yet",
            "label responses in the TUI (Label screen), then rerun",
        )
    return [{**asdict(x), "percent_agreement": x.percent_agreement} for x in rows]


def print_agreement(rows: list[dict], fmt: str) -> None:
    """``workbench agreement``: one row per (rater pair, language), pooled first."""
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        import csv

        w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title="agreement (Cohen's kappa, 95% interval)", title_justify="left")
    for col in ("kind", "rater a", "rater b", "lang", "n", "agreed", "kappa", "95% CI", "excluded"):
        t.add_column(col, justify="right" if col in ("n", "agreed", "kappa", "excluded") else "left")
    for x in rows:
        k = "-" if x["kappa"] is None else f"{x['kappa']:.2f}"
        ci = "-" if x["kappa_low"] is None else f"[{x['kappa_low']:.2f}, {x['kappa_high']:.2f}]"
        t.add_row(
            x["kind"], escape_text(x["rater_a"]), escape_text(x["rater_b"]), x["lang"],
            str(x["n"]), str(x["agreed"]), k, ci, str(x["excluded"]),
        )  # fmt: skip
    Console().print(t)


# -- translations ---------------------------------------------------------------------------------------------
def translation_list(r, purpose: str | None = None, failed_only: bool = False) -> list[dict]:
    """The study's stored translations (``purpose``: prompt or response), each with its flags and quality."""
    from workbench import paths, translation
    from workbench.store import read

    db_path = paths.study_db_path(r.study.name)
    if not db_path.exists():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({db_path})", "run the study first")
    with read.open_for_reading(db_path) as db:
        rows = read.translation_rows(db, purpose)
    out = []
    for t in rows:
        flags = json.loads(t["flags_json"])
        if failed_only and not translation.failed(flags):
            continue
        out.append(
            {
                "purpose": t["purpose"],
                "source_lang": t["source_lang"],
                "target_lang": t["target_lang"],
                "source_text": t["source_text"],
                "text": t["text"],
                "flags": flags,
                "failed": bool(translation.failed(flags)),
                "quality": json.loads(t["quality_json"]),
                "translator_key": t["translator_key"],
            }
        )
    return out


def print_translations(rows: list[dict], fmt: str) -> None:
    """``workbench translations``: one row per translation, flags first."""
    if fmt == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if fmt == "csv":
        import csv

        w = csv.DictWriter(sys.stdout, fieldnames=[k for k in rows[0] if k != "quality"] + ["detected", "length_ratio"])
        w.writeheader()
        for x in rows:
            q = x["quality"]
            w.writerow({**{k: v for k, v in x.items() if k != "quality"}, "flags": " ".join(x["flags"]),
                        "detected": q.get("detected"), "length_ratio": q.get("length_ratio")})  # fmt: skip
        return
    from rich.console import Console
    from rich.table import Table

    from workbench import translation

    summary = translation.summary([x["flags"] for x in rows])
    t = Table(
        title=f"translations: {summary['translations']}, failed {summary['failed']} (never used as the text)",
        title_justify="left",
    )
    for col in ("use", "from", "to", "flags", "detected", "length x expected", "source", "translation"):
        t.add_column(col)
    for x in rows:
        q = x["quality"]
        rel = (q.get("length_ratio") or 0) / q["expected_ratio"] if q.get("expected_ratio") else None
        t.add_row(
            x["purpose"], x["source_lang"], x["target_lang"], escape_text(" ".join(x["flags"]) or "-"),
            str(q.get("detected") or "-"), "-" if rel is None else f"{rel:.2f}",
            escape_text(x["source_text"][:80]), escape_text(x["text"][:80]),
        )  # fmt: skip
    Console().print(t)


# -- the other measurements: capability, language fidelity, seeds ------------------------------------------------
MEASURES = ("compliance", "overrefusal", "fidelity", "capability", "seeds", "drift", "decoupling", "choice")
# the measurements that are a judge's (one table per judge)
JUDGED = frozenset({"compliance", "overrefusal", "fidelity", "seeds", "decoupling"})


def measured_rows(r, measure: str, *, required: bool = True):
    """The study's rows of a measurement its stage stored (overrefusal, capability, drift); a clear error
    when there are none (unless not ``required``)."""
    import importlib

    from workbench import paths
    from workbench.store import read

    module = importlib.import_module(f"workbench.analysis.{measure}")
    db_path = paths.study_db_path(r.study.name)
    if not db_path.exists():
        raise WorkbenchError(f"study {r.study.name!r} has no database yet ({db_path})", "run the study first")
    with read.open_for_reading(db_path) as db:
        sid = read.study_id(db, r.study.name)
        rows = module.compute(db, sid, r.languages.evaluate) if sid is not None else []
    if not rows and required:
        raise WorkbenchError(
            f"study {r.study.name!r} has no {measure} measurement yet",
            f"run the {measure} stage: `workbench run RECIPE --only {measure}`",
        )
    return rows


# The measurements read from the measurements table (their stage wrote them), by name: the reader of each.
MEASURE_READERS = {
    "overrefusal": lambda r: measured_rows(r, "overrefusal"),
    "capability": lambda r: measured_rows(r, "capability"),
    "choice": lambda r: measured_rows(r, "choice"),
    "drift": lambda r: measured_rows(r, "drift"),
}


def fidelity_rows(rows) -> list[dict]:
    """Language fidelity per (cell, evaluation language, judge): the share of judged responses not in
    the prompt's language (as the judge's language check flags them), with a Wilson interval."""
    from workbench.analysis import results as res

    out = []
    for x in rows:
        judged, off = x.judged, x.off_language
        lo, hi = res.wilson(off, judged) if judged else (None, None)
        out.append(
            {
                "model": x.model,
                "finetune_lang": x.finetune_lang,
                "seed": x.seed,
                "epochs": x.epochs,
                "eval_lang": x.eval_lang,
                "judge": x.judge,
                "judged": judged,
                "off_language": off if judged else None,
                "off_language_share": x.off_language_share,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return out


def seed_rows(rows) -> list[dict]:
    """Compliance and refusal over seeds per (model, fine-tune language, epochs, evaluation language,
    judge): mean, sample standard deviation (None for one seed) and the per-seed values."""
    import statistics

    groups: dict[tuple, list] = {}
    for x in rows:
        groups.setdefault((x.model, x.finetune_lang, x.epochs, x.eval_lang, x.judge), []).append(x)
    out = []
    for (model, ft, epochs, lang, judge), xs in groups.items():
        xs = sorted(xs, key=lambda x: x.seed or 0)
        rates = [x.rate for x in xs if x.rate is not None]
        refusals = [x.refusal_rate for x in xs if x.refusal_rate is not None]
        deltas = [x.delta_vs_base for x in xs if x.delta_vs_base is not None]
        out.append(
            {
                "model": model,
                "finetune_lang": ft,
                "epochs": epochs,
                "eval_lang": lang,
                "judge": judge,
                "seeds": [x.seed for x in xs],
                "rate_mean": statistics.fmean(rates) if rates else None,
                "rate_sd": statistics.stdev(rates) if len(rates) > 1 else None,
                "rates": [x.rate for x in xs],
                "refusal_mean": statistics.fmean(refusals) if refusals else None,
                "refusal_sd": statistics.stdev(refusals) if len(refusals) > 1 else None,
                "delta_mean": statistics.fmean(deltas) if deltas else None,
                "delta_sd": statistics.stdev(deltas) if len(deltas) > 1 else None,
                "deltas": [x.delta_vs_base for x in xs],
            }
        )
    return out


def _num(v, f="{:+.2f}") -> str:
    return "-" if v is None else f.format(v)


def _decoupling_cells(d: dict) -> list[str]:
    ci = f" [{_num(d['ci_low'])}, {_num(d['ci_high'])}]" if d["ci_low"] is not None else ""
    return [
        d["judge"],
        d["against"],
        d["model"] or "all models",
        str(d["points"]),
        _num(d["pearson_r"]) + ci,
        _num(d["p_value"], "{:.3f}"),
        _num(d["spearman_rho"]),
        d["note"],
    ]


DECOUPLING_COLUMNS = ("judge", "against", "model", "points", "Pearson r [95%]", "p", "Spearman rho", "note")


def decoupling_table(rows: list):
    """The decoupling correlations as a rich table (the CLI's and the TUI's)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="decoupling: change in compliance vs change in capability")
    for col in DECOUPLING_COLUMNS:
        table.add_column(col)
    for r in rows:
        table.add_row(*(Text(x) for x in _decoupling_cells(r.as_dict())))
    return table


def decoupling_markdown(rows: list) -> str:
    out = ["| " + " | ".join(DECOUPLING_COLUMNS) + " |", "|---" * len(DECOUPLING_COLUMNS) + "|"]
    out += ["| " + " | ".join(_decoupling_cells(r.as_dict())) + " |" for r in rows]
    return "\n".join([*out, "", MEASURE_LEGENDS["decoupling"], ""]) + "\n"


def print_decoupling(rows: list, fmt: str) -> None:
    """The decoupling correlations (see :func:`workbench.analysis.capability.decoupling`)."""
    if fmt == "json":
        print(json.dumps([r.as_dict() for r in rows], indent=1))
        return
    if fmt == "md":
        sys.stdout.write(decoupling_markdown(rows))
        return
    from rich.console import Console

    console = Console()
    console.print(decoupling_table(rows))
    console.print(MEASURE_LEGENDS["decoupling"], style="dim")


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.0f}%"


def measure_grid(measure: str, rows: list) -> tuple[list[str], dict[str, dict[str, dict[str, str]]]]:
    """(evaluation languages, {table title: {row label: {language: cell text}}}) of a measurement:
    one table per model (and judge), one row per cell (per fine-tune language and epochs for seeds)."""
    dicts = [r.as_dict() if hasattr(r, "as_dict") else r for r in rows]
    langs: list[str] = []
    grid: dict[str, dict[str, dict[str, str]]] = {}
    for d in dicts:
        if d["eval_lang"] not in langs:
            langs.append(d["eval_lang"])
        ft = d["finetune_lang"] or "base"
        where = f"{d['model']}" + (f" · judge {d['judge']}" if d.get("judge") else "")
        if ft == "base":
            label = "base"
        elif measure == "seeds":
            label = f"{ft} e{d['epochs']} ({len(d['seeds'])} seed{'s' if len(d['seeds']) != 1 else ''})"
        else:
            label = f"{ft} s{d['seed']} e{d['epochs']}"
        grid.setdefault(where, {}).setdefault(label, {})[d["eval_lang"]] = _measure_cell(measure, d)
    return langs, grid


def measure_markdown(measure: str, rows: list) -> str:
    """The measurement's tables in Markdown, one per model (and judge), with the legend."""
    langs, grid = measure_grid(measure, rows)
    out = []
    for where, by_label in grid.items():
        out += [f"{where} · {measure}", "", "| cell | " + " | ".join(langs) + " |", "|---" * (len(langs) + 1) + "|"]
        for label, by_lang in by_label.items():
            out.append(
                f"| {label} | " + " | ".join(by_lang.get(lang, "-").replace("\n", "; ") for lang in langs) + " |"
            )
        out.append("")
    out += [MEASURE_LEGENDS[measure], ""]
    return "\n".join(out) + "\n"


def measure_tables(measure: str, rows: list) -> list:
    """The rich tables of a measurement (what ``workbench results --measure`` and the TUI show)."""
    from rich.table import Table
    from rich.text import Text  # cell texts are data, not markup

    langs, grid = measure_grid(measure, rows)
    out = []
    for where, by_label in grid.items():
        table = Table(title=f"{measure}: {where}")
        table.add_column("cell")
        for lang in langs:
            table.add_column(lang, justify="right")
        for label, by_lang in by_label.items():
            table.add_row(Text(label), *(Text(by_lang.get(lang, "-")) for lang in langs))
        out.append(table)
    return out


def print_measure(measure: str, rows: list, fmt: str) -> None:
    """A measurement other than compliance in one of the result formats (table, csv, json, md)."""
    import csv
    import io
    import json as _json

    dicts = [r.as_dict() if hasattr(r, "as_dict") else r for r in rows]
    if fmt == "json":
        print(_json.dumps(dicts, indent=1, ensure_ascii=False))
        return
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(dicts[0]), lineterminator="\n")
        w.writeheader()
        w.writerows({k: (_json.dumps(v) if isinstance(v, list) else v) for k, v in d.items()} for d in dicts)
        sys.stdout.write(buf.getvalue())
        return
    if fmt == "md":
        sys.stdout.write(measure_markdown(measure, rows))
        return
    from rich.console import Console

    console = Console()
    for table in measure_tables(measure, rows):
        console.print(table)
    console.print(MEASURE_LEGENDS[measure], style="dim")


def _measure_cell(measure: str, d: dict) -> str:
    if measure == "overrefusal":
        if d["rate"] is None:
            return "not measured" if d["note"].startswith("not measured") else "-"
        text = f"{_pct(d['rate'])} [{_pct(d['ci_low'])}, {_pct(d['ci_high'])}] n={d['n']}"
        if d["delta_vs_base"] is not None:
            lo, hi = d["delta_ci_low"], d["delta_ci_high"]
            ci = f" [{100 * lo:+.0f}, {100 * hi:+.0f}]" if lo is not None else ""
            text += f"\nΔ {100 * d['delta_vs_base']:+.0f}{ci} pts p={d['p_value']:.2g}"
        return text
    if measure == "drift":
        ci = f" [{d['ci_low']:.3f}, {d['ci_high']:.3f}]" if d["ci_low"] is not None else ""
        return f"{d['mean']:.4f}{ci} n={d['prompts']}"
    if measure == "capability":
        if d["perplexity"] is None:
            return "not measured" if d["note"].startswith("not measured") else "-"
        text = f"ppl {d['perplexity']:.1f}"
        if d["delta_nll"] is not None:
            ci = f" [{d['delta_ci_low']:+.3f}, {d['delta_ci_high']:+.3f}]" if d["delta_ci_low"] is not None else ""
            text += f"\nΔ {d['delta_nll']:+.3f}{ci} x{d['ratio_vs_base']:.2f}"
        return text
    if measure == "choice":
        if d["accuracy"] is None:
            return "not measured" if d["note"].startswith("not measured") else "-"
        text = f"{_pct(d['accuracy'])} [{_pct(d['ci_low'])}, {_pct(d['ci_high'])}] n={d['questions']}"
        if d.get("top_letter"):
            text += f"\npicks {d['top_letter']} {_pct(d['top_share'])}"
        if d["delta_vs_base"] is not None:
            lo, hi = d["delta_ci_low"], d["delta_ci_high"]
            ci = f" [{100 * lo:+.0f}, {100 * hi:+.0f}]" if lo is not None else ""
            text += f"\nΔ {100 * d['delta_vs_base']:+.0f}{ci} pts p={d['p_value']:.2g}"
        return text
    if measure == "fidelity":
        if d["off_language_share"] is None:
            return "-"
        return f"{_pct(d['off_language_share'])} [{_pct(d['ci_low'])}, {_pct(d['ci_high'])}] n={d['judged']}"
    # seeds
    sd = f" ± {100 * d['rate_sd']:.0f}" if d["rate_sd"] is not None else ""
    text = f"{_pct(d['rate_mean'])}{sd}"
    if d["delta_mean"] is not None:
        dsd = f" ± {100 * d['delta_sd']:.0f}" if d["delta_sd"] is not None else ""
        text += f"\nΔ {100 * d['delta_mean']:+.0f}{dsd} pts"
    return text


MEASURE_LEGENDS = {
    "decoupling": "across fine-tuned cells and evaluation languages: Pearson's r [95% interval, Fisher z] and "
    "Spearman's rho between the change in compliance against the base (paired by prompt) and the change in "
    "capability (NLL per answer token, paired by item) or the representation drift; near 0: safety moved "
    "independently of it. Each cell gives one point per language, so the points are not independent: read p "
    "and the interval as optimistic",
    "capability": "ppl = perplexity of the held-out benign answers (token-weighted; compare cells of one model "
    "within a language); Δ = change in negative log-likelihood per answer token against the base, nats, "
    "mean over items paired by item [95% t-interval], x = perplexity of the fine-tune / the base's on those items; "
    "positive Δ, x > 1: worse",
    "overrefusal": "share of the safe prompts that look unsafe (the exaggerated-safety set) whose answer the judge "
    "calls a refusal [Wilson 95% interval] n = judged; Δ = change against the base on the same prompts, paired "
    "by item [Newcombe 95%], p = exact McNemar; higher: more exaggerated refusal",
    "choice": "multiple-choice accuracy: share of the questions whose right option letter gets the highest "
    "probability [Wilson 95% interval] n = questions (chance: 1 / options, 25% with four); Δ = change against "
    "the base on the same questions, paired by item [Newcombe 95%], p = exact McNemar; picks X = the letter the "
    "cell chose most and how often (a model that always answers one letter scores the share of questions whose "
    "answer it is: 25% on the shipped set, whose answers are spread evenly over A-D)",
    "drift": "mean cosine distance between the cell's and its base's pooled last-layer states of each evaluation "
    "prompt [95% t-interval over prompts] n = prompts; 0: represented as the base did",
    "fidelity": "share of the judged responses not in the prompt's language [Wilson 95% interval] n = judged",
    "seeds": "compliance rate, mean ± sample standard deviation over seeds; Δ = mean change against the base "
    "(percentage points) ± its standard deviation over seeds",
}
