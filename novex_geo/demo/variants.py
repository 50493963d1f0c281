"""Three oplossingsrichtingen for the demo's Grenspark, as a kaartsessie would draw them
(GeoJSON in EPSG:4326 with ``sector`` and ``actie``): less water under the housing, housing
west of the border only, and both."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from novex_geo.demo import HOT_SPOT_NAME, DemoFiles

__all__ = ["write_demo_variants"]


def write_demo_variants(files: DemoFiles) -> list[Path]:
    """The variant files in ``varianten/`` of the demo folder; returns their paths."""
    homes = gpd.read_file(files.data["woningbouw"], engine="pyogrio")
    plan = homes.geometry[homes["naam"] == HOT_SPOT_NAME].iloc[0]
    west, south, east, north = plan.bounds
    middle = (west + east) / 2
    less_water = ("verwijderen", "water_bodem", plan.buffer(50, join_style="mitre"))
    west_only = ("verwijderen", "woningbouw", shapely.box(middle, south - 50, east + 50, north + 50))
    variants = {
        "minder_water": ([less_water], "De waterberging wijkt onder het Grenspark (fictief)."),
        "wonen_west": ([west_only], "Alleen woningbouw west van de grens (fictief)."),
        "combinatie": ([less_water, west_only], "Beide: minder water en alleen west bouwen (fictief)."),
    }
    folder = files.folder / "varianten"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (changes, toelichting) in variants.items():
        frame = gpd.GeoDataFrame(
            {"actie": [c[0] for c in changes], "sector": [c[1] for c in changes], "toelichting": toelichting},
            geometry=[c[2] for c in changes],
            crs=homes.crs,
        ).to_crs("EPSG:4326")
        path = folder / f"{name}.geojson"
        path.write_text(frame.to_json(), encoding="utf-8")
        paths.append(path)
    return paths
