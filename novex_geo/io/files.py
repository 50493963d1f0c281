"""Writing files safely: every output appears complete or not at all, one writer per folder.

Each output is written to a temporary file beside its target and renamed onto it when
complete, so a run killed while writing leaves the previous output intact; a lock on the
output folder makes a second command that would write there at the same time stop with a
message instead of interleaving with the first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from novex_geo.errors import NovexError

__all__ = ["LOCK_NAME", "atomic_path", "ensure_folder", "output_lock", "write_text"]

LOCK_NAME = ".novex-geo.lock"
_TEMPORARY = ".tmp"
_held: dict[Path, tuple[FileLock, int]] = {}  # re-entrant per folder within this process


def ensure_folder(folder: Path) -> Path:
    """Create ``folder`` (and parents) or explain in one line why it cannot be."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NovexError(f"{folder}: the output folder is a file; choose another output")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NovexError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from None
    return folder


@contextmanager
def atomic_path(target: Path, start_from_target: bool = False) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it when the block completes.

    With ``start_from_target`` the temporary file starts as a copy of ``target`` (to add
    layers to an existing GeoPackage); otherwise it does not exist yet. When the block fails
    the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    ensure_folder(target.parent)
    handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f"{_TEMPORARY}{target.suffix}",
                                    dir=target.parent)  # fmt: skip
    os.close(handle)
    temporary = Path(name)
    temporary.unlink()
    try:
        if start_from_target and target.exists():
            shutil.copy2(target, temporary)
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


@contextmanager
def output_lock(folder: Path) -> Iterator[None]:
    """Hold the write lock of ``folder``; stop with a message when another command holds it.

    The lock is released by the operating system when its process ends, so a killed run
    never blocks the next one; temporary files it left behind are removed.
    """
    folder = ensure_folder(Path(folder)).resolve()
    if folder in _held:
        lock, depth = _held[folder]
        _held[folder] = (lock, depth + 1)
    else:
        lock = FileLock(folder / LOCK_NAME, timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise NovexError(
                f"{folder}: another novex-geo command is writing into this folder; "
                "wait until it has finished (or give another output folder)"
            ) from None
        _held[folder] = (lock, 1)
        for stale in folder.glob(f".*{_TEMPORARY}.*"):
            stale.unlink(missing_ok=True)
    try:
        yield
    finally:
        lock, depth = _held[folder]
        if depth == 1:
            del _held[folder]
            lock.release()
        else:
            _held[folder] = (lock, depth - 1)
