"""Compare the spanningsgebieden of two runs — the yearly update of the Ruimtelijk Arrangement.

Areas are matched by overlap, not by id (an id follows the geometry, so a grown area gets a
new id): an old area that overlaps no new one is ``opgelost``, a new area that overlaps no old
one is ``nieuw``; matched areas are ``gegroeid``, ``gekrompen`` or ``ongewijzigd`` (change
within ``tolerance`` %), and every criterion whose verdict changed is listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.escape import md_escape
from novex_geo.io.manifest import compare_manifests
from novex_geo.io.outputs import write_layer
from novex_geo.io.run import read_run
from novex_geo.triage.criteria import CRITERIA

__all__ = ["DiffResult", "compare_areas", "diff_runs"]

STATUS_ORDER = ["nieuw", "opgelost", "gegroeid", "gekrompen", "ongewijzigd"]


@dataclass
class DiffResult:
    table: gpd.GeoDataFrame
    markdown: Path
    gpkg: Path
    inputs: list[str] = field(default_factory=list)  # what changed in the inputs (the run manifests)

    @property
    def summary_line(self) -> str:
        counts = self.table["status"].value_counts()
        changed = int((self.table["gewijzigde_criteria"] != "").sum())
        parts = [f"{counts.get(status, 0)} {status}" for status in STATUS_ORDER]
        return ", ".join(parts) + f"; {changed} with changed criteria"


def _read(path: Path) -> gpd.GeoDataFrame:
    return read_run(path, required=("spanningsgebieden",)).spanningsgebieden


def compare_areas(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame, tolerance: float = 5.0) -> gpd.GeoDataFrame:
    """One row per new area (nieuw/gegroeid/gekrompen/ongewijzigd) and per resolved old area."""
    old_i, new_j = shapely.STRtree(new.geometry.values).query(old.geometry.values, predicate="intersects")
    overlap = shapely.area(shapely.intersection(old.geometry.values[old_i], new.geometry.values[new_j]))
    links = pd.DataFrame({"old": old_i, "new": new_j, "m2": overlap})
    links = links[links["m2"] > 0]
    rows = []
    for j, area in new.iterrows():
        matched = links[links["new"] == j].sort_values("m2", ascending=False)
        row = {"id_nieuw": area["id"], "naam": area["naam"], "oppervlakte_nieuw_ha": area["oppervlakte_ha"],
               "geometry": area.geometry}  # fmt: skip
        if matched.empty:
            rows.append(
                {**row, "status": "nieuw", "id_oud": "", "oppervlakte_oud_ha": 0.0, "gewijzigde_criteria": ""}
            )
            continue
        olds = old.iloc[matched["old"].to_numpy()]
        before = float(olds["oppervlakte_ha"].sum())
        change = 100 * (area["oppervlakte_ha"] - before) / before if before else np.inf
        status = "ongewijzigd" if abs(change) <= tolerance else ("gegroeid" if change > 0 else "gekrompen")
        main = olds.iloc[0]
        changed = [
            f"{c.number}: {main[c.verdict]} → {area[c.verdict]}"
            for c in CRITERIA
            if c.verdict in old.columns and c.verdict in new.columns and main[c.verdict] != area[c.verdict]
        ]
        rows.append({**row, "status": status, "id_oud": "; ".join(olds["id"]), "oppervlakte_oud_ha": before,
                     "gewijzigde_criteria": "; ".join(changed)})  # fmt: skip
    resolved = sorted(set(range(len(old))) - set(links["old"]))
    for i in resolved:
        area = old.iloc[i]
        rows.append({"status": "opgelost", "id_oud": area["id"], "id_nieuw": "", "naam": area["naam"],
                     "oppervlakte_oud_ha": area["oppervlakte_ha"], "oppervlakte_nieuw_ha": 0.0,
                     "gewijzigde_criteria": "", "geometry": area.geometry})  # fmt: skip
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=new.crs if new.crs else old.crs)
    table["verschil_ha"] = table["oppervlakte_nieuw_ha"] - table["oppervlakte_oud_ha"]
    table["status"] = pd.Categorical(table["status"], STATUS_ORDER, ordered=True)
    table = table.sort_values(["status", "verschil_ha"], ascending=[True, False]).reset_index(drop=True)
    table["status"] = table["status"].astype(str)
    columns = ["status", "id_oud", "id_nieuw", "naam", "oppervlakte_oud_ha", "oppervlakte_nieuw_ha",
               "verschil_ha", "gewijzigde_criteria"]  # fmt: skip
    return table[[*columns, "geometry"]]


def diff_runs(old_path: Path, new_path: Path, out_dir: Path, tolerance: float = 5.0) -> DiffResult:
    """Compare two analysis GeoPackages; write ``wijzigingen.md`` and ``wijzigingen.gpkg``."""
    table = compare_areas(_read(Path(old_path)), _read(Path(new_path)), tolerance)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    gpkg, markdown = out_dir / "wijzigingen.gpkg", out_dir / "wijzigingen.md"
    if gpkg.exists():
        gpkg.unlink()
    if len(table):
        write_layer(table, gpkg, "wijzigingen", f"Wijzigingen {Path(old_path).name} → {Path(new_path).name}")
    result = DiffResult(table, markdown, gpkg, compare_manifests(Path(old_path), Path(new_path)))
    lines = ["# Wijzigingen in spanningsgebieden", "", f"Oud: `{old_path}`  ", f"Nieuw: `{new_path}`", "",
             result.summary_line + f" (drempel ongewijzigd: {tolerance:g} %).", ""]  # fmt: skip
    for status in STATUS_ORDER:
        subset = table[table["status"] == status]
        if subset.empty:
            continue
        lines += [f"## {status} ({len(subset)})", "",
                  "| naam | id oud | id nieuw | ha oud | ha nieuw | criteria |",
                  "|---|---|---|---:|---:|---|"]  # fmt: skip
        for row in subset.itertuples():
            lines.append(
                f"| {md_escape(row.naam)} | {row.id_oud} | {row.id_nieuw} | {row.oppervlakte_oud_ha:.1f} | "
                f"{row.oppervlakte_nieuw_ha:.1f} | {row.gewijzigde_criteria or '-'} |"
            )
        lines.append("")
    lines += ["## Invoer", "", *(f"- {md_escape(line)}" for line in result.inputs), ""]
    markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return result
