"""Summary per provincie of an overlay: claimed area, stapeling classes, schuurpunten and kansen."""

from __future__ import annotations

import numpy as np
import pandas as pd

from novex_geo.config import KANS, SCHUURPUNT
from novex_geo.overlay.engine import OverlayResult
from novex_geo.units import HECTARE, TOTAL

__all__ = ["CLAIMED_HA", "PRINTED_COLUMNS", "STAPELING_CLASSES", "TOTAL", "class_column", "summarise"]

STAPELING_CLASSES = ("1", "2", "3", "4", "5plus")
CLAIMED_HA = "geclaimd_ha"


def class_column(klasse: str, unit: str = "ha") -> str:
    """The summary column of a stapeling class: ``stapeling_2_ha``, ``stapeling_5plus_pct``."""
    return f"stapeling_{klasse}_{unit}"


# what the commands print of a summary (vector and grid mode alike)
PRINTED_COLUMNS = ["provincie", CLAIMED_HA, *(class_column(klasse) for klasse in STAPELING_CLASSES[1:])]


def _classes(n_sectoren: pd.Series) -> pd.Series:
    return n_sectoren.clip(upper=5).map({1: "1", 2: "2", 3: "3", 4: "4", 5: "5plus"})


def summarise(result: OverlayResult) -> pd.DataFrame:
    """One row per provincie plus a ``Totaal`` row.

    Columns: ``oppervlakte_ha`` (provincie), ``geclaimd_ha`` and ``geclaimd_pct``, for each
    stapeling class ``stapeling_<n>_ha`` / ``stapeling_<n>_pct`` (exactly n distinct sectors;
    ``5plus`` for 5 or more), ``n_schuurpunten``, per conflict pair ``<a>×<b>_ha`` and
    ``<a>×<b>_n``, and likewise ``n_kansen`` and per kans ``kans_<a>×<b>_ha`` and
    ``kans_<a>×<b>_n``. Percentages are of the provincie area.
    """
    regions = result.regions.set_index("provincie")
    table = pd.DataFrame(index=regions.index)
    table["oppervlakte_ha"] = regions.geometry.area / HECTARE
    faces = result.stapeling
    claimed = faces.groupby("provincie")["oppervlakte_m2"].sum() / HECTARE
    table[CLAIMED_HA] = claimed.reindex(table.index, fill_value=0.0).astype(float)  # no faces: object
    by_class = (
        faces.assign(klasse=_classes(faces["n_sectoren"]))
        .pivot_table(
            index="provincie",
            columns="klasse",
            values="oppervlakte_m2",
            aggfunc="sum",
            observed=False,
        )
        .reindex(index=table.index, columns=list(STAPELING_CLASSES))
        .fillna(0.0)
        / HECTARE
    )
    for klasse in STAPELING_CLASSES:
        table[class_column(klasse)] = by_class[klasse]
    zone_columns = []
    for kind, zones, pairs in (
        (SCHUURPUNT, result.schuurpunten, result.conflicts),
        (KANS, result.kansen, result.kans_pairs),
    ):
        zone_columns.append(f"n_{kind.layer}")
        table[zone_columns[-1]] = zones.groupby("provincie").size().reindex(table.index, fill_value=0)
        for pair in pairs:
            subset = zones[zones[kind.pair_column] == pair.key]
            column = f"{kind.column_prefix}{pair.key}"
            table[f"{column}_ha"] = (subset.groupby("provincie")["oppervlakte_m2"].sum() / HECTARE).reindex(
                table.index, fill_value=0.0
            )
            table[f"{column}_n"] = subset.groupby("provincie").size().reindex(table.index, fill_value=0)
            zone_columns += [f"{column}_ha", f"{column}_n"]
    table.loc[TOTAL] = table.sum(numeric_only=True)
    area = table["oppervlakte_ha"].replace(0, np.nan)
    table["geclaimd_pct"] = 100 * table[CLAIMED_HA] / area
    for klasse in STAPELING_CLASSES:
        table[class_column(klasse, "pct")] = 100 * table[class_column(klasse)] / area
    ordered = ["oppervlakte_ha", CLAIMED_HA, "geclaimd_pct"]
    for klasse in STAPELING_CLASSES:
        ordered += [class_column(klasse), class_column(klasse, "pct")]
    table = table[ordered + zone_columns]
    count_columns = [c for c in zone_columns if c.startswith("n_") or c.endswith("_n")]
    table[count_columns] = table[count_columns].astype(np.int64)
    return table.reset_index(names="provincie")
