"""Entry point of the ``novex-geo`` command line interface.

Every user mistake raises :class:`~novex_geo.errors.NovexError`; :class:`NovexGroup` turns it
into one ``Error: ...`` line and exit code 1, never a traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import warnings

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
            if ctx.params.get("quiet"):
                with contextlib.redirect_stdout(io.StringIO()):  # -q: errors only, on stderr
                    return super().invoke(ctx)
            return super().invoke(ctx)
        except NovexError as exc:
            raise click.ClickException(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if (ctx.obj or {}).get("verbose"):
                raise
            raise click.ClickException(
                f"unexpected {type(exc).__name__}: {exc}; this is a bug in novex-geo — run again with -v for "
                "the traceback and report it"
            ) from None


@click.group(cls=NovexGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="novex-geo")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors: no progress, no warnings.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Overlay sector claims per provincie: stapeling, schuurpunten and NOVEX triage.

    \b
    Example:
      novex-geo init novex.toml
      novex-geo check novex.toml
      novex-geo run novex.toml
    """
    ctx.obj = {"quiet": quiet, "verbose": verbose}
    if quiet:
        warnings.simplefilter("ignore")
    level = logging.ERROR if quiet else logging.INFO - 10 * verbose
    logger = logging.getLogger("novex_geo")
    logger.handlers[:] = [_EchoHandler()]
    logger.setLevel(max(logging.DEBUG, min(level, logging.ERROR)))
    logger.propagate = False


if __name__ == "__main__":
    cli()
