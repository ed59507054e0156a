"""The translators behind ``[translation]``: an LLM GGUF through the batched llama.cpp engine, or an
NLLB-200-style seq2seq model through transformers.

Both take :class:`Job` s (a key, a text, its language and the language wanted) and yield a
:class:`Done` per job as it finishes. ``key`` is a digest of everything that changes a translation
(the model's bytes or hub revision, the prompt, the token limit), stored with every translation so a
changed translator translates again. Nothing downloads unless the study allows it; ``trust_remote_code``
stays off.

- ``llm``: each text goes in a chat turn with :data:`workbench.translation.DEFAULT_PROMPT` (or the
  recipe's ``prompt``), greedy, ``max_new_tokens`` at most.
- ``nllb``: the text is cut into lines and sentences (NLLB-200 was trained on sentences and drops
  content of long inputs), each translated with the FLORES-200 code of the target forced as the first
  token, greedy; the pieces are joined with the text's own line breaks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench import translation
from workbench.cells import digest
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.recipe.models import TranslationSettings


@dataclass(frozen=True)
class Job:
    key: Any
    text: str
    source: str  # ISO 639-1
    target: str


@dataclass(frozen=True)
class Done:
    key: Any
    text: str
    finish_reason: str | None  # "stop", or "length" when the token limit cut it


def label(settings: TranslationSettings) -> str:
    """How messages name the translator."""
    what = settings.model or settings.embedded or (f"{settings.hub}/{settings.file}" if settings.file else settings.hub)
    return f"translator ({settings.kind}: {what})"


def resolve(settings: TranslationSettings, *, allow_downloads: bool, log=None) -> Path:
    """The translator's GGUF file (llm) or model folder (nllb); raises a one-line WorkbenchError."""
    from workbench import assets, hub

    name = label(settings)
    if settings.embedded:
        return assets.embedded_model()
    if settings.model is not None:
        path = Path(settings.model)
        if settings.kind == "llm" and not path.is_file():
            raise WorkbenchError(f"{name}: {path} is not a GGUF file", "set [translation] model to a .gguf file")
        if settings.kind == "nllb" and not (path / "config.json").is_file():
            raise WorkbenchError(
                f"{name}: {path} is not a model folder (no config.json)",
                "set [translation] model to a folder saved with save_pretrained (config, weights, tokenizer)",
            )
        return path
    if settings.kind == "llm":
        return hub.hub_file(
            settings.hub,
            settings.file,
            revision=settings.revision,
            allow_downloads=allow_downloads,
            label=name,
            log=log,
        )
    return hub.hub_snapshot(
        settings.hub,
        revision=settings.revision,
        allow_patterns=["*.json", "*.safetensors", "*.model", "*.txt"],
        allow_downloads=allow_downloads,
        label=name,
        error=WorkbenchError,
        log=log,
    )


def translator_key(settings: TranslationSettings, path: Path) -> str:
    """What a translation depends on: the model (a GGUF's sha256; a folder's config and weights), the
    prompt and the token limit."""
    from workbench.filekeys import file_key, model_files

    if settings.kind == "llm":
        model = file_key(path)
    else:
        model = digest({p.name: file_key(p) for p in model_files(path)})
    return digest(
        {
            "version": 1,
            "kind": settings.kind,
            "model": model,
            "prompt": (settings.prompt or translation.DEFAULT_PROMPT) if settings.kind == "llm" else None,
            "chat_template": settings.chat_template,
            "max_new_tokens": settings.max_new_tokens,
        }
    )


def cached_key(settings: TranslationSettings) -> str:
    """The translator's key from files already here (never downloads), or ``unavailable: ...``."""
    try:
        return translator_key(settings, resolve(settings, allow_downloads=False))
    except WorkbenchError as exc:
        return f"unavailable: {exc.message}"


class LlamaTranslator:
    """An instruct GGUF that translates through :class:`workbench.engines.generate.Engine`."""

    def instruction(self, source: str, target: str) -> str:
        return translation.instruction_head(self.settings.prompt or translation.DEFAULT_PROMPT, source, target)

    def __init__(self, settings: TranslationSettings, path: Path, *, n_parallel: int, n_gpu_layers="auto"):
        self.settings = settings
        self.path = path
        self.key = translator_key(settings, path)
        self.n_parallel = n_parallel
        self.n_gpu_layers = n_gpu_layers

    def translate(self, jobs: list[Job]) -> Iterator[Done]:
        from workbench.engines.generate import Engine, Request

        if not jobs:
            return
        template = self.settings.prompt or translation.DEFAULT_PROMPT
        chat_template = self.settings.chat_template
        if chat_template is None and self.settings.embedded:
            from workbench.engines.chat import TEMPLATES

            chat_template = TEMPLATES["gemma3"]  # the embedded GGUF carries no template
        with Engine(self.path, n_parallel=self.n_parallel, n_gpu_layers=self.n_gpu_layers) as eng:
            requests = [
                Request(
                    i,
                    eng.chat_tokens(
                        translation.prompt_for(template, job.text, job.source, job.target), template=chat_template
                    ),
                    self.settings.max_new_tokens,
                    0.0,
                    1.0,
                    None,
                )
                for i, job in enumerate(jobs)
            ]
            for res in eng.generate(requests):
                yield Done(jobs[res.key].key, res.text.strip(), res.finish_reason)


_SENTENCE = re.compile(r"(?<=[.!?。！？؟।])\s+")
MAX_SEGMENT_CHARS = 600  # a longer sentence is cut at spaces into pieces of about this size


def segments(text: str) -> list[tuple[str, str]]:
    """``text`` as (piece, separator after it): lines, then sentences, then pieces of at most about
    :data:`MAX_SEGMENT_CHARS` characters; joining ``piece + separator`` gives the text back (blank
    lines and the line breaks kept, runs of spaces inside a line become one)."""
    out: list[tuple[str, str]] = []
    lines = text.split("\n")
    for li, line in enumerate(lines):
        end = "\n" if li < len(lines) - 1 else ""
        sentences = [s for s in _SENTENCE.split(line.strip()) if s]
        if not sentences:
            out.append(("", end))
            continue
        pieces: list[str] = []
        for s in sentences:
            while len(s) > MAX_SEGMENT_CHARS:
                cut = s.rfind(" ", 0, MAX_SEGMENT_CHARS)
                cut = cut if cut > 0 else MAX_SEGMENT_CHARS
                pieces.append(s[:cut].strip())
                s = s[cut:].strip()
            if s:
                pieces.append(s)
        out += [(p, " " if pi < len(pieces) - 1 else end) for pi, p in enumerate(pieces)]
    return out


class NllbTranslator:
    """An NLLB-200-style model (``AutoModelForSeq2SeqLM`` with FLORES-200 language tokens)."""

    def instruction(self, source: str, target: str) -> None:
        return None  # no instruction to echo

    batch_size = 8

    def __init__(self, settings: TranslationSettings, path: Path):
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.settings = settings
        self.path = path
        self.key = translator_key(settings, path)
        self.tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(path, trust_remote_code=False, dtype=torch.float32)
        self.model.eval()
        self._torch = torch

    def code(self, lang: str) -> str:
        code = translation.flores_code(lang)
        if code is None or self.tokenizer.convert_tokens_to_ids(code) in (None, self.tokenizer.unk_token_id):
            raise WorkbenchError(
                f"{label(self.settings)}: the model has no language token for {lang} ({code or 'no FLORES-200 code'})",
                "use a translator that covers the language, or leave the language out",
            )
        return code

    def generate_ids(self, texts: list[str], source: str, target: str) -> tuple[Any, int]:
        """The generated ids for ``texts`` (one batch) and the token limit used."""
        tok = self.tokenizer
        tok.src_lang = self.code(source)
        enc = tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=1024)
        limit = self.settings.max_new_tokens
        with self._torch.inference_mode():
            out = self.model.generate(
                **enc,
                forced_bos_token_id=tok.convert_tokens_to_ids(self.code(target)),
                max_new_tokens=limit,
                num_beams=1,
                do_sample=False,
            )
        return out, limit

    def translate(self, jobs: list[Job]) -> Iterator[Done]:
        tok = self.tokenizer
        for job in jobs:
            parts = segments(job.text)
            texts = [p for p, _ in parts if p]
            translated: list[str] = []
            cut = False
            for start in range(0, len(texts), self.batch_size):
                ids, limit = self.generate_ids(texts[start : start + self.batch_size], job.source, job.target)
                translated += tok.batch_decode(ids, skip_special_tokens=True)
                eos = tok.eos_token_id
                # a row with no end-of-sequence token after the decoder's start token ran into the limit
                cut = cut or (ids.shape[1] > limit and any(eos not in row[1:].tolist() for row in ids))
            pieces = iter(translated)
            text = "".join((next(pieces).strip() if p else "") + sep for p, sep in parts)
            yield Done(job.key, text.strip(), "length" if cut else "stop")


def build(settings: TranslationSettings, *, allow_downloads: bool, n_parallel: int = 4, n_gpu_layers="auto", log=None):
    """The recipe's translator, loaded (the model downloaded first only when allowed)."""
    path = resolve(settings, allow_downloads=allow_downloads, log=log)
    if settings.kind == "llm":
        return LlamaTranslator(settings, path, n_parallel=settings.parallel_sequences or n_parallel,
                               n_gpu_layers=n_gpu_layers)  # fmt: skip
    try:
        return NllbTranslator(settings, path)
    except (OSError, ValueError) as exc:
        from workbench.hub import first_line

        raise WorkbenchError(
            f"{label(settings)}: transformers cannot load {path}: {first_line(exc)}",
            "point [translation] model at an NLLB-style seq2seq model (config, weights and tokenizer)",
        ) from None
