"""The new-study form's estimate pane: the plan's time, disk and memory for the chosen GPU class.

The numbers are :func:`workbench.plan.plan_estimate`'s, the ones ``workbench plan --gpu CLASS``
prints; what exceeds the class's VRAM, this machine's RAM or its free disk is a warning line.
"""

from __future__ import annotations

from textual.widgets import Static

# The GPU-class select's value for this machine (read from the OS and nvidia-smi, not a class).
THIS_MACHINE = "this"


def gpu_choices() -> list[tuple[str, str]]:
    """The GPU-class select's options as (label, value), ``this machine`` last."""
    from workbench.estimates import GPU_CLASSES

    by_memory = [g for g in GPU_CLASSES.values() if g.based_on]
    others = [g for g in GPU_CLASSES.values() if not g.based_on]
    out = [(f"{g.name}: {g.description}", g.name) for g in (*by_memory, *others)]
    return out + [("this machine (RAM, nvidia-smi)", THIS_MACHINE)]


def machine_for(gpu: str, models_dir):
    """The machine the form plans for: a class (``planned_for``) or this one."""
    from workbench import machine

    return machine.this_machine(models_dir) if gpu == THIS_MACHINE else machine.planned_for(gpu, models_dir)


def estimate_lines(plan) -> tuple[list[str], list[str]]:
    """(summary lines, warning lines) of a :class:`workbench.plan.PlanEstimate`."""
    from workbench.views import duration, size

    m = plan.machine
    vram = f", {size(m.vram_bytes)} VRAM" if m.vram_bytes else ""
    lines = [f"estimate for {m.gpu_class}{vram} (workbench plan --gpu {m.gpu_class}):"]
    lines.append(f"  {'stage':<9}{'units':>9}{'time':>9}{'disk':>9}{'memory':>9}")
    for e in plan.estimates:
        flag = f" [{', '.join(e.flags)}]" if e.flags else ""
        lines.append(
            f"  {e.stage:<9}{e.units:>9,}{duration(e.seconds):>9}{size(e.disk_bytes):>9}"
            f"{size(e.memory_bytes):>9} {e.memory_kind}{flag}"
        )
    t = plan.totals
    peaks = " / ".join(
        f"{size(t[k])} {kind}" for k, kind in (("peak_vram_bytes", "VRAM"), ("peak_ram_bytes", "RAM")) if t[k]
    )
    lines.append(f"  total: {duration(t['seconds'])}, {size(t['disk_bytes'])} disk, peak {peaks}")
    assumed = {a.what: a.value for a in plan.assumptions}
    if "training throughput" in assumed:
        lines.append(f"  assumes training {assumed['training throughput']}")
    return lines, [f"warning: {p}" for p in plan.problems]


class StudyEstimate(Static):
    """Shows :func:`estimate_lines`; the ``warn`` class is set while a stage exceeds the machine."""

    warnings: list[str] = []
    shown = ""

    def show_plan(self, plan) -> None:
        lines, warnings = estimate_lines(plan)
        self.warnings = warnings
        self.shown = "\n".join(lines + warnings)
        self.update(self.shown)
        self.set_class(bool(warnings), "warn")

    def show_text(self, text: str) -> None:
        self.warnings = []
        self.shown = text
        self.update(text)
        self.set_class(False, "warn")
