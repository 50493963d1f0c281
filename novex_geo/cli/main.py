"""Entry point of the ``novex-geo`` command line interface.

Every user mistake raises :class:`~novex_geo.errors.NovexError`; :class:`NovexGroup` turns it
into one ``Error: ...`` line and exit code 1, never a traceback.
"""

from __future__ import annotations

import logging

import click

from novex_geo import __version__
from novex_geo.cli import check, demo, fetch, grid, init, map, overlay, signal, triage
from novex_geo.errors import NovexError

__all__ = ["cli"]


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        prefix = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        click.echo(prefix + record.getMessage(), err=True)


class NovexGroup(click.Group):
    """A click group that reports :class:`NovexError` as a clean message."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NovexError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=NovexGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="novex-geo")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", count=True, help="Less log output (only errors with -q).")
def cli(verbose: int, quiet: int) -> None:
    """Overlay sector claims per provincie: stapeling, schuurpunten and NOVEX triage.

    \b
    Example:
      novex-geo init novex.toml
      novex-geo check novex.toml
      novex-geo run novex.toml
    """
    level = logging.INFO - 10 * verbose + 10 * quiet
    logger = logging.getLogger("novex_geo")
    logger.handlers[:] = [_EchoHandler()]
    logger.setLevel(max(logging.DEBUG, min(level, logging.ERROR)))
    logger.propagate = False


for module in (init, check, fetch, overlay, grid, triage, signal, map, demo):
    for command in module.COMMANDS:
        cli.add_command(command)
