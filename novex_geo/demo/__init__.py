"""A deterministic, clearly fictional demo project (``novex-geo demo``).

Three fictional provinces (Westmark, Oostmark, Zuidmark) laid in RD coordinates, each sector
with plausible shapes, a hot spot that crosses a provincial border, a fictional NOVEX-gebied
around it (where a conflict and a kans meet), and the project file that wires them together.
Nothing is downloaded and no third-party data is shipped: every shape comes from
:mod:`novex_geo.synthetic` with a fixed seed.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from novex_geo import synthetic
from novex_geo.config import DEFAULT_CRS, DEMO_MARK
from novex_geo.errors import OutputError
from novex_geo.io.raster import write_geotiff

__all__ = [
    "HOT_SPOT_NAME",
    "NOVEX_GEBIED",
    "DemoFiles",
    "annotate_hot_spot",
    "demo_frame",
    "hot_spot_id",
    "write_demo_project",
]

HOT_SPOT_NAME = "Grenspark (grensoverschrijdend)"
NOVEX_GEBIED = "Grensregio"  # the fictional NOVEX-gebied around the hot spot

log = logging.getLogger(__name__)

SEED = 20261125
# Lower-left corner of the demo area in RD New: a stretch of polder, far from any real border
ORIGIN = np.array([120_000.0, 440_000.0])
WIDTH, HEIGHT = 60_000.0, 45_000.0


@dataclass
class DemoFiles:
    """Paths written by :func:`write_demo_project`."""

    folder: Path
    project: Path
    data: dict[str, Path]


def _provinces(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Three provinces with gently wobbling borders, meeting near the middle of the area."""
    area = shapely.box(*ORIGIN, *(ORIGIN + (WIDTH, HEIGHT)))
    seeds = ORIGIN + np.array([[0.25, 0.68], [0.75, 0.62], [0.5, 0.15]]) * (WIDTH, HEIGHT)
    # many jittered sub-seeds per province make the shared borders irregular, like real ones
    subseeds = np.concatenate([seed + rng.normal(0, 6_000, (40, 2)) for seed in seeds])
    owner = np.argmin(np.linalg.norm(subseeds[:, None, :] - seeds[None, :, :], axis=2), axis=1)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(subseeds), extend_to=area, ordered=True)
    )
    cells = shapely.intersection(cells, area)
    geoms = [shapely.union_all(cells[owner == i]) for i in range(3)]
    return gpd.GeoDataFrame(
        {
            "statnaam": ["Westmark", "Oostmark", "Zuidmark"],
            "statcode": ["PV91", "PV92", "PV93"],
            "bron": DEMO_MARK,
        },
        geometry=geoms,
        crs=DEFAULT_CRS,
    )


def _hot_spot(provinces: gpd.GeoDataFrame) -> np.ndarray:
    """A point on the Westmark–Oostmark border: where the border-crossing conflict is staged."""
    border = shapely.intersection(provinces.geometry.iloc[0].boundary, provinces.geometry.iloc[1].boundary)
    return np.array(
        shapely.line_interpolate_point(shapely.line_merge(border), 0.5, normalized=True).coords[0]
    )


BODEMDALING_CELL = 25.0


def _bodemdaling(rng: np.random.Generator, hot: np.ndarray) -> tuple[np.ndarray, object]:
    """Expected soil subsidence 2050 in cm on a 25 m grid: a smooth field plus a peat basin at
    the hot spot; a strip along the southern edge has no data (not yet surveyed)."""
    from rasterio.transform import from_origin

    cols, rows = int(WIDTH / BODEMDALING_CELL), int(HEIGHT / BODEMDALING_CELL)
    x = ORIGIN[0] + (np.arange(cols) + 0.5) * BODEMDALING_CELL
    y = ORIGIN[1] + HEIGHT - (np.arange(rows) + 0.5) * BODEMDALING_CELL
    xx, yy = np.meshgrid(x, y)
    field = synthetic.smooth_field(np.column_stack([xx.ravel(), yy.ravel()]), rng).reshape(rows, cols)
    basin = 45 * np.exp(-((xx - hot[0] - 500) ** 2 + (yy - hot[1] - 800) ** 2) / (2 * 1_500.0**2))
    values = (12 + 4 * field + basin).astype("float32")
    values[-40:, :] = -9999.0  # 1 km strip without survey data
    return values, from_origin(ORIGIN[0], ORIGIN[1] + HEIGHT, BODEMDALING_CELL, BODEMDALING_CELL)


def demo_frame(geoms, names, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"naam": names, "bron": DEMO_MARK, **columns}, geometry=list(geoms), crs=DEFAULT_CRS
    )


def _gemeenten(provinces: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Municipalities: each province split into four around jittered seeds, with readable names."""
    town_names = [
        "Grensdam",
        "Heideveen",
        "Noorderwolde",
        "Ruiterkamp",
        "Oostzande",
        "Veldhoven-Oost",
        "Molenbroek",
        "Zandvliet",
        "Zuiderwaard",
        "Kerkhorst",
        "Lageland",
        "Dijkzicht",
    ]
    towns, names = [], iter(town_names)
    for province in provinces.geometry.values:
        seeds = synthetic.points_in(province, 4, rng)
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=province, ordered=True)
        )
        towns += [shapely.intersection(cell, province) for cell in cells]
    return gpd.GeoDataFrame(
        {"statnaam": [next(names) for _ in towns], "bron": DEMO_MARK}, geometry=towns, crs=DEFAULT_CRS
    )


def _layers(rng: np.random.Generator) -> tuple[tuple[np.ndarray, object], dict[str, gpd.GeoDataFrame]]:
    provinces = _provinces(rng)
    land = shapely.union_all(provinces.geometry.values)
    hot = _hot_spot(provinces)
    cities = ORIGIN + np.array([[0.22, 0.72], [0.7, 0.7], [0.45, 0.25], [0.85, 0.3]]) * (
        WIDTH,
        HEIGHT,
    )

    homes_at = np.concatenate([city + rng.normal(0, 2_000, (30, 2)) for city in cities])
    homes = synthetic.rectangles(homes_at, rng.uniform(150, 700, len(homes_at)), rng)
    # the hot spot: a housing location straddling the border
    homes = np.append(homes, shapely.box(*(hot - (900, 500)), *(hot + (900, 500))))
    home_names = [f"Woningbouwlocatie {i + 1}" for i in range(len(homes) - 1)] + [HOT_SPOT_NAME]

    water_at = np.concatenate([synthetic.points_in(land, 14, rng), [hot + (300, 400)]])
    water = synthetic.blobs(water_at, np.append(rng.uniform(800, 3_500, 14), 2_500), rng)

    terrains_at = np.array([hot + (2_800, -1_500), ORIGIN + (0.2 * WIDTH, 0.3 * HEIGHT)])
    terrains = synthetic.blobs(terrains_at, np.array([2_200.0, 3_000.0]), rng)

    line_starts = np.array([ORIGIN + (1_000, 0.55 * HEIGHT), ORIGIN + (0.6 * WIDTH, 1_000)])
    lines = synthetic.polylines(line_starts, np.array([62_000.0, 48_000.0]), rng, legs=6)
    lines = np.array([shapely.intersection(line, land) for line in lines])
    stations = shapely.points(
        np.array([hot + (-1_200, 600), cities[1] + (1_500, -900), cities[2] + (-800, 1_200)])
    )

    parcels = synthetic.parcels(land, 9_000, rng, fraction=0.6)
    # Voronoi cells at the edge of the points reach out in spikes; farmland stops at the coast
    parcels = parcels[shapely.covered_by(parcels, land)]
    gemeenten = _gemeenten(provinces, rng)
    priority = demo_frame(
        [shapely.box(*(cities[2] - 2_500), *(cities[2] + 2_500))], ["POVI-ontwikkelas Zuidmark"]
    )
    novex_gebieden = demo_frame([shapely.Point(*hot).buffer(4_000)], [NOVEX_GEBIED])
    bodemdaling = _bodemdaling(rng, hot)
    return bodemdaling, {
        "provincies": provinces,
        "gemeenten": gemeenten,
        "prioriteit": priority,
        "novex_gebieden": novex_gebieden,
        "woningbouw": demo_frame(homes, home_names, status=rng.choice(["plan", "vastgesteld"], len(homes))),
        "water_bodem": demo_frame(water, [f"Waterbergingszone {i + 1}" for i in range(len(water))]),
        "defensie": demo_frame(terrains, ["Oefenterrein De Grensheide", "Kazerneterrein Zuidmark"]),
        "hoogspanning": demo_frame(lines, ["380 kV Westmark–Oostmark", "150 kV Zuidmark"]),
        "stations": demo_frame(stations, ["Station Grens", "Station Oost", "Station Zuid"]),
        "landbouw": demo_frame(
            parcels,
            [f"Perceel {i + 1}" for i in range(len(parcels))],
            gewas=rng.choice(["grasland", "maïs", "aardappelen", "suikerbieten"], len(parcels)),
        ),
    }


PROJECT = """\
# NOVEX demo project — {mark}: every shape is generated, no real plans or terrains.
[project]
name = "NOVEX demo ({mark})"
demo = true  # marks every map, signal and report as fictional
crs = "EPSG:28992"
output = "uitvoer"
tile_size = 10000

[project.regions]
path = "data/provincies.gpkg"
name_field = "statnaam"

[sectors.woningbouw]
label = "Woningbouw"
colour = "#e31a1c"
[[sectors.woningbouw.sources]]
path = "data/woningbouw.gpkg"
label_field = "naam"

[sectors.water_bodem]
label = "Water en bodem"
colour = "#1f78b4"
[[sectors.water_bodem.sources]]
path = "data/water_bodem.gpkg"
label_field = "naam"
[[sectors.water_bodem.sources]]
# expected soil subsidence 2050 in cm (GeoTIFF): 35 cm or more is a claim
path = "data/bodemdaling.tif"
raster = {{ band = 1, where = ">= 35" }}

[sectors.energie]
label = "Energiehoofdstructuur"
colour = "#ff7f00"
[[sectors.energie.sources]]
# high-voltage lines as lines, with a 50 m zone
path = "data/hoogspanning.gpkg"
buffer = 50
label_field = "naam"
[[sectors.energie.sources]]
path = "data/stations.gpkg"
buffer = 150
label_field = "naam"

[sectors.defensie]
label = "Defensie"
colour = "#6a3d9a"
[[sectors.defensie.sources]]
path = "data/defensie.gpkg"
label_field = "naam"
[[sectors.defensie.sources]]
# the safety contour: 500 m around the terrains
path = "data/defensie.gpkg"
buffer = 500
label_field = "naam"

[sectors.landbouw]
label = "Landbouw"
colour = "#33a02c"
[[sectors.landbouw.sources]]
path = "data/landbouw.gpkg"
label_field = "gewas"

[conflicts]
min_area_m2 = 100

[[conflicts.pairs]]
sectors = ["woningbouw", "defensie"]
distance = 1000
weight = 3

[[conflicts.pairs]]
sectors = ["woningbouw", "water_bodem"]
weight = 2

[[conflicts.pairs]]
sectors = ["woningbouw", "energie"]
distance = 100
weight = 2

[[conflicts.pairs]]
sectors = ["woningbouw", "landbouw"]

[[conflicts.pairs]]
sectors = ["energie", "defensie"]
weight = 2

[kansen]
min_area_m2 = 100

[[kansen.pairs]]
sectors = ["energie", "landbouw"]
toelichting = "dubbel ruimtegebruik: zonnevelden en netstations op landbouwgrond"

[[kansen.pairs]]
sectors = ["woningbouw", "water_bodem"]
distance = 250
toelichting = "klimaatadaptief bouwen: water bergen in en naast de nieuwe wijk"
also_conflict = true  # also a conflict (above): both are found, each with its own zones

[triage]
merge_distance = 250
min_stapeling = 3
min_area_ha = 5
annotations = "annotaties.csv"
[triage.gemeenten]
path = "data/gemeenten.gpkg"
name_field = "statnaam"
[triage.novex_gebieden]
# the fictional NOVEX-gebied {novex}, also a priority area for criterion 3
path = "data/novex_gebieden.gpkg"
name_field = "naam"
[[triage.priority]]
path = "data/prioriteit.gpkg"
label_field = "naam"
[[triage.priority]]
path = "data/novex_gebieden.gpkg"
label_field = "naam"
"""
URGENCY = (
    "Provincie en Rijk besluiten in het voorjaar over het Grenspark; de waterberging en de "
    "veiligheidszone van het oefenterrein moeten vóór dat besluit zijn afgewogen ({mark})."
)


def _check_demo_folder(folder: Path) -> None:
    """An :class:`OutputError` unless ``folder`` is new, empty or an earlier demo: the demo
    writes its own ``novex.toml``, data and annotations, and never over a user's project."""
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return
    try:
        project = tomllib.loads((folder / "novex.toml").read_text(encoding="utf-8"))
        earlier = project["project"]["demo"] is True
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError):
        earlier = False
    if not earlier:
        raise OutputError(
            f"{folder}: holds other files and no earlier demo; the demo writes its own novex.toml, data/ "
            "and annotaties.csv: choose a new or empty folder (--out)"
        )


def write_demo_project(folder: str | Path) -> DemoFiles:
    """Write the demo data (GeoPackages in ``folder/data``) and ``folder/novex.toml``."""
    folder = Path(folder)
    _check_demo_folder(folder)
    data_folder = folder / "data"
    data_folder.mkdir(parents=True, exist_ok=True)
    (values, transform), layers = _layers(np.random.default_rng(SEED))
    written = {"bodemdaling": data_folder / "bodemdaling.tif"}
    write_geotiff(written["bodemdaling"], values, transform, f"bodemdaling 2050 (cm), {DEMO_MARK}")
    for name, frame in layers.items():
        path = data_folder / f"{name}.gpkg"
        frame.to_file(path, layer=name, engine="pyogrio")
        written[name] = path
    project = folder / "novex.toml"
    project.write_text(PROJECT.format(mark=DEMO_MARK, novex=NOVEX_GEBIED), encoding="utf-8")
    log.info("wrote demo data for %d layers to %s", len(written), data_folder)
    return DemoFiles(folder=folder, project=project, data=written)


def hot_spot_id(areas: gpd.GeoDataFrame) -> str:
    """The id of the spanningsgebied around the Grenspark."""
    return str(areas.loc[areas["objecten"].str.contains(HOT_SPOT_NAME, regex=False), "id"].iloc[0])


def annotate_hot_spot(annotations: Path, areas: gpd.GeoDataFrame) -> str:
    """Fill in the urgency and owner of the spanningsgebied around the Grenspark, as an
    account manager would; returns its id. The tool itself never writes urgency."""
    from novex_geo.io.annotations import set_annotation

    area_id = hot_spot_id(areas)
    set_annotation(
        annotations,
        area_id,
        {"urgentie": URGENCY.format(mark=DEMO_MARK), "eigenaar": "accountmanager (demo)"},
    )
    return area_id
