"""The robust triage: the rank of every area under other reasonable weights and thresholds."""

from __future__ import annotations

import shapely
from click.testing import CliRunner

from novex_geo.cli.main import cli
from novex_geo.config import ConflictPair, Triage
from novex_geo.overlay import overlay
from novex_geo.triage import evaluate_criteria, spanningsgebieden

from .conftest import sectors_toml, write_layer, write_project
from .support.helpers import claims_frame, regions_frame

REGION = regions_frame({"Utrecht": shapely.box(0, 0, 20_000, 20_000)})
PAIRS = [ConflictPair("woningbouw", "water", weight=10.0), ConflictPair("woningbouw", "defensie")]


def ranked(settings: Triage):
    """Four areas 2 km apart: C (50 ha of the heavy pair) first whatever the weights; A (1 ha of
    the heavy pair, weight 10) and B (8 ha of the light pair) close behind each other; D (0.1 ha
    of the light pair) last."""
    homes = [
        shapely.box(2_000, 2_000, 2_100, 2_100),
        shapely.box(6_000, 2_000, 6_400, 2_200),
        shapely.box(10_000, 2_000, 11_000, 2_500),
        shapely.box(14_000, 2_000, 14_100, 2_010),
    ]
    claims = {
        "woningbouw": claims_frame("woningbouw", homes, ["A", "B", "C", "D"]),
        "water": claims_frame("water", [homes[0], homes[2]], ["plas A", "plas C"]),
        "defensie": claims_frame("defensie", [homes[1], homes[3]], ["terrein B", "terrein D"]),
    }
    result = overlay(REGION, claims, PAIRS, workers=1)
    areas, pairs = spanningsgebieden(result.stapeling, result.schuurpunten, result.herkomst, PAIRS, settings)
    areas = evaluate_criteria(areas, pairs, settings)
    return areas.assign(plan=areas["naam"].str.extract(r"\b([ABCD])\b", expand=False)).set_index("plan")


def test_without_perturbation_every_rank_stays_what_it_is():
    still = Triage(criteria_bonus=0.0, robust_weight_range=(1.0, 1.0), robust_threshold_share=0.0)
    areas = ranked(still)
    assert areas["rang"].to_dict() == {"C": 1, "A": 2, "B": 3, "D": 4}
    assert (areas["rang_min"] == areas["rang"]).all() and (areas["rang_max"] == areas["rang"]).all()
    assert set(areas["robuustheid"]) == {"robuust"}


def test_an_area_that_wins_on_one_heavy_weight_only_depends_on_the_weighting():
    areas = ranked(Triage(criteria_bonus=0.0, robust_top=2))
    assert areas["rang"].to_dict() == {"C": 1, "A": 2, "B": 3, "D": 4}  # A: 1 ha × 10 beats B: 8 ha × 1
    assert areas.loc["C", ["rang_min", "rang_max", "kans_top"]].tolist() == [1, 1, 1.0]
    assert areas.loc["C", "robuustheid"] == "robuust"
    assert areas.loc["A", "robuustheid"] == "afhankelijk van weging"
    assert (areas.loc["A", "rang_min"], areas.loc["A", "rang_max"]) == (2, 3)
    assert 0.1 < areas.loc["A", "kans_top"] < 0.9
    assert areas.loc["A", "gevoelig_voor"] in ("gewicht woningbouw×water", "gewicht woningbouw×defensie")
    assert areas.loc["D", ["rang_min", "rang_max", "robuustheid"]].tolist() == [4, 4, "robuust"]


def test_the_draws_are_fixed_by_a_seed():
    first, again = ranked(Triage(robust_top=2)), ranked(Triage(robust_top=2))
    columns = ["rang_min", "rang_max", "kans_top", "robuustheid", "gevoelig_voor"]
    assert first[columns].equals(again[columns])


def test_bad_perturbation_settings_are_one_clear_error(tmp_path):
    for setting, said in [
        (
            "robust_weight_range = [2, 0.5]",
            "triage.robust_weight_range: must be [low, high] with 0 < low <= 1",
        ),
        ("robust_weight_range = [0.5]", "triage.robust_weight_range: must be [low, high]"),
        ("robust_threshold_share = 1.5", "triage.robust_threshold_share: must be below 1"),
        ("robust_draws = -1", "triage.robust_draws"),
        ("robust_top = 0", "triage.robust_top"),
    ]:
        write_layer(tmp_path / "wonen.gpkg", [shapely.box(0, 0, 100, 100)], naam=["Wijk"])
        project = write_project(tmp_path, sectors_toml(woningbouw="wonen.gpkg") + f"[triage]\n{setting}\n")
        result = CliRunner().invoke(cli, ["check", str(project)])
        assert result.exit_code != 0 and said in result.output, (setting, result.output)
        assert "Traceback" not in result.output
