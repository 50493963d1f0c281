"""Compare the spanningsgebieden of two runs — the yearly update of the Ruimtelijk Arrangement.

Areas are matched by overlap, not by id (an id follows the geometry, so a grown area gets a
new id): an old area that overlaps no new one is ``opgelost``, a new area that overlaps no old
one is ``nieuw``; matched areas are ``gegroeid``, ``gekrompen`` or ``ongewijzigd`` (change
within ``tolerance`` %), and every criterion whose verdict changed is listed.

Kansen are compared likewise, per pair: a kans that overlaps no kans of its pair in the other
run is ``nieuw`` (new run) or ``verdwenen`` (old run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import KANS
from novex_geo.config.criteria import CRITERIA
from novex_geo.escape import md_escape
from novex_geo.triage.areas import zone_labels

__all__ = ["KANS_STATUS", "DiffResult", "changes_report", "compare_areas", "compare_kansen", "overlap_links"]

CHANGE_COLUMNS = [
    "status",
    "id_oud",
    "id_nieuw",
    "naam",
    "oppervlakte_oud_ha",
    "oppervlakte_nieuw_ha",
    "verschil_ha",
    "gewijzigde_criteria",
]
STATUS_ORDER = ["nieuw", "opgelost", "gegroeid", "gekrompen", "ongewijzigd"]
KANS_STATUS = ["nieuw", "verdwenen"]
KANS_CHANGE_COLUMNS = [
    "status",
    KANS.id_column,
    KANS.pair_column,
    *KANS.extra_columns,
    "provincie",
    "oppervlakte_ha",
    "labels_a",
    "labels_b",
]


@dataclass
class DiffResult:
    table: gpd.GeoDataFrame
    markdown: Path
    gpkg: Path
    inputs: list[str] = field(default_factory=list)  # what changed in the inputs (the run manifests)
    kansen: gpd.GeoDataFrame | None = None  # new and lost kansen; None when a run has no kansen layer

    @property
    def summary_line(self) -> str:
        counts = self.table["status"].value_counts()
        changed = int((self.table["gewijzigde_criteria"] != "").sum())
        parts = [f"{counts.get(status, 0)} {status}" for status in STATUS_ORDER]
        line = ", ".join(parts) + f"; {changed} met gewijzigde criteria"
        if self.kansen is None:
            return line + "; kansen niet vergeleken (een run zonder laag kansen)"
        found = self.kansen["status"].value_counts()
        return line + "; kansen: " + ", ".join(f"{found.get(status, 0)} {status}" for status in KANS_STATUS)


def overlap_links(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every pair of an ``old`` and a ``new`` area that share area: their positions and the m²
    they share (touching areas are not linked)."""
    old_i, new_j = shapely.STRtree(new.geometry.values).query(old.geometry.values, predicate="intersects")
    overlap = shapely.area(shapely.intersection(old.geometry.values[old_i], new.geometry.values[new_j]))
    links = pd.DataFrame({"old": old_i, "new": new_j, "m2": overlap})
    return links[links["m2"] > 0].reset_index(drop=True)


def compare_areas(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, tolerance: float = 5.0) -> gpd.GeoDataFrame:
    """One row per new area (nieuw/gegroeid/gekrompen/ongewijzigd) and per resolved old area."""
    links = overlap_links(old, new).sort_values(["new", "m2"], ascending=[True, False], kind="stable")
    links["id"] = old["id"].to_numpy()[links["old"].to_numpy()]
    links["ha"] = old["oppervlakte_ha"].to_numpy()[links["old"].to_numpy()]
    matched = links.groupby("new", sort=False).agg(
        id_oud=("id", "; ".join), oppervlakte_oud_ha=("ha", "sum"), main=("old", "first")
    )
    matched = matched.reindex(range(len(new)))
    found = matched["main"].notna().to_numpy()
    before = matched["oppervlakte_oud_ha"].fillna(0.0).to_numpy()
    after = new["oppervlakte_ha"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(before > 0, 100 * (after - before) / before, np.inf)
    status = np.where(
        np.abs(change) <= tolerance, "ongewijzigd", np.where(change > 0, "gegroeid", "gekrompen")
    )
    rows = pd.DataFrame(
        {
            "status": np.where(found, status, "nieuw"),
            "id_oud": matched["id_oud"].fillna("").to_numpy(),
            "id_nieuw": new["id"].to_numpy(),
            "naam": new["naam"].to_numpy(),
            "oppervlakte_oud_ha": before,
            "oppervlakte_nieuw_ha": after,
            "gewijzigde_criteria": _changed_verdicts(old, new, matched["main"]),
        }
    )
    rows = gpd.GeoDataFrame(rows, geometry=new.geometry.to_numpy(), crs=new.crs if new.crs else old.crs)
    resolved = old.iloc[sorted(set(range(len(old))) - set(links["old"]))]
    gone = gpd.GeoDataFrame(
        [_resolved_row(area) for _, area in resolved.iterrows()], columns=[*CHANGE_COLUMNS, "geometry"]
    )
    table = (
        pd.concat([rows, gone.set_geometry("geometry", crs=rows.crs)], ignore_index=True)
        if len(gone)
        else rows
    )
    table["verschil_ha"] = table["oppervlakte_nieuw_ha"] - table["oppervlakte_oud_ha"]
    table["status"] = pd.Categorical(table["status"], STATUS_ORDER, ordered=True)
    table = table.sort_values(["status", "verschil_ha"], ascending=[True, False]).reset_index(drop=True)
    table["status"] = table["status"].astype(str)
    return table[[*CHANGE_COLUMNS, "geometry"]]


def _changed_verdicts(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, main: pd.Series) -> list[str]:
    """Per new area, each criterion whose verdict differs from that of the old area it overlaps
    most: ``"2a: ja → nee"``, ``; ``-joined (empty for a new area)."""
    found = main.notna().to_numpy()
    if not found.any():
        return [""] * len(new)
    index = main.fillna(0).astype(int).to_numpy()
    changes = []
    for c in CRITERIA:
        if c.verdict not in old.columns or c.verdict not in new.columns:
            continue
        was = old[c.verdict].astype(str).to_numpy()[index]
        now = new[c.verdict].astype(str).to_numpy()
        changes.append(np.where(found & (was != now), f"{c.number}: " + was + " → " + now, ""))
    if not changes:
        return [""] * len(new)
    return ["; ".join(part for part in parts if part) for parts in zip(*changes, strict=True)]


def _resolved_row(area) -> dict:
    """The row of an old area that overlaps no new one."""
    return {
        "status": "opgelost",
        "id_oud": area["id"],
        "id_nieuw": "",
        "naam": area["naam"],
        "oppervlakte_oud_ha": area["oppervlakte_ha"],
        "oppervlakte_nieuw_ha": 0.0,
        "gewijzigde_criteria": "",
        "geometry": area.geometry,
    }


def compare_kansen(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The kansen of ``new`` that overlap no kans of their pair in ``old`` (``nieuw``) and those
    of ``old`` that overlap none in ``new`` (``verdwenen``), largest first."""

    def unmatched(these: gpd.GeoDataFrame, others: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        tree = shapely.STRtree(others.geometry.values)
        mine, theirs = tree.query(these.geometry.values, predicate="intersects")
        same = these[KANS.pair_column].to_numpy()[mine] == others[KANS.pair_column].to_numpy()[theirs]
        mine, theirs = mine[same], theirs[same]
        shared = shapely.intersection(these.geometry.values[mine], others.geometry.values[theirs])
        return these[~np.isin(np.arange(len(these)), mine[shapely.area(shared) > 0])]

    found = [unmatched(new, old).assign(status="nieuw"), unmatched(old, new).assign(status="verdwenen")]
    table = pd.concat(found, ignore_index=True)
    table["oppervlakte_ha"] = table["oppervlakte_m2"] / 10_000
    table = table.sort_values(["status", "oppervlakte_ha"], ascending=[True, False], ignore_index=True)
    crs = new.crs if new.crs is not None else old.crs
    return gpd.GeoDataFrame(table[KANS_CHANGE_COLUMNS], geometry=table.geometry.values, crs=crs)


def _kansen_lines(kansen: gpd.GeoDataFrame | None) -> list[str]:
    if kansen is None:
        return [
            "## Kansen",
            "",
            "Niet vergeleken: een van de twee runs heeft geen laag kansen "
            "(gemaakt voordat novex-geo kansen kende).",
            "",
        ]
    lines = []
    for status in KANS_STATUS:
        subset = kansen[kansen["status"] == status]
        lines += [f"## Kansen {status} ({len(subset)})", ""]
        if subset.empty:
            lines += ["Geen.", ""]
            continue
        lines += ["| kans | toelichting | provincie | ha | objecten |", "|---|---|---|---:|---|"]
        for row in subset.itertuples():
            objects = f"{zone_labels(row.labels_a)} × {zone_labels(row.labels_b)}"
            lines.append(
                f"| {md_escape(getattr(row, KANS.pair_column))} | {md_escape(row.toelichting)} | "
                f"{md_escape(row.provincie)} | {row.oppervlakte_ha:.1f} | {md_escape(objects)} |"
            )
        lines.append("")
    return lines


def changes_report(result: DiffResult, old_name: str, new_name: str, tolerance: float) -> str:
    """``wijzigingen.md``: the counts, the areas per status, the kansen and the changed inputs."""
    table = result.table
    lines = [
        "# Wijzigingen in spanningsgebieden",
        "",
        f"Oud: `{old_name}`  ",
        f"Nieuw: `{new_name}`",
        "",
        result.summary_line + f" (ongewijzigd: oppervlakte binnen ±{tolerance:g} %).",
        "",
    ]
    for status in STATUS_ORDER:
        subset = table[table["status"] == status]
        if subset.empty:
            continue
        lines += [
            f"## {status} ({len(subset)})",
            "",
            "| naam | id oud | id nieuw | ha oud | ha nieuw | criteria |",
            "|---|---|---|---:|---:|---|",
        ]
        for row in subset.itertuples():
            lines.append(
                f"| {md_escape(row.naam)} | {row.id_oud} | {row.id_nieuw} | {row.oppervlakte_oud_ha:.1f} | "
                f"{row.oppervlakte_nieuw_ha:.1f} | {row.gewijzigde_criteria or '-'} |"
            )
        lines.append("")
    lines += _kansen_lines(result.kansen)
    lines += ["## Invoer", "", *(f"- {md_escape(line)}" for line in result.inputs), ""]
    return "\n".join(lines) + "\n"
