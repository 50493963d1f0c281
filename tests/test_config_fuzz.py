"""Fuzz tests: any project file ends in a validated project or one ConfigError, nothing else."""

import contextlib
import datetime as dt
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novex_geo.config import load_project, parse_project
from novex_geo.config.pairs import CONFLICTS_KEYS, KANS_PAIR_KEYS, KANSEN_KEYS, PAIR_KEYS
from novex_geo.config.parse import PROJECT_KEYS, RASTER_KEYS, SECTOR_KEYS, SOURCE_KEYS, TOP_KEYS, TRIAGE_KEYS
from novex_geo.config.validate import REGIONS_KEYS
from novex_geo.errors import NovexError

KNOWN = sorted(
    TOP_KEYS
    | PROJECT_KEYS
    | REGIONS_KEYS
    | SECTOR_KEYS
    | SOURCE_KEYS
    | RASTER_KEYS
    | CONFLICTS_KEYS
    | PAIR_KEYS
    | KANSEN_KEYS
    | KANS_PAIR_KEYS
    | TRIAGE_KEYS
    | {"woningbouw", "defensie", "water_bodem", "Bad Key", ""}
)
keys = st.one_of(st.sampled_from(KNOWN), st.text(string.printable, max_size=8))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        [
            "EPSG:28992",
            "EPSG:4326",
            "epsg:999999",
            ">= 0.3",
            "<> 1",
            "#e31a1c",
            "notacolour",
            "a.gpkg",
            "../x",
            "~/y",
            "woningbouw",
            "defensie",
        ]
    ),
    st.just(dt.date(2026, 11, 26)),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)
documents = st.dictionaries(keys, values, max_size=6)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_is_a_project_or_a_config_error(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    with contextlib.suppress(NovexError):
        parse_project(data, folder / "novex.toml")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_file_is_a_project_or_a_config_error(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "novex.toml"
    path.write_bytes(raw)
    with contextlib.suppress(NovexError):
        load_project(path)


def maybe(valid):
    """The valid value most of the time, anything otherwise."""
    return st.one_of(st.just(valid), st.just(valid), values)


@st.composite
def near_projects(draw):
    """Project files that are valid except where hypothesis puts a wrong value."""
    source = st.fixed_dictionaries(
        {"path": maybe("a.gpkg")},
        optional={
            "buffer": maybe(50.0),
            "layer": maybe("l"),
            "where": maybe("naam = 'x'"),
            "label_field": maybe("naam"),
            "crs": maybe("EPSG:28992"),
            "name": maybe("bron"),
            "attribution": maybe("© x"),
            "raster": maybe({"band": 1, "where": ">= 30"}),
        },
    )
    sector = st.fixed_dictionaries(
        {"sources": maybe([draw(source)])}, optional={"label": maybe("Wonen"), "colour": maybe("#e31a1c")}
    )
    pair = st.fixed_dictionaries(
        {"sectors": maybe(["woningbouw", "defensie"])},
        optional={"distance": maybe(100.0), "weight": maybe(2.0)},
    )
    kans = st.fixed_dictionaries(
        {"sectors": maybe(["defensie", "woningbouw"]), "toelichting": maybe("dubbel ruimtegebruik")},
        optional={"distance": maybe(50.0), "weight": maybe(1.5), "also_conflict": maybe(True)},
    )
    return {
        "project": draw(
            st.fixed_dictionaries(
                {"regions": maybe({"path": "p.gpkg", "name_field": "naam"})},
                optional={
                    "name": maybe("x"),
                    "crs": maybe("EPSG:28992"),
                    "output": maybe("uit"),
                    "tile_size": maybe(5000.0),
                    "workers": maybe(0),
                    "provincies": maybe(["Utrecht"]),
                    "demo": maybe(False),
                },
            )
        ),
        "sectors": draw(maybe({"woningbouw": draw(sector), "defensie": draw(sector)})),
        "conflicts": draw(
            st.fixed_dictionaries({"pairs": maybe([draw(pair)])}, optional={"min_area_m2": maybe(1.0)})
        ),
        "kansen": draw(
            st.fixed_dictionaries({"pairs": maybe([draw(kans)])}, optional={"min_area_m2": maybe(1.0)})
        ),
        "triage": draw(
            st.fixed_dictionaries(
                {},
                optional={
                    k: maybe(v)
                    for k, v in {
                        "merge_distance": 250.0,
                        "min_stapeling": 3,
                        "min_area_ha": 5.0,
                        "annotations": "a.csv",
                        "priority": [{"path": "p.gpkg"}],
                        "gemeenten": {"path": "g.gpkg"},
                        "kans_weight": 0.5,
                        "novex_gebieden": {"path": "n.gpkg", "name_field": "naam"},
                    }.items()
                },
            )
        ),
    }


@pytest.mark.slow
@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_projects())
def test_nearly_valid_projects_are_a_project_or_a_config_error(tmp_path_factory, data):
    with contextlib.suppress(NovexError):
        parse_project(data, tmp_path_factory.mktemp("fuzz") / "novex.toml")
