"""LoRA training behind one interface, with the same data, template, masking and hyperparameters on
every backend.

Backends load the model and attach the adapter; the loop is shared:

- ``unsloth``: ``FastLanguageModel`` (4-bit QLoRA on CUDA; Unsloth's CPU fallback elsewhere, 16-bit);
- ``peft``: transformers + peft; 4-bit NF4 base weights through bitsandbytes when asked, on CUDA and
  on the CPU (bitsandbytes >= 0.50 has CPU kernels). ``load_in_4bit = "auto"`` means 4-bit on CUDA only.

4-bit weights are for training only: the export merges the adapter into the 16/32-bit base loaded
afresh (:func:`workbench.engines.export.merge`), never into the quantized weights.

The base computes in bfloat16 where that is faster (``precision = "auto"``: CUDA, or a CPU where a
short measurement says so), with float32 LoRA weights and optimizer state; float32 elsewhere. Batches
group examples of similar length (``group_by_length``), so little of a step is padding.

The loop computes the output head only on supervised (assistant) positions: on a 262k-token
vocabulary the head dominates a step, and prompt positions carry no loss anyway. Checkpoints are
safetensors + JSON (no pickle), written atomically every ``save_every_steps``; a rerun resumes from the
last one when the training key matches. Seeds fix data order, LoRA initialisation and dropout.
"""

from __future__ import annotations

import functools
import json
import math
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.engines import chat
from workbench.engines.basemodel import BaseModel
from workbench.errors import WorkbenchError
from workbench.events import UnitReporter, null_reporter
from workbench.fsutil import atomic_dir, atomic_write_json


@dataclass
class TrainConfig:
    learning_rate: float
    epochs: int
    batch_size: int
    seed: int
    max_seq_length: int
    lora_r: int
    lora_alpha: float
    lora_dropout: float
    target_modules: list[str] | str = "all-linear"
    max_steps: int | None = None
    gradient_accumulation: int = 1
    lr_scheduler: str = "cosine"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    save_every_steps: int = 25
    backend: str = "auto"
    load_in_4bit: bool | str = "auto"
    precision: str = "auto"  # "auto" | "fp32" | "bf16": the base weights' dtype (see resolve_precision)
    group_by_length: bool = True
    system_prompt: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    steps: int
    examples: int
    supervised_tokens: int
    final_loss: float
    seconds: float
    tokens_per_s: float
    backend: str
    peak_rss_bytes: int | None
    resumed_from: int | None
    load_in_4bit: bool = False  # the base weights were NF4 (bitsandbytes or Unsloth) while training
    precision: str = "fp32"  # what the base computed in: "fp32" or "bf16" (LoRA weights are float32)
    padded_tokens: int = 0  # tokens the batches carried, padding included (``supervised_tokens`` excludes it)

    def summary(self) -> dict:
        """The numbers a stage run keeps in its details."""
        out = asdict(self)
        out["seconds"] = round(self.seconds, 1)
        out["tokens_per_s"] = round(self.tokens_per_s, 1)
        return out


def oom_error(exc: BaseException, cfg: TrainConfig) -> WorkbenchError:
    """Out-of-memory as a message with concrete suggestions."""
    where = "GPU" if "CUDA" in str(exc) or "cuda" in str(exc) else "host"
    return WorkbenchError(
        f"out of {where} memory while training (batch {cfg.batch_size}, max length {cfg.max_seq_length})",
        f"try training.batch_size = {max(1, cfg.batch_size // 2)} with gradient_accumulation = "
        f"{cfg.gradient_accumulation * 2}, a shorter max_seq_length, or load_in_4bit = true",
    )


def pick_backend(requested: str) -> str:
    import torch

    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        try:
            import importlib.util

            if importlib.util.find_spec("unsloth"):
                return "unsloth"
        except (ImportError, ValueError):
            pass
    return "peft"


def use_4bit(requested: bool | str, backend: str, cuda: bool) -> bool:
    """Whether training loads the base in 4-bit: ``true`` asks for it anywhere peft + bitsandbytes can
    run it (CUDA or CPU), ``"auto"`` on CUDA only; Unsloth's 4-bit path is CUDA-only."""
    if requested is True or requested == "true":
        if backend == "unsloth" and not cuda:
            raise WorkbenchError(
                "training.load_in_4bit = true with the Unsloth backend needs a CUDA GPU",
                'set training.backend = "peft" (4-bit through bitsandbytes also runs on the CPU), '
                'or load_in_4bit = "auto"',
            )
        return True
    if requested in (False, "false"):
        return False
    return cuda


def resolve_precision(requested: str, cuda: bool, four_bit: bool, bf16_ok: bool | None = None, log=None) -> str:
    """The dtype the base model computes in while training: ``"fp32"`` or ``"bf16"``.

    ``"auto"`` is bf16 on a CUDA GPU that supports it, and on a CPU where bf16 is measured to pay
    (:func:`workbench.engines.calibrate.cpu_bf16_pays`: native bf16 units and a bf16 matrix product
    >= 1.3x the float32 one; the embedded model then trained 1.57x faster per step on one machine
    type, while on another the units are there and bf16 is slower), float32 elsewhere. A 4-bit base
    on the CPU computes in float32 under ``"auto"``: bitsandbytes' CPU kernels are not faster in bf16.
    The LoRA weights and the optimizer state stay float32 in every case. ``bf16_ok`` overrides the
    hardware question (tests).
    """
    if requested in ("fp32", "bf16"):
        return requested
    if requested != "auto":
        raise WorkbenchError(f"unknown training precision {requested!r}", 'use "auto", "fp32" or "bf16"')
    if cuda:
        if bf16_ok is None:
            import torch

            bf16_ok = torch.cuda.is_bf16_supported()
        return "bf16" if bf16_ok else "fp32"
    if four_bit:
        return "fp32"
    if bf16_ok is None:
        from workbench.engines.calibrate import cpu_bf16_pays

        bf16_ok = cpu_bf16_pays(log)
    return "bf16" if bf16_ok else "fp32"


def _bitsandbytes_config(torch, cuda: bool, compute_dtype=None):
    try:
        import bitsandbytes  # noqa: F401  (transformers' own error names no version)
    except ImportError:
        raise WorkbenchError(
            "training.load_in_4bit = true needs bitsandbytes, which is not installed",
            "`.venv/bin/pip install -e .` installs it (a dependency), or set load_in_4bit = false",
        ) from None
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        # CPUs compute 4-bit layers in float32 unless asked (bf16 is not faster through bitsandbytes there).
        bnb_4bit_compute_dtype=compute_dtype or (torch.bfloat16 if cuda else torch.float32),
    )


def load_for_training(base: BaseModel, cfg: TrainConfig, log=None):
    """(model with a fresh LoRA adapter, tokenizer, backend name); :func:`is_4bit` tells the precision."""
    import torch

    backend = pick_backend(cfg.backend)
    cuda = torch.cuda.is_available()
    four_bit = use_4bit(cfg.load_in_4bit, backend, cuda)
    dtype = torch.bfloat16 if resolve_precision(cfg.precision, cuda, four_bit, log=log) == "bf16" else torch.float32
    torch.manual_seed(cfg.seed)
    targets = cfg.target_modules
    if backend == "unsloth":
        try:
            from unsloth import FastLanguageModel
        except ImportError:
            raise WorkbenchError(
                'training.backend = "unsloth" but Unsloth is not installed',
                "`.venv/bin/pip install -e '.[gpu]'`, or set training.backend = \"peft\"",
            ) from None
        model, tokenizer = FastLanguageModel.from_pretrained(
            model_name=str(base.hf_dir),
            max_seq_length=cfg.max_seq_length,
            load_in_4bit=four_bit,
            dtype=None if (cuda and cfg.precision == "auto") else dtype,
        )
        if targets == "all-linear":
            targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        model = FastLanguageModel.get_peft_model(
            model,
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=targets,
            random_state=cfg.seed,
            use_gradient_checkpointing="unsloth" if cuda else False,
        )
    elif backend == "peft":
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM, AutoTokenizer

        kwargs: dict[str, Any] = {"dtype": dtype}
        if four_bit:
            kwargs["quantization_config"] = _bitsandbytes_config(torch, cuda, dtype)
            kwargs["device_map"] = {"": 0} if cuda else "cpu"
        tokenizer = AutoTokenizer.from_pretrained(base.hf_dir)
        model = AutoModelForCausalLM.from_pretrained(base.hf_dir, **kwargs)
        if cuda and not four_bit:
            model = model.to("cuda")
        if four_bit:
            from peft import prepare_model_for_kbit_training

            # Norms and embeddings to float32, inputs that require grad; no gradient checkpointing: the
            # loop's step time matters more than activation memory at these sequence lengths.
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        torch.manual_seed(cfg.seed)
        # autocast_adapter_dtype: on a bf16 base the LoRA weights are created in float32 (peft casts the
        # layer input to them and the update back), so the optimizer steps float32 parameters.
        model = get_peft_model(
            model,
            LoraConfig(
                r=cfg.lora_r,
                lora_alpha=cfg.lora_alpha,
                lora_dropout=cfg.lora_dropout,
                target_modules=targets,
                task_type="CAUSAL_LM",
                bias="none",
            ),
            autocast_adapter_dtype=True,
        )
    else:
        raise WorkbenchError(f"unknown training backend {backend!r}", "use auto, unsloth or peft")
    tokenizer.chat_template = base.chat_template
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer, backend


def precision_of(model) -> str:
    """``"bf16"`` when the base's (frozen) floating-point weights are bfloat16, else ``"fp32"``."""
    import torch

    frozen = [p.dtype for p in model.parameters() if not p.requires_grad and p.is_floating_point()]
    return "bf16" if frozen and sum(d == torch.bfloat16 for d in frozen) * 2 > len(frozen) else "fp32"


def is_4bit(model) -> bool:
    """Whether any layer of ``model`` holds bitsandbytes 4-bit weights (what training really used)."""
    return any(type(m).__name__ == "Linear4bit" for m in model.modules())


def build_examples(tokenizer, records: list[dict], cfg: TrainConfig, enable_thinking: bool = False):
    examples = []
    for r in records:
        ex = chat.build_example(
            tokenizer,
            r["prompt"],
            r["response"],
            max_length=cfg.max_seq_length,
            system=cfg.system_prompt,
            enable_thinking=enable_thinking,
        )
        if ex is not None and ex.supervised > 0:
            examples.append(ex)
    if not examples:
        raise WorkbenchError("no training example fits in max_seq_length", "raise training.max_seq_length")
    return examples


def supervised_loss(model, input_ids, attention_mask, labels):
    """Cross-entropy over supervised positions, applying the output head only there.

    A frozen bias-free head goes through :func:`linear_cross_entropy` (the head and the loss fused, in
    chunks of positions); a trainable head or one with a bias through the plain head and
    ``torch.nn.functional.cross_entropy``.
    """
    import torch

    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = inner.get_decoder() if hasattr(inner, "get_decoder") else inner.model
    hidden = decoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    target = labels[:, 1:]
    mask = target != -100
    h = hidden[:, :-1][mask]
    cap = getattr(inner.config, "final_logit_softcapping", None)
    head = inner.lm_head
    if FUSED_CE and isinstance(head, torch.nn.Linear) and head.bias is None and not head.weight.requires_grad:
        return linear_cross_entropy(h, head.weight, target[mask], softcap=cap)
    logits = head(h).float()
    if cap:
        logits = torch.tanh(logits / cap) * cap
    return torch.nn.functional.cross_entropy(logits, target[mask])


FUSED_CE = True  # False: the plain head + cross_entropy (bench/train_throughput.py compares the two)
CE_CHUNK = 64  # positions per chunk of the fused head + loss: 64 x 262k float32 logits = 67 MB


def linear_cross_entropy(hidden, weight, target, *, softcap: float | None = None, chunk: int = CE_CHUNK):
    """Mean cross-entropy of ``hidden @ weight.T`` (optionally soft-capped, ``tanh(z / c) * c``) against
    ``target``, for a frozen ``weight``: the same value and gradient as the head followed by
    ``torch.nn.functional.cross_entropy``, without the full logits or their gradient in memory.

    On a 262k-token vocabulary the plain path spends about a third of a CPU training step outside the
    matrix products: it writes the logits, their log-softmax, a zero-filled gradient with the targets
    scattered in, and the log-softmax's gradient, each positions x vocabulary floats. Here each chunk of
    positions computes its logits once, turns them in place into ``softmax - onehot`` (the gradient of
    the loss with respect to the logits) and multiplies back by ``weight``: the gradient with respect to
    ``hidden`` is ready after the forward pass, and backward only scales it (the scheme of Liger Kernel's
    fused linear cross-entropy).
    """
    return _linear_ce_class().apply(hidden, weight, target, softcap, chunk)


@functools.cache
def _linear_ce_class():
    """The autograd Function, built on first use (this module does not import torch at import time)."""
    import torch

    class LinearCrossEntropy(torch.autograd.Function):
        @staticmethod
        def forward(ctx, hidden, weight, target, softcap, chunk):
            n = hidden.shape[0]
            grad = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
            wide = torch.float64 if hidden.dtype == torch.float64 else torch.float32  # logits never in bf16
            total = torch.zeros((), dtype=wide)
            w = weight
            for start in range(0, n, chunk):
                h = hidden[start : start + chunk]
                t = target[start : start + chunk]
                z = (h @ w.T).to(wide)
                if softcap:
                    torch.tanh(z.div_(softcap), out=z)
                    tanh = z.clone() if grad is not None else None
                    z.mul_(softcap)
                lse = torch.logsumexp(z, dim=-1)
                rows = torch.arange(len(t))
                total += (lse - z[rows, t]).sum()
                if grad is not None:
                    z.sub_(lse[:, None]).exp_()  # softmax
                    z[rows, t] -= 1.0  # d loss_i / d logits_i (before the mean)
                    if softcap:
                        z.mul_(1.0 - tanh * tanh)  # through tanh(z / c) * c
                    grad[start : start + chunk] = (z.to(w.dtype) @ w).to(hidden.dtype)
            if grad is not None:
                ctx.save_for_backward(grad)
            ctx.n = n
            return total / n

        @staticmethod
        def backward(ctx, grad_output):
            (grad,) = ctx.saved_tensors
            return grad * (grad_output / ctx.n).to(grad.dtype), None, None, None, None

    return LinearCrossEntropy


MEGABATCH = 16  # batches whose examples are sorted by length together (group_by_length)


def _batches(n: int, cfg: TrainConfig, epoch: int, lengths: list[int] | None = None) -> list[list[int]]:
    """The epoch's batches: a seeded shuffle cut into ``batch_size`` pieces.

    With ``group_by_length`` (and ``lengths``), each run of ``MEGABATCH`` batches of the shuffle is
    sorted by length before it is cut, and the batches are then shuffled again: every example still
    comes once per epoch in a seeded random batch order, but a batch holds examples of similar length,
    so collation pads little (the scheme of transformers' ``LengthGroupedSampler``).
    """
    rng = random.Random(cfg.seed * 1000 + epoch)
    order = list(range(n))
    rng.shuffle(order)
    size = cfg.batch_size
    if not (cfg.group_by_length and lengths):
        return [order[i : i + size] for i in range(0, n, size)]
    batches: list[list[int]] = []
    step = size * MEGABATCH
    for start in range(0, n, step):
        mega = sorted(order[start : start + step], key=lambda i: -lengths[i])
        batches.extend(mega[i : i + size] for i in range(0, len(mega), size))
    rng.shuffle(batches)
    return batches


def _collate(examples, idx, pad_id, device):
    import torch

    longest = max(len(examples[i].input_ids) for i in idx)
    ids = torch.full((len(idx), longest), pad_id, dtype=torch.long)
    labels = torch.full((len(idx), longest), -100, dtype=torch.long)
    mask = torch.zeros((len(idx), longest), dtype=torch.long)
    for row, i in enumerate(idx):
        ex = examples[i]
        ids[row, : len(ex.input_ids)] = torch.tensor(ex.input_ids)
        labels[row, : len(ex.labels)] = torch.tensor(ex.labels)
        mask[row, : len(ex.input_ids)] = 1
    return ids.to(device), mask.to(device), labels.to(device)


def train(
    base: BaseModel,
    records: list[dict],
    cfg: TrainConfig,
    out_dir: Path,
    *,
    key: str,
    report: UnitReporter | None = None,
) -> TrainResult:
    """Train a LoRA adapter on ``records`` (prompt/response) and save it to ``out_dir/adapter``.

    ``key`` identifies the training inputs; a checkpoint in ``out_dir/checkpoint`` with the same key is
    resumed from, one with another key is discarded. Progress goes to ``report`` (steps, loss, tokens/s).
    """
    import torch

    report = report or null_reporter()
    from transformers import get_scheduler

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    try:
        model, tokenizer, backend = load_for_training(base, cfg, log=report.log)
    except torch.OutOfMemoryError as exc:
        raise oom_error(exc, cfg) from None
    four_bit = is_4bit(model)
    # What the base really computed in (Unsloth may pick its own dtype under "auto").
    precision = resolve_precision(cfg.precision, torch.cuda.is_available(), True) if four_bit else precision_of(model)
    if precision == "bf16" and cfg.precision == "bf16" and not torch.cuda.is_available():
        from workbench.engines.calibrate import cpu_bf16_pays

        if not cpu_bf16_pays():
            report.log('training in bf16 as asked, on a CPU where bf16 is measured slower than float32 (try "auto")')
    examples = build_examples(tokenizer, records, cfg, base.enable_thinking)
    device = next(p for p in model.parameters()).device
    per_epoch = math.ceil(math.ceil(len(examples) / cfg.batch_size) / cfg.gradient_accumulation)
    total = cfg.max_steps or per_epoch * cfg.epochs
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = get_scheduler(cfg.lr_scheduler, optimizer, num_warmup_steps=cfg.warmup_steps, num_training_steps=total)
    ckpt = out_dir / "checkpoint"
    start = _load_checkpoint(ckpt, key, model, optimizer, scheduler)
    if start:
        report.log(f"resuming from step {start}/{total}")
    lengths = [len(e.input_ids) for e in examples]
    micro = [
        (epoch, b)
        for epoch in range(cfg.epochs + (total // max(per_epoch, 1)) + 1)
        for b in _batches(len(examples), cfg, epoch, lengths)
    ]
    pad = tokenizer.pad_token_id
    model.train()
    t0, tokens, padded, last_loss, step = time.time(), 0, 0, float("nan"), start
    losses: list[float] = []  # this run's loss per optimizer step (from ``start``)
    cursor = start * cfg.gradient_accumulation
    try:
        while step < total:
            optimizer.zero_grad(set_to_none=True)
            step_loss = 0.0
            for _ in range(cfg.gradient_accumulation):
                _, idx = micro[cursor]
                cursor += 1
                ids, mask, labels = _collate(examples, idx, pad, device)
                loss = supervised_loss(model, ids, mask, labels) / cfg.gradient_accumulation
                loss.backward()
                step_loss += loss.item()
                tokens += int(mask.sum())
                padded += mask.numel()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            last_loss = step_loss
            losses.append(round(step_loss, 5))
            elapsed = time.time() - t0
            done = step - start
            report.progress(
                step,
                total,
                what="steps",
                rate=round(tokens / max(elapsed, 1e-9), 1),
                elapsed=round(elapsed, 1),
                eta=round(elapsed / done * (total - step), 1),
                metrics={"loss": round(step_loss, 4), "lr": scheduler.get_last_lr()[0]},
            )
            if step % cfg.save_every_steps == 0 and step < total:
                _save_checkpoint(ckpt, key, step, model, optimizer, scheduler)
    except torch.OutOfMemoryError as exc:
        raise oom_error(exc, cfg) from None
    except MemoryError as exc:
        raise oom_error(exc, cfg) from None
    with atomic_dir(out_dir / "adapter") as tmp:
        model.save_pretrained(tmp)
        (tmp / "chat_template.jinja").write_text(base.chat_template, encoding="utf-8")
    shutil.rmtree(ckpt, ignore_errors=True)
    elapsed = time.time() - t0
    result = TrainResult(
        step,
        len(examples),
        sum(e.supervised for e in examples),
        last_loss,
        elapsed,
        tokens / max(elapsed, 1e-9),
        backend,
        _peak_rss(),
        start or None,
        four_bit,
        precision,
        padded,
    )
    atomic_write_json(
        out_dir / "training.json",
        {"config": asdict(cfg), "result": asdict(result), "key": key, "losses": losses, "first_step": start + 1},
    )
    return result


def _save_checkpoint(ckpt: Path, key: str, step: int, model, optimizer, scheduler) -> None:
    import torch
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, st in state["state"].items():
        for name, value in st.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{name}"] = value
    tensors["rng.torch"] = torch.get_rng_state()
    # The three files form one checkpoint, so the folder is replaced whole: a kill mid-save leaves
    # the previous checkpoint (or none), never new weights beside an old optimizer state.
    with atomic_dir(ckpt) as tmp:
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in get_peft_model_state_dict(model).items()},
            tmp / "adapter.safetensors",
        )
        save_file(tensors, tmp / "optimizer.safetensors")
        (tmp / "state.json").write_text(
            json.dumps(
                {
                    "key": key,
                    "step": step,
                    "param_groups": state["param_groups"],
                    "scalars": scalars,
                },
                default=str,
            )
        )


def _load_checkpoint(ckpt: Path, key: str, model, optimizer, scheduler) -> int:
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    meta_path = ckpt / "state.json"
    if not meta_path.is_file():
        return 0
    meta = json.loads(meta_path.read_text())
    if meta.get("key") != key:
        shutil.rmtree(ckpt, ignore_errors=True)
        return 0
    set_peft_model_state_dict(model, load_file(ckpt / "adapter.safetensors"))
    tensors = load_file(ckpt / "optimizer.safetensors")
    torch.set_rng_state(tensors.pop("rng.torch"))
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        pid, field_name = name.split(".", 1)
        state.setdefault(int(pid), {})[field_name] = value
    for name, value in meta["scalars"].items():
        pid, field_name = name.split(".", 1)
        state.setdefault(int(pid), {})[field_name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    import warnings

    with warnings.catch_warnings():  # the schedule is a function of the step: replay it
        warnings.simplefilter("ignore")
        for _ in range(meta["step"]):
            scheduler.step()
    return int(meta["step"])


def _peak_rss() -> int | None:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except (ImportError, OSError):
        return None
