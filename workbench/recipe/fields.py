"""What every part of the recipe schema shares: strict models, names, language codes, clear errors."""

from __future__ import annotations

import difflib
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from workbench import languages

MODEL_FAMILIES = ("llama3", "qwen3", "gemma3")
EMBEDDED_MODELS = ("gemma3-270m",)
SHIPPED_DATASETS = ("benign", "adversarial", "alignment", "choice", "heldout", "overrefusal")
QUANTIZATIONS = ("q4_k_m", "q5_k_m", "q6_k", "q8_0", "f16", "bf16", "f32")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def check_name(value: str, what: str) -> str:
    if not NAME_RE.match(value):
        raise PydanticCustomError(
            "bad_name",
            "{what} '{value}' must be 1-64 lowercase letters, digits, '.', '_' or '-'",
            {"what": what, "value": value},
        )
    return value


def check_language(code: str) -> str:
    if code in languages.LANGUAGES:
        return code
    guess = languages.suggest(code)
    extra = (
        f"; did you mean '{guess}' ({languages.get(guess).name})?"
        if guess
        else "; `workbench languages` lists the known codes"
    )
    raise PydanticCustomError(
        "unknown_language", "unknown language code '{code}'{extra}", {"code": code, "extra": extra}
    )


def unknown_value(what: str, value: str, known: tuple[str, ...], *, list_choices: bool = False):
    """Raise the error for a value outside ``known``, with the closest known one.

    ``list_choices`` always lists the choices (for few choices registered or tabled elsewhere, which
    the reader cannot look up in the schema); otherwise they are listed only when nothing is close.
    """
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.5)
    if list_choices:
        extra = (f"; did you mean {close[0]!r}?" if close else "") + f" (choices: {', '.join(known)})"
    else:
        extra = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
    raise PydanticCustomError(
        "unknown_value", "unknown {what} '{value}'{extra}", {"what": what, "value": value, "extra": extra}
    )


def Name(what: str):  # noqa: N802 (a type, spelled like one in the models)
    """A ``str`` field holding a name (of a study, model, judge), checked like :func:`check_name`."""
    return Annotated[str, AfterValidator(lambda value: check_name(value, what))]


MAX_NEW_TOKENS = 32768
# Upper bounds far beyond any study on one GPU: a typo (an extra three zeros) is an error, not a
# plan of years. The model's own context is checked against the prompts later (plan.context_problems).
MAX_CONTEXT = 131072  # tokens: the longest context of the supported families (Llama 3.2)
MAX_ROWS = 10_000_000
MAX_STEPS = 10_000_000
MAX_BATCH = 4096
MAX_EPOCHS = 1000
