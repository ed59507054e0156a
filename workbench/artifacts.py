"""Where the stages' outputs live, in one place: stages find each other's work through ``ctx.artifacts``.

A stage never spells another stage's file names or parses its files: ``prepare`` writes the data
files and ``finetune`` reads them through :meth:`Artifacts.benign`; ``export`` writes the manifest
through :meth:`Artifacts.write_manifest` and ``generate`` reads the GGUF through
:meth:`Artifacts.gguf`. The layout (``models/<study>/...``) is documented in docs/architecture.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import fsutil
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.engines.basemodel import BaseModel
    from workbench.recipe.models import ModelSpec, Recipe

MANIFEST = "manifest.json"


def file_digest(path: Path) -> str:
    """The first 16 hex digits of a file's sha256, or ``missing``."""
    from workbench.store import file_sha256

    return file_sha256(path)[:16] if path.is_file() else "missing"


class Artifacts:
    """The study's files under ``models/<study>/``: data, adapters, aligned bases, GGUFs, results."""

    def __init__(
        self,
        recipe: Recipe,
        models_dir: Path,
        *,
        allow_downloads: bool = False,
        log: Callable[[str], None] | None = None,
    ):
        self.recipe = recipe
        self.root = models_dir
        self.allow_downloads = allow_downloads or recipe.study.allow_downloads
        self._log = log or (lambda message: None)

    # -- prepared data (written by prepare) ------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def benign_path(self, lang: str) -> Path:
        return self.data_dir / f"benign-{lang}.jsonl"

    def alignment_path(self) -> Path:
        return self.data_dir / "alignment.jsonl"

    def evaluation_path(self) -> Path:
        return self.data_dir / "evaluation.jsonl"

    def translated_path(self) -> Path:
        """The evaluation prompts the translate stage added (ids of languages the data set lacks)."""
        return self.data_dir / "evaluation-translated.jsonl"

    def heldout_path(self) -> Path:
        return self.data_dir / "heldout.jsonl"

    def overrefusal_path(self) -> Path:
        return self.data_dir / "overrefusal.jsonl"

    def write_jsonl(self, path: Path, rows: list[dict[str, Any]]) -> Path:
        """Write a prepared data file (atomically)."""
        return fsutil.atomic_write_jsonl(path, rows)

    def _read(self, path: Path) -> list[dict[str, Any]]:
        from workbench import data

        if not path.is_file():
            raise WorkbenchError(
                f"{path} is missing: the prepare stage has not run for this recipe",
                "run `workbench run RECIPE --only prepare` (or the whole plan)",
            )
        return data.read_jsonl(path)

    def overrefusal(self) -> list[dict[str, Any]]:
        """The prepared exaggerated-safety prompts of the overrefusal stage (every language it measures)."""
        return self._read(self.overrefusal_path())

    def choice_path(self) -> Path:
        return self.data_dir / "choice.jsonl"

    def choice(self) -> list[dict[str, Any]]:
        """The prepared multiple-choice questions of the choice stage (every language it measures)."""
        return self._read(self.choice_path())

    def heldout(self) -> list[dict[str, Any]]:
        """The prepared held-out benign rows of the capability stage (every language it measures)."""
        return self._read(self.heldout_path())

    def benign(self, lang: str) -> list[dict[str, Any]]:
        """The prepared benign fine-tune rows of one language."""
        return self._read(self.benign_path(lang))

    def alignment(self) -> list[dict[str, Any]]:
        """The prepared alignment mix (helpful answers and refusals)."""
        return self._read(self.alignment_path())

    def evaluation_ids(self) -> list[str]:
        """The prompt ids this recipe evaluates on, in the recipe's evaluation languages: the data set's
        and, with ``[translation] prompts``, the translate stage's."""
        langs = set(self.recipe.languages.evaluate)
        rows = self._read(self.evaluation_path())
        if self.recipe.translation.prompts:
            if not self.translated_path().is_file():
                raise WorkbenchError(
                    f"{self.translated_path()} is missing: the translate stage has not run for this recipe",
                    "run `workbench run RECIPE --only translate` (or the whole plan)",
                )
            rows += self._read(self.translated_path())
        return [r["id"] for r in rows if r["lang"] in langs]

    def evaluation_digest(self) -> str:
        """A digest of the evaluation prompt ids (the data set's and the translated ones)."""
        parts = [file_digest(self.evaluation_path())]
        if self.recipe.translation.prompts:
            parts.append(file_digest(self.translated_path()))
        return "+".join(parts)

    # -- cells --------------------------------------------------------------------------------------------
    def cell_dir(self, cell_id: str) -> Path:
        return self.root / cell_id

    def adapter_dir(self, cell_id: str) -> Path:
        return self.cell_dir(cell_id) / "adapter"

    def align_work_dir(self, model: str) -> Path:
        return self.cell_dir(f"{model}/base") / "align"

    def aligned_dir(self, model: str) -> Path:
        return self.cell_dir(f"{model}/base") / "aligned"

    def results_dir(self) -> Path:
        return self.root / "results"

    # -- base models ----------------------------------------------------------------------------------------
    def model_spec(self, name: str) -> ModelSpec:
        return next(m for m in self.recipe.models if m.name == name)

    def raw_base(self, name: str) -> BaseModel:
        """The model as the recipe names it (downloaded or converted once, cached)."""
        from workbench.engines.basemodel import resolve

        return resolve(self.model_spec(name), allow_downloads=self.allow_downloads, log=self._log)

    def study_base(self, name: str) -> BaseModel:
        """The base the study treats as its model: the aligned base when the recipe aligns it."""
        from workbench.engines.basemodel import BaseModel

        spec = self.model_spec(name)
        base = self.raw_base(name)
        if not spec.align:
            return base
        folder = self.aligned_dir(name)
        if not (folder / "config.json").is_file():
            raise WorkbenchError(
                f"model {name!r} has align = true but its aligned base is missing ({folder})",
                "run the align stage first: `workbench run RECIPE --only align`",
            )
        return BaseModel(name, base.family, folder, base.chat_template, base.source_gguf, base.enable_thinking)

    def base_key(self, name: str) -> dict[str, Any]:
        """What determines the study base's weights, without loading anything heavy.

        A hub model is its id and revision, the embedded one its name (its bytes are pinned by the
        package that ships it), a local model the content of its files.
        """
        spec = self.model_spec(name)
        key: dict[str, Any] = {"model": spec.model_dump(mode="json")}
        if spec.path is not None:
            # A local folder or GGUF is its bytes (config, tokenizer, weights), not its path: replacing
            # the weights under the same path must retrain. Hashed once per file version (filekeys).
            from workbench import filekeys

            key["content"] = filekeys.model_key(spec.path)
        if spec.align:
            align = self.recipe.align.model_dump(mode="json")
            if align.get("languages") and list(align["languages"]) == list(
                dict.fromkeys(["en", *self.recipe.languages.evaluate])
            ):
                align["languages"] = None  # spelling out the default mix is the same mix: same key
            key["align"] = align
            key["alignment_data"] = file_digest(self.alignment_path())
            # align trains with [training]'s loop settings: they shape the aligned weights too
            t = self.recipe.training
            key["loop"] = {
                "backend": t.backend,
                "load_in_4bit": t.load_in_4bit,
                "precision": t.precision,
                "group_by_length": t.group_by_length,
                "max_seq_length": t.max_seq_length,
            }
        return key

    def training_record(self, cell: str, model: str, kind: str) -> dict[str, Any] | None:
        """How a cell's weights were trained (``training.json``: the config and the result, with the
        precision and backend really used): the fine-tune's own, or for a base cell the align run's;
        None for a base that was not trained here."""
        folder = self.cell_dir(cell) if kind == "finetune" else self.align_work_dir(model)
        path = folder / "training.json"
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    # -- exported GGUFs (written by export) -----------------------------------------------------------------
    def manifest_path(self, cell_id: str) -> Path:
        return self.cell_dir(cell_id) / MANIFEST

    def write_manifest(self, cell_id: str, manifest: dict[str, Any]) -> Path:
        """Record a cell's exported files (``files``: quantization -> {path, sha256}) and how they were made."""
        return fsutil.atomic_write_json(self.manifest_path(cell_id), manifest)

    def gguf(self, cell_id: str) -> dict[str, Any]:
        """The cell's GGUF for generation: {"path", "sha256", "quantization"}.

        The recipe's ``[generation] quantization``, else the first exported one.
        """
        manifest = self.manifest_path(cell_id)
        quant = self.recipe.generation.quantization or self.recipe.export.quantizations[0]
        if not manifest.is_file():
            raise WorkbenchError(
                f"cell {cell_id}: no exported GGUF ({manifest} is missing)", "run the export stage for this cell first"
            )
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
        if quant not in files:
            raise WorkbenchError(
                f"cell {cell_id}: no {quant} GGUF in {manifest} (exported: {', '.join(files) or 'none'})",
                "set [generation] quantization to an exported one, "
                "or add it to [export] quantizations and rerun export",
            )
        return {**files[quant], "quantization": quant}

    def gguf_sha(self, cell_id: str) -> str:
        """The sha256 of the cell's GGUF for generation, or ``missing`` when it is not exported."""
        try:
            return self.gguf(cell_id)["sha256"]
        except WorkbenchError:
            return "missing"
