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
from novex_geo.units import counted, ha_number

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


def _nodes(cycles: list[Cycle]) -> pd.DataFrame:
    """Every area of every cycle as one table, numbered through (``node``)."""
    frames = []
    for k, cycle in enumerate(cycles):
        areas = cycle.areas
        verdicts = [f"{c.number} " + areas[c.verdict].astype(str) for c in CRITERIA if c.verdict in areas]
        # per area its verdicts in one text; a run without spanningsgebieden has none
        criteria = [" · ".join(row) for row in zip(*verdicts, strict=True)] if verdicts else [""] * len(areas)
        frames.append(
            pd.DataFrame(
                {
                    "cycle": k,
                    "id": areas["id"].astype(str).to_numpy(),
                    "naam": areas["naam"].astype(str).to_numpy(),
                    "conflict_ha": areas["conflict_ha"].astype(float).to_numpy(),
                    "score": areas["score"].astype(float).to_numpy(),
                    "rang": areas["rang"].to_numpy(),
                    "criteria": np.asarray(criteria, dtype=object),
                    "geometry": areas.geometry.to_numpy(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True).rename_axis("node").reset_index()


def _links(cycles: list[Cycle], nodes: pd.DataFrame) -> pd.DataFrame:
    """Overlapping areas of consecutive cycles, as node numbers ``old`` → ``new``."""
    # nodes are numbered through, cycle after cycle: a cycle's first node is the count before it
    first = np.cumsum([0] + [len(cycle.areas) for cycle in cycles])
    pairs = []
    for k, (a, b) in enumerate(pairwise(cycles)):
        links = overlap_links(a.areas, b.areas)
        pairs.append(pd.DataFrame({"old": links["old"] + first[k], "new": links["new"] + first[k + 1]}))
    return pd.concat([pd.DataFrame({"old": [], "new": []}, dtype=int), *pairs], ignore_index=True)


def _statuses(nodes: pd.DataFrame, links: pd.DataFrame) -> np.ndarray:
    n_parents = links.groupby("new").size().reindex(nodes["node"], fill_value=0).to_numpy()
    children = links.groupby("old").size().reindex(nodes["node"], fill_value=0).to_numpy()
    only_parent = links.groupby("new")["old"].first().reindex(nodes["node"], fill_value=-1).to_numpy()
    parent_split = np.where(only_parent >= 0, children[np.maximum(only_parent, 0)] > 1, False)
    return np.select(
        [nodes["cycle"].to_numpy() == 0, n_parents == 0, n_parents > 1, parent_split],
        [FIRST, NEW, MERGED, SPLIT],
        CONTINUED,
    )


def _members(nodes: pd.DataFrame, links: pd.DataFrame, ends: np.ndarray, last: int) -> pd.DataFrame:
    """Every (spoor, area) pair: a spoor is named by its end area (``end``) and holds every
    area that end descends from, found cycle by cycle from the last backwards."""
    cycle_of = nodes["cycle"].to_numpy()
    found, carried = [], pd.DataFrame({"end": [], "node": []}, dtype=int)
    for k in range(last, -1, -1):
        own = ends[cycle_of[ends] == k]
        here = pd.concat([pd.DataFrame({"end": own, "node": own}), carried], ignore_index=True)
        found.append(here)
        up = here.merge(links, left_on="node", right_on="new")[["end", "old"]].drop_duplicates()
        carried = up.rename(columns={"old": "node"})
    members = pd.concat(found, ignore_index=True)
    return members.assign(cycle=cycle_of[members["node"].to_numpy()])


def _afspraak_text(rows: pd.DataFrame) -> pd.Series:
    """ "afspraak [fase, status, deadline …, overgenomen van …]" per afspraak."""
    if rows.empty:
        return pd.Series("", index=rows.index, dtype=object)
    fase = rows["bob_fase"].where(rows["bob_fase"] != "", "fase onbekend")
    status = rows["status"].where(rows["status"] != "", "status onbekend")
    deadline = ("deadline " + rows["deadline"]).where(rows["deadline"] != "", "")
    parts = pd.concat([fase, status, deadline, rows["overgenomen"]], axis=1)
    inside = parts.agg(lambda cells: ", ".join(cell for cell in cells if cell), axis=1)
    return rows["afspraak"] + " [" + inside + "]"


def _afspraken(cycles, nodes, members, ends, children, last) -> pd.DataFrame:
    """The afspraken of each spoor per cycle ``target``: those typed under one of its areas of
    that cycle, or of an earlier one (carried, marked; "gesplitst" when an area of the spoor
    split on the way). A resolved spoor takes those the last cycle still holds."""
    split = members.assign(split=children[members["node"].to_numpy()] > 1)
    split = split.groupby(["end", "cycle"])["split"].any().unstack(fill_value=False)
    split = split.reindex(columns=range(last + 1), fill_value=False).astype(int).cumsum(axis=1)
    row_of = pd.Series(np.arange(len(split)), index=split.index)
    resolved = ends[nodes["cycle"].to_numpy()[ends] < last]
    found = []
    for k, cycle in enumerate(cycles):
        targets = set(members.loc[members["cycle"] == k, "end"]) | (set(resolved) if k == last else set())
        keys = members[(members["cycle"] <= k) & members["end"].isin(targets)]
        keys = keys.assign(id=nodes["id"].to_numpy()[keys["node"].to_numpy()])
        keys = keys.groupby(["end", "id"])["cycle"].agg(["min", "max"]).reset_index()
        rows = keys.merge(cycle.afspraken, on="id")
        if rows.empty:
            continue
        index = row_of[rows["end"]].to_numpy()
        since = rows["min"].to_numpy()
        cumulative = split.to_numpy()
        before = np.where(since > 0, cumulative[index, np.maximum(since - 1, 0)], 0)
        was_split = (cumulative[index, max(k - 1, 0)] - before > 0) & (since < k)
        marker = np.where(rows["max"] == k, "", "overgenomen van " + rows["id"])
        rows["overgenomen"] = marker + np.where((rows["max"] < k) & was_split, " (gesplitst)", "")
        found.append(rows.drop(columns=["min", "max"]).assign(target=k))
    columns = ["end", "target", *AFSPRAKEN_TABLE, "overgenomen"]
    return pd.concat([pd.DataFrame(columns=columns), *found], ignore_index=True)[columns]


def _per_cycle(nodes: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Per spoor and cycle: its areas' ids, statuses, conflict, best score and rank, and the
    criteria of its largest area."""
    rows = members.merge(nodes.drop(columns=["cycle", "geometry"]), on="node")
    rows = rows.sort_values(["end", "cycle", "conflict_ha"], ascending=[True, True, False])
    grouped = rows.groupby(["end", "cycle"], sort=False)
    return grouped.agg(
        ids=("id", "; ".join),
        status=("status", lambda values: ", ".join(dict.fromkeys(values))),
        conflict_ha=("conflict_ha", "sum"),
        score=("score", "max"),
        rang=("rang", "min"),
        criteria=("criteria", "first"),
    ).reset_index()


def _with_afspraken(table: pd.DataFrame, afspraken: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``table`` (end, cycle) its afspraken: furthest phase, count, listing."""
    rows = afspraken.assign(text=_afspraak_text(afspraken))
    phase = rows["bob_fase"].map({phase: i for i, phase in enumerate(BOB_FASEN)})
    rows["phase"] = phase.where(rows["status"] != "vervallen")
    grouped = rows.groupby(["end", "row_cycle"])
    found = grouped.agg(n_afspraken=("text", "size"), afspraken=("text", "; ".join), phase=("phase", "max"))
    table = table.merge(found, left_on=["end", "cycle"], right_index=True, how="left")
    table["fase"] = [BOB_FASEN[int(i)] if pd.notna(i) else "" for i in table.pop("phase")]
    table["n_afspraken"] = table["n_afspraken"].fillna(0).astype(int)
    table["afspraken"] = table["afspraken"].fillna("")
    return table


def follow_areas(cycles: list[Cycle], peildatum: date) -> Voortgang:
    """Link the spanningsgebieden of ``cycles`` (oldest first) into sporen with a line per
    cycle, their afspraken, and what the voortgangsmeter flags."""
    last = len(cycles) - 1
    nodes = _nodes(cycles)
    links = _links(cycles, nodes)
    nodes["status"] = _statuses(nodes, links)
    children = links.groupby("old").size().reindex(nodes["node"], fill_value=0).to_numpy()
    ends = nodes["node"].to_numpy()[children == 0]
    members = _members(nodes, links, ends, last)
    end_cycle = nodes["cycle"].to_numpy()[ends]
    table = _per_cycle(nodes, members)
    gone = pd.DataFrame({"end": ends[end_cycle < last], "cycle": end_cycle[end_cycle < last] + 1})
    table = pd.concat([table, gone.assign(status=RESOLVED, conflict_ha=0.0, ids="", criteria="")])
    table["rang"] = table["rang"].astype("Int64")  # a resolved line has no rank; a rank is whole
    afspraken = _afspraken(cycles, nodes, members, ends, children, last)
    # a resolved spoor's afspraken (of the last cycle) go on its "opgelost" line
    resolved_at = pd.Series(end_cycle + 1, index=ends)
    on_gone = afspraken["target"].to_numpy() > nodes["cycle"].to_numpy()[afspraken["end"].astype(int)]
    row_cycle = np.where(on_gone, resolved_at.reindex(afspraken["end"]).to_numpy(), afspraken["target"])
    afspraken["row_cycle"] = row_cycle.astype(int)
    table = _with_afspraken(table, afspraken).sort_values(["end", "cycle"], ignore_index=True)
    return _result(cycles, nodes, table, afspraken, ends, peildatum)


def _result(cycles, nodes, table, afspraken, ends, peildatum) -> Voortgang:
    """The tables named by spoor (its end area's id) and cycle label, the sporen ranked: active
    first, by rank, then by conflict."""
    labels = np.array([c.label for c in cycles], dtype=object)
    last = len(cycles) - 1
    by_node = nodes.set_index("node")
    table["spoor"] = by_node.loc[table["end"], "id"].to_numpy()
    table["naam"] = by_node.loc[table["end"], "naam"].to_numpy()
    table["cyclus"] = labels[table["cycle"].to_numpy().astype(int)]
    table["previous"] = table.groupby("end")["conflict_ha"].shift(1)
    first = table.groupby("end").nth(0).set_index("end").loc[ends]
    final = table.groupby("end").nth(-1).set_index("end").loc[ends]
    at_end = by_node.loc[ends]
    active = at_end["cycle"].to_numpy() == last
    gone_in = labels[np.minimum(at_end["cycle"].to_numpy() + 1, last)]
    sporen = pd.DataFrame(
        {
            "spoor": at_end["id"].to_numpy(),
            "naam": at_end["naam"].to_numpy(),
            "status": np.where(active, "actief", RESOLVED + " in " + gone_in),
            "eerste_cyclus": labels[first["cycle"].to_numpy().astype(int)],
            "conflict_ha_eerste": first["conflict_ha"].to_numpy(),
            "conflict_ha_laatste": final["conflict_ha"].to_numpy(),
            "groei_laatste_ha": (final["conflict_ha"] - final["previous"]).fillna(0.0).to_numpy(),
            # a rank is a whole number (also in voortgang.csv); a resolved area has none
            "rang": pd.array(np.where(active, at_end["rang"].astype(float), np.nan), dtype="Int64"),
            "fase": final["fase"].to_numpy(),
            "n_afspraken": final["n_afspraken"].to_numpy(),
            "end": ends,
        }
    )
    crs = cycles[-1].areas.crs
    sporen = gpd.GeoDataFrame(sporen, geometry=gpd.GeoSeries(at_end["geometry"].to_numpy(), crs=crs))
    sporen = sporen.assign(actief=active).sort_values(
        ["actief", "rang", "conflict_ha_laatste"], ascending=[False, True, False], ignore_index=True
    )
    position = pd.Series(np.arange(len(sporen)), index=sporen["end"])
    table = table.assign(position=position.reindex(table["end"]).to_numpy())
    table = table.sort_values(["position", "cycle"], ignore_index=True)[VOORTGANG_COLUMNS]
    current = afspraken[afspraken["target"] == last]
    current = current.assign(
        spoor=by_node.loc[current["end"].astype(int), "id"].to_numpy(),
        naam=by_node.loc[current["end"].astype(int), "naam"].to_numpy(),
        cyclus=labels[last],
    )
    listed = current[["spoor", "naam", "cyclus", *AFSPRAKEN_TABLE, "overgenomen"]].reset_index(drop=True)
    result = Voortgang(list(labels), table, sporen[SPOOR_COLUMNS], listed, peildatum)
    late = result.overdue.groupby("spoor").size()
    result.sporen["n_over_deadline"] = result.sporen["spoor"].map(late).fillna(0).astype(int)
    return result


def _cells(values) -> str:
    return "| " + " | ".join(md_escape(value) for value in values) + " |"


def _ha(value) -> str:
    return "" if pd.isna(value) or value == "" else ha_number(value)


def _history_lines(table: pd.DataFrame) -> dict[str, list[str]]:
    """Per spoor its table lines, one per cycle, escaped column by column."""
    rank = table["rang"].map(lambda value: "" if pd.isna(value) or value == "" else str(int(value)))
    cells = [
        table[column].map(md_escape)
        for column in ("cyclus", "ids", "status", "conflict_ha", "criteria", "fase", "afspraken")
    ]
    cells[3] = table["conflict_ha"].map(_ha)
    cells[6] = cells[6].where(table["afspraken"] != "", "-")
    line = "| " + cells[0]
    for cell in [*cells[1:4], rank, *cells[4:]]:
        line = line + " | " + cell
    lines = (line + " |").groupby(table["spoor"], sort=False).agg(list)
    return lines.to_dict()


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
    histories = _history_lines(result.table)
    for spoor in sporen.itertuples():
        lines += [f"### {md_escape(spoor.naam)} (`{md_escape(spoor.spoor)}`): {md_escape(spoor.status)}", ""]
        if spoor.spoor in charts:
            lines += [f"![Voortgang van {md_escape(spoor.naam)}]({charts[spoor.spoor]})", ""]
        lines += ["| cyclus | id's | status | conflict ha | rang | criteria | fase | afspraken |"]
        lines += ["|---|---|---|---:|---:|---|---|---|", *histories.get(spoor.spoor, []), ""]
    return "\n".join(lines) + "\n"
