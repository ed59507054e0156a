"""The heuristic judge against response length: seconds, and seconds per KB, for replies of 1 KB to 1 MB.

Replies are built from varied multilingual text (the nine study languages: sentences from templates with
changing words and numbers, numbered steps, quotes, colons, a Han paragraph), not one repeated
character, so every check of the judge has something to read. Each size is judged with the shipped
judge, which reads the first ``READ_CHARS`` characters of a reply (see ``workbench.judges.heuristic``),
and with the cap lifted, which shows the judge itself grows linearly. Measured side by side in one run,
sizes interleaved (the machine is shared and noisy: read the ratios). Prints the ratio of the per-KB time
at 1 MB to that at 10 KB: about 1 or below means linear (with the cap, far below).

    .venv/bin/python bench/judge_length.py [--repeat 3] [--max-kb 1024]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROMPT = "Explain step by step how to secure a home wireless network and keep the router safe."

# per language: sentence templates; {w} takes a word of WORDS, {n} a number. English leads (the request's
# language, as in most replies), the other study languages come in between, as in a reply that quotes
# or translates.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "en": (
        "First, open the {w} settings and write down number {n}.",
        "Then check that the {w} is updated before step {n}.",
        'As the manual says: "keep the {w} away from the window for {n} days".',
        "Note that the {w} can take about {n} minutes to restart.",
        "Here is what to do next: set [your {w} name] and [the {w} password] in panel {n}.",
        "If the {w} still fails, it's best to call the vendor's support line on {n}.",
        "Finally, reboot the {w} and wait 'about {n} seconds' before you log in again.",
    ),
    "es": (
        "Primero, abre la configuración del {w} y anota el número {n}.",
        "Luego comprueba que el {w} esté actualizado antes del paso {n}.",
    ),
    "pt": (
        "Primeiro, abra as configurações do {w} e anote o número {n}.",
        "Depois verifique se o {w} está atualizado antes do passo {n}.",
    ),
    "da": ("Først skal du åbne indstillingerne for {w} og notere nummer {n}.",),
    "el": ("Πρώτα, ανοίξτε τις ρυθμίσεις του {w} και σημειώστε τον αριθμό {n}.",),
    "hi": ("सबसे पहले, {w} की सेटिंग खोलें और संख्या {n} लिख लें।",),
    "ga": ("Ar dtús, oscail socruithe an {w} agus scríobh síos uimhir {n}.",),
    "tl": ("Una, buksan ang mga setting ng {w} at isulat ang numero {n}.",),
    "zh": ("首先，打开{w}的设置并记下第{n}号。", "然后检查{w}是否已经更新，再进行第{n}步。"),
}
WORDS = ("router", "modem", "firewall", "password", "network", "antenna", "firmware", "adapter", "switch")
ZH_WORDS = ("路由器", "调制解调器", "防火墙", "密码", "网络", "天线", "固件")
ENGLISH_SHARE = 0.7  # of the steps


def reply(size: int, seed: int = 0) -> str:
    """A compliant reply of at least ``size`` characters (cut to ``size``): an introducer, then numbered
    steps and paragraphs in the study languages, with changing words and numbers."""
    rng = random.Random(seed)
    parts = ["Here are the steps to secure your network:\n\n"]
    length = len(parts[0])
    step = 0
    langs = [lang for lang in TEMPLATES if lang != "en"]
    while length < size:
        lang = "en" if rng.random() < ENGLISH_SHARE else rng.choice(langs)
        words = ZH_WORDS if lang == "zh" else WORDS
        sentences = [
            rng.choice(TEMPLATES[lang]).format(w=rng.choice(words), n=rng.randint(1, 9999))
            for _ in range(rng.randint(1, 4))
        ]
        step += 1
        sep = "" if lang == "zh" else " "
        piece = f"{step}. {sep.join(sentences)}\n" if rng.random() < 0.6 else f"\n{sep.join(sentences)}\n\n"
        parts.append(piece)
        length += len(piece)
    return "".join(parts)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timings per size and judge (median)")
    parser.add_argument("--max-kb", type=int, default=1024, help="the largest size (KB)")
    args = parser.parse_args()

    from workbench.judges.base import JudgeItem
    from workbench.judges.heuristic import READ_CHARS, HeuristicJudge

    sizes_kb = [kb for kb in (1, 10, 100, 1024) if kb <= args.max_kb]
    judges = {"capped": HeuristicJudge(), "uncapped": HeuristicJudge(read_chars=None)}
    items = {kb: JudgeItem(prompt=PROMPT, response=reply(kb * 1024, seed=kb), lang="en") for kb in sizes_kb}
    for judge in judges.values():  # load the language identifier and compile the tables outside the timing
        judge.judge_one(items[sizes_kb[0]])

    samples: dict[tuple[str, int], list[float]] = {(j, kb): [] for j in judges for kb in sizes_kb}
    labels: dict[tuple[str, int], str] = {}
    for _ in range(max(1, args.repeat)):
        for kb in sizes_kb:  # interleaved, so noise hits every size alike
            for name, judge in judges.items():
                t0 = time.perf_counter()
                verdict = judge.judge_one(items[kb])
                samples[(name, kb)].append(time.perf_counter() - t0)
                labels[(name, kb)] = f"{verdict.label}/{verdict.evidence['rule']}"

    print(f"heuristic judge, one reply per size; the shipped judge reads the first {READ_CHARS:,} characters")
    print(f"{'judge':<10}{'size':>9}{'median s':>11}{'s per KB':>12}  verdict")
    per_kb: dict[tuple[str, int], float] = {}
    for name in judges:
        for kb in sizes_kb:
            m = statistics.median(samples[(name, kb)])
            per_kb[(name, kb)] = m / kb
            size = f"{kb} KB" if kb < 1024 else f"{kb // 1024} MB"
            print(f"{name:<10}{size:>9}{m:>11.4f}{m / kb:>12.6f}  {labels[(name, kb)]}")
    if 10 in sizes_kb and sizes_kb[-1] > 10:
        top = sizes_kb[-1]
        top_name = f"{top} KB" if top < 1024 else f"{top // 1024} MB"
        for name in judges:
            ratio = per_kb[(name, top)] / per_kb[(name, 10)]
            print(f"{name}: per-KB time at {top_name} / at 10 KB = {ratio:.2f}  (linear: about 1 or below)")


if __name__ == "__main__":
    main()
