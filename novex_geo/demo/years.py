"""The demo's yearly cycle: the fictional project as it stood in three years, each a run of its
own, and the afspraken the tables made in between (what ``novex-geo demo`` shows ``monitor`` with)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.demo import HOT_SPOT_NAME, DemoFiles, demo_frame

__all__ = ["AFSPRAKEN", "PEILDATUM", "YEARS", "write_demo_year"]

YEARS = ("2025", "2026", "2027")
PEILDATUM = date(2027, 6, 1)  # the day the demo's voortgangsmeter is read
# after the triage of a year, what the tables agreed (hot spot, best-ranked area): the next run keeps it
AFSPRAKEN = {
    "2025": (
        {
            "afspraak": "Woningbouw Grenspark en waterberging afstemmen",
            "eigenaar": "provincie Westmark (demo)",
            "bob_fase": "oordeelsvorming",
            "tafel": "snelle tafel",
            "deadline": "2026-06-30",
            "status": "loopt",
        },
        {
            "afspraak": "Gebiedsproces starten",
            "eigenaar": "gemeente (demo)",
            "bob_fase": "beeldvorming",
            "tafel": "DO NOVEX",
            "deadline": "2026-03-01",
            "status": "open",
        },
    ),
    "2026": (
        {
            "bob_fase": "besluitvorming",
            "status": "afgerond",
            "besluit": "woningbouw alleen west van de grens; waterberging blijft (demo)",
        },
        {},
    ),
}


def _grenspark(homes: gpd.GeoDataFrame, year: str) -> shapely.Polygon:
    """The Grenspark housing claim as it stood in ``year``: halved westward after the first
    year's table, then grown east again in the third."""
    hot = np.array(homes.geometry[homes["naam"] == HOT_SPOT_NAME].iloc[0].centroid.coords[0])
    reach = {"2026": (0, 500), "2027": (1_500, 700)}[year]
    return shapely.box(*(hot - (900, 500)), *(hot + reach))


def write_demo_year(files: DemoFiles, year: str) -> Path:
    """The demo project as it stood in ``year`` (a later one of :data:`YEARS`; the first is the
    demo itself): the claims that changed since then in ``jaren/<year>/data``, and
    ``novex_<year>.toml`` whose output is ``jaren/<year>``. Returns the project file."""
    folder = files.folder / "jaren" / year
    (folder / "data").mkdir(parents=True, exist_ok=True)
    homes = gpd.read_file(files.data["woningbouw"], engine="pyogrio")
    water = gpd.read_file(files.data["water_bodem"], engine="pyogrio")
    homes.loc[homes["naam"] == HOT_SPOT_NAME, "geometry"] = _grenspark(homes, year)
    water = water[water["naam"] != "Waterbergingszone 3"]  # withdrawn after the first year
    if year >= "2027":  # a new housing location on the barracks' doorstep
        barracks = gpd.read_file(files.data["defensie"], engine="pyogrio").geometry.iloc[1]
        extra = demo_frame(
            [barracks.centroid.buffer(700)], ["Woningbouwlocatie Kazernekwartier"], status="plan"
        )
        homes = gpd.GeoDataFrame(pd.concat([homes, extra], ignore_index=True), crs=homes.crs)
    for name, frame in (("woningbouw", homes), ("water_bodem", water)):
        frame.to_file(folder / "data" / f"{name}.gpkg", layer=name, engine="pyogrio")
    text = files.project.read_text(encoding="utf-8").replace('output = "uitvoer"', f'output = "jaren/{year}"')
    for name in ("woningbouw", "water_bodem"):
        text = text.replace(f'path = "data/{name}.gpkg"', f'path = "jaren/{year}/data/{name}.gpkg"')
    project = files.folder / f"novex_{year}.toml"
    project.write_text(text, encoding="utf-8")
    return project
