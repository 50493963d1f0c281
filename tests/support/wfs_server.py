"""A local WFS 2.0 server on 127.0.0.1 with the quirks of real ones (no internet needed).

``GetCapabilities`` lists the layers; ``GetFeature`` pages with ``count``/``startIndex``,
filters with ``bbox`` (``x1,y1,x2,y2,crs``) or a FES 2.0 ``filter`` (``And``, ``BBOX``,
``PropertyIsEqualTo``), counts with ``resultType=hits``, and answers GeoJSON
(``outputFormat=application/json``, with a ``crs`` member) or GML 3.2. Quirks:

- ``cap``: a ``startIndex`` beyond it is refused with HTTP 400 and an OWS ExceptionReport, as PDOK
  refuses beyond 50,000;
- ``axis``: ``"rd"`` (``urn:ogc:def:crs:EPSG::28992``, easting northing), ``"latlon"`` (GML in
  ``urn:ogc:def:crs:EPSG::4326``: latitude first, whatever ``srsName`` asked), ``"swapped"`` (RD
  coordinates as northing easting under an RD ``srsName``: a broken server).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from xml.sax.saxutils import escape

import numpy as np
import shapely
from pyproj import Transformer

from .local_server import LocalServer
from .ogc_server import feature_bounds

__all__ = ["WFSServer"]

RD_URN = "urn:ogc:def:crs:EPSG::28992"
WFS_NS = 'xmlns:wfs="http://www.opengis.net/wfs/2.0"'
GML_NS = 'xmlns:gml="http://www.opengis.net/gml/3.2"'
FES = "{http://www.opengis.net/fes/2.0}"
GML = "{http://www.opengis.net/gml/3.2}"
TO_LATLON = Transformer.from_crs("EPSG:28992", "EPSG:4326", always_xy=True)


def _box_of(envelope) -> tuple[float, ...]:
    lower = [float(v) for v in envelope.findtext(f"{GML}lowerCorner").split()]
    upper = [float(v) for v in envelope.findtext(f"{GML}upperCorner").split()]
    return (*lower, *upper)


class WFSServer(LocalServer):
    """Serve ``layers`` (type name → GeoJSON features in RD, with ``properties``)."""

    def __init__(self, layers: dict[str, list[dict]], titles: dict[str, str] | None = None):
        super().__init__()
        self.layers = layers
        self.titles = titles or {}
        self.cap: int | None = None
        self.axis = "rd"
        self.exception: str | None = None  # answer every GetFeature with this exception
        self.formats = ["application/gml+xml; version=3.2", "application/json"]
        self.count_default: int | None = None
        self.silent_cap: int | None = None  # serve at most this many per page without saying so
        self.matched: int | None = None  # report this numberMatched whatever the truth
        self.pages: list[dict] = []  # startIndex, count and area of every GetFeature page
        self._geoms = {
            name: [shapely.geometry.shape(f["geometry"]) for f in feats] for name, feats in layers.items()
        }
        self._bounds = {name: feature_bounds(features) for name, features in layers.items()}

    def respond(self, handler, path, query):
        query = {key.lower(): value for key, value in query.items()}
        request = query.get("request", "").lower()
        if request == "getcapabilities":
            self.send(handler, 200, self._capabilities().encode(), "application/xml")
            return
        if request == "describefeaturetype":
            self._exception(handler, "DescribeFeatureType is not implemented by this test server")
            return
        name = query.get("typenames")
        if request != "getfeature" or name not in self.layers:
            self._exception(handler, f"unknown request or type name {name!r}")
            return
        start, count = int(query.get("startindex", 0)), int(query.get("count", 10))
        if self.exception or (self.cap is not None and start > self.cap):
            self._exception(
                handler, self.exception or f"startIndex {start} exceeds the maximum of {self.cap}"
            )
            return
        picked = self._select(name, query)
        if query.get("resulttype") == "hits":
            body = f'<wfs:FeatureCollection {WFS_NS} numberMatched="{len(picked)}" numberReturned="0"/>'
            self.send(handler, 200, body.encode(), "application/xml")
            return
        self.pages.append({"start": start, "count": count, "area": query.get("bbox") or query.get("filter")})
        count = min(count, self.silent_cap or count)
        page = [self.layers[name][i] for i in picked[start : start + count]]
        matched = len(picked) if self.matched is None else self.matched
        if query.get("outputformat") == "application/json":
            body = {
                "type": "FeatureCollection",
                "numberMatched": matched,
                "numberReturned": len(page),
                "crs": {"type": "name", "properties": {"name": RD_URN}},
                "features": page,
            }
            self.send(handler, 200, json.dumps(body).encode(), "application/json")
            return
        self.send(handler, 200, self._gml(name, page, matched).encode(), "application/gml+xml; version=3.2")

    def _capabilities(self) -> str:
        """Capabilities as a WFS 2.0 server writes them: the GetFeature output formats, the
        page cap (``CountDefault``, when set) and per type its CRSs, RD first."""
        formats = "".join(f"<ows:Value>{escape(f)}</ows:Value>" for f in self.formats)
        cap = (
            f'<ows:Constraint name="CountDefault"><ows:NoValues/><ows:DefaultValue>{self.count_default}'
            "</ows:DefaultValue></ows:Constraint>"
            if self.count_default
            else ""
        )
        operations = (
            '<ows:OperationsMetadata><ows:Operation name="GetFeature"><ows:Parameter name="outputFormat">'
            f"<ows:AllowedValues>{formats}</ows:AllowedValues></ows:Parameter></ows:Operation>{cap}"
            "</ows:OperationsMetadata>"
        )
        types = "".join(
            f"<wfs:FeatureType><wfs:Name>{escape(name)}</wfs:Name>"
            f"<wfs:Title>{escape(self.titles.get(name, name))}</wfs:Title>"
            f"<wfs:DefaultCRS>{RD_URN}</wfs:DefaultCRS></wfs:FeatureType>"
            for name in self.layers
        )
        return (
            f'<wfs:WFS_Capabilities {WFS_NS} xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0">'
            f"{operations}<wfs:FeatureTypeList>{types}</wfs:FeatureTypeList></wfs:WFS_Capabilities>"
        )

    def _select(self, name: str, query: dict) -> list[int]:
        """Indices of the features that meet the bbox or FES filter."""
        geoms, bounds = self._geoms[name], self._bounds[name]
        keep = np.ones(len(geoms), dtype=bool)
        boxes, equals = [], {}
        if "bbox" in query:
            boxes.append(tuple(float(v) for v in query["bbox"].split(",")[:4]))
        if "filter" in query:
            root = ElementTree.fromstring(query["filter"])
            for bbox in root.iter(f"{FES}BBOX"):
                boxes.append(_box_of(bbox.find(f"{GML}Envelope")))
            for condition in root.iter(f"{FES}PropertyIsEqualTo"):
                equals[condition.findtext(f"{FES}ValueReference")] = condition.findtext(f"{FES}Literal")
        for x1, y1, x2, y2 in boxes:
            near = (bounds[:, 0] <= x2) & (bounds[:, 2] >= x1) & (bounds[:, 1] <= y2) & (bounds[:, 3] >= y1)
            box = shapely.box(x1, y1, x2, y2)
            keep &= near & np.array(
                [shapely.intersects(g, box) if n else False for g, n in zip(geoms, near, strict=True)]
            )
        for prop, value in equals.items():
            keep &= np.array([str(f["properties"].get(prop)) == value for f in self.layers[name]])
        return list(np.flatnonzero(keep))

    def _exception(self, handler, text: str) -> None:
        body = (
            '<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" version="2.0.0">'
            f'<ows:Exception exceptionCode="InvalidParameterValue"><ows:ExceptionText>{escape(text)}'
            "</ows:ExceptionText></ows:Exception></ows:ExceptionReport>"
        )
        self.send(handler, 400, body.encode(), "application/xml")

    def _poslist(self, coords) -> str:
        xy = np.asarray(coords)[:, :2]
        if self.axis == "latlon":
            lon, lat = TO_LATLON.transform(xy[:, 0], xy[:, 1])
            xy = np.column_stack([lat, lon])
        elif self.axis == "swapped":
            xy = xy[:, ::-1]
        return " ".join(f"{v:.9g}" for v in xy.ravel())

    def _gml(self, name: str, page: list[dict], matched: int) -> str:
        srs = "urn:ogc:def:crs:EPSG::4326" if self.axis == "latlon" else RD_URN
        prefix, local = name.split(":")
        members = []
        for i, feature in enumerate(page):
            geom = shapely.geometry.shape(feature["geometry"])
            rings = [("exterior", geom.exterior), *(("interior", ring) for ring in geom.interiors)]
            surface = "".join(
                f"<gml:{kind}><gml:LinearRing><gml:posList>{self._poslist(ring.coords)}</gml:posList>"
                f"</gml:LinearRing></gml:{kind}>"
                for kind, ring in rings
            )
            props = "".join(
                f"<{prefix}:{key}>{escape(str(value))}</{prefix}:{key}>"
                for key, value in feature["properties"].items()
            )
            gml_id = escape(str(feature.get("id", f"{local}.{i}")))
            polygon = f'<gml:Polygon srsName="{srs}" gml:id="g{i}">{surface}</gml:Polygon>'
            content = f"{props}<{prefix}:geom>{polygon}</{prefix}:geom>"
            members.append(f'<wfs:member><{name} gml:id="{gml_id}">{content}</{name}></wfs:member>')
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><wfs:FeatureCollection {WFS_NS} {GML_NS} '
            f'xmlns:{prefix}="http://{prefix}.example" numberMatched="{matched}" '
            f'numberReturned="{len(page)}">'
            f"{''.join(members)}</wfs:FeatureCollection>"
        )
