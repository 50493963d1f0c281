"""The project file (``novex.toml``): its typed model and the parser that validates it.

A NOVEX analysis is described by one TOML file::

    [project]
    name = "NOVEX Utrecht"
    crs = "EPSG:28992"
    output = "uitvoer"

    [project.regions]
    path = "provincies.gpkg"
    name_field = "statnaam"

    [sectors.woningbouw]
    label = "Woningbouw"
    colour = "#e31a1c"
    [[sectors.woningbouw.sources]]
    path = "woningbouw.gpkg"
    label_field = "plannaam"

    [conflicts]
    min_area_m2 = 100
    [[conflicts.pairs]]
    sectors = ["woningbouw", "defensie"]
    distance = 1000

    [[kansen.pairs]]
    sectors = ["water_bodem", "natuur"]
    toelichting = "waterberging in natuur"

    [opgaven]
    woningbouw = 150

    [[varianten]]
    naam = "Wonen noord"
    spanningsgebied = "SG-f2cf83c3ec"
    bestanden = ["varianten/wonen_noord.geojson"]

Relative paths resolve against the folder of the project file. Every mistake raises
:class:`~novex_geo.errors.ConfigError` naming the file and the key.
"""

from novex_geo.config.database import Database, is_database_url, parse_database_url
from novex_geo.config.labels import SectorLabels
from novex_geo.config.model import (
    DEFAULT_CRS,
    DEMO_MARK,
    KANS,
    SCHUURPUNT,
    ZONE_ID,
    ZONE_KINDS,
    ConflictPair,
    KansPair,
    Project,
    RasterRule,
    Regions,
    Sector,
    SectorPair,
    Source,
    Triage,
    VariantSpec,
    ZoneKind,
)
from novex_geo.config.parse import load_project, parse_project

__all__ = [
    "DEFAULT_CRS",
    "DEMO_MARK",
    "KANS",
    "SCHUURPUNT",
    "ZONE_ID",
    "ZONE_KINDS",
    "ConflictPair",
    "Database",
    "KansPair",
    "Project",
    "RasterRule",
    "Regions",
    "Sector",
    "SectorLabels",
    "SectorPair",
    "Source",
    "Triage",
    "VariantSpec",
    "ZoneKind",
    "is_database_url",
    "load_project",
    "parse_database_url",
    "parse_project",
]
