"""Evaluate a sketch from a kaartsessie against the existing claims.

A sketch is a GeoJSON (EPSG:4326, as the map's Draw tool exports it) whose polygons carry a
``sector``. The overlay engine runs twice on the sketch's surroundings only (the sketch's
extent plus the largest conflict distance and the merge distance): without and with the
sketched features. The difference is what the sketch would cause: new schuurpunten (pairs,
hectares, the features involved), the stapeling under the sketch, and criteria verdicts of
spanningsgebieden that would flip.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from novex_geo.config import SCHUURPUNT, ZONE_ID, Project, SectorLabels
from novex_geo.errors import LayerError, UsageError
from novex_geo.escape import md_escape
from novex_geo.io.layers import SectorLayer
from novex_geo.overlay.engine import OverlayResult, overlay
from novex_geo.triage import CRITERIA, evaluate_criteria, spanningsgebieden
from novex_geo.triage.areas import MAX_LISTED, label_text, listing, natural_key
from novex_geo.units import HECTARE, counted, hectares

__all__ = [
    "ADD",
    "COMPUTED",
    "REMOVE",
    "SketchResult",
    "evaluate_sketch",
    "local_areas",
    "sketch_actions",
    "sketch_frame",
    "sketch_report",
    "surroundings",
]

SKETCH_SOURCE = "schets"
# what a drawn polygon asks (its ``actie``): a new claim, or cutting a sector's claims away
ADD, REMOVE = "toevoegen", "verwijderen"
COMPUTED = [criterion for criterion in CRITERIA if not criterion.judged_by_people]


@dataclass
class SketchResult:
    """What a sketch would cause.

    ``herkomst`` lists the features on both sides of the ``new_schuurpunten``;
    ``other_claims`` are the existing claims among them (the sketch's counterparts), and
    ``layers`` the sectors loaded around the sketch (their sources are the map's credits).
    """

    sketch: gpd.GeoDataFrame
    new_schuurpunten: gpd.GeoDataFrame
    stapeling_under_sketch: pd.DataFrame
    pair_change: pd.DataFrame
    herkomst: pd.DataFrame
    other_claims: gpd.GeoDataFrame
    layers: dict[str, SectorLayer]
    flips: list[str] = field(default_factory=list)
    new_areas: list[str] = field(default_factory=list)
    seconds: float = 0.0


def sketch_actions(frame: pd.DataFrame, path: Path) -> pd.Series:
    """Each drawn polygon's ``actie`` (``toevoegen`` where it has none); any other stops, so a
    removal spelled otherwise is never taken for a new claim."""
    actions = frame["actie"] if "actie" in frame.columns else pd.Series(ADD, index=frame.index)
    actions = actions.fillna(ADD).astype(str).str.strip().str.lower().replace("", ADD)
    unknown = sorted(set(actions) - {ADD, REMOVE})
    if unknown:
        raise LayerError(
            f"unknown actie {', '.join(map(repr, unknown))}; use {ADD} or {REMOVE}", path, field="actie"
        )
    return actions


def _sectors(frame: gpd.GeoDataFrame, project: Project, sector: str | None, path: Path) -> pd.Series:
    """Each feature's ``sector`` property, ``sector`` where it has none; unknown ones stop."""
    if sector is not None and sector not in project.sectors:
        known = ", ".join(project.sectors)
        raise UsageError(f"--sector {sector}: no sector of the project; use one of {known}")
    given = frame["sector"] if "sector" in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    missing = given.isna() | (given.astype(str).str.strip() == "")
    if sector is not None:
        given = given.where(~missing, sector)
    elif missing.any():
        raise LayerError(
            f"{int(missing.sum())} of {len(frame)} features have no 'sector' property; give "
            f"--sector or one of {', '.join(project.sectors)}",
            path,
            field="sector",
        )
    unknown = sorted({str(s) for s in given if not isinstance(s, str) or s not in project.sectors})
    if unknown:
        raise LayerError(
            f"unknown sector(s) {', '.join(unknown)}; give --sector or use one of "
            f"{', '.join(project.sectors)}",
            path,
            field="sector",
        )
    return given


def sketch_frame(
    frame: gpd.GeoDataFrame, project: Project, sector: str | None, path: Path
) -> gpd.GeoDataFrame:
    """The sketched polygons (``frame``, read from ``path``) in the analysis CRS with
    ``feature_id``, ``label`` and ``sector``.

    The sketch is GeoJSON in longitude/latitude, as the map exports it; features that are no
    polygons or lack a sector, and coordinates that are not longitude/latitude each stop with
    one message naming the file.
    """
    if frame.empty:
        raise LayerError("the sketch holds no features", path)
    if frame.crs is None:
        frame = frame.set_crs("OGC:CRS84")
    if frame.crs.is_geographic:
        west, south, east, north = frame.total_bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise LayerError(
                f"coordinates ({west:.0f}, {south:.0f}) … ({east:.0f}, {north:.0f}) are not longitude/"
                "latitude; export the sketch from the kaartsessie map (EPSG:4326)",
                path,
            )
    polygonal = frame.geom_type.isin(["Polygon", "MultiPolygon"])
    if not polygonal.all():
        found = ", ".join(frame.geom_type[~polygonal].fillna("no geometry").unique())
        raise LayerError(f"sketch features must be polygons; found {found}", path)
    sectors = _sectors(frame, project, sector, path)
    frame = frame.to_crs(project.crs)
    given = frame["naam"] if "naam" in frame.columns else pd.Series([None] * len(frame))
    names = [
        str(name) if pd.notna(name) and str(name).strip() else f"schets {i + 1}"
        for i, name in enumerate(given)
    ]
    return gpd.GeoDataFrame(
        {
            "feature_id": [f"{s}/{SKETCH_SOURCE}/{i + 1}" for i, s in enumerate(sectors)],
            "sector": list(sectors),
            "source": SKETCH_SOURCE,
            "label": list(names),
        },
        geometry=shapely.make_valid(frame.geometry.values),
        crs=project.crs,
    )


def local_areas(
    result: OverlayResult, project: Project, priority, gemeenten: gpd.GeoDataFrame | None = None
) -> gpd.GeoDataFrame:
    """The spanningsgebieden of a local overlay ``result``, with the computed criteria (named
    after their gemeente, as in triage, when ``gemeenten`` is given)."""
    areas, pairs = spanningsgebieden(
        result.stapeling,
        result.schuurpunten,
        result.herkomst,
        project.conflicts,
        project.triage,
        project.min_area_m2,
    )
    return (
        evaluate_criteria(areas, pairs, project.triage, priority, gemeenten, labels=project.labels)
        if len(areas)
        else areas
    )


def surroundings(project: Project, sketch: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """The box whose claims a sketch can meet: its extent plus the largest pair distance, the
    merge distance of areas and a margin."""
    reach = project.max_distance + project.triage.merge_distance + 500.0
    xmin, ymin, xmax, ymax = sketch.total_bounds
    return (xmin - reach, ymin - reach, xmax + reach, ymax + reach)


def _area_changes(old_areas, new_areas, reach: shapely.Geometry) -> tuple[list[str], list[str]]:
    """The criteria that flip in the spanningsgebieden within ``reach`` of the sketch, and the
    spanningsgebieden that are new there (named, with their area)."""
    flips: list[str] = []
    created: list[str] = []
    if not len(new_areas):
        return flips, created
    for _, area_row in new_areas[new_areas.intersects(reach)].iterrows():
        overlapping = old_areas[old_areas.intersects(area_row.geometry)] if len(old_areas) else old_areas
        if overlapping.empty:
            created.append(f"{area_row['naam']} ({hectares(area_row['oppervlakte_ha'])})")
            continue
        old_row = overlapping.iloc[0]
        for criterion in COMPUTED:
            before, after = old_row[criterion.verdict], area_row[criterion.verdict]
            if before != after:
                flips.append(f"{area_row['naam']}: criterium {criterion.number} {before} → {after}")
    return flips, created


def evaluate_sketch(
    project: Project,
    sketch: gpd.GeoDataFrame,
    regions: gpd.GeoDataFrame,
    layers: dict[str, SectorLayer],
    priority: list[gpd.GeoDataFrame],
    gemeenten: gpd.GeoDataFrame | None = None,
) -> SketchResult:
    """Run the overlay on the sketch's :func:`surroundings` without and with the sketch;
    compare. ``layers`` and ``priority`` need only cover the surroundings; new spanningsgebieden
    are named after their gemeente in ``gemeenten`` (else their provincie)."""
    started = time.perf_counter()
    box = shapely.box(*surroundings(project, sketch))
    regions = regions[regions.intersects(box)].copy()
    regions["geometry"] = regions.geometry.intersection(box)
    before = {key: layer.frame for key, layer in layers.items()}
    after = {
        key: pd.concat([frame, sketch[sketch["sector"] == key]], ignore_index=True)
        for key, frame in before.items()
    }
    after = {
        key: gpd.GeoDataFrame(frame, geometry="geometry", crs=project.crs) for key, frame in after.items()
    }
    run = {"tile_size": project.tile_size, "min_area_m2": project.min_area_m2, "workers": 1}
    without = overlay(regions, before, project.conflicts, **run)
    with_sketch = overlay(regions, after, project.conflicts, **run)
    herkomst = with_sketch.herkomst
    caused = set(herkomst.loc[herkomst["feature_id"].isin(sketch["feature_id"]), ZONE_ID])
    new = with_sketch.schuurpunten[with_sketch.schuurpunten[SCHUURPUNT.id_column].isin(caused)]
    involved = herkomst[herkomst[ZONE_ID].isin(caused)]
    existing = pd.concat(list(before.values()), ignore_index=True)
    others = existing[existing["feature_id"].isin(set(involved["feature_id"]))]
    others = gpd.GeoDataFrame(others, geometry="geometry", crs=project.crs)
    outline = shapely.union_all(sketch.geometry.values)
    faces = with_sketch.stapeling
    under = faces[faces.intersects(outline)]
    under = under.assign(m2=shapely.area(shapely.intersection(under.geometry.values, outline)))
    stacked = under.groupby("sectoren")["m2"].sum().div(10_000).rename("ha").reset_index()
    stacked = stacked[stacked["ha"] >= 0.005]  # faces that only touch the sketch
    old_areas, new_areas = (
        local_areas(result, project, priority, gemeenten) for result in (without, with_sketch)
    )
    flips, created = _area_changes(old_areas, new_areas, outline.buffer(project.triage.merge_distance))

    def per_pair(result: OverlayResult) -> pd.Series:
        return result.schuurpunten.groupby("conflict")["oppervlakte_m2"].sum().div(10_000)

    change = pd.DataFrame({"ha_zonder": per_pair(without), "ha_met": per_pair(with_sketch)}).fillna(0.0)
    change["verschil_ha"] = change["ha_met"] - change["ha_zonder"]
    change = change[change["verschil_ha"].abs() > 1e-9].reset_index(names="conflict")
    seconds = time.perf_counter() - started
    return SketchResult(sketch, new, stacked, change, involved, others, layers, flips, created, seconds)


def _features(rows: pd.DataFrame) -> str:
    """The distinct labels of ``rows`` (herkomst), in natural order, shortened."""
    return listing(sorted({label_text(label) for label in rows["label"]}, key=natural_key), MAX_LISTED)


def sketch_report(result: SketchResult, sketch_path: Path, labels: SectorLabels | None = None) -> str:
    """Short Markdown answer: what the sketch would cause, per conflict pair with the features
    of both sides named once; sectors by their ``labels``."""
    labels = labels or SectorLabels({})
    sketched_sectors = ", ".join(labels.label(key) for key in sorted(set(result.sketch["sector"])))
    lines = [
        f"# Beoordeling van {md_escape(Path(sketch_path).name)}",
        "",
        f"{counted(len(result.sketch), 'geschetst vlak', 'geschetste vlakken')} "
        f"({md_escape(sketched_sectors)}), {hectares(result.sketch.area.sum() / HECTARE)}; "
        f"doorgerekend in {result.seconds:.1f} s.",
        "",
        "## Nieuwe schuurpunten",
        "",
    ]
    if result.new_schuurpunten.empty:
        lines.append("Geen: de schets botst met geen enkel paar uit de conflictmatrix.")
    sketched = set(result.sketch["feature_id"])
    for row in result.pair_change.itertuples():
        zones = result.new_schuurpunten[result.new_schuurpunten["conflict"] == row.conflict]
        rows = result.herkomst[result.herkomst[ZONE_ID].isin(set(zones[SCHUURPUNT.id_column]))]
        lines.append(
            f"- {md_escape(labels.pairs(row.conflict))}: +{row.verschil_ha:.2f} ha in "
            f"{counted(len(zones), 'schuurpunt', 'schuurpunten')} (van {row.ha_zonder:.2f} naar "
            f"{row.ha_met:.2f} ha in de omgeving van de schets)"
        )
        if len(rows):
            mine = rows["feature_id"].isin(sketched)
            lines.append(f"  - schets: {md_escape(_features(rows[mine]))}")
            for sector, side in rows[~mine].groupby("sector", sort=True):
                lines.append(
                    f"  - bestaand ({md_escape(labels.label(sector))}): {md_escape(_features(side))}"
                )
    lines += ["", "## Stapeling onder de schets", ""]
    lines += [
        f"- {md_escape(labels.sectors(row.sectoren))}: {row.ha:.2f} ha"
        for row in result.stapeling_under_sketch.itertuples()
    ]
    lines += ["", "## Gevolgen voor spanningsgebieden", ""]
    lines += [f"- nieuw spanningsgebied: {md_escape(item)}" for item in result.new_areas]
    lines += [f"- {md_escape(item)}" for item in result.flips]
    if not result.new_areas and not result.flips:
        lines.append("Geen criterium verandert van uitkomst.")
    return "\n".join(lines) + "\n"
