"""Tiny random models with real vocabularies through finetune -> export -> gate -> generate -> judge.

The reference is llama.cpp's own: every ``.gguf.inp`` string of the vocabulary must tokenize, in the
exported GGUF, to the ids its ``.gguf.out`` file lists, and the GGUF must name the pre-tokenizer llama.cpp
ships for that vocabulary. Building a tokenizer from a 128k-152k vocabulary takes about a minute, so these
tests are slow.
"""

import json
import sqlite3
from pathlib import Path

import pytest

from tests.tinymodels import REAL_VOCABS, make_real_tokenizer_model, reference_ids
from workbench.recipe import load_recipe
from workbench.runner import run_plan

KINDS = list(REAL_VOCABS)


@pytest.fixture(scope="session")
def real_vocab_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("vocab")


@pytest.fixture(scope="session")
def real_tiny(tmp_path_factory, real_vocab_dir):
    root = tmp_path_factory.mktemp("realtiny")
    return lambda kind: (
        (root / kind)
        if (root / kind / "tiny.json").is_file()
        else make_real_tokenizer_model(root / kind, kind, real_vocab_dir)
    )


def write_recipe(path: Path, model_dir: Path, family: str | None, name: str) -> Path:
    family_line = f'family = "{family}"' if family else ""
    path.write_text(f"""
[study]
name = "{name}"
[[models]]
name = "m"
path = "{model_dir}"
{family_line}
[languages]
finetune = ["es"]
evaluate = ["en"]
[data.evaluation]
shipped = "adversarial"
limit = 3
[training]
learning_rate = 1e-3
epochs = [1]
examples_per_language = 4
max_seq_length = 96
[export]
quantizations = ["f16"]
[generation]
max_new_tokens = 8
parallel_sequences = 3
[[judges]]
name = "heuristic"
kind = "heuristic"
""")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_real_tokenizer_model_through_the_pipeline(kind, real_tiny, real_vocab_dir, workspace, tmp_path):
    import llama_cpp

    spec = REAL_VOCABS[kind]
    model_dir = real_tiny(kind)
    recipe = load_recipe(write_recipe(tmp_path / "r.toml", model_dir, spec.family, name=kind.replace("-", "")))
    study = recipe.study.name
    summary = run_plan(recipe, only="finetune,export,generate,judge", cells_filter="m/es/s0-e1")
    assert summary.count("failed") == 0, [(o.stage, o.reason) for o in summary.outcomes if o.status != "done"]
    statuses = {(o.stage, o.unit): o.status for o in summary.outcomes}
    for stage in ("finetune", "export", "generate"):
        assert statuses[(stage, "m/es/s0-e1")] == "done", summary.outcomes

    manifest = json.loads((workspace / "models" / study / "m" / "es" / "s0-e1" / "manifest.json").read_text())
    gate = manifest["gate"]
    assert gate["tokens_match"] and gate["chat_prompt_match"] and gate["agreement"] >= 0.95, gate
    gguf_path = manifest["files"]["f16"]["path"]

    vocab = llama_cpp.Llama(gguf_path, vocab_only=True, verbose=False)
    try:
        assert vocab.metadata["tokenizer.ggml.pre"] == spec.pre
        # the model's own template went into the GGUF, not a family's fallback
        own = (
            (model_dir / "chat_template.jinja").read_text()
            if (model_dir / "chat_template.jinja").is_file()
            else (json.loads((model_dir / "tokenizer_config.json").read_text())["chat_template"])
        )
        assert vocab.metadata["tokenizer.chat_template"] == own
        # chat tokens are control tokens: one id when specials are parsed, plain text otherwise
        end = vocab.tokenize(spec.eos.encode(), add_bos=False, special=True)
        assert len(end) == 1 and vocab.tokenize(spec.eos.encode(), add_bos=False, special=False) != end
        if spec.bos:
            assert vocab.detokenize([vocab.token_bos()], special=True).decode() == spec.bos
            assert vocab.metadata.get("tokenizer.ggml.add_bos_token") == "true"
        refs = reference_ids(spec, real_vocab_dir)
        wrong = [
            (text[:30], ids[:8], got[:8])
            for text, ids in refs
            if (got := vocab.tokenize(text.encode(), add_bos=False, special=False)) != ids
        ]
        assert not wrong, f"{len(wrong)}/{len(refs)} reference strings tokenize differently: {wrong[:3]}"
    finally:
        vocab.close()

    with sqlite3.connect(workspace / "studies" / f"{study}.sqlite") as db:
        responses = db.execute("SELECT COUNT(*) FROM responses WHERE cell_id = 'm/es/s0-e1'").fetchone()[0]
        judged = db.execute(
            "SELECT COUNT(*) FROM judgments j JOIN responses r ON r.id = j.response_id WHERE r.cell_id = 'm/es/s0-e1'"
        ).fetchone()[0]
    assert responses == 3 and judged == 3


def _folder(tmp_path: Path, name: str, model_type: str, template: str | None) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": model_type}))
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": template} if template else {}))
    return folder


def test_own_template_wins_and_family_only_lends_a_fallback(tmp_path):
    from workbench.engines import chat
    from workbench.errors import WorkbenchError

    own = "{% for m in messages %}<|user|>{{ m['content'] }}<|end|>{% endfor %}<|assistant|>"
    with_own = _folder(tmp_path, "phi", "phi3", own)
    assert chat.own_template(with_own) == own
    assert chat.choose_template(chat.own_template(with_own), "llama3", model="m") == own
    bare = _folder(tmp_path, "bare", "phi3", None)
    assert chat.own_template(bare) is None
    assert chat.choose_template(None, "qwen3", model="m") == chat.TEMPLATES["qwen3"]
    with pytest.raises(WorkbenchError, match="no chat template") as info:
        chat.choose_template(None, None, model="m")
    assert "chat_template" in info.value.hint


def test_recipe_accepts_a_model_outside_the_families_when_it_has_a_template(tmp_path):
    from workbench.errors import RecipeError

    own = _folder(tmp_path, "some-chat-model", "phi3", "{{ messages[0]['content'] }}")
    recipe = load_recipe(write_recipe(tmp_path / "r.toml", own, None, name="outside"))
    assert recipe.models[0].family is None
    bare = _folder(tmp_path, "some-base-model", "phi3", None)
    with pytest.raises(RecipeError) as info:
        load_recipe(write_recipe(tmp_path / "r2.toml", bare, None, name="outside"))
    assert "models[0].chat_template" in str(info.value) and "models[0].family" in str(info.value)
