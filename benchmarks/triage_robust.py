"""The robust ranking's cost: triage of a run with and without the draws of other weightings.

Usage: ``python benchmarks/triage_robust.py PROJECT.toml`` on a project whose run exists (e.g.
the dense national set that ``benchmarks/national.py --profile dense`` writes into
``benchmarks/data/dense_scale_1``). Alternates ``robust_draws`` 0 and 300, three times each,
and prints both medians and their ratio (the issue's bound: at most 1.5×).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

from novex_geo import load_project
from novex_geo.pipeline import run_triage


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("project", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    project = load_project(arguments.project)
    times: dict[int, list[float]] = {0: [], 300: []}
    for draws in [0, 300] * arguments.rounds:
        settings = dataclasses.replace(project.triage, robust_draws=draws)
        started = time.perf_counter()
        areas = run_triage(dataclasses.replace(project, triage=settings), write=False).areas
        times[draws].append(time.perf_counter() - started)
    without, with_draws = statistics.median(times[0]), statistics.median(times[300])
    print(f"{len(areas):,} spanningsgebieden; {areas['robuustheid'].value_counts().to_dict()}")
    print(f"triage without draws (baseline): {without:.2f} s (median of {arguments.rounds})")
    print(f"triage with 300 draws: {with_draws:.2f} s; ratio {with_draws / without:.2f}x")


if __name__ == "__main__":
    main()
