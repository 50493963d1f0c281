"""Options and arguments shared by several ``novex-geo`` commands."""

from __future__ import annotations

import math
from pathlib import Path

import click

__all__ = [
    "Finite",
    "echo_audit",
    "echo_summary",
    "json_opt",
    "out_opt",
    "project_arg",
    "provincie_opt",
    "scheduler_opt",
]


class Finite(click.FloatRange):
    """A number within bounds that is a number: ``nan`` passes every comparison and ``inf`` every
    lower bound, so :class:`click.FloatRange` alone lets them through."""

    name = "number"

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


project_arg = click.argument(
    "project_file",
    metavar="PROJECT.toml",
    type=click.Path(dir_okay=False, path_type=Path),
)

provincie_opt = click.option(
    "--provincie",
    "provincies",
    multiple=True,
    metavar="NAME",
    help="Only this provincie (repeat for several). Default: all regions.",
)

json_opt = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


scheduler_opt = click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="DASK_SCHEDULER_ADDRESS",
    help="Run the tiles on this dask.distributed scheduler (e.g. tcp://10.0.0.5:8786), checked "
    "before any layer is loaded. Default: DASK_SCHEDULER_ADDRESS, else the project's executor. "
    "NOVEX_GEO_DASK_WAIT: seconds to wait for a worker (default 120).",
)


def out_opt(default: str | None = None, help: str = "Output path."):
    return click.option(
        "--out",
        "-o",
        type=click.Path(path_type=Path),
        default=default,
        show_default=default is not None,
        help=help,
    )


def echo_summary(summary, *extra: str) -> None:
    """Print the per-provincie summary table (hectares with thousands separators)."""
    from novex_geo.pipeline.analysis import PRINTED_COLUMNS

    columns = [*PRINTED_COLUMNS, *extra]
    click.echo(summary[columns].to_string(index=False, float_format=lambda v: f"{v:,.1f}"))


def echo_audit(controle) -> None:
    """One line on the self-audit: the largest relative difference between faces and claims."""
    from novex_geo.pipeline.analysis import audit_line

    click.echo(audit_line(controle))
