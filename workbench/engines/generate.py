"""Batched generation with llama.cpp: many sequences decode at once in one context.

llama-cpp-python's high-level ``Llama`` class generates one sequence at a time. This engine uses its
low-level API instead: a context with ``n_seq_max`` sequences sharing one (unified) KV cache, one
``llama_batch`` per step carrying the next token of every running sequence plus prompt chunks of newly
admitted ones, and per-sequence sampling from ``llama_get_logits_ith``. A slot is refilled with the
next request as soon as its sequence ends (continuous batching), so a short answer never waits for
a long one.

``n_parallel = 1`` is the deterministic mode: one sequence at a time, each prompt decoded alone.
Greedy decoding is the default; sampling draws from a per-request seeded generator, so a response
is reproducible on its own whatever else shares the batch.
"""

from __future__ import annotations

import ctypes
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from workbench.engines import chat
from workbench.errors import WorkbenchError

KV_UNIFIED = True  # one KV cache for all sequences; measured faster than a split cache here
# Strings that end a turn or a text: the end-of-turn token of each built-in chat family (defined once,
# in engines/chat.py) plus generic end markers of other formats (Phi's <|end|>, GPT-style <|endoftext|>,
# SentencePiece's </s>). Each is used as an extra stop token when the GGUF has it as a single token
# but does not mark it as end-of-generation.
GENERIC_END_TOKENS = ("<|end|>", "<|endoftext|>", "</s>")
STOP_STRINGS = (*dict.fromkeys(chat.END_OF_TURN.values()), *GENERIC_END_TOKENS)


@dataclass
class Request:
    key: Any  # the caller's id for this request (returned with the result)
    tokens: list[int]  # the prompt, tokenized (see Engine.chat_tokens)
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int | None = None  # per-request seed for sampling (ignored when greedy)
    ignore_stop: bool = False  # decode exactly max_new_tokens (benchmarks and calibration of fixed shape)


@dataclass
class Result:
    key: Any
    text: str
    tokens: list[int]
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (end-of-turn token) or "length" (max_new_tokens)
    ttft_ms: float  # from admission of the request to its first generated token
    total_ms: float
    tokens_per_s: float  # this sequence's generated tokens over its own wall time


@dataclass
class _Slot:
    seq: int
    req: Request
    prefilled: int = 0
    pos: int = 0
    out: list[int] = field(default_factory=list)
    started: float = 0.0
    first: float | None = None
    rng: np.random.Generator | None = None
    batch_index: int = -1  # where this sequence's logits are in the current batch


def gpu_offload_available() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


class Engine:
    """One GGUF model loaded for batched generation. Use as a context manager (frees the model)."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_parallel: int = 8,
        n_gpu_layers: int | str = "auto",
        n_threads: int | None = None,
        n_batch: int = 512,
        n_ctx_per_seq: int | None = None,
    ):
        import llama_cpp

        from workbench.engines.llamacpp import quiet

        quiet()
        self._L = llama_cpp
        self.path = Path(model_path)
        if not self.path.is_file():
            raise WorkbenchError(f"{self.path}: GGUF file not found", "run the export stage for this cell first")
        llama_cpp.llama_backend_init()
        mp = llama_cpp.llama_model_default_params()
        if n_gpu_layers == "auto":
            n_gpu_layers = -1 if gpu_offload_available() else 0
        mp.n_gpu_layers = int(n_gpu_layers)
        self.n_gpu_layers = int(n_gpu_layers)
        self.model = llama_cpp.llama_model_load_from_file(str(self.path).encode(), mp)
        if not self.model:
            raise WorkbenchError(
                f"{self.path}: llama.cpp cannot load this GGUF file",
                "the file is damaged or not a GGUF model; rerun the export stage (delete the file first)",
            )
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.n_parallel = max(1, int(n_parallel))
        self.n_threads = n_threads or max(1, os.cpu_count() or 1)
        self.n_batch = max(n_batch, self.n_parallel)  # one generated token per sequence must fit a batch
        self.n_ctx_per_seq = n_ctx_per_seq  # None: as long as the longest prompt plus its budget
        self.ctx = None
        self._ctx_size = 0
        self._formatters: dict[str, Any] = {}  # chat template -> its Jinja2 formatter
        self.stop_ids = self._stop_tokens()

    # -- lifetime ---------------------------------------------------------------------------------
    def close(self) -> None:
        L = self._L
        if self.ctx:
            L.llama_free(self.ctx)
            self.ctx = None
        if self.model:
            L.llama_model_free(self.model)
            self.model = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # pragma: no cover - safety net
        try:
            self.close()
        except Exception:
            pass

    # -- text -------------------------------------------------------------------------------------
    def tokenize(self, text: str, *, add_special: bool = False) -> list[int]:
        L = self._L
        data = text.encode("utf-8")
        n_max = len(data) + 16
        buf = (L.llama_token * n_max)()
        n = L.llama_tokenize(self.vocab, data, len(data), buf, n_max, add_special, True)
        if n < 0:
            n_max = -n
            buf = (L.llama_token * n_max)()
            n = L.llama_tokenize(self.vocab, data, len(data), buf, n_max, add_special, True)
        return list(buf[:n])

    def detokenize(self, tokens: list[int]) -> str:
        L = self._L
        if not tokens:
            return ""
        arr = (L.llama_token * len(tokens))(*tokens)
        size = 16 * len(tokens) + 64
        buf = ctypes.create_string_buffer(size)
        n = L.llama_detokenize(self.vocab, arr, len(tokens), buf, size, False, False)
        if n < 0:
            size = -n + 1
            buf = ctypes.create_string_buffer(size)
            n = L.llama_detokenize(self.vocab, arr, len(tokens), buf, size, False, False)
        return buf.raw[:n].decode("utf-8", errors="replace")

    def token_text(self, token: int) -> str:
        return self._L.llama_vocab_get_text(self.vocab, token).decode("utf-8", errors="replace")

    def metadata(self, key: str) -> str | None:
        L = self._L
        buf = ctypes.create_string_buffer(1 << 16)
        n = L.llama_model_meta_val_str(self.model, key.encode(), buf, len(buf))
        if n < 0:
            return None
        if n >= len(buf):
            buf = ctypes.create_string_buffer(n + 1)
            L.llama_model_meta_val_str(self.model, key.encode(), buf, len(buf))
        return buf.value.decode("utf-8", errors="replace")

    def chat_template(self) -> str | None:
        return self.metadata("tokenizer.chat_template")

    def _stop_tokens(self) -> set[int]:
        L = self._L
        stops = {t for t in (L.llama_vocab_eos(self.vocab), L.llama_vocab_eot(self.vocab)) if t >= 0}
        for s in STOP_STRINGS:
            ids = self.tokenize(s)
            if len(ids) == 1:
                stops.add(ids[0])
        return {t for t in stops if 0 <= t < self.n_vocab}

    def is_stop(self, token: int) -> bool:
        return token in self.stop_ids or bool(self._L.llama_vocab_is_eog(self.vocab, token))

    def render(self, messages: list[dict[str, str]], *, template: str | None = None, **template_kwargs: Any) -> str:
        """The prompt text for a conversation, from ``template`` or the GGUF's chat template."""
        tpl = template or self.chat_template()
        if not tpl:
            raise WorkbenchError(
                f"{self.path.name}: the GGUF has no chat template",
                "set [generation] chat_template in the recipe (a Jinja template) or export from a chat model",
            )
        if tpl not in self._formatters:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            L, v = self._L, self.vocab
            bos = self.token_text(L.llama_vocab_bos(v)) if L.llama_vocab_bos(v) >= 0 else ""
            eos = self.token_text(L.llama_vocab_eos(v)) if L.llama_vocab_eos(v) >= 0 else ""
            self._formatters[tpl] = Jinja2ChatFormatter(tpl, eos_token=eos, bos_token=bos)
        return self._formatters[tpl](messages=messages, **template_kwargs).prompt

    def prompt_tokens(self, text: str) -> list[int]:
        """Tokenize a rendered prompt; adds BOS when the model wants one and the text did not bring it."""
        tokens = self.tokenize(text)
        bos = self._L.llama_vocab_bos(self.vocab)
        if self._L.llama_vocab_get_add_bos(self.vocab) and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens = [bos, *tokens]
        return tokens

    def render_chat(
        self,
        user: str,
        *,
        system: str | None = None,
        template: str | None = None,
        **template_kwargs: Any,
    ) -> str:
        """The prompt text for one user turn (and optional system prompt), from the chat template."""
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
        return self.render(messages, template=template, **template_kwargs)

    def chat_tokens(self, user: str, *, system: str | None = None, template: str | None = None, **kw: Any) -> list[int]:
        """Render and tokenize one chat turn (see :meth:`prompt_tokens`)."""
        return self.prompt_tokens(self.render_chat(user, system=system, template=template, **kw))

    # -- generation -------------------------------------------------------------------------------
    def _ensure_context(self, n_ctx: int) -> None:
        L = self._L
        if self.ctx and n_ctx <= self._ctx_size:
            return
        if self.ctx:
            L.llama_free(self.ctx)
            self.ctx = None
        cp = L.llama_context_default_params()
        cp.n_ctx = n_ctx
        cp.n_batch = self.n_batch
        cp.n_ubatch = self.n_batch
        cp.n_seq_max = self.n_parallel
        cp.kv_unified = KV_UNIFIED
        cp.n_threads = self.n_threads
        cp.n_threads_batch = self.n_threads
        cp.no_perf = True
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise WorkbenchError(
                f"{self.path.name}: llama.cpp could not create a context of {n_ctx} tokens "
                f"for {self.n_parallel} sequences",
                "lower [generation] parallel_sequences or max_new_tokens (out of memory?)",
            )
        self._ctx_size = n_ctx

    def generate(
        self,
        requests: Iterable[Request],
        *,
        on_token: Callable[[int], None] | None = None,
    ) -> Iterator[Result]:
        """Yield one Result per request, in the order they finish."""
        L = self._L
        pending = list(requests)
        if not pending:
            return
        longest = max(len(r.tokens) + r.max_new_tokens for r in pending)
        if self.n_ctx_per_seq is not None:
            too_long = [r for r in pending if len(r.tokens) + r.max_new_tokens > self.n_ctx_per_seq]
            if too_long:
                r = too_long[0]
                raise WorkbenchError(
                    f"request {r.key!r}: {len(r.tokens)} prompt tokens + {r.max_new_tokens} new tokens do not fit "
                    f"n_ctx = {self.n_ctx_per_seq} ({len(too_long)} request(s) affected)",
                    "raise [generation] n_ctx (or leave it unset), or lower max_new_tokens",
                )
            longest = self.n_ctx_per_seq
        n_ctx = self.n_parallel * longest + 16
        self._ensure_context(n_ctx)
        mem = L.llama_get_memory(self.ctx)
        L.llama_memory_clear(mem, True)
        batch = L.llama_batch_init(self.n_batch, 0, self.n_parallel)
        free = list(range(self.n_parallel - 1, -1, -1))
        active: list[_Slot] = []
        queue = iter(pending)
        exhausted = False
        try:
            while True:
                while free and not exhausted:
                    req = next(queue, None)
                    if req is None:
                        exhausted = True
                        break
                    if not req.tokens:
                        raise WorkbenchError(f"request {req.key!r} has an empty prompt", "check the prompts")
                    slot = _Slot(seq=free.pop(), req=req, started=time.perf_counter())
                    if req.temperature > 0:
                        slot.rng = np.random.default_rng(req.seed if req.seed is not None else 0)
                    active.append(slot)
                if not active:
                    break
                n = 0
                for s in active:  # one token for every sequence that is generating
                    s.batch_index = -1
                    if s.prefilled == len(s.req.tokens):
                        n = self._add(batch, n, s.out[-1], s.pos, s.seq, True)
                        s.batch_index = n - 1
                        s.pos += 1
                for s in active:  # then prompt chunks of newly admitted sequences, as room allows
                    while s.prefilled < len(s.req.tokens) and n < self.n_batch:
                        last = s.prefilled == len(s.req.tokens) - 1
                        n = self._add(batch, n, s.req.tokens[s.prefilled], s.pos, s.seq, last)
                        s.prefilled += 1
                        s.pos += 1
                        if last:
                            s.batch_index = n - 1
                batch.n_tokens = n
                rc = L.llama_decode(self.ctx, batch)
                if rc != 0:
                    raise WorkbenchError(
                        f"{self.path.name}: llama_decode failed (code {rc}) with {len(active)} sequences",
                        "lower [generation] parallel_sequences or max_new_tokens",
                    )
                now = time.perf_counter()
                still: list[_Slot] = []
                for s in active:
                    if s.batch_index < 0:
                        still.append(s)
                        continue
                    logits = np.ctypeslib.as_array(
                        L.llama_get_logits_ith(self.ctx, s.batch_index), shape=(self.n_vocab,)
                    )
                    tok = _sample(logits, s.req, s.rng)
                    if s.first is None:
                        s.first = now
                    if on_token:
                        on_token(tok)
                    stop = self.is_stop(tok) and not s.req.ignore_stop
                    if not stop:
                        s.out.append(tok)
                    if stop or len(s.out) >= s.req.max_new_tokens:
                        L.llama_memory_seq_rm(mem, s.seq, -1, -1)
                        free.append(s.seq)
                        yield self._result(s, "stop" if stop else "length", now)
                    else:
                        still.append(s)
                active = still
        finally:
            L.llama_batch_free(batch)

    def answer_logprobs(self, prompt: list[int], answer: list[int]) -> np.ndarray:
        """Natural-log probability of each ``answer`` token after ``prompt`` and the answer tokens
        before it: the model's log-softmax at each position, read from llama.cpp's logits (float64).

        One sequence at a time, fed in chunks of ``n_batch`` tokens; logits are asked for only where
        the next token is an answer token.
        """
        if not prompt or not answer:
            raise WorkbenchError("answer_logprobs needs a prompt and an answer", "check the held-out data")
        tokens = [*prompt, *answer]
        if self.n_ctx_per_seq is not None and len(tokens) > self.n_ctx_per_seq:
            raise WorkbenchError(
                f"{len(tokens)} tokens do not fit n_ctx = {self.n_ctx_per_seq}",
                "raise [generation] n_ctx (or leave it unset), or shorten the held-out answers",
            )
        first = len(prompt) - 1  # the position whose logits predict answer[0]
        out = np.empty(len(answer), dtype=np.float64)

        def keep(pos: int, z: np.ndarray) -> None:
            top = z.max()
            out[pos - first] = z[tokens[pos + 1]] - top - np.log(np.exp(z - top).sum())

        self._logits(tokens, first, len(tokens) - 1, keep)  # the last token predicts nothing
        return out

    def next_logprobs(self, prompt: list[int]) -> np.ndarray:
        """The natural-log probability of every vocabulary token as the next one after ``prompt``
        (the model's log-softmax at the prompt's last position, float64): what a multiple-choice
        question's option letters are scored with."""
        if not prompt:
            raise WorkbenchError("next_logprobs needs a prompt", "check the questions")
        if self.n_ctx_per_seq is not None and len(prompt) + 1 > self.n_ctx_per_seq:
            raise WorkbenchError(
                f"{len(prompt)} tokens do not fit n_ctx = {self.n_ctx_per_seq}",
                "raise [generation] n_ctx (or leave it unset), or shorten the questions",
            )
        found: list[np.ndarray] = []

        def keep(pos: int, z: np.ndarray) -> None:
            top = z.max()
            found.append(z - top - np.log(np.exp(z - top).sum()))

        self._logits(prompt, len(prompt) - 1, len(prompt), keep)
        return found[0]

    def _logits(self, tokens: list[int], first: int, end: int, keep) -> None:
        """Decode ``tokens[:end]`` as one sequence in chunks of ``n_batch`` and call ``keep(pos, logits)``
        (float64) for every position from ``first`` on; the context is cleared before and after."""
        L = self._L
        self._ensure_context(max(len(tokens) + 16, self._ctx_size))
        mem = L.llama_get_memory(self.ctx)
        L.llama_memory_clear(mem, True)
        batch = L.llama_batch_init(self.n_batch, 0, 1)
        try:
            for start in range(0, end, self.n_batch):
                stop = min(start + self.n_batch, end)
                n = 0
                for pos in range(start, stop):
                    n = self._add(batch, n, tokens[pos], pos, 0, pos >= first)
                batch.n_tokens = n
                rc = L.llama_decode(self.ctx, batch)
                if rc != 0:
                    raise WorkbenchError(
                        f"{self.path.name}: llama_decode failed (code {rc}) scoring {len(tokens)} tokens",
                        "shorten the texts scored or free memory",
                    )
                for i, pos in enumerate(range(start, stop)):
                    if pos < first:
                        continue
                    z = np.ctypeslib.as_array(L.llama_get_logits_ith(self.ctx, i), shape=(self.n_vocab,))
                    keep(pos, z.astype(np.float64))
        finally:
            L.llama_batch_free(batch)
            L.llama_memory_clear(mem, True)

    def pooled_states(self, sequences: list[list[int]]) -> np.ndarray:
        """The mean over its tokens of the last layer's hidden state (after the output norm) of each
        sequence, one row per sequence (float64): llama.cpp's MEAN pooling in an embeddings context of
        its own (the generation context is left as it is)."""
        L = self._L
        if not sequences or any(not s for s in sequences):
            raise WorkbenchError("pooled_states needs non-empty token sequences", "check the prompts")
        longest = max(len(s) for s in sequences)
        cp = L.llama_context_default_params()
        cp.n_ctx = longest + 16
        cp.n_batch = cp.n_ubatch = longest  # a pooled sequence must sit in one micro-batch
        cp.n_seq_max = 1
        cp.n_threads = cp.n_threads_batch = self.n_threads
        cp.embeddings = True
        cp.pooling_type = L.LLAMA_POOLING_TYPE_MEAN
        cp.no_perf = True
        ctx = L.llama_init_from_model(self.model, cp)
        if not ctx:
            raise WorkbenchError(
                f"{self.path.name}: llama.cpp could not create an embeddings context of {longest} tokens",
                "free memory, or shorten the prompts",
            )
        n_embd = L.llama_model_n_embd(self.model)
        out = np.empty((len(sequences), n_embd), dtype=np.float64)
        batch = L.llama_batch_init(longest, 0, 1)
        try:
            mem = L.llama_get_memory(ctx)
            for row, tokens in enumerate(sequences):
                L.llama_memory_clear(mem, True)
                n = 0
                for pos, tok in enumerate(tokens):
                    n = self._add(batch, n, tok, pos, 0, True)
                batch.n_tokens = n
                rc = L.llama_decode(ctx, batch)
                if rc != 0:
                    raise WorkbenchError(
                        f"{self.path.name}: llama_decode failed (code {rc}) pooling {len(tokens)} tokens",
                        "free memory, or shorten the prompts",
                    )
                ptr = L.llama_get_embeddings_seq(ctx, 0)
                if not ptr:
                    raise WorkbenchError(f"{self.path.name}: llama.cpp gave no pooled state", "rerun export")
                out[row] = np.ctypeslib.as_array(ptr, shape=(n_embd,))
        finally:
            L.llama_batch_free(batch)
            L.llama_free(ctx)
        return out

    @staticmethod
    def _add(batch, n: int, token: int, pos: int, seq: int, logits: bool) -> int:
        batch.token[n] = token
        batch.pos[n] = pos
        batch.n_seq_id[n] = 1
        batch.seq_id[n][0] = seq
        batch.logits[n] = logits
        return n + 1

    def _result(self, s: _Slot, reason: str, now: float) -> Result:
        total = now - s.started
        n_out = len(s.out)
        return Result(
            key=s.req.key,
            text=self.detokenize(s.out).strip(),
            tokens=list(s.out),
            prompt_tokens=len(s.req.tokens),
            completion_tokens=n_out,
            finish_reason=reason,
            ttft_ms=((s.first or now) - s.started) * 1000,
            total_ms=total * 1000,
            tokens_per_s=(n_out / total) if total > 0 else 0.0,
        )


def _sample(logits: np.ndarray, req: Request, rng: np.random.Generator | None) -> int:
    if req.temperature <= 0 or rng is None:
        return int(np.argmax(logits))
    z = logits.astype(np.float64) / req.temperature
    z -= z.max()
    p = np.exp(z)
    p /= p.sum()
    if req.top_p < 1.0:
        order = np.argsort(-p)
        cum = np.cumsum(p[order])
        keep = order[: int(np.searchsorted(cum, req.top_p) + 1)]
        q = p[keep] / p[keep].sum()
        return int(keep[rng.choice(len(keep), p=q)])
    return int(rng.choice(len(p), p=p))
