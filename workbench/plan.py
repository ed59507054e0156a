"""The plan of a study: which units each registered stage has, what they need, and rough estimates.

Everything here iterates the stage registry (:mod:`workbench.registry`); nothing lists stages by
hand. A *unit* is (stage, cell) for a cell-scoped stage, or (stage, None) for a study-scoped one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from workbench import estimates as est
from workbench import registry
from workbench.cells import Cell, cells
from workbench.errors import WorkbenchError
from workbench.estimates import DataCount, Estimate, GpuClass
from workbench.machine import Machine
from workbench.modelshape import model_shape
from workbench.recipe.models import Recipe


def stages_of(cell: Cell, recipe: Recipe) -> list[str]:
    """The cell-scoped stages this cell goes through, in run order."""
    return [s.name for s in registry.of_scope("cell") if s.applies_to(cell, recipe)]


def estimate(recipe: Recipe, gpu: GpuClass | str | bool) -> list[Estimate]:
    """Rough time, disk and memory per stage for the whole study on a machine of class ``gpu``
    (a :class:`~workbench.estimates.GpuClass`, its name, or a bool for the cpu / consumer-GPU choice)."""
    cls = est.gpu_class(gpu)
    all_cells = cells(recipe)
    out = []
    for stage in registry.stages():
        e = stage.estimate(recipe, all_cells, cls)
        if e is not None:
            out.append(e)
    return out


@dataclass
class PlanEstimate:
    """The plan's numbers for one machine: per-stage estimates (with what exceeds the machine), the data
    counts they rest on, the totals, and the problems found (machine limits, context length)."""

    machine: Machine
    estimates: list[Estimate]
    data: dict[str, DataCount]
    problems: list[str]
    assumptions: list[Assumption] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, float | None]:
        """Total time and disk of every stage, and the peak memory of one (RAM and VRAM apart)."""

        def peak(kind: str) -> float | None:
            values = [e.memory_bytes for e in self.estimates if e.memory_kind == kind and e.memory_bytes is not None]
            return max(values) if values else None

        return {
            "seconds": est.total(e.seconds for e in self.estimates),
            "disk_bytes": est.total(e.disk_bytes for e in self.estimates),
            "peak_ram_bytes": peak("RAM"),
            "peak_vram_bytes": peak("VRAM"),
        }

    def as_dict(self) -> dict:
        return {
            "machine": self.machine.as_dict(),
            "data": {
                k: {"rows": c.total, "per_language": c.per_language, "source": c.source} for k, c in self.data.items()
            },
            "estimates": [asdict(e) for e in self.estimates],
            "totals": self.totals,
            "problems": self.problems,
            "assumptions": [asdict(a) for a in self.assumptions],
        }


def plan_estimate(recipe: Recipe, machine: Machine) -> PlanEstimate:
    """:func:`estimate` for ``machine``'s GPU class, each estimate checked against its RAM, VRAM and free
    disk, with the context problems of :func:`context_problems`."""
    from workbench.stages import common

    ests = estimate(recipe, machine.gpu)
    plan = PlanEstimate(machine, ests, common.data_counts(recipe), [])
    plan.problems = machine_problems(plan) + context_problems(recipe)
    plan.assumptions = assumptions(recipe, machine, plan.data)
    return plan


@dataclass
class Assumption:
    """One number the estimates rest on, and how sure it is: ``measured`` (on the calibration
    machine), ``counted`` (from the data or the recipe), ``read`` (from this machine) or ``assumed``."""

    what: str
    value: str
    basis: str
    per_model: dict[str, float] = field(default_factory=dict)  # where the value depends on the model


def assumptions(recipe: Recipe, machine: Machine, data: dict[str, DataCount]) -> list[Assumption]:
    """What the plan's numbers for ``machine`` assume, in the order a reader checks them."""
    g = machine.gpu
    params = est.params_by_model(recipe)
    known = {name: p for name, p in params.items() if p}
    gpu_basis = "measured" if g.measured else "assumed"
    based = f" (the {g.based_on} calibration)" if g.based_on else ""
    t = recipe.training
    bits = "4-bit" if est.four_bit_planned(t, g) else ("16-bit" if g.is_gpu else "float32")
    mean, longest = est.train_seq_tokens(recipe.data.benign, t)
    targets = t.lora.target_modules if isinstance(t.lora.target_modules, str) else ", ".join(t.lora.target_modules)
    train_mem = (
        f"{bits} base weights + LoRA r={t.lora.r} ({targets}) "
        f"with AdamW state + activations of batch {t.batch_size} x {longest} tokens"
        + (" (gradient checkpointing)" if g.is_gpu else " (no gradient checkpointing)")
        + " + the output head's logits on answer tokens + 1.5 GB runtime; from each model's shape, "
        "12 bytes/param on a CPU or 0.75 on a GPU where the shape is unknown"
    )
    if g.is_gpu:
        train = f"~{g.train_tokens_s_1b:,.0f} tokens/s for a 1B model{based}, scaled by 1/params"
        gen = f"~{g.gen_tokens_s_1b:,.0f} tokens/s for a 1B model{based}, scaled by 1/params"
    else:
        train = f"~{est.CPU_TRAIN_TOKENS_S:,.0f} tokens/s for 270M (2 CPU cores), scaled by 1/params"
        gen = f"~{est.CPU_GEN_TOKENS_S:,.0f} tokens/s for 270M Q8_0, 16 sequences, scaled by 1/params"
    shapes = {m.name: model_shape(m) for m in recipe.models}
    out = [
        Assumption(
            "model sizes",
            ", ".join(f"{n} {p / 1e9:.2g}B" for n, p in known.items()) or "unknown",
            "read from the embedded table, the hub id or config.json"
            + ("; unknown for " + ", ".join(n for n, p in params.items() if not p) if len(known) < len(params) else ""),
            {n: p for n, p in known.items()},
        ),
        Assumption(
            "training throughput",
            train,
            gpu_basis,
            {n: round(est.train_tokens_per_s(p, g), 1) for n, p in known.items()},
        ),
        Assumption(
            "generation throughput",
            gen,
            gpu_basis,
            {n: round(est.gen_tokens_per_s(p, g), 1) for n, p in known.items()},
        ),
        Assumption(
            "tokens per training example",
            f"~{mean} (the chat template included, at most max_seq_length = {t.max_seq_length}); the longest "
            f"in a batch {longest} ("
            + (
                "twice the mean: shipped data"
                if getattr(recipe.data.benign, "shipped", None)
                else "max_seq_length: lengths not read"
            )
            + f"); LoRA r={t.lora.r} adds its share of the work to each token",
            "measured on the shipped data",
        ),
        Assumption(
            "training memory",
            train_mem,
            "assumed (a formula; docs/estimates.md checks it against a measured peak)",
            {
                n: round(m)
                for n, p in known.items()
                if (m := est.train_memory(p, g, shapes.get(n), t, longest)) is not None
            },
        ),
        Assumption(
            "prompt length",
            f"~{est.prompt_tokens(recipe)} tokens (the longest shipped prompt with its chat template"
            + (", + the system prompt)" if recipe.generation.system_prompt else ")"),
            "assumed",
        ),
    ]
    for kind, what in (("benign", "examples per language"), ("evaluation", "prompts per language")):
        c = data.get(kind)
        if c is not None:
            values = sorted(set(c.per_language.values()))
            shown = f"{values[0]:,}" if len(values) == 1 else f"{values[0]:,}-{values[-1]:,}"
            basis = "assumed" if "assumed" in c.source else "counted"
            out.append(Assumption(what, f"{shown} x {len(c.per_language)} languages ({c.source})", basis))
    out += [
        Assumption(
            "export",
            f"~{est.EXPORT_SECONDS_PER_REF_MODEL:.0f} s per 270M model, scaled by params; GGUF bytes/param: "
            + ", ".join(f"{q} {est.QUANT_BYTES_PER_PARAM[q]}" for q in recipe.export.quantizations),
            "measured",
        ),
        Assumption("disk per response", "~2 KB in the study database", "assumed"),
        Assumption(
            "machine",
            machine.description or machine.gpu_class,
            ("assumed VRAM of the class; " if g.is_gpu and machine.description.startswith("--gpu") else "")
            + "RAM and free disk read from this machine",
        ),
    ]
    return out


def machine_problems(plan: PlanEstimate) -> list[str]:
    """What exceeds the machine: a stage's memory over its RAM or VRAM, the study's disk over its free
    disk. Each estimate over a limit gets a flag too. Unknown facts are not checked."""
    m, problems = plan.machine, []
    limits = {"RAM": m.ram_bytes, "VRAM": m.vram_bytes}
    for e in plan.estimates:
        have = limits.get(e.memory_kind)
        if have and e.memory_bytes and e.memory_bytes > have:
            e.flags.append(f"over {e.memory_kind}")
            problems.append(
                f"{e.stage} needs ~{_gb(e.memory_bytes)} of {e.memory_kind}; the machine has {_gb(have)} "
                f"({m.description or m.gpu_class})"
            )
        if m.free_disk_bytes and e.disk_bytes and e.disk_bytes > m.free_disk_bytes:
            e.flags.append("over free disk")
    disk = plan.totals["disk_bytes"]
    if m.free_disk_bytes and disk and disk > m.free_disk_bytes:
        problems.append(
            f"the study needs ~{_gb(disk)} of disk; {m.disk_path or 'the models folder'} has "
            f"{_gb(m.free_disk_bytes)} free"
        )
    return problems


def _gb(n: float) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def context_problems(recipe: Recipe) -> list[str]:
    """Where ``max_new_tokens`` cannot fit for certain: not even with an empty prompt, in a model's
    context length (read cheaply: :func:`workbench.modelshape.model_shape`; unknown lengths are not
    checked) or in ``[generation] n_ctx``. One line per problem, naming the recipe key. Where only the
    estimated prompt length makes it tight, :func:`context_warnings` says so instead."""
    return _context_lines(recipe)[0]


def context_warnings(recipe: Recipe) -> list[str]:
    """Where an estimated prompt plus ``max_new_tokens`` is over the context: long answers may be cut."""
    return _context_lines(recipe)[1]


def _context_lines(recipe: Recipe) -> tuple[list[str], list[str]]:
    g = recipe.generation
    prompt = est.prompt_tokens(recipe)
    need = prompt + g.max_new_tokens
    problems: list[str] = []
    warnings: list[str] = []
    if g.n_ctx is not None and g.max_new_tokens >= g.n_ctx:
        problems.append(
            f"generation.n_ctx: {g.n_ctx:,} tokens per sequence cannot hold max_new_tokens {g.max_new_tokens:,} "
            "and a prompt; raise n_ctx (or leave it unset) or lower max_new_tokens"
        )
    elif g.n_ctx is not None and need > g.n_ctx:
        warnings.append(
            f"generation.n_ctx: {g.n_ctx:,} tokens per sequence may not hold ~{prompt} prompt tokens "
            f"+ max_new_tokens {g.max_new_tokens:,}: long answers would be cut; raise n_ctx or lower max_new_tokens"
        )
    for m in recipe.models:
        shape = model_shape(m)
        limit = shape.context_length if shape else None
        if not limit:
            continue
        if g.n_ctx is not None and g.n_ctx > limit:
            problems.append(
                f"generation.n_ctx: {g.n_ctx:,} is over model {m.name!r}'s context of {limit:,} tokens ({shape.source})"
            )
        if g.max_new_tokens >= limit:
            problems.append(
                f"generation.max_new_tokens: {g.max_new_tokens:,} leaves no room for a prompt in model "
                f"{m.name!r}'s context of {limit:,} tokens ({shape.source}); "
                f"lower it to at most {max(limit - prompt, 1):,}"
            )
        elif need > limit:
            warnings.append(
                f"generation.max_new_tokens: {g.max_new_tokens:,} + ~{prompt} prompt tokens (estimated) is over "
                f"model {m.name!r}'s context of {limit:,} tokens ({shape.source}): long answers would be cut; "
                f"lower it to about {max(limit - prompt, 1):,}"
            )
    return problems, warnings


def check_context(recipe: Recipe) -> None:
    """Raise a :class:`WorkbenchError` naming the first of :func:`context_problems` (if any)."""
    problems = context_problems(recipe)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise WorkbenchError(problems[0] + more, "`workbench plan RECIPE` lists every problem")


def parse_stages(only: str | None) -> list[str]:
    """The stages named in ``--only`` (comma-separated), in run order; every stage when None.

    An empty ``--only`` is a usage error, never "everything"."""
    names = registry.names()
    if only is None:
        return names
    wanted = [s.strip() for s in only.split(",") if s.strip()]
    if not wanted:
        from workbench.errors import UsageError

        raise UsageError(f"--only: {only!r} names no stage", f"name one or more of: {', '.join(names)}")
    for s in wanted:
        if s not in names:
            raise registry.unknown_stage(s, "--only")
    return [s for s in names if s in wanted]


def upstream_units(need: str, cell: Cell | None, recipe: Recipe, all_cells: list[Cell]) -> list[Cell | None]:
    """The units of stage ``need`` that the unit on ``cell`` reads.

    A study-scoped need is its one unit; a cell-scoped one is the same cell when the need applies to
    it, else the model's base cell when it applies there (a fine-tune reads its model's aligned base),
    else nothing. A study-scoped stage needing a cell stage reads every unit of it.
    """
    stage = registry.get(need)
    if stage.scope == "study":
        return stage.units(recipe, all_cells)  # [None], or [] for a study stage this recipe skips
    if cell is None:
        return stage.units(recipe, all_cells)
    if stage.applies_to(cell, recipe):
        return [cell]
    base = next((c for c in all_cells if c.model == cell.model and c.kind == "base"), None)
    return [base] if base is not None and stage.applies_to(base, recipe) else []


def _all_needs(name: str) -> list[str]:
    """Every stage ``name`` needs, directly or through other needs, in run order."""
    seen: list[str] = []
    frontier = list(registry.get(name).needs)
    while frontier:
        need = frontier.pop(0)
        if need not in seen:
            seen.append(need)
            frontier += registry.get(need).needs
    return [n for n in registry.names() if n in seen]


@dataclass
class RunPlan:
    """What a run will do: stages in order with their units, and what it says about its needs."""

    stages: list[tuple[str, list[Cell | None]]]
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [s for s, _ in self.stages]


def run_plan_for(recipe: Recipe, only: str | None, selected: list[Cell], is_done) -> RunPlan:
    """The stages a run covers, with the needs of an ``--only`` run resolved.

    ``is_done(stage, cell)`` tells whether a unit is complete with its current inputs. A need that
    is not done is added when its stage is cheap (``auto``, e.g. ``prepare``) and said in a note;
    any other need that is not done is reported in a note (a cell stage then stops with an error
    naming what is missing; a study stage works with what is there), never run behind the user's back.
    """
    registry.check_order()
    chosen = parse_stages(only)
    all_cells = cells(recipe)
    notes: list[str] = []
    if only:
        added: list[str] = []
        missing: dict[tuple[str, str], list[str]] = {}
        for name in chosen:
            stage = registry.get(name)
            for cell in stage.units(recipe, selected):
                for need in stage.needs:
                    if need in chosen:
                        continue
                    pending = [u for u in upstream_units(need, cell, recipe, all_cells) if not is_done(need, u)]
                    if pending and not registry.get(need).auto:
                        units = missing.setdefault((name, need), [])
                        units += [u.id if u else "study" for u in pending if (u.id if u else "study") not in units]
        # Cheap stages anywhere upstream (through needs that are not run, too) are run when not done:
        # a later stage may rely on what they record (``prepare`` records the cells every run refers to).
        for name in chosen:
            for need in _all_needs(name):
                stage = registry.get(need)
                if need in chosen or need in added or not stage.auto:
                    continue
                if any(not is_done(need, u) for u in stage.units(recipe, selected)):
                    added.append(need)
        for need in added:
            dependants = [s for s in chosen if need in _all_needs(s)]
            verb = "needs" if len(dependants) == 1 else "need"
            notes.append(f"also running {need}: {', '.join(dependants)} {verb} it and it is not done")
        selected_ids = {c.id for c in selected}
        for (name, need), units in missing.items():
            shown = ", ".join(units[:3]) + (f" and {len(units) - 3} more" if len(units) > 3 else "")
            outside = [u for u in units if u != "study" and u not in selected_ids]
            remedy = f"add {need} to --only" + (" and those cells to --cells" if outside else "")
            notes.append(
                f"{name} needs {need}, not done for {shown}: {name} works only with what is already there "
                f"({remedy}, or run the whole plan)"
            )
        chosen = [s for s in registry.names() if s in chosen or s in added]
    if "judge" in chosen:
        from workbench.judges import coverage

        notes += coverage.warnings(recipe)
    return RunPlan([(name, registry.get(name).units(recipe, selected)) for name in chosen], notes)
