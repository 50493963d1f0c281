"""Three oplossingsrichtingen for the demo's Grenspark, as a kaartsessie would draw them
(GeoJSON in EPSG:4326 with ``sector`` and ``actie``): less water under the housing, the
housing east of the border moved north (verplaatsen), and both."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

from novex_geo.demo import HOT_SPOT_NAME, DemoFiles

__all__ = ["OPGAVE_WONINGBOUW_HA", "write_demo_variants"]

OPGAVE_WONINGBOUW_HA = 100  # the housing the Grenspark has to keep, for the comparison


def write_demo_variants(files: DemoFiles, area_id: str) -> list[Path]:
    """The variant files in ``varianten/`` of the demo folder, listed with the housing opgave
    in the project file as ``[[varianten]]`` of spanningsgebied ``area_id`` (as an account
    manager adds them after the triage); returns the files."""
    homes = gpd.read_file(files.data["woningbouw"], engine="pyogrio")
    plan = homes.geometry[homes["naam"] == HOT_SPOT_NAME].iloc[0]
    west, south, east, north = plan.bounds
    middle = (west + east) / 2
    less_water = ("verwijderen", "water_bodem", plan.buffer(50, join_style="mitre"))
    east_away = ("verwijderen", "woningbouw", shapely.box(middle, south - 50, east + 50, north + 50))
    shift = north - south + 400  # the eastern half, 400 m north of the plan
    east_north = ("toevoegen", "woningbouw", shapely.box(middle, south + shift, east, north + shift))
    variants = {
        "Minder water": ([less_water], "De waterberging wijkt onder het Grenspark (fictief)."),
        "Oost naar het noorden": (
            [east_away, east_north],
            "De woningen oost van de grens schuiven 400 m naar het noorden (fictief).",
        ),
        "Combinatie": ([less_water, east_away], "Minder water en alleen west van de grens bouwen (fictief)."),
    }
    folder = files.folder / "varianten"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    tables = [f"\n[opgaven]\nwoningbouw = {OPGAVE_WONINGBOUW_HA}\n"]
    for name, (changes, toelichting) in variants.items():
        frame = gpd.GeoDataFrame(
            {
                "actie": [c[0] for c in changes],
                "sector": [c[1] for c in changes],
                "naam": ["Grenspark noord" if c[0] == "toevoegen" else "" for c in changes],
                "toelichting": toelichting,
            },
            geometry=[c[2] for c in changes],
            crs=homes.crs,
        ).to_crs("EPSG:4326")
        path = folder / f"{name.lower().replace(' ', '_')}.geojson"
        path.write_text(frame.to_json(), encoding="utf-8")
        paths.append(path)
        tables.append(
            f'\n[[varianten]]\nnaam = "{name}"\nspanningsgebied = "{area_id}"\n'
            f'bestanden = ["varianten/{path.name}"]\ntoelichting = "{toelichting}"\n'
        )
    with files.project.open("a", encoding="utf-8") as project_file:
        project_file.write("".join(tables))
    return paths
