"""Known-answer, provenance and tile-independence tests of the overlay engine (schuurpunten and
kansen)."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.errors import GEOSException

from novex_geo.config import KANS, ZONE_ID, ConflictPair, KansPair
from novex_geo.overlay import overlay, summarise
from novex_geo.overlay import tile as tile_module

from .conftest import PROVINCES
from .support.helpers import (
    assert_invariants,
    assert_matches_reference,
    assert_provenance,
    claims_frame,
    regions_frame,
    shared_edges_of_equal_faces,
)

ONE_REGION = regions_frame({"Utrecht": shapely.box(0, 0, 10_000, 10_000)})


def test_three_sectors_known_faces():
    claims = {
        # two overlapping features of one sector count once
        "a": claims_frame("a", [shapely.box(0, 0, 200, 200), shapely.box(100, 0, 300, 200)]),
        "b": claims_frame("b", [shapely.box(200, 0, 400, 200)]),
        "c": claims_frame("c", [shapely.box(250, 100, 350, 300)]),
    }
    result = overlay(ONE_REGION, claims, tile_size=10_000, workers=1)
    faces = result.stapeling
    got = sorted(zip(faces["sectoren"], faces["n_sectoren"], faces["oppervlakte_m2"].round(6), strict=True))
    assert got == [
        ("a", 1, 40_000.0),
        ("a+b", 2, 15_000.0),
        ("a+b+c", 3, 5_000.0),
        ("b", 1, 15_000.0),
        ("b+c", 2, 5_000.0),
        ("c", 1, 10_000.0),
    ]
    assert (faces.geom_type == "Polygon").all()
    assert faces["vlak_id"].is_unique
    assert faces.loc[faces["sectoren"] == "a+b+c", ["a", "b", "c"]].values.tolist() == [[1, 1, 1]]
    summary = summarise(result).set_index("provincie")
    assert summary.loc["Utrecht", "geclaimd_ha"] == pytest.approx(9.0)
    assert summary.loc["Utrecht", "stapeling_2_ha"] == pytest.approx(2.0)
    assert summary.loc["Utrecht", "stapeling_3_ha"] == pytest.approx(0.5)
    assert summary.loc["Utrecht", "stapeling_3_pct"] == pytest.approx(0.5 / 10_000 * 100)


def test_claims_outside_every_provincie_sum_to_zero_claimed_not_nan():
    claims = {"a": claims_frame("a", [shapely.box(20_000, 0, 20_100, 100)])}
    summary = summarise(overlay(ONE_REGION, claims, tile_size=10_000, workers=1)).set_index("provincie")
    assert summary["geclaimd_ha"].tolist() == [0.0, 0.0] and summary.loc["Totaal", "geclaimd_pct"] == 0.0


def test_overlap_schuurpunt_with_provenance():
    claims = {
        "woningbouw": claims_frame(
            "woningbouw",
            [shapely.box(0, 0, 200, 200), shapely.box(100, 0, 300, 200)],
            ["Wijk A", "Wijk B"],
        ),
        "water_bodem": claims_frame(
            "water_bodem", [shapely.box(250, 0, 400, 200), shapely.box(5_000, 5_000, 5_100, 5_100)]
        ),
    }
    result = overlay(ONE_REGION, claims, [ConflictPair("woningbouw", "water_bodem")], workers=1)
    (zone,) = result.schuurpunten.itertuples()
    assert zone.oppervlakte_m2 == pytest.approx(50 * 200)
    assert zone.feature_ids_a == "woningbouw/1"
    assert zone.labels_a == "Wijk B"
    assert zone.feature_ids_b == "water_bodem/0"
    assert zone.conflict == "woningbouw×water_bodem"
    assert set(result.herkomst["kant"]) == {"a", "b"}


@pytest.mark.parametrize(("distance", "expected"), [(500, 400_000.0), (200, None)])
def test_distance_conflict_between_squares_300m_apart(distance, expected):
    claims = {
        "woningbouw": claims_frame("woningbouw", [shapely.box(1_000, 1_000, 2_000, 2_000)]),
        "defensie": claims_frame("defensie", [shapely.box(2_300, 1_000, 3_300, 2_000)]),
    }
    result = overlay(ONE_REGION, claims, [ConflictPair("woningbouw", "defensie", distance)], workers=1)
    zones = result.schuurpunten
    if expected is None:
        assert zones.empty
        return
    # the 200 m strip of each square that lies within 500 m of the other
    assert zones["oppervlakte_m2"].sum() == pytest.approx(expected, rel=1e-9)
    assert sorted(zones["oppervlakte_m2"].round(3)) == [200_000.0, 200_000.0]
    assert (zones["feature_ids_a"] == "woningbouw/0").all()
    assert (zones["feature_ids_b"] == "defensie/0").all()
    assert (zones["afstand_m"] == distance).all()


def test_overlap_kans_with_provenance():
    claims = {
        "water_bodem": claims_frame(
            "water_bodem",
            [shapely.box(0, 0, 300, 200), shapely.box(5_000, 5_000, 5_100, 5_100)],
            ["Boezem", "Plas"],
        ),
        "natuur": claims_frame(
            "natuur", [shapely.box(250, 0, 600, 200), shapely.box(280, 150, 400, 400)], ["Heide", "Ven"]
        ),
    }
    kans = KansPair("water_bodem", "natuur", toelichting="waterberging in natuur", weight=2)
    result = overlay(ONE_REGION, claims, kansen=[kans], workers=1)
    assert result.schuurpunten.empty
    (zone,) = result.kansen.itertuples()
    # Boezem ∩ (Heide ∪ Ven): the 50 m x 200 m strip; Ven overlaps Boezem too (inside the strip)
    assert zone.oppervlakte_m2 == pytest.approx(50 * 200)
    assert (zone.kans_id, zone.kans) == ("kans/water_bodem×natuur/Utrecht/0001", "water_bodem×natuur")
    assert (zone.toelichting, zone.gewicht, zone.afstand_m) == ("waterberging in natuur", 2.0, 0.0)
    assert (zone.feature_ids_a, zone.labels_a) == ("water_bodem/0", "Boezem")
    assert (zone.feature_ids_b, zone.labels_b) == ("natuur/0; natuur/1", "Heide; Ven")
    herkomst = result.herkomst
    assert set(herkomst["soort"]) == {"kans"} and set(herkomst[ZONE_ID]) == {zone.kans_id}
    assert sorted(zip(herkomst["kant"], herkomst["feature_id"], strict=True)) == [
        ("a", "water_bodem/0"),
        ("b", "natuur/0"),
        ("b", "natuur/1"),
    ]
    assert_provenance(result, claims, KANS)
    summary = summarise(result).set_index("provincie")
    assert summary.loc["Utrecht", "n_kansen"] == 1 and summary.loc["Utrecht", "n_schuurpunten"] == 0
    assert summary.loc["Utrecht", "kans_water_bodem×natuur_ha"] == pytest.approx(1.0)
    assert summary.loc["Utrecht", "kans_water_bodem×natuur_n"] == 1


@pytest.mark.parametrize(("distance", "expected"), [(500, [200_000.0, 200_000.0]), (200, [])])
def test_distance_kans_between_squares_300m_apart(distance, expected):
    claims = {
        "energie": claims_frame("energie", [shapely.box(1_000, 1_000, 2_000, 2_000)], ["Station"]),
        "landbouw": claims_frame("landbouw", [shapely.box(2_300, 1_000, 3_300, 2_000)], ["Akker"]),
    }
    kans = KansPair("energie", "landbouw", distance, toelichting="restwarmte voor kassen")
    result = overlay(ONE_REGION, claims, kansen=[kans], workers=1)
    kansen = result.kansen
    # the 200 m strip of each square that lies within 500 m of the other
    assert sorted(kansen["oppervlakte_m2"].round(3)) == expected
    assert (kansen["feature_ids_a"] == "energie/0").all() and (kansen["feature_ids_b"] == "landbouw/0").all()
    assert (kansen["afstand_m"] == distance).all()
    assert_provenance(result, claims, KANS)


def test_a_pair_that_is_conflict_and_kans_gives_both_from_the_same_engine():
    homes = [shapely.box(1_000, 1_000, 2_000, 2_000), shapely.box(4_000, 0, 4_500, 500)]
    water = [shapely.box(1_500, 1_500, 3_000, 2_500), shapely.box(4_700, 0, 5_000, 500)]
    claims = {
        "woningbouw": claims_frame("woningbouw", homes),
        "water_bodem": claims_frame("water_bodem", water),
    }
    conflict = ConflictPair("woningbouw", "water_bodem", 300, weight=3)
    kans = KansPair(
        "woningbouw", "water_bodem", 300, toelichting="klimaatadaptief bouwen", also_conflict=True
    )
    alone = overlay(ONE_REGION, claims, [conflict], workers=1, tile_size=2_500)
    both = overlay(ONE_REGION, claims, [conflict], workers=1, tile_size=2_500, kansen=[kans])
    # the schuurpunten do not change when a kans joins the engine, and the kansen are the same zones
    assert both.schuurpunten.drop(columns="geometry").equals(alone.schuurpunten.drop(columns="geometry"))
    zones, kansen = both.schuurpunten, both.kansen
    assert len(zones) == len(kansen) == 3  # the overlap with its 300 m strips, and the two strips 200 m apart
    assert kansen["oppervlakte_m2"].tolist() == pytest.approx(zones["oppervlakte_m2"].tolist(), rel=1e-12)
    assert shapely.equals(kansen.geometry.values, zones.geometry.values).all()
    assert kansen["feature_ids_a"].tolist() == zones["feature_ids_a"].tolist()
    assert (kansen["kans_id"] == "kans/" + zones["schuurpunt_id"]).all()
    assert (zones["gewicht"] == 3).all() and (kansen["gewicht"] == 1).all()
    rows = both.herkomst.groupby("soort").size().to_dict()
    assert rows == {"kans": 6, "schuurpunt": 6}  # each zone: one house and one water feature
    assert both.herkomst[ZONE_ID].str.startswith("kans/").tolist() == [False] * 6 + [True] * 6
    summary = summarise(both).set_index("provincie")
    assert (
        summary.loc["Totaal", "woningbouw×water_bodem_ha"]
        == summary.loc["Totaal", "kans_woningbouw×water_bodem_ha"]
    )


def test_kansen_have_their_own_minimum_area():
    claims = {
        "a": claims_frame("a", [shapely.box(0, 0, 100, 100), shapely.box(500, 0, 600, 100)]),
        "b": claims_frame("b", [shapely.box(99, 0, 200, 100), shapely.box(550, 0, 650, 100)]),
    }
    kans = KansPair("b", "a", toelichting="x")
    result = overlay(
        ONE_REGION,
        claims,
        [ConflictPair("a", "b")],
        min_area_m2=0,
        workers=1,
        kansen=[kans],
        kansen_min_area_m2=1_000,
    )
    assert len(result.schuurpunten) == 2 and len(result.kansen) == 1
    count, area = result.dropped["kans"]
    assert count == 1 and area == pytest.approx(100) and result.dropped["schuurpunt"] == (0, 0.0)
    assert set(result.herkomst.loc[result.herkomst["soort"] == "kans", ZONE_ID]) == {
        result.kansen["kans_id"].iloc[0]
    }


def test_faces_and_schuurpunten_merge_across_tiles_but_not_borders():
    regions = regions_frame(
        {"West": shapely.box(0, 0, 10_000, 10_000), "Oost": shapely.box(10_000, 0, 20_000, 10_000)}
    )
    claims = {
        "landbouw": claims_frame(
            "landbouw",
            [shapely.box(4_000, 0, 6_000, 1_000), shapely.box(9_000, 2_000, 11_000, 3_000)],
        ),
        "woningbouw": claims_frame(
            "woningbouw",
            [shapely.box(4_500, 0, 5_500, 500), shapely.box(9_500, 2_000, 10_500, 2_500)],
        ),
    }
    result = overlay(regions, claims, [ConflictPair("woningbouw", "landbouw")], tile_size=5_000, workers=1)
    faces = result.stapeling
    assert "tegel" not in faces.columns
    both = faces[faces["n_sectoren"] == 2].set_index("provincie")
    # the overlap across the tile line x = 5 km is one face; the one across the border two
    assert len(both) == 3
    assert both.loc["West", "oppervlakte_m2"].sort_values().tolist() == pytest.approx([250_000, 500_000])
    assert both.loc["Oost", "oppervlakte_m2"] == pytest.approx(250_000)
    # the landbouw-only face around the tile line x = 5 km is one face with a notch
    west_landbouw = faces[(faces["provincie"] == "West") & (faces["sectoren"] == "landbouw")]
    assert sorted(west_landbouw["oppervlakte_m2"].round(3)) == [750_000.0, 1_500_000.0]
    assert shared_edges_of_equal_faces(faces) == []
    zones = result.schuurpunten.set_index("provincie")
    assert len(result.schuurpunten) == 3
    assert zones.loc["West"]["oppervlakte_m2"].sort_values().tolist() == pytest.approx([250_000, 500_000])
    assert zones.loc["Oost", "oppervlakte_m2"] == pytest.approx(250_000)


def test_distance_crosses_provincial_border():
    regions = regions_frame(
        {"West": shapely.box(0, 0, 10_000, 10_000), "Oost": shapely.box(10_000, 0, 20_000, 10_000)}
    )
    claims = {
        "woningbouw": claims_frame("woningbouw", [shapely.box(9_000, 0, 9_900, 1_000)]),
        "defensie": claims_frame("defensie", [shapely.box(10_100, 0, 12_000, 1_000)]),
    }
    result = overlay(regions, claims, [ConflictPair("woningbouw", "defensie", 1_000)], workers=1)
    zones = result.schuurpunten.set_index("provincie")
    assert zones.loc["West", "oppervlakte_m2"] == pytest.approx(800 * 1_000)
    assert zones.loc["Oost", "oppervlakte_m2"] == pytest.approx(800 * 1_000)
    assert zones.loc["West", "feature_ids_b"] == "defensie/0"


def test_min_area_drops_and_counts_slivers():
    claims = {
        "a": claims_frame("a", [shapely.box(0, 0, 100, 100), shapely.box(500, 0, 600, 100)]),
        "b": claims_frame("b", [shapely.box(99, 0, 200, 100), shapely.box(550, 0, 650, 100)]),
    }
    result = overlay(ONE_REGION, claims, [ConflictPair("a", "b")], min_area_m2=1_000, workers=1)
    assert len(result.schuurpunten) == 1
    count, area = result.dropped["schuurpunt"]
    assert count == 1 and area == pytest.approx(100)


def test_topology_exception_retries_on_precision_grid(monkeypatch):
    real_run = tile_module._run

    def flaky(task, grid):
        if grid is None:
            raise GEOSException("TopologyException: side location conflict at 1 2")
        return real_run(task, grid)

    monkeypatch.setattr(tile_module, "_run", flaky)
    claims = {
        "a": claims_frame("a", [shapely.box(0, 0, 200, 200)]),
        "b": claims_frame("b", [shapely.box(100, 0, 300, 200)]),
    }
    result = overlay(ONE_REGION, claims, [ConflictPair("a", "b")], workers=1)
    assert len(result.precision_retries) == 1
    assert "TopologyException" in result.precision_retries[0]
    assert result.schuurpunten["oppervlakte_m2"].sum() == pytest.approx(20_000)


def test_conflict_with_unknown_sector_is_an_error():
    with pytest.raises(Exception, match="without claims: x"):
        overlay(
            ONE_REGION,
            {"a": claims_frame("a", [shapely.box(0, 0, 1, 1)])},
            [ConflictPair("a", "x")],
        )
    with pytest.raises(Exception, match="without claims: y"):
        overlay(ONE_REGION, {"a": claims_frame("a", [shapely.box(0, 0, 1, 1)])}, kansen=[KansPair("y", "a")])


# ------------------------------------------------------------------ the polygons on a lattice
#
# Habitat maps, raster traces and cadastral data have edges on a regular grid, so they lie
# exactly on tile lines; in tiles the provincial border crosses, clipping then returns
# polygons together with lines. These inputs once lost 3.3 % of the claimed area.

CELL = 250.0


def lattice_claims(seed: int, n_sectors: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    claims = {}
    for key in "abcd"[:n_sectors]:
        geoms = []
        for _ in range(6):
            cells = []
            ox, oy = rng.integers(0, 60, 2)
            for _ in range(40):
                i, j = rng.integers(0, 24, 2)
                w, h = rng.integers(1, 6, 2)
                cells.append(
                    shapely.box((ox + i) * CELL, (oy + j) * CELL, (ox + i + w) * CELL, (oy + j + h) * CELL)
                )
            geoms.extend(shapely.get_parts(shapely.union_all(cells)))
        claims[key] = claims_frame(key, geoms)
    return claims


DIAGONAL = regions_frame(
    {
        "West": shapely.Polygon([(0, 0), (12_500, 0), (7_500, 25_000), (0, 25_000)]),
        "Oost": shapely.Polygon([(12_500, 0), (25_000, 0), (25_000, 25_000), (7_500, 25_000)]),
    }
)


@pytest.mark.parametrize("tile_size", [10_000, 7_000, 2_500])
@pytest.mark.parametrize("seed", [1, 26, 28])
def test_lattice_polygons_with_diagonal_border_match_the_reference(seed, tile_size):
    claims = lattice_claims(seed)
    result = overlay(DIAGONAL, claims, tile_size=tile_size, workers=1)
    assert_matches_reference(result, DIAGONAL, claims, rel=1e-9)
    assert shared_edges_of_equal_faces(result.stapeling) == []
    assert result.precision_retries == []
    controle = result.controle
    assert set(controle["sector"]) == {"a", "b", "c", "alle sectoren"}
    assert controle["verschil_relatief"].max() < 1e-9


def test_faces_do_not_depend_on_the_tile_size():
    claims = lattice_claims(5)
    results = [overlay(DIAGONAL, claims, tile_size=size, workers=1).stapeling for size in (10_000, 2_500)]
    coarse, fine = (frame.sort_values("vlak_id").reset_index(drop=True) for frame in results)
    assert coarse["vlak_id"].tolist() == fine["vlak_id"].tolist()
    assert coarse["sectoren"].tolist() == fine["sectoren"].tolist()
    assert np.allclose(coarse["oppervlakte_m2"], fine["oppervlakte_m2"], rtol=1e-9)


def test_crowded_tiles_worked_out_in_quarters_change_nothing(monkeypatch, caplog):
    from novex_geo.overlay import engine, tasks

    claims = lattice_claims(5)
    # c with rounded, slightly uneven outlines: how a buffer approximates them depends on where
    # a tile cut them, so zones at a distance buffered in quarters would differ in the last bits
    rng = np.random.default_rng(4)
    turn = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    blobs = []
    for x, y, radius in zip(*rng.uniform(0, 25_000, (2, 60)), rng.uniform(100, 600, 60), strict=True):
        uneven = radius * (1 + 0.01 * rng.normal(size=turn.size))
        blobs.append(shapely.Polygon(np.c_[x + uneven * np.cos(turn), y + uneven * np.sin(turn)]))
    claims["c"] = claims_frame("c", blobs)
    pairs = [ConflictPair("a", "b"), ConflictPair("b", "c", 300), ConflictPair("a", "c", 750)]
    whole = overlay(DIAGONAL, claims, pairs, tile_size=10_000, workers=1)
    for module in (tasks, engine):
        monkeypatch.setattr(module, "CROWDED_TILE_FEATURES", 10)
    with caplog.at_level("INFO", logger="novex_geo.overlay.engine"):
        split = overlay(DIAGONAL, claims, pairs, tile_size=10_000, workers=1)
    assert (
        "8 of 13 tiles hold more than 10 features: their faces are worked out in 25 quarters" in caplog.text
    )
    assert split.n_tasks > whole.n_tasks
    for layer, key in (("stapeling", "vlak_id"), ("schuurpunten", "schuurpunt_id")):
        before, after = (getattr(r, layer).sort_values(key).reset_index(drop=True) for r in (whole, split))
        assert len(before) > 20
        assert before[key].tolist() == after[key].tolist()
        np.testing.assert_allclose(before["oppervlakte_m2"], after["oppervlakte_m2"], rtol=1e-9)
    # the zones at a distance come from the same claims, whole: the same to the last bit
    at_distance = whole.schuurpunten["afstand_m"] > 0
    assert at_distance.sum() > 5
    assert (
        whole.schuurpunten[at_distance]["oppervlakte_m2"].tolist()
        == (
            split.schuurpunten.set_index("schuurpunt_id").loc[
                whole.schuurpunten[at_distance]["schuurpunt_id"], "oppervlakte_m2"
            ]
        ).tolist()
    )
    assert whole.herkomst.equals(split.herkomst)
    np.testing.assert_allclose(split.controle["verschil_relatief"], 0, atol=1e-9)


# ------------------------------------------------------------------ the self-audit


def test_audit_redoes_a_tile_whose_faces_lose_area(monkeypatch):
    real_faces = tile_module._faces
    calls = []

    def lossy(*args):
        faces, masks = real_faces(*args)
        grid = args[-1]
        calls.append(grid)
        if grid is None and len(faces) > 1:  # a face goes missing, as when edges were dropped
            return faces[1:], masks[1:]
        return faces, masks

    monkeypatch.setattr(tile_module, "_faces", lossy)
    claims = lattice_claims(3)
    result = overlay(DIAGONAL, claims, tile_size=10_000, workers=1)
    assert any(grid is not None for grid in calls)
    assert result.precision_retries and "audit" in result.precision_retries[0]
    assert_matches_reference(result, DIAGONAL, claims, rel=1e-6, abs_m2=1.0)


def test_audit_stops_the_run_when_the_redo_is_wrong_too(monkeypatch):
    from novex_geo.errors import AuditError

    real_faces = tile_module._faces

    def always_lossy(*args):
        faces, masks = real_faces(*args)
        return faces[1:], masks[1:]

    monkeypatch.setattr(tile_module, "_faces", always_lossy)
    with pytest.raises(
        AuditError, match=r"(West|Oost) tile \d+_\d+ .*sector .*also on the 0.001 m precision grid"
    ):
        overlay(DIAGONAL, lattice_claims(3), tile_size=10_000, workers=1)


def test_audit_after_merging_names_provincie_and_sector():
    from novex_geo.errors import AuditError
    from novex_geo.overlay.audit import check_controle, controle_table

    faces = gpd.GeoDataFrame(
        {"provincie": ["West"], "a": [1], "b": [0], "oppervlakte_m2": [90.0]},
        geometry=[shapely.box(0, 0, 9, 10)],
    )
    expected = gpd.pd.DataFrame(
        {"provincie": ["West", "West"], "sector": ["a", "alle sectoren"], "m2": [100.0] * 2}
    )
    table = controle_table(expected, faces, ["West"], ["a", "b"])
    row = table[(table["provincie"] == "West") & (table["sector"] == "a")].iloc[0]
    assert (row["verwacht_m2"], row["vlakken_m2"], row["verschil_m2"]) == (100.0, 90.0, -10.0)
    assert row["verschil_relatief"] == pytest.approx(0.1)
    with pytest.raises(AuditError, match=r"West, sector a: faces 90\.0 m², claims 100\.0 m²"):
        check_controle(table)


# ------------------------------------------------------------------ real boundaries


@pytest.mark.parametrize("profile", ["easy", pytest.param("dense", marks=pytest.mark.slow)])
def test_invariants_and_provenance_on_synthetic_set(profile):
    from novex_geo.synthetic import national_claims

    provinces = gpd.read_file(PROVINCES).rename(columns={"naam": "provincie"})
    regions = provinces[provinces["provincie"].isin(["Utrecht", "Flevoland"])][["provincie", "geometry"]]
    layers = national_claims(regions, scale=0.04, seed=7, profile=profile)
    energie = np.concatenate(
        [
            shapely.buffer(layers["hoogspanning"].geometry.values, 75),
            shapely.buffer(layers["stations"].geometry.values, 150),
        ]
    )
    claims = {
        "landbouw": claims_frame("landbouw", layers["landbouw"].geometry.values),
        "woningbouw": claims_frame("woningbouw", layers["woningbouw"].geometry.values),
        "water_bodem": claims_frame("water_bodem", layers["water_bodem"].geometry.values),
        "energie": claims_frame("energie", energie),
        "defensie": claims_frame("defensie", layers["defensie"].geometry.values),
    }
    assert len(claims["landbouw"]) > 5_000
    pairs = [
        ConflictPair("woningbouw", "defensie", 1_000),
        ConflictPair("woningbouw", "water_bodem"),
        ConflictPair("woningbouw", "energie", 100),
        ConflictPair("water_bodem", "landbouw"),
    ]
    kansen = [KansPair("energie", "water_bodem", 300, toelichting="energie-opslag bij waterberging")]
    result = overlay(regions, claims, pairs, tile_size=5_000, workers=2, kansen=kansen)
    assert_invariants(result, regions, claims)
    assert shared_edges_of_equal_faces(result.stapeling) == []
    assert len(result.schuurpunten) > 20, len(result.schuurpunten)
    assert set(result.schuurpunten["conflict"]) >= {"woningbouw×water_bodem", "water_bodem×landbouw"}
    assert_provenance(result, claims)
    assert len(result.kansen) > 5, len(result.kansen)
    assert_provenance(result, claims, KANS)
    assert result.controle["verschil_relatief"].max() < 1e-6
    # the same tasks give the same answer in one process
    serial = overlay(regions, claims, pairs, tile_size=5_000, workers=1, kansen=kansen)
    assert serial.stapeling["vlak_id"].tolist() == result.stapeling["vlak_id"].tolist()
    assert serial.schuurpunten["schuurpunt_id"].tolist() == result.schuurpunten["schuurpunt_id"].tolist()
    assert serial.kansen["kans_id"].tolist() == result.kansen["kans_id"].tolist()


@pytest.mark.parametrize("tile_size", [10_000, 2_500])
def test_raster_claim_with_cell_edges_on_tile_lines(tmp_path, tile_size):
    from rasterio.transform import from_origin

    from novex_geo.config import RasterRule, Source
    from novex_geo.io.layers import read_source
    from novex_geo.io.raster import write_geotiff

    rng = np.random.default_rng(4)
    # a blotchy 0/1 field of 250 m cells over 25 km: every tile line is a cell edge
    values = (rng.random((100, 100)) < 0.3).astype("float64")
    values[40:60, 30:70] = 1.0
    path = write_geotiff(tmp_path / "bodemdaling.tif", values, from_origin(0, 25_000, CELL, CELL))
    frame, _ = read_source(Source(path, raster=RasterRule(op="==", value=1)), "water_bodem", "EPSG:28992")
    rows, cols = np.nonzero(values == 1)
    cells = shapely.box(cols * CELL, 25_000 - (rows + 1) * CELL, (cols + 1) * CELL, 25_000 - rows * CELL)
    claims = {
        "water_bodem": claims_frame("water_bodem", frame.geometry.values),
        "woningbouw": lattice_claims(9, n_sectors=1)["a"],
    }
    result = overlay(
        DIAGONAL, claims, [ConflictPair("woningbouw", "water_bodem")], tile_size=tile_size, workers=1
    )
    assert_matches_reference(result, DIAGONAL, claims, rel=1e-9)
    faces = result.stapeling
    for provincie, region in zip(DIAGONAL["provincie"], DIAGONAL.geometry.values, strict=True):
        expected = shapely.intersection(shapely.union_all(cells), region).area
        got = faces.loc[
            (faces["provincie"] == provincie) & (faces["water_bodem"] == 1), "oppervlakte_m2"
        ].sum()
        assert got == pytest.approx(expected, rel=1e-9)
    assert shared_edges_of_equal_faces(faces) == []
