"""An independent reference for the stapeling: the PostGIS recipe a GIS expert would write,
timed against ``novex-geo run`` on the same claims, in the same invocation.

Usage::

    python benchmarks/postgis_recipe.py [PROJECT.toml] --database postgresql://user@host/db

(default project: the dense national set of ``benchmarks/national.py --profile dense``; the
database needs PostGIS; ``.ci/postgis`` starts one). The recipe, per provincie: cut the claims
to the provincie, node all their rings (``ST_Union`` of the boundaries), polygonize, and count
the distinct sectors over each face (at a point inside it). Loading the claims into PostGIS is
timed apart and not counted. Prints the recipe's time, the whole run's time, their ratio (the
issue's aim: the recipe at least 5× slower) and, as a check that both computed the same thing,
the hectares claimed by two or more sectors according to each.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyogrio
import shapely

from novex_geo import load_project
from novex_geo.io.layers import load_sectors
from novex_geo.io.regions import load_regions

DEFAULT = Path(__file__).parent / "data" / "dense_scale_1" / "novex.toml"
SCHEMA = "novex_recipe"
RECIPE = f"""
CREATE TABLE {SCHEMA}.cut AS
  SELECT p.naam, c.sector, (ST_Dump(ST_Intersection(c.geom, p.geom))).geom AS geom
  FROM {SCHEMA}.claims c JOIN {SCHEMA}.provincies p ON ST_Intersects(c.geom, p.geom);
DELETE FROM {SCHEMA}.cut WHERE ST_Dimension(geom) < 2;
CREATE INDEX ON {SCHEMA}.cut USING gist (geom);
CREATE TABLE {SCHEMA}.faces AS
  SELECT naam, (ST_Dump(ST_Polygonize(rings))).geom AS geom
  FROM (SELECT naam, ST_Union(ST_Boundary(geom)) AS rings FROM {SCHEMA}.cut GROUP BY naam) noded
  GROUP BY naam;
ALTER TABLE {SCHEMA}.faces ADD COLUMN id serial;
CREATE TABLE {SCHEMA}.stapeling AS
  SELECT f.id, f.naam, ST_Area(f.geom) AS m2, count(DISTINCT c.sector) AS n_sectoren
  FROM {SCHEMA}.faces f
  JOIN {SCHEMA}.cut c ON c.naam = f.naam AND ST_Intersects(c.geom, ST_PointOnSurface(f.geom))
  GROUP BY f.id, f.naam, f.geom;
"""


def _copy(connection, table: str, columns: str, rows) -> None:
    with connection.cursor().copy(f"COPY {SCHEMA}.{table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(connection, project) -> float:
    """The project's claims and provinces into the schema; returns the seconds it took."""
    started = time.perf_counter()
    claims = load_sectors(project)
    regions = load_regions(project.regions, project.crs)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}")
        cursor.execute(f"CREATE TABLE {SCHEMA}.claims (sector text, geom geometry(Geometry, 28992))")
        cursor.execute(f"CREATE TABLE {SCHEMA}.provincies (naam text, geom geometry(Geometry, 28992))")
    for key, layer in claims.items():
        hexes = shapely.to_wkb(layer.frame.geometry.to_numpy(), hex=True)
        _copy(connection, "claims", "sector, geom", ((key, h) for h in hexes))
    hexes = shapely.to_wkb(regions.geometry.to_numpy(), hex=True)
    _copy(connection, "provincies", "naam, geom", zip(regions["provincie"], hexes, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {SCHEMA}.claims SET geom = ST_SetSRID(geom, 28992)")
        cursor.execute(f"UPDATE {SCHEMA}.provincies SET geom = ST_SetSRID(geom, 28992)")
        cursor.execute(f"CREATE INDEX ON {SCHEMA}.claims USING gist (geom); ANALYZE {SCHEMA}.claims")
    connection.commit()
    return time.perf_counter() - started


def recipe(connection) -> tuple[float, float]:
    """Seconds the recipe takes, and the hectares it finds claimed by two or more sectors."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(RECIPE)
        connection.commit()
        seconds = time.perf_counter() - started
        cursor.execute(f"SELECT coalesce(sum(m2), 0) / 1e4 FROM {SCHEMA}.stapeling WHERE n_sectoren >= 2")
        (stacked,) = cursor.fetchone()
    return seconds, float(stacked)


def whole_run(project_path: Path) -> tuple[float, float]:
    """Seconds ``novex-geo run`` takes (a fresh process), and its hectares in stapeling ≥ 2."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "analyse.gpkg"
        command = [
            str(Path(sys.executable).with_name("novex-geo")),
            "run",
            str(project_path),
            "--out",
            str(out),
        ]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - started
        faces = pyogrio.read_dataframe(out, layer="stapeling", columns=["n_sectoren", "oppervlakte_m2"])
    return seconds, float(faces.loc[faces["n_sectoren"] >= 2, "oppervlakte_m2"].sum() / 1e4)


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("project", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--database", required=True, help="postgresql:// URL of a database with PostGIS")
    arguments = parser.parse_args()
    project = load_project(arguments.project)
    with psycopg.connect(arguments.database) as connection:
        loading = load(connection, project)
        print(f"claims loaded into PostGIS (not counted): {loading:.1f} s")
        recipe_seconds, recipe_ha = recipe(connection)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
        connection.commit()
    run_seconds, run_ha = whole_run(arguments.project)
    print(f"PostGIS recipe (node, polygonize, count per face; one backend): {recipe_seconds:.1f} s")
    print(f"novex-geo run (the whole run: load, overlay, audit, write): {run_seconds:.1f} s")
    print(f"ratio recipe / run: {recipe_seconds / run_seconds:.1f}x (aim: >= 5x)")
    print(f"stapeling >= 2 sectors: recipe {recipe_ha:,.1f} ha, novex-geo {run_ha:,.1f} ha")


if __name__ == "__main__":
    main()
