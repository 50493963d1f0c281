"""Follow spanningsgebieden and their afspraken over the yearly cycle: the voortgangsmeter.

Runs are linked cycle to cycle by overlap, as ``diff`` links two (an id follows the geometry,
so a grown area gets a new id). An area without ancestor in the previous cycle is ``nieuw``;
one with two or more is ``samengevoegd``; the one of an area that split is ``gesplitst``; an
area with no descendant in the next cycle is ``opgelost`` there. A *spoor* is an area of its
last cycle with every area it descends from; it is named by the id of that last area.

Afspraken are read per cycle from what that run's triage kept of the annotations file. People
keep the id they typed, so an afspraak keyed by an ancestor's id is carried to its descendants,
marked ``overgenomen van <id>`` (and ``gesplitst`` when the ancestor split: both parts carry it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd

from novex_geo.config.afspraken import AFSPRAKEN_TABLE, BOB_FASEN, CLOSED
from novex_geo.config.criteria import CRITERIA
from novex_geo.escape import md_escape
from novex_geo.triage.diff import overlap_links
from novex_geo.units import counted

__all__ = ["Cycle", "Voortgang", "follow_areas", "voortgang_report"]

FIRST, NEW, CONTINUED, MERGED, SPLIT, RESOLVED = (
    "eerste cyclus",
    "nieuw",
    "voortgezet",
    "samengevoegd",
    "gesplitst",
    "opgelost",
)
VOORTGANG_COLUMNS = [
    "spoor",
    "naam",
    "cyclus",
    "ids",
    "status",
    "conflict_ha",
    "score",
    "rang",
    "criteria",
    "fase",
    "n_afspraken",
    "afspraken",
]
SPOOR_COLUMNS = [
    "spoor",
    "naam",
    "status",
    "eerste_cyclus",
    "conflict_ha_eerste",
    "conflict_ha_laatste",
    "groei_laatste_ha",
    "rang",
    "fase",
    "n_afspraken",
    "geometry",
]
GROWTH_HA = 0.05  # conflict change below this counts as unchanged (rounding of the runs' areas)

Node = tuple[int, int]  # (cycle, position of the area in that cycle's spanningsgebieden)


@dataclass
class Cycle:
    """One run of the cycle: its label (a year, a schema), spanningsgebieden and afspraken."""

    label: str
    areas: gpd.GeoDataFrame
    afspraken: pd.DataFrame  # the rows of io.annotations.read_afspraken


@dataclass
class Voortgang:
    """What :func:`follow_areas` found."""

    cycles: list[str]
    table: pd.DataFrame  # one row per spoor and cycle (VOORTGANG_COLUMNS)
    sporen: gpd.GeoDataFrame  # one row per spoor, with the geometry of its last cycle
    afspraken: pd.DataFrame  # per spoor the afspraken of its last cycle, carried ones marked
    peildatum: date

    @property
    def overdue(self) -> pd.DataFrame:
        """Afspraken still open (not afgerond or vervallen) whose deadline lies before the peildatum."""
        rows = self.afspraken
        late = (rows["deadline"] != "") & (rows["deadline"] < self.peildatum.isoformat())
        return rows[late & ~rows["status"].isin(CLOSED)]

    @property
    def grew_although_done(self) -> gpd.GeoDataFrame:
        """Sporen whose conflict grew in the last cycle although an afspraak there is afgerond."""
        done = set(self.afspraken.loc[self.afspraken["status"] == "afgerond", "spoor"])
        return self.sporen[(self.sporen["groei_laatste_ha"] > GROWTH_HA) & self.sporen["spoor"].isin(done)]


def _graph(cycles: list[Cycle]) -> tuple[dict[Node, list[Node]], dict[Node, int]]:
    """Each area's ancestors in the previous cycle, and how many descendants each area has."""
    parents: dict[Node, list[Node]] = defaultdict(list)
    children: dict[Node, int] = defaultdict(int)
    for k, (old, new) in enumerate(pairwise(cycles)):
        links = overlap_links(old.areas, new.areas)
        for i, j in zip(links["old"].to_numpy(), links["new"].to_numpy(), strict=True):
            parents[(k + 1, int(j))].append((k, int(i)))
            children[(k, int(i))] += 1
    return parents, children


def _status(node: Node, parents: dict[Node, list[Node]], children: dict[Node, int]) -> str:
    if node[0] == 0:
        return FIRST
    mine = parents.get(node, [])
    if not mine:
        return NEW
    if len(mine) > 1:
        return MERGED
    return SPLIT if children[mine[0]] > 1 else CONTINUED


def _ancestry(end: Node, parents: dict[Node, list[Node]]) -> dict[int, list[Node]]:
    """The areas of ``end``'s spoor per cycle: itself and everything it descends from."""
    found, frontier = {end}, [end]
    while frontier:
        frontier = [p for node in frontier for p in parents.get(node, []) if p not in found]
        found.update(frontier)
    per_cycle: dict[int, list[Node]] = defaultdict(list)
    for node in sorted(found):
        per_cycle[node[0]].append(node)
    return per_cycle


def _criteria(area: pd.Series) -> str:
    return " · ".join(f"{c.number} {area[c.verdict]}" for c in CRITERIA if c.verdict in area.index)


def _furthest_phase(phases: pd.Series) -> str:
    known = [BOB_FASEN.index(p) for p in phases if p in BOB_FASEN]
    return BOB_FASEN[max(known)] if known else ""


def _afspraken_of(cycles: list[Cycle], k: int, spoor: dict[int, list[Node]], children) -> pd.DataFrame:
    """The afspraken of cycle ``k`` on the spoor's areas there, or carried from its ancestors."""
    own = {cycles[k].areas["id"].iat[i] for _, i in spoor.get(k, [])}
    first_seen: dict[str, int] = {}
    for c in range(k):
        for _, i in spoor.get(c, []):
            first_seen.setdefault(cycles[c].areas["id"].iat[i], c)
    # split: an area on the way from where the afspraak was typed to this cycle split
    carried = {
        key: any(children[node] > 1 for c in range(since, k) for node in spoor.get(c, []))
        for key, since in first_seen.items()
    }
    rows = cycles[k].afspraken
    rows = rows[rows["id"].isin(own | set(carried))].copy()
    rows["overgenomen"] = [
        "" if key in own else f"overgenomen van {key}" + (" (gesplitst)" if carried[key] else "")
        for key in rows["id"]
    ]
    return rows


def _row(cycles, k, spoor_nodes, spoor_id, name, parents, children, afspraken) -> dict:
    areas = cycles[k].areas.iloc[[i for _, i in spoor_nodes]]
    statuses = dict.fromkeys(_status(node, parents, children) for node in spoor_nodes)
    largest = areas.loc[areas["conflict_ha"].idxmax()]
    return {
        "spoor": spoor_id,
        "naam": name,
        "cyclus": cycles[k].label,
        "ids": "; ".join(areas["id"]),
        "status": ", ".join(statuses),
        "conflict_ha": float(areas["conflict_ha"].sum()),
        "score": float(areas["score"].max()),
        "rang": int(areas["rang"].min()),
        "criteria": _criteria(largest),
        **_afspraken_cells(afspraken),
    }


def _afspraken_cells(afspraken: pd.DataFrame) -> dict:
    """The furthest phase, the count and the listing of a cycle's afspraken."""
    listed = "; ".join(
        f"{a.afspraak} [{a.bob_fase or 'fase onbekend'}, {a.status or 'status onbekend'}"
        + (f", deadline {a.deadline}" if a.deadline else "")
        + (f", {a.overgenomen}" if a.overgenomen else "")
        + "]"
        for a in afspraken.itertuples()
    )
    phase = _furthest_phase(afspraken.loc[afspraken["status"] != "vervallen", "bob_fase"])
    return {"fase": phase, "n_afspraken": len(afspraken), "afspraken": listed}


def follow_areas(cycles: list[Cycle], peildatum: date) -> Voortgang:
    """Link the spanningsgebieden of ``cycles`` (oldest first) into sporen with a line per
    cycle, their afspraken, and what the voortgangsmeter flags."""
    parents, children = _graph(cycles)
    last = len(cycles) - 1
    ends = [(k, i) for k, c in enumerate(cycles) for i in range(len(c.areas)) if not children.get((k, i))]
    rows, sporen, listed = [], [], []
    for end in ends:
        spoor = _ancestry(end, parents)
        k_end, i_end = end
        area = cycles[k_end].areas.iloc[i_end]
        spoor_id, name = str(area["id"]), str(area["naam"])
        history = []
        for k in sorted(spoor):
            afspraken = _afspraken_of(cycles, k, spoor, children)
            history.append(_row(cycles, k, spoor[k], spoor_id, name, parents, children, afspraken))
        if k_end < last:
            # afspraken on an area that is gone stay listed (as the last run kept them) until closed
            afspraken = _afspraken_of(cycles, last, spoor, children)
            history.append(
                {**dict.fromkeys(VOORTGANG_COLUMNS, ""), "spoor": spoor_id, "naam": name}
                | {"cyclus": cycles[k_end + 1].label, "status": RESOLVED, "conflict_ha": 0.0}
                | {"score": np.nan, "rang": np.nan, **_afspraken_cells(afspraken)}
            )
        listed.append(afspraken.assign(spoor=spoor_id, naam=name, cyclus=cycles[last].label))
        rows += history
        growth = history[-1]["conflict_ha"] - history[-2]["conflict_ha"] if len(history) > 1 else 0.0
        sporen.append(
            {
                "spoor": spoor_id,
                "naam": name,
                "status": "actief" if k_end == last else f"{RESOLVED} in {cycles[k_end + 1].label}",
                "eerste_cyclus": history[0]["cyclus"],
                "conflict_ha_eerste": history[0]["conflict_ha"],
                "conflict_ha_laatste": history[-1]["conflict_ha"],
                "groei_laatste_ha": growth,
                "rang": area["rang"] if k_end == last else np.nan,
                "fase": history[-1]["fase"],
                "n_afspraken": history[-1]["n_afspraken"],
                "geometry": area.geometry,
            }
        )
    columns = ["spoor", "naam", "cyclus", *AFSPRAKEN_TABLE, "overgenomen"]
    afspraken = pd.concat([*listed, pd.DataFrame(columns=columns)], ignore_index=True)[columns]
    table = pd.DataFrame(rows, columns=VOORTGANG_COLUMNS)
    frame = pd.DataFrame(sporen, columns=SPOOR_COLUMNS)
    frame = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(frame["geometry"], crs=cycles[-1].areas.crs))
    frame["actief"] = frame["status"] == "actief"
    frame = frame.sort_values(["actief", "rang", "conflict_ha_laatste"], ascending=[False, True, False])
    result = Voortgang([c.label for c in cycles], table, frame.drop(columns="actief"), afspraken, peildatum)
    late = result.overdue.groupby("spoor").size()
    result.sporen["n_over_deadline"] = result.sporen["spoor"].map(late).fillna(0).astype(int)
    result.sporen = result.sporen.reset_index(drop=True)
    return result


def _cells(values) -> str:
    return "| " + " | ".join(md_escape(value) for value in values) + " |"


def _ha(value) -> str:
    return "" if value == "" or pd.isna(value) else f"{value:.1f}"


def voortgang_report(result: Voortgang, charts: dict[str, str]) -> str:
    """``voortgang.md``: the flags first (afspraken past their deadline, conflicts that grew
    although an afspraak is afgerond), then per spoor a line per cycle; ``charts`` maps a spoor
    to its chart's path relative to the report."""
    sporen, overdue, grew = result.sporen, result.overdue, result.grew_although_done
    active = int((sporen["status"] == "actief").sum())
    lines = [
        "# Voortgangsmeter spanningsgebieden",
        "",
        f"Cycli: {' → '.join(md_escape(c) for c in result.cycles)} · peildatum {result.peildatum:%d-%m-%Y}",
        "",
        f"{counted(len(sporen), 'spanningsgebied', 'spanningsgebieden')} gevolgd: {active} actief, "
        f"{len(sporen) - active} opgelost; {counted(len(overdue), 'afspraak', 'afspraken')} over hun "
        f"deadline; {len(grew)} met gegroeid conflict ondanks een afgeronde afspraak.",
        "",
        f"## Afspraken over hun deadline ({len(overdue)})",
        "",
    ]
    if overdue.empty:
        lines += ["Geen.", ""]
    else:
        lines += ["| spanningsgebied | afspraak | eigenaar | tafel | fase | deadline | status |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for a in overdue.itertuples():
            lines.append(
                _cells(
                    [f"{a.naam} ({a.spoor})", a.afspraak, a.eigenaar, a.tafel, a.bob_fase]
                    + [a.deadline, a.status or "onbekend"]
                )
            )
        lines.append("")
    lines += [f"## Conflict gegroeid ondanks een afgeronde afspraak ({len(grew)})", ""]
    if grew.empty:
        lines += ["Geen.", ""]
    else:
        lines += ["| spanningsgebied | groei laatste cyclus (ha) | conflict nu (ha) |", "|---|---:|---:|"]
        for s in grew.itertuples():
            lines.append(
                _cells([f"{s.naam} ({s.spoor})", _ha(s.groei_laatste_ha), _ha(s.conflict_ha_laatste)])
            )
        lines.append("")
    lines += ["## Per spanningsgebied", ""]
    for spoor in sporen.itertuples():
        lines += [f"### {md_escape(spoor.naam)} (`{spoor.spoor}`): {spoor.status}", ""]
        if spoor.spoor in charts:
            lines += [f"![Voortgang van {md_escape(spoor.naam)}]({charts[spoor.spoor]})", ""]
        lines += ["| cyclus | id's | status | conflict ha | rang | criteria | fase | afspraken |"]
        lines += ["|---|---|---|---:|---:|---|---|---|"]
        history = result.table[result.table["spoor"] == spoor.spoor]
        for h in history.itertuples():
            rank = "" if h.rang == "" or pd.isna(h.rang) else str(int(h.rang))
            lines.append(
                _cells(
                    [h.cyclus, h.ids, h.status, _ha(h.conflict_ha), rank, h.criteria, h.fase]
                    + [h.afspraken or "-"]
                )
            )
        lines.append("")
    return "\n".join(lines) + "\n"
