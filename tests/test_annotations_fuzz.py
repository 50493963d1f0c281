"""Fuzz tests: any annotations file is read or refused with one NovexError, and appending keeps
what was there."""

import contextlib

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from novex_geo.errors import NovexError
from novex_geo.io.annotations import ANNOTATION_COLUMNS, read_annotations, update_annotations

cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["ja", "nee", "onbekend", " JA ", "=1+1", '"quoted"', "a;b", "a,b", "", "SG-1", "SG-1 "]),
)
delimiters = st.sampled_from([",", ";", "\t"])


@st.composite
def csv_texts(draw):
    delimiter = draw(delimiters)
    header = draw(
        st.one_of(
            st.just(ANNOTATION_COLUMNS),
            st.permutations(ANNOTATION_COLUMNS + ["extra"]),
            st.lists(cells, max_size=9),
        )
    )
    rows = draw(st.lists(st.lists(cells, min_size=0, max_size=len(header) + 1), max_size=6))
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    return draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(csv_texts().map(lambda t: t.encode("utf-8")), st.binary(max_size=200)))
def test_any_annotations_file_is_read_or_refused(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("fuzz") / "annotaties.csv"
    path.write_bytes(raw)
    with contextlib.suppress(NovexError):
        table = read_annotations(path)
        assert set(ANNOTATION_COLUMNS) - {"id"} <= set(table.columns)
        areas = pd.DataFrame({"id": ["SG-nieuw"], "naam": ["=Nieuw gebied"]})
        update_annotations(path, areas)
        text = path.read_bytes()
        assert text.startswith(raw.rstrip(b"\r\n")) or text.startswith(raw)  # the old text is kept
        assert read_annotations(path).loc["SG-nieuw", "naam"] == "'=Nieuw gebied"
