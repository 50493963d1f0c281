"""The run's self-audit (table ``controle``): the faces against the claims, per provincie.

Per provincie and sector the table compares the area of the stapeling faces that carry the
sector with the area of that sector's dissolved claims within the provincie, and the faces'
total with the union of all claims (sector ``alle sectoren``). The claims' areas are summed
over the tiles from each task's independent computation; the faces' areas come from the
final stapeling layer, after faces were merged across tile lines.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from novex_geo.errors import AuditError
from novex_geo.overlay.tile import ALL_SECTORS, AUDIT_ABSOLUTE_M2, AUDIT_RELATIVE
from novex_geo.units import TOTAL

__all__ = ["CONTROLE_COLUMNS", "check_controle", "controle_table", "describe", "largest_deviation"]

CONTROLE_COLUMNS = ["provincie", "sector", "verwacht_m2", "vlakken_m2", "verschil_m2", "verschil_relatief"]


def controle_table(expected: pd.DataFrame, stapeling: gpd.GeoDataFrame, regions, sectors) -> pd.DataFrame:
    """The audit table.

    Parameters
    ----------
    expected : rows (``provincie``, ``sector``, ``m2``) from the tasks, summed here
    stapeling : the final faces with a 0/1 column per sector
    regions : provincie names in output order
    sectors : sector keys
    """
    keys = [*sectors, ALL_SECTORS]
    index = pd.MultiIndex.from_product([list(regions), keys], names=["provincie", "sector"])
    wanted = expected.groupby(["provincie", "sector"])["m2"].sum().reindex(index, fill_value=0.0)
    faces = {}
    for key in keys:
        carrying = stapeling if key == ALL_SECTORS else stapeling[stapeling[key] == 1]
        faces[key] = carrying.groupby("provincie")["oppervlakte_m2"].sum()
    got = pd.Series(
        [float(faces[key].get(provincie, 0.0)) for provincie, key in index], index=index, dtype=float
    )
    table = pd.DataFrame({"verwacht_m2": wanted, "vlakken_m2": got}).reset_index()
    totals = table.groupby("sector", sort=False)[["verwacht_m2", "vlakken_m2"]].sum().reset_index()
    table = pd.concat([table, totals.assign(provincie=TOTAL)], ignore_index=True)
    table["verschil_m2"] = table["vlakken_m2"] - table["verwacht_m2"]
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.abs(table["verschil_m2"]) / table["verwacht_m2"]
    table["verschil_relatief"] = relative.where(table["verschil_m2"] != 0, 0.0).fillna(np.inf)
    return table[CONTROLE_COLUMNS]


def _off(table: pd.DataFrame) -> pd.Series:
    difference = table["verschil_m2"].abs()
    return (difference > AUDIT_ABSOLUTE_M2) & (difference > AUDIT_RELATIVE * table["verwacht_m2"])


def check_controle(table: pd.DataFrame) -> None:
    """Raise :class:`AuditError` naming every provincie and sector whose faces are off."""
    off = table[_off(table) & (table["provincie"] != TOTAL)]
    if len(off):
        lines = [
            f"{row.provincie}, sector {row.sector}: faces {row.vlakken_m2:,.1f} m², claims "
            f"{row.verwacht_m2:,.1f} m² ({row.verschil_relatief:.2e} relative)"
            for row in off.itertuples()
        ]
        raise AuditError("self-audit failed after merging faces across tiles: " + "; ".join(lines))


def largest_deviation(table: pd.DataFrame) -> pd.Series | None:
    """The row with the largest relative difference (``None`` for an empty table)."""
    if table.empty:
        return None
    return table.loc[table["verschil_relatief"].idxmax()]


def describe(table: pd.DataFrame) -> str:
    """The audit in one line: whether the faces match, and the largest relative difference."""
    worst = largest_deviation(table)
    if worst is None:
        return "controle: nothing was claimed"
    verdict = "do not match" if _off(table).any() else "match"
    return (
        f"controle: faces {verdict} the claims per provincie and sector; largest difference "
        f"{worst['verschil_relatief']:.1e} relative ({worst['verschil_m2']:+.3f} m², "
        f"{worst['provincie']}, {worst['sector']})"
    )
