"""Chat templates and the training examples built from them.

The template a cell is trained with is recorded and written into its GGUF
(``tokenizer.chat_template``), so llama.cpp formats prompts exactly as training did. A model's own
template wins, whatever its family (:func:`choose_template`); the built-in ones below serve models of
the three families that lack one (the embedded Gemma 3 base model, tiny test models) and follow the
official formats, reduced to text content. A model with neither is an error naming ``chat_template``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

GEMMA3 = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}"
    "{{ '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)

LLAMA3 = (
    "{{- bos_token }}"
    "{%- if messages[0]['role'] == 'system' %}"
    "{%- set system_message = messages[0]['content'] | trim %}{%- set messages = messages[1:] %}"
    "{%- else %}{%- set system_message = '' %}{%- endif %}"
    "{%- if system_message %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' + system_message + '<|eot_id|>' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim"
    " + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)

QWEN3 = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' and loop.last %}"
    # as Qwen3's own template: the last answer carries an (empty) think block
    "{{- '<|im_start|>assistant\\n<think>\\n\\n</think>\\n\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- elif message['role'] != 'system' %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)

TEMPLATES = {"gemma3": GEMMA3, "llama3": LLAMA3, "qwen3": QWEN3}
# The token that ends a turn in each family: the one place these strings are written outside the
# Jinja templates above (which must spell them out). Training supervises it; generation stops on it
# (engines/generate.py builds its stop strings from these values).
END_OF_TURN = {"gemma3": "<end_of_turn>", "llama3": "<|eot_id|>", "qwen3": "<|im_end|>"}
# Special tokens each built-in template needs in the vocabulary (test models add them in this order).
TURN_TOKENS = {
    "gemma3": ("<start_of_turn>", END_OF_TURN["gemma3"]),
    "llama3": ("<|start_header_id|>", "<|end_header_id|>", END_OF_TURN["llama3"]),
    "qwen3": ("<|im_start|>", END_OF_TURN["qwen3"]),
}
SUPPORTS_SYSTEM = {"gemma3": False, "llama3": True, "qwen3": True}


def own_template(folder: Path) -> str | None:
    """The chat template a Hugging Face model folder carries, if any (``chat_template.jinja`` first,
    then ``chat_template.json`` and ``tokenizer_config.json``, as transformers reads them)."""
    for name in ("chat_template.jinja", "chat_template.json", "tokenizer_config.json"):
        p = folder / name
        if not p.is_file():
            continue
        try:
            if name.endswith(".jinja"):
                tpl = p.read_text(encoding="utf-8")
            else:
                tpl = json.loads(p.read_text(encoding="utf-8")).get("chat_template")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(tpl, str) and tpl.strip():
            return tpl
    return None


def choose_template(own: str | None, family: str | None, *, model: str) -> str:
    """The model's own template; the family's built-in one only when it has none; else a clear error."""
    if own:
        return own
    if family in TEMPLATES:
        return TEMPLATES[family]
    from workbench.errors import WorkbenchError

    raise WorkbenchError(
        f"model {model!r}: its tokenizer has no chat template and it has no family to lend one",
        "set models[].chat_template to the model's Jinja chat template, or models[].family to "
        f"one of {', '.join(TEMPLATES)} to use that family's template",
    )


@dataclass(frozen=True)
class Example:
    """One tokenized training example: loss only where ``labels`` is not -100."""

    input_ids: list[int]
    labels: list[int]

    @property
    def supervised(self) -> int:
        return sum(1 for x in self.labels if x != -100)


def messages_for(prompt: str, response: str | None = None, system: str | None = None) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": system}] if system else []
    msgs.append({"role": "user", "content": prompt})
    if response is not None:
        msgs.append({"role": "assistant", "content": response})
    return msgs


def render(tokenizer, messages, *, add_generation_prompt: bool, enable_thinking: bool = False) -> str:
    """The chat template applied to ``messages`` as text."""
    return tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=add_generation_prompt, enable_thinking=enable_thinking
    )


def build_example(
    tokenizer, prompt: str, response: str, *, max_length: int, system: str | None = None, enable_thinking: bool = False
) -> Example | None:
    """Prompt and completion tokenized apart, exactly as generation will see them.

    The prompt is the template with the generation prompt; the completion is what the full
    conversation adds to it (the answer and the end-of-turn marker). Returns None when the prompt
    alone does not fit in ``max_length`` (the completion is truncated instead).
    """
    head = render(
        tokenizer, messages_for(prompt, None, system), add_generation_prompt=True, enable_thinking=enable_thinking
    )
    full = render(
        tokenizer, messages_for(prompt, response, system), add_generation_prompt=False, enable_thinking=enable_thinking
    )
    if not full.startswith(head):
        from workbench.errors import WorkbenchError

        raise WorkbenchError(
            "the chat template renders a conversation that does not start with its own generation prompt",
            "set models[].chat_template (or generation.chat_template) to a template whose answer follows "
            "the generation prompt",
        )
    prompt_ids = tokenizer(head, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(full[len(head) :], add_special_tokens=False)["input_ids"]
    if len(prompt_ids) >= max_length - 1:
        return None
    completion_ids = completion_ids[: max_length - len(prompt_ids)]
    return Example(prompt_ids + completion_ids, [-100] * len(prompt_ids) + completion_ids)
