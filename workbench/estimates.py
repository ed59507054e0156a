"""Rough resource estimates: what each stage's ``estimate`` is built from.

Calibrated on measurements of the embedded model (docs/estimates.md) and scaled by parameter count;
they are meant to tell minutes from hours, not to schedule to the second. Each stage module turns
these into its own :class:`Estimate`; ``workbench plan`` lists them in registry order.

Three kinds of facts feed them, each read without a heavy import: the GPU class planned for
(:data:`GPU_CLASSES`), the rows the stages will read (:func:`data_counts`: the prepared files once
``prepare`` has run, else the sources themselves) and the model's shape
(:func:`workbench.modelshape.model_shape`: the context length and what the KV cache holds per token).
"""

from __future__ import annotations

import csv
import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.errors import UsageError
from workbench.recipe.models import ModelSpec, Recipe

if TYPE_CHECKING:
    from workbench.artifacts import Artifacts

EMBEDDED_PARAMS = {"gemma3-270m": 268e6}

# Calibration (embedded model, 2 CPU cores; see docs/estimates.md). Throughputs scale with 1/params.
REF_PARAMS = 268e6
CPU_TRAIN_TOKENS_S = 115.0  # LoRA fp32, batch 4 (~95 tokens/example): ~3.3 s/step, measured on the demo
CPU_GEN_TOKENS_S = 165.0  # llama.cpp, 16 sequences batched, Q8_0, AVX-512 build (measured on the demo)
GPU_TRAIN_TOKENS_S_1B = 8000.0  # Unsloth 4-bit LoRA on a consumer GPU, 1B model (order of magnitude)
GPU_GEN_TOKENS_S_1B = 3000.0  # llama.cpp with full offload, batched, 1B Q4_K_M
TOKENS_PER_EXAMPLE = 95  # shipped data in the Gemma 3 tokenizer, with the chat template
# The longest evaluation prompt with its chat template (shipped prompts are at most ~180 characters);
# the context check and the KV cache count it once per sequence.
PROMPT_TOKENS = 160
# per language (a test counts the files)
SHIPPED_ROWS = {"benign": 60, "adversarial": 45, "alignment": 80, "heldout": 24, "overrefusal": 24, "choice": 24}
# hub data without a limit, per language
DEFAULT_ROWS = {"benign": 1000, "evaluation": 440, "alignment": 80, "heldout": 100, "overrefusal": 250, "choice": 100}
EXPORT_SECONDS_PER_REF_MODEL = 35.0  # merge + convert + quantize + gate, embedded model, measured
QUANT_BYTES_PER_PARAM = {
    "q4_k_m": 0.6,
    "q5_k_m": 0.7,
    "q6_k": 0.82,
    "q8_0": 1.07,
    "f16": 2.0,
    "bf16": 2.0,
    "f32": 4.0,
}


@dataclass(frozen=True)
class GpuClass:
    """A kind of machine the plan can be made for: its throughputs and typical VRAM.

    ``cpu`` is the measured calibration; the GPU classes scale the consumer-GPU assumption and are
    assumptions, not measurements (docs/estimates.md). A class named by memory (``24GB``) borrows the
    throughputs of the calibration named in ``based_on``. A stage written when this was a bool can
    still say ``if gpu``.
    """

    name: str
    description: str
    train_tokens_s_1b: float = 0.0
    gen_tokens_s_1b: float = 0.0
    vram_bytes: float | None = None
    based_on: str = ""  # the class whose throughputs a memory-named class borrows ("" for its own)

    @property
    def is_gpu(self) -> bool:
        return self.name != "cpu"

    @property
    def memory_kind(self) -> str:
        """Where a model stage's weights live on this class: ``VRAM`` or ``RAM``."""
        return "VRAM" if self.is_gpu else "RAM"

    @property
    def measured(self) -> bool:
        """Whether the throughputs were measured (only the CPU calibration was) or assumed."""
        return not self.is_gpu

    def __bool__(self) -> bool:
        return self.is_gpu


_CALIBRATIONS = (
    GpuClass("cpu", "CPU only"),
    GpuClass("t4", "T4 class (16 GB)", 0.4 * GPU_TRAIN_TOKENS_S_1B, 0.5 * GPU_GEN_TOKENS_S_1B, 16e9),
    GpuClass("consumer", "consumer GPU (RTX 3090/4090 class, 24 GB)", GPU_TRAIN_TOKENS_S_1B, GPU_GEN_TOKENS_S_1B, 24e9),
    GpuClass("a100", "A100 class (80 GB)", 2.0 * GPU_TRAIN_TOKENS_S_1B, 1.7 * GPU_GEN_TOKENS_S_1B, 80e9),
    GpuClass("h100", "H100 class (80 GB)", 3.0 * GPU_TRAIN_TOKENS_S_1B, 2.7 * GPU_GEN_TOKENS_S_1B, 80e9),
)
# Cards as users name them, by memory: (name, typical cards, the calibration whose throughputs they
# borrow). Assumptions, documented in docs/estimates.md: the speed of a card is not its memory.
_BY_MEMORY = (
    ("8GB", "RTX 3060 Ti/3070/4060 class", "t4"),
    ("12GB", "RTX 3060 12 GB/4070 class", "t4"),
    ("16GB", "T4, RTX 4060 Ti 16 GB/4080 class", "t4"),
    ("24GB", "RTX 3090/4090, A10 class", "consumer"),
    ("48GB", "A6000, L40S class", "consumer"),
    ("80GB", "A100/H100 80 GB class", "a100"),
)


def _by_memory(name: str, cards: str, based_on: str) -> GpuClass:
    base = next(g for g in _CALIBRATIONS if g.name == based_on)
    gb = float(name.removesuffix("GB"))
    return GpuClass(
        name,
        f"{gb:g} GB GPU ({cards}; {base.name} throughputs)",
        base.train_tokens_s_1b,
        base.gen_tokens_s_1b,
        gb * 1e9,
        based_on,
    )


GPU_CLASSES = {g.name: g for g in (*_CALIBRATIONS, *(_by_memory(*row) for row in _BY_MEMORY))}
_BY_KEY = {name.lower(): g for name, g in GPU_CLASSES.items()}
# nvidia-smi names -> class; anything else is planned as a consumer GPU (the original GPU assumption).
GPU_NAME_PATTERNS = (
    (r"\b(H100|H200|H800|GH200|B100|B200)\b", "h100"),
    (r"\b(A100|A800)\b", "a100"),
    (r"\b(T4|P4|P40|P100|V100|L4)\b", "t4"),
)


def _key(name: str) -> str:
    """``24GB``, ``24gb``, ``24 GB`` and ``24G`` are one class."""
    key = re.sub(r"\s+", "", name.strip().lower())
    return key + "b" if re.fullmatch(r"\d+g", key) else key


def gpu_class(name: str | GpuClass | bool) -> GpuClass:
    """The class named ``name`` (``--gpu``: ``cpu``, a calibration such as ``a100``, or a memory size
    such as ``24GB``); a bool means the old cpu / consumer-GPU choice.

    An unknown name is a :class:`UsageError` listing the known classes.
    """
    if isinstance(name, GpuClass):
        return name
    if isinstance(name, bool):
        return GPU_CLASSES["consumer" if name else "cpu"]
    key = _key(name)
    if key in _BY_KEY:
        return _BY_KEY[key]
    close = difflib.get_close_matches(key, list(_BY_KEY), n=1, cutoff=0.6)
    raise UsageError(
        f"--gpu: unknown GPU class {name!r}" + (f"; did you mean {_BY_KEY[close[0]].name!r}?" if close else ""),
        "known classes: " + ", ".join(f"{g.name} ({g.description})" for g in GPU_CLASSES.values()),
    )


def classify_gpu(nvidia_name: str) -> str:
    """The class of a GPU as ``nvidia-smi`` names it."""
    for pattern, cls in GPU_NAME_PATTERNS:
        if re.search(pattern, nvidia_name, re.IGNORECASE):
            return cls
    return "consumer"


@dataclass
class Estimate:
    stage: str
    units: int
    seconds: float | None
    disk_bytes: float | None
    memory_bytes: float | None
    memory_kind: str  # "RAM" or "VRAM"
    note: str = ""
    counts_from: str = ""  # where the unit counts came from (the data's source), when data sets them
    flags: list[str] = field(default_factory=list)  # what exceeds the machine (set by the plan)


def model_params(m: ModelSpec) -> float | None:
    """Parameter count from the embedded table, a size in the hub id/name, or a local config.json."""
    if m.embedded:
        return EMBEDDED_PARAMS.get(m.embedded)
    name = (m.hub or str(m.path or "")).lower()
    match = re.search(r"(\d+(?:\.\d+)?)\s*([bm])(?![a-z])", name.split("/")[-1])
    if match:
        return float(match.group(1)) * (1e9 if match.group(2) == "b" else 1e6)
    if m.path and (Path(m.path) / "config.json").is_file():
        try:
            cfg = json.loads((Path(m.path) / "config.json").read_text())
            cfg = cfg.get("text_config", cfg)
            h, layers, vocab = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
            inter = cfg.get("intermediate_size", 4 * h)
            return layers * (4 * h * h + 3 * h * inter) + vocab * h
        except (OSError, ValueError, KeyError):
            return None
    return None


def params_by_model(recipe: Recipe) -> dict[str, float | None]:
    """Parameter count per recipe model name (None where it cannot be told)."""
    return {m.name: model_params(m) for m in recipe.models}


def source_rows(src, default: int) -> int:
    """The rows a source is asked for per language (its limit, a shipped set's size, or ``default``),
    from the recipe alone; the plan uses :func:`data_counts`, which also looks at the data."""
    if src.limit:
        return src.limit
    if src.shipped:
        return SHIPPED_ROWS.get(src.shipped, default)
    return default


def train_seq_tokens(src, training) -> tuple[int, int]:
    """(tokens per example, tokens of the longest sequence in a batch) for a benign or alignment source:
    the shipped sets' measured length (the longest taken as twice the mean), capped by
    ``max_seq_length``; for other data the mean is assumed and the longest is ``max_seq_length`` (an
    upper bound: their lengths are not read)."""
    cap = training.max_seq_length
    mean = min(TOKENS_PER_EXAMPLE, cap)
    return mean, (min(2 * TOKENS_PER_EXAMPLE, cap) if getattr(src, "shipped", None) else cap)


def train_tokens_per_s(params: float, gpu: GpuClass | bool) -> float:
    g = gpu_class(gpu)
    return g.train_tokens_s_1b * 1e9 / params if g.is_gpu else CPU_TRAIN_TOKENS_S * REF_PARAMS / params


def gen_tokens_per_s(params: float, gpu: GpuClass | bool) -> float:
    g = gpu_class(gpu)
    return g.gen_tokens_s_1b * 1e9 / params if g.is_gpu else CPU_GEN_TOKENS_S * REF_PARAMS / params


RUNTIME_BYTES = 1.5e9  # torch, the tokenizer, the data and allocator slack (measured: see docs/estimates.md)
OPTIMIZER_BYTES_PER_TRAINABLE = 16  # float32 LoRA weight, its gradient and AdamW's two moments
SUPERVISED_SHARE = 0.5  # the output head runs on answer tokens only: about half of an example
LORA_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def four_bit_planned(training, gpu: GpuClass | bool) -> bool:
    """Whether a fine-tune loads its base in 4-bit: as asked, and ``"auto"`` means on a GPU only
    (as :func:`workbench.engines.training.use_4bit` decides at run time)."""
    v = getattr(training, "load_in_4bit", "auto")
    return gpu_class(gpu).is_gpu if v == "auto" else bool(v)


def lora_params(shape, params: float | None, lora) -> float | None:
    """Trainable parameters of the LoRA adapter: rank x (in + out) for each targeted projection of
    each layer, from the model's shape; without a shape, 0.09% of the parameters per unit of rank
    (what the embedded model's all-linear shape gives)."""
    r = lora.r
    targets = LORA_MODULES if lora.target_modules == "all-linear" else tuple(lora.target_modules)
    if shape and shape.layers and shape.hidden_size and shape.heads and shape.head_dim:
        h, q = shape.hidden_size, shape.heads * shape.head_dim
        kv = (shape.kv_heads or shape.heads) * shape.head_dim
        ffn = shape.intermediate_size or 4 * h
        sizes = {
            "q_proj": h + q,
            "k_proj": h + kv,
            "v_proj": h + kv,
            "o_proj": q + h,
            "gate_proj": h + ffn,
            "up_proj": h + ffn,
            "down_proj": ffn + h,
        }
        mean = sum(sizes.values()) / len(sizes)  # a module the table does not name: an average one
        return float(shape.layers * r * sum(sizes.get(t.rsplit(".", 1)[-1], mean) for t in targets))
    if params is None:
        return None
    return params * 0.0009 * r * len(targets) / len(LORA_MODULES)


@dataclass(frozen=True)
class TrainMemory:
    """Peak memory of one LoRA fine-tune, by part (bytes)."""

    weights: float
    adapter: float  # LoRA weights, gradients and optimizer state
    activations: float  # kept for the backward pass, the output head's logits included
    runtime: float = RUNTIME_BYTES

    @property
    def total(self) -> float:
        return self.weights + self.adapter + self.activations + self.runtime


def train_footprint(
    params: float | None, gpu: GpuClass | bool, shape=None, training=None, seq_tokens: int | None = None
) -> TrainMemory | None:
    """Peak memory of LoRA training from the model's shape and the training settings.

    Weights: NF4 (~0.56 bytes/param) for the layers when 4-bit, the embeddings kept at 16 bits on a GPU
    and float32 on a CPU (peft's k-bit preparation); 16-bit on a GPU otherwise, float32 on a CPU.
    Activations per micro-batch of ``batch_size`` sequences of ``seq_tokens``: without gradient
    checkpointing (the CPU path) every layer keeps ~17 x hidden + 2.5 x heads x seq values per token
    (Korthikanti et al. 2022, for one transformer layer); with it (Unsloth on a GPU) one such layer
    plus each layer's input. The output head keeps logits, log-softmax and gradient in float32 for the
    supervised tokens. Without a shape, the float32/4-bit rule of thumb per parameter of the first
    calibration (12 bytes on a CPU, 0.75 on a GPU) stands in.
    """
    if params is None:
        return None
    g = gpu_class(gpu)
    if training is None or not shape or not (shape.layers and shape.hidden_size):
        body = params * (0.75 if g.is_gpu else 12.0)
        return TrainMemory(body, 0.0, 0.0)
    four_bit = four_bit_planned(training, g)
    h, layers = shape.hidden_size, shape.layers
    embed = float(shape.vocab_size * h) if shape.vocab_size else 0.0
    body = max(params - embed, 0.0)
    wide = 4.0 if not g.is_gpu else 2.0  # bytes of a value kept unquantized
    weights = body * 0.56 + embed * wide if four_bit else params * wide
    adapter = (lora_params(shape, params, training.lora) or 0.0) * OPTIMIZER_BYTES_PER_TRAINABLE
    b = training.batch_size
    s = seq_tokens or training.max_seq_length
    per_layer = b * s * (17 * h + 2.5 * (shape.heads or 1) * s)
    kept = layers * b * s * h + per_layer if g.is_gpu else layers * per_layer
    logits = b * s * SUPERVISED_SHARE * (shape.vocab_size or 0) * 4 * (2 if g.is_gpu else 3)
    return TrainMemory(weights, adapter, kept * wide + logits)


def train_memory(
    params: float | None, gpu: GpuClass | bool, shape=None, training=None, seq_tokens: int | None = None
) -> float | None:
    """Peak memory of LoRA training (see :func:`train_footprint`), or None when the size is unknown."""
    f = train_footprint(params, gpu, shape, training, seq_tokens)
    return None if f is None else f.total


def train_seconds_factor(params: float | None, shape, training) -> float:
    """How much slower than the calibration a step's tokens go: the adapter's extra work, its
    parameters over the base's (a rank-16 all-linear adapter is ~1.4% of the embedded model). 4-bit on
    a CPU is not counted: its one measurement on the embedded model was too noisy (docs/estimates.md)."""
    if params is None or training is None:
        return 1.0
    extra = (lora_params(shape, params, training.lora) or 0.0) / params
    return 1.0 + extra


def total(values) -> float | None:
    """The sum, or None when any part is unknown (an unknown part makes the whole unknown)."""
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def eval_prompts(recipe: Recipe) -> int:
    """Evaluation prompts over all evaluation languages, from the recipe alone (see :func:`data_counts`)."""
    return source_rows(recipe.data.evaluation, DEFAULT_ROWS["evaluation"]) * len(recipe.languages.evaluate)


# -- the data the stages will read ------------------------------------------------------------------
@dataclass
class DataCount:
    """The rows one kind of data gives the stages, per language, and where that count came from."""

    kind: str  # benign, evaluation or alignment
    per_language: dict[str, int]
    source: str  # in words: "prepared data", "shipped set 'benign' (60 per language)", ...

    @property
    def total(self) -> int:
        return sum(self.per_language.values())

    def rows(self, lang: str) -> int:
        return self.per_language.get(lang, 0)


@lru_cache(maxsize=64)
def _count_rows(path: str, size: int, mtime_ns: int) -> int | None:
    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq  # reads the footer only

            return pq.ParquetFile(p).metadata.num_rows
        with open(p, encoding="utf-8", newline="") as f:
            if suffix == ".csv":
                return max(sum(1 for row in csv.reader(f) if row) - 1, 0)  # less the header
            head = f.read(1024).lstrip()
            f.seek(0)
            if suffix == ".json" and head.startswith("["):
                return len(json.load(f))
            return sum(1 for line in f if line.strip())
    except (OSError, ValueError, ImportError, UnicodeDecodeError):
        return None


def count_rows(path: Path) -> int | None:
    """Rows of a local data file without parsing its records (JSONL lines, CSV rows, a parquet footer);
    None when it cannot be read. Counted once per file version."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return _count_rows(str(path), st.st_size, st.st_mtime_ns)


def _rows_by_lang(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                lang = json.loads(line).get("lang", "")
                out[lang] = out.get(lang, 0) + 1
    return out


def _limit(*caps: int | None) -> int | None:
    given = [c for c in caps if c]
    return min(given) if given else None


def _fresh(path: Path, recipe: Recipe, src) -> bool:
    """A prepared file is used while neither the recipe file nor a local source is newer than it."""
    if not path.is_file():
        return False
    made = path.stat().st_mtime_ns
    for newer in (recipe.source, src.path):
        if newer is not None and Path(newer).is_file() and Path(newer).stat().st_mtime_ns > made:
            return False
    return True


def _prepared(kind: str, recipe: Recipe, art: Artifacts, langs: list[str], src) -> dict[str, int] | None:
    try:
        if kind == "benign":
            paths = [art.benign_path(lang) for lang in langs]
            if not all(_fresh(p, recipe, src) for p in paths):
                return None
            found = {lang: count_rows(p) or 0 for lang, p in zip(langs, paths, strict=True)}
        else:
            path = {
                "evaluation": art.evaluation_path(),
                "heldout": art.heldout_path(),
                "choice": art.choice_path(),
                "overrefusal": art.overrefusal_path(),
            }.get(kind)
            path = path or art.alignment_path()
            if not _fresh(path, recipe, src):
                return None
            found = _rows_by_lang(path)
    except (OSError, ValueError):
        return None
    counts = {lang: found.get(lang, 0) for lang in langs}
    return counts if all(counts.values()) else None  # a language it lacks: prepared for another recipe


def _shown(folder: Path) -> str:
    from workbench import paths

    try:
        return str(folder.relative_to(paths.workspace()))
    except ValueError:
        return str(folder)


def data_count(kind: str, recipe: Recipe, art: Artifacts | None = None) -> DataCount | None:
    """:func:`_data_count`; with ``[translation] prompts``, an evaluation language the data lacks counts
    the source language's rows (the translate stage translates them all)."""
    c = _data_count(kind, recipe, art)
    t = recipe.translation
    if c is None or kind != "evaluation" or not t.prompts:
        return c
    source = c.rows(t.source) or (_data_count(kind, _with_languages(recipe, [t.source]), art) or c).rows(t.source)
    per = {lang: (c.rows(lang) or source) for lang in recipe.languages.evaluate}
    lacking = [lang for lang in recipe.languages.evaluate if not c.rows(lang)]
    where = c.source + (f"; {', '.join(lacking)} translated from {t.source}" if lacking else "")
    return DataCount(kind, per, where)


def _with_languages(recipe: Recipe, evaluate: list[str]) -> Recipe:
    return recipe.model_copy(update={"languages": recipe.languages.model_copy(update={"evaluate": evaluate})})


def _data_count(kind: str, recipe: Recipe, art: Artifacts | None = None) -> DataCount | None:
    """The rows of ``kind`` per language the stages will read: min(what the recipe asks, what there is).

    What there is comes from the prepared files once ``prepare`` has run (and the recipe is not newer),
    else from the source: a shipped set's known size, a local file's row count (an upper bound per
    language), or, for hub data, the recipe's limit or an assumed size. None for ``alignment`` when no
    model aligns.
    """
    d, t, a = recipe.data, recipe.training, recipe.align
    if kind == "benign":
        src, langs, cap = d.benign, recipe.languages.finetune, _limit(d.benign.limit, t.examples_per_language)
    elif kind == "evaluation":
        src, langs, cap = d.evaluation, recipe.languages.evaluate, d.evaluation.limit
    elif kind in ("choice", "heldout", "overrefusal"):
        settings = {"heldout": recipe.capability, "overrefusal": recipe.overrefusal, "choice": recipe.choice}[kind]
        if not settings.enabled:
            return None
        src, langs = getattr(d, kind), recipe.languages.evaluate
        cap = _limit(src.limit, settings.examples_per_language)
    else:
        if not any(m.align for m in recipe.models):
            return None
        src, langs, cap = d.alignment, recipe.align_languages(), _limit(d.alignment.limit, a.examples_per_language)
    prepared = _prepared(kind, recipe, art, langs, src) if art is not None else None
    if prepared is not None:
        where = f"prepared data ({_shown(art.data_dir)})"
        return DataCount(kind, {lang: min(n, cap or n) for lang, n in prepared.items()}, where)
    if src.shipped:
        available: int | None = SHIPPED_ROWS.get(src.shipped)
        where = f"shipped set {src.shipped!r} ({available} per language)"
    elif src.path is not None:
        per_lang = _local_per_language(src, kind, langs)
        if per_lang is not None:
            counted = {lang: _limit(cap, n) if cap else n for lang, n in per_lang.items()}
            shown = ", ".join(f"{lang} {n}" for lang, n in per_lang.items())
            asked = f", {cap} asked" if cap and any(cap < n for n in per_lang.values()) else ""
            return DataCount(kind, counted, f"local file {Path(src.path).name} ({shown}){asked}")
        available = count_rows(Path(src.path))
        where = f"local file {Path(src.path).name} ({available if available is not None else '?'} rows)"
    else:
        available = None
        where = f"hub data {src.hub!r}: " + ("its limit" if cap else f"assumed {DEFAULT_ROWS[kind]} per language")
        where += ", counted when prepare runs"
    n = _limit(cap, available) if available is not None else (cap or DEFAULT_ROWS[kind])
    if cap and available is not None and cap < available:
        where += f", {cap} asked"
    return DataCount(kind, {lang: n for lang in langs}, where)


def _local_per_language(src, kind: str, langs: list[str]) -> dict[str, int] | None:
    """Rows per language of a local data file, read as prepare reads it (the cached sample validate reads
    too); None when the file is bigger than that sample or cannot be read (then ``validate`` says why)."""
    from workbench import data
    from workbench.errors import DataError

    table = data.source_table(src, kind, f"data.{kind}")
    if isinstance(table, DataError) or not table.complete:
        return None
    try:
        return {lang: len(data.pick(table, src, kind, lang, f"data.{kind}")) for lang in langs}
    except DataError:
        return None


def default_parallel(gpu: bool) -> int:
    """Parallel sequences when the recipe says "auto" (measured in bench/generate_throughput.py); here,
    not in the generate engine, so a plan does not import numpy to know it."""
    return 32 if gpu else 16


def data_counts(recipe: Recipe, art: Artifacts | None = None) -> dict[str, DataCount]:
    """:func:`data_count` of every kind the study reads (``art`` finds the prepared files)."""
    out = {}
    for kind in ("benign", "evaluation", "alignment", "choice", "heldout", "overrefusal"):
        c = data_count(kind, recipe, art)
        if c is not None:
            out[kind] = c
    return out


# -- the prompt the context check and the KV cache count ---------------------------------------
def prompt_tokens(recipe: Recipe) -> int:
    """The longest prompt the generate stage sends, assumed: :data:`PROMPT_TOKENS` plus the system prompt."""
    return PROMPT_TOKENS + len(recipe.generation.system_prompt or "") // 3
