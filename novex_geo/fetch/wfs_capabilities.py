"""What a WFS 2.0 says about itself, and the request negotiated from it.

GetCapabilities (parsed by OWSLib) names the feature types, their CRSs (``DefaultCRS`` first)
and the GetFeature output formats; its ``CountDefault`` constraint (which OWSLib does not read)
caps the page size; DescribeFeatureType gives the schema GDAL reads GML with. From these,
:func:`negotiate` picks the type, the output format as the server spells it, the CRS (RD New
when offered) and the page size.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

from novex_geo.config import DEFAULT_CRS
from novex_geo.errors import DownloadError
from novex_geo.fetch.catalog import CatalogEntry
from novex_geo.fetch.features import parse_crs
from novex_geo.fetch.http import HttpClient, Response, ServiceError, server_message, with_query, xml_root
from novex_geo.fetch.store import Session

__all__ = ["FORMATS", "RD_URN", "FeatureType", "describe_schema", "negotiate", "refuse_exception"]

RD_URN = "urn:ogc:def:crs:EPSG::28992"
GML32 = "application/gml+xml; version=3.2"
FORMATS = {"geojson": "application/json", "gml": GML32}  # when the capabilities list none
OWS = "{http://www.opengis.net/ows/1.1}"


@dataclass(frozen=True)
class FeatureType:
    """What the capabilities say about one feature type: its name, CRSs (URN and axis order,
    the default first), the GetFeature output formats and the server's page cap."""

    name: str
    crs: tuple[tuple[str, str], ...]
    formats: tuple[str, ...]
    count_default: int | None

    def urn(self, code: str) -> str | None:
        """How the capabilities spell the CRS ``code`` (``EPSG:28992``), if they offer it."""
        for urn, _ in self.crs:
            try:
                if parse_crs(urn, self.name) == code:
                    return urn
            except DownloadError:  # a CRS PROJ does not know is not the one asked for
                continue
        return None

    @property
    def default_crs(self) -> str | None:
        return self.crs[0][0] if self.crs else None


def refuse_exception(response: Response) -> None:
    """An OWS ExceptionReport sent with status 200 is an error like any other."""
    said = server_message(response.body) if b"ExceptionReport" in response.body[:4096] else None
    if said:
        raise ServiceError(f"{response.url}: the service answered with an exception: {said}", 400, said)


def count_default(root) -> int | None:
    """The ``CountDefault`` constraint of GetCapabilities: the most features one page holds."""
    for constraint in root.iter(f"{OWS}Constraint"):
        if constraint.get("name") == "CountDefault":
            text = (constraint.findtext(f"{OWS}DefaultValue") or "").strip()
            return int(text) if text.isdigit() and int(text) > 0 else None
    return None


def read_capabilities(client: HttpClient, entry: CatalogEntry) -> tuple[dict[str, FeatureType], dict]:
    """The feature types of the service (by name) and their titles, read with OWSLib."""
    from owslib.wfs import WebFeatureService

    url = with_query(entry.url, {"service": "WFS", "version": "2.0.0", "request": "GetCapabilities"})
    response = client.get(url, accept="application/xml", max_bytes=64 * 2**20)
    refuse_exception(response)
    root = xml_root(response)  # refuses a DTD before OWSLib parses the same bytes
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            service = WebFeatureService(entry.url, version="2.0.0", xml=response.body)
        operation = service.getOperationByName("GetFeature")
        formats = tuple((operation.parameters.get("outputFormat") or {}).get("values") or ())
        contents = dict(service.contents)
    except Exception as exc:  # OWSLib raises whatever its parser meets in a malformed document
        raise DownloadError(
            f"{url}: the capabilities cannot be read as WFS 2.0 ({type(exc).__name__}: {exc})"
        ) from None
    cap = count_default(root)
    types = {
        name: FeatureType(name, tuple((str(crs.id), crs.axisorder) for crs in meta.crsOptions), formats, cap)
        for name, meta in contents.items()
    }
    return types, {name: meta.title or "" for name, meta in contents.items()}


def choose_type(entry: CatalogEntry, types: dict[str, FeatureType], titles: dict[str, str]) -> FeatureType:
    """The entry's type name (with or without its namespace prefix) or the one matching its search."""
    if entry.typename:
        local = entry.typename.rsplit(":", 1)[-1]
        found = [name for name in types if name == entry.typename] or [
            name for name in types if name.rsplit(":", 1)[-1] == local
        ]
        if len(found) == 1:
            return types[found[0]]
        raise DownloadError(
            f"{entry.url}: the service has no feature type '{entry.typename}'; it has "
            f"{', '.join(list(types)[:20]) or 'none'} (choose one with --collection NAME)"
        )
    search = entry.layer_search.lower()
    found = [name for name in types if search in f"{name} {titles.get(name, '')}".lower()]
    if len(found) == 1:
        return types[found[0]]
    listed = "; ".join(f"{name} ({titles.get(name, '')})" for name in found[:12])
    raise DownloadError(
        f"{entry.url}: {len(found)} of the {len(types)} layers match '{entry.layer_search}'"
        + (
            f": {listed}; choose one with --collection NAME"
            if found
            else "; give the layer with --collection NAME"
        )
    )


def output_format(wanted: str, offered: tuple[str, ...]) -> str:
    """The entry's format as the server spells it (MapServer: ``application/json;
    subtype=geojson``); GML 3.2 when the server offers no JSON."""
    if not offered:
        return FORMATS[wanted]
    if wanted == "geojson":
        json_formats = [f for f in offered if "json" in f.lower()]
        if json_formats:
            return min(json_formats, key=len)
    gml = [f for f in offered if "gml" in f.lower() and "3.2" in f]
    return gml[0] if gml else offered[0]


def describe_schema(session: Session, entry: CatalogEntry, typename: str) -> str | None:
    """The DescribeFeatureType schema of ``typename`` saved for GDAL; ``None`` (with a note) when
    the service cannot give one: GDAL then guesses the types from the data."""
    url = with_query(
        entry.url,
        {"service": "WFS", "version": "2.0.0", "request": "DescribeFeatureType", "typeNames": typename},
    )
    try:
        response = session.client.get(url, accept="application/xml", max_bytes=16 * 2**20)
        xml_root(response)
    except DownloadError as exc:
        session.notes.append(
            f"no schema from DescribeFeatureType ({exc}); attribute types guessed from the data"
        )
        return None
    session.folder.mkdir(parents=True, exist_ok=True)
    path = session.folder / "schema.xsd"
    path.write_bytes(response.body)
    return str(path)


def negotiate(session: Session, entry: CatalogEntry, page_size: int) -> dict:
    """The cursor's fixed part: type name, output format, CRS and page size, from the capabilities."""
    types, titles = read_capabilities(session.client, entry)
    feature_type = choose_type(entry, types, titles)
    session.remember(source_name=feature_type.name)
    output = output_format(entry.format, feature_type.formats)
    if entry.format == "geojson" and "json" not in output.lower():
        session.notes.append(f"the service offers no GeoJSON for {feature_type.name}: read as {output}")
    size = min(page_size, feature_type.count_default or page_size)
    if size < page_size:
        session.notes.append(f"pages of {size:,} features: the service's CountDefault")
    rd = feature_type.urn(DEFAULT_CRS) or (RD_URN if not feature_type.crs else None)
    native = feature_type.default_crs
    if rd is None:
        session.notes.append(
            f"{feature_type.name} is not offered in EPSG:28992: asked in {native}, reprojected here with PROJ"
        )
    reprojects = rd is not None and native is not None and parse_crs(native, entry.url) != DEFAULT_CRS
    return {
        "typename": feature_type.name,
        "format": output,
        "srs": rd or native,
        "page": size,
        "native": native if reprojects else None,
    }
