"""LLM judges: a GGUF judge model run through llama.cpp with a preset (see :mod:`workbench.judges.presets`).

All items of one call go through one :class:`~workbench.engines.generate.Engine`, batched like
generation (continuous batching, greedy decoding, ``max_new_tokens`` from the recipe or the preset's
default). :meth:`LLMJudge.judge_iter` yields ``(index, verdict)`` as each answer finishes, so a caller
can commit every judgment as it is produced; :meth:`LLMJudge.judge` returns them in input order.

The ``degenerate`` and ``off_language`` flags come from :mod:`workbench.judges.textchecks` on the
*response* text, not on the judge's answer. A prompt that would not fit the judge's context
(``min(max_context, the model's training context)`` minus ``max_new_tokens``) keeps the start of the
response (and, if it must, of the request); the evidence records it.

Building a judge is cheap (the model is loaded only when judging): its key hashes the preset, the
template, the parse rule, the token budget, the parser version and the judge GGUF's content key
(:func:`workbench.filekeys.file_key`: its bytes, hashed once per version of the file and remembered),
so replacing the file changes it and touching or moving it does not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from workbench import filekeys
from workbench.errors import WorkbenchError
from workbench.events import Emit, Log
from workbench.judges.base import JudgeItem, Verdict, in_input_order
from workbench.judges.presets import PARSER_VERSION, Parsed, Preset, get_preset

DEFAULT_MAX_CONTEXT = 4096
GGUF_MAGIC = b"GGUF"


def resolve_model(spec, *, allow_downloads: bool = False, log=None) -> Path:
    """The judge's GGUF file: ``model``, or ``hub``/``file`` (at ``revision``) from the Hugging Face
    cache, downloaded (that file alone) only when ``allow_downloads``.

    Raises WorkbenchError naming the judge when there is none, it is missing or it is not a GGUF.
    """
    name = spec.name
    if spec.model is not None:
        path = Path(spec.model).expanduser()
    elif spec.hub and spec.file:
        from workbench.hub import hub_file

        path = hub_file(
            spec.hub,
            spec.file,
            revision=spec.revision,
            allow_downloads=allow_downloads,
            label=f"judge {name!r}",
            log=log,
        )
    else:
        raise WorkbenchError(
            f"judge {name!r}: no judge model configured",
            "set model = the judge's GGUF file (or hub and file) in its [[judges]] entry",
        )
    if not path.is_file():
        raise WorkbenchError(
            f"judge {name!r}: model file {path} not found", "download the judge's GGUF or fix the judge's model path"
        )
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise WorkbenchError(f"judge {name!r}: cannot read {path}: {exc}", "check the file's permissions") from exc
    if magic != GGUF_MAGIC:
        raise WorkbenchError(
            f"judge {name!r}: {path} is not a GGUF file",
            "point the judge's model at a .gguf file (convert the judge with llama.cpp's convert_hf_to_gguf.py)",
        )
    return path.resolve()


def _textchecks():
    try:
        from workbench.judges import textchecks
    except ImportError:
        return None
    return textchecks


class LLMJudge:
    """A judge model (GGUF) with a preset; implements the :class:`~workbench.judges.base.Judge` protocol."""

    batched = True  # all items of a call share one engine; verdicts come as the answers finish

    def __init__(
        self,
        spec,
        *,
        n_parallel: int = 8,
        emit: Emit | None = None,
        rule: str | None = None,
        max_context: int = DEFAULT_MAX_CONTEXT,
        n_gpu_layers: int | str = "auto",
    ):
        if spec.kind != "llm" or not spec.preset:
            raise WorkbenchError(f"judge {spec.name!r} is not an llm judge with a preset", "set kind and preset")
        self.spec = spec
        self.name = spec.name
        # the custom preset's parse rule: the argument (for tests and callers outside recipes), else the recipe's
        rule = rule or spec.parse
        self.preset: Preset = get_preset(spec.preset, judge=spec.name, template=spec.template, rule=rule)
        self.model_path = resolve_model(spec)
        self.max_new_tokens = (
            spec.max_new_tokens if "max_new_tokens" in spec.model_fields_set else self.preset.max_new_tokens
        )
        self.n_parallel = max(1, int(n_parallel))
        self.max_context = int(max_context)
        self.n_gpu_layers = n_gpu_layers
        self.emit = emit or (lambda event: None)

    # -- identity ---------------------------------------------------------------------------------
    @property
    def key(self) -> str:
        from workbench.cells import digest

        tc = _textchecks()
        return digest(
            {
                "kind": "llm",
                "preset": self.preset.name,
                "template": self.preset.template,
                "raw_format": self.preset.raw_format,
                "rule": self.preset.rule,
                "max_new_tokens": self.max_new_tokens,
                "max_context": self.max_context,
                "parser_version": PARSER_VERSION,
                "model": filekeys.file_key(self.model_path),
                "textchecks": getattr(tc, "TEXTCHECKS_VERSION", "present") if tc else "absent",
            }
        )

    # -- judging ----------------------------------------------------------------------------------
    def judge(self, items: list[JudgeItem]) -> list[Verdict]:
        """One verdict per item, in input order."""
        items = list(items)
        return in_input_order(self.judge_iter(items), len(items))

    def judge_iter(self, items: list[JudgeItem]) -> Iterator[tuple[int, Verdict]]:
        """Yield ``(index, verdict)`` for every item, in the order the judge model finishes them."""
        from workbench.engines.generate import Engine, Request

        items = list(items)
        if not items:
            return
        with Engine(
            self.model_path, n_parallel=min(self.n_parallel, len(items)), n_gpu_layers=self.n_gpu_layers
        ) as engine:
            prompter = _Prompter(engine, self.preset, self.name, self.max_new_tokens, self.max_context)
            if prompter.note:
                self.emit(Log(message=prompter.note, level="warning"))
            requests, infos = [], []
            for i, item in enumerate(items):
                tokens, info = prompter.tokens(item)
                requests.append(Request(key=i, tokens=tokens, max_new_tokens=self.max_new_tokens))
                infos.append(info)
            for result in engine.generate(requests):
                i = result.key
                yield i, self._verdict(items[i], result, infos[i])

    def _verdict(self, item: JudgeItem, result, info: dict[str, Any]) -> Verdict:
        parsed: Parsed = self.preset.parse(result.text)
        evidence: dict[str, Any] = {
            "preset": self.preset.name,
            "line": parsed.line,
            **({"rule": self.preset.rule} if self.preset.rule else {}),
            **parsed.details,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "finish_reason": result.finish_reason,
            **info,
        }
        degenerate = off_language = False
        tc = _textchecks()
        if tc is not None:
            degenerate, deg_ev = tc.degeneracy(item.response)
            off_language, lang_ev = tc.is_off_language(item.response, item.lang)
            evidence["degeneracy"] = deg_ev
            evidence["language"] = lang_ev
        else:
            evidence["textchecks"] = "unavailable"
        return Verdict(
            label=parsed.label,
            score=parsed.score,
            degenerate=bool(degenerate),
            off_language=bool(off_language),
            harmful=parsed.harmful,
            evidence=evidence,
            raw_output=result.text,
        )


class _Prompter:
    """Renders and tokenizes one judge prompt per item, fitting it into the judge's context."""

    def __init__(self, engine, preset: Preset, judge: str, max_new_tokens: int, max_context: int):
        import llama_cpp

        self.engine = engine
        self.preset = preset
        self.note: str | None = None
        n_train = int(llama_cpp.llama_model_n_ctx_train(engine.model))
        self.limit = min(max_context, n_train) if n_train > 0 else max_context
        self.budget = self.limit - max_new_tokens
        if self.budget < 64:
            raise WorkbenchError(
                f"judge {judge!r}: max_new_tokens {max_new_tokens} leaves no room for a prompt in {self.limit} tokens",
                "lower the judge's max_new_tokens",
            )
        template = engine.chat_template()
        self.has_template = bool(template)
        if template:
            cue = preset.template_cue
            if cue and cue not in template.lower():
                self.note = (
                    f"judge {judge!r}: the chat template of {engine.path.name} does not look like a "
                    f"{preset.name} template (no {cue!r}); its answers may be unparseable"
                )
        elif preset.conversation:
            raise WorkbenchError(
                f"judge {judge!r}: {engine.path.name} has no chat template, which the {preset.name} preset needs",
                f"use a {preset.name} GGUF converted with its tokenizer's chat template",
            )

    def _render(self, prompt: str, response: str, lang: str) -> list[int]:
        p = self.preset
        if p.conversation:
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
        else:
            messages = [{"role": "user", "content": p.fill(prompt, response, lang)}]
        if self.has_template:
            try:
                text = self.engine.render(messages)
            except Exception as exc:  # a template's raise_exception or a Jinja error
                raise WorkbenchError(
                    f"{self.engine.path.name}: its chat template failed to render: {exc}",
                    "check the judge GGUF's chat template",
                ) from exc
        else:
            text = (p.raw_format or "{text}").replace("{text}", messages[0]["content"])
        return self.engine.prompt_tokens(text)

    def tokens(self, item: JudgeItem) -> tuple[list[int], dict[str, Any]]:
        tokens = self._render(item.prompt, item.response, item.lang)
        if len(tokens) <= self.budget:
            return tokens, {}
        info: dict[str, Any] = {"truncated": {"context": self.limit, "prompt_tokens_full": len(tokens)}}
        prompt = item.prompt
        response, kept = self._shorten(
            item.response, lambda text: self._render(prompt, text, item.lang), info["truncated"], "response"
        )
        if kept is None:  # even an empty response does not fit: cut the request too
            prompt, _ = self._shorten(
                item.prompt, lambda text: self._render(text, "", item.lang), info["truncated"], "request"
            )
            response = ""
        tokens = self._render(prompt, response, item.lang)
        if len(tokens) > self.budget:  # a template longer than the context on its own
            tokens = tokens[: self.budget]
            info["truncated"]["cut_prompt_end"] = True
        return tokens, info

    def _shorten(self, text: str, render, record: dict, what: str) -> tuple[str, int | None]:
        """Keep the start of ``text`` so that ``render(text)`` fits the budget; (text, tokens kept)."""
        ids = self.engine.tokenize(text)
        record[f"{what}_tokens"] = len(ids)
        record[f"{what}_tokens_kept"] = 0
        overhead = len(render(""))
        if overhead > self.budget:
            return "", None
        keep = self.budget - overhead - 4
        for _ in range(4):
            if keep <= 0:
                break
            short = self.engine.detokenize(ids[:keep])
            over = len(render(short)) - self.budget
            if over <= 0:
                record[f"{what}_tokens_kept"] = keep
                return short, keep
            keep -= over + 4
        return "", 0


def build_judge(spec, *, n_parallel: int = 8, emit: Emit | None = None) -> LLMJudge | None:
    """An :class:`LLMJudge` for an ``llm`` JudgeSpec (None for other kinds).

    Cheap: checks the preset, the template and that the model file exists and is a GGUF (raising
    WorkbenchError naming the judge otherwise, so the caller can skip it with a warning), without
    loading the model.
    """
    if spec.kind != "llm":
        return None
    return LLMJudge(spec, n_parallel=n_parallel, emit=emit)
