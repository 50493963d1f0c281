"""The snelle-tafel 2-pager as one self-contained HTML page: the maps embedded as PNG, every
text from data or the project file escaped, no external references (it can be mailed)."""

from __future__ import annotations

import base64
import html
import io

import pandas as pd
from matplotlib.figure import Figure

from novex_geo.config import DEMO_MARK
from novex_geo.maps.signal import Signal
from novex_geo.variants import situation_heading

__all__ = ["EMPTY_ADVICE", "png_bytes", "two_pager_html"]

EMPTY_ADVICE = (
    "[ in te vullen door de snelle tafel: welke richting werken we uit, wie doet wat, "
    "en wanneer komt het terug aan tafel? ]"
)


def png_bytes(figure: Figure, dpi: int) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }
h1 { font-size: 1.5em; } h3 { font-size: 1em; }
h2 { color: #1f3b73; font-size: 1.2em; margin-top: 1.4em; }
.meta, footer { color: #555; font-size: .85em; } .demo { color: #b10026; font-weight: bold; }
.leeg { border: 2px dashed #b10026; background: #fff3f3; padding: .6em; font-style: italic; }
span.leeg { display: block; }
img { width: 100%; border: 1px solid #ccc; } table { border-collapse: collapse; font-size: .9em; }
th, td { text-align: left; padding: .2em .6em; vertical-align: top; } .getallen td { text-align: right; }
.kaarten { display: grid; grid-template-columns: repeat(auto-fill, minmax(16em, 1fr)); gap: .8em; }
figure { margin: 0; } figcaption { font-weight: bold; font-size: .9em; }
.voor { color: #1a7f37; } .tegen { color: #b10026; }
"""
e = html.escape


def _image(data: bytes, alt: str) -> str:
    return f'<img alt="{e(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def _richtingen(table: pd.DataFrame, rows, maps: list[bytes]) -> str:
    """Section 2: the maps with their legend, the comparison, each variant's voor- en nadelen."""
    maps, legend = maps[:-1], maps[-1]
    headings = [situation_heading(i, n) for i, n in enumerate(table["variant"])]
    head = "".join(f"<th>{e(h)}</th>" for h in headings)
    body = "".join(
        f"<tr><th>{e(m)}</th>{''.join(f'<td>{e(c)}</td>' for c in cells)}</tr>" for m, cells in rows
    )
    figures = "".join(
        f"<figure>{_image(data, f'Kaart {h}')}<figcaption>{e(h)}</figcaption></figure>"
        for h, data in zip(headings, maps, strict=True)
    )
    clauses = "".join(
        f"<h3>{e(headings[i])}</h3>"
        + (f"<p>{e(r.toelichting)}</p>" if r.toelichting else "")
        + f'<ul><li class="voor">voordelen: {e(r.voordelen)}</li>'
        + f'<li class="tegen">nadelen: {e(r.nadelen)}</li></ul>'
        for i, r in enumerate(table.itertuples())
        if i
    )
    return (
        f'<div class="kaarten">{figures}</div>\n{_image(legend, "Legenda van de kaarten")}\n'
        f'<h3>Vergelijking</h3><table class="getallen"><tr><th></th>{head}</tr>{body}</table>\n{clauses}'
    )


def two_pager_html(signal: Signal, table: pd.DataFrame, rows, maps: list[bytes], conflict_map: bytes) -> str:
    """The page: ``rows`` the comparison (:func:`~novex_geo.variants.comparison_rows`), ``maps``
    a PNG per situation (``huidig`` first) and their legend last."""
    criteria = "".join(
        f"<tr><th>{e(n)}</th><td>{e(v)}</td><td>{e(r)}</td></tr>" for n, v, r in signal.criteria
    )
    urgency = e(signal.urgency) if signal.urgency else '<span class="leeg">[ in te vullen ]</span>'
    mark = f'<p class="demo">{e(DEMO_MARK)}</p>' if signal.demo else ""
    return f"""<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Snelle tafel: {e(signal.title)}</title>
<style>{STYLE}</style></head><body>
{mark}<h1>{e(signal.title)}</h1>
<p class="meta">Snelle tafel · {e(signal.provincies)} · analyse {e(signal.date)} · {e(signal.id)}</p>
<h2>1. Probleemdefinitie (gedeeld beeld)</h2>
<h3>Wat botst?</h3><ul>{"".join(f"<li>{e(line)}</li>" for line in signal.wat)}</ul>
<h3>Waar?</h3><ul>{"".join(f"<li>{e(line)}</li>" for line in signal.waar)}</ul>
{_image(conflict_map, f"Conflictkaart {signal.title}")}
<h3>Waarom urgent?</h3><p>{urgency}</p>
<h3>Selectiecriteria NOVEX</h3><table>{criteria}</table>
<h2>2. Oplossingsrichtingen</h2>
{_richtingen(table, rows, maps)}
<h2>3. Advies over het vervolg</h2><p class="leeg">{e(EMPTY_ADVICE)}</p>
<footer>{"<br>".join(e(line) for line in signal.footer)}</footer>
</body></html>
"""
