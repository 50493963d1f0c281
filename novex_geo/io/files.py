"""Writing files safely: every output appears complete or not at all, one writer per folder.

Each output is written to a temporary file beside its target and renamed onto it when
complete, so a run killed while writing leaves the previous output intact; a lock on the
output folder makes a second command that would write there at the same time stop with a
message instead of interleaving with the first. A folder that cannot be written to (read-only,
no permission) and a disk that fills up while writing are one clear error each; the previous
output stays as it was.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from novex_geo.errors import OutputError

__all__ = ["LOCK_NAME", "atomic_path", "ensure_folder", "output_lock", "write_text"]

LOCK_NAME = ".novex-geo.lock"
_TEMPORARY = ".tmp"
_held: dict[Path, tuple[FileLock, int]] = {}  # re-entrant per folder within this process
# how a full disk (or quota) shows: the errno of an OSError, or the text of a GDAL/SQLite error
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_NO_ROOM_TEXT = ("no space left", "disk is full", "disk quota", "file too large")


def _unwritable(folder: Path, exc: OSError) -> OutputError:
    return OutputError(
        f"{folder}: cannot write into this folder ({exc.strerror or exc}); make it writable or choose "
        "another output"
    )


def _no_room(exc: Exception) -> bool:
    """Whether ``exc`` says that the disk (or the user's quota) is full."""
    if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
        return True
    return any(text in str(exc).lower() for text in _NO_ROOM_TEXT)


def _not_written(target: Path, exc: Exception) -> OutputError:
    """The error of a full disk (with what said so: a GDAL error quotes its SQL, only the words),
    or of another failure of the system (a lost network share, a disk error)."""
    said = re.search(rf"[^:;()]*(?:{'|'.join(_NO_ROOM_TEXT)})[^:;()]*", str(exc), re.IGNORECASE)
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else said and said.group(0).strip()
    kept = f"the previous {target.name} is unchanged" if target.exists() else "nothing was written"
    if not _no_room(exc):
        return OutputError(f"{target}: writing failed ({detail or exc}); {kept}")
    return OutputError(
        f"{target}: the disk is full ({detail or exc}); {kept}. Free space, or write to another disk"
    )


def ensure_folder(folder: Path) -> Path:
    """Create ``folder`` (and parents) or explain in one line why it cannot be."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: the output folder is a file; choose another output")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from None
    return folder


@contextmanager
def atomic_path(target: Path, start_from_target: bool = False) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it when the block completes.

    With ``start_from_target`` the temporary file starts as a copy of ``target`` (to add
    layers to an existing GeoPackage); otherwise it does not exist yet. When the block fails
    the temporary file is removed and ``target`` is untouched; a folder that cannot be written
    to, a disk that is full (whatever wrote: Python, GDAL, SQLite) and any other failure of the
    system while writing are an :class:`OutputError` that says so.
    """
    target = Path(target)
    ensure_folder(target.parent)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f"{_TEMPORARY}{target.suffix}", dir=target.parent
        )
    except OSError as exc:
        raise (_not_written(target, exc) if _no_room(exc) else _unwritable(target.parent, exc)) from None
    os.close(handle)
    temporary = Path(name)
    temporary.unlink()
    try:
        if start_from_target and target.exists():
            shutil.copy2(target, temporary)
        yield temporary
        os.replace(temporary, target)
    except Exception as exc:  # any OSError; GDAL's and SQLite's errors when they say the disk is full
        if isinstance(exc, OSError) or _no_room(exc):
            raise _not_written(target, exc) from None
        raise
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
            raise OutputError(
                f"{folder}: another novex-geo command is writing into this folder; "
                "wait until it has finished (or give another output folder)"
            ) from None
        except OSError as exc:  # read-only, no permission, no room: the lock file cannot be made
            raise _unwritable(folder, exc) from None
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
