"""Open data from web services into GeoPackages: the catalogue, the protocols and the downloads.

Four protocols — OGC API Features, WFS 2.0, ArcGIS REST FeatureServer and Atom/direct file
downloads — hand pages of features to one store (:mod:`novex_geo.fetch.store`) that validates,
reprojects, clips and stages them resumably. Fetching feeds :mod:`novex_geo.io`: it writes files
(with their provenance in table ``novex_downloads``) that the readers then load like any other
layer; reading a local file never imports this package.
"""

from novex_geo.fetch.catalog import CatalogEntry, by_sector, get_entry, load_catalog
from novex_geo.fetch.datasets import FetchOptions, fetch_dataset
from novex_geo.fetch.http import RetryPolicy
from novex_geo.fetch.provinces import fetch_provinces
from novex_geo.fetch.store import FetchResult

__all__ = [
    "CatalogEntry",
    "FetchOptions",
    "FetchResult",
    "RetryPolicy",
    "by_sector",
    "fetch_dataset",
    "fetch_provinces",
    "get_entry",
    "load_catalog",
]
