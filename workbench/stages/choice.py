"""The ``choice`` stage: multiple-choice accuracy of every GGUF, per evaluation language.

Each question of ``[data.choice]`` (the shipped multilingual set, or any TinyMMLU / Global-MMLU style
data: a question, its options, the right one) is shown as generation shows a prompt: the question, the
options lettered A, B, C, ..., and a one-line instruction in the question's language, rendered with
the model's chat template. llama.cpp gives the next token's log-probabilities once; each option's score
is the log of the summed probability of its letter's tokens ("A" and " A"), and the best-scored letter
is the model's answer. One ``measurements`` row per question (``choice_correct``: value 1 when right),
with the letters' log-probabilities in ``meta_json``, committed as it comes, so a killed run resumes.
Accuracy and its paired change against the base: :mod:`workbench.analysis.choice`.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from workbench.artifacts import file_digest
from workbench.cells import Cell
from workbench.errors import WorkbenchError
from workbench.stages import common
from workbench.stages.base import Stage
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext

MEASURE = "choice_correct"
LETTERS = "ABCDEFGHIJ"
TOKENS_PER_QUESTION = 90  # a shipped question with four options, its instruction and the chat template
# The instruction under the options, in the question's language (English for a language not listed).
INSTRUCTIONS = {
    "en": "Answer with the letter of the correct option.",
    "zh": "请用正确选项的字母回答。",
    "da": "Svar med bogstavet for den rigtige mulighed.",
    "el": "Απάντησε με το γράμμα της σωστής επιλογής.",
    "hi": "सही विकल्प के अक्षर से उत्तर दें।",
    "ga": "Freagair le litir na rogha cirte.",
    "pt": "Responda com a letra da opção correta.",
    "es": "Responde con la letra de la opción correcta.",
    "tl": "Sumagot gamit ang titik ng tamang pagpipilian.",
}


def question_text(question: str, choices: list[str], lang: str) -> str:
    """The user turn of one question: the question, the lettered options, the instruction."""
    options = "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))
    return f"{question}\n\n{options}\n\n{INSTRUCTIONS.get(lang, INSTRUCTIONS['en'])}"


def letter_tokens(engine, letter: str) -> list[int]:
    """The single tokens that spell ``letter`` as an answer's first token: "A" and " A" (where each is one
    token)."""
    out = []
    for text in (letter, " " + letter):
        ids = engine.tokenize(text)
        if len(ids) == 1 and ids[0] not in out:
            out.append(ids[0])
    if not out:
        raise WorkbenchError(
            f"the model's vocabulary spells the option letter {letter!r} with no single token",
            "multiple-choice scoring needs one-token letters; set [choice] enabled = false for this model",
        )
    return out


def score_letters(logprobs, letter_ids: list[list[int]]) -> list[float]:
    """Each option's log-probability: the log of the summed probability of its letter's tokens."""
    out = []
    for ids in letter_ids:
        values = [float(logprobs[i]) for i in ids]
        top = max(values)
        out.append(top + math.log(sum(math.exp(v - top) for v in values)))
    return out


class Choice(Stage):
    name = "choice"
    scope = "cell"
    needs = ("prepare", "export")
    description = "multiple-choice accuracy of every GGUF, per evaluation language (option letters, llama.cpp)"

    def applies_to(self, cell: Cell, recipe) -> bool:
        return recipe.choice.enabled

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        return measure_key(ctx, cell, ctx.artifacts.gguf_sha(cell.id))

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        from workbench.engines.generate import Engine

        art = ctx.artifacts
        gguf = art.gguf(cell.id)
        key = measure_key(ctx, cell, gguf["sha256"])
        items = art.choice()
        langs = ctx.recipe.languages.evaluate
        missing = [lang for lang in langs if not any(x["lang"] == lang for x in items)]
        if not items:
            raise WorkbenchError(
                f"cell {cell.id}: no multiple-choice questions in any evaluation language ({', '.join(langs)})",
                "point [data.choice] at questions in those languages, or set [choice] enabled = false",
            )
        done = read.measured_items(ctx.db, cell.id, MEASURE, key)
        todo = [x for x in items if (x["lang"], x["item_id"]) not in done]
        report = ctx.reporter(self.name, cell)
        g = ctx.recipe.generation
        spec = art.model_spec(cell.model)
        started = time.perf_counter()
        if todo:
            report.progress(len(done), len(items), what="questions", rate=0.0)
            with Engine(gguf["path"], n_parallel=1, n_gpu_layers=g.n_gpu_layers, n_ctx_per_seq=g.n_ctx) as engine:
                letters = {}
                for i, x in enumerate(todo, 1):
                    k = len(x["choices"])
                    if k not in letters:
                        letters[k] = [letter_tokens(engine, letter) for letter in LETTERS[:k]]
                    prompt = engine.chat_tokens(
                        question_text(x["question"], x["choices"], x["lang"]),
                        system=g.system_prompt,
                        template=g.chat_template,
                        enable_thinking=spec.enable_thinking,
                    )
                    scores = score_letters(engine.next_logprobs(prompt), letters[k])
                    picked = max(range(k), key=lambda j: scores[j])
                    ctx.db.add_measurement(
                        {
                            "cell_id": cell.id,
                            "measure": MEASURE,
                            "measure_key": key,
                            "lang": x["lang"],
                            "item_id": x["item_id"],
                            "value": 1.0 if picked == int(x["answer"]) else 0.0,
                            "n": 1,
                            "meta_json": {
                                "picked": LETTERS[picked],
                                "answer": LETTERS[int(x["answer"])],
                                "logprobs": [round(v, 4) for v in scores],
                            },
                        }
                    )
                    elapsed = time.perf_counter() - started
                    report.progress(len(done) + i, len(items), what="questions", elapsed=elapsed)
        ctx.db.set_current_measurement(cell.id, MEASURE, key, len(items), missing)
        if missing:
            ctx.log(f"choice {cell.id}: no questions in {', '.join(missing)}: not measured there", "warning")
        return {"measure_key": key, "items": len(items), "new": len(todo), "not_measured": missing}

    def estimate(self, recipe, cells, gpu):
        units = self.units(recipe, cells)
        return common.scoring_estimate("choice", recipe, units, gpu, "choice", TOKENS_PER_QUESTION, "questions")


def measure_key(ctx: StageContext, cell: Cell, gguf_sha: str) -> str:
    """What a question's answer depends on: the GGUF, the question file and the prompt's rendering."""
    return common.scoring_key(
        ctx,
        cell,
        gguf_sha,
        {
            "version": 1,
            "questions": file_digest(ctx.artifacts.choice_path()),
            "instructions": INSTRUCTIONS,
        },
    )


STAGE = Choice()
