from pathlib import Path

import pytest

from novex_geo.config import load_project, parse_project
from novex_geo.errors import ConfigError
from novex_geo.templates import write_template

from .conftest import write_project

SECTORS = """
[sectors.woningbouw]
label = "Woningbouw"
colour = "red"
[[sectors.woningbouw.sources]]
path = "data/wonen.gpkg"
layer = "plannen"
label_field = "naam"
[sectors.energie]
[[sectors.energie.sources]]
path = "/abs/lijnen.gpkg"
buffer = 50
"""


def test_valid_project_is_typed_and_paths_resolve(tmp_path):
    project = load_project(
        write_project(
            tmp_path,
            SECTORS + '[[conflicts.pairs]]\nsectors = ["woningbouw", "energie"]\ndistance = 500\n',
        )
    )
    assert project.crs == "EPSG:28992"
    assert project.output_dir == tmp_path / "uit"
    wonen = project.sectors["woningbouw"]
    assert wonen.colour == "#ff0000"
    assert wonen.sources[0].path == tmp_path / "data" / "wonen.gpkg"
    assert wonen.sources[0].name == "wonen:plannen"
    energie = project.sectors["energie"]
    assert energie.label == "Energie"
    assert energie.sources[0].path == Path("/abs/lijnen.gpkg")
    assert energie.sources[0].buffer == 50.0
    (pair,) = project.conflicts
    assert (pair.a, pair.b, pair.distance, pair.weight) == ("woningbouw", "energie", 500.0, 1.0)
    assert project.max_distance == 500.0


@pytest.mark.parametrize(
    ("body", "key", "fragment"),
    [
        (
            SECTORS + '[[conflicts.pairs]]\nsectors = ["woningbouw", "defensie"]\n',
            "conflicts.pairs[0].sectors",
            "unknown sector 'defensie'",
        ),
        (
            SECTORS.replace("buffer = 50", "buffer = -5"),
            "sectors.energie.sources[0].buffer",
            "must be > 0",
        ),
        (
            SECTORS.replace('colour = "red"', 'color = "red"'),
            "sectors.woningbouw.color",
            "did you mean 'colour'",
        ),
        (
            SECTORS.replace('colour = "red"', 'colour = "rood"'),
            "sectors.woningbouw.colour",
            "not a colour",
        ),
        (
            SECTORS + '[[conflicts.pairs]]\nsectors = ["woningbouw", "woningbouw"]\n',
            "conflicts.pairs[0].sectors",
            "two different",
        ),
        (
            SECTORS + '[[conflicts.pairs]]\nsectors = ["woningbouw", "energie"]\ndistance = "ver"\n',
            "conflicts.pairs[0].distance",
            "must be a number",
        ),
        ("", "sectors", "at least one sector"),
        (
            SECTORS + '[[kansen.pairs]]\nsectors = ["woningbouw", "energie"]\n',
            "kansen.pairs[0].toelichting",
            "is required",
        ),
        (
            SECTORS + '[[kansen.pairs]]\nsectors = ["woningbouw", "natuur"]\ntoelichting = "x"\n',
            "kansen.pairs[0].sectors",
            "unknown sector 'natuur'",
        ),
        (
            SECTORS + '[[kansen.pairs]]\nsectors = ["woningbouw", "energie"]\ntoelichting = "x"\nweight = 0',
            "kansen.pairs[0].weight",
            "must be > 0",
        ),
        (
            SECTORS + '[[kansen.pairs]]\nsectors = ["woningbouw", "energie"]\ntoelichting = "x"\nkans = 1\n',
            "kansen.pairs[0].kans",
            "unknown key",
        ),
        (
            SECTORS
            + '[[conflicts.pairs]]\nsectors = ["energie", "woningbouw"]\n'
            + '[[kansen.pairs]]\nsectors = ["woningbouw", "energie"]\ntoelichting = "zon op daken"\n',
            "kansen.pairs[0].sectors",
            "woningbouw × energie is also a conflict pair (conflicts.pairs[0]); a pair is both a conflict "
            "and a kans only when you say so: also_conflict = true",
        ),
        (
            SECTORS + '[[kansen.pairs]]\nsectors = ["woningbouw", "energie"]\ntoelichting = "x"\n'
            "also_conflict = true\n",
            "kansen.pairs[0].also_conflict",
            "is true, but woningbouw × energie is not in [[conflicts.pairs]]",
        ),
        (SECTORS + "[triage]\nkans_weight = -1\n", "triage.kans_weight", "must be >= 0"),
        (
            SECTORS + '[[conflicts.pairs]]\nsectors = ["woningbouw", "energie"]\ndistance = 1e308\n',
            "conflicts.pairs[0].distance",
            "must be <= 100000, got 1e+308",
        ),
        (
            SECTORS + '[[conflicts.pairs]]\nsectors = ["woningbouw", "energie"]\nweight = 1e300\n',
            "conflicts.pairs[0].weight",
            "must be <= 1000",
        ),
        (
            SECTORS.replace("buffer = 50", "buffer = 1e308"),
            "sectors.energie.sources[0].buffer",
            "must be <= 100000",
        ),
        (SECTORS + "[triage.novex_gebieden]\nlayer = 'x'\n", "triage.novex_gebieden.path", "is required"),
    ],
)
def test_config_mistakes_name_the_key(tmp_path, body, key, fragment):
    with pytest.raises(ConfigError) as info:
        load_project(write_project(tmp_path, body))
    assert info.value.key == key
    assert fragment in str(info.value)
    assert str(tmp_path / "novex.toml") in str(info.value)


def test_toml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "novex.toml"
    path.write_text('[project\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"novex.toml: TOML syntax error.*line 1"):
        load_project(path)


def test_missing_project_file(tmp_path):
    with pytest.raises(ConfigError, match="project file not found"):
        load_project(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("crs", "problem"),
    [
        ("EPSG:4326", r"\(WGS 84\) is not a projected CRS in metres"),
        ("EPSG:2263", "not a projected CRS in metres"),
    ],
)
def test_the_analysis_crs_measures_in_metres(tmp_path, crs, problem):
    """Areas in m², buffers and distances in metres: a CRS in degrees or feet would make them wrong."""
    path = write_project(tmp_path, SECTORS)
    path.write_text(path.read_text().replace('name = "test"', f'name = "test"\ncrs = "{crs}"'))
    with pytest.raises(ConfigError, match=problem) as info:
        load_project(path)
    assert info.value.key == "project.crs" and "EPSG:28992" in str(info.value)
    path.write_text(path.read_text().replace(crs, "EPSG:25831"))  # UTM 31N: metres, accepted
    assert load_project(path).crs == "EPSG:25831"


def test_proj_strings_are_refused(tmp_path):
    body = SECTORS
    path = write_project(tmp_path, body)
    text = path.read_text().replace('name = "test"', 'name = "test"\ncrs = "+proj=sterea +lat_0=52"')
    path.write_text(text)
    with pytest.raises(ConfigError, match="authority code"):
        load_project(path)


def test_init_template_parses_with_five_default_sectors(tmp_path):
    path = write_template(tmp_path / "novex.toml", name='NOVEX "Utrecht"')
    project = load_project(path)
    assert list(project.sectors) == ["woningbouw", "water_bodem", "energie", "defensie", "landbouw"]
    assert project.name == 'NOVEX "Utrecht"'
    colours = {sector.colour for sector in project.sectors.values()}
    assert len(colours) == 5
    assert project.sectors["energie"].sources[0].buffer == 50
    assert project.min_area_m2 == 100
    with pytest.raises(Exception, match="already exists"):
        write_template(path)


def test_kansen_are_typed_and_may_also_be_a_conflict_when_said_so(tmp_path):
    body = (
        SECTORS
        + """
[[conflicts.pairs]]
sectors = ["woningbouw", "energie"]
[kansen]
min_area_m2 = 50
[[kansen.pairs]]
sectors = ["energie", "woningbouw"]
distance = 200
weight = 2
toelichting = "  zon op daken  "
also_conflict = true
[triage]
kans_weight = 0.5
[triage.novex_gebieden]
path = "novex.gpkg"
"""
    )
    project = load_project(write_project(tmp_path, body))
    (kans,) = project.kansen
    assert (kans.a, kans.b, kans.distance, kans.weight) == ("energie", "woningbouw", 200.0, 2.0)
    assert (kans.toelichting, kans.also_conflict, kans.key) == ("zon op daken", True, "energie×woningbouw")
    assert kans.kind.layer == "kansen" and project.conflicts[0].kind.layer == "schuurpunten"
    assert project.kansen_min_area_m2 == 50 and project.min_area_m2 == 0
    assert project.triage.kans_weight == 0.5
    assert project.triage.novex_gebieden.path == tmp_path / "novex.gpkg"
    assert project.triage.novex_gebieden.name_field == "naam"  # not statnaam: a NOVEX layer is no CBS file
    assert load_project(write_project(tmp_path, SECTORS)).triage.kans_weight == 0  # they count only when set


def test_init_template_has_kansen_examples_and_nothing_built_in(tmp_path):
    project = load_project(write_template(tmp_path / "novex.toml"))
    pairs = {pair.key: pair for pair in project.kansen}
    assert set(pairs) == {"energie×landbouw", "woningbouw×water_bodem"}
    assert pairs["woningbouw×water_bodem"].also_conflict and pairs["woningbouw×water_bodem"].distance == 250
    assert all(pair.toelichting for pair in project.kansen)
    assert project.kansen_min_area_m2 == 100
    sectors = {"natuur": {"sources": [{"path": "n.gpkg"}]}}
    bare = parse_project({"project": {"regions": {"path": "p.gpkg"}}, "sectors": sectors}, tmp_path / "x")
    assert bare.kansen == () and bare.triage.novex_gebieden is None


def test_parse_project_accepts_dict(tmp_path):
    data = {
        "project": {"regions": {"path": "p.gpkg"}},
        "sectors": {"natuur": {"sources": [{"path": "n2000.gpkg"}]}},
    }
    project = parse_project(data, tmp_path / "x.toml")
    assert project.regions.name_field == "statnaam"
    assert project.name == "x"


def test_sources_need_distinct_names(tmp_path):
    body = """
    [sectors.defensie]
    [[sectors.defensie.sources]]
    path = "terreinen.gpkg"
    [[sectors.defensie.sources]]
    path = "terreinen.gpkg"
    buffer = 500
    [[sectors.defensie.sources]]
    path = "terreinen.gpkg"
    buffer = 500
    where = "soort = 'schietbaan'"
    """
    with pytest.raises(ConfigError, match=r"sources\[2\].*both called 'terreinen\+500m'"):
        load_project(write_project(tmp_path, body))
    named = body.replace("buffer = 500\n    where", 'buffer = 500\n    name = "schietbanen"\n    where')
    sources = load_project(write_project(tmp_path, named)).sectors["defensie"].sources
    assert [s.name for s in sources] == ["terreinen", "terreinen+500m", "schietbanen"]
