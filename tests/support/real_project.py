"""A project on real public Dutch layers (``tests/data/real``), for the whole chain on real data.

Drenthe, Zeeland and Overijssel, with the Kadaster provinces as regions and the CBS gemeenten
(2022) for names; every sector with open data in the set: woningbouw (EIB plans of Overijssel
and Zeeland), water en bodem (Zeeland's wateroverlast norm areas, groundwater protection and
water extraction areas; Drenthe's no-drilling zones), energie (the 380 kV corridor reservation
in Zeeland), natuur (Drenthe's NNN realisation areas, Natura 2000 and ecological corridors as
lines), agrarisch natuurbeheer (weide- and akkervogel core areas, Zeeland's geese rest areas),
glastuinbouw (Drenthe) and landbouw (BRP parcels of the Bommelerwaard). Real data bring what
the demo never has: long labels, names that repeat, slivers, ids in place of names, lines.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REAL_DATA = ROOT / "tests" / "data" / "real"

__all__ = ["REAL_DATA", "SECTORS", "write_real_project"]

# sector → (label, colour, [(file, label field, buffer)])
SECTORS = {
    "woningbouw": (
        "Woningbouw",
        "#e31a1c",
        [
            ("overijssel_woningbouwplannen.gpkg", "Plannaam", None),
            ("zeeland_woningbouwplannen.gpkg", "Plannaam", None),
        ],
    ),
    "water_bodem": (
        "Water en bodem",
        "#1f78b4",
        [
            ("zeeland_wateroverlast_normering.gpkg", "naam", None),
            ("zeeland_grondwaterbeschermingszone.gpkg", "naam", None),
            ("zeeland_waterwingebied.gpkg", "naam", None),
            ("drenthe_verbodszones_diepe_boringen.gpkg", "NAAM", None),
        ],
    ),
    "energie": (
        "Energiehoofdstructuur",
        "#ff7f00",
        [
            ("zeeland_hoogspanning_380kv_voorbescherming.gpkg", "naam", None),
        ],
    ),
    "natuur": (
        "Natuur (NNN, Natura 2000 en ecologische verbindingen)",
        "#1b7837",
        [
            ("nnn_drenthe_realisatie_verbeteren_zuid.gpkg", "PRIORITEIT", None),
            ("natura2000_drenthe.gpkg", "naamN2K", None),
            ("drenthe_ecologische_verbindingen.gpkg", "URGENTIE", 25),
            ("zeeland_aardkundig_waardevolle_gebieden.gpkg", "naam", None),
        ],
    ),
    "agrarisch_natuur": (
        "Agrarisch natuurbeheer (weide- en akkervogelgebieden)",
        "#b8a000",
        [
            ("drenthe_kerngebied_weidevogels.gpkg", "TYPE", None),
            ("drenthe_kerngebied_akkervogels.gpkg", "TYPE", None),
            ("zeeland_ganzenrustgebieden.gpkg", "naam", None),
        ],
    ),
    "glastuinbouw": ("Glastuinbouw", "#e7298a", [("drenthe_glastuinbouw.gpkg", "LEGENDA_UNION", None)]),
    "landbouw": (
        "Landbouw",
        "#33a02c",
        [
            ("denbosch_bommelerwaard_brp_gewaspercelen_2017.gpkg", "gws_gewas", None),
        ],
    ),
}
CONFLICTS = [
    (("woningbouw", "water_bodem"), 0, 2),
    (("woningbouw", "natuur"), 250, 2),
    (("woningbouw", "energie"), 100, 2),
    (("woningbouw", "agrarisch_natuur"), 0, 1),
    (("energie", "natuur"), 0, 2),
    (("energie", "water_bodem"), 0, 1),
    (("glastuinbouw", "natuur"), 500, 2),
    (("glastuinbouw", "agrarisch_natuur"), 0, 2),
]
KANSEN = [
    (("natuur", "water_bodem"), 0, "natuurlijke waterberging en grondwaterbescherming in natuurgebied"),
]


def _sources(key: str, files) -> str:
    text = ""
    for name, label, buffer in files:
        text += (
            f'[[sectors.{key}.sources]]\npath = "{(REAL_DATA / name).as_posix()}"\nlabel_field = "{label}"\n'
        )
        text += f"buffer = {buffer}\n" if buffer else ""
    return text


def write_real_project(folder: Path, provincies=("Drenthe", "Zeeland", "Overijssel")) -> Path:
    """Write ``novex.toml`` for the real-data set into ``folder``; returns its path."""
    lines = [
        "[project]",
        'name = "Echte lagen: Drenthe, Zeeland, Overijssel"',
        'output = "uitvoer"',
        f"provincies = [{', '.join(repr(p).replace(chr(39), chr(34)) for p in provincies)}]",
        "[project.regions]",
        f'path = "{(REAL_DATA / "kadaster_provinciegebied.gpkg").as_posix()}"',
        'name_field = "naam"',
        "",
    ]
    for key, (label, colour, files) in SECTORS.items():
        lines += [f"[sectors.{key}]", f'label = "{label}"', f'colour = "{colour}"', _sources(key, files)]
    lines += ["[conflicts]", "min_area_m2 = 100"]
    for (a, b), distance, weight in CONFLICTS:
        lines += [
            "[[conflicts.pairs]]",
            f'sectors = ["{a}", "{b}"]',
            f"distance = {distance}",
            f"weight = {weight}",
        ]
    lines += ["[kansen]", "min_area_m2 = 100"]
    for (a, b), distance, text in KANSEN:
        lines += [
            "[[kansen.pairs]]",
            f'sectors = ["{a}", "{b}"]',
            f"distance = {distance}",
            f'toelichting = "{text}"',
        ]
    lines += [
        "[triage]",
        "[triage.gemeenten]",
        f'path = "{(REAL_DATA / "cbs_gemeenten_2022.gpkg").as_posix()}"',
        'name_field = "statnaam"',
    ]
    path = folder / "novex.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
