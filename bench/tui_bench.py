"""TUI benchmarks on a synthetic study of 100,000 responses (judgments from two judges, human labels).

Measured in one run, side by side (the machine is shared and noisy: read the medians and ratios):

1. ``workbench tui`` (the studies screen) and ``workbench tui RECIPE`` (a study opened) to the first
   frame: the real command in a pseudo-terminal, until the footer is drawn, against a bare Textual
   app (header and footer) started the same way.
2. Recomputing the results heatmap after a filter change: ``analysis.results.compute`` alone, and
   in the TUI (key press to redrawn heatmap, through Pilot).
3. Opening a cell's response list (all languages: 12,500 rows) and scrolling through 10,000 rows
   with page-down, through Pilot; the list is virtualised (ids in memory, rows read a page at a
   time by thread workers, so a frame never waits for the database).

    .venv/bin/python bench/tui_bench.py [--responses 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def first_frame_seconds(cmd: list[str], cwd: Path, marker: bytes = b"Quit", timeout: float = 30.0) -> float:
    """Seconds from spawning ``cmd`` in a 140x40 pty until ``marker`` is drawn; then quits it (ctrl+q)."""
    import fcntl
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # child
        fcntl.ioctl(sys.stdout.fileno(), termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        os.chdir(cwd)
        os.environ["TERM"] = "xterm-256color"
        os.execv(cmd[0], cmd)
    t0 = time.perf_counter()
    seen, elapsed = b"", None
    while time.perf_counter() - t0 < timeout:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen += chunk
            if marker in seen:
                elapsed = time.perf_counter() - t0
                break
    os.write(fd, b"\x11")  # ctrl+q
    deadline = time.time() + 10
    while time.time() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        select.select([fd], [], [], 0.05)
        try:
            os.read(fd, 65536)
        except OSError:
            pass
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)
    if elapsed is None:
        raise RuntimeError(f"no first frame within {timeout} s: {seen[-300:]!r}")
    return elapsed


BARE_APP = """
from textual.app import App
from textual.binding import Binding
from textual.widgets import Footer, Header


class Bare(App):
    BINDINGS = [Binding("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Header()
        yield Footer()


Bare().run()
"""


def bench_first_frame(home: Path, repeat: int, recipe: Path | None = None) -> None:
    py = sys.executable
    bare = home / "bare_textual_app.py"
    bare.write_text(BARE_APP)
    cases = {
        "python -c pass": [py, "-c", "pass"],
        "bare Textual app": [py, str(bare)],
        "workbench tui (studies)": [py, "-m", "workbench", "tui"],
    }
    if recipe is not None:
        cases["workbench tui RECIPE (study)"] = [py, "-m", "workbench", "tui", str(recipe)]
    samples: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeat):
        for name, cmd in cases.items():
            if name.startswith("python"):
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True)
                samples[name].append(time.perf_counter() - t0)
            else:
                samples[name].append(first_frame_seconds(cmd, home))
    bare_s = statistics.median(samples["bare Textual app"])
    print("\n1. start-up to the first full frame (pty 140x40, footer drawn); goal: <= 2x the bare app")
    print(f"   {'case':<32}{'median s':>10}{'min s':>8}{'x bare app':>12}")
    for name, s in samples.items():
        print(f"   {name:<32}{statistics.median(s):>10.3f}{min(s):>8.3f}{statistics.median(s) / bare_s:>12.2f}")


def bench_compute(db_path: Path, repeat: int) -> None:
    from workbench.analysis.results import compute, counts, rates_from_counts
    from workbench.store import read

    db = read.ReadDB(db_path)
    sid = read.study_id(db, db_path.stem)
    compute(db, sid)  # warm: scipy import, page cache
    cases = {"all": {}}
    for c in read.categories(db, sid)[:2]:
        cases[f"category {c}"] = {"categories": [c]}
    cases["eval language es"] = {"eval_langs": ["es"]}

    print("\n2a. rates on the study (all judges), seconds")
    t0 = time.perf_counter()
    table = counts(db, sid)
    print(f"   additive counts (read.rate_counts), read once per change of results: {time.perf_counter() - t0:.3f} s")
    print(f"   {'filter change':<24}{'median s':>10}{'min s':>8}   rows")
    for name, kw in cases.items():
        s, rows = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            rows = rates_from_counts(table, **kw)
            s.append(time.perf_counter() - t0)
        print(f"   {name:<24}{statistics.median(s):>10.3f}{min(s):>8.3f}   {len(rows)}")
    t0 = time.perf_counter()
    for _ in range(repeat):
        gens = read.current_generations(db, sid)
    print(f"   (of which current_generations: {(time.perf_counter() - t0) / repeat:.3f} s; {len(gens)} cells)")


async def bench_tui(home: Path, study: str, repeat: int) -> None:
    from workbench.tui.app import make_app
    from workbench.tui.state import study_from_recipe
    from workbench.tui.widgets.virtual_table import VirtualTable

    async def until(pilot, cond, timeout=120.0):
        t0 = time.perf_counter()
        while not cond():
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError("timed out")
            await pilot.pause(0.005)

    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await app.open_study(study_from_recipe(home / "recipes" / f"{study}.toml"), mode="results")
        screen = app.screen
        t0 = time.perf_counter()
        await until(pilot, lambda: screen.rows)
        print("\n2b. results screen in the TUI (key press -> heatmap redrawn)")
        print(f"   first heatmap (cold: imports scipy): {time.perf_counter() - t0:.3f} s")
        redraws, recomputes = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            await pilot.press("d")  # view change: redraw only
            redraws.append(time.perf_counter() - t0)
        for _ in range(repeat * 2):
            before = screen.rows
            t0 = time.perf_counter()
            await pilot.press("f")  # category filter change: recompute
            await until(pilot, lambda before=before: screen.rows is not before)
            recomputes.append(time.perf_counter() - t0)
        print(f"   view switch (redraw from rows):      median {statistics.median(redraws) * 1000:.0f} ms")
        print(
            f"   category filter (recompute+redraw):  median {statistics.median(recomputes) * 1000:.0f} ms, "
            f"max {max(recomputes) * 1000:.0f} ms (UI stays responsive: computed in a thread)"
        )

        # 3. a cell's responses, all languages
        while screen.category is not None:  # back to all categories for a full list
            before = screen.rows
            await pilot.press("f")
            await until(pilot, lambda before=before: screen.rows is not before)
        await pilot.press("down")  # first fine-tune row
        await pilot.press("left")  # label column: all languages
        from workbench.tui.screens.responses import ResponsesScreen

        heatmap = screen.focused_heatmap()
        cell = heatmap.cell_at(heatmap.cursor_coordinate)[0]
        t0 = time.perf_counter()
        app.push_screen(ResponsesScreen(cell, None, screen.judge))
        await until(pilot, lambda: isinstance(app.screen, ResponsesScreen) and app.screen.query(VirtualTable))
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: len(table.ids) > 0)
        await pilot.pause()
        await until(pilot, lambda: not table.reading)  # the first page, read by a worker
        opened = time.perf_counter() - t0
        n = len(table.ids)
        print(f"\n3. response list of {cell} (all languages): {n:,} rows")
        print(f"   open (ids query + first page read + first frame): {opened * 1000:.0f} ms")
        steps, t_all = [], time.perf_counter()
        fetches0 = table.fetches
        while table.cursor < min(n - 1, 10_000) and len(steps) < 150:
            t0 = time.perf_counter()
            await pilot.press("pagedown")
            steps.append(time.perf_counter() - t0)
        total = time.perf_counter() - t_all
        per_row = total / max(1, table.cursor)
        print(
            f"   scroll to row {table.cursor:,} with page-down: {len(steps)} key presses in {total:.2f} s; "
            f"per key median {statistics.median(steps) * 1000:.1f} ms, p95 "
            f"{sorted(steps)[int(len(steps) * 0.95)] * 1000:.1f} ms, max {max(steps) * 1000:.1f} ms "
            f"({per_row * 1e6:.0f} µs per row scrolled); {table.fetches - fetches0} pages of "
            f"{table.page_size} rows read"
        )
        steps = []
        for _ in range(50):
            t0 = time.perf_counter()
            await pilot.press("up")
            steps.append(time.perf_counter() - t0)
        print(f"   cursor up, 50 presses: per key median {statistics.median(steps) * 1000:.1f} ms")
        steps = []
        for _ in range(50):
            t0 = time.perf_counter()
            await pilot.press("f12")  # bound to nothing: what Pilot itself costs per key
            steps.append(time.perf_counter() - t0)
        print(f"   (baseline: an unbound key through Pilot, median {statistics.median(steps) * 1000:.1f} ms)")
        for page in range(0, 2010 // table.page_size + 1):  # rows in memory: this measures drawing alone
            table.request_page(page)
        await until(pilot, lambda: not table.reading)
        t0 = time.perf_counter()
        table.cursor = 10
        for index in range(10, 2010):
            table.cursor = index
            table.render_line(table.size.height - 1)
        per = (time.perf_counter() - t0) / 2000
        print(f"   cursor move + drawing its line without Pilot, 2,000 rows: {per * 1e6:.0f} µs per row")
        # Every screenful from the top to row 10,000, drawn line by line as the compositor would, until
        # its rows are there (a page not in memory is read by a worker meanwhile, the next one read ahead).
        table.invalidate()
        height = table.size.height
        fetches0, frames = table.fetches, []
        t_all = time.perf_counter()
        for top in range(0, min(n, 10_000), height - 1):
            t0 = time.perf_counter()
            table.scroll_to(y=top, animate=False, immediate=True)
            for y in range(height):
                table.render_line(y)
            if table.reading:
                while table.reading:
                    await asyncio.sleep(0)
                for y in range(height):
                    table.render_line(y)
            frames.append(time.perf_counter() - t0)
        total = time.perf_counter() - t_all
        print(
            f"   all {len(frames)} screenfuls of rows 0-10,000 ({height} lines each): {total:.2f} s; per screenful "
            f"median {statistics.median(frames) * 1000:.2f} ms, max {max(frames) * 1000:.1f} ms; "
            f"{table.fetches - fetches0} pages read"
        )


def query_plans(db_path: Path) -> None:
    import sqlite3

    from workbench.store.browse import ResponseFilter
    from workbench.store.read import CURRENT_RESPONSES

    conn = sqlite3.connect(db_path)
    where, args = ResponseFilter(cell_id="x", eval_lang="es").sql()
    plans = {
        "response ids of a cell": (
            f"""SELECT r.id FROM responses r {CURRENT_RESPONSES} JOIN prompts p ON p.id = r.prompt_id
                WHERE {where} ORDER BY r.prompt_id""",
            args,
        ),
        "a page of rows": (
            "SELECT r.id, p.item_id FROM responses r JOIN prompts p ON p.id = r.prompt_id WHERE r.id IN (1, 2, 3)",
            [],
        ),
    }
    print("\nquery plans")
    for name, (sql, a) in plans.items():
        steps = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, a)]
        print(f"   {name}: {'; '.join(steps)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="build the workspace here and keep it")
    args = parser.parse_args()
    from synthetic_study import make_study

    home = args.keep or Path(tempfile.mkdtemp(prefix="tui-bench-"))
    os.environ["WORKBENCH_HOME"] = str(home)
    (home / "recipes").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "recipes" / "demo.toml", home / "recipes" / "demo.toml")
    db_path = home / "studies" / "bench.sqlite"
    t0 = time.perf_counter()
    if not db_path.exists():
        make_study(db_path, args.responses, seed=0, recipe_path=home / "recipes" / "bench.toml")
    print(f"synthetic study: {args.responses:,} responses, 2 judges, 2 annotators ({time.perf_counter() - t0:.1f} s)")
    print(f"workspace: {home}; CPUs: {os.cpu_count()}")
    bench_first_frame(home, args.repeat, home / "recipes" / "bench.toml")
    bench_compute(db_path, args.repeat)
    asyncio.run(bench_tui(home, "bench", args.repeat))
    query_plans(db_path)
    if args.keep is None:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
