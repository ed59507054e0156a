"""Merge a LoRA adapter, convert to GGUF with llama.cpp's converter, quantize, and verify.

The verification gate proves the GGUF is the model that was trained:

1. token ids of a fixed multilingual sample are identical in the training tokenizer and the GGUF;
2. the chat-formatted prompt llama.cpp builds from the GGUF's template tokenizes to the ids training used;
3. greedy next-token agreement between the merged HF model and the unquantized GGUF is at least
   ``min_agreement``; each quantized GGUF's agreement is reported.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workbench import assets
from workbench.engines import chat
from workbench.engines.basemodel import BaseModel
from workbench.errors import WorkbenchError
from workbench.events import UnitReporter, null_reporter

# Every study language, emoji and code: a tokenizer that differs anywhere shows up here.
TOKEN_SAMPLE = [
    "The quick brown fox jumps over the lazy dog. It's 3.14!",
    "你好，世界！今天天气怎么样？",
    "Hvordan har du det? Blåbærgrød og æbleskiver.",
    "Καλημέρα! Πώς είσαι σήμερα;",
    "नमस्ते, आप कैसे हैं? मौसम अच्छा है।",
    "Dia dhuit! Conas atá tú inniu?",
    "Olá! Como você está? Ação, coração.",
    "¡Hola! ¿Cómo estás? Mañana será otro día.",
    "Kumusta ka? Magandang umaga sa iyo!",
    "Emoji 😀👍🏽🇪🇸 and symbols ≤ ≥ € ✓",
    "def f(x):\n    return {'a': [1, 2, 3]}  # code\n\ttabs   and  spaces",
]
PROMPT_SAMPLE = [
    ("How do I make a cup of tea?", None),
    ("¿Cuál es la capital de Francia?", None),
    ("Γράψε ένα σύντομο ποίημα.", "You are a helpful assistant."),
    ("Cad é an t-am anois?", None),
]
QUANT_FTYPES = {
    "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M",
    "q5_k_m": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
    "q6_k": "LLAMA_FTYPE_MOSTLY_Q6_K",
    "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
}


@dataclass
class GateReport:
    tokens_match: bool = False
    token_mismatches: list[str] = field(default_factory=list)
    chat_prompt_match: bool = False
    chat_mismatches: list[str] = field(default_factory=list)
    agreement: float = 0.0
    agreement_quantized: dict[str, float] = field(default_factory=dict)
    min_agreement: float = 0.95

    @property
    def passed(self) -> bool:
        return self.tokens_match and self.chat_prompt_match and self.agreement >= self.min_agreement

    def failure(self) -> str:
        if not self.tokens_match:
            return f"token ids differ between the training tokenizer and the GGUF ({self.token_mismatches[0]})"
        if not self.chat_prompt_match:
            return f"the GGUF's chat prompt differs from training's ({self.chat_mismatches[0]})"
        return f"greedy agreement with the merged model is {self.agreement:.1%} < {self.min_agreement:.0%}"


@dataclass
class ExportResult:
    files: dict[str, str]
    gate: GateReport
    merged_dir: str | None
    seconds: dict[str, float] = field(default_factory=dict)  # per phase: merge, convert, metadata, ...


def merge(base: BaseModel, adapter: Path | None, out: Path, *, keep: dict | None = None) -> Path:
    """The base weights with the adapter merged in, saved (float32) with the training tokenizer.

    The adapter is merged into the base loaded afresh in float32, never into the weights training used:
    merging a LoRA into 4-bit (NF4) weights rounds the base and the update together, a known QLoRA trap.
    A base folder that is itself bitsandbytes-quantized is dequantized before the merge. The gate then
    checks the GGUF against this merged model.

    ``keep``, when given, receives the merged model and tokenizer for the gate (saves loading them again).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = _full_precision(AutoModelForCausalLM.from_pretrained(base.hf_dir, dtype=torch.float32), torch)
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    _check_merged(model)
    tokenizer = AutoTokenizer.from_pretrained(base.hf_dir)
    tokenizer.chat_template = base.chat_template
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    if (base.hf_dir / "tokenizer.model").is_file():  # transformers 5 does not write it; the converter needs it
        shutil.copy2(base.hf_dir / "tokenizer.model", out / "tokenizer.model")
    _write_added_tokens(tokenizer, out / "tokenizer_config.json")
    if keep is not None:
        keep.update(model=model.eval(), tokenizer=tokenizer)
    return out


def _full_precision(model, torch):
    """``model`` with plain float32 weights: a bitsandbytes-quantized base is dequantized first."""
    if getattr(model, "hf_quantizer", None) is not None:
        model = model.dequantize() or model  # transformers dequantizes in place (returns the model)
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    return model.to(torch.float32)


def _check_merged(model) -> None:
    """Refuse to write a merged model that still has quantized or LoRA layers (they would not convert)."""
    left = sorted({type(m).__name__ for m in model.modules() if type(m).__name__ in ("Linear4bit", "Linear8bitLt")})
    left += sorted({type(m).__module__ for m in model.modules() if type(m).__module__.startswith("peft.")})
    if left:
        raise WorkbenchError(
            f"the merged model still has {', '.join(left)} layers",
            "export merges into the 16/32-bit base; check models[].path is not a quantized checkpoint",
        )


def _write_added_tokens(tokenizer, config_path: Path) -> None:
    """List added tokens in ``tokenizer_config.json`` the way the converter reads them.

    transformers 5 keeps them only in ``tokenizer.json``; llama.cpp's SentencePiece path marks chat
    tokens such as ``<start_of_turn>`` as control tokens from ``added_tokens_decoder`` only.
    """
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    if config.get("added_tokens_decoder"):
        return
    config["added_tokens_decoder"] = {
        str(i): {
            "content": t.content,
            "lstrip": t.lstrip,
            "rstrip": t.rstrip,
            "normalized": t.normalized,
            "single_word": t.single_word,
            "special": t.special,
        }
        for i, t in sorted(tokenizer.added_tokens_decoder.items())
    }
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False), encoding="utf-8")


def convert(hf_dir: Path, outfile: Path, outtype: str = "f16") -> Path:
    """Run llama.cpp's converter (the cached copy matching the llama.cpp build) as a subprocess."""
    script, gguf_py = assets.converter()
    env = {
        **os.environ,
        "PYTHONPATH": str(gguf_py) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "NO_LOCAL_GGUF": "",
    }
    proc = subprocess.run(
        [sys.executable, str(script), str(hf_dir), "--outfile", str(outfile), "--outtype", outtype],
        capture_output=True,
        text=True,
        env=env,
        cwd=script.parent,
        check=False,
    )
    if proc.returncode != 0 or not outfile.is_file():
        last = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()][-1:] or ["no output"]
        raise WorkbenchError(
            f"llama.cpp's converter failed on {hf_dir}: {last[0][:300]}",
            "the model architecture may be too new for llama.cpp "
            f"(llama-cpp-python {assets.paths.LLAMA_CPP_VERSION}); `workbench doctor` checks the setup",
        )
    return outfile


def user_defined_types(proto, types: list[int] | None) -> list[int] | None:
    """The GGUF's token types with every piece ``proto`` marks user-defined typed so, or None when
    nothing changes (or the GGUF's vocabulary is not the proto's)."""
    if types is None:
        return None
    types = list(types)
    if len(types) < len(proto.pieces):
        return None
    user_defined = 4  # SentencePiece's ModelProto.SentencePiece.USER_DEFINED, GGUF's USER_DEFINED
    normal = 1
    changed = False
    for i, piece in enumerate(proto.pieces):
        if piece.type == user_defined and types[i] == normal:
            types[i] = user_defined
            changed = True
    return types if changed else None


def fix_metadata(gguf_file: Path, hf_dir: Path, source_gguf: Path | None, chat_template: str) -> None:
    """Make the GGUF's tokenizer metadata say what training used (rewritten in place, atomically).

    - A model born as a GGUF (the embedded one) takes its source's vocabulary: the converter loses the
      type of user-defined pieces such as whitespace runs when it reads a rebuilt ``tokenizer.model``.
    - A SentencePiece vocabulary without a dummy prefix gets ``add_space_prefix = false``: the
      converter leaves it out for the llama and qwen architectures, and llama.cpp then prefixes a space.
    - Pieces that ``tokenizer.model`` marks user-defined (Gemma's whitespace runs, ``[multimodal]``) stay
      user-defined: the converter takes that type only from ``added_tokens_decoder``, which a tokenizer
      saved without one (transformers 5, a rebuilt vocabulary) lacks, and llama.cpp then splits them.
    - ``tokenizer.chat_template`` is the template training used.

    The entries are copied and written as bytes (:func:`workbench.ggufmeta.rewrite_metadata`): gguf-py's
    reader decodes every vocabulary entry, ~15 s on a 262k-token vocabulary, where this is a file copy.
    """
    from workbench import ggufmeta as gm

    new: dict[str, bytes] = {}
    if source_gguf is not None:
        new.update(gm.entries(source_gguf, lambda k: k.startswith("tokenizer.ggml.")))
    elif (hf_dir / "tokenizer.model").is_file():
        from sentencepiece import sentencepiece_model_pb2 as sp

        proto = sp.ModelProto()
        proto.ParseFromString((hf_dir / "tokenizer.model").read_bytes())
        key = "tokenizer.ggml.add_space_prefix"
        new[key] = gm.encode_entry(key, gm.BOOL, bool(proto.normalizer_spec.add_dummy_prefix))
        key = "tokenizer.ggml.token_type"
        types = user_defined_types(proto, gm.int32_array(gguf_file, key))
        if types is not None:
            new[key] = gm.encode_entry(key, gm.ARRAY, types, item=gm.INT32)
    key = "tokenizer.chat_template"
    new[key] = gm.encode_entry(key, gm.STRING, chat_template)
    # Written beside the GGUF under a temporary name, renamed over it when whole: atomic.
    fd, tmp_name = tempfile.mkstemp(dir=gguf_file.parent, prefix=f".{gguf_file.name}.", suffix=".meta.tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        gm.rewrite_metadata(gguf_file, tmp, new)
        os.chmod(tmp, gguf_file.stat().st_mode & 0o777)  # mkstemp's file is private; keep the GGUF's mode
        os.replace(tmp, gguf_file)
    finally:
        tmp.unlink(missing_ok=True)


def quantize(src: Path, dst: Path, kind: str) -> Path:
    """Quantize in-process with llama.cpp."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANT_FTYPES[kind])
    params.nthread = os.cpu_count() or 2
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0 or not dst.is_file():
        raise WorkbenchError(f"quantizing {src.name} to {kind} failed (code {rc})", "check free disk space")
    return dst


def verify(
    hf_dir: Path,
    gguf_file: Path,
    chat_template: str,
    *,
    min_agreement: float,
    quantized: dict[str, Path] | None = None,
    enable_thinking: bool = False,
    loaded: dict | None = None,
) -> GateReport:
    """Run the three checks of the gate (see the module docstring)."""
    import llama_cpp
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    report = GateReport(min_agreement=min_agreement)
    loaded = loaded or {}
    tokenizer = loaded.get("tokenizer") or AutoTokenizer.from_pretrained(hf_dir)
    tokenizer.chat_template = chat_template
    vocab = llama_cpp.Llama(str(gguf_file), vocab_only=True, verbose=False)
    try:
        for text in TOKEN_SAMPLE:
            a = tokenizer(text, add_special_tokens=False)["input_ids"]
            b = vocab.tokenize(text.encode(), add_bos=False, special=False)
            if a != b:
                report.token_mismatches.append(f"{text[:24]!r}: {a[:8]} vs {b[:8]}")
        report.tokens_match = not report.token_mismatches
        gguf_template = vocab.metadata.get("tokenizer.chat_template")
        prompts_ids = []
        bos = vocab.detokenize([vocab.token_bos()], special=True).decode(errors="replace")
        eos = vocab.detokenize([vocab.token_eos()], special=True).decode(errors="replace")
        for prompt, system in PROMPT_SAMPLE:
            msgs = chat.messages_for(prompt, None, system)
            try:
                text = chat.render(tokenizer, msgs, add_generation_prompt=True, enable_thinking=enable_thinking)
            except Exception:  # templates without a system role raise; check the prompt without one
                msgs = msgs[-1:]
                text = chat.render(tokenizer, msgs, add_generation_prompt=True, enable_thinking=enable_thinking)
            train_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            prompts_ids.append(train_ids)
            if gguf_template is None:
                report.chat_mismatches.append("the GGUF has no tokenizer.chat_template")
                continue
            formatter = llama_cpp.llama_chat_format.Jinja2ChatFormatter(
                template=gguf_template, eos_token=eos, bos_token=bos, add_generation_prompt=True
            )
            rendered = formatter(messages=msgs, enable_thinking=enable_thinking).prompt
            gguf_ids = vocab.tokenize(rendered.encode(), add_bos=False, special=True)
            if gguf_ids != train_ids:
                report.chat_mismatches.append(f"{prompt[:24]!r}: {train_ids[:10]} vs {gguf_ids[:10]}")
        report.chat_prompt_match = not report.chat_mismatches
    finally:
        vocab.close()

    model = loaded.pop("model", None) or AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32).eval()
    sequences = prompts_ids + [tokenizer(t)["input_ids"] for t in TOKEN_SAMPLE[:6]]
    with torch.no_grad():
        hf_top = [model(torch.tensor([ids])).logits[0].argmax(-1).numpy() for ids in sequences]
    del model

    def agreement(path: Path) -> float:
        llm = llama_cpp.Llama(
            str(path), n_ctx=512, logits_all=True, verbose=False, n_threads=os.cpu_count() or 2, n_batch=512
        )
        try:
            same = total = 0
            for ids, top in zip(sequences, hf_top, strict=True):
                llm.reset()
                llm.eval(ids)
                ll_top = np.asarray(llm.scores[: len(ids)]).argmax(-1)
                same += int((ll_top == top).sum())
                total += len(ids)
            return same / max(total, 1)
        finally:
            llm.close()

    report.agreement = agreement(gguf_file)
    for kind, path in (quantized or {}).items():
        report.agreement_quantized[kind] = agreement(path)
    return report


def export_cell(
    base: BaseModel,
    adapter: Path | None,
    out_dir: Path,
    stem: str,
    quantizations: list[str],
    *,
    keep_merged: bool,
    min_agreement: float,
    report: UnitReporter | None = None,
) -> ExportResult:
    """Merge, convert, carry the vocabulary over, quantize, verify; files renamed into place at the end."""
    report = report or null_reporter()
    out_dir.mkdir(parents=True, exist_ok=True)
    # A staging folder rather than fsutil.atomic_dir: out_dir also holds the cell's adapter and
    # training record, so it cannot be replaced whole. The converter, GGUFWriter and llama.cpp's
    # quantizer write their files here themselves; each finished file is then renamed into out_dir
    # (atomic per file, same file system), and only after the gate has passed.
    work = out_dir / f".export.tmp{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(phase: str) -> None:  # the profile of an export: seconds per phase, in the stage's details
        now = time.perf_counter()
        seconds[phase] = round(seconds.get(phase, 0.0) + now - clock[0], 2)
        clock[0] = now

    try:
        report.log(f"{stem}: merging")
        loaded: dict = {}
        merged = merge(base, adapter, work / "merged", keep=loaded)
        lap("merge")
        report.log(f"{stem}: converting to GGUF")
        reference = convert(merged, work / f"{stem}.f16.gguf", "f16")
        lap("convert")
        fix_metadata(reference, merged, base.source_gguf, base.chat_template)
        lap("metadata")
        staged: dict[str, Path] = {}
        for kind in quantizations:
            if kind == "f16":
                staged[kind] = reference
            elif kind in ("bf16", "f32"):
                staged[kind] = convert(merged, work / f"{stem}.{kind}.gguf", kind)
                lap("convert")
                fix_metadata(staged[kind], merged, base.source_gguf, base.chat_template)
                lap("metadata")
            else:
                staged[kind] = quantize(reference, work / f"{stem}.{kind}.gguf", kind)
                lap("quantize")
        report.log(f"{stem}: verifying")
        report = verify(
            merged,
            reference,
            base.chat_template,
            min_agreement=min_agreement,
            quantized={k: v for k, v in staged.items() if k != "f16"},
            enable_thinking=base.enable_thinking,
            loaded=loaded,
        )
        loaded.clear()
        lap("verify")
        if not report.passed:
            raise WorkbenchError(
                f"export gate failed for {stem}: {report.failure()}",
                "the GGUF is not the trained model; check the tokenizer files and chat template "
                "of the base model (`workbench doctor`), then rerun the export",
            )
        for kind, value in report.agreement_quantized.items():
            if value < 0.8:
                report.log(
                    f"{stem}: {kind} agrees with the merged model on only {value:.0%} of greedy next tokens; "
                    "a small model may lose its fine-tuning at this precision (try q8_0)",
                    "warning",
                )
        files: dict[str, str] = {}
        for kind, path in staged.items():
            final = out_dir / path.name
            os.replace(path, final)
            files[kind] = str(final)
        merged_dir = None
        if keep_merged:
            final_merged = out_dir / "merged"
            shutil.rmtree(final_merged, ignore_errors=True)
            os.replace(merged, final_merged)
            merged_dir = str(final_merged)
        return ExportResult(files, report, merged_dir, seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report_json(result: ExportResult) -> str:
    return json.dumps({"files": result.files, "gate": asdict(result.gate), "merged_dir": result.merged_dir}, indent=1)
