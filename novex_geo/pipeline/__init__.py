"""The library entry for every command: load once, compute, write.

Each ``run_*`` function is what one ``novex-geo`` command does, usable from a notebook
without the CLI. Data flows one way: project → :mod:`~novex_geo.io` →
:mod:`~novex_geo.overlay` → :mod:`~novex_geo.triage` → :mod:`~novex_geo.maps`.
"""

from novex_geo.pipeline.analysis import OverlayRun, TriageRun, load_claims, run_grid, run_overlay, run_triage
from novex_geo.pipeline.products import (
    MonitorRun,
    SketchRun,
    run_diff,
    run_maps,
    run_monitor,
    run_signals,
    run_sketch,
)
from novex_geo.pipeline.variants import VariantsRun, run_variants

__all__ = [
    "MonitorRun",
    "OverlayRun",
    "SketchRun",
    "TriageRun",
    "VariantsRun",
    "load_claims",
    "run_diff",
    "run_grid",
    "run_maps",
    "run_monitor",
    "run_overlay",
    "run_signals",
    "run_sketch",
    "run_triage",
    "run_variants",
]
