"""The documentation (README and docs/) covers every command, option and project-file key the
code has; the README stays a front door that links every page."""

import re

import click

from novex_geo.cli.main import cli
from novex_geo.config import pairs, validate
from novex_geo.config import parse as config

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCS = "\n".join([README, *(page.read_text(encoding="utf-8") for page in PAGES)])


def commands(group: click.Group, prefix: str = "novex-geo"):
    context = click.Context(group)
    names = group.list_commands(context)
    assert names, "the CLI lists no commands"
    for name in names:
        command = group.get_command(context, name)
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")


def test_every_command_and_option_is_in_the_readme():
    for path, command in commands(cli):
        assert f"`{path}" in DOCS, path
        for option in command.params:
            if isinstance(option, click.Option) and not option.hidden:
                assert any(f"{flag}" in DOCS for flag in option.opts), (path, option.opts)


def test_every_project_key_is_in_the_readme():
    groups = {
        "project": config.PROJECT_KEYS,
        "project.regions": validate.REGIONS_KEYS,
        "sectors": config.SECTOR_KEYS,
        "source": config.SOURCE_KEYS,
        "raster": config.RASTER_KEYS,
        "conflicts": pairs.CONFLICTS_KEYS,
        "pairs": pairs.PAIR_KEYS,
        "kansen": pairs.KANSEN_KEYS,
        "kans pairs": pairs.KANS_PAIR_KEYS,
        "triage": config.TRIAGE_KEYS,
    }
    table = "\n".join(line for line in DOCS.splitlines() if line.startswith("| "))
    for group, keys in groups.items():
        for key in keys:
            assert re.search(rf"`{re.escape(key)}`|\.{re.escape(key)}\]", table), (group, key)


def test_the_readme_is_a_front_door_that_links_every_page():
    assert len(README.splitlines()) <= 250
    assert PAGES, "no docs/ pages"
    for page in PAGES:
        assert f"](docs/{page.name})" in README, page.name


def test_links_between_pages_point_at_pages_that_exist():
    """Every relative link — pages, pictures in maps/, files — resolves from the page it is on,
    as GitHub and an editor resolve it."""
    for page in [ROOT / "README.md", *PAGES]:
        for target in re.findall(r"\]\(([^):#\s]+)(?:#[\w-]*)?\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), (page.name, target)
