"""Oplossingsrichtingen side by side: variants of the claims around one spanningsgebied.

A variant is a named set of changes, read from GeoJSON as the kaartsessie map exports a sketch
(EPSG:4326): every polygon has a ``sector`` and an ``actie``: ``toevoegen`` (a new claim) or
``verwijderen`` (that sector's claims inside the polygon are cut away; a claim wholly inside is
gone). A ``verplaatsen`` is both in one file. The current situation (``huidig``) and every
variant run through the same exact overlay engine, on the area's surroundings only:

- the *focus*: the area and every change, widened by the largest pair distance and the merge
  distance (where a change can have an effect); every figure is measured inside it;
- the claims loaded: everything within the largest pair distance of the focus, so that inside
  the focus the figures equal those of a full run on the edited layers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from novex_geo.config import Project
from novex_geo.config.criteria import CRITERION, JA, NEE
from novex_geo.config.variants import CURRENT
from novex_geo.overlay.engine import OverlayResult, overlay_project
from novex_geo.sketch import ADD, COMPUTED, REMOVE, local_areas, sketch_actions, sketch_frame
from novex_geo.triage.areas import zone_labels
from novex_geo.units import HECTARE, SLIVER_M2
from novex_geo.variants.report import pros_and_cons

__all__ = [
    "ADD",
    "REMOVE",
    "Variant",
    "VariantFigures",
    "apply_variant",
    "compare_variants",
    "focus_of",
    "loading_box",
    "merge_variants",
    "variant_frame",
    "variants_in",
]

QUALIFYING = ("c1", "c2a")  # what makes a spanningsgebied a candidate: multisectoral and tense
# 2b weighs how a pair recurs across the country's provinces: the surroundings cannot judge it
LOCAL = [criterion for criterion in COMPUTED if criterion.key != "c2b"]
SHRUNK_SHARE = 0.999  # a schuurpunt keeping less than this of its area has shrunk


@dataclass
class Variant:
    """One oplossingsrichting: claims added and areas cut away, per sector."""

    name: str
    toelichting: str
    add: gpd.GeoDataFrame  # feature_id, sector, source, label, geometry (analysis CRS)
    cut: gpd.GeoDataFrame  # sector, geometry

    @property
    def changes(self) -> np.ndarray:
        return np.concatenate([self.add.geometry.to_numpy(), self.cut.geometry.to_numpy()])

    @property
    def drawn(self) -> gpd.GeoDataFrame:
        """Every polygon of the variant with its ``actie``, ``sector`` and ``label``."""
        added = self.add[["sector", "label", "geometry"]].assign(actie=ADD)
        cut = self.cut.assign(actie=REMOVE, label="")
        frame = pd.concat([added, cut], ignore_index=True)[["actie", "sector", "label", "geometry"]]
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=self.add.crs)


@dataclass
class VariantFigures:
    """One situation: its claims and result, and its row of the comparison."""

    name: str
    result: OverlayResult
    claims: dict[str, gpd.GeoDataFrame]
    variant: Variant | None = None  # None for the current situation
    row: dict = field(default_factory=dict)
    # the schuurpunten that meet none of their pair before: conflict, ha, tussen (the claims)
    created: pd.DataFrame = field(default_factory=pd.DataFrame)


def variant_frame(
    frame: gpd.GeoDataFrame, project: Project, path, name: str, toelichting: str = ""
) -> Variant:
    """The variant in ``frame`` (read from ``path``): polygons with ``sector`` and ``actie``."""
    actions = sketch_actions(frame, path)
    if not toelichting and "toelichting" in frame.columns:
        given = frame["toelichting"].dropna().astype(str).str.strip()
        toelichting = next((text for text in given if text), "")
    given = frame["naam"] if "naam" in frame.columns else pd.Series("", index=frame.index)
    given = given.fillna("").astype(str).str.strip()
    # a new claim without a name is named after its variant where it shows up
    frame = frame.assign(naam=[n or f"{name} ({i + 1})" for i, n in enumerate(given)])
    changes = sketch_frame(frame, project, None, path).assign(actie=actions.to_numpy())
    add = changes[changes["actie"] == ADD].drop(columns="actie").reset_index(drop=True)
    cut = changes.loc[changes["actie"] == REMOVE, ["sector", "geometry"]].reset_index(drop=True)
    return Variant(name, toelichting, add, cut)


def variants_in(frame: gpd.GeoDataFrame, project: Project, path, name: str) -> list[Variant]:
    """The variants in one file: one per value of its ``variant`` column (as the kaartsessie
    map exports them, in the order drawn), else one variant called ``name``."""
    if "variant" not in frame.columns:
        return [variant_frame(frame, project, path, name)]
    names = frame["variant"].fillna("").astype(str).str.strip().replace("", name)
    return [
        variant_frame(frame[(names == each).to_numpy()], project, path, each) for each in dict.fromkeys(names)
    ]


def merge_variants(parts: list[Variant], name: str, toelichting: str = "") -> Variant:
    """One variant from the changes of several files (a ``[[varianten]]`` entry's ``bestanden``)."""
    add = pd.concat([part.add for part in parts], ignore_index=True)
    cut = pd.concat([part.cut for part in parts], ignore_index=True)
    given = toelichting or next((part.toelichting for part in parts if part.toelichting), "")
    crs = parts[0].add.crs
    return Variant(name, given, gpd.GeoDataFrame(add, crs=crs), gpd.GeoDataFrame(cut, crs=crs))


def apply_variant(claims: dict[str, gpd.GeoDataFrame], variant: Variant) -> dict[str, gpd.GeoDataFrame]:
    """The claims as the variant leaves them: cut away, then added to."""
    edited = {}
    for sector, frame in claims.items():
        cut = variant.cut.geometry[variant.cut["sector"] == sector].to_numpy()
        if len(cut):
            away = shapely.union_all(cut)
            geometry = shapely.difference(frame.geometry.to_numpy(), away)
            frame = frame.assign(geometry=geometry)
            frame = frame[
                ~shapely.is_empty(frame.geometry.to_numpy()) & (shapely.area(frame.geometry.to_numpy()) > 0)
            ]
        added = variant.add[variant.add["sector"] == sector]
        frame = pd.concat([frame, added], ignore_index=True) if len(added) else frame
        edited[sector] = gpd.GeoDataFrame(frame, geometry="geometry", crs=claims[sector].crs)
    return edited


def _reach(project: Project) -> float:
    pairs = [*project.conflicts, *project.kansen]
    return max((pair.distance for pair in pairs), default=0.0)


def focus_of(project: Project, area: shapely.Geometry, variants: list[Variant]) -> shapely.Geometry:
    """Where the variants can change anything: the area and every change (each by its own
    extent: a change far away does not pull what lies in between into the comparison), widened
    by the largest pair distance and the merge distance."""
    changed = np.concatenate([[area], *(variant.changes for variant in variants)])
    boxes = shapely.box(*shapely.bounds(changed).T)
    return shapely.union_all(
        shapely.buffer(boxes, _reach(project) + project.triage.merge_distance, join_style="mitre")
    )


def loading_box(project: Project, focus: shapely.Geometry) -> tuple[float, float, float, float]:
    """The claims that can reach into the focus: within the largest pair distance of it."""
    return tuple(focus.buffer(_reach(project) + 100.0, join_style="mitre").bounds)


def _in_focus(zones: gpd.GeoDataFrame, focus: shapely.Geometry) -> np.ndarray:
    """Each zone's m² inside the focus."""
    return shapely.area(shapely.intersection(zones.geometry.to_numpy(), focus))


def _per_pair(zones: gpd.GeoDataFrame, column: str, focus: shapely.Geometry, prefix: str) -> dict[str, float]:
    hectares = pd.Series(_in_focus(zones, focus) / HECTARE, index=zones.index).groupby(zones[column]).sum()
    return {f"{prefix}_{pair}_ha": float(value) for pair, value in hectares.items()}


def _zone_changes(
    current: gpd.GeoDataFrame, variant: gpd.GeoDataFrame, focus
) -> tuple[dict[str, float], pd.DataFrame]:
    """Schuurpunten of the current situation gone (opgelost) or smaller (gekrompen) in the
    variant, and schuurpunten of the variant that meet none of their pair now (nieuw): counts
    and hectares inside the focus, and the new ones with their pair, hectares and claims."""
    old = current.assign(geometry=shapely.intersection(current.geometry.to_numpy(), focus))
    new = variant.assign(geometry=shapely.intersection(variant.geometry.to_numpy(), focus))
    # slivers (a cut drawn along a boundary, off by the map's coordinate rounding) count as none
    old = old[shapely.area(old.geometry.to_numpy()) >= SLIVER_M2]
    new = new[shapely.area(new.geometry.to_numpy()) >= SLIVER_M2]
    kept = np.zeros(len(old))
    for pair, zones in old.groupby("conflict"):
        others = new.geometry[new["conflict"] == pair].to_numpy()
        if len(others):
            shared = shapely.intersection(zones.geometry.to_numpy(), shapely.union_all(others))
            kept[old.index.get_indexer(zones.index)] = shapely.area(shared)
    area = shapely.area(old.geometry.to_numpy())
    solved, shrunk = kept < SLIVER_M2, (kept >= SLIVER_M2) & (kept < SHRUNK_SHARE * area)
    met = np.zeros(len(new), dtype=bool)
    for pair, zones in new.groupby("conflict"):
        others = old.geometry[old["conflict"] == pair].to_numpy()
        if len(others):
            shared = shapely.area(shapely.intersection(zones.geometry.to_numpy(), shapely.union_all(others)))
            met[new.index.get_indexer(zones.index)] = shared >= SLIVER_M2
    zones = new[~met]
    between = [f"{zone_labels(z.labels_a)} × {zone_labels(z.labels_b)}" for z in zones.itertuples()]
    created = pd.DataFrame(
        {
            "conflict": zones["conflict"].to_numpy(),
            "ha": shapely.area(zones.geometry.to_numpy()) / HECTARE,
            "tussen": between,
        }
    )
    counts = {
        "schuurpunten_opgelost": int(solved.sum()),
        "opgelost_ha": float(area[solved].sum() / HECTARE),
        "schuurpunten_gekrompen": int(shrunk.sum()),
        "gekrompen_ha": float((area[shrunk] - kept[shrunk]).sum() / HECTARE),
        "schuurpunten_nieuw": len(created),
        "nieuw_ha": float(created["ha"].sum()),
        "nieuw_tussen": "; ".join(created["tussen"]),
    }
    return counts, created


def _kept(faces: gpd.GeoDataFrame, sectors, area: shapely.Geometry) -> dict[str, float]:
    """Each sector's claimed hectares inside the area: the stapeling faces partition the
    claims, so the faces' parts in the area with the sector add up (overlaps count once)."""
    geometry = faces.geometry.to_numpy()
    near = shapely.intersects(geometry, area)
    inside = shapely.area(shapely.intersection(geometry[near], area)) / HECTARE
    return {
        f"claim_{sector}_ha": float((inside * faces[sector].to_numpy()[near]).sum()) for sector in sectors
    }


def _elsewhere(variant: Variant | None, sectors, area: shapely.Geometry) -> dict[str, float]:
    """The hectares each sector gains outside the area by the variant's additions: land a claim
    moves to, which the area's own figures (``claim_``, ``behoud_``) do not see."""
    if variant is None:
        return {}
    added = variant.add
    outside = {
        sector: shapely.difference(shapely.union_all(added.geometry[added["sector"] == sector]), area)
        for sector in sectors
        if (added["sector"] == sector).any()
    }
    return {f"elders_{sector}_ha": float(shapely.area(geom) / HECTARE) for sector, geom in outside.items()}


def _verdicts(result: OverlayResult, project: Project, priority, area: shapely.Geometry) -> dict[str, str]:
    """The computed criteria of the spanningsgebied that covers most of the area after the
    change, and whether it still qualifies (criteria 1 and 2a)."""
    # the verdicts do not need which features make up each area: no provenance, much faster
    areas = local_areas(dataclasses.replace(result, herkomst=result.herkomst.iloc[:0]), project, priority)
    overlap = (
        shapely.area(shapely.intersection(areas.geometry.to_numpy(), area)) if len(areas) else np.zeros(0)
    )
    if not len(areas) or overlap.max() <= 0:
        return {f"criterium_{c.number}": "-" for c in LOCAL} | {
            "kwalificeert": "nee: geen spanningsgebied meer"
        }
    best = areas.iloc[int(np.argmax(overlap))]
    qualifies = all(best[CRITERION[key].verdict] == JA for key in QUALIFYING)
    return {f"criterium_{c.number}": str(best[c.verdict]) for c in LOCAL} | {
        "kwalificeert": "ja" if qualifies else "nee"
    }


def _stapeling(faces: gpd.GeoDataFrame, focus: shapely.Geometry) -> dict[str, float]:
    hectares = (
        pd.Series(_in_focus(faces, focus) / HECTARE, index=faces.index).groupby(faces["n_sectoren"]).sum()
    )
    return {f"stapeling_{n}_ha": float(value) for n, value in hectares.items() if n >= 2}


def compare_variants(
    project: Project,
    area: shapely.Geometry,
    variants: list[Variant],
    regions: gpd.GeoDataFrame,
    claims: dict[str, gpd.GeoDataFrame],
    priority: list[gpd.GeoDataFrame],
) -> tuple[list[VariantFigures], pd.DataFrame]:
    """The current situation and every variant through the overlay on the surroundings
    (``claims`` and ``regions`` must cover :func:`loading_box`); one row each, ``huidig`` first."""
    focus = focus_of(project, area, variants)
    box = shapely.box(*loading_box(project, focus))
    regions = regions[regions.intersects(box)].copy()
    regions["geometry"] = regions.geometry.intersection(box)
    situations: list[tuple[Variant | None, dict]] = [(None, claims)]
    situations += [(v, apply_variant(claims, v)) for v in variants]
    figures: list[VariantFigures] = []
    for variant, edited in situations:
        result = overlay_project(project, regions, edited)
        current = figures[0].result if figures else result
        name = variant.name if variant else CURRENT
        row: dict = {"variant": name, "toelichting": variant.toelichting if variant else ""}
        conflicts = _per_pair(result.schuurpunten, "conflict", focus, "conflict")
        kansen = _per_pair(result.kansen, "kans", focus, "kans")
        row |= {
            "conflict_ha": sum(conflicts.values()),
            **conflicts,
            "kansen_ha": sum(kansen.values()),
            **kansen,
        }
        changes, created = _zone_changes(current.schuurpunten, result.schuurpunten, focus)
        row |= changes
        row |= (
            _stapeling(result.stapeling, focus)
            | _kept(result.stapeling, claims, area)
            | _elsewhere(variant, claims, area)
            | _verdicts(result, project, priority, area)
        )
        figures.append(VariantFigures(name, result, edited, variant, row, created))
    table = pd.DataFrame([f.row for f in figures])
    numbers = [c for c in table.columns if c.endswith("_ha") or c.startswith("schuurpunten_")]
    table[numbers] = table[numbers].fillna(0.0)  # a pair or class a situation lacks: 0 ha
    for sector in claims:
        now = table[f"claim_{sector}_ha"]
        table[f"behoud_{sector}_pct"] = np.where(now.iloc[0] > 0, 100 * now / now.iloc[0], np.nan)
    for sector, target in project.opgaven.items():
        table[f"opgave_{sector}_ha"] = target
        table[f"opgave_{sector}_gehaald"] = np.where(table[f"claim_{sector}_ha"] >= target, JA, NEE)
    table["voordelen"], table["nadelen"] = zip(
        *(pros_and_cons(table, i, figure.created, project) for i, figure in enumerate(figures)), strict=True
    )
    return figures, table
