"""Open data from web services into GeoPackages: the catalogue, the clients and the downloads.

Fetching feeds :mod:`novex_geo.io`: it writes files (with their provenance in table
``novex_downloads``) that the readers then load like any other layer; reading a local file
never imports this package.
"""

from novex_geo.fetch.catalog import CatalogEntry, get_entry, load_catalog
from novex_geo.fetch.datasets import fetch_dataset
from novex_geo.fetch.download import FetchResult, fetch_collection
from novex_geo.fetch.ogcapi import RetryPolicy
from novex_geo.fetch.provinces import fetch_provinces

__all__ = [
    "CatalogEntry",
    "FetchResult",
    "RetryPolicy",
    "fetch_collection",
    "fetch_dataset",
    "fetch_provinces",
    "get_entry",
    "load_catalog",
]
