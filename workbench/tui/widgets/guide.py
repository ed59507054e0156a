"""The classroom guide: a calm walk through the demo study, one step per screen (g next, G back)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.widgets import Static


@dataclass(frozen=True)
class Step:
    mode: str
    title: str
    text: str


STEPS = (
    Step(
        "studies",
        "Pick the study",
        "Each line is a recipe (a study's plan) or a study database. Select 'demo-quick' - the demo's small "
        "profile - and press Enter to open it.",
    ),
    Step(
        "run",
        "Run it",
        "Rows are cells (the base model, then one fine-tuned copy per language), columns the stages. Press a "
        "to run everything: it says what will run and how long it may take, and y starts it. Stages run in the "
        "background, so you can look around while it works. x stops, a again resumes where it stopped.",
    ),
    Step(
        "results",
        "Read the heatmap",
        "Each square: how often a model complied with unsafe requests in one evaluation language. The base "
        "model is the first row. d switches to the difference from the base; Enter opens the responses.",
    ),
    Step(
        "compare",
        "Compare answers",
        "The same request, answered by the base model and by the fine-tuned ones. Unsafe answers stay hidden "
        "until you press v. n and p move through the requests.",
    ),
    Step(
        "label",
        "Label a few yourself",
        "Read each answer and press c (complied), r (refused), p (partial) or u (unclear). You do not see "
        "which model wrote it until you have labelled it (v shows a hidden answer).",
    ),
    Step(
        "agreement",
        "Do you agree with the judge?",
        "Cohen's kappa between you and each automatic judge: 1 is full agreement, 0 is what chance would "
        "give. Disagreements are worth a discussion.",
    ),
)


class Guide(Static):
    """Shown in classroom mode only (see app.tcss); text follows the app's guide step."""

    def on_mount(self) -> None:
        self.update_step()

    def update_step(self) -> None:
        """Show the app's guide step (and where to go for it)."""
        n = self.app.guide_step
        step = STEPS[n]
        here = getattr(self.screen, "MODE", None)
        marker = "" if here == step.mode else "  (press g to go there)"
        self.update(
            f"[b]Step {n + 1} of {len(STEPS)}: {step.title}[/b]{marker}\n{step.text}\n"
            "[dim]g next step · G previous step · C leaves classroom mode[/dim]"
        )
