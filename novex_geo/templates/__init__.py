"""Starter files that ``novex-geo init`` writes."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from novex_geo.errors import NovexError

__all__ = ["project_template", "write_template"]


def project_template(name: str = "NOVEX analyse") -> str:
    """The commented starter ``novex.toml`` with the five default NOVEX sectors."""
    text = files(__name__).joinpath("novex.toml").read_text(encoding="utf-8")
    return text.replace("{name}", name.replace("\\", "\\\\").replace('"', '\\"'))


def write_template(path: str | Path, name: str = "NOVEX analyse", overwrite: bool = False) -> Path:
    """Write :func:`project_template` to ``path``; refuse to overwrite unless asked."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise NovexError(f"{path}: already exists (use --force to overwrite)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(project_template(name), encoding="utf-8")
    return path
