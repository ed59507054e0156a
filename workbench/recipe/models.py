"""The recipe schema. Extra keys are forbidden everywhere; messages speak TOML words.

A recipe describes one study: base models, fine-tune and evaluation languages, data sources, and the
settings of each stage. ``docs/recipes.md`` documents every key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from workbench.recipe.fields import (  # noqa: F401  (re-exported: the schema's public names)
    EMBEDDED_MODELS,
    MAX_BATCH,
    MAX_CONTEXT,
    MAX_EPOCHS,
    MAX_NEW_TOKENS,
    MAX_ROWS,
    MAX_STEPS,
    MODEL_FAMILIES,
    NAME_RE,
    QUANTIZATIONS,
    SHIPPED_DATASETS,
    Name,
    Strict,
    check_language,
    check_name,
    unknown_value,
)
from workbench.recipe.judging import JudgeSpec, default_judges

Language = Annotated[str, Field(min_length=1)]
# No supported model answers usefully past this; `workbench plan` also checks the model's own context.


class StudySettings(Strict):
    name: Name("study name")
    description: str = ""
    allow_downloads: bool = False


class ModelSpec(Strict):
    """A base model: exactly one of ``hub``, ``path`` or ``embedded``."""

    name: Name("model name")
    hub: str | None = None
    revision: str | None = None
    path: Path | None = None
    embedded: str | None = None
    family: str | None = None
    align: bool = False
    chat_template: str | None = None
    enable_thinking: bool = False

    @field_validator("family")
    @classmethod
    def _family(cls, v: str | None) -> str | None:
        if v is None or v in MODEL_FAMILIES:
            return v
        return unknown_value("family", v, MODEL_FAMILIES)

    @field_validator("embedded")
    @classmethod
    def _embedded(cls, v: str | None) -> str | None:
        if v is None or v in EMBEDDED_MODELS:
            return v
        return unknown_value("embedded model", v, EMBEDDED_MODELS)

    @field_validator("hub")
    @classmethod
    def _hub(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[\w.-]+/[\w.-]+$", v):
            raise PydanticCustomError("bad_hub_id", "'{v}' is not a hub id of the form 'owner/name'", {"v": v})
        return v

    @model_validator(mode="after")
    def _one_source(self) -> ModelSpec:
        given = [k for k in ("hub", "path", "embedded") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "model_source",
                "give exactly one of hub, path or embedded (got {given})",
                {"given": ", ".join(given) or "none"},
            )
        if self.embedded and self.family not in (None, "gemma3"):
            raise PydanticCustomError(
                "family_mismatch", "the embedded model is a gemma3 model, not {f}", {"f": self.family}
            )
        return self


class LanguageSettings(Strict):
    finetune: list[Language] = Field(min_length=1)
    evaluate: list[Language] = Field(min_length=1)

    @field_validator("finetune", "evaluate")
    @classmethod
    def _known_and_unique(cls, v: list[str]) -> list[str]:
        for code in v:
            check_language(code)
        seen: set[str] = set()
        dups = [c for c in v if c in seen or seen.add(c)]
        if dups:
            raise PydanticCustomError("duplicate_language", "language '{c}' is listed twice", {"c": dups[0]})
        return v


class DataSource(Strict):
    """Where a data set comes from: exactly one of ``shipped``, ``hub`` or ``path``.

    ``fields`` maps the workbench's column names to the source's; a value may contain ``{lang}``
    (e.g. MultiJail keeps one column per language). ``config``, ``data_files`` and ``filters`` values
    may contain ``{lang}`` too (one hub config, file or row subset per language). ``lang_codes`` maps
    workbench codes to the source's codes where they differ.
    """

    shipped: str | None = None
    hub: str | None = None
    config: str | None = None
    split: str = "train"
    revision: str | None = None
    data_files: str | None = None
    path: Path | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    filters: dict[str, str] = Field(default_factory=dict)  # column = value (value may use {lang})
    lang_codes: dict[str, str] = Field(default_factory=dict)
    limit: int | None = Field(default=None, gt=0, le=MAX_ROWS)

    @field_validator("shipped")
    @classmethod
    def _shipped(cls, v: str | None) -> str | None:
        if v is None or v in SHIPPED_DATASETS:
            return v
        return unknown_value("shipped data set", v, SHIPPED_DATASETS)

    @field_validator("lang_codes")
    @classmethod
    def _codes(cls, v: dict[str, str]) -> dict[str, str]:
        for code in v:
            check_language(code)
        return v

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        given = [k for k in ("shipped", "hub", "path") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "data_source",
                "give exactly one of shipped, hub or path (got {given})",
                {"given": ", ".join(given) or "none"},
            )
        if self.path is not None and self.path.suffix.lower() not in (".jsonl", ".json", ".csv", ".parquet"):
            raise PydanticCustomError(
                "data_format",
                "{p} is not a JSONL, CSV or parquet file (by its suffix)",
                {"p": str(self.path)},
            )
        return self


class DataSettings(Strict):
    benign: DataSource = DataSource(shipped="benign")
    evaluation: DataSource = DataSource(shipped="adversarial")
    alignment: DataSource = DataSource(shipped="alignment")
    # held-out benign answers (instruction/response, never trained on) for the capability stage
    heldout: DataSource = DataSource(shipped="heldout")
    # safe prompts that look unsafe (XSTest-like; the prompt column) for the overrefusal stage
    overrefusal: DataSource = DataSource(shipped="overrefusal")
    # multiple-choice questions (question, choices, answer) for the choice stage
    choice: DataSource = DataSource(shipped="choice")


class OverrefusalSettings(Strict):
    """The ``overrefusal`` stage: refusals of safe prompts that look unsafe, per cell and language."""

    enabled: bool = True
    examples_per_language: int | None = Field(default=None, gt=0, le=MAX_ROWS)


class DriftSettings(Strict):
    """The ``drift`` stage: cosine distance of each prompt's pooled last-layer state, fine-tuned vs base."""

    enabled: bool = True
    prompts_per_language: int | None = Field(default=None, gt=0, le=MAX_ROWS)  # the first N of each language


class CapabilitySettings(Strict):
    """The ``capability`` stage: perplexity of each GGUF on held-out benign answers, per language."""

    enabled: bool = True
    examples_per_language: int | None = Field(default=None, gt=0, le=MAX_ROWS)


class TranslationSettings(Strict):
    """``[translation]``: one translator, two uses. ``prompts``: the ``translate`` stage translates the
    evaluation set from ``source`` into every evaluation language the set lacks. ``responses``: the
    ``backtranslate`` stage translates every non-English response into English (on by itself when a
    judge has ``input = "english"``). The translator is an LLM GGUF through llama.cpp (``kind = "llm"``:
    ``model`` a .gguf file, ``embedded``, or ``hub`` + ``file``) or an NLLB-200-style seq2seq model
    through transformers (``kind = "nllb"``: ``model`` a folder, or ``hub``)."""

    kind: Literal["llm", "nllb"] | None = None
    model: Path | None = None
    embedded: str | None = None
    hub: str | None = None
    file: str | None = None  # llm from the hub: the GGUF file in the repo
    revision: str | None = None
    prompts: bool = False
    responses: bool = False
    source: Language = "en"
    prompt: str | None = None  # llm: the instruction, with {source}, {target} and {text} (default: built in)
    chat_template: str | None = None  # llm: a Jinja template for a GGUF without one (embedded: Gemma 3's)
    max_new_tokens: int = Field(default=512, gt=0, le=MAX_NEW_TOKENS)
    parallel_sequences: int | None = Field(default=None, gt=0, le=MAX_BATCH)
    round_trip: bool = False  # also translate each translation back and keep its chrF against the source

    @field_validator("source")
    @classmethod
    def _source_lang(cls, v: str) -> str:
        return check_language(v)

    @field_validator("embedded")
    @classmethod
    def _embedded(cls, v: str | None) -> str | None:
        if v is not None and v not in EMBEDDED_MODELS:
            return unknown_value("embedded model", v, EMBEDDED_MODELS)
        return v

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, v: str | None) -> str | None:
        if v is not None and "{text}" not in v:
            raise PydanticCustomError("no_text", "the translation prompt must contain {{text}}", {})
        return v

    @model_validator(mode="after")
    def _one_translator(self) -> TranslationSettings:
        sources = [k for k in ("model", "embedded", "hub") if getattr(self, k) is not None]
        if self.kind is None:
            if sources:
                raise PydanticCustomError("no_kind", 'set kind = "llm" (a GGUF) or "nllb" (a seq2seq model)', {})
            return self
        if len(sources) != 1:
            raise PydanticCustomError(
                "one_translator", "name the translator once: model, embedded or hub (got {n})", {"n": len(sources)}
            )
        if self.kind == "nllb" and (self.embedded or self.file):
            raise PydanticCustomError(
                "nllb_source", "an nllb translator is a model folder or a hub repo (model or hub, no file)", {}
            )
        if self.kind == "llm" and self.hub and not self.file:
            raise PydanticCustomError("no_file", "an llm translator from the hub needs file = its .gguf file", {})
        return self

    @property
    def configured(self) -> bool:
        return self.kind is not None


class ChoiceSettings(Strict):
    """The ``choice`` stage: multiple-choice accuracy of each GGUF, per language."""

    enabled: bool = True
    examples_per_language: int | None = Field(default=None, gt=0, le=MAX_ROWS)


class LoraSettings(Strict):
    r: int = Field(default=16, gt=0, le=1024)
    alpha: float = Field(default=32, gt=0, le=4096)
    dropout: float = Field(default=0.0, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"


class TrainingSettings(Strict):
    backend: Literal["auto", "unsloth", "peft"] = "auto"
    load_in_4bit: bool | Literal["auto"] = "auto"
    # The base's dtype while training (align too): "auto" = bf16 on CUDA, and on a CPU where a bf16
    # matrix product is measured >= 1.3x the float32 one; float32 elsewhere. LoRA weights and optimizer
    # state are float32 always.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    group_by_length: bool = True  # batches of similar-length examples (less padding); False: plain shuffle
    lora: LoraSettings = LoraSettings()
    learning_rate: float = Field(default=5e-5, gt=0, lt=1)
    lr_scheduler: Literal["cosine", "linear", "constant"] = "cosine"
    warmup_steps: int = Field(default=0, ge=0, le=MAX_STEPS)
    weight_decay: float = Field(default=0.0, ge=0)
    epochs: list[int] = Field(default_factory=lambda: [1])
    max_steps: int | None = Field(default=None, gt=0, le=MAX_STEPS)
    batch_size: int = Field(default=4, gt=0, le=MAX_BATCH)
    gradient_accumulation: int = Field(default=1, gt=0, le=MAX_BATCH)
    max_seq_length: int = Field(default=512, ge=32, le=MAX_CONTEXT)
    seeds: list[int] = Field(default_factory=lambda: [0])
    examples_per_language: int | None = Field(default=None, gt=0, le=MAX_ROWS)
    save_every_steps: int = Field(default=25, gt=0, le=MAX_STEPS)

    @field_validator("epochs")
    @classmethod
    def _epochs(cls, v: list[int]) -> list[int]:
        if not v:
            raise PydanticCustomError("empty", "must list at least one epoch count", {})
        for e in v:
            if e <= 0 or e > MAX_EPOCHS:
                raise PydanticCustomError(
                    "bad_epochs", "epoch counts must be positive, at most {m} (got {e})", {"e": e, "m": MAX_EPOCHS}
                )
        if len(set(v)) != len(v):
            raise PydanticCustomError("dup", "an epoch count is listed twice", {})
        return v

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if not v:
            raise PydanticCustomError("empty", "must list at least one seed", {})
        if any(s < 0 for s in v):
            raise PydanticCustomError("bad_seed", "seeds must be 0 or greater", {})
        if len(set(v)) != len(v):
            raise PydanticCustomError("dup", "a seed is listed twice", {})
        return v


class AlignSettings(Strict):
    """The ``align`` stage: SFT on the alignment mix for base models without chat behaviour."""

    languages: list[Language] | None = None  # default: the evaluation languages plus English
    learning_rate: float = Field(default=2e-4, gt=0, lt=1)
    warmup_steps: int = Field(default=10, ge=0, le=MAX_STEPS)
    epochs: int = Field(default=2, gt=0, le=MAX_EPOCHS)
    max_steps: int | None = Field(default=None, gt=0, le=MAX_STEPS)
    batch_size: int = Field(default=4, gt=0, le=MAX_BATCH)
    gradient_accumulation: int = Field(default=1, gt=0, le=MAX_BATCH)
    lora: LoraSettings = LoraSettings()
    seed: int = Field(default=0, ge=0)
    examples_per_language: int | None = Field(default=None, gt=0, le=MAX_ROWS)

    @field_validator("languages")
    @classmethod
    def _langs(cls, v: list[str] | None) -> list[str] | None:
        return LanguageSettings._known_and_unique(v) if v is not None else v


class ExportSettings(Strict):
    quantizations: list[str] = Field(default_factory=lambda: ["q4_k_m"], min_length=1)
    keep_merged: bool = False
    min_agreement: float = Field(default=0.95, gt=0, le=1)

    @field_validator("quantizations")
    @classmethod
    def _quants(cls, v: list[str]) -> list[str]:
        for q in v:
            if q not in QUANTIZATIONS:
                unknown_value("quantization", q, QUANTIZATIONS)
        if len(set(v)) != len(v):
            raise PydanticCustomError("dup", "a quantization is listed twice", {})
        return v


class RaySettings(Strict):
    """``[run.ray]``: the Ray cluster the units go to."""

    address: str | None = None  # default: RAY_ADDRESS, else a local cluster started for the run
    workers: int | None = Field(default=None, ge=1)  # a local cluster's CPUs (default: the machine's)
    # CPUs each task asks for; torch and llama.cpp use that many threads (Ray sets OMP_NUM_THREADS)
    cpus_per_task: int = Field(default=1, ge=1)


class SlurmSettings(Strict):
    """``[run.slurm]``: the Slurm job arrays the units go to (through submitit)."""

    partition: str | None = None
    account: str | None = None
    gpus_per_task: int = Field(default=1, ge=0)
    cpus_per_task: int = Field(default=4, ge=1)
    mem_gb: float | None = Field(default=None, gt=0)  # default: from the plan's memory estimate
    time_limit_min: int | None = Field(default=None, ge=1)  # default: 2x the plan's estimate, at least 30
    sbatch: dict[str, str | int] = Field(default_factory=dict)  # extra sbatch options, e.g. {qos = "high"}
    # "slurm": sbatch; "local": submitit's local executor (jobs as processes of this machine, for testing)
    cluster: Literal["slurm", "local"] = "slurm"


class RunSettings(Strict):
    """``[run]``: where the units run (``workbench run --executor`` overrides ``executor``)."""

    executor: Literal["local", "ray", "slurm"] = "local"
    retries: int = Field(default=2, ge=0, le=10)  # a lost worker or pre-empted job is run again this often
    # Where seeds and shards go: a folder every worker can read and write (default: studies/<study>.shards)
    shared_dir: Path | None = None
    ray: RaySettings = RaySettings()
    slurm: SlurmSettings = SlurmSettings()


class GenerationSettings(Strict):
    max_new_tokens: int = Field(default=128, gt=0)
    temperature: float = Field(default=0.0, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    seed: int = Field(default=0, ge=0)
    parallel_sequences: int | Literal["auto"] = "auto"
    n_ctx: int | None = Field(default=None, gt=0, le=MAX_CONTEXT)
    n_gpu_layers: int | Literal["auto"] = "auto"
    system_prompt: str | None = None
    chat_template: str | None = None
    quantization: str | None = None  # which exported GGUF answers (default: the first quantization)

    @field_validator("max_new_tokens")
    @classmethod
    def _max_new(cls, v: int) -> int:
        if v > MAX_NEW_TOKENS:
            raise PydanticCustomError(
                "too_many_tokens",
                "must be at most {limit} (got {v}); a response cannot be longer than the model's context",
                {"limit": MAX_NEW_TOKENS, "v": v},
            )
        return v

    @field_validator("parallel_sequences")
    @classmethod
    def _par(cls, v):
        if isinstance(v, int) and v <= 0:
            raise PydanticCustomError("bad_par", 'must be a positive integer or "auto"', {})
        return v


class Recipe(Strict):
    """One study: what to fine-tune, on what, how to evaluate and judge."""

    study: StudySettings
    models: list[ModelSpec] = Field(min_length=1)
    languages: LanguageSettings
    data: DataSettings = DataSettings()
    training: TrainingSettings = TrainingSettings()
    align: AlignSettings = AlignSettings()
    export: ExportSettings = ExportSettings()
    generation: GenerationSettings = GenerationSettings()
    capability: CapabilitySettings = CapabilitySettings()
    choice: ChoiceSettings = ChoiceSettings()
    drift: DriftSettings = DriftSettings()
    overrefusal: OverrefusalSettings = OverrefusalSettings()
    translation: TranslationSettings = TranslationSettings()
    judges: list[JudgeSpec] = Field(default_factory=default_judges)
    run: RunSettings = RunSettings()
    quick: dict | None = None  # a partial recipe merged over this one by --quick

    _source: Path | None = PrivateAttr(default=None)
    _toml: str = PrivateAttr(default="")

    @property
    def source(self) -> Path | None:
        """The recipe file this was loaded from (None for a recipe built in code)."""
        return self._source

    @property
    def toml_text(self) -> str:
        """The recipe file's text as loaded (kept in the study's recipe snapshot)."""
        return self._toml

    @model_validator(mode="after")
    def _unique_names(self) -> Recipe:
        for what, names in (("model", [m.name for m in self.models]), ("judge", [j.name for j in self.judges])):
            seen: set[str] = set()
            for n in names:
                if n in seen:
                    raise PydanticCustomError("dup_name", "two {what}s are named '{n}'", {"what": what, "n": n})
                seen.add(n)
        return self

    @model_validator(mode="after")
    def _translator_when_needed(self) -> Recipe:
        t = self.translation
        english = [j.name for j in self.judges if j.input == "english"]
        wanted = [w for w, on in (("prompts = true", t.prompts), ("responses = true", t.responses)) if on]
        wanted += [f'judge {n!r} has input = "english"' for n in english]
        if wanted and not t.configured:
            raise PydanticCustomError(
                "no_translator",
                "{what} needs a translator: set [translation] kind and model (or embedded, or hub)",
                {"what": "; ".join(wanted)},
            )
        return self

    @property
    def backtranslates(self) -> bool:
        """Whether responses are translated into English (asked for, or a judge reads English)."""
        return self.translation.configured and (
            self.translation.responses or any(j.input == "english" for j in self.judges)
        )

    # -- derived views ------------------------------------------------------------------------------
    def align_languages(self) -> list[str]:
        """Languages of the alignment mix: the recipe's, or English plus the evaluation languages."""
        if self.align.languages:
            return list(self.align.languages)
        return list(dict.fromkeys(["en", *self.languages.evaluate]))

    def hub_resources(self) -> list[tuple[str, str]]:
        """(key path, hub id) for every hub resource the recipe names."""
        out: list[tuple[str, str]] = []
        for i, m in enumerate(self.models):
            if m.hub:
                out.append((f"models[{i}].hub", m.hub))
        for key in ("benign", "evaluation", "alignment"):
            src = getattr(self.data, key)
            if src.hub:
                out.append((f"data.{key}.hub", src.hub))
        for i, j in enumerate(self.judges):
            if j.hub:
                out.append((f"judges[{i}].hub", j.hub))
        if self.translation.hub:
            out.append(("translation.hub", self.translation.hub))
        return out
