"""Entry point of the ``novex-geo`` command line interface.

Every user mistake raises a :class:`~novex_geo.errors.NovexError` (a subclass per kind of
failure, see ``docs/errors.md``); :class:`NovexGroup` turns it into one ``Error: ...`` line and
exit code 1, never a traceback. Whatever a command prints — results, log lines, errors — goes
out without control characters (:func:`~novex_geo.escape.plain_text`): a name or a path from
data cannot drive the terminal.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import signal
import sys
import threading
import warnings

import click

from novex_geo import __version__
from novex_geo.errors import NovexError, Terminated
from novex_geo.escape import plain_text

__all__ = ["cli"]


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        prefix = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        click.echo(plain_text(prefix + record.getMessage(), newlines=True), err=True)


class _PlainStdout(io.TextIOBase):
    """Standard output without control characters (progress bars, on standard error, keep theirs)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # click asks whether the stream takes bytes
            raise TypeError("a text stream")
        self._stream.write(plain_text(text, newlines=True))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self):
        return self._stream.encoding

    @property
    def errors(self):
        return self._stream.errors


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
    "monitor": ("triage", "monitor_command"),
    "map": ("map", "map_command"),
    "sketch": ("map", "sketch_command"),
    "varianten": ("map", "variants_command"),
    "signal": ("signal", "signal_command"),
    "demo": ("demo", "demo_command"),
}


TERMINATED_EXIT = 128 + signal.SIGTERM  # as a shell reports a process ended by SIGTERM


def _terminate(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def _sigterm_unwinds():
    """SIGTERM raises :class:`Terminated` in the main thread while a command runs (in another
    thread, e.g. a test runner's, the handler stays as it is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
        stdout = io.StringIO() if ctx.params.get("quiet") else _PlainStdout(sys.stdout)  # -q: errors only
        try:
            with _sigterm_unwinds(), contextlib.redirect_stdout(stdout):
                return super().invoke(ctx)
        except Terminated:
            click.echo(
                "Error: stopped (SIGTERM); no output was half-written, earlier outputs are unchanged",
                err=True,
            )
            ctx.exit(TERMINATED_EXIT)
        except NovexError as exc:
            raise click.ClickException(plain_text(exc, newlines=True)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except MemoryError:  # the machine, not a bug: say what helps
            raise click.ClickException(
                "out of memory: analyse fewer provinces at a time (--provincie), use fewer workers "
                "([project] workers), or a machine with more memory"
            ) from None
        except OSError as exc:  # the system refused (a file, the network) where no step said so itself
            if (ctx.obj or {}).get("verbose"):
                raise
            raise click.ClickException(plain_text(f"the system refused: {exc}", newlines=True)) from None
        except Exception as exc:
            if (ctx.obj or {}).get("verbose"):
                raise
            raise click.ClickException(
                plain_text(
                    f"unexpected {type(exc).__name__}: {exc}; this is a bug in novex-geo — run again "
                    "with -v for the traceback and report it",
                    newlines=True,
                )
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
