"""Package discovery for setuptools (the metadata is in pyproject.toml).

Every ``novex_geo*`` package is discovered, the folders of the map assets too (as namespace
packages: they hold data, and setuptools warns about data in folders it does not list); the
layer catalogue lives at the top of the repository in ``layers/`` and is installed as the
package ``novex_geo.layers``, which a static ``pyproject.toml`` cannot combine with discovery.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["novex_geo", "novex_geo.*"]), "novex_geo.layers"],
    package_dir={"novex_geo.layers": "layers"},
)
