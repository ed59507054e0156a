"""`workbench plan` estimates from the real data and for the machine: counts, limits, context, KV cache."""

import dataclasses
import json
import os

import pytest

from tests.conftest import RECIPES
from workbench import estimates as est
from workbench import paths, views
from workbench.artifacts import Artifacts
from workbench.errors import RecipeError, WorkbenchError
from workbench.machine import Machine
from workbench.modelshape import EMBEDDED_SHAPES, ModelShape, kv_cache_bytes, model_shape, shape_from_gguf
from workbench.plan import check_context, context_problems, context_warnings, plan_estimate
from workbench.recipe import load_recipe

BIG = Machine(ram_bytes=1e12, vram_bytes=None, free_disk_bytes=1e13, gpu_class="cpu", description="a big test machine")
# Gemma 3 270M's config.json, the parts the KV cache and the context check read
GEMMA3_270M = {
    "model_type": "gemma3_text",
    "hidden_size": 640,
    "intermediate_size": 2048,
    "num_hidden_layers": 18,
    "num_attention_heads": 4,
    "num_key_value_heads": 1,
    "head_dim": 256,
    "vocab_size": 262144,
    "max_position_embeddings": 32768,
}


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _recipe(tmp_path, extra="", model='embedded = "gemma3-270m"', name="local"):
    """One model, fine-tune en, evaluate en: a base cell and one fine-tune cell; 4-row local data files."""
    _jsonl(tmp_path / "eval.jsonl", [{"prompt": f"unsafe request {i}", "lang": "en"} for i in range(4)])
    _jsonl(tmp_path / "benign.jsonl", [{"instruction": f"q{i}", "response": f"a{i}", "lang": "en"} for i in range(4)])
    p = tmp_path / f"{name}.toml"
    p.write_text(
        f'[study]\nname = "{name}"\n[[models]]\nname = "m"\n{model}\n'
        '[languages]\nfinetune = ["en"]\nevaluate = ["en"]\n'
        '[data.benign]\npath = "benign.jsonl"\n[data.evaluation]\npath = "eval.jsonl"\n' + extra,
        encoding="utf-8",
    )
    return p


def _by_stage(plan):
    return {e.stage: e for e in plan.estimates}


def test_a_four_row_local_file_plans_four_based_units(tmp_path, workspace):
    plan = plan_estimate(load_recipe(_recipe(tmp_path)), BIG)
    stages = _by_stage(plan)
    assert plan.data["evaluation"].per_language == {"en": 4}
    assert "local file eval.jsonl (en 4)" in plan.data["evaluation"].source
    assert stages["generate"].units == 2 * 4  # 2 cells x 4 prompts, not 2 x 440
    assert stages["judge"].units == 2 * 4
    assert "local file" in stages["generate"].counts_from
    assert plan.data["benign"].per_language == {"en": 4} and "4 examples" in stages["finetune"].note


def test_a_local_file_is_counted_per_language(tmp_path, workspace):
    """5 English and 3 Spanish prompts: 5 and 3 per language (not the file's 8 rows in each)."""
    rows = [{"prompt": f"en {i}", "lang": "en"} for i in range(5)] + [
        {"prompt": f"es {i}", "lang": "es"} for i in range(3)
    ]
    path = _recipe(tmp_path)
    _jsonl(tmp_path / "eval.jsonl", rows)
    path.write_text(path.read_text().replace('evaluate = ["en"]', 'evaluate = ["en", "es"]'))
    plan = plan_estimate(load_recipe(path), BIG)
    assert plan.data["evaluation"].per_language == {"en": 5, "es": 3}
    assert _by_stage(plan)["generate"].units == 2 * (5 + 3)  # 2 cells x every prompt once


def test_the_recipe_limit_caps_what_the_file_has(tmp_path, workspace):
    recipe = load_recipe(_recipe(tmp_path, "limit = 3\n"))  # under [data.evaluation]
    plan = plan_estimate(recipe, BIG)
    assert plan.data["evaluation"].per_language == {"en": 3} and "3 asked" in plan.data["evaluation"].source
    shipped = plan_estimate(load_recipe(RECIPES / "demo.toml"), BIG)
    assert shipped.data["evaluation"].per_language == dict.fromkeys(["en", "es", "tl", "zh"], 45)
    assert "shipped set 'adversarial'" in shipped.data["evaluation"].source


def test_after_prepare_the_counts_follow_the_prepared_files(tmp_path, workspace):
    path = _recipe(tmp_path)
    os.utime(path, (1_000_000_000, 1_000_000_000))  # the recipe is older than what prepare writes
    os.utime(tmp_path / "eval.jsonl", (1_000_000_000, 1_000_000_000))
    os.utime(tmp_path / "benign.jsonl", (1_000_000_000, 1_000_000_000))
    recipe = load_recipe(path)
    art = Artifacts(recipe, paths.study_models_dir(recipe.study.name))
    art.write_jsonl(art.evaluation_path(), [{"id": f"row{i}:en", "lang": "en"} for i in range(3)])
    art.write_jsonl(art.benign_path("en"), [{"instruction": "q", "response": "a", "lang": "en"}] * 2)
    plan = plan_estimate(recipe, BIG)
    assert plan.data["evaluation"].per_language == {"en": 3}
    assert plan.data["evaluation"].source.startswith("prepared data")
    assert _by_stage(plan)["generate"].units == 2 * 3
    assert plan.data["benign"].per_language == {"en": 2}

    os.utime(path)  # the recipe edited after prepare: its prepared files may be stale, the sources count
    again = plan_estimate(load_recipe(path), BIG)
    assert again.data["evaluation"].per_language == {"en": 4} and "local file" in again.data["evaluation"].source


def test_shipped_sizes_match_the_shipped_files():
    from workbench import data

    for name, per_lang in est.SHIPPED_ROWS.items():
        counts = {}
        for row in data.read_jsonl(data.shipped_path(name)):
            counts[row["lang"]] = counts.get(row["lang"], 0) + 1
        assert set(counts.values()) == {per_lang}, name


def test_local_row_counts_are_cheap_and_right(tmp_path):
    (tmp_path / "a.csv").write_text('prompt,lang\n"two\nlines",en\nb,en\n\n', encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps([{"prompt": "x"}] * 5), encoding="utf-8")
    _jsonl(tmp_path / "c.jsonl", [{"prompt": "x"}] * 7)
    assert est.count_rows(tmp_path / "a.csv") == 2
    assert est.count_rows(tmp_path / "b.json") == 5
    assert est.count_rows(tmp_path / "c.jsonl") == 7
    assert est.count_rows(tmp_path / "missing.jsonl") is None


def test_estimates_over_the_machine_are_flagged(tmp_path, workspace):
    recipe = load_recipe(RECIPES / "demo.toml")
    small = Machine(ram_bytes=1e9, vram_bytes=None, free_disk_bytes=1e6, gpu_class="cpu", description="a small box")
    plan = plan_estimate(recipe, small)
    stages = _by_stage(plan)
    assert "over RAM" in stages["align"].flags and "over RAM" in stages["finetune"].flags
    assert stages["prepare"].flags == []
    assert any(p.startswith("align needs ~") and "a small box" in p for p in plan.problems)
    assert any("of disk" in p and "free" in p for p in plan.problems)
    assert plan_estimate(recipe, BIG).problems == []

    tiny_gpu = Machine(ram_bytes=1e12, vram_bytes=1e9, free_disk_bytes=1e13, gpu_class="consumer")
    gpu_plan = plan_estimate(recipe, tiny_gpu)
    assert _by_stage(gpu_plan)["finetune"].memory_kind == "VRAM"
    assert "over VRAM" in _by_stage(gpu_plan)["finetune"].flags


def test_totals_in_json(capsys, workspace):
    views.show_plan(load_recipe(RECIPES / "demo.toml"), "json", gpu="cpu")
    out = json.loads(capsys.readouterr().out)
    assert out["machine"]["gpu_class"] == "cpu"
    assert set(out["totals"]) == {"seconds", "disk_bytes", "peak_ram_bytes", "peak_vram_bytes"}
    assert out["totals"]["seconds"] == pytest.approx(sum(e["seconds"] for e in out["estimates"]))
    assert out["totals"]["peak_ram_bytes"] == max(e["memory_bytes"] for e in out["estimates"])
    assert out["totals"]["peak_vram_bytes"] is None
    assert set(out["data"]) == {"benign", "evaluation", "alignment", "heldout", "overrefusal", "choice"}


def test_gpu_class_plans_for_another_machine(capsys, workspace):
    recipe = load_recipe(RECIPES / "demo.toml")
    views.show_plan(recipe, "json", gpu="A100")
    out = json.loads(capsys.readouterr().out)
    assert out["machine"]["gpu_class"] == "a100" and out["machine"]["vram_bytes"] == 80e9
    finetune = next(e for e in out["estimates"] if e["stage"] == "finetune")
    assert finetune["memory_kind"] == "VRAM"
    with pytest.raises(WorkbenchError) as info:
        views.show_plan(recipe, "table", gpu="b9000")
    assert info.value.message == "--gpu: unknown GPU class 'b9000'"
    assert all(name in info.value.hint for name in ("cpu", "consumer", "a100", "h100"))
    with pytest.raises(WorkbenchError, match="did you mean 'h100'"):
        views.show_plan(recipe, "table", gpu="h10")


@pytest.mark.parametrize("show", [views.show_plan, views.show_status])
def test_an_unknown_format_is_a_usage_error(show, workspace):
    with pytest.raises(WorkbenchError) as info:
        show(load_recipe(RECIPES / "demo.toml"), "xml")
    assert info.value.message == "--format: unknown format 'xml'" and info.value.hint == "use table or json"


def test_the_table_shows_totals_problems_and_warnings(tmp_path, capsys, workspace):
    path = _recipe(tmp_path, "[generation]\nmax_new_tokens = 32768\n", name="th")
    path.write_text(path.read_text().replace('evaluate = ["en"]', 'evaluate = ["en", "th"]'))
    views.show_plan(load_recipe(path), "table", gpu="cpu")
    out = capsys.readouterr().out
    assert "total" in out and "peak memory" in out
    assert "local file eval.jsonl" in out and "en 4" in out
    assert "problem: generation.max_new_tokens: 32,768 leaves no room for a prompt in model 'm'" in out
    assert "warning: judge 'heuristic' cannot read th (Thai)" in out


def test_kv_cache_is_counted_for_a_known_config(tmp_path, workspace):
    folder = tmp_path / "gemma-270m"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(GEMMA3_270M))
    shape = model_shape(load_recipe(_recipe(tmp_path, model='path = "gemma-270m"\nfamily = "gemma3"')).models[0])
    assert shape == ModelShape(32768, 18, 1, 256, "config.json", 640, 4, 2048, 262144)
    assert shape.kv_bytes_per_token() == 2 * 18 * 1 * 256 * 2  # K and V x layers x kv heads x head dim x f16
    assert kv_cache_bytes(shape, 1000, 16) == 18432 * 1000 * 16
    assert dataclasses.replace(EMBEDDED_SHAPES["gemma3-270m"], source="config.json") == shape

    def generate_memory(max_new):
        extra = f"[generation]\nmax_new_tokens = {max_new}\nparallel_sequences = 4\n"
        r = load_recipe(_recipe(tmp_path, extra, model='path = "gemma-270m"\nfamily = "gemma3"'))
        return _by_stage(plan_estimate(r, BIG))["generate"]

    short, long = generate_memory(100), generate_memory(1000)
    # the weights and buffers are the same; the KV cache grows by 900 tokens for each of 4 sequences
    assert long.memory_bytes - short.memory_bytes == pytest.approx(2 * 18 * 1 * 256 * 900 * 2 * 4)
    assert "KV cache" in long.note and "4 x 1,160 tokens" in long.note


def test_the_context_length_is_read_from_a_gguf_header(tmp_path, workspace):
    import gguf
    import numpy as np

    path = tmp_path / "tiny.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(2048)
    w.add_block_count(4)
    w.add_head_count(8)
    w.add_head_count_kv(2)
    w.add_embedding_length(256)
    w.add_token_list(["a", "b", "c"])  # an array before nothing we need: skipped, not decoded
    w.add_tensor("x", np.zeros((4, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    assert shape_from_gguf(path) == ModelShape(2048, 4, 2, 32, "GGUF header", 256, 8)
    ok = load_recipe(
        _recipe(tmp_path, "[generation]\nmax_new_tokens = 1800\n", model='path = "tiny.gguf"\nfamily = "llama3"')
    )
    assert context_problems(ok) == []
    assert context_warnings(ok) == []
    tight = load_recipe(
        _recipe(tmp_path, "[generation]\nmax_new_tokens = 2000\n", model='path = "tiny.gguf"\nfamily = "llama3"')
    )
    # only the prompt length is estimated: a warning (long answers may be cut), not a problem
    assert context_problems(tight) == []
    (warning,) = context_warnings(tight)
    assert "context of 2,048 tokens (GGUF header)" in warning and "lower it to about 1,888" in warning
    over = load_recipe(
        _recipe(tmp_path, "[generation]\nmax_new_tokens = 2048\n", model='path = "tiny.gguf"\nfamily = "llama3"')
    )
    problems = context_problems(over)
    assert len(problems) == 1 and "context of 2,048 tokens (GGUF header)" in problems[0]
    assert "lower it to at most 1,888" in problems[0]
    with pytest.raises(WorkbenchError, match="generation.max_new_tokens: 2,048"):
        check_context(over)


def test_context_problems_of_the_embedded_model(tmp_path, workspace):
    assert context_problems(load_recipe(RECIPES / "demo.toml")) == []
    r = load_recipe(_recipe(tmp_path, "[generation]\nmax_new_tokens = 32768\nn_ctx = 40000\n"))
    problems = context_problems(r)
    assert any(p.startswith("generation.n_ctx: 40,000 is over model 'm'") for p in problems)
    assert any(p.startswith("generation.max_new_tokens: 32,768") for p in problems)
    short = load_recipe(_recipe(tmp_path, "[generation]\nmax_new_tokens = 200\nn_ctx = 256\n"))
    assert context_problems(short) == []
    assert any("n_ctx: 256 tokens per sequence may not hold" in w for w in context_warnings(short))
    none = load_recipe(_recipe(tmp_path, "[generation]\nmax_new_tokens = 256\nn_ctx = 256\n"))
    assert any("n_ctx: 256 tokens per sequence cannot hold" in p for p in context_problems(none))


def test_max_new_tokens_has_a_hard_upper_bound(tmp_path):
    with pytest.raises(RecipeError) as info:
        load_recipe(_recipe(tmp_path, f"[generation]\nmax_new_tokens = {10**9}\n"))
    assert len(info.value.problems) == 1
    line = info.value.problems[0]
    assert "\n" not in line and "generation.max_new_tokens: must be at most 32768 (got 1000000000)" in line


def test_this_machine_reads_nvidia_smi_without_torch(tmp_path, monkeypatch, workspace):
    import subprocess
    import sys

    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'NVIDIA H200, 143771'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    code = (
        "import sys\nfrom workbench.machine import this_machine\n"
        "m = this_machine(__import__('pathlib').Path('.'))\n"
        "print(m.gpu_class, int(m.vram_bytes), m.description, 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["h100", str(143771 * 1024 * 1024)] and out[-1] == "False"
    assert est.classify_gpu("NVIDIA GeForce RTX 4090") == "consumer" and est.classify_gpu("Tesla T4") == "t4"


def test_memory_named_gpu_classes_map_to_the_calibrations():
    assert est.gpu_class("24GB") is est.gpu_class("24 gb") is est.gpu_class("24g")
    for name, vram, based_on in (
        ("8GB", 8e9, "t4"),
        ("16GB", 16e9, "t4"),
        ("24GB", 24e9, "consumer"),
        ("80GB", 80e9, "a100"),
    ):
        g = est.gpu_class(name)
        base = est.GPU_CLASSES[based_on]
        assert (g.name, g.vram_bytes, g.based_on) == (name, vram, based_on)
        assert (g.train_tokens_s_1b, g.gen_tokens_s_1b) == (base.train_tokens_s_1b, base.gen_tokens_s_1b)
        assert g.is_gpu and not g.measured
    with pytest.raises(WorkbenchError, match="did you mean '24GB'"):
        est.gpu_class("24GBB")


def test_the_paper_grid_is_planned_for_the_real_grid(capsys, workspace):
    """`workbench plan recipes/paper.toml --gpu 24GB`, checked against a hand count of recipes/paper.toml."""
    recipe = load_recipe(RECIPES / "paper.toml")
    views.show_plan(recipe, "json", gpu="24GB")
    out = json.loads(capsys.readouterr().out)
    stages = {e["stage"]: e for e in out["estimates"]}
    models, langs, seeds, epochs = 6, 9, 3, 2  # the recipe's [[models]], languages, seeds and epochs
    prompts = 440 * langs  # SORRY-Bench from the hub, no limit: 440 assumed per language
    assert (len(recipe.models), len(recipe.languages.finetune), len(recipe.training.seeds)) == (models, langs, seeds)
    assert len(recipe.training.epochs) == epochs and prompts == 3960
    finetunes = models * langs * seeds * epochs  # 324
    cells = finetunes + models  # and one base cell per model
    assert len(out["cells"]) == cells == 330
    assert stages["finetune"]["units"] == finetunes and stages["export"]["units"] == cells
    assert stages["generate"]["units"] == cells * prompts == 1_306_800
    assert stages["judge"]["units"] == cells * prompts * len(recipe.judges)  # every judge reads every response
    # the seven languages SORRY-Bench lacks are translated from English; responses come back into English
    assert stages["translate"]["units"] == 1 and stages["backtranslate"]["units"] == cells
    # generation by hand: every cell answers every prompt with up to 512 tokens at 3,000 tokens/s x 1B/params
    params = {
        "llama3.2-1b": 1e9,
        "llama3.2-3b": 3e9,
        "qwen3-0.6b": 0.6e9,
        "qwen3-4b": 4e9,
        "gemma3-1b": 1e9,
        "gemma3-4b": 4e9,
    }
    cells_per_model = langs * seeds * epochs + 1
    by_hand = sum(cells_per_model * prompts * 512 / (3000 * 1e9 / p) for p in params.values())
    assert stages["generate"]["seconds"] == pytest.approx(by_hand)
    # fine-tuning by hand: 60 shipped examples x epochs x 95 tokens at 8,000 tokens/s x 1B/params
    # (the adapter's own work adds its share of the parameters: under 3% at r=16, see test_train_estimate)
    train = sum(langs * seeds * sum(60 * e * 95 for e in (1, 3)) / (8000 * 1e9 / p) for p in params.values())
    assert train < stages["finetune"]["seconds"] < 1.03 * train
    # 4-bit on the card: more than the 4B models' NF4 weights, well inside 24 GB
    assert stages["finetune"]["memory_kind"] == "VRAM" and 4e9 * 0.56 < stages["finetune"]["memory_bytes"] < 12e9
    assert out["machine"]["gpu_class"] == "24GB" and out["machine"]["vram_bytes"] == 24e9
    assert out["totals"]["seconds"] == pytest.approx(sum(e["seconds"] for e in out["estimates"]))
    assumed = {a["what"]: a for a in out["assumptions"]}
    assert assumed["generation throughput"]["per_model"]["qwen3-0.6b"] == pytest.approx(3000 / 0.6)
    assert (
        assumed["generation throughput"]["basis"] == "assumed"
        and "consumer" in assumed["generation throughput"]["value"]
    )
    assert (
        assumed["prompts per language"]["basis"] == "assumed" and "440 x 9" in assumed["prompts per language"]["value"]
    )
    assert assumed["examples per language"]["basis"] == "counted"
    assert assumed["prompt length"]["value"].startswith("~160 tokens")

    views.show_plan(recipe, "table", gpu="24GB")
    table = capsys.readouterr().out
    assert "what the estimates assume" in table and "training throughput" in table and "assumed" in table


def test_the_capability_stage_is_planned_from_the_held_out_rows(tmp_path, workspace):
    plan = plan_estimate(load_recipe(_recipe(tmp_path)), BIG)
    cap = _by_stage(plan)["capability"]
    # two cells (base and en), each scoring the shipped held-out set's 24 English answers
    assert cap.units == 2 and cap.note == "24 held-out answers per cell" and cap.seconds > 0
    assert plan.data["heldout"].per_language == {"en": 24}
    off = plan_estimate(load_recipe(_recipe(tmp_path, "[capability]\nenabled = false\n")), BIG)
    assert "capability" not in _by_stage(off) and "heldout" not in off.data
