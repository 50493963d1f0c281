"""The voortgangsmeter's cost at national scale: ``monitor`` over yearly runs against the
``diff`` of each consecutive pair (the comparison it extends with sporen and afspraken).

Usage: ``python benchmarks/monitor.py [--areas 3000] [--cycles 3]``. Each cycle holds
``--areas`` spanningsgebieden of 800 m scattered over 300 km (the dense national set has about
3,000), shifted a little per cycle, one in ten with an afspraak typed under its first id.
Prints the monitor's time (linking, lines per cycle, afspraken, report), the diffs' time
(baseline) and their ratio, medians of three rounds.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config.afspraken import AFSPRAKEN_TABLE
from novex_geo.triage.diff import compare_areas
from novex_geo.triage.monitor import Cycle, follow_areas, voortgang_report


def cycles_of(areas: int, count: int) -> list[Cycle]:
    rng = np.random.default_rng(2026)
    corners = rng.uniform(0, 300_000, (areas, 2))
    typed = [
        {"id": f"SG-0-{i}", "regel": str(i + 2), "afspraak": "gebiedsproces", "eigenaar": "provincie"}
        | {"bob_fase": "beeldvorming", "tafel": "DO NOVEX", "deadline": "2026-01-01", "status": "open"}
        | {"besluit": ""}
        for i in range(0, areas, 10)
    ]
    cycles = []
    for k in range(count):
        low = corners + rng.normal(0, 60, corners.shape)
        frame = gpd.GeoDataFrame(
            {
                "id": [f"SG-{k}-{i}" for i in range(areas)],
                "naam": [f"gebied {i}" for i in range(areas)],
                "oppervlakte_ha": 64.0,
                "conflict_ha": rng.uniform(1, 100, areas),
                "score": rng.uniform(0, 10, areas),
                "rang": np.arange(1, areas + 1),
            },
            geometry=shapely.box(low[:, 0], low[:, 1], low[:, 0] + 800, low[:, 1] + 800),
            crs="EPSG:28992",
        )
        cycles.append(Cycle(str(2025 + k), frame, pd.DataFrame(typed, columns=AFSPRAKEN_TABLE)))
    return cycles


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--areas", type=int, default=3000)
    parser.add_argument("--cycles", type=int, default=3)
    arguments = parser.parse_args()
    cycles = cycles_of(arguments.areas, arguments.cycles)
    monitor, diffs = [], []
    for _ in range(3):
        started = time.perf_counter()
        result = follow_areas(cycles, date(2026, 6, 1))
        voortgang_report(result, {})
        monitor.append(time.perf_counter() - started)
        started = time.perf_counter()
        for old, new in pairwise(cycles):
            compare_areas(old.areas, new.areas)
        diffs.append(time.perf_counter() - started)
    print(
        f"{arguments.cycles} cycles of {arguments.areas:,} spanningsgebieden: {len(result.sporen):,} sporen, "
        f"{len(result.table):,} lines, {len(result.overdue):,} afspraken past their deadline"
    )
    baseline, figure = statistics.median(diffs), statistics.median(monitor)
    print(f"diff of each consecutive pair (baseline): {baseline:.2f} s (median of 3)")
    print(f"monitor (sporen, afspraken, voortgang.md): {figure:.2f} s; ratio {figure / baseline:.2f}x")


if __name__ == "__main__":
    main()
