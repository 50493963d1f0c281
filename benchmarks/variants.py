"""Three oplossingsrichtingen for one spanningsgebied at national scale: ``varianten`` against
the full run it stands in for.

Usage: ``python benchmarks/variants.py [PROJECT.toml]`` (default: the dense national set that
``benchmarks/national.py --profile dense`` writes into ``benchmarks/data/dense_scale_1``; its
run is triaged first when it has no spanningsgebieden). For the best-ranked spanningsgebied it
writes three variants (cut away the first sector of its largest pair inside the area, cut away
the second, move the first 2 km east), then prints the time to load the surroundings, the time
to compare the current situation and the three variants (the issue's bound: 5 s), one full run
of the whole set (the baseline: what one variant would cost without the surroundings) and the
ratio of comparison to baseline.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from novex_geo import load_project
from novex_geo.io.layers import load_sectors, read_source, read_vector
from novex_geo.io.regions import load_regions
from novex_geo.pipeline import run_overlay, run_triage
from novex_geo.variants import compare_variants, focus_of, loading_box, variant_frame

DEFAULT = Path(__file__).parent / "data" / "dense_scale_1" / "novex.toml"


def write_variants(folder: Path, area, sectors: tuple[str, str]) -> list[Path]:
    box = shapely.box(*area.bounds)
    moved = shapely.affinity.translate(area, 2_000, 0)
    variants = {
        f"zonder_{sectors[0]}": [("verwijderen", sectors[0], box)],
        f"zonder_{sectors[1]}": [("verwijderen", sectors[1], box)],
        f"{sectors[0]}_verplaatst": [("verwijderen", sectors[0], box), ("toevoegen", sectors[0], moved)],
    }
    paths = []
    for name, changes in variants.items():
        frame = gpd.GeoDataFrame(
            {"actie": [c[0] for c in changes], "sector": [c[1] for c in changes]},
            geometry=[c[2] for c in changes],
            crs="EPSG:28992",
        ).to_crs("EPSG:4326")
        paths.append(folder / f"{name}.geojson")
        paths[-1].write_text(frame.to_json(), encoding="utf-8")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("project", type=Path, nargs="?", default=DEFAULT)
    project = load_project(parser.parse_args().project)
    run = project.output_dir / "analyse.gpkg"
    if "spanningsgebieden" not in pyogrio.list_layers(run)[:, 0]:
        run_triage(project, run)
    areas = gpd.read_file(run, layer="spanningsgebieden")
    pairs = pyogrio.read_dataframe(run, layer="conflictparen", read_geometry=False)
    pairs = pairs.sort_values("oppervlakte_ha", ascending=False)
    top = areas.iloc[0]
    pair = pairs[pairs["id"] == top["id"]].iloc[0]
    sectors = (pair["sector_a"], pair["sector_b"])
    with tempfile.TemporaryDirectory() as folder:
        files = write_variants(Path(folder), top.geometry, sectors)
        started = time.perf_counter()
        variants = [variant_frame(read_vector(f), project, f, f.stem) for f in files]
        box = loading_box(project, focus_of(project, top.geometry, variants))
        claims = {key: layer.frame for key, layer in load_sectors(project, box).items()}
        regions = load_regions(project.regions, project.crs)
        priority = [read_source(s, "prioriteit", project.crs, box)[0] for s in project.triage.priority]
        loading = time.perf_counter() - started
        started = time.perf_counter()
        _, table = compare_variants(project, top.geometry, variants, regions, claims, priority)
        comparing = time.perf_counter() - started
    started = time.perf_counter()
    run_overlay(project, write=False)
    baseline = time.perf_counter() - started
    print(
        f"{top['id']} ({top['naam']}), pair {' × '.join(sectors)}; "
        f"{sum(len(c) for c in claims.values()):,} claims loaded"
    )
    print(
        table[
            ["variant", "conflict_ha", "schuurpunten_opgelost", "schuurpunten_nieuw", "kwalificeert"]
        ].to_string(index=False)
    )
    print(f"loading the surroundings: {loading:.2f} s")
    print(f"one full run of the whole set (baseline): {baseline:.2f} s")
    print(
        f"comparing huidig and 3 variants: {comparing:.2f} s (bound 5 s); ratio {comparing / baseline:.2f}x"
    )


if __name__ == "__main__":
    main()
