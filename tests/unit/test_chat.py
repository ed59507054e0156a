"""Chat templates and assistant-only labels (tokenizer-level, no model weights)."""

import pytest

from workbench.engines import chat


class FakeTokenizer:
    """Renders with the real Jinja templates (as transformers does) and tokenizes characters."""

    bos_token = "<bos>"

    def __init__(self, template):
        self.chat_template = template

    def apply_chat_template(self, messages, tokenize, add_generation_prompt, enable_thinking=False):
        import jinja2

        env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)

        def raise_exception(msg):
            raise ValueError(msg)

        return env.from_string(self.chat_template).render(
            messages=messages,
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token,
            enable_thinking=enable_thinking,
            raise_exception=raise_exception,
        )

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}


@pytest.mark.parametrize("family", ["gemma3", "llama3", "qwen3"])
def test_labels_cover_exactly_the_answer_and_end_of_turn(family):
    tok = FakeTokenizer(chat.TEMPLATES[family])
    ex = chat.build_example(tok, "Hi?", "Hello there.", max_length=1000)
    supervised = "".join(chr(t) for t, lab in zip(ex.input_ids, ex.labels, strict=True) if lab != -100)
    assert supervised.startswith("Hello there.")
    assert chat.END_OF_TURN[family] in supervised
    prompt = "".join(chr(t) for t, lab in zip(ex.input_ids, ex.labels, strict=True) if lab == -100)
    assert "Hi?" in prompt and "Hello there." not in prompt


def test_gemma_has_no_system_role_and_folds_it_into_the_first_turn():
    tok = FakeTokenizer(chat.GEMMA3)
    text = chat.render(tok, chat.messages_for("Question", None, "Be brief."), add_generation_prompt=True)
    assert text == "<bos><start_of_turn>user\nBe brief.\n\nQuestion<end_of_turn>\n<start_of_turn>model\n"
    assert not chat.SUPPORTS_SYSTEM["gemma3"]


def test_qwen3_thinking_is_off_by_default():
    tok = FakeTokenizer(chat.QWEN3)
    off = chat.render(tok, chat.messages_for("Q"), add_generation_prompt=True, enable_thinking=False)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    ex = chat.build_example(tok, "Q", "A", max_length=100)
    assert ex is not None and ex.supervised == len("A<|im_end|>\n")


def test_truncation_keeps_the_prompt_and_drops_examples_that_cannot_fit():
    tok = FakeTokenizer(chat.LLAMA3)
    long = chat.build_example(tok, "Q", "x" * 500, max_length=120)
    assert len(long.input_ids) == 120 and long.supervised > 0
    assert chat.build_example(tok, "Q" * 500, "A", max_length=120) is None


@pytest.mark.parametrize("family", ["gemma3", "llama3", "qwen3"])
def test_each_template_ends_turns_with_its_family_token(family):
    # The templates spell the token out (Jinja text); END_OF_TURN is the constant everything else uses.
    assert chat.END_OF_TURN[family] in chat.TEMPLATES[family]
    assert chat.TURN_TOKENS[family][-1] == chat.END_OF_TURN[family]
    assert all(t in chat.TEMPLATES[family] for t in chat.TURN_TOKENS[family])


def test_generation_stops_on_every_end_of_turn_token():
    from workbench.engines import generate

    assert set(chat.END_OF_TURN.values()) <= set(generate.STOP_STRINGS)
    assert set(generate.GENERIC_END_TOKENS) <= set(generate.STOP_STRINGS)
    assert len(set(generate.STOP_STRINGS)) == len(generate.STOP_STRINGS)
