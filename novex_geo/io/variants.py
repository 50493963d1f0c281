"""``varianten.gpkg``, what ``novex-geo varianten`` keeps of a comparison, and its reader.

One GeoPackage per spanningsgebied compared: the table ``vergelijking`` (one row per
situation, ``huidig`` first, the columns of ``vergelijking.csv``) and per situation ``i`` (its
row in the table) the layers ``schuurpunten_<i>`` (the situation's schuurpunten around the
area) and, for a variant, ``wijzigingen_<i>`` (its polygons: ``actie``, ``sector``, ``label``).
QGIS shows each layer under its situation's name. ``novex-geo map --varianten`` reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from novex_geo.errors import LayerError
from novex_geo.io.files import atomic_path
from novex_geo.io.outputs import write_layer, write_table

__all__ = ["COMPARISON_TABLE", "VARIANTS_GPKG", "Situation", "read_variants", "write_variants"]

VARIANTS_GPKG = "varianten.gpkg"
COMPARISON_TABLE = "vergelijking"
# what the map shows of each situation (the table holds more)
COMPARISON_COLUMNS = (
    "variant",
    "toelichting",
    "conflict_ha",
    *(f"schuurpunten_{kind}" for kind in ("opgelost", "gekrompen", "nieuw")),
    *(f"{kind}_ha" for kind in ("opgelost", "gekrompen", "nieuw")),
    "kwalificeert",
    "voordelen",
    "nadelen",
)


@dataclass
class Situation:
    """One column of a comparison: ``huidig`` or a variant, as stored."""

    row: pd.Series  # its row of the comparison
    schuurpunten: gpd.GeoDataFrame
    changes: gpd.GeoDataFrame | None  # None for huidig


def _layers(index: int) -> tuple[str, str]:
    return f"schuurpunten_{index}", f"wijzigingen_{index}"


def write_variants(
    path: Path,
    table: pd.DataFrame,
    schuurpunten: list[gpd.GeoDataFrame],
    changes: list[gpd.GeoDataFrame | None],
) -> Path:
    """Write the comparison ``table`` and, per situation (in the table's order), its
    ``schuurpunten`` and ``changes`` into the GeoPackage ``path``, atomically."""
    with atomic_path(path) as temporary:
        write_table(table, temporary, COMPARISON_TABLE)
        for index, (name, zones, drawn) in enumerate(
            zip(table["variant"], schuurpunten, changes, strict=True)
        ):
            zones_layer, changes_layer = _layers(index)
            write_layer(zones, temporary, zones_layer, f"Schuurpunten, {name}")
            if drawn is not None:
                write_layer(drawn, temporary, changes_layer, f"Wijzigingen, {name}")
    return path


def read_variants(folder: Path) -> list[Situation]:
    """The situations stored in ``folder`` (a ``varianten/<id>`` folder, or its GeoPackage)."""
    folder = Path(folder)
    path = folder if folder.suffix == ".gpkg" else folder / VARIANTS_GPKG
    if not path.is_file():
        raise LayerError(
            f"no {VARIANTS_GPKG} here: run 'novex-geo varianten' for the spanningsgebied first", path
        )
    layers = set(pyogrio.list_layers(path)[:, 0])
    if COMPARISON_TABLE not in layers:
        raise LayerError(f"not a {VARIANTS_GPKG} of novex-geo: it has no table {COMPARISON_TABLE!r}", path)
    table = pyogrio.read_dataframe(path, layer=COMPARISON_TABLE, read_geometry=False)
    missing = [column for column in COMPARISON_COLUMNS if column not in table.columns]
    if missing or table.empty:
        what = f"lacks the columns {', '.join(missing)}" if missing else "is empty"
        raise LayerError(
            f"table {COMPARISON_TABLE!r} {what}: write it again with 'novex-geo varianten'", path
        )
    situations = []
    for index, row in table.iterrows():
        zones_layer, changes_layer = _layers(int(index))
        if zones_layer not in layers:
            raise LayerError(f"layer {zones_layer!r} of {row['variant']!r} is missing", path)
        zones = gpd.read_file(path, layer=zones_layer, engine="pyogrio")
        drawn = (
            gpd.read_file(path, layer=changes_layer, engine="pyogrio") if changes_layer in layers else None
        )
        situations.append(Situation(row, zones, drawn))
    return situations
