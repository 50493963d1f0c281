"""Compare two runs' GeoPackages layer by layer: are they the same analysis?

Usage::

    python benchmarks/compare_outputs.py OLD.gpkg NEW.gpkg

Per layer: the same number of rows and columns; rows matched by their id column (the first of
``vlak_id``, ``schuurpunt_id``, ``kans_id``, ``zone_id``, ``sg_id`` present, else file order);
text and integer columns equal; float columns equal to 1e-6 relative (or 1e-6 absolute);
geometries of the same area to 1e-6 relative and differing (symmetric difference) by at most
1e-6 of their area; time stamps of writing are skipped. The self-audit's residual ``verschil_m2``
(floating-point noise of summing the areas of a provincie, a few 1e-4 m² on 1e9 m²) is compared
to 1e-11 of the area it is the residual of (``verwacht_m2``), not to 1e-6 m². Prints one line
per layer and exits 1 on any difference.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyogrio
import shapely

IDS = ["vlak_id", "schuurpunt_id", "kans_id", "zone_id", "sg_id"]
RELATIVE = 1e-6
STAMPS = {"update_time", "aangemaakt"}  # when a run wrote its file, not what it found
RESIDUALS = {"verschil_m2": "verwacht_m2"}  # the audit's residual, and the area it is the residual of
RESIDUAL_RELATIVE = 1e-11


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    key = next((column for column in IDS if column in frame.columns), None)
    if key is None:
        return frame.reset_index(drop=True)
    rest = [c for c in frame.columns if c != "geometry" and frame[c].dtype != float]
    return frame.sort_values([key, *[c for c in rest if c != key]], kind="stable").reset_index(drop=True)


def _geometry_problems(old: np.ndarray, new: np.ndarray) -> list[str]:
    area_old, area_new = shapely.area(old), shapely.area(new)
    scale = np.maximum(area_old, 1.0)
    problems = []
    off = np.abs(area_new - area_old) > RELATIVE * scale
    if off.any():
        problems.append(f"{off.sum()} geometries differ in area")
    polygonal = np.isin(shapely.get_type_id(old), [3, 6])
    moved = np.zeros(len(old), dtype=bool)
    difference = shapely.symmetric_difference(old[polygonal], new[polygonal])
    moved[polygonal] = shapely.area(difference) > RELATIVE * scale[polygonal]
    if moved.any():
        problems.append(f"{moved.sum()} geometries differ in shape")
    return problems


def compare_layer(old_path: str, new_path: str, layer: str) -> list[str]:
    old = _sorted(pyogrio.read_dataframe(old_path, layer=layer))
    new = _sorted(pyogrio.read_dataframe(new_path, layer=layer))
    if len(old) != len(new):
        return [f"{len(old)} rows before, {len(new)} after"]
    if list(old.columns) != list(new.columns):
        return [f"columns {list(old.columns)} before, {list(new.columns)} after"]
    problems = []
    for column in old.columns:
        if column in STAMPS:
            continue
        if column == "geometry":
            problems += _geometry_problems(old.geometry.to_numpy(), new.geometry.to_numpy())
        elif pd.api.types.is_float_dtype(old[column]):
            a, b = old[column].to_numpy(), new[column].to_numpy()
            if column in RESIDUALS:
                tolerance = RESIDUAL_RELATIVE * old[RESIDUALS[column]].abs().to_numpy()
            else:
                tolerance = RELATIVE * np.maximum(np.abs(a), 1.0)
            off = ~(np.abs(a - b) <= tolerance) & ~(np.isnan(a) & np.isnan(b))
            if off.any():
                problems.append(f"{column}: {off.sum()} values differ")
        elif not old[column].equals(new[column]):
            problems.append(f"{column}: {(old[column] != new[column]).sum()} values differ")
    return problems


def main(old_path: str, new_path: str) -> int:
    old_layers = [name for name, _ in pyogrio.list_layers(old_path)]
    new_layers = [name for name, _ in pyogrio.list_layers(new_path)]
    failed = old_layers != new_layers
    if failed:
        print(f"layers differ: {old_layers} before, {new_layers} after")
    for layer in old_layers:
        if layer not in new_layers:
            continue
        problems = compare_layer(old_path, new_path, layer)
        rows = pyogrio.read_info(old_path, layer=layer)["features"]
        print(f"{layer}: {rows:,} rows, " + ("identical" if not problems else "; ".join(problems)))
        failed |= bool(problems)
    return int(failed)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
