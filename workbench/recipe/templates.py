"""``workbench init``: a new recipe from the template."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from workbench.errors import WorkbenchError
from workbench.fsutil import atomic_write
from workbench.recipe.models import NAME_RE

EMBEDDED_MODELS = """[[models]]
name = "gemma3-270m"
embedded = "gemma3-270m"         # the model shipped with the workbench (runs on a CPU)
align = true                     # it is a base model: teach it chat and refusals first (align stage)

# [[models]]
# name = "llama3.2-1b"
# hub = "meta-llama/Llama-3.2-1B-Instruct"
# family = "llama3"              # llama3, qwen3 or gemma3; inferred from the id when omitted
"""

HUB_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")  # the hub's repo ids

HUB_MODELS = """[[models]]
name = "__MODEL_NAME__"
hub = "__HUB_ID__"
# downloaded only with allow_downloads = true (or --allow-downloads)
__FAMILY__
"""

EMBEDDED_TRAINING = {
    "__LEARNING_RATE__": "learning_rate = 2e-4            # the study used 5e-5; a 270M model moves too little\n"
    "                                 # at 5e-5 in a demo-sized run (45 steps), so this template uses 2e-4",
    "__QUANTIZATIONS__": 'quantizations = ["q8_0"]         # not q4_k_m: re-quantizing a 270M model to 4 bits\n'
    "                                 # wipes out what align taught it (its q4_k_m GGUF rambles, q8_0 refuses)",
}
HUB_TRAINING = {
    "__LEARNING_RATE__": "learning_rate = 5e-5            # the learning rate of the study this workbench reproduces",
    "__QUANTIZATIONS__": 'quantizations = ["q4_k_m"]       # the usual 4-bit GGUF for 1B+ chat models',
}


def template_text(name: str, model: str = "embedded") -> str:
    """The template recipe with the study name filled in, fitted to ``model`` (``embedded`` or a hub id)."""
    text = (resources.files("workbench.recipe") / "templates" / "study.toml").read_text(encoding="utf-8")
    if model == "embedded":
        models, training = EMBEDDED_MODELS, EMBEDDED_TRAINING
    else:
        if not HUB_ID_RE.match(model):
            err = WorkbenchError(
                f"--model {model!r}: not 'embedded' and not a hub id (owner/name)",
                "e.g. --model meta-llama/Llama-3.2-1B-Instruct; for a local folder or GGUF, write the recipe "
                "with --model embedded and set models[].path",
            )
            err.exit_code = 2
            raise err
        from workbench.recipe.load import family_from_name

        family = family_from_name(model)
        short = re.sub(r"[^a-z0-9._-]+", "-", model.rsplit("/", 1)[-1].lower()).strip("-")[:64] or "model"
        models = (
            HUB_MODELS.replace("__MODEL_NAME__", short)
            .replace("__HUB_ID__", model)
            .replace(
                "__FAMILY__",
                f'family = "{family}"'
                if family
                else '# family = "llama3"             # llama3, qwen3 or gemma3: set it',
            )
        )
        training = HUB_TRAINING
    text = text.replace("__MODELS__", models)
    for key, value in training.items():
        text = text.replace(key, value)
    return text.replace("__NAME__", name)


def write_template(name: str, directory: Path, *, force: bool = False, model: str = "embedded") -> Path:
    """Write ``directory/name.toml``; refuses to overwrite unless ``force``."""
    if not NAME_RE.match(name):
        err = WorkbenchError(
            f"study name {name!r}: use 1-64 lowercase letters, digits, '.', '_' or '-'",
            "e.g. `workbench init my-study`",
        )
        err.exit_code = 2
        raise err
    path = Path(directory) / f"{name}.toml"
    if path.exists() and not force:
        raise WorkbenchError(f"{path} already exists", "pick another name, or pass --force to overwrite it")
    if Path(directory).exists() and not Path(directory).is_dir():
        err = WorkbenchError(f"--dir {directory}: is a file, not a folder", "name a folder (it is created if missing)")
        err.exit_code = 2
        raise err
    return atomic_write(path, template_text(name, model))
