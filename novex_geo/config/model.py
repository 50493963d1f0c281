"""The typed model of a project file: project, regions, sectors, sources, conflicts, triage.

:mod:`novex_geo.config.parse` builds these from ``novex.toml`` and validates every value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from novex_geo.config.database import Database
from novex_geo.config.labels import SectorLabels

__all__ = [
    "DEFAULT_CRS",
    "DEMO_MARK",
    "KANS",
    "SCHUURPUNT",
    "ZONE_ID",
    "ZONE_KINDS",
    "ConflictPair",
    "KansPair",
    "Project",
    "RasterRule",
    "Regions",
    "Sector",
    "SectorPair",
    "Source",
    "Triage",
    "VariantSpec",
    "ZoneKind",
]

DEFAULT_CRS = "EPSG:28992"
DEFAULT_TILE_SIZE = 10_000.0
DEFAULT_ANNOTATIONS = "annotaties.csv"
SECTOR_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
# shown on every map, signal and report of a project with ``demo = true``
DEMO_MARK = "fictieve demodata"


# how a rule's comparison reads in labels, reports and maps (what a user writes stays as written)
SHOWN_OPERATORS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}


@dataclass(frozen=True)
class RasterRule:
    """Which cells of a raster band are a claim: a comparison (``where = ">= 0.3"``) or a
    list of class values (``in = [3, 4, 5]``). Nodata cells never are."""

    band: int = 1
    op: str | None = None
    value: float | None = None
    classes: tuple[float, ...] = ()
    simplify: bool = False

    @property
    def categorical(self) -> bool:
        return bool(self.classes)

    def describe(self) -> str:
        if self.classes:
            return f"band {self.band} in [{', '.join(f'{c:g}' for c in self.classes)}]"
        shown = SHOWN_OPERATORS.get(self.op or "", self.op)
        return f"band {self.band} {shown} {self.value:g}"


@dataclass(frozen=True)
class Source:
    """One input layer of a sector.

    Attributes
    ----------
    path : absolute path of the file, or the PostgreSQL database of a PostGIS source
    layer : layer name inside a multi-layer file (GeoPackage), or ``"schema.table"`` in a
        database; ``None`` for the only layer of a file
    where : attribute filter, e.g. ``"status = 'vastgesteld'"`` (OGR SQL; PostgreSQL in a database)
    sql : the query whose rows are the features of a PostGIS source (instead of ``layer``)
    buffer : zone width in metres applied to every feature (points, lines, polygons)
    label_field : attribute that names a feature in reports; the feature id when ``None``
    crs : CRS to assume when the file has none (e.g. a CSV with WKT)
    key : short name used in feature ids and reports; default from file, layer and buffer
    attribution : credit line for maps and reports; default from a ``novex-geo fetch`` download
    raster : the claim rule when the source is a raster (GeoTIFF or any GDAL raster)
    allow_incomplete : use a layer whose ``novex-geo fetch`` did not end ``klaar`` (a count
        mismatch, or a download still under way); refused otherwise
    """

    path: Path | Database
    layer: str | None = None
    where: str | None = None
    sql: str | None = None
    buffer: float | None = None
    label_field: str | None = None
    crs: str | None = None
    key: str | None = None
    attribution: str | None = None
    raster: RasterRule | None = None
    allow_incomplete: bool = False

    @property
    def name(self) -> str:
        """Short, stable name of the source used in feature ids and reports."""
        if self.key:
            return self.key
        part = self.layer or ("sql" if self.sql else None)
        name = f"{self.path.stem}:{part}" if part else self.path.stem
        return f"{name}+{self.buffer:g}m" if self.buffer else name


@dataclass(frozen=True)
class Sector:
    """A sector (claim layer group), e.g. ``woningbouw``."""

    key: str
    label: str
    colour: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class ZoneKind:
    """A kind of zone the overlay engine finds for a sector pair, and the one definition of the
    names of what is written for it: the layer, its id and pair columns, the columns only this
    kind has, the value of ``soort`` in the ``herkomst`` table and the ``prefix`` of its ids and
    summary columns.

    Schuurpunten keep the names they always had; a kans id starts with ``kans/``
    (``kans/woningbouw×water_bodem/Utrecht/0001``), so the ids of the two kinds never collide
    and one pair may be both.
    """

    soort: str
    layer: str
    id_column: str
    pair_column: str
    extra_columns: tuple[str, ...] = ()
    prefix: str = ""

    @property
    def id_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    @property
    def column_prefix(self) -> str:
        return f"{self.prefix}_" if self.prefix else ""


SCHUURPUNT = ZoneKind("schuurpunt", "schuurpunten", "schuurpunt_id", "conflict")
KANS = ZoneKind("kans", "kansen", "kans_id", "kans", extra_columns=("toelichting",), prefix="kans")
ZONE_KINDS = (SCHUURPUNT, KANS)
ZONE_ID = "zone_id"  # the column of ``herkomst`` with the id of a zone of either kind


@dataclass(frozen=True)
class SectorPair:
    """Two sectors whose claims meet where they overlap (``distance`` 0) or lie closer than
    ``distance`` metres; ``weight`` ranks the pair. :attr:`kind` says what such a zone is."""

    a: str
    b: str
    distance: float = 0.0
    weight: float = 1.0
    kind: ClassVar[ZoneKind]

    @property
    def key(self) -> str:
        return f"{self.a}×{self.b}"


@dataclass(frozen=True)
class ConflictPair(SectorPair):
    """Two sectors whose claims are incompatible: where they meet is a schuurpunt."""

    kind: ClassVar[ZoneKind] = SCHUURPUNT


@dataclass(frozen=True)
class KansPair(SectorPair):
    """Two sectors whose overlap or proximity is an opportunity (a meekoppelkans), with a short
    ``toelichting``; ``also_conflict`` records that the user also lists the pair as a conflict."""

    toelichting: str = ""
    also_conflict: bool = False
    kind: ClassVar[ZoneKind] = KANS


@dataclass(frozen=True)
class Regions:
    """The vector file with the provinces (or any other regions) the analysis runs per."""

    path: Path
    name_field: str
    layer: str | None = None


@dataclass(frozen=True)
class Triage:
    """Thresholds and inputs of the NOVEX triage (``[triage]``)."""

    merge_distance: float = 250.0
    min_stapeling: int = 3
    min_area_ha: float = 5.0
    min_max_stapeling: int = 3
    min_conflict_ha: float = 1.0
    provinces_recurring: int = 3
    criteria_bonus: float = 10.0
    annotations: Path | None = None
    priority: tuple[Source, ...] = ()
    gemeenten: Regions | None = None
    kans_weight: float = 0.0
    novex_gebieden: Regions | None = None
    robust_draws: int = 300
    robust_weight_range: tuple[float, float] = (0.5, 2.0)
    robust_threshold_share: float = 0.25
    robust_top: int = 10


@dataclass(frozen=True)
class VariantSpec:
    """An oplossingsrichting named in the project file (``[[varianten]]``): its changes are the
    polygons in ``files`` (GeoJSON as the map exports them, ``sector`` and ``actie`` each)."""

    name: str
    area_id: str  # the spanningsgebied it is a way out for
    files: tuple[Path, ...]
    toelichting: str = ""


@dataclass(frozen=True)
class Project:
    """A validated project file."""

    path: Path
    name: str
    crs: str
    regions: Regions
    output_dir: Path
    sectors: dict[str, Sector]
    conflicts: tuple[ConflictPair, ...] = ()
    min_area_m2: float = 0.0
    kansen: tuple[KansPair, ...] = ()
    kansen_min_area_m2: float = 0.0
    tile_size: float = DEFAULT_TILE_SIZE
    workers: int = 0
    executor: str = "local"
    provincies: tuple[str, ...] = ()
    triage: Triage = field(default_factory=Triage)
    demo: bool = False
    # hectares a sector has to keep in a spanningsgebied (``[opgaven]``), shown per variant
    opgaven: dict[str, float] = field(default_factory=dict)
    varianten: tuple[VariantSpec, ...] = ()

    @property
    def input_files(self) -> dict[Path, str]:
        """Every file the project reads, with what it is to the project (outputs must never
        replace one of them)."""
        files = {self.path: "the project file", self.regions.path: "its regions"}
        for sector in self.sectors.values():
            files.update(
                {s.path: f"a source of {sector.key}" for s in sector.sources if isinstance(s.path, Path)}
            )
        triage = self.triage
        files.update({s.path: "a priority source" for s in triage.priority if isinstance(s.path, Path)})
        for regions, role in (
            (triage.gemeenten, "the gemeenten"),
            (triage.novex_gebieden, "the NOVEX-gebieden"),
        ):
            if regions is not None:
                files[regions.path] = role
        if triage.annotations is not None:
            files[triage.annotations] = "the annotations"
        files.update({path: f"a file of variant {v.name!r}" for v in self.varianten for path in v.files})
        return files

    @property
    def labels(self) -> SectorLabels:
        """The sectors' labels by key, to show instead of keys in every text people read."""
        return SectorLabels({key: sector.label for key, sector in self.sectors.items()})

    @property
    def max_distance(self) -> float:
        """The largest distance of a conflict pair."""
        return max((pair.distance for pair in self.conflicts), default=0.0)
