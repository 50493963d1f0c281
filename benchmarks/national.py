"""National overlay benchmark: novex-geo's engine against the chained geopandas.overlay baseline.

Usage (from the repository root, after ``pip install -e .``)::

    python benchmarks/national.py            # generate (once), run both, print the comparison
    python benchmarks/national.py --scale 0.1 --provincie Utrecht   # a quick smaller run

The synthetic claim set (:func:`novex_geo.synthetic.national_claims`) lies on the real Kadaster
provinces shipped in ``tests/data/real`` and is written once to ``benchmarks/data/``. Two
profiles: ``easy`` (the parcels one coverage, few faces) and ``dense`` (``--profile dense``:
parcels apart like real BRP parcels, the other claims on the farmland — many faces and
schuurpunten; see :func:`~novex_geo.synthetic.national_claims`); ``--profile both`` measures
the one, then the other.
Each measurement runs in its own subprocess, so its wall time and peak memory are its own:

- ``read``: the floor — reading every input file with pyogrio (Arrow) and nothing else;
- ``run``: the whole ``novex-geo run`` as a user types it (start-up, loading, engine,
  self-audit, writing the GeoPackage), with its ratio to the read time and its phases, from when
  its log lines came (``--repeat 3`` reads and runs three times in turns and uses the medians);
- ``baseline``: what a user would write without novex-geo, ``geopandas.overlay(how="union")``
  chained over the five sector layers, then intersected with the provinces, counting per face
  the sectors whose columns are filled (timed after loading, so the ratio favours it).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import json
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
# the Kadaster provinces shipped with the tests (tests/data/real/SOURCES.md)
PROVINCES = HERE.parent / "tests" / "data" / "real" / "kadaster_provinciegebied.gpkg"
HECTARE = 10_000.0
PARCELS_AT_SCALE_1 = 420_000  # landbouw parcels asked for at scale 1 (418,143 survive the hull cut)

PROJECT = """
[project]
name = "Benchmark nationaal (synthetisch)"
output = "uitvoer"
[project.regions]
path = "{provinces}"
name_field = "naam"

[sectors.landbouw]
[[sectors.landbouw.sources]]
path = "landbouw.gpkg"
label_field = "naam"
[sectors.woningbouw]
[[sectors.woningbouw.sources]]
path = "woningbouw.gpkg"
label_field = "naam"
[sectors.water_bodem]
[[sectors.water_bodem.sources]]
path = "water_bodem.gpkg"
label_field = "naam"
[sectors.energie]
[[sectors.energie.sources]]
path = "hoogspanning.gpkg"
buffer = 75
label_field = "naam"
[[sectors.energie.sources]]
path = "stations.gpkg"
buffer = 150
label_field = "naam"
[sectors.defensie]
[[sectors.defensie.sources]]
path = "defensie.gpkg"
label_field = "naam"

[conflicts]
min_area_m2 = 100
[[conflicts.pairs]]
sectors = ["woningbouw", "defensie"]
distance = 1000
[[conflicts.pairs]]
sectors = ["woningbouw", "water_bodem"]
[[conflicts.pairs]]
sectors = ["woningbouw", "energie"]
distance = 100
[[conflicts.pairs]]
sectors = ["woningbouw", "landbouw"]
[[conflicts.pairs]]
sectors = ["energie", "defensie"]
[[conflicts.pairs]]
sectors = ["water_bodem", "landbouw"]
"""


def data_folder(scale: float, profile: str = "easy") -> Path:
    return DATA / (f"scale_{scale:g}" if profile == "easy" else f"{profile}_scale_{scale:g}")


def generate(scale: float, seed: int, profile: str = "easy") -> Path:
    """Write the synthetic national set and its project file (once per scale)."""
    import geopandas as gpd

    from novex_geo.synthetic import national_claims

    folder = data_folder(scale, profile)
    project = folder / "novex.toml"
    if project.exists():
        return project
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    provinces = gpd.read_file(PROVINCES)
    for name, frame in national_claims(provinces, scale=scale, seed=seed, profile=profile).items():
        frame.to_file(folder / f"{name}.gpkg", engine="pyogrio")
        print(f"  {name}: {len(frame):,} features", flush=True)
    project.write_text(PROJECT.format(provinces=PROVINCES.as_posix()), encoding="utf-8")
    print(f"generated {folder} in {time.perf_counter() - started:.1f} s", flush=True)
    return project


def _load(project_path: Path, provincies: list[str]):
    from novex_geo import load_project, load_regions, load_sectors
    from novex_geo.io.regions import select_regions

    project = load_project(project_path)
    regions = select_regions(load_regions(project.regions, project.crs), provincies)
    layers = load_sectors(project)
    return project, regions, {key: layer.frame for key, layer in layers.items()}


def _peak_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_main_mb": own, "peak_worker_mb": children}


def read_inputs(project_path: Path, provincies: list[str]) -> dict:
    """The floor: read every input file of the project with pyogrio (Arrow), nothing else."""
    import pyogrio

    from novex_geo import load_project

    project = load_project(project_path)
    started = time.perf_counter()
    paths = [project.regions.path] + [s.path for sector in project.sectors.values() for s in sector.sources]
    features = sum(len(pyogrio.read_dataframe(path, use_arrow=True)) for path in paths)
    return {"seconds": time.perf_counter() - started, "features": features, **_peak_mb()}


def run_engine(project_path: Path, provincies: list[str], start_method: str, workers: int) -> dict:
    """The engine alone on loaded inputs, on local worker processes started by ``start_method``
    (``fork``/``spawn``) or on a dask LocalCluster (``dask``) started before the clock runs, as a
    team's cluster would already be running."""
    import os

    from novex_geo.cluster import local_cluster
    from novex_geo.executor import START_METHOD_ENV, Executor
    from novex_geo.overlay import overlay
    from novex_geo.overlay.tile import run_request

    project, regions, claims = _load(project_path, provincies)
    with contextlib.ExitStack() as stack:
        if start_method == "dask":
            from distributed import Client

            cluster = stack.enter_context(local_cluster(workers))
            with Client(cluster) as client:  # workers that have imported the engine, as after a first run
                client.run(importlib.import_module, run_request.__module__)
            executor = Executor("dask", workers, cluster.scheduler_address)
        else:
            os.environ[START_METHOD_ENV] = start_method
            executor = Executor("local", workers)
        started = time.perf_counter()
        result = overlay(
            regions, claims, project.conflicts, project.tile_size, project.min_area_m2, executor=executor
        )
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "faces": len(result.stapeling),
        "ids": hashlib.sha1(
            "\n".join([*result.stapeling["vlak_id"], *result.schuurpunten["schuurpunt_id"]]).encode()
        ).hexdigest(),
        "m2": float(result.stapeling["oppervlakte_m2"].sum()),
    }


def check_command(project_path: Path, provincies: list[str]) -> dict:
    """The whole ``novex-geo check`` as a user types it (what they run after every edit)."""
    started = time.perf_counter()
    subprocess.run(["novex-geo", "check", str(project_path)], check=True, capture_output=True, text=True)
    return {"seconds": time.perf_counter() - started, **_peak_mb()}


def run_command(project_path: Path, provincies: list[str]) -> dict:
    """The whole ``novex-geo run`` (start-up, load, engine, audit, writing) as a user runs it."""
    import pyogrio

    command = ["novex-geo", "run", str(project_path)]
    for name in provincies:
        command += ["--provincie", name]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stamped: list[tuple[float, str]] = []  # the run's log lines, with when they came

    def read_log() -> None:
        stamped.extend((time.perf_counter() - started, line.strip()) for line in process.stderr)

    reader = threading.Thread(target=read_log)
    reader.start()
    peak_pss = 0
    while process.poll() is None:  # memory of the run and all its worker processes together
        polled = time.perf_counter()
        peak_pss = max(peak_pss, _tree_pss(process.pid))
        # the kernel walks every page of the processes to sum their PSS, holding their memory maps:
        # of gigabytes that takes a core and slows the run down, unless done rarely (here ≤ 5 %)
        time.sleep(max(0.25, 20 * (time.perf_counter() - polled)))
    seconds = time.perf_counter() - started
    reader.join()
    if process.returncode:
        sys.exit("novex-geo run failed: " + "\n".join(line for _, line in stamped)[-2000:])
    gpkg = project_path.parent / "uitvoer" / "analyse.gpkg"
    faces = pyogrio.read_dataframe(gpkg, layer="stapeling", read_geometry=False)
    controle = pyogrio.read_dataframe(gpkg, layer="controle", read_geometry=False)
    worst = controle.loc[controle["verschil_relatief"].idxmax()]
    areas = faces.groupby("n_sectoren")["oppervlakte_m2"].sum() / HECTARE
    return {
        "seconds": seconds,
        "faces": len(faces),
        "schuurpunten": len(pyogrio.read_dataframe(gpkg, layer="schuurpunten", read_geometry=False)),
        "audit_worst_relative": float(worst["verschil_relatief"]),
        "audit_worst_m2": float(worst["verschil_m2"]),
        "audit_worst_where": f"{worst['provincie']}, {worst['sector']}",
        "audit_rows": len(controle),
        "ha_per_n_sectoren": {int(k): float(v) for k, v in areas.items()},
        "peak_pss_mb": peak_pss / 1e6,
        "phases": _phases(stamped, seconds),
        **_peak_mb(),
    }


# the log line that ends each phase of a run
PHASE_ENDS = {
    "start-up and loading": re.compile(r"^loaded .* in [\d.]+ s$"),
    "tiles": re.compile(r"^\[(\d+)/\1\] "),
    "assembly and controle": re.compile(r"pieces of the tiles merged"),  # faces and zones, side by side
    "writing": re.compile(r"^wrote .*analyse\.gpkg \("),
}


def _phases(stamped: list[tuple[float, str]], seconds: float) -> dict[str, float]:
    """Seconds per phase of a run from when its log lines came (a phase ends at its last line),
    and the faces' assembly alone (``assembly of the faces``, as the run logs it)."""
    ends = {
        name: max((at for at, line in stamped if pattern.search(line)), default=None)
        for name, pattern in PHASE_ENDS.items()
    }
    phases, previous = {}, 0.0
    for name, end in ends.items():
        if end is not None:
            phases[name], previous = end - previous, end
    phases["summary and the rest"] = seconds - previous
    faces = next((line for _, line in stamped if "face pieces of the tiles merged" in line), "")
    found = re.search(r"\(([\d.]+) s\)$", faces)
    if found:
        phases["assembly of the faces"] = float(found.group(1))
    return phases


def _tree_pss(root: int) -> int:
    """Proportional memory (PSS: shared pages counted once) of ``root`` and its descendants,
    from /proc (Linux); 0 where that is not available."""
    parents = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, grown = {root}, True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grown = True
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return total


def run_grid(project_path: Path, provincies: list[str], resolution: float) -> dict:
    import tempfile

    from novex_geo import load_project, load_regions, load_sectors
    from novex_geo.grid import grid_overlay
    from novex_geo.io.regions import select_regions

    project = load_project(project_path)
    regions = select_regions(load_regions(project.regions, project.crs), provincies)
    layers = load_sectors(project)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        result = grid_overlay(project, layers, regions, resolution, folder)
        seconds = time.perf_counter() - started
    total = result.summary.set_index("provincie").loc["Totaal"]
    classes = {2: "2", 3: "3", 4: "4", 5: "5plus"}
    areas = {1: float(total["stapeling_1_ha"])}
    areas.update({n: float(total[f"stapeling_{name}_ha"]) for n, name in classes.items()})
    return {
        "seconds": seconds,
        "cells": result.spec.width * result.spec.height,
        "ha_per_n_sectoren": {n: a for n, a in areas.items() if a},
        **_peak_mb(),
    }


def run_baseline(project_path: Path, provincies: list[str]) -> dict:
    import geopandas as gpd
    import numpy as np
    import shapely

    _, regions, claims = _load(project_path, provincies)
    started = time.perf_counter()
    # a fair baseline only overlays the features that touch the provinces analysed
    area = shapely.union_all(regions.geometry.values)
    claims = {key: frame[frame.intersects(area)] for key, frame in claims.items()}
    merged = None
    for key, frame in claims.items():
        layer = gpd.GeoDataFrame(
            {f"in_{key}": np.ones(len(frame), dtype=np.int8)},
            geometry=frame.geometry.values,
            crs=frame.crs,
        )
        merged = layer if merged is None else gpd.overlay(merged, layer, how="union", keep_geom_type=True)
        print(
            f"  baseline: after {key}: {len(merged):,} faces, {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    chained = time.perf_counter()
    per_province = gpd.overlay(merged, regions, how="intersection", keep_geom_type=True)
    done = time.perf_counter()
    flags = per_province[[f"in_{key}" for key in claims]].notna().sum(axis=1)
    areas = per_province.area.groupby(flags.to_numpy()).sum() / HECTARE
    return {
        "seconds_chain": chained - started,
        "seconds": done - started,
        "faces": len(per_province),
        "ha_per_n_sectoren": {int(k): float(v) for k, v in areas.items() if k > 0},
        **_peak_mb(),
    }


def _compare_executors(project: Path, provincies: list[str], repeats: int = 3) -> None:
    """The engine on one worker, two forked and two spawned workers and a dask LocalCluster:
    same result, and the speed-up; each the median of ``repeats`` runs taken in turns, so that
    a busy moment of the machine does not fall on one of them only."""
    setups = {
        "1 worker": ("fork", 1),
        "2 forked": ("fork", 2),
        "2 spawned": ("spawn", 2),
        "dask LocalCluster, 2 workers": ("dask", 2),
    }
    runs: dict[str, list[dict]] = {label: [] for label in setups}
    for _ in range(repeats):
        for label, (method, n) in setups.items():
            extra = ["--start-method", method, "--workers", str(n)]
            runs[label].append(_in_subprocess("engine", project, provincies, extra=extra))
    median = {label: statistics.median(run["seconds"] for run in done) for label, done in runs.items()}
    dask = median["dask LocalCluster, 2 workers"]
    print(
        f"dask overhead against 2 forked workers: {100 * (dask / median['2 forked'] - 1):+.0f} % "
        f"(medians of {repeats} runs each)"
    )
    reference = runs["1 worker"][0]
    for label, done in runs.items():
        same = all(run["ids"] == reference["ids"] and run["m2"] == reference["m2"] for run in done)
        each = ", ".join(f"{run['seconds']:.1f}" for run in done)
        print(
            f"engine, {label}: {median[label]:.1f} s ({each}), "
            f"{median['1 worker'] / median[label]:.2f}x one worker, "
            f"{'identical' if same else 'DIFFERENT'} faces and schuurpunten in every run"
        )


def _median(measured: list[dict]) -> dict:
    """The measurement with the median time (the lower middle one of an even count)."""
    return sorted(measured, key=lambda m: m["seconds"])[(len(measured) - 1) // 2]


def _in_subprocess(
    which: str, project: Path, provincies: list[str], resolution: float | None = None, extra: list[str] = ()
) -> dict:
    command = [sys.executable, __file__, "--only", which, "--project", str(project), *extra]
    if resolution:
        command += ["--resolution", str(resolution)]
    for name in provincies:
        command += ["--provincie", name]
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    sys.stderr.write(output.stderr)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="feature counts relative to the national set"
    )
    parser.add_argument(
        "--parcels",
        type=int,
        metavar="N",
        help="scale the whole set so landbouw has about N parcels, e.g. 2300000 (the real BRP size)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--profile",
        choices=["easy", "dense", "both"],
        default="easy",
        help="the synthetic set's shape; both: the easy set, then the dense one",
    )
    parser.add_argument("--provincie", action="append", default=[], help="limit both runs to this provincie")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=1, metavar="N", help="read and run N times in turns; medians are used"
    )
    parser.add_argument(
        "--grid",
        type=float,
        action="append",
        default=[],
        metavar="M",
        help="also run grid mode at this resolution (repeatable), e.g. --grid 25 --grid 10",
    )
    parser.add_argument(
        "--executors",
        action="store_true",
        help="also time the engine with 1 worker, 2 forked and 2 spawned workers",
    )
    parser.add_argument(
        "--only", choices=["read", "check", "run", "baseline", "grid", "engine"], help=argparse.SUPPRESS
    )
    parser.add_argument("--start-method", default="fork", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--resolution", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only == "engine":
        print(json.dumps(run_engine(args.project, args.provincie, args.start_method, args.workers)))
        return
    if args.only == "grid":
        print(json.dumps(run_grid(args.project, args.provincie, args.resolution)))
        return
    if args.only:
        runner = {"read": read_inputs, "check": check_command, "run": run_command, "baseline": run_baseline}[
            args.only
        ]
        print(json.dumps(runner(args.project, args.provincie)))
        return
    if not PROVINCES.exists():
        sys.exit(f"needs the real provinces at {PROVINCES}")
    if args.parcels:
        args.scale = round(args.parcels / PARCELS_AT_SCALE_1, 3)
    for profile in ("easy", "dense") if args.profile == "both" else (args.profile,):
        print(f"--- profile {profile} ---", flush=True)
        _benchmark(args, generate(args.scale, args.seed, profile))


def _benchmark(args: argparse.Namespace, project: Path) -> None:
    """Every measurement asked for in ``args`` on one generated set."""
    scope = ", ".join(args.provincie) or "all 12 provinces"
    print(f"reading the inputs with pyogrio, then novex-geo run on {scope} ...", flush=True)
    reads, runs = [], []
    for _ in range(args.repeat):  # in turns, so a busy moment of the machine hits both alike
        reads.append(_in_subprocess("read", project, args.provincie))
        runs.append(_in_subprocess("run", project, args.provincie))
    read, engine = _median(reads), _median(runs)
    checked = _in_subprocess("check", project, args.provincie)
    if args.repeat > 1:
        print(
            f"{args.repeat} turns (the median is used): read "
            + ", ".join(f"{r['seconds']:.1f}" for r in reads)
            + " s; run "
            + ", ".join(f"{r['seconds']:.1f}" for r in runs)
            + " s"
        )
    print(
        "phases of the run: "
        + "; ".join(f"{name} {seconds:.1f} s" for name, seconds in engine["phases"].items())
        + f" ({1e6 * engine['phases'].get('assembly of the faces', 0.0) / max(engine['faces'], 1):.1f} µs "
        "per face for their assembly)"
    )
    print(
        f"read inputs (pyogrio, {read['features']:,} features): {read['seconds']:.1f} s\n"
        f"novex-geo run (start-up, load, engine, audit, writing): {engine['seconds']:.1f} s wall, "
        f"{engine['faces']:,} faces, {engine['schuurpunten']:,} schuurpunten; "
        f"ratio run / read {engine['seconds'] / read['seconds']:.1f}x; "
        f"peak memory {engine['peak_pss_mb']:,.0f} MB for the run and its workers together (PSS), "
        f"{engine['peak_worker_mb']:,.0f} MB the largest process\n"
        f"novex-geo check: {checked['seconds']:.1f} s wall, {checked['seconds'] / engine['seconds']:.2f} of "
        "the run's time\n"
        f"self-audit (controle, {engine['audit_rows']} rows): largest difference "
        f"{engine['audit_worst_relative']:.1e} relative ({engine['audit_worst_m2']:+.3f} m², "
        f"{engine['audit_worst_where']})"
    )
    if args.executors:
        _compare_executors(project, args.provincie)
    for resolution in args.grid:
        grid = _in_subprocess("grid", project, args.provincie, resolution)
        ours = engine["ha_per_n_sectoren"]
        worst = max(
            abs(grid["ha_per_n_sectoren"].get(str(n), 0.0) - a) / a for n, a in ours.items() if a > 1_000
        )
        print(
            f"grid {resolution:g} m: {grid['seconds']:.1f} s wall for {grid['cells']:,} cells, "
            f"peak memory {grid['peak_main_mb']:.0f} MB main / "
            f"{grid['peak_worker_mb']:.0f} MB per worker; "
            f"{grid['seconds'] / engine['seconds']:.2f}x the time of the whole exact run; "
            f"largest deviation per n_sectoren class (classes > 1,000 ha): {100 * worst:.2f} %"
        )
    if args.skip_baseline:
        return
    print(f"baseline (chained geopandas.overlay) on {scope} ...", flush=True)
    baseline = _in_subprocess("baseline", project, args.provincie)
    print(
        f"baseline: {baseline['seconds']:.1f} s wall "
        f"({baseline['seconds_chain']:.1f} s for the five-layer "
        f"chain), {baseline['faces']:,} faces, peak memory {baseline['peak_main_mb']:.0f} MB"
    )
    print(
        f"\nratio: engine is {baseline['seconds'] / engine['seconds']:.1f}x faster "
        "than the baseline "
        f"({baseline['seconds_chain'] / engine['seconds']:.1f}x against the chain alone)"
    )
    print("\narea per n_sectoren (ha)     engine      baseline    baseline off by")
    for n in sorted(set(engine["ha_per_n_sectoren"]) | set(baseline["ha_per_n_sectoren"])):
        ours = engine["ha_per_n_sectoren"].get(n, 0.0)
        theirs = baseline["ha_per_n_sectoren"].get(n, 0.0)
        off = f"{100 * (theirs - ours) / ours:+.2f} %" if ours else "n/a"
        print(f"  {n:>2}                    {ours:>12,.1f}  {theirs:>12,.1f}    {off}")
    total_ours, total_theirs = (
        sum(engine["ha_per_n_sectoren"].values()),
        sum(baseline["ha_per_n_sectoren"].values()),
    )
    print(
        f"  total                 {total_ours:>12,.1f}  {total_theirs:>12,.1f}    "
        f"{100 * (total_theirs - total_ours) / total_ours:+.2f} %"
    )


if __name__ == "__main__":
    main()
