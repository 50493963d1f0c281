"""Oplossingsrichtingen side by side: variants of the claims around one spanningsgebied.

:mod:`~novex_geo.variants.compare` runs the current situation and each variant through the
exact overlay engine on the area's surroundings; :mod:`~novex_geo.variants.report` puts the
comparison in words (voor- en nadelen, ``vergelijking.md``).
"""

from novex_geo.variants.compare import (
    ADD,
    REMOVE,
    Variant,
    VariantFigures,
    apply_variant,
    compare_variants,
    focus_of,
    loading_box,
    merge_variants,
    variant_frame,
    variants_in,
)
from novex_geo.variants.report import (
    comparison_report,
    comparison_rows,
    measure_name,
    pros_and_cons,
    situation_heading,
    situation_letter,
)

__all__ = [
    "ADD",
    "REMOVE",
    "Variant",
    "VariantFigures",
    "apply_variant",
    "compare_variants",
    "comparison_report",
    "comparison_rows",
    "focus_of",
    "loading_box",
    "measure_name",
    "merge_variants",
    "pros_and_cons",
    "situation_heading",
    "situation_letter",
    "variant_frame",
    "variants_in",
]
