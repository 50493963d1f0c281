"""The open-data layer catalogue: one TOML file per dataset (installed as ``novex_geo.layers``)."""
