import json
import sqlite3

from tests.conftest import RECIPES, run_cli


def test_prepare_runs_and_later_stages_say_what_is_missing(workspace):
    env = {"WORKBENCH_HOME": str(workspace)}
    args = ("run", RECIPES / "demo.toml", "--only", "prepare")
    first = run_cli(*args, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "1 done" in first.stdout
    db_path = workspace / "studies" / "demo.sqlite"
    assert db_path.is_file() and str(db_path) in first.stdout

    con = sqlite3.connect(db_path)
    assert con.execute("SELECT count(*) FROM cells").fetchone()[0] == 4
    per_lang = dict(con.execute("SELECT lang, count(*) FROM prompts GROUP BY lang").fetchall())
    assert per_lang == {"en": 45, "es": 45, "tl": 45, "zh": 45}
    (status,) = con.execute("SELECT status FROM stage_runs WHERE stage = 'prepare'").fetchone()
    assert status == "done"
    snapshot = con.execute("SELECT toml FROM recipe_snapshots").fetchone()[0]
    assert snapshot == (RECIPES / "demo.toml").read_text(encoding="utf-8")
    packages = json.loads(con.execute("SELECT packages_json FROM environments").fetchone()[0])
    assert "llama-cpp-python" in packages and "torch" in packages
    kinds = dict(con.execute("SELECT path, size_bytes FROM artifacts WHERE kind = 'data'").fetchall())
    assert any(p.endswith("benign-tl.jsonl") for p in kinds) and any(p.endswith("alignment.jsonl") for p in kinds)
    con.close()
    benign_tl = (workspace / "models" / "demo" / "data" / "benign-tl.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(benign_tl) == 60 and all(json.loads(x)["lang"] == "tl" for x in benign_tl)

    second = run_cli(*args, env=env)
    assert second.returncode == 0
    assert "0 done, 1 skipped" in second.stdout

    status_out = run_cli("status", RECIPES / "demo.toml", "--format", "json", env=env)
    grid = json.loads(status_out.stdout)
    assert grid["study_stages"]["prepare"]["status"] == "done"

    # generate before export: every cell fails with what is missing and what to run, exit code 1
    gen = run_cli("run", RECIPES / "demo.toml", "--only", "generate", env=env)
    assert gen.returncode == 1
    assert "4 failed" in gen.stdout and "no exported GGUF" in gen.stdout and "Traceback" not in gen.stdout
    # the plan said so before running: generate needs export, which is not done for any cell
    assert "note: generate needs export, not done for gemma3-270m/base" in gen.stdout
    results = run_cli("results", RECIPES / "demo.toml", env=env)
    assert results.returncode == 1 and "no judged responses yet" in results.stderr


def test_quick_profile_and_events(workspace):
    env = {"WORKBENCH_HOME": str(workspace)}
    proc = run_cli("run", RECIPES / "demo.toml", "--quick", "--only", "prepare", "--events", "jsonl", env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and kinds[1] == "stage_start" and kinds[-2:] == ["stage_end", "run_end"]
    assert [(e["stage"], e["unit"], e["status"]) for e in events if e["event"] == "unit_end"] == [
        ("prepare", "study", "done")
    ]
    from workbench import events as ev

    assert [ev.from_dict(e).to_dict() for e in events] == events  # every line round-trips through its type
    con = sqlite3.connect(workspace / "studies" / "demo-quick.sqlite")
    per_lang = dict(con.execute("SELECT lang, count(*) FROM prompts GROUP BY lang").fetchall())
    assert per_lang == {"en": 20, "es": 20}
    align_rows = (workspace / "models" / "demo-quick" / "data" / "alignment.jsonl").read_text().splitlines()
    assert len(align_rows) == 2 * 32  # [quick.align] examples_per_language = 32, languages en + es


def test_bad_data_fails_the_stage_with_a_hint(workspace, tmp_path):
    bad = tmp_path / "benign.jsonl"
    bad.write_text('{"question": "x", "lang": "en"}\n')
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        '[study]\nname = "bad"\n[[models]]\nname = "m"\nembedded = "gemma3-270m"\n'
        '[languages]\nfinetune = ["en"]\nevaluate = ["en"]\n'
        f'[data.benign]\npath = "{bad}"\n'
    )
    # the CLI checks the data before the run: nothing starts, nothing is written
    proc = run_cli("run", recipe, "--only", "prepare", env={"WORKBENCH_HOME": str(workspace)})
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "lacks instruction" in errors[0] and "hint: " in proc.stderr
    assert not (workspace / "studies" / "bad.sqlite").exists()
    # the stage itself (run without the CLI's check) fails with the same message, recorded with its hint
    from workbench.recipe import load_recipe
    from workbench.runner import run_plan

    summary = run_plan(load_recipe(recipe), only="prepare")
    assert summary.count("failed") == 1 and summary.outcomes[0].exit_code == 2
    con = sqlite3.connect(workspace / "studies" / "bad.sqlite")
    row = con.execute("SELECT status, error, hint FROM stage_runs").fetchone()
    assert row[0] == "failed" and "instruction" in row[1] and row[2]
    assert not (workspace / "models" / "bad" / "data" / "benign-en.jsonl").exists()


def test_database_opens_in_datasette(workspace):
    import asyncio

    from datasette.app import Datasette

    from tests.conftest import ROOT

    assert (
        run_cli(
            "run", RECIPES / "demo.toml", "--quick", "--only", "prepare", env={"WORKBENCH_HOME": str(workspace)}
        ).returncode
        == 0
    )
    metadata = json.loads((ROOT / "docs" / "datasette-metadata.json").read_text())

    async def fetch():
        ds = Datasette([str(workspace / "studies" / "demo-quick.sqlite")], metadata=metadata)
        tables = await ds.client.get("/demo-quick.json")
        prompts = await ds.client.get("/demo-quick/prompts.json?_shape=array&lang=es")
        overview = await ds.client.get("/demo-quick/response_overview.json")
        return tables, prompts, overview

    tables, prompts, overview = asyncio.run(fetch())
    assert tables.status_code == 200
    names = {t["name"] for t in tables.json()["tables"]}
    assert {"cells", "prompts", "responses", "judgments", "human_labels"} <= names
    assert prompts.status_code == 200 and len(prompts.json()) == 20
    assert overview.status_code == 200
