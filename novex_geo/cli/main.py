"""Entry point of the ``novex-geo`` command line interface.

Every user mistake raises :class:`~novex_geo.errors.NovexError`; :class:`NovexGroup` turns it
into one ``Error: ...`` line and exit code 1, never a traceback.
"""

from __future__ import annotations

import importlib
import logging

import click

from novex_geo import __version__
from novex_geo.errors import NovexError

__all__ = ["cli"]


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        prefix = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        click.echo(prefix + record.getMessage(), err=True)


# command → module in novex_geo.cli and the command object in it; a module is imported only
# when one of its commands runs (or --help lists them), so `run` does not load the map stack
COMMANDS = {
    "init": ("init", "init_command"),
    "check": ("check", "check_command"),
    "fetch": ("fetch", "fetch_command"),
    "catalog": ("fetch", "catalog_command"),
    "run": ("overlay", "run_command"),
    "overlay": ("overlay", "overlay_command"),
    "grid": ("grid", "grid_command"),
    "triage": ("triage", "triage_command"),
    "diff": ("triage", "diff_command"),
    "map": ("map", "map_command"),
    "sketch": ("map", "sketch_command"),
    "signal": ("signal", "signal_command"),
    "demo": ("demo", "demo_command"),
}


class NovexGroup(click.Group):
    """A click group with lazily imported commands that reports :class:`NovexError` as a clean
    message."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        return getattr(importlib.import_module(f"novex_geo.cli.{module}"), attribute)

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


if __name__ == "__main__":
    cli()
