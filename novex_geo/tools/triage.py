"""Spanningsgebieden and the NOVEX triage: from schuurpunten to an explained, ranked agenda.

Spanningsgebieden
    Schuurpunten and stapeling faces with at least ``min_stapeling`` sectors that lie within
    ``merge_distance`` of each other (also across a provincial border) are merged into one
    area. Its id is derived from its geometry (rounded to 1 m), so re-running on the same data
    gives the same id and an edit elsewhere does not renumber it.
Criteria (seed section 3.3 and annex 4), each ``ja`` / ``nee`` / ``onbekend`` with a reason
    1 multi-sectoraal: at least one pair of the conflict matrix collides in the area;
    2a specifiek gebied met spanning: area ≥ ``min_area_ha`` and (max stapeling ≥
    ``min_max_stapeling`` or conflict area ≥ ``min_conflict_ha``);
    2b provincie-overstijgend: the area touches ≥ 2 provinces, or one of its conflict pairs
    occurs in spanningsgebieden in ≥ ``provinces_recurring`` provinces;
    3 prioriteit: the area intersects a configured priority layer;
    4 niet via regulier traject and 5 haalbaar: only from the annotations file.
Score
    ``Σ (pair weight × conflict ha) + criteria_bonus × (number of criteria 'ja')``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import ConflictPair, Triage
from novex_geo.overlay.summary import HECTARE

__all__ = ["CRITERIA", "area_id", "evaluate_criteria", "md_escape", "spanningsgebieden", "triage_report"]

CRITERIA = {
    "c1": "multi-sectoraal",
    "c2a": "specifiek gebied met spanning",
    "c2b": "provincie-overstijgend",
    "c3": "prioriteit",
    "c4": "niet via regulier traject",
    "c5": "haalbaar",
}
MAX_LISTED = 8


def area_id(geom) -> str:
    """A stable id from the geometry rounded to 1 m."""
    rounded = shapely.normalize(shapely.set_precision(geom, 1.0))
    return "SG-" + hashlib.blake2b(shapely.to_wkb(rounded), digest_size=5).hexdigest()


def _listing(values: Sequence[str]) -> str:
    values = list(dict.fromkeys(v for v in values if v))
    shown = ", ".join(values[:MAX_LISTED])
    return shown + (f" + {len(values) - MAX_LISTED} meer" if len(values) > MAX_LISTED else "")


def spanningsgebieden(
    stapeling: gpd.GeoDataFrame,
    schuurpunten: gpd.GeoDataFrame,
    herkomst: pd.DataFrame,
    conflicts: Sequence[ConflictPair],
    settings: Triage,
) -> gpd.GeoDataFrame:
    """Merge schuurpunten and high-stapeling faces within ``merge_distance`` into areas."""
    crs = stapeling.crs if stapeling.crs is not None else schuurpunten.crs
    faces = stapeling[stapeling["n_sectoren"] >= settings.min_stapeling]
    members = pd.concat(
        [
            pd.DataFrame({"ref": schuurpunten["schuurpunt_id"], "provincie": schuurpunten["provincie"],
                          "conflict": schuurpunten["conflict"], "gewicht": schuurpunten["gewicht"],
                          "sectoren": schuurpunten["sector_a"] + "+" + schuurpunten["sector_b"],
                          "geometry": schuurpunten.geometry.values}),
            pd.DataFrame({"ref": faces["vlak_id"], "provincie": faces["provincie"], "conflict": "",
                          "gewicht": 0.0, "sectoren": faces["sectoren"], "geometry": faces.geometry.values}),
        ],
        ignore_index=True,
    )  # fmt: skip
    if members.empty:
        return gpd.GeoDataFrame(columns=["id", "naam"], geometry=[], crs=crs)
    geoms = members["geometry"].to_numpy()
    members["oppervlakte_m2"] = shapely.area(geoms)
    half = settings.merge_distance / 2
    blobs = shapely.get_parts(shapely.union_all(shapely.buffer(geoms, half, quad_segs=4) if half else geoms))
    owner_member, owner_blob = shapely.STRtree(blobs).query(
        shapely.point_on_surface(geoms), predicate="within"
    )
    cluster = np.full(len(members), -1)
    cluster[owner_member] = owner_blob
    members["cluster"] = cluster
    areas = gpd.GeoDataFrame(members[["cluster", "geometry"]], geometry="geometry", crs=crs).dissolve(
        "cluster"
    )
    areas["id"] = [area_id(geom) for geom in areas.geometry.values]
    areas["oppervlakte_ha"] = areas.area / HECTARE
    grouped = members.groupby("cluster")
    areas["provincies"] = grouped["provincie"].agg(lambda s: ", ".join(sorted(set(s))))
    areas["n_provincies"] = grouped["provincie"].nunique()
    areas["sectoren"] = grouped["sectoren"].agg(
        lambda s: "+".join(sorted({x for v in s for x in v.split("+")}))
    )
    areas["n_sectoren_betrokken"] = areas["sectoren"].str.count(r"\+") + 1
    zones = members[members["conflict"] != ""]
    pair_ha = zones.groupby(["cluster", "conflict"])["oppervlakte_m2"].sum().div(HECTARE)
    weights = {pair.key: pair.weight for pair in conflicts}
    listed = {
        cluster: "; ".join(
            f"{pair}: {ha:.1f} ha" for (_, pair), ha in group.sort_values(ascending=False).items()
        )
        for cluster, group in pair_ha.groupby(level=0)
    }
    areas["conflicten"] = [listed.get(cluster, "") for cluster in areas.index]
    areas["n_conflictparen"] = pair_ha.groupby(level=0).size().reindex(areas.index, fill_value=0)
    areas["conflict_ha"] = pair_ha.groupby(level=0).sum().reindex(areas.index, fill_value=0.0)
    weighted = pair_ha * pair_ha.index.get_level_values("conflict").map(weights).to_numpy()
    areas["gewogen_conflict_ha"] = weighted.groupby(level=0).sum().reindex(areas.index, fill_value=0.0)
    areas["n_schuurpunten"] = zones.groupby("cluster").size().reindex(areas.index, fill_value=0)
    _stapeling_stats(areas, stapeling)
    _provenance(areas, members, herkomst)
    return areas.reset_index(drop=True)


def _stapeling_stats(areas: gpd.GeoDataFrame, stapeling: gpd.GeoDataFrame) -> None:
    """Max and area-weighted mean ``n_sectoren`` of the stapeling inside each area."""
    area_i, face_j = shapely.STRtree(stapeling.geometry.values).query(
        areas.geometry.values, predicate="intersects"
    )
    overlap = shapely.area(
        shapely.intersection(areas.geometry.values[area_i], stapeling.geometry.values[face_j])
    )
    table = pd.DataFrame({"area": area_i, "n": stapeling["n_sectoren"].to_numpy()[face_j], "m2": overlap})
    table = table[table["m2"] > 0]
    index = np.arange(len(areas))
    areas["max_stapeling"] = table.groupby("area")["n"].max().reindex(index, fill_value=0).to_numpy()
    mean = (table["n"] * table["m2"]).groupby(table["area"]).sum() / table.groupby("area")["m2"].sum()
    areas["gem_stapeling"] = mean.reindex(index, fill_value=0.0).round(2).to_numpy()


def _provenance(areas: gpd.GeoDataFrame, members: pd.DataFrame, herkomst: pd.DataFrame) -> None:
    rows = herkomst.merge(members[["ref", "cluster"]], left_on="schuurpunt_id", right_on="ref")
    rows = rows.drop_duplicates(["cluster", "feature_id"]).sort_values(["cluster", "sector", "label"])
    per_sector = rows.groupby(["cluster", "sector"])["label"].agg(lambda s: _listing(list(s)))
    areas["objecten"] = (
        per_sector.groupby(level=0)
        .apply(lambda s: " | ".join(f"{sector}: {labels}" for (_, sector), labels in s.items()))
        .reindex(areas.index, fill_value="")
    )
    areas["n_objecten"] = rows.groupby("cluster").size().reindex(areas.index, fill_value=0)
    areas["feature_ids"] = (
        rows.groupby("cluster")["feature_id"].agg("; ".join).reindex(areas.index, fill_value="")
    )


def _names(areas: gpd.GeoDataFrame, gemeenten: gpd.GeoDataFrame | None) -> list[str]:
    places = areas["provincies"].str.replace(", ", "/").tolist()
    if gemeenten is not None and len(gemeenten):
        area_i, gem_j = shapely.STRtree(gemeenten.geometry.values).query(
            areas.geometry.values, predicate="intersects"
        )
        overlap = shapely.area(
            shapely.intersection(areas.geometry.values[area_i], gemeenten.geometry.values[gem_j])
        )
        best = pd.DataFrame({"a": area_i, "g": gem_j, "m2": overlap}).sort_values("m2").groupby("a").tail(1)
        for a, g in zip(best["a"], best["g"], strict=True):
            places[a] = str(gemeenten["provincie"].iloc[g])
    names = []
    for place, conflicts, sectors in zip(places, areas["conflicten"], areas["sectoren"], strict=True):
        involved = []
        for item in conflicts.split("; ") if conflicts else []:
            involved += item.split(":")[0].split("×")
        involved += sectors.split("+")
        names.append(f"{place}: {' × '.join(list(dict.fromkeys(involved))[:3])}")
    return names


def evaluate_criteria(
    areas: gpd.GeoDataFrame,
    settings: Triage,
    priority: Sequence[gpd.GeoDataFrame] = (),
    gemeenten: gpd.GeoDataFrame | None = None,
    annotations: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Add name, verdicts with reasons, annotations, score and rank to ``areas``."""
    areas = areas.copy()
    areas["naam"] = _names(areas, gemeenten)
    # criterion 1
    c1 = areas["n_conflictparen"] > 0
    areas["c1_multisectoraal"] = np.where(c1, "ja", "nee")
    areas["c1_reden"] = [
        f"{n} conflictpaar/-paren botsen: {conflicts}" if ok else
        f"{sectors.replace('+', ', ')} stapelen (max {mx}), maar geen paar uit de conflictmatrix botst"
        for ok, n, conflicts, sectors, mx in zip(c1, areas["n_conflictparen"], areas["conflicten"],
                                                  areas["sectoren"], areas["max_stapeling"], strict=True)
    ]  # fmt: skip
    # criterion 2a
    big = areas["oppervlakte_ha"] >= settings.min_area_ha
    intense = (areas["max_stapeling"] >= settings.min_max_stapeling) | (
        areas["conflict_ha"] >= settings.min_conflict_ha
    )
    areas["c2a_spanning"] = np.where(big & intense, "ja", "nee")
    areas["c2a_reden"] = [
        f"{ha:.1f} ha (drempel {settings.min_area_ha:g}), max stapeling {mx} (drempel "
        f"{settings.min_max_stapeling}), conflictoppervlak {cha:.1f} ha "
        f"(drempel {settings.min_conflict_ha:g})"
        for ha, mx, cha in zip(
            areas["oppervlakte_ha"], areas["max_stapeling"], areas["conflict_ha"], strict=True
        )
    ]
    # criterion 2b
    pairs_in = {}
    for provincies, conflicts in zip(areas["provincies"], areas["conflicten"], strict=True):
        for item in conflicts.split("; ") if conflicts else []:
            pairs_in.setdefault(item.split(":")[0], set()).update(provincies.split(", "))
    verdicts, reasons = [], []
    for provincies, n, conflicts in zip(
        areas["provincies"], areas["n_provincies"], areas["conflicten"], strict=True
    ):
        pairs = [item.split(":")[0] for item in conflicts.split("; ")] if conflicts else []
        recurring = {
            p: sorted(pairs_in[p]) for p in pairs if len(pairs_in[p]) >= settings.provinces_recurring
        }
        if n >= 2:
            verdicts.append("ja")
            reasons.append(f"ligt over de grens van {provincies.replace(', ', ' en ')}")
        elif recurring:
            pair, where = next(iter(recurring.items()))
            verdicts.append("ja")
            reasons.append(
                f"{pair} komt voor in spanningsgebieden in {len(where)} provincies ({', '.join(where)})"
            )
        else:
            verdicts.append("nee")
            seen = ", ".join(f"{p} in {len(pairs_in[p])}" for p in pairs) or "geen conflictparen"
            reasons.append(f"alleen in {provincies}; paren elders: {seen} provincie(s)")
    areas["c2b_overstijgend"], areas["c2b_reden"] = verdicts, reasons
    # criterion 3
    if not priority:
        areas["c3_prioriteit"] = "onbekend"
        areas["c3_reden"] = "geen prioriteitslaag geconfigureerd ([[triage.priority]])"
    else:
        hits: dict[int, list[str]] = {}
        for layer in priority:
            area_i, layer_j = shapely.STRtree(layer.geometry.values).query(
                areas.geometry.values, predicate="intersects"
            )
            for a, j in zip(area_i, layer_j, strict=True):
                hits.setdefault(int(a), []).append(str(layer["label"].iloc[j]))
        areas["c3_prioriteit"] = ["ja" if i in hits else "nee" for i in range(len(areas))]
        areas["c3_reden"] = [
            f"raakt prioriteitsgebied {_listing(hits[i])}" if i in hits else
            f"raakt geen van {sum(len(layer) for layer in priority)} prioriteitsgebieden"
            for i in range(len(areas))
        ]  # fmt: skip
    # criteria 4 and 5 and urgency: only what people wrote down
    notes = annotations if annotations is not None else pd.DataFrame()
    for number, column in (("4", "c4_regulier"), ("5", "c5_haalbaar")):
        verdict = (
            areas["id"].map(notes[f"criterium_{number}"]) if len(notes) else pd.Series("", index=areas.index)
        )
        reason = areas["id"].map(notes[f"reden_{number}"]) if len(notes) else pd.Series("", index=areas.index)
        verdict = verdict.fillna("").str.strip().str.lower().replace("", "onbekend")
        areas[column] = verdict
        areas[f"c{number}_reden"] = np.where(
            verdict == "onbekend", "nog niet beoordeeld in het annotatiebestand", reason.fillna("")
        )
    for column in ("urgentie", "eigenaar"):
        areas[column] = areas["id"].map(notes[column]).fillna("") if len(notes) else ""
    verdict_columns = ["c1_multisectoraal", "c2a_spanning", "c2b_overstijgend", "c3_prioriteit",
                       "c4_regulier", "c5_haalbaar"]  # fmt: skip
    areas["n_criteria_ja"] = (areas[verdict_columns] == "ja").sum(axis=1)
    areas["score"] = (areas["gewogen_conflict_ha"] + settings.criteria_bonus * areas["n_criteria_ja"]).round(
        2
    )
    areas = areas.sort_values(["score", "id"], ascending=[False, True]).reset_index(drop=True)
    areas["rang"] = np.arange(1, len(areas) + 1)
    first = ["rang", "id", "naam", "score", "provincies"]
    return areas[first + [c for c in areas.columns if c not in first]]


def triage_report(areas: gpd.GeoDataFrame, settings: Triage, project_name: str, top: int = 25) -> str:
    """The Markdown triage report: thresholds, ranking, and a section per provincie."""
    lines = [
        f"# NOVEX triage — {project_name}",
        "",
        f"{len(areas)} spanningsgebieden, gerangschikt op score = Σ (gewicht × conflict-ha) + "
        f"{settings.criteria_bonus:g} × aantal criteria 'ja'.",
        "",
        "Gebruikte drempels: samenvoegafstand "
        f"{settings.merge_distance:g} m; stapeling vanaf {settings.min_stapeling} sectoren; criterium 2a: "
        f"≥ {settings.min_area_ha:g} ha en (max stapeling ≥ {settings.min_max_stapeling} of conflict ≥ "
        f"{settings.min_conflict_ha:g} ha); criterium 2b: grensoverschrijdend of paar in ≥ "
        f"{settings.provinces_recurring} provincies. Criteria 4 en 5 en de urgentie komen alleen uit "
        f"het annotatiebestand ({settings.annotations.name if settings.annotations else '-'}).",
        "",
        "| rang | id | naam | ha | score | 1 | 2a | 2b | 3 | 4 | 5 |",
        "|---:|---|---|---:|---:|---|---|---|---|---|---|",
    ]
    for row in areas.head(top).itertuples():
        lines.append(
            f"| {row.rang} | {row.id} | {md_escape(row.naam)} | {row.oppervlakte_ha:.1f} | {row.score:.1f} | "
            f"{row.c1_multisectoraal} | {row.c2a_spanning} | {row.c2b_overstijgend} | {row.c3_prioriteit} | "
            f"{row.c4_regulier} | {row.c5_haalbaar} |"
        )
    provinces = sorted({p for value in areas["provincies"] for p in value.split(", ")})
    for provincie in provinces:
        subset = areas[areas["provincies"].str.split(", ").apply(lambda ps, p=provincie: p in ps)]
        lines += ["", f"## {provincie}", "", f"{len(subset)} spanningsgebieden.", ""]
        for row in subset.head(top).itertuples():
            lines += [
                f"### {row.rang}. {md_escape(row.naam)} ({row.id})",
                "",
                f"{row.oppervlakte_ha:.1f} ha in {row.provincies}; sectoren {row.sectoren}; "
                f"max stapeling {row.max_stapeling}, gemiddeld {row.gem_stapeling:.2f}; "
                f"score {row.score:.1f}.",
                "",
            ]
            for key, label in CRITERIA.items():
                column = next(c for c in areas.columns if c.startswith(f"{key}_") and not c.endswith("reden"))
                reason = md_escape(getattr(row, f"{key}_reden"))
                lines.append(f"- {key[1:]} {label}: **{getattr(row, column)}** — {reason}")
            lines.append(f"- objecten: {md_escape(row.objecten) or '-'}")
            lines.append(f"- urgentie: {md_escape(row.urgentie) or '_nog in te vullen_'}")
            lines.append("")
    return "\n".join(lines) + "\n"


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table or list: no pipes, no HTML."""
    return str(text).replace("|", "/").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")
