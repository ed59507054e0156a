"""The ``[[judges]]`` entries of a recipe. Kinds come from the judge registry, presets and parse rules
from the presets table; neither is listed here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from workbench.judges.presets import CUSTOM_RULES, PRESETS
from workbench.judges.registry import judge_kinds
from workbench.recipe.fields import MAX_BATCH, MAX_NEW_TOKENS, Name, Strict, unknown_value


class JudgeSpec(Strict):
    """One ``[[judges]]`` entry. Kinds come from the judge registry, presets and parse rules from the
    presets table (:mod:`workbench.judges.registry`, :mod:`workbench.judges.presets`); neither is
    listed here."""

    name: Name("judge name")
    kind: str
    preset: str | None = None
    model: Path | None = None
    hub: str | None = None
    file: str | None = None
    revision: str | None = None  # of ``hub``: a branch, tag or commit (default: main)
    template: str | None = None
    # "english": the judge reads each response translated into English ([translation] does it) and the
    # prompt in English; "original": as generated
    input: Literal["original", "english"] = "original"
    parse: str | None = None  # the custom preset's parse rule (default: auto)
    max_new_tokens: int = Field(default=32, gt=0, le=MAX_NEW_TOKENS)
    parallel_sequences: int | None = Field(default=None, gt=0, le=MAX_BATCH)  # default: as many as generation uses

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        # read at validation time, so a kind registered after this module was imported validates
        kinds = judge_kinds()
        return v if v in kinds else unknown_value("judge kind", v, kinds, list_choices=True)

    @field_validator("preset")
    @classmethod
    def _preset(cls, v: str | None) -> str | None:
        return v if v is None or v in PRESETS else unknown_value("judge preset", v, tuple(PRESETS), list_choices=True)

    @field_validator("parse")
    @classmethod
    def _parse(cls, v: str | None) -> str | None:
        return (
            v
            if v is None or v in CUSTOM_RULES
            else unknown_value("parse rule", v, tuple(CUSTOM_RULES), list_choices=True)
        )

    @model_validator(mode="after")
    def _llm_needs_preset(self) -> JudgeSpec:
        if self.kind == "llm" and self.preset is None:
            raise PydanticCustomError("no_preset", "an llm judge needs a preset", {})
        preset = PRESETS.get(self.preset) if self.preset else None
        if preset is not None and preset.from_recipe and not self.template:
            raise PydanticCustomError("no_template", "the {p} preset needs a template", {"p": preset.name})
        if self.parse is not None and (preset is None or not preset.from_recipe):
            takers = " or ".join(n for n, p in PRESETS.items() if p.from_recipe)
            raise PydanticCustomError(
                "parse_without_template_preset",
                "parse chooses how a {takers} preset's answers are read; this judge has preset {p}",
                {"takers": takers, "p": repr(self.preset) if self.preset else "none"},
            )
        return self


def default_judges() -> list[JudgeSpec]:
    return [JudgeSpec(name="heuristic", kind="heuristic")]
