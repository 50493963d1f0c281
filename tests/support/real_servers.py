"""Real server software on 127.0.0.1 for the fetch tests, serving real public Dutch layers.

- **MapServer 8 WFS 2.0**: Debian's ``cgi-mapserver`` behind ``lighttpd`` (``mod_cgi``), the
  set-up a province runs; ``wfs_maxfeatures`` caps every page, as on real services.
- **pygeoapi** (OGC API Features, from PyPI) with its GeoJSON provider: one collection that
  lists RD New in its ``crs`` list, one that does not (pygeoapi's default), one that refuses a
  page larger than its maximum ("Limit of N exceeded").
- **Koop** (Esri's open-source FeatureServer, from npm; ``tests/support/koop``): reprojects to
  ``outSR=28992`` without the datum shift, as Koop does.

Each server is a process of its own on a free port; a test can stop it and start it again on
the same port (a server that goes away mid-download). The data come from ``tests/data/real``
(see its ``SOURCES.md``); the CRS84 GeoJSON that pygeoapi and Koop serve is made from the RD
GeoPackages with PROJ, so the RD source is the reference every test compares with.

When a server's software is missing the tests skip with the command that installs it; in CI
(``CI`` set; ``.ci/run`` installs and sets it) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_DATA = ROOT / "tests" / "data" / "real"
KOOP = ROOT / "tests" / "support" / "koop"
MAPSERV = Path("/usr/lib/cgi-bin/mapserv")
CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
STARTUP_SECONDS = 60

__all__ = ["KoopServer", "MapLayer", "MapServerWFS", "PygeoapiServer", "require"]


def require(what: str, present: bool, install: str) -> None:
    """Skip (fail in CI) when the server software ``what`` is not installed."""
    if present:
        return
    reason = f"{what} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(f"CI must test against real {what}: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A server process on 127.0.0.1:``port``; ``ready_path`` answers once it serves."""

    ready_path = "/"

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def start(self) -> None:
        args, env = self.command()
        log = open(self.folder / f"{type(self).__name__}.log", "ab")  # noqa: SIM115 - lives with the process
        self.process = subprocess.Popen(
            args, cwd=self.folder, env={**os.environ, **env}, stdout=log, stderr=log
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{args[0]} ended at start: {self.log()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{args[0]} did not answer within {STARTUP_SECONDS} s: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def log(self) -> str:
        path = self.folder / f"{type(self).__name__}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class MapLayer(NamedTuple):
    """A layer MapServer serves: its file and layer, the id field and the EPSG code it is stored in."""

    path: Path
    layer: str
    id_field: str
    epsg: int = 28992


class MapServerWFS(ServerProcess):
    """MapServer's WFS 2.0 for the ``layers`` (type name → :class:`MapLayer`) at
    ``/cgi-bin/mapserv?map=NOVEX`` (``numberMatched`` computed) and ``?map=ZONDER_AANTAL``
    (MapServer's default: ``numberMatched="unknown"`` and a ``next`` link). ``offered`` is the
    map's ``wfs_srs``: its first CRS is every type's ``DefaultCRS``."""

    ready_path = "/cgi-bin/mapserv?map=NOVEX&service=WFS&version=2.0.0&request=GetCapabilities"

    def __init__(
        self,
        folder: Path,
        layers: dict[str, MapLayer],
        max_features: int = 500,
        offered: str = "EPSG:28992 EPSG:4326",
    ):
        super().__init__(folder)
        self.layers, self.max_features, self.offered = layers, max_features, offered
        require(
            "MapServer with lighttpd",
            MAPSERV.exists() and bool(shutil.which("lighttpd")),
            "apt-get install cgi-mapserver lighttpd",
        )
        self._write_config()

    def endpoint(self, with_count: bool = True) -> str:
        return f"{self.url}/cgi-bin/mapserv?map={'NOVEX' if with_count else 'ZONDER_AANTAL'}"

    def _mapfile(self, compute_matched: bool) -> str:
        layers = "".join(
            textwrap.dedent(
                f"""
                LAYER
                  NAME "{name}"
                  TYPE POLYGON
                  STATUS ON
                  CONNECTIONTYPE OGR
                  CONNECTION "{spec.path}"
                  DATA "{spec.layer}"
                  PROJECTION "init=epsg:{spec.epsg}" END
                  METADATA
                    "wfs_title" "{name}"
                    "gml_include_items" "all"
                    "gml_featureid" "{spec.id_field}"
                    "gml_types" "auto"
                    "wfs_enable_request" "*"
                    "wfs_getfeature_formatlist" "geojson"
                  END
                END
                """
            )
            for name, spec in self.layers.items()
        )
        return (
            textwrap.dedent(
                f"""
            MAP
              NAME "novex"
              EXTENT -100000 250000 350000 900000
              PROJECTION "init=epsg:28992" END
              WEB
                METADATA
                  "wfs_title" "novex-geo test"
                  "wfs_onlineresource" "{self.url}/cgi-bin/mapserv?"
                  "wfs_srs" "{self.offered}"
                  "wfs_enable_request" "*"
                  "wfs_maxfeatures" "{self.max_features}"
                  "wfs_compute_number_matched" "{"true" if compute_matched else "false"}"
                END
              END
              OUTPUTFORMAT
                NAME "geojson"
                DRIVER "OGR/GEOJSON"
                MIMETYPE "application/json; subtype=geojson"
                FORMATOPTION "STORAGE=stream"
                FORMATOPTION "FORM=SIMPLE"
              END
            """
            )
            + layers
            + "END\n"
        )

    def _write_config(self) -> None:
        (self.folder / "novex.map").write_text(self._mapfile(True), encoding="utf-8")
        (self.folder / "zonder_aantal.map").write_text(self._mapfile(False), encoding="utf-8")
        (self.folder / "mapserver.conf").write_text(
            textwrap.dedent(
                f"""
                CONFIG
                  ENV
                    MS_MAP_PATTERN "^{self.folder}/.*\\.map$"
                  END
                  MAPS
                    NOVEX "{self.folder}/novex.map"
                    ZONDER_AANTAL "{self.folder}/zonder_aantal.map"
                  END
                END
                """
            ),
            encoding="utf-8",
        )
        (self.folder / "lighttpd.conf").write_text(
            textwrap.dedent(
                f"""
                server.document-root = "{self.folder}"
                server.bind = "127.0.0.1"
                server.port = {self.port}
                server.modules = ("mod_cgi", "mod_alias", "mod_setenv")
                alias.url = ("/cgi-bin/mapserv" => "{MAPSERV}")
                cgi.assign = ("" => "")
                setenv.add-environment = ("MAPSERVER_CONFIG_FILE" => "{self.folder}/mapserver.conf")
                server.errorlog = "{self.folder}/lighttpd-error.log"
                """
            ),
            encoding="utf-8",
        )

    def command(self):
        return [shutil.which("lighttpd") or "lighttpd", "-D", "-f", str(self.folder / "lighttpd.conf")], {}


class PygeoapiServer(ServerProcess):
    """pygeoapi serving GeoJSON files (CRS84) as collections: ``collections`` maps a name to
    (file, id field, whether RD is in its crs list, its own limits or ``None``)."""

    ready_path = "/collections?f=json"

    def __init__(self, folder: Path, collections: dict[str, tuple[Path, str, bool, dict | None]]):
        super().__init__(folder)
        executable = Path(sys.executable).with_name("pygeoapi")
        require("pygeoapi", executable.exists(), 'pip install -e ".[dev]"')
        self.executable = executable
        self.collections = collections
        self._write_config()

    def _write_config(self) -> None:
        import yaml

        resources = {}
        for name, (path, id_field, with_rd, limits) in self.collections.items():
            provider = {"type": "feature", "name": "GeoJSON", "data": str(path), "id_field": id_field}
            if with_rd:
                provider.update(crs=[CRS84_URI, RD_URI], storage_crs=CRS84_URI)
            resources[name] = {
                "type": "collection",
                "title": name,
                "description": f"{name} (novex-geo test)",
                "keywords": ["novex"],
                "providers": [provider],
                "extents": {"spatial": {"bbox": [3.2, 50.7, 7.3, 53.6], "crs": CRS84_URI}},
                **({"limits": limits} if limits else {}),
            }
        config = {
            "server": {
                "bind": {"host": "127.0.0.1", "port": self.port},
                "url": self.url,
                "mimetype": "application/json; charset=UTF-8",
                "encoding": "utf-8",
                "languages": ["nl-NL"],
                "limits": {"default_items": 100, "max_items": 1000, "on_exceed": "throttle"},
                "map": {"url": "https://example.invalid/{z}/{x}/{y}.png", "attribution": "test"},
            },
            "logging": {"level": "ERROR"},
            "metadata": {
                "identification": {
                    "title": "novex-geo test",
                    "description": "test",
                    "keywords": ["test"],
                    "keywords_type": "theme",
                    "terms_of_service": "https://example.invalid",
                    "url": "https://example.invalid",
                },
                "license": {"name": "CC0", "url": "https://example.invalid"},
                "provider": {"name": "novex-geo", "url": "https://example.invalid"},
                "contact": {"name": "test", "email": "test@example.invalid"},
            },
            "resources": resources,
        }
        (self.folder / "pygeoapi.yml").write_text(
            yaml.safe_dump(config, allow_unicode=True), encoding="utf-8"
        )
        subprocess.run(
            [
                str(self.executable),
                "openapi",
                "generate",
                str(self.folder / "pygeoapi.yml"),
                "--output-file",
                str(self.folder / "openapi.yml"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def command(self):
        env = {
            "PYGEOAPI_CONFIG": str(self.folder / "pygeoapi.yml"),
            "PYGEOAPI_OPENAPI": str(self.folder / "openapi.yml"),
        }
        return [str(self.executable), "serve"], env


class KoopServer(ServerProcess):
    """Koop serving one GeoJSON file (CRS84) as ``/bestand/rest/services/FeatureServer/0``."""

    ready_path = "/bestand/rest/services/FeatureServer/0?f=json"

    def __init__(self, folder: Path, geojson: Path, id_field: str, max_record_count: int):
        super().__init__(folder)
        node = shutil.which("node")
        require(
            "Koop",
            bool(node) and (KOOP / "node_modules" / "@koopjs").is_dir(),
            "npm ci --prefix tests/support/koop",
        )
        self.node, self.geojson, self.id_field, self.max_record_count = (
            node,
            geojson,
            id_field,
            max_record_count,
        )

    @property
    def layer_url(self) -> str:
        return f"{self.url}/bestand/rest/services/FeatureServer/0"

    def command(self):
        args = [
            self.node,
            str(KOOP / "server.js"),
            str(self.port),
            str(self.geojson),
            self.id_field,
            str(self.max_record_count),
        ]
        return args, {"SUPPRESS_NO_CONFIG_WARNING": "1", "NODE_CONFIG_DIR": str(self.folder)}


def crs84_copy(gpkg: Path, target: Path) -> Path:
    """The layer of ``gpkg`` as CRS84 GeoJSON (reprojected with PROJ) for pygeoapi and Koop."""
    gpd.read_file(gpkg).to_crs("OGC:CRS84").to_file(target, driver="GeoJSON", engine="pyogrio")
    return target
